// IR drop along the lines (numerics/ir_drop.h): the lone-cell series law, monotone in the distance
// to the driver and the sense end, the G R scaling, R = 0 as a no-op, a longer bit line losing more,
// and the first-order law against an exact nodal solve of a small array with its wires.
#include <gtest/gtest.h>

#include <cmath>
#include <stdexcept>

#include <Eigen/Dense>

#include "numerics/ir_drop.h"
#include "numerics/rng.h"

namespace aimc::num {
namespace {

constexpr double kGmaxS = 1e-6;  // 1 uS, the flash preset's g_max

IrDropParams wires(double r_seg_ohm) { return {r_seg_ohm, r_seg_ohm, kGmaxS}; }

// d_wl = 2c + side + 1 segments from the driver, d_bl = rows - r to the sense end.
double path_segments(int rows, int r, int c, int side) { return (2.0 * c + side + 1) + (rows - r); }

TEST(IrDrop, ALoneCellIsTheSeriesLaw) {
  const int rows = 8, cols = 5;
  const double r_seg = 50.0;
  for (int r : {0, 3, 7})
    for (int c : {0, 2, 4})
      for (int side : {0, 1}) {
        Eigen::MatrixXf gp = Eigen::MatrixXf::Zero(rows, cols), gn = gp;
        (side ? gn : gp)(r, c) = 0.8f;
        apply_ir_drop(gp, gn, rows, cols, wires(r_seg));
        const double G = 0.8 * kGmaxS, r_path = r_seg * path_segments(rows, r, c, side);
        const double expected = 1.0 / (1.0 / G + r_path) / kGmaxS;  // g_eff = 1 / (1/G + R_path)
        EXPECT_NEAR((side ? gn : gp)(r, c), expected, 1e-6 * expected) << r << "," << c << "," << side;
        EXPECT_EQ((side ? gp : gn)(r, c), 0.0f);
      }
}

TEST(IrDrop, CellsFartherFromTheDriverAndTheSenseEndReadLess) {
  const int rows = 12, cols = 6;
  Eigen::MatrixXf gp = Eigen::MatrixXf::Constant(rows, cols, 0.6f), gn = gp;
  apply_ir_drop(gp, gn, rows, cols, wires(20.0));
  for (int r = 0; r < rows; ++r)
    for (int c = 0; c < cols; ++c) {
      EXPECT_LT(gn(r, c), gp(r, c)) << "the negative cell sits one segment farther on the word line";
      if (c + 1 < cols) {
        EXPECT_LT(gp(r, c + 1), gp(r, c)) << "along the word line, row " << r;
      }
      if (r > 0) {
        EXPECT_LT(gp(r - 1, c), gp(r, c)) << "up the bit line, column " << c;
      }
    }
  // Near corner (last row, first column) against far corner (row 0, last column).
  EXPECT_LT(gn(0, cols - 1), 0.6f);
  EXPECT_LT(gn(0, cols - 1), gp(rows - 1, 0));
}

TEST(IrDrop, RelativeLossFollowsGTimesR) {
  // Lone cell: loss = 1 - g_eff/G = G R_path / (1 + G R_path), so x = G R_path doubles with G or R.
  const int rows = 10, cols = 4, r = 2, c = 3;
  auto loss = [&](float g, double r_seg) {
    Eigen::MatrixXf gp = Eigen::MatrixXf::Zero(rows, cols), gn = gp;
    gp(r, c) = g;
    apply_ir_drop(gp, gn, rows, cols, wires(r_seg));
    return 1.0 - gp(r, c) / static_cast<double>(g);
  };
  for (float g : {0.25f, 0.5f, 1.0f})
    for (double r_seg : {10.0, 100.0, 1000.0}) {
      const double gr = g * kGmaxS * r_seg * path_segments(rows, r, c, 0);
      EXPECT_NEAR(loss(g, r_seg), gr / (1.0 + gr), 1e-6) << g << " " << r_seg;
    }
  EXPECT_GT(loss(1.0f, 100.0), loss(0.5f, 100.0));
  EXPECT_GT(loss(0.5f, 200.0), loss(0.5f, 100.0));
  // Many cells: x is linear in every conductance and in R (ir_drop_loss), so scaling all G by 2
  // or R by 2 doubles every x.
  Rng rng(7);
  Eigen::MatrixXf gp(rows, cols), gn(rows, cols);
  for (int i = 0; i < gp.size(); ++i) {
    gp.data()[i] = static_cast<float>(rng.uniform());
    gn.data()[i] = static_cast<float>(rng.uniform());
  }
  Eigen::MatrixXd xp, xn, xp2g, xn2g, xp2r, xn2r;
  ir_drop_loss(gp, gn, rows, cols, wires(30.0), xp, xn);
  const Eigen::MatrixXf gp2 = 2 * gp, gn2 = 2 * gn;
  ir_drop_loss(gp2, gn2, rows, cols, wires(30.0), xp2g, xn2g);
  ir_drop_loss(gp, gn, rows, cols, wires(60.0), xp2r, xn2r);
  EXPECT_GT(xp.minCoeff(), 0.0);
  EXPECT_LT((xp2g - 2 * xp).cwiseAbs().maxCoeff(), 1e-9 * xp.maxCoeff());
  EXPECT_LT((xn2r - 2 * xn).cwiseAbs().maxCoeff(), 1e-9 * xn.maxCoeff());
}

TEST(IrDrop, ZeroResistanceLeavesEveryConductanceAsItWas) {
  Rng rng(3);
  Eigen::MatrixXf gp(9, 7), gn(9, 7);
  for (int i = 0; i < gp.size(); ++i) {
    gp.data()[i] = static_cast<float>(rng.uniform());
    gn.data()[i] = static_cast<float>(rng.uniform());
  }
  const Eigen::MatrixXf gp0 = gp, gn0 = gn;
  apply_ir_drop(gp, gn, 9, 7, wires(0.0));
  EXPECT_TRUE(gp == gp0 && gn == gn0);
  // Cells outside the block are never touched.
  apply_ir_drop(gp, gn, 4, 3, wires(100.0));
  EXPECT_TRUE(gp.bottomRows(5) == gp0.bottomRows(5) && gn.rightCols(4) == gn0.rightCols(4));
  EXPECT_LT(gp(0, 2), gp0(0, 2));
}

TEST(IrDrop, ABiggerArrayLosesMoreAtItsFarCorner) {
  // The same 16 x 8 block at the top of a 16-row and a 64-row array: its row 0 is 48 segments
  // farther from the sense end in the bigger one. And a bigger block (more rows conducting) loses
  // more at its far corner than a smaller one in the same array.
  auto far_corner = [](int rows, int rows_used, int cols) {
    Eigen::MatrixXf gp = Eigen::MatrixXf::Constant(rows, cols, 0.5f), gn = gp;
    apply_ir_drop(gp, gn, rows_used, cols, wires(5.0));
    return 1.0 - gn(0, cols - 1) / 0.5;
  };
  EXPECT_GT(far_corner(64, 16, 8), far_corner(16, 16, 8));
  EXPECT_GT(far_corner(64, 64, 8), far_corner(64, 16, 8));
  EXPECT_GT(far_corner(16, 16, 32), far_corner(16, 16, 8));
}

TEST(IrDrop, RefusesBadParameters) {
  Eigen::MatrixXf gp = Eigen::MatrixXf::Zero(4, 4), gn = gp;
  EXPECT_THROW(apply_ir_drop(gp, gn, 4, 4, wires(-1.0)), std::invalid_argument);
  EXPECT_THROW(apply_ir_drop(gp, gn, 5, 4, wires(1.0)), std::invalid_argument);
  EXPECT_THROW(apply_ir_drop(gp, gn, 4, 4, {1.0, 1.0, 0.0}), std::invalid_argument);
  Eigen::MatrixXf small = Eigen::MatrixXf::Zero(3, 4);
  EXPECT_THROW(apply_ir_drop(gp, small, 3, 4, wires(1.0)), std::invalid_argument);
}

// The exact currents of the array with its wires: nodal analysis of every word-line node w(r, j)
// and bit-line node b(r, j) (j = 2c + side). Word line r: driver at v_r, then a segment to each
// cell in turn; bit line j: a segment from each row to the next, the last row one segment from
// the sense node at 0 V. Cells outside the block [0, rows_used) conduct nothing. Returns the
// current into each bit line's sense node (amperes), 2 * cols of them.
Eigen::VectorXd exact_bit_line_currents(const Eigen::MatrixXf& gp, const Eigen::MatrixXf& gn,
                                        int rows_used, const Eigen::VectorXd& v, double r_seg) {
  const int rows = static_cast<int>(gp.rows()), n = 2 * static_cast<int>(gp.cols());
  const int nodes = 2 * rows * n;
  auto w = [&](int r, int j) { return r * n + j; };
  auto b = [&](int r, int j) { return rows * n + r * n + j; };
  Eigen::MatrixXd Y = Eigen::MatrixXd::Zero(nodes, nodes);
  Eigen::VectorXd I = Eigen::VectorXd::Zero(nodes);
  const double gw = 1.0 / r_seg;
  auto link = [&](int a, int c, double g) {
    Y(a, a) += g;
    Y(c, c) += g;
    Y(a, c) -= g;
    Y(c, a) -= g;
  };
  for (int r = 0; r < rows; ++r) {
    Y(w(r, 0), w(r, 0)) += gw;  // from the driver
    I(w(r, 0)) += gw * v(r);
    for (int j = 0; j < n; ++j) {
      if (j + 1 < n) link(w(r, j), w(r, j + 1), gw);
      if (r + 1 < rows) link(b(r, j), b(r + 1, j), gw);
      else Y(b(r, j), b(r, j)) += gw;  // to the sense node at 0 V
      const double g = r < rows_used ? static_cast<double>((j % 2 ? gn : gp)(r, j / 2)) * kGmaxS : 0.0;
      link(w(r, j), b(r, j), g);
    }
  }
  const Eigen::VectorXd x = Y.partialPivLu().solve(I);
  Eigen::VectorXd out(n);
  for (int j = 0; j < n; ++j) out(j) = x(b(rows - 1, j)) * gw;
  return out;
}

TEST(IrDrop, FirstOrderLawMatchesAnExactSolveOfTheWires) {
  const int rows = 8, rows_used = 6, cols = 3;
  const double r_seg = 2000.0;  // large, so that the loss is a few percent on this small array
  Rng rng(11);
  Eigen::MatrixXf gp(rows, cols), gn(rows, cols);
  for (int i = 0; i < gp.size(); ++i) {
    gp.data()[i] = static_cast<float>(rng.uniform());
    gn.data()[i] = static_cast<float>(rng.uniform());
  }
  Eigen::VectorXd v(rows);
  for (int r = 0; r < rows; ++r) v(r) = r < rows_used ? rng.uniform() : 0.0;
  v(1) = 0.0;  // an undriven word line of the block still sinks bit-line current
  const Eigen::VectorXd exact = exact_bit_line_currents(gp, gn, rows_used, v, r_seg);
  Eigen::MatrixXf gpe = gp, gne = gn;
  apply_ir_drop(gpe, gne, rows_used, cols, wires(r_seg));
  double worst_model = 0, worst_lone = 0, smallest_loss = 1;
  for (int j = 0; j < 2 * cols; ++j) {
    const Eigen::MatrixXf& g = j % 2 ? gn : gp;
    const Eigen::MatrixXf& ge = j % 2 ? gne : gpe;
    double ideal = 0, model = 0, lone = 0;
    for (int r = 0; r < rows_used; ++r) {
      const double G = g(r, j / 2) * kGmaxS;
      ideal += v(r) * G;
      model += v(r) * ge(r, j / 2) * kGmaxS;
      lone += v(r) / (1.0 / G + r_seg * path_segments(rows, r, j / 2, j % 2));
    }
    const double loss = ideal - exact(j);
    smallest_loss = std::min(smallest_loss, loss / ideal);
    worst_model = std::max(worst_model, std::fabs(model - exact(j)) / loss);
    worst_lone = std::max(worst_lone, std::fabs(lone - exact(j)) / loss);
  }
  EXPECT_GT(smallest_loss, 0.005) << "the wires must cost something for the comparison to mean anything";
  EXPECT_LT(worst_model, 0.1) << "first order: the model's error is a small part of the loss";
  EXPECT_GT(worst_lone, 0.3) << "a lone cell's drop alone misses the currents sharing the lines";
}

}  // namespace
}  // namespace aimc::num
