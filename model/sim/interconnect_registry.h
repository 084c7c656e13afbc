// The interconnect kinds the chip can be assembled with. A new kind is one file (a class derived
// from sim::Interconnect) plus one line in the table of interconnect_registry.cpp.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "config/platform_config.h"
#include "sim/interconnect.h"

namespace aimc::sim {

struct InterconnectKind {
  const char* name;         // as a platform names it
  const char* description;  // one line, for help and docs
  std::unique_ptr<Interconnect> (*make)(const sc_core::sc_module_name& name,
                                        const config::PlatformConfig& cfg, EnergyLedger& ledger,
                                        TraceSink& trace);
};

const std::vector<InterconnectKind>& interconnect_kinds();

// Builds the interconnect `kind`; std::invalid_argument naming the kind and listing the known ones
// when there is none of that name.
std::unique_ptr<Interconnect> make_interconnect(std::string_view kind,
                                                const sc_core::sc_module_name& name,
                                                const config::PlatformConfig& cfg,
                                                EnergyLedger& ledger, TraceSink& trace);

}  // namespace aimc::sim
