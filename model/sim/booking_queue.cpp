#include "sim/booking_queue.h"

#include <algorithm>
#include <stdexcept>
#include <utility>

namespace aimc::sim {

BookingQueue::Id BookingQueue::add(uint32_t image, uint64_t not_before_ps, Book book) {
  const Id id = static_cast<Id>(steps_.size());
  Step s;
  s.ready = not_before_ps;
  s.image = image;
  s.book = std::move(book);
  steps_.push_back(std::move(s));
  fresh_.push_back(id);
  return id;
}

void BookingQueue::depend(Id pred, Id succ, bool on_start) {
  if (pred >= steps_.size() || succ >= steps_.size() || pred == succ)
    throw std::logic_error("BookingQueue: a dependency between unknown or identical steps");
  Step& s = steps_[succ];
  if (s.queued || s.booked) throw std::logic_error("BookingQueue: a dependency added to a step already ready");
  const Step& p = steps_[pred];
  if (p.booked) {
    s.ready = std::max(s.ready, on_start ? p.start : p.end);
    return;
  }
  ++s.waiting;
  steps_[pred].succ.emplace_back(succ, on_start);
}

void BookingQueue::enqueue(Id id) {
  Step& s = steps_[id];
  s.queued = true;
  ready_.emplace(s.ready, s.image, id);
}

bool BookingQueue::run() {
  for (;;) {
    // Steps added since the last booking have their waits declared by now.
    for (Id id : fresh_)
      if (steps_[id].waiting == 0 && !steps_[id].queued) enqueue(id);
    fresh_.clear();
    if (ready_.empty()) return true;
    const Id id = std::get<2>(ready_.top());
    ready_.pop();
    // The Book may add steps (steps_ grows): no reference into steps_ is held across it.
    uint64_t start = 0, end = 0;
    const uint64_t ready = steps_[id].ready;
    Book book = std::move(steps_[id].book);
    if (!book(ready, start, end)) return false;
    Step& s = steps_[id];
    s.start = std::max(start, ready);
    s.end = std::max(end, s.start);
    s.booked = true;
    std::vector<std::pair<Id, bool>> succ = std::move(s.succ);
    for (const auto& [next, on_start] : succ) {
      Step& n = steps_[next];
      n.ready = std::max(n.ready, on_start ? s.start : s.end);
      if (--n.waiting == 0) enqueue(next);
    }
  }
}

}  // namespace aimc::sim
