// The NVM crossbar kernel: differential pairs of multi-level cells, batched MVM with read noise.
//
// Units. Conductances are NORMALIZED to g_max: g = G / g_max, in [g_min/g_max, 1] as programmed
// (programming error may push a cell slightly outside). Inputs are NORMALIZED word-line voltages
// v = V / v_read in [0, 1]. The normalized column current is i = sum_rows v * (g+ - g-), so the
// physical differential current is I = i * v_read * g_max (V * nS = nA).
//
// Read noise, and why it costs one extra product instead of batch*rows*cols random numbers:
// every read of cell (r, c) returns g + N(0, (read_noise_rel * g)^2), independently per cell and
// per read. Column c's current is sum_r v_r (g+_rc + n+_rc - g-_rc - n-_rc): a sum of independent
// Gaussians, which is EXACTLY Gaussian with mean sum_r v_r (g+_rc - g-_rc) and variance
//     sigma_c^2 = sum_r v_r^2 * read_noise_rel^2 * (g+_rc^2 + g-_rc^2).
// So mvm() draws one N(0, 1) per (vector, column) and scales it by sigma_c; the variances of the
// whole batch are one matrix product (v.^2) * (rel^2 * (G+.^2 + G-.^2)). The output distribution
// is identical to drawing every cell's noise; only the random sequence differs. The normals of
// one mvm() come from a LaneNormals seeded by one draw of read_rng (rng.h), in (vector, column)
// column-major order.
#pragma once

#include <cstdint>

#include <Eigen/Core>

#include "numerics/rng.h"

namespace aimc::num {

// How a signed weight level is split over the pair (see pair_targets() in device.h):
// unipolar: one cell carries |level|, the other sits at G(0) (zero weights leave both cells off);
// balanced: both cells sit around the mid conductance, +- level / 2 (temperature-compensating
// for gate-coupled flash, at the cost of cells always conducting).
enum class PairMode { unipolar, balanced };

struct DeviceSpec {
  bool ideal = false;            // exact conductances, noiseless reads
  PairMode pair = PairMode::unipolar;
  int bits_per_cell = 8;         // L = 2^bits_per_cell levels per cell (1..15)
  double g_min_ns = 1;           // G(0): erased / lowest programmable conductance (nS)
  double g_max_ns = 1000;        // G(L-1) (nS), the normalization unit
  double prog_error_rel = 0.01;  // sigma of programming error / target conductance
  double read_noise_rel = 0.005; // sigma of one read / cell conductance
};

// Per-MVM accounting, accumulated (+=) by Crossbar::mvm.
struct MvmStats {
  // Sum over the batch and the cells of the used block of v^2 * (g+ + g-), normalized.
  // Array energy (J) = sum_v2g * v_read^2 (V^2) * g_max (S) * t_read (s).
  double sum_v2g = 0;
  // The same of v * (g+ + g-): the charge of a duration-coded read (a pulse of length ~ v at v_read).
  double sum_vg = 0;
  long nonzero_inputs = 0;  // input samples with v != 0 (word lines actually driven)
  long vectors = 0;         // input vectors (batch rows) processed

  MvmStats& operator+=(const MvmStats& o) {
    sum_v2g += o.sum_v2g;
    sum_vg += o.sum_vg;
    nonzero_inputs += o.nonzero_inputs;
    vectors += o.vectors;
    return *this;
  }
};

// Normalized conductance difference of one level step, (1 - g_min/g_max) / (L - 1): a pair at
// level l contributes l * level_step(spec) * v to its column's normalized current. What the
// compiler needs to turn ADC codes back into weight units (acc_scale).
// Throws std::invalid_argument for bits_per_cell outside [1, 15] or g_max_ns <= 0.
double level_step(const DeviceSpec& spec);

// Conductance ceiling (normalized): programming error may overshoot g_max a little, but a cell
// cannot conduct without bound, so programmed values are clamped to [0, kGCeiling].
inline constexpr float kGCeiling = 1.1f;

class Crossbar {
 public:
  // A rows x cols array (word lines x weight columns); every cell starts erased at G(0).
  // Throws std::invalid_argument on a non-positive size or an invalid DeviceSpec.
  Crossbar(int rows, int cols, DeviceSpec spec);

