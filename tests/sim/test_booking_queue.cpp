#include <gtest/gtest.h>

#include <vector>

#include "sim/booking_queue.h"
#include "sim/timeline.h"

using aimc::sim::BookingQueue;
using aimc::sim::Timeline;

namespace {

// A step that holds `t` for `d` ps from the first free slot at or after its ready time, and logs
// its name in booking order.
BookingQueue::Book hold(Timeline& t, uint64_t d, std::vector<int>& order, int name) {
  return [&t, d, &order, name](uint64_t ready, uint64_t& start, uint64_t& end) {
    start = t.reserve(ready, d);
    end = start + d;
    order.push_back(name);
    return true;
  };
}

}  // namespace

TEST(BookingQueue, BooksEarliestReadyFirstThenOlderImageThenAddedFirst) {
  BookingQueue q;
  Timeline bus;
  std::vector<int> order;
  q.add(1, 100, hold(bus, 10, order, 1));  // image 1, ready at 100
  q.add(0, 200, hold(bus, 10, order, 2));  // image 0, later
  q.add(2, 100, hold(bus, 10, order, 3));  // image 2, ready with 1: the older image goes first
  q.add(1, 100, hold(bus, 10, order, 4));  // image 1 again: after the step added before it
  ASSERT_TRUE(q.run());
  EXPECT_EQ(order, (std::vector<int>{1, 4, 3, 2}));
  EXPECT_EQ(q.start_ps(0), 100u);
  EXPECT_EQ(q.start_ps(3), 110u);  // first come, first served: waits for step 1
  EXPECT_EQ(q.start_ps(2), 120u);
  EXPECT_EQ(q.start_ps(1), 200u);
}

// The case image-major booking gets wrong: a younger image's long request arrives while the older
// image computes, and the older image's next transfer comes later. Booked in time order, the bus
// goes to the request that is waiting; booked image after image, the older image's later transfer
// is on the calendar first and the younger one waits for a gap it fits in whole.
TEST(BookingQueue, ResourceGoesToTheWaitingRequestNotToALaterReservation) {
  BookingQueue q;
  Timeline bus, tile;
  std::vector<int> order;
  // Image 0: read (bus 0..100), compute (tile 100..150), write (bus from 150, 100 long).
  const auto r0 = q.add(0, 0, hold(bus, 100, order, 0));
  const auto c0 = q.add(0, 0, hold(tile, 50, order, 1));
  const auto w0 = q.add(0, 0, hold(bus, 100, order, 2));
  q.after_end(r0, c0);
  q.after_end(c0, w0);
  // Image 1: its read is ready at 110 (it needs 100 on the bus).
  const auto r1 = q.add(1, 110, hold(bus, 100, order, 3));
  ASSERT_TRUE(q.run());
  EXPECT_EQ(q.start_ps(r1), 110u);  // the bus was free at 110: granted
  EXPECT_EQ(q.start_ps(w0), 210u);  // image 0's write waits for it
  EXPECT_EQ(order, (std::vector<int>{0, 1, 3, 2}));
}

TEST(BookingQueue, WaitsForAStartOrAnEndAndStepsMayBeAddedWhileItRuns) {
  BookingQueue q;
  Timeline a;
  std::vector<int> order;
  const auto first = q.add(0, 0, hold(a, 100, order, 0));  // [0, 100)
  const auto on_start = q.add(0, 0, [&](uint64_t ready, uint64_t& s, uint64_t& e) {
    s = e = ready;  // a zero-length step that waits for `first` to start, then adds one
    const auto later = q.add(0, ready + 5, hold(a, 10, order, 2));
    q.after_end(first, later);  // first is booked: counts at once
    order.push_back(1);
    return true;
  });
  q.after_start(first, on_start);
  ASSERT_TRUE(q.run());
  EXPECT_EQ(q.ready_ps(on_start), 0u);
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2}));
  EXPECT_EQ(q.size(), 3u);
  EXPECT_EQ(q.start_ps(2), 100u);  // after first's end, not just its own not-before of 5
}

TEST(BookingQueue, AFailingStepStopsTheRunAndLeavesItsFollowersUnbooked) {
  BookingQueue q;
  const auto bad = q.add(0, 0, [](uint64_t, uint64_t&, uint64_t&) { return false; });
  const auto next = q.add(0, 0, [](uint64_t r, uint64_t& s, uint64_t& e) { s = e = r; return true; });
  q.after_end(bad, next);
  EXPECT_FALSE(q.run());
  EXPECT_FALSE(q.booked(bad));
  EXPECT_FALSE(q.booked(next));
}

TEST(BookingQueue, DependencyOnAReadyStepIsAModelBug) {
  BookingQueue q;
  const auto a = q.add(0, 0, [](uint64_t r, uint64_t& s, uint64_t& e) { s = e = r; return true; });
  EXPECT_THROW(q.after_end(a, a), std::logic_error);
  EXPECT_THROW(q.after_end(a, 7), std::logic_error);
}
