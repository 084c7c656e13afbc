// Statistics over seeds: the values a hand computation gives.
#include <gtest/gtest.h>

#include <cmath>

#include "sweep_stats.h"

using aimc::app::seed_stats;
using aimc::app::t_quantile_975;

TEST(SweepStats, MeanStdAndStudentInterval) {
  // 1, 2, 3, 4: mean 2.5, sample variance 5/3, t(0.975, 3) = 3.182.
  const auto s = seed_stats({1, 2, 3, 4});
  EXPECT_EQ(s.n, 4u);
  EXPECT_DOUBLE_EQ(s.mean, 2.5);
  ASSERT_TRUE(s.spread);
  EXPECT_NEAR(s.std, std::sqrt(5.0 / 3.0), 1e-12);
  const double half = 3.182 * std::sqrt(5.0 / 3.0) / 2.0;
  EXPECT_NEAR(s.ci95_low, 2.5 - half, 1e-12);
  EXPECT_NEAR(s.ci95_high, 2.5 + half, 1e-12);
}

TEST(SweepStats, OneValueHasNoSpreadAndNoneHasNoMean) {
  const auto one = seed_stats({7});
  EXPECT_EQ(one.n, 1u);
  EXPECT_DOUBLE_EQ(one.mean, 7);
  EXPECT_FALSE(one.spread);
  EXPECT_EQ(seed_stats({}).n, 0u);
  const auto same = seed_stats({3, 3, 3});
  ASSERT_TRUE(same.spread);
  EXPECT_EQ(same.std, 0);
  EXPECT_EQ(same.ci95_low, 3);
  EXPECT_EQ(same.ci95_high, 3);
}

TEST(SweepStats, StudentQuantilesFromTheTableAndBeyond) {
  EXPECT_DOUBLE_EQ(t_quantile_975(1), 12.706);
  EXPECT_DOUBLE_EQ(t_quantile_975(2), 4.303);
  EXPECT_DOUBLE_EQ(t_quantile_975(30), 2.042);
  EXPECT_NEAR(t_quantile_975(40), 2.021, 1e-9);
  EXPECT_NEAR(t_quantile_975(60), 2.000, 1e-9);
  EXPECT_NEAR(t_quantile_975(120), 1.980, 1e-9);
  EXPECT_NEAR(t_quantile_975(1000000), 1.95996, 1e-4);
  // Decreasing in df.
  for (size_t df = 1; df < 500; ++df) EXPECT_GT(t_quantile_975(df), t_quantile_975(df + 1)) << df;
  EXPECT_TRUE(std::isnan(t_quantile_975(0)));
}
