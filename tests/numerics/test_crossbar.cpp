// Crossbar: level->conductance mapping, programming error and read noise statistics (tolerances
// from sample sizes, 5 standard errors), determinism, energy accounting against brute force.
#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "numerics/crossbar.h"

using namespace aimc::num;

namespace {

std::vector<int16_t> random_levels(int rows, int cols, int max_level, uint64_t seed) {
  Rng r(seed);
  std::vector<int16_t> lv(static_cast<size_t>(rows) * cols);
  for (auto& l : lv)
    l = static_cast<int16_t>(static_cast<int>(r.next() % (2 * max_level + 1)) - max_level);
  return lv;
}

Eigen::MatrixXf random_inputs(int batch, int rows, uint64_t seed) {
  Rng r(seed);
  Eigen::MatrixXf v(batch, rows);
  for (Eigen::Index k = 0; k < v.size(); ++k) v.data()[k] = static_cast<float>(r.uniform());
  return v;
}

DeviceSpec ideal_spec(int bits) {
  DeviceSpec s;
  s.ideal = true;
  s.bits_per_cell = bits;
  return s;
}

}  // namespace

TEST(Crossbar, LevelsMapToExactConductanceDifferences) {
  const DeviceSpec spec = ideal_spec(4);  // L = 16, g_min/g_max = 1e-3
  Crossbar xb(3, 40, spec);
  ASSERT_EQ(xb.max_level(), 15);
  std::vector<int16_t> lv;
  for (int k = -15; k <= 15; ++k) lv.push_back(static_cast<int16_t>(k));
  xb.program_levels(lv.data(), 1, 31, nullptr);

  const double gmin = 1.0 / 1000.0;
  EXPECT_DOUBLE_EQ(xb.level_conductance(0), gmin);
  EXPECT_DOUBLE_EQ(xb.level_conductance(15), 1.0);
  EXPECT_DOUBLE_EQ(level_step(spec), (1.0 - gmin) / 15.0);
  for (int c = 0; c < 31; ++c) {
    const int k = c - 15;
    const double diff = static_cast<double>(xb.g_pos()(0, c)) - xb.g_neg()(0, c);
    EXPECT_NEAR(diff, k / 15.0 * (1.0 - gmin), 1e-6) << "level " << k;  // float storage only
    // The unused cell of the pair sits exactly at G(0).
    EXPECT_EQ(k >= 0 ? xb.g_neg()(0, c) : xb.g_pos()(0, c), static_cast<float>(gmin));
  }
  // Outside the used block: both cells at G(0).
  for (int r = 0; r < 3; ++r)
    for (int c = (r == 0 ? 31 : 0); c < 40; ++c) {
      EXPECT_EQ(xb.g_pos()(r, c), static_cast<float>(gmin));
      EXPECT_EQ(xb.g_neg()(r, c), static_cast<float>(gmin));
    }
  EXPECT_THROW(xb.level_conductance(16), std::invalid_argument);
  EXPECT_THROW(xb.level_conductance(-1), std::invalid_argument);
}

TEST(Crossbar, OutOfRangeLevelThrowsNamingCellAndChangesNothing) {
  Crossbar xb(4, 4, ideal_spec(4));
  std::vector<int16_t> good = random_levels(4, 4, 15, 1);
  xb.program_levels(good.data(), 4, 4, nullptr);
  const Eigen::MatrixXf before = xb.g_pos();

  std::vector<int16_t> bad(2 * 3, 0);
  bad[1 * 3 + 2] = 16;  // row 1, col 2
  try {
    xb.program_levels(bad.data(), 2, 3, nullptr);
    FAIL() << "no exception";
  } catch (const std::invalid_argument& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("row 1"), std::string::npos) << msg;
    EXPECT_NE(msg.find("col 2"), std::string::npos) << msg;
  }
  bad[1 * 3 + 2] = -16;
  EXPECT_THROW(xb.program_levels(bad.data(), 2, 3, nullptr), std::invalid_argument);
  bad[1 * 3 + 2] = -15;
  EXPECT_EQ(xb.g_pos(), before);
  EXPECT_NO_THROW(xb.program_levels(bad.data(), 2, 3, nullptr));
  EXPECT_THROW(xb.program_levels(good.data(), 5, 4, nullptr), std::invalid_argument);
}

