// When a shared resource (the bus, a shared ADC, a charge pump) is next free: contention without
// clocks (ARCHITECTURE rule 2). A request that arrives at `earliest_ps` starts when the resource is
// free and holds it for `duration_ps`; requests are served in the order they are reserved.
// Plain C++; times are integer picoseconds.
#pragma once

#include <algorithm>
#include <cstdint>

namespace aimc::sim {

class Timeline {
 public:
  // Returns the start time: max(earliest_ps, next_free()). The resource is then busy until
  // start + duration_ps.
  uint64_t reserve(uint64_t earliest_ps, uint64_t duration_ps) {
    const uint64_t start = std::max(earliest_ps, next_free_ps_);
    wait_ps_ += start - earliest_ps;
    busy_ps_ += duration_ps;
    next_free_ps_ = start + duration_ps;
    ++reservations_;
    return start;
  }
  uint64_t next_free() const { return next_free_ps_; }
  uint64_t busy_ps() const { return busy_ps_; }        // total time held
  uint64_t wait_ps() const { return wait_ps_; }        // total time requests waited
  uint64_t reservations() const { return reservations_; }
  void reset() { *this = Timeline{}; }

 private:
  uint64_t next_free_ps_ = 0;
  uint64_t busy_ps_ = 0;
  uint64_t wait_ps_ = 0;
  uint64_t reservations_ = 0;
};

}  // namespace aimc::sim
