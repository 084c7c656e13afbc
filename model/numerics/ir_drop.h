// IR drop along the lines of the array (no SystemC): the conductances a parallel read sees once
// the resistance of the word and bit lines is counted. A numerics effect, off by default
// (tile.array.ir_drop); docs/nonidealities.md, "The order" step 2b, has the law in words.
//
// Geometry. Word line r is driven from its column-0 end; along it sit both cells of every pair,
// cell (c, side) at position j = 2c + side, reached through d_wl(j) = j + 1 segments of one cell
// pitch. Bit line (c, side) is sensed at its far end, below the last row of the ARRAY (rows =
// g.rows(), used or not): the cell of row r reaches it through d_bl(r) = rows - r segments. Each
// segment has resistance R_wl or R_bl (tile.array.r_wire_ohm_per_um x cell_pitch_um).
//
// The law (first order in R: superposition of the cells' currents on the shared segments).
// A cell's current I = G (v - dV_wl - dV_bl), where dV_wl is how far its word line has sagged
// below the driver and dV_bl how far its bit line has risen above the sense node. A segment
// carries the currents of every cell beyond it, so with the unperturbed currents I' = v' G':
//     dV_wl(r, j) = R_wl * sum_j' v_r G_rj' min(d_wl(j), d_wl(j'))      (the row's cells, all at v_r)
//     dV_bl(r, j) = R_bl * sum_r' v_r' G_r'j min(d_bl(r), d_bl(r'))     (the column's cells)
// The word-line term is proportional to the row's own v_r, and the bit line's loss summed over the
// column, sum_r G_rj dV_bl(r, j) = R_bl sum_r' v_r' G_r'j sum_r G_rj min(d_bl(r), d_bl(r')), is
// linear in the inputs with input-free coefficients; so both are exactly (to first order) a loss
// of each cell's conductance, whatever the input vector:
//     x(r, j) = R_wl sum_j' G_rj' min(d_wl(j), d_wl(j')) + R_bl sum_r' G_r'j min(d_bl(r), d_bl(r'))
//     g_eff   = G / (1 + x)
// For a lone conducting cell x = G (R_wl d_wl + R_bl d_bl) = G R_path and g_eff = 1 / (1/G + R_path),
// the exact series law; for many cells 1 / (1 + x) and 1 - x agree to first order (the exact loss is
// a little smaller: the currents that cause the drops are themselves reduced). The loss grows with
// G R and, with every cell conducting, with the square of the line length (N cells at N segments).
// What it neglects: the second-order coupling (drops reducing the currents that cause them), the
// driver's and the sense amplifier's own resistance (tile.array.r_line_kohm, a settling-time term
// elsewhere), and any cell outside the used block (taken as off: its lines are not driven or sensed).
// Every bit line of the block is taken as held at the sense node during a read, and every word line
// of the block at its input (0 when not driven): one input-free loss per cell, applied where the read
// conductances are formed, so it costs nothing per MVM.
#pragma once

#include <Eigen/Core>

namespace aimc::num {

struct IrDropParams {
  double r_wl_segment_ohm = 0;  // word-line resistance between two adjacent cells (ohm)
  double r_bl_segment_ohm = 0;  // bit-line resistance between two adjacent rows (ohm)
  double g_max_s = 0;           // the unit of the normalized conductances (siemens)
};

// x(r, c) of the law above for both cells of each pair of the block [0, rows_used) x
// [0, cols_used) (rows_used x cols_used each, resized); g_pos and g_neg are the normalized
// conductances of the whole array. Throws std::invalid_argument for a negative resistance, a
// non-positive g_max, a block larger than the array or matrices of different sizes.
void ir_drop_loss(const Eigen::MatrixXf& g_pos, const Eigen::MatrixXf& g_neg, int rows_used,
                  int cols_used, const IrDropParams& p, Eigen::MatrixXd& x_pos, Eigen::MatrixXd& x_neg);

// Replaces every cell of the block by g / (1 + x) (cells outside the block are not touched).
// R = 0 leaves every value as it was, bit for bit. Throws as ir_drop_loss.
void apply_ir_drop(Eigen::MatrixXf& g_pos, Eigen::MatrixXf& g_neg, int rows_used, int cols_used,
                   const IrDropParams& p);

}  // namespace aimc::num