TEST(Crossbar, RejectsBadConstruction) {
  EXPECT_THROW(Crossbar(0, 4, DeviceSpec{}), std::invalid_argument);
  DeviceSpec s;
  s.bits_per_cell = 16;
  EXPECT_THROW(Crossbar(4, 4, s), std::invalid_argument);
  s = DeviceSpec{};
  s.g_min_ns = 2000;
  EXPECT_THROW(Crossbar(4, 4, s), std::invalid_argument);
}

TEST(Crossbar, ProgrammingErrorStatistics) {
  DeviceSpec spec;  // flash defaults: 8 bits/cell, prog_error_rel = 1%
  const int n_rows = 256, n_cols = 256;
  Crossbar xb(n_rows, n_cols, spec);
  const std::vector<int16_t> lv = random_levels(n_rows, n_cols, xb.max_level(), 5);
  Rng prog = RngStreams(1234).stream("prog/tile0");
  xb.program_levels(lv.data(), n_rows, n_cols, &prog);

  // Relative error of every cell (both of each pair) against its target.
  double sum = 0, sum2 = 0;
  long n = 0;
  for (int r = 0; r < n_rows; ++r)
    for (int c = 0; c < n_cols; ++c) {
      const int l = lv[static_cast<size_t>(r) * n_cols + c];
      const double tp = xb.level_conductance(l > 0 ? l : 0);
      const double tn = xb.level_conductance(l < 0 ? -l : 0);
      for (double e : {(xb.g_pos()(r, c) - tp) / tp, (xb.g_neg()(r, c) - tn) / tn}) {
        sum += e;
        sum2 += e * e;
        ++n;
      }
    }
  const double mean = sum / n;
  const double sd = std::sqrt((sum2 - n * mean * mean) / (n - 1));
  const double sigma = spec.prog_error_rel;
  EXPECT_LT(std::abs(mean), 5 * sigma / std::sqrt(static_cast<double>(n)));
  EXPECT_LT(std::abs(sd - sigma), 5 * sigma / std::sqrt(2.0 * n));
}

TEST(Crossbar, IdealOrNoRngProgramsExactTargets) {
  const std::vector<int16_t> lv = random_levels(8, 8, 255, 9);
  Crossbar ideal(8, 8, ideal_spec(8));
  Crossbar no_rng(8, 8, DeviceSpec{});
  Rng prog(1);
  ideal.program_levels(lv.data(), 8, 8, &prog);
  no_rng.program_levels(lv.data(), 8, 8, nullptr);
  for (int r = 0; r < 8; ++r)
    for (int c = 0; c < 8; ++c) {
      const int l = lv[static_cast<size_t>(r) * 8 + c];
      const float tp = static_cast<float>(ideal.level_conductance(l > 0 ? l : 0));
      EXPECT_EQ(ideal.g_pos()(r, c), tp);
      EXPECT_EQ(no_rng.g_pos()(r, c), tp);
    }
}

TEST(Crossbar, SameSeedProgramsIdenticalConductances) {
  const std::vector<int16_t> lv = random_levels(64, 32, 255, 3);
  auto program = [&](uint64_t seed) {
    Crossbar xb(64, 32, DeviceSpec{});
    Rng prog = RngStreams(seed).stream("prog/tile2");
    xb.program_levels(lv.data(), 64, 32, &prog);
    return xb;
  };
  const Crossbar a = program(77), b = program(77), c = program(78);
  EXPECT_EQ(a.g_pos(), b.g_pos());
  EXPECT_EQ(a.g_neg(), b.g_neg());
  EXPECT_NE(a.g_pos(), c.g_pos());
}

