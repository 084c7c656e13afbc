// A resource calendar: when a shared resource (a tile's array, a digital unit, the bus) is busy.
// Unlike a plain next-free timeline, a request may take an earlier gap that is long enough, so a
// model may reserve in an order other than time order (the sequencer books vector v's output
// transfer before vector v+1's input transfer, which in time fits in the gap while v computes).
// Requests are first reserved, first served. Plain C++; times are integer picoseconds.
#pragma once

#include <algorithm>
#include <cstdint>
#include <iterator>
#include <map>

namespace aimc::chip {

class Calendar {
 public:
  // Books the first interval of duration_ps starting at or after earliest_ps that overlaps no
  // earlier booking; returns its start.
  uint64_t reserve(uint64_t earliest_ps, uint64_t duration_ps) {
    ++reservations_;
    busy_ps_ += duration_ps;
    uint64_t start = earliest_ps;
    // First booking that ends after `start`.
    auto it = busy_.upper_bound(start);
    if (it != busy_.begin()) {
      auto prev = std::prev(it);
      if (prev->second > start) start = prev->second;
    }
    while (it != busy_.end() && duration_ps > 0 && it->first < start + duration_ps) {
      start = std::max(start, it->second);
      ++it;
    }
    wait_ps_ += start - earliest_ps;
    if (duration_ps == 0) return start;
    insert(start, start + duration_ps);
    return start;
  }

  // Forgets bookings that end at or before t_ps (no request can start before the present).
  void forget_before(uint64_t t_ps) {
    auto it = busy_.begin();
    while (it != busy_.end() && it->second <= t_ps) it = busy_.erase(it);
  }

  uint64_t next_free_after_all() const { return busy_.empty() ? 0 : std::prev(busy_.end())->second; }
  uint64_t busy_ps() const { return busy_ps_; }
  uint64_t wait_ps() const { return wait_ps_; }
  uint64_t reservations() const { return reservations_; }
  size_t intervals() const { return busy_.size(); }

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

  std::map<uint64_t, uint64_t> busy_;  // start -> end, disjoint
  uint64_t busy_ps_ = 0;
  uint64_t wait_ps_ = 0;
  uint64_t reservations_ = 0;
};

}  // namespace aimc::chip
