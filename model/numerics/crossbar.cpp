#include "numerics/crossbar.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

#include "numerics/device.h"

namespace aimc::num {

namespace {

void check_block(const char* what, int rows_used, int cols_used, int rows, int cols) {
  if (rows_used < 0 || cols_used < 0 || rows_used > rows || cols_used > cols)
    throw std::invalid_argument(std::string(what) + ": used block " + std::to_string(rows_used) +
                                " x " + std::to_string(cols_used) + " does not fit the " +
                                std::to_string(rows) + " x " + std::to_string(cols) + " array");
}

}  // namespace

double level_step(const DeviceSpec& spec) {
  if (spec.bits_per_cell < 1 || spec.bits_per_cell > 15 || !(spec.g_max_ns > 0))
    throw std::invalid_argument("level_step: bits_per_cell must be in [1, 15] and g_max_ns > 0");
  return (1.0 - spec.g_min_ns / spec.g_max_ns) / ((1 << spec.bits_per_cell) - 1);
}

Crossbar::Crossbar(int rows, int cols, DeviceSpec spec) : rows_(rows), cols_(cols), spec_(spec) {
  if (rows <= 0 || cols <= 0)
    throw std::invalid_argument("crossbar size must be positive, got " + std::to_string(rows) +
                                " x " + std::to_string(cols));
  if (spec.bits_per_cell < 1 || spec.bits_per_cell > 15)
    throw std::invalid_argument("bits_per_cell must be in [1, 15] (int16 levels), got " +
                                std::to_string(spec.bits_per_cell));
  if (!(spec.g_max_ns > 0) || !(spec.g_min_ns >= 0) || !(spec.g_min_ns < spec.g_max_ns))
    throw std::invalid_argument("device conductances must satisfy 0 <= g_min_ns < g_max_ns");
  if (!(spec.prog_error_rel >= 0) || !(spec.read_noise_rel >= 0))
    throw std::invalid_argument("prog_error_rel and read_noise_rel must be >= 0");
  max_level_ = (1 << spec.bits_per_cell) - 1;
  g_min_norm_ = spec.g_min_ns / spec.g_max_ns;
  const float g0 = static_cast<float>(g_min_norm_);
  g_pos_ = Eigen::MatrixXf::Constant(rows, cols, g0);
  g_neg_ = Eigen::MatrixXf::Constant(rows, cols, g0);
  update_derived();
}

double Crossbar::level_conductance(int k) const {
  if (k < 0 || k > max_level_)
    throw std::invalid_argument("cell level " + std::to_string(k) + " outside [0, " +
                                std::to_string(max_level_) + "]");
  return g_min_norm_ + static_cast<double>(k) / max_level_ * (1.0 - g_min_norm_);
}

void Crossbar::program_levels(const int16_t* levels, int rows_used, int cols_used, Rng* rng) {
  check_block("program_levels", rows_used, cols_used, rows_, cols_);
  const long n = static_cast<long>(rows_used) * cols_used;
  if (n > 0 && levels == nullptr) throw std::invalid_argument("program_levels: levels is null");

  // Check everything first, so a bad image leaves the array as it was.
  for (int r = 0; r < rows_used; ++r)
    for (int c = 0; c < cols_used; ++c) {
      const int l = levels[static_cast<long>(r) * cols_used + c];
      if (l < -max_level_ || l > max_level_)
        throw std::invalid_argument("program_levels: level " + std::to_string(l) + " at row " +
                                    std::to_string(r) + ", col " + std::to_string(c) +
                                    " outside [" + std::to_string(-max_level_) + ", " +
                                    std::to_string(max_level_) + "]");
    }

  // Noise before targets: one bulk draw in a documented order (all g+ row-major, then all g-).
  std::vector<float> z;
  const bool with_error = !spec_.ideal && rng != nullptr && spec_.prog_error_rel > 0;
  if (with_error) {
    z.resize(static_cast<size_t>(2 * n));
    rng->fill_normal(z.data(), z.size());
  }

  const float g0 = static_cast<float>(g_min_norm_);
  g_pos_.setConstant(g0);
  g_neg_.setConstant(g0);
  const double rel = spec_.prog_error_rel;
  for (int r = 0; r < rows_used; ++r)
    for (int c = 0; c < cols_used; ++c) {
      const long idx = static_cast<long>(r) * cols_used + c;
      // Unipolar targets are bit-identical to G(k) = g_min/g_max + k * step (see pair_targets).
      const std::pair<double, double> targets = pair_targets(spec_, levels[idx]);
      double tp = targets.first;
      double tn = targets.second;
      if (with_error) {
        // Flash tuning precision is relative to the target current.
        tp += rel * tp * z[static_cast<size_t>(idx)];
        tn += rel * tn * z[static_cast<size_t>(n + idx)];
        tp = std::min(std::max(tp, 0.0), static_cast<double>(kGCeiling));
        tn = std::min(std::max(tn, 0.0), static_cast<double>(kGCeiling));
      }
      g_pos_(r, c) = static_cast<float>(tp);
      g_neg_(r, c) = static_cast<float>(tn);
    }
  rows_used_ = rows_used;
  cols_used_ = cols_used;
  update_derived();
}

void Crossbar::load_conductances(const Eigen::MatrixXf& g_pos, const Eigen::MatrixXf& g_neg,
                                 int rows_used, int cols_used) {
  if (g_pos.rows() != rows_ || g_pos.cols() != cols_ || g_neg.rows() != rows_ ||
      g_neg.cols() != cols_)
    throw std::invalid_argument("load_conductances: matrices must be " + std::to_string(rows_) +
                                " x " + std::to_string(cols_));
  check_block("load_conductances", rows_used, cols_used, rows_, cols_);
  g_pos_ = g_pos;
  g_neg_ = g_neg;
  rows_used_ = rows_used;
  cols_used_ = cols_used;
  update_derived();
}

void Crossbar::update_derived() {
  g_diff_ = g_pos_ - g_neg_;
  if (!spec_.ideal && spec_.read_noise_rel > 0) {
    const float rel2 = static_cast<float>(spec_.read_noise_rel * spec_.read_noise_rel);
    noise_var_ = rel2 * (g_pos_.array().square() + g_neg_.array().square()).matrix();
  } else {
    noise_var_.resize(0, 0);
  }
  row_gsum_ = (g_pos_.leftCols(cols_used_) + g_neg_.leftCols(cols_used_)).rowwise().sum();
}

void Crossbar::mvm(const Eigen::MatrixXf& v, int rows_used, int cols_used, Eigen::MatrixXf& i_out,
                   Rng* read_rng, MvmStats* stats, int row0, int col0) const {
  if (row0 < 0 || col0 < 0) throw std::invalid_argument("mvm: negative block offset");
  check_block("mvm", row0 + rows_used, col0 + cols_used, rows_, cols_);
  if (v.cols() != rows_used)
    throw std::invalid_argument("mvm: input has " + std::to_string(v.cols()) +
                                " columns, expected rows_used = " + std::to_string(rows_used));
  const Eigen::Index batch = v.rows();

  // (4) the analog MVM: one GEMM for the whole batch.
  i_out.resize(batch, cols_used);
  i_out.noalias() = v * g_diff_.block(row0, col0, rows_used, cols_used);

  const bool noisy = read_rng != nullptr && noise_var_.size() > 0;
  Eigen::MatrixXf v2;
  if (noisy || stats) v2 = v.array().square().matrix();

  // (5) read noise, drawn per output as the exact column-sum Gaussian (see crossbar.h).
  if (noisy && batch > 0 && cols_used > 0) {
    Eigen::MatrixXf sigma(batch, cols_used);
    sigma.noalias() = v2 * noise_var_.block(row0, col0, rows_used, cols_used);
    // One draw of the stream seeds the 16 Box-Muller lanes that give this MVM's normals.
    Eigen::MatrixXf z(batch, cols_used);
    LaneNormals lanes(read_rng->next());
    lanes.fill(z.data(), static_cast<long>(z.size()));
    i_out.array() += sigma.array().sqrt() * z.array();
  }

  if (stats) {
    if (row0 == 0 && col0 == 0 && cols_used == cols_used_) {
      stats->sum_v2g += (v2 * row_gsum_.head(rows_used)).cast<double>().sum();
      stats->sum_vg += (v * row_gsum_.head(rows_used)).cast<double>().sum();
    } else {
      // Not the programmed block: sum the block's rows now (rows_used x cols_used adds).
      const Eigen::VectorXf gsum = (g_pos_.block(row0, col0, rows_used, cols_used) +
                                    g_neg_.block(row0, col0, rows_used, cols_used))
                                       .rowwise()
                                       .sum();
      stats->sum_v2g += (v2 * gsum).cast<double>().sum();
      stats->sum_vg += (v * gsum).cast<double>().sum();
    }
    stats->nonzero_inputs += static_cast<long>((v.array() != 0.0f).count());
    stats->vectors += static_cast<long>(batch);
  }
}

void Crossbar::mvm_side(const Eigen::MatrixXf& v, int rows_used, int cols_used, Side side, Eigen::MatrixXf& i_out,
                        Rng* read_rng, MvmStats* stats, int row0, int col0) const {
  if (row0 < 0 || col0 < 0) throw std::invalid_argument("mvm_side: negative block offset");
  check_block("mvm_side", row0 + rows_used, col0 + cols_used, rows_, cols_);
  if (v.cols() != rows_used)
    throw std::invalid_argument("mvm_side: input has " + std::to_string(v.cols()) +
                                " columns, expected rows_used = " + std::to_string(rows_used));
  const Eigen::Index batch = v.rows();
  const auto g = (side == Side::pos ? g_pos_ : g_neg_).block(row0, col0, rows_used, cols_used);
  i_out.resize(batch, cols_used);
  i_out.noalias() = v * g;
  const bool noisy = read_rng != nullptr && !spec_.ideal && spec_.read_noise_rel > 0;
  if (noisy && batch > 0 && cols_used > 0) {
    const float rel2 = static_cast<float>(spec_.read_noise_rel * spec_.read_noise_rel);
    const Eigen::MatrixXf var = rel2 * g.array().square().matrix();
    Eigen::MatrixXf sigma(batch, cols_used);
    sigma.noalias() = v.array().square().matrix() * var;
    Eigen::MatrixXf z(batch, cols_used);
    LaneNormals lanes(read_rng->next());
    lanes.fill(z.data(), static_cast<long>(z.size()));
    i_out.array() += sigma.array().sqrt() * z.array();
  }
  if (stats) {
    const Eigen::VectorXf gsum = g.rowwise().sum();
    stats->sum_v2g += (v.array().square().matrix() * gsum).cast<double>().sum();
    stats->sum_vg += (v * gsum).cast<double>().sum();
    stats->nonzero_inputs += static_cast<long>((v.array() != 0.0f).count());
    stats->vectors += static_cast<long>(batch);
  }
}

}  // namespace aimc::num