TEST(Crossbar, ReadNoiseStatisticsMatchTheModel) {
  DeviceSpec spec;  // flash defaults, read_noise_rel = 0.5%
  const int rows = 32, cols = 8, n = 20000;
  Crossbar xb(40, 10, spec);
  const std::vector<int16_t> lv = random_levels(rows, cols, xb.max_level(), 11);
  Rng prog(21);
  xb.program_levels(lv.data(), rows, cols, &prog);

  const Eigen::MatrixXf v1 = random_inputs(1, rows, 31);
  const Eigen::MatrixXf v = v1.replicate(n, 1);  // the same input, n times
  Eigen::MatrixXf i;
  Rng read = RngStreams(5).stream("read/tile0");
  xb.mvm(v, rows, cols, i, &read, nullptr);

  for (int c = 0; c < cols; ++c) {
    // Independent of the implementation: noiseless current and column sigma from the cells.
    double mu = 0, var = 0;
    for (int r = 0; r < rows; ++r) {
      const double gp = xb.g_pos()(r, c), gn = xb.g_neg()(r, c), x = v1(0, r);
      mu += x * (gp - gn);
      var += x * x * spec.read_noise_rel * spec.read_noise_rel * (gp * gp + gn * gn);
    }
    const double sigma = std::sqrt(var);
    double s = 0, s2 = 0;
    for (int k = 0; k < n; ++k) s += i(k, c);
    const double mean = s / n;
    for (int k = 0; k < n; ++k) s2 += (i(k, c) - mean) * (i(k, c) - mean);
    const double sd = std::sqrt(s2 / (n - 1));
    EXPECT_LT(std::abs(mean - mu), 5 * sigma / std::sqrt(static_cast<double>(n))) << "col " << c;
    EXPECT_LT(std::abs(sd - sigma), 5 * sigma / std::sqrt(2.0 * n)) << "col " << c;
  }
}

// The documented equivalence: drawing every cell's read noise and summing the column gives the
// same spread as the model's one-normal-per-column draw.
TEST(Crossbar, ColumnNoiseEqualsPerCellNoise) {
  DeviceSpec spec;
  spec.read_noise_rel = 0.05;
  const int rows = 6, cols = 3, n = 40000;
  Crossbar xb(rows, cols, spec);
  const std::vector<int16_t> lv = random_levels(rows, cols, xb.max_level(), 13);
  xb.program_levels(lv.data(), rows, cols, nullptr);
  const Eigen::MatrixXf v1 = random_inputs(1, rows, 17);

  Eigen::MatrixXf model;
  Rng read(99);
  xb.mvm(v1.replicate(n, 1), rows, cols, model, &read, nullptr);

  Rng cell_rng(1001);
  for (int c = 0; c < cols; ++c) {
    double bs = 0, bs2 = 0, ms = 0, ms2 = 0;
    for (int k = 0; k < n; ++k) {
      double i_c = 0;
      for (int r = 0; r < rows; ++r) {
        const double gp = xb.g_pos()(r, c), gn = xb.g_neg()(r, c);
        const double gp_read = gp + spec.read_noise_rel * gp * cell_rng.normal();
        const double gn_read = gn + spec.read_noise_rel * gn * cell_rng.normal();
        i_c += v1(0, r) * (gp_read - gn_read);
      }
      bs += i_c;
      bs2 += i_c * i_c;
      ms += model(k, c);
      ms2 += static_cast<double>(model(k, c)) * model(k, c);
    }
    const double b_sd = std::sqrt((bs2 - bs * bs / n) / (n - 1));
    const double m_sd = std::sqrt((ms2 - ms * ms / n) / (n - 1));
    // Two independent estimates of the same sigma: their difference has sd sigma / sqrt(n);
    // their means differ by sd sigma * sqrt(2 / n).
    EXPECT_LT(std::abs(b_sd - m_sd), 5 * b_sd / std::sqrt(static_cast<double>(n))) << "col " << c;
    EXPECT_LT(std::abs(bs / n - ms / n), 5 * b_sd * std::sqrt(2.0 / n)) << "col " << c;
  }
}

