#include "numerics/ir_drop.h"

#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

namespace aimc::num {
namespace {

void check(const Eigen::MatrixXf& g_pos, const Eigen::MatrixXf& g_neg, int rows_used, int cols_used,
           const IrDropParams& p) {
  if (!(p.r_wl_segment_ohm >= 0.0) || !(p.r_bl_segment_ohm >= 0.0) || !std::isfinite(p.r_wl_segment_ohm) ||
      !std::isfinite(p.r_bl_segment_ohm))
    throw std::invalid_argument("ir drop: wire resistances must be finite and >= 0 ohm");
  if (!(p.g_max_s > 0.0) || !std::isfinite(p.g_max_s))
    throw std::invalid_argument("ir drop: g_max must be > 0 S");
  if (g_pos.rows() != g_neg.rows() || g_pos.cols() != g_neg.cols())
    throw std::invalid_argument("ir drop: g_pos and g_neg differ in size");
  if (rows_used < 0 || cols_used < 0 || rows_used > g_pos.rows() || cols_used > g_pos.cols())
    throw std::invalid_argument("ir drop: block " + std::to_string(rows_used) + " x " +
                                std::to_string(cols_used) + " exceeds the array " +
                                std::to_string(g_pos.rows()) + " x " + std::to_string(g_pos.cols()));
}

// S(k) = sum_k' a_k' min(d_k, d_k') for distances d that increase with the index k (d_k = k + 1
// here, or rows - r read backwards): prefix sums of a d below k, plus d_k times the sum above.
void min_distance_sums(const std::vector<double>& a, const std::vector<double>& d, std::vector<double>& s) {
  const size_t n = a.size();
  double total = 0.0;
  for (double v : a) total += v;
  double below_ad = 0.0, below_a = 0.0;
  s.resize(n);
  for (size_t k = 0; k < n; ++k) {
    below_ad += a[k] * d[k];
    below_a += a[k];
    s[k] = below_ad + d[k] * (total - below_a);
  }
}

}  // namespace

void ir_drop_loss(const Eigen::MatrixXf& g_pos, const Eigen::MatrixXf& g_neg, int rows_used,
                  int cols_used, const IrDropParams& p, Eigen::MatrixXd& x_pos, Eigen::MatrixXd& x_neg) {
  check(g_pos, g_neg, rows_used, cols_used, p);
  x_pos.setZero(rows_used, cols_used);
  x_neg.setZero(rows_used, cols_used);
  if (rows_used == 0 || cols_used == 0) return;
  // Conductances in siemens times the segment resistance: G R, dimensionless.
  const double wl = p.r_wl_segment_ohm * p.g_max_s, bl = p.r_bl_segment_ohm * p.g_max_s;
  std::vector<double> a, d, s;
  // Word lines: position j = 2c + side, d_wl = j + 1.
  const size_t n_wl = 2 * static_cast<size_t>(cols_used);
  a.resize(n_wl);
  d.resize(n_wl);
  for (size_t j = 0; j < n_wl; ++j) d[j] = static_cast<double>(j + 1);
  for (int r = 0; r < rows_used; ++r) {
    for (int c = 0; c < cols_used; ++c) {
      a[2 * static_cast<size_t>(c)] = g_pos(r, c);
      a[2 * static_cast<size_t>(c) + 1] = g_neg(r, c);
    }
    min_distance_sums(a, d, s);
    for (int c = 0; c < cols_used; ++c) {
      x_pos(r, c) += wl * s[2 * static_cast<size_t>(c)];
      x_neg(r, c) += wl * s[2 * static_cast<size_t>(c) + 1];
    }
  }
  // Bit lines: d_bl = rows - r grows as r falls, so walk the rows from the last used one up.
  const int rows = static_cast<int>(g_pos.rows());
  a.resize(static_cast<size_t>(rows_used));
  d.resize(static_cast<size_t>(rows_used));
  for (int k = 0; k < rows_used; ++k) d[static_cast<size_t>(k)] = static_cast<double>(rows - (rows_used - 1 - k));
  for (int side = 0; side < 2; ++side) {
    const Eigen::MatrixXf& g = side == 0 ? g_pos : g_neg;
    Eigen::MatrixXd& x = side == 0 ? x_pos : x_neg;
    for (int c = 0; c < cols_used; ++c) {
      for (int k = 0; k < rows_used; ++k) a[static_cast<size_t>(k)] = g(rows_used - 1 - k, c);
      min_distance_sums(a, d, s);
      for (int k = 0; k < rows_used; ++k) x(rows_used - 1 - k, c) += bl * s[static_cast<size_t>(k)];
    }
  }
}

void apply_ir_drop(Eigen::MatrixXf& g_pos, Eigen::MatrixXf& g_neg, int rows_used, int cols_used,
                   const IrDropParams& p) {
  Eigen::MatrixXd x_pos, x_neg;
  ir_drop_loss(g_pos, g_neg, rows_used, cols_used, p, x_pos, x_neg);
  if (p.r_wl_segment_ohm == 0.0 && p.r_bl_segment_ohm == 0.0) return;
  for (int c = 0; c < cols_used; ++c)
    for (int r = 0; r < rows_used; ++r) {
      g_pos(r, c) = static_cast<float>(g_pos(r, c) / (1.0 + x_pos(r, c)));
      g_neg(r, c) = static_cast<float>(g_neg(r, c) / (1.0 + x_neg(r, c)));
    }
}

}  // namespace aimc::num
