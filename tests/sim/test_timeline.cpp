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
