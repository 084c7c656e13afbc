// When a shared resource (the bus, a tile's array or digital unit, the host link) is busy:
// contention without clocks (ARCHITECTURE rule 2). A request that arrives at `earliest_ps` gets
// the first free interval of `duration_ps` at or after that time and holds it; requests are
// first reserved, first served.
//
// Unlike a plain next-free counter, a request may take an earlier gap that is long enough. Models
// under temporal decoupling do not always reserve in time order: an initiator running ahead of
// another books its requests first, a transfer's bursts are booked back to back in one call. A
// next-free counter would push a later-booked but earlier request behind them, and serialize what
// the hardware overlaps. (The sequencer books a command's steps in time order: booking_queue.h.)
// Plain C++; times are integer picoseconds.
#pragma once

#include <algorithm>
#include <cstdint>
#include <iterator>
#include <map>

namespace aimc::sim {

class Timeline {
 public:
  // Returns the start of the booked interval [start, start + duration_ps).
  uint64_t reserve(uint64_t earliest_ps, uint64_t duration_ps) {
    ++reservations_;
    busy_ps_ += duration_ps;
    const uint64_t start = first_fit(earliest_ps, duration_ps);
    wait_ps_ += start - earliest_ps;
    last_end_ps_ = std::max(last_end_ps_, start + duration_ps);
    if (duration_ps > 0) insert(start, start + duration_ps);
    return start;
  }

  // Where reserve(earliest_ps, duration_ps) would start, without booking anything (a resource
  // booked together with others, e.g. the links of one network-on-chip packet, looks first).
  uint64_t first_fit(uint64_t earliest_ps, uint64_t duration_ps) const {
    uint64_t start = earliest_ps;
    auto it = busy_.upper_bound(start);  // first booking starting after `start`
    if (it != busy_.begin()) {
      auto prev = std::prev(it);
      if (prev->second > start) start = prev->second;
    }
    while (it != busy_.end() && duration_ps > 0 && it->first < start + duration_ps) {
      start = std::max(start, it->second);
      ++it;
    }
    return start;
  }

  // End of the latest booking (the resource is certainly free from then on).
  uint64_t next_free() const { return last_end_ps_; }
  uint64_t busy_ps() const { return busy_ps_; }        // total time held
  uint64_t wait_ps() const { return wait_ps_; }        // total time requests waited
  uint64_t reservations() const { return reservations_; }
  size_t intervals() const { return busy_.size(); }
  // Forgets bookings that end at or before t_ps; call with the present time, before which no
  // request can start, to keep the calendar small.
  void forget_before(uint64_t t_ps) {
    auto it = busy_.begin();
    while (it != busy_.end() && it->second <= t_ps) it = busy_.erase(it);
  }
  void reset() { *this = Timeline{}; }

 private:
  void insert(uint64_t b, uint64_t e) {
    // Merge with touching neighbours so back-to-back bookings stay one interval.
    auto next = busy_.lower_bound(b);
    if (next != busy_.end() && next->first == e) {
      e = next->second;
      next = busy_.erase(next);
    }
    if (next != busy_.begin()) {
      auto prev = std::prev(next);
      if (prev->second == b) {
        prev->second = e;
        return;
      }
    }
    busy_.emplace_hint(next, b, e);
  }

  std::map<uint64_t, uint64_t> busy_;  // start -> end, disjoint, not touching
  uint64_t last_end_ps_ = 0;
  uint64_t busy_ps_ = 0;
  uint64_t wait_ps_ = 0;
  uint64_t reservations_ = 0;
};

}  // namespace aimc::sim