  // Programs the used block [0, rows_used) x [0, cols_used) from signed levels, row-major
  // (levels[r * cols_used + c]; row = word line = input, col = weight column = output), as in a
  // WEIGHTS section of the deployment image. Targets per spec.pair (pair_targets() in device.h):
  // unipolar level > 0: g+ = G(level), g- = G(0); level < 0 the reverse; 0: both G(0). Cells
  // outside the used block are set to G(0) exactly.
  // Programming error (not in ideal mode, and only if rng != nullptr): every cell of the used
  // block, both cells of each pair, gets N(0, (prog_error_rel * G_target)^2) added, then is clamped
  // to [0, kGCeiling]. Normals are drawn as rows_used*cols_used for g+ (row-major), then as many
  // for g-.
  // Throws std::invalid_argument (naming row and col) for a level outside [-(L-1), L-1], or for a
  // block larger than the array; nothing is changed then.
  void program_levels(const int16_t* levels, int rows_used, int cols_used, Rng* rng);

  // v: (batch x rows_used) normalized voltages. i_out: resized to (batch x cols_used),
  // normalized currents v * (G+ - G-) over the used block, plus read noise (not in ideal mode,
  // and only if read_rng != nullptr). Accumulates into *stats if given.
  // Throws std::invalid_argument if v.cols() != rows_used or the block exceeds the array.
  // row0/col0: where the block starts (a tile packs blocks of several layers; only the block's
  // word lines are driven and only its columns are read, so only its cells count for energy).
  void mvm(const Eigen::MatrixXf& v, int rows_used, int cols_used, Eigen::MatrixXf& i_out,
           Rng* read_rng, MvmStats* stats, int row0 = 0, int col0 = 0) const;

  // One side of the pairs alone, as a sign-split (multi-phase) read converts it: i_out = v * G+
  // (or G-) over the block, with that side's read noise (variance read_noise_rel^2 g^2 per cell,
  // one normal per output as mvm()); stats count the side's cells only.
  enum class Side { pos, neg };
  void mvm_side(const Eigen::MatrixXf& v, int rows_used, int cols_used, Side side, Eigen::MatrixXf& i_out,
                Rng* read_rng, MvmStats* stats, int row0 = 0, int col0 = 0) const;

  // Replaces all conductances (normalized, rows x cols each), e.g. to restore a checkpoint.
  // used_rows/used_cols record the block the data was programmed for (for the energy cache).
  void load_conductances(const Eigen::MatrixXf& g_pos, const Eigen::MatrixXf& g_neg,
                         int rows_used, int cols_used);

  int rows() const { return rows_; }
  int cols() const { return cols_; }
  int rows_used() const { return rows_used_; }  // block of the last program_levels (0 before)
  int cols_used() const { return cols_used_; }
  const DeviceSpec& spec() const { return spec_; }
  int max_level() const { return max_level_; }  // L - 1

  // Normalized target conductance of level k in [0, L-1]: G(k)/g_max with
  // G(k) = g_min + k/(L-1) * (g_max - g_min). Throws std::invalid_argument outside the range.
  double level_conductance(int k) const;

  // Normalized conductances, rows x cols.
  const Eigen::MatrixXf& g_pos() const { return g_pos_; }
  const Eigen::MatrixXf& g_neg() const { return g_neg_; }

 private:
  void update_derived();

  int rows_, cols_;
  DeviceSpec spec_;
  int max_level_;
  double g_min_norm_;
  int rows_used_ = 0, cols_used_ = 0;
  Eigen::MatrixXf g_pos_, g_neg_;
  // Derived at program time for the hot path:
  Eigen::MatrixXf g_diff_;      // g+ - g-
  Eigen::MatrixXf noise_var_;   // read_noise_rel^2 * (g+^2 + g-^2), per cell
  Eigen::VectorXf row_gsum_;    // per row: sum over [0, cols_used_) of (g+ + g-)
};

}  // namespace aimc::num
