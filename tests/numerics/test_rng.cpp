// RNG: reproducibility of named streams, and moments of the distributions with tolerances that
// follow from the sample size (5 standard errors).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#include <gtest/gtest.h>

#include "numerics/rng.h"
#include "moments.h"

using aimc::num::Rng;
using aimc::num::RngStreams;

namespace {

using aimc::testing::Moments;
using aimc::testing::moments;

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

// ---------------------------------------------------------------------------------------------
// LaneNormals: sixteen lanes of Box-Muller pairs (program_verify's normals).

namespace {

using aimc::num::LaneNormals;
namespace detail = aimc::num::detail;

std::vector<float> lane_normals(uint64_t seed, long n, bool simd) {
  detail::set_lanes_simd_allowed(simd);
  LaneNormals g(seed);
  std::vector<float> out(static_cast<size_t>(n));
  g.fill(out.data(), n);
  detail::set_lanes_simd_allowed(true);
  return out;
}

}  // namespace

// The AVX-512 path (when this CPU has it) and the scalar path give the same bits, and fill, step
// and pair lay the lanes out as documented (out[32 s + l] = z0, out[32 s + 16 + l] = z1).
TEST(LaneNormals, ScalarAndSimdPathsAndTheThreeCallsGiveTheSameBits) {
  const long n = 1 << 20;
  const std::vector<float> simd = lane_normals(7, n, true), scalar = lane_normals(7, n, false);
  long differ = 0;
  for (long i = 0; i < n; ++i) differ += std::memcmp(&simd[i], &scalar[i], sizeof(float)) != 0;
  EXPECT_EQ(differ, 0) << "of " << n << " (AVX-512 path taken: " << detail::lanes_simd() << ")";

  LaneNormals by_step(7), by_pair(7);
  for (long s = 0; s < 100; ++s) {
    float z0[16], z1[16];
    static_assert(LaneNormals::kLanes == 16);
    by_step.step(z0, z1);
    for (int l = 0; l < 16; ++l) {
      EXPECT_EQ(z0[l], simd[32 * s + l]);
      EXPECT_EQ(z1[l], simd[32 * s + 16 + l]);
      float p0, p1;
      by_pair.pair(l, p0, p1);
      EXPECT_EQ(p0, z0[l]);
      EXPECT_EQ(p1, z1[l]);
    }
  }
  // A length that is not a whole number of steps: the same leading values.
  const std::vector<float> odd = lane_normals(7, 1001, true);
  for (long i = 0; i < 1001; ++i) ASSERT_EQ(odd[i], simd[i]) << i;
}

// Moments, CDF points and the tails of 4 M normals against the exact normal distribution; each
// empirical fraction is binomial (5 sigma = 5 sqrt(p (1 - p) / n)). |z| cannot exceed
// sqrt(2 ln 2^32) = 6.660 (u1 >= 2^-32).
TEST(LaneNormals, AreStandardNormal) {
  const std::vector<float> f = lane_normals(11, 4000000, true);
  const std::vector<double> x(f.begin(), f.end());
  expect_standard_normal(x);
  const double n = static_cast<double>(x.size());
  for (double q : {-4.5, -3.0, -2.0, -1.0, -0.5, 0.0, 0.5, 1.0, 2.0, 3.0, 4.5}) {
    long below = 0;
    for (double v : x) below += v < q;
    const double p = 0.5 * std::erfc(-q / std::sqrt(2.0));
    EXPECT_LT(std::abs(below / n - p), 5.0 * std::sqrt(p * (1 - p) / n)) << "at " << q;
  }
  double max_abs = 0;
  for (double v : x) max_abs = std::max(max_abs, std::abs(v));
  EXPECT_LE(max_abs, std::sqrt(2.0 * 32.0 * std::log(2.0)) * (1 + 1e-6));
}

// The pair of one draw, the lanes, and consecutive steps of one lane are uncorrelated: |r| below
// 5 / sqrt(n) (the standard error of a correlation of independent samples).
TEST(LaneNormals, PairsLanesAndStepsAreUncorrelated) {
  const long steps = 200000;
  const std::vector<float> f = lane_normals(13, 32 * steps, true);
  const auto corr = [&](auto a, auto b) {
    double sa = 0, sb = 0, sab = 0, saa = 0, sbb = 0;
    for (long s = 0; s < steps - 1; ++s) {
      const double x = a(s), y = b(s);
      sa += x, sb += y, sab += x * y, saa += x * x, sbb += y * y;
    }
    const double m = static_cast<double>(steps - 1);
    return (sab / m - sa / m * sb / m) /
           std::sqrt((saa / m - sa / m * sa / m) * (sbb / m - sb / m * sb / m));
  };
  const double bound = 5.0 / std::sqrt(static_cast<double>(steps));
  for (int l = 0; l < 16; ++l) {
    const auto z0 = [&](long s) { return f[32 * s + l]; };
    const auto z1 = [&](long s) { return f[32 * s + 16 + l]; };
    const auto z0_next = [&](long s) { return f[32 * (s + 1) + l]; };
    const auto other = [&](long s) { return f[32 * s + (l + 1) % 16]; };
    EXPECT_LT(std::abs(corr(z0, z1)), bound) << "lane " << l << " pair";
    EXPECT_LT(std::abs(corr(z0, z0_next)), bound) << "lane " << l << " lag 1";
    EXPECT_LT(std::abs(corr(z0, other)), bound) << "lanes " << l << ", " << (l + 1) % 16;
    // Squares too: Box-Muller's pair shares its radius, but z0^2 and z1^2 are still independent.
    const auto z0sq = [&](long s) { return z0(s) * z0(s); };
    const auto z1sq = [&](long s) { return z1(s) * z1(s); };
    EXPECT_LT(std::abs(corr(z0sq, z1sq)), bound) << "lane " << l << " squares";
  }
}

// The transform's own ln, sin and cos against libm in double: the float result is within a few
// float roundings of sqrt(-2 ln u1) (cos, sin)(2 pi u2). Bound: ~12 float operations of relative
// error 2^-24 each on r and on the angle (|a| <= pi/4), so |dz| <= 2e-6 (1 + |z|).
TEST(LaneNormals, TransformMatchesTheExactFormula) {
  Rng bits(17);
  double worst = 0;
  for (int i = 0; i < 200000; ++i) {
    uint64_t b = bits.next();
    if (i < 4) b = (i == 0) ? 0 : (i == 1) ? ~0ull : (i == 2) ? (0xFFFFFFFFull << 32) : 0xFFFFFFFFull;
    float z0, z1;
    detail::box_muller(b, z0, z1);
    const double u1 = (static_cast<double>(b >> 32) + 1.0) / 4294967296.0;
    const double u2 = static_cast<double>(b & 0xFFFFFFFFull) / 4294967296.0;
    const double r = std::sqrt(-2.0 * std::log(u1)), phi = 2.0 * M_PI * u2;
    const double e0 = std::abs(z0 - r * std::cos(phi)) / (1 + r);
    const double e1 = std::abs(z1 - r * std::sin(phi)) / (1 + r);
    worst = std::max(worst, std::max(e0, e1));
  }
  EXPECT_LT(worst, 2e-6);
}