TEST(Crossbar, IdealOrNoRngReadsAreNoiseless) {
  const std::vector<int16_t> lv = random_levels(16, 4, 255, 2);
  const Eigen::MatrixXf v = random_inputs(5, 16, 3);
  Crossbar ideal(16, 4, ideal_spec(8));
  ideal.program_levels(lv.data(), 16, 4, nullptr);
  Eigen::MatrixXf a, b, c;
  Rng read(1);
  ideal.mvm(v, 16, 4, a, &read, nullptr);
  ideal.mvm(v, 16, 4, b, nullptr, nullptr);
  EXPECT_EQ(a, b);

  Crossbar flash(16, 4, DeviceSpec{});
  flash.program_levels(lv.data(), 16, 4, nullptr);
  flash.mvm(v, 16, 4, c, nullptr, nullptr);
  EXPECT_EQ(b, c) << "same targets, no programming or read noise";
  flash.mvm(v, 16, 4, c, &read, nullptr);
  EXPECT_NE(b, c) << "noise is applied when a read stream is given";
}

TEST(Crossbar, MvmStatsMatchBruteForce) {
  Crossbar xb(5, 4, DeviceSpec{});
  const std::vector<int16_t> lv = random_levels(3, 2, xb.max_level(), 4);
  Rng prog(8);
  xb.program_levels(lv.data(), 3, 2, &prog);
  Eigen::MatrixXf v(3, 3);
  v << 0.5f, 0.0f, 1.0f,
       0.0f, 0.0f, 0.25f,
       0.9f, 0.3f, 0.0f;

  auto brute = [&](int rows_used, int cols_used) {
    double s = 0;
    for (int b = 0; b < v.rows(); ++b)
      for (int r = 0; r < rows_used; ++r)
        for (int c = 0; c < cols_used; ++c)
          s += static_cast<double>(v(b, r)) * v(b, r) * (xb.g_pos()(r, c) + xb.g_neg()(r, c));
    return s;
  };

  MvmStats st;
  Eigen::MatrixXf i;
  xb.mvm(v, 3, 2, i, nullptr, &st);
  EXPECT_NEAR(st.sum_v2g, brute(3, 2), 1e-6 * brute(3, 2));
  EXPECT_EQ(st.nonzero_inputs, 5);
  EXPECT_EQ(st.vectors, 3);

  xb.mvm(v, 3, 2, i, nullptr, &st);
  EXPECT_NEAR(st.sum_v2g, 2 * brute(3, 2), 2e-6 * brute(3, 2)) << "stats accumulate";
  EXPECT_EQ(st.vectors, 6);

  MvmStats other;  // a block other than the programmed one takes the uncached path
  xb.mvm(v, 3, 1, i, nullptr, &other);
  EXPECT_NEAR(other.sum_v2g, brute(3, 1), 1e-6 * brute(3, 1));
}

TEST(Crossbar, MvmRejectsShapeMismatch) {
  Crossbar xb(8, 8, DeviceSpec{});
  Eigen::MatrixXf v = Eigen::MatrixXf::Zero(2, 5), i;
  EXPECT_THROW(xb.mvm(v, 4, 4, i, nullptr, nullptr), std::invalid_argument);
  EXPECT_THROW(xb.mvm(v, 5, 9, i, nullptr, nullptr), std::invalid_argument);
  EXPECT_NO_THROW(xb.mvm(v, 5, 8, i, nullptr, nullptr));
  EXPECT_EQ(i.rows(), 2);
  EXPECT_EQ(i.cols(), 8);
}

TEST(Crossbar, LoadConductancesRestoresState) {
  const std::vector<int16_t> lv = random_levels(12, 6, 255, 6);
  Crossbar a(12, 6, DeviceSpec{});
  Rng prog(3);
  a.program_levels(lv.data(), 12, 6, &prog);
  Crossbar b(12, 6, DeviceSpec{});
  b.load_conductances(a.g_pos(), a.g_neg(), a.rows_used(), a.cols_used());
  const Eigen::MatrixXf v = random_inputs(4, 12, 1);
  Eigen::MatrixXf ia, ib;
  MvmStats sa, sb;
  a.mvm(v, 12, 6, ia, nullptr, &sa);
  b.mvm(v, 12, 6, ib, nullptr, &sb);
  EXPECT_EQ(ia, ib);
  EXPECT_EQ(sa.sum_v2g, sb.sum_v2g);
  EXPECT_THROW(b.load_conductances(Eigen::MatrixXf::Zero(3, 3), a.g_neg(), 1, 1),
               std::invalid_argument);
}
