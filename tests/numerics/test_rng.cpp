// RNG: reproducibility of named streams, and moments of the distributions with tolerances that
// follow from the sample size (5 standard errors).
#include <cmath>
#include <vector>

#include <gtest/gtest.h>

#include "numerics/rng.h"

using aimc::num::Rng;
using aimc::num::RngStreams;

namespace {

struct Moments {
  double mean = 0, var = 0, m4 = 0;  // m4: fourth central moment
};

Moments moments(const std::vector<double>& x) {
  Moments m;
  for (double v : x) m.mean += v;
  m.mean /= x.size();
  for (double v : x) {
    const double d = v - m.mean;
    m.var += d * d;
    m.m4 += d * d * d * d;
  }
  m.var /= (x.size() - 1);
  m.m4 /= x.size();
  return m;
}

// For N(0,1): se(mean) = 1/sqrt(N), se(sample variance) = sqrt(2/N), se(mean of x^4) =
// sqrt(E x^8 - (E x^4)^2)/sqrt(N) = sqrt(105 - 9)/sqrt(N).
void expect_standard_normal(const std::vector<double>& x) {
  const double n = static_cast<double>(x.size());
  const Moments m = moments(x);
  EXPECT_LT(std::abs(m.mean), 5.0 / std::sqrt(n));
  EXPECT_LT(std::abs(m.var - 1.0), 5.0 * std::sqrt(2.0 / n));
  EXPECT_LT(std::abs(m.m4 - 3.0), 5.0 * std::sqrt(96.0 / n));  // catches non-Gaussian shapes
}

}  // namespace

TEST(Rng, SameSeedAndNameReproduce) {
  Rng a = RngStreams(42).stream("read/tile3");
  Rng b = RngStreams(42).stream("read/tile3");
  for (int k = 0; k < 1000; ++k) ASSERT_EQ(a.next(), b.next()) << "draw " << k;
  std::vector<float> fa(101), fb(101);
  a.fill_normal(fa.data(), fa.size());
  b.fill_normal(fb.data(), fb.size());
  EXPECT_EQ(fa, fb);
}

TEST(Rng, DifferentNamesAndSeedsDiffer) {
  const RngStreams s(42);
  Rng ref = s.stream("read/tile3");
  Rng other_name = s.stream("prog/tile3");
  Rng other_tile = s.stream("read/tile4");
  Rng other_seed = RngStreams(43).stream("read/tile3");
  int same_name = 0, same_tile = 0, same_seed = 0;
  for (int k = 0; k < 1000; ++k) {
    const uint64_t r = ref.next();
    same_name += (r == other_name.next());
    same_tile += (r == other_tile.next());
    same_seed += (r == other_seed.next());
  }
  // Independent 64-bit streams agree on a draw with probability 2^-64.
  EXPECT_EQ(same_name, 0);
  EXPECT_EQ(same_tile, 0);
  EXPECT_EQ(same_seed, 0);
}

TEST(Rng, StreamsAreUncorrelated) {
  const RngStreams s(7);
  Rng a = s.stream("read/tile0"), b = s.stream("read/tile1");
  const int n = 200000;
  double sab = 0;
  for (int k = 0; k < n; ++k) sab += a.normal() * b.normal();
  // The product of independent standard normals has mean 0 and variance 1.
  EXPECT_LT(std::abs(sab / n), 5.0 / std::sqrt(static_cast<double>(n)));
}

TEST(Rng, UniformMoments) {
  Rng r(123);
  const int n = 1000000;
  double sum = 0, sum2 = 0;
  for (int k = 0; k < n; ++k) {
    const double u = r.uniform();
    ASSERT_GE(u, 0.0);
    ASSERT_LT(u, 1.0);
    sum += u;
    sum2 += u * u;
  }
  const double mean = sum / n, var = sum2 / n - mean * mean;
  EXPECT_LT(std::abs(mean - 0.5), 5.0 * std::sqrt(1.0 / 12.0 / n));
  // Var(U) = 1/12; the variance of (U - 1/2)^2 is 1/80 - 1/144 = 1/180.
  EXPECT_LT(std::abs(var - 1.0 / 12.0), 5.0 * std::sqrt(1.0 / 180.0 / n));
}

TEST(Rng, NormalMoments) {
  Rng r(2024);
  std::vector<double> x(1000000);
  for (auto& v : x) v = r.normal();
  expect_standard_normal(x);
}

TEST(Rng, FillNormalMoments) {
  Rng r(99);
  std::vector<float> f(1000001);  // odd: exercises the unpaired last value
  r.fill_normal(f.data(), f.size());
  expect_standard_normal(std::vector<double>(f.begin(), f.end()));
}

TEST(Rng, FillNormalFastMomentsAndShape) {
  Rng r(31);
  std::vector<float> f(2000000);
  r.fill_normal_fast(f.data(), f.size());
  const std::vector<double> x(f.begin(), f.end());
  expect_standard_normal(x);
  // The ziggurat has four regions (the boxes, the wedges, the base strip, the tail beyond
  // r = 3.44): check the CDF at points inside each, and the tails, against the exact normal
  // CDF. Each empirical fraction is binomial: 5 sigma = 5 sqrt(p (1 - p) / n).
  const double n = static_cast<double>(x.size());
  for (double q : {-4.0, -3.6, -3.0, -2.0, -1.0, -0.3, 0.0, 0.3, 1.0, 2.0, 3.0, 3.44, 3.6, 4.0}) {
    long below = 0;
    for (double v : x) below += v < q;
    const double p = 0.5 * std::erfc(-q / std::sqrt(2.0));
    EXPECT_LT(std::abs(below / n - p), 5.0 * std::sqrt(p * (1 - p) / n)) << "at " << q;
  }
}

TEST(Rng, FillNormalFastIsReproducibleAndLeavesTheNormalCacheAlone) {
  Rng a(5), b(5);
  std::vector<float> fa(1000), fb(1000);
  a.fill_normal_fast(fa.data(), fa.size());
  b.fill_normal_fast(fb.data(), fb.size());
  EXPECT_EQ(fa, fb);
  // normal() caches the second value of each Box-Muller pair; fill_normal_fast in between does
  // not consume it.
  Rng c(6), d(6);
  const double c1 = c.normal();
  const double d1 = d.normal();
  std::vector<float> scratch(10);
  c.fill_normal_fast(scratch.data(), scratch.size());
  EXPECT_EQ(c1, d1);
  EXPECT_EQ(c.normal(), d.normal());
}
