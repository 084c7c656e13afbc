// The terminal summary of `aimc run`: what it prints from the report (every figure with its unit).
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace aimc::app {

// "3.2 s", "1 h", "10 y": a duration for people.
std::string format_duration(double seconds);

// The human-readable summary of a report (docs: README, "What scripts/run.sh prints").
std::string format_summary(const nlohmann::json& report);

}  // namespace aimc::app
