// The order in which the sequencer books the steps of a batch on the resources' calendars
// (sim::Timeline, the interconnect): the order in which a machine issues them, so that every
// shared resource serves its requests first come, first served, and is not left idle while one
// is waiting (a work-conserving arbiter).
//
// A step (an input read, an MVM, a partial-sum or output transfer, a digital-unit run) is booked
// once every step it waits for is booked: after their end (data) or after their start (a buffer
// half that frees when the next MVM starts). Of the steps that may be booked, the one that is
// ready earliest goes first; ties go to the older image, then to the step added first. A step's
// successors are never ready before it, so the calendars fill in time order and a request gets
// the resource at the first free moment after every request that came before it.
//
// Two other orders were measured and rejected (the bundled MLP, bus-bound, tile.adc.share 1..64):
//   - op after op over the batch (every image through op k before op k + 1): each op's requests
//     are laid on the calendars ahead of the next op's, which then fill what gaps are left; which
//     gaps fit depends on the tiles' times, so a slower ADC could give more throughput (share 16:
//     511k inferences/s against 465k at share 8);
//   - image after image (every op of image v before image v + 1, the older image first on every
//     calendar): a younger image's transfer can only take a gap the older image left that fits it
//     whole, and with indivisible bus bursts (the MLP's 392-byte input read holds the bus 255 ns)
//     most such gaps are too short: the bus idled while requests waited (421k inferences/s at
//     share 8, less than op after op, and still not monotone in the share).
// Plain C++; times are integer picoseconds.
#pragma once

#include <cstdint>
#include <functional>
#include <queue>
#include <tuple>
#include <vector>

namespace aimc::sim {

class BookingQueue {
 public:
  using Id = uint32_t;
  // Books the step at or after ready_ps (when the steps it waits for allow it): sets start_ps, when
  // it holds its resource from, and end_ps, when its result is there (ready_ps <= start_ps <=
  // end_ps). Returns false on an error, which stops run().
  using Book = std::function<bool(uint64_t ready_ps, uint64_t& start_ps, uint64_t& end_ps)>;

  // A step of `image` (the batch's index: older images win ties) that starts no earlier than
  // not_before_ps. Steps may be added while run() books (from a Book): a step added then must not
  // be ready before the step being booked.
  Id add(uint32_t image, uint64_t not_before_ps, Book book);
  // `succ` (added, not yet booked) waits for `pred`'s end / start. A booked pred counts at once.
  void after_end(Id pred, Id succ) { depend(pred, succ, false); }
  void after_start(Id pred, Id succ) { depend(pred, succ, true); }

  // Books every step whose waits are met, earliest-ready first, until none is left; false as soon
  // as a Book fails. Steps still waiting then (a cycle, or a failure) stay unbooked.
  bool run();

  size_t size() const { return steps_.size(); }
  bool booked(Id id) const { return steps_[id].booked; }
  uint64_t start_ps(Id id) const { return steps_[id].start; }
  uint64_t end_ps(Id id) const { return steps_[id].end; }
  uint64_t ready_ps(Id id) const { return steps_[id].ready; }

 private:
  struct Step {
    uint64_t ready = 0, start = 0, end = 0;
    uint32_t image = 0;
    uint32_t waiting = 0;  // preds not yet booked
    bool queued = false, booked = false;
    Book book;
    std::vector<std::pair<Id, bool>> succ;  // (step, waits for my start rather than my end)
  };
  using Key = std::tuple<uint64_t, uint32_t, Id>;  // (ready, image, id): smallest first

  void depend(Id pred, Id succ, bool on_start);
  void enqueue(Id id);

  std::vector<Step> steps_;
  std::vector<Id> fresh_;  // added since the last pop; queued once their waits are declared
  std::priority_queue<Key, std::vector<Key>, std::greater<Key>> ready_;
};

}  // namespace aimc::sim
