#include <gtest/gtest.h>

#include "sim/timeline.h"

using aimc::sim::Timeline;

TEST(Timeline, FreeResourceStartsAtRequestedTime) {
  Timeline t;
  EXPECT_EQ(t.reserve(1000, 50), 1000u);
  EXPECT_EQ(t.next_free(), 1050u);
  EXPECT_EQ(t.busy_ps(), 50u);
  EXPECT_EQ(t.wait_ps(), 0u);
}

TEST(Timeline, OverlappingRequestWaitsForTheFirst) {
  Timeline t;
  EXPECT_EQ(t.reserve(0, 500), 0u);
  EXPECT_EQ(t.reserve(0, 500), 500u);   // waits exactly the first one's occupancy
  EXPECT_EQ(t.reserve(200, 100), 1000u);
  EXPECT_EQ(t.wait_ps(), 500u + 800u);
  EXPECT_EQ(t.busy_ps(), 1100u);
  EXPECT_EQ(t.reservations(), 3u);
  EXPECT_EQ(t.reserve(5000, 10), 5000u);  // after the resource is free: no wait
  EXPECT_EQ(t.wait_ps(), 1300u);
  EXPECT_EQ(t.next_free(), 5010u);
}

TEST(Timeline, ZeroDurationAndReset) {
  Timeline t;
  EXPECT_EQ(t.reserve(10, 0), 10u);
  EXPECT_EQ(t.next_free(), 10u);
  t.reset();
  EXPECT_EQ(t.next_free(), 0u);
  EXPECT_EQ(t.busy_ps(), 0u);
}

TEST(Timeline, LaterRequestTakesAnEarlierGapThatFits) {
  Timeline t;
  EXPECT_EQ(t.reserve(0, 100), 0u);
  EXPECT_EQ(t.reserve(300, 100), 300u);  // leaves a gap [100, 300)
  EXPECT_EQ(t.reserve(50, 200), 100u);   // fits the gap exactly, after waiting for the first
  EXPECT_EQ(t.reserve(0, 50), 400u);     // no gap left before 400
  EXPECT_EQ(t.reserve(120, 10), 450u);
  EXPECT_EQ(t.wait_ps(), 50u + 400u + 330u);
  EXPECT_EQ(t.intervals(), 1u);          // [0, 460) merged into one booking
  EXPECT_EQ(t.next_free(), 460u);
}

TEST(Timeline, GapTooShortIsSkipped) {
  Timeline t;
  t.reserve(0, 100);
  t.reserve(150, 100);                  // gap [100, 150) of 50
  EXPECT_EQ(t.reserve(90, 60), 250u);   // 60 does not fit in 50
  EXPECT_EQ(t.reserve(90, 50), 100u);   // 50 does
  t.forget_before(250);
  EXPECT_EQ(t.intervals(), 1u);          // only [250, 310) is left
}
