#include "sim/trace.h"

#include <limits>
#include <stdexcept>

namespace aimc::sim {

int TraceSink::track(std::string_view name) {
  for (size_t i = 0; i < track_names_.size(); ++i) {
    if (track_names_[i] == name) return static_cast<int>(i);
  }
  if (track_names_.size() >= std::numeric_limits<uint16_t>::max()) {
    throw std::invalid_argument("TraceSink: too many tracks");
  }
  track_names_.emplace_back(name);
  return static_cast<int>(track_names_.size() - 1);
}

}  // namespace aimc::sim
