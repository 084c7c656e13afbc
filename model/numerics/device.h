// Device physics of the NVM cells (no SystemC): the state a programmed cell holds, how a
// program-and-verify loop gets it there, and what a read sees later, after time since
// programming (drift, charge loss) and at a die temperature. The formulas and the sources of every
// parameter are in docs/device-physics.md; the presets cite reference-chips.md.
//
// Units. As in crossbar.h, conductances are NORMALIZED to g_max (g = G / g_max). Times in seconds,
// temperatures in degrees Celsius (converted to kelvin inside), energies in eV, Vt in mV.
//
// Division of labour. This file decides WHAT the cells hold and what a read returns. The
// programming controller (model/chip/nvm_programmer) turns the pulse and verify counts reported
// here into time and energy; the tile loads effective_conductances() into its Crossbar for MVMs.
//
// The kinds (DeviceKind, listed in device_kind.h; each one's physics is its class in
// model/numerics/devices/, interface numerics/device_model.h):
//   ideal  one pulse writes the exact target; no drift, no temperature effect.
//   flash  split-gate floating-gate cell read in sub-threshold, gate-coupled to a peripheral
//          reference cell of conductance g_ref: g(T) = g_ref * (g(T_ref) / g_ref)^(T_ref / T)
//          (kelvin). Erase puts cells in a HIGH-conductance state; each program pulse can only
//          LOWER the conductance (source-side injection adds electrons), so an overshoot cannot be
//          undone without erasing. Pulses act on x = ln g: the controller aims to remove
//          pulse_gain of the measured log-distance to the target; the achieved step is
//          aimed * max(0, 1 + pulse_noise * z). Retention: charge loss lowers Vt by
//          retention_mv_per_decade * log10(1 + AF(T) * age_s / 1 s) * q, where q in [0, 1] is the
//          cell's stored charge (ln g_erased - ln g) / (ln g_erased - ln g_min) and AF is the
//          Arrhenius acceleration exp(Ea/k (1/T_ref - 1/T)); conductance rises by
//          exp(dVt / (slope_factor * kT_ref/q)).
//   pcm    bidirectional iterative programming (HERMES): each pulse moves g by
//          pulse_gain * (target - measured) + pulse_noise * z (pulse_noise relative to g_max).
//          Drift g(t) = g_prog * (max(t, t0) / t0)^-nu, nu ~ N(mu(g), sigma(g)) drawn per cell at
//          programming (clipped at 0), mu and sigma interpolated linearly in g between their g_min
//          and g_max values. Temperature: g(T) = g * exp(-(Ea(g)/k) (1/T - 1/T_ref)), Ea
//          interpolated linearly in ln g between its g_min and g_max values (monotonic in g).
//   rram   as pcm, with its own parameters (NeuroSim-style defaults in the rram preset).
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include <Eigen/Core>

#include "numerics/crossbar.h"
#include "numerics/device_kind.h"
#include "numerics/rng.h"

namespace aimc::num {

// Boltzmann constant (CODATA 2018) and the Celsius offset: T[K] = T[C] + kZeroCelsiusK, and the
// thermal voltage kT/q in mV is 1000 * kBoltzmannEvPerK * T[K].
inline constexpr double kBoltzmannEvPerK = 8.617333262e-5;
inline constexpr double kZeroCelsiusK = 273.15;

// What happens to a cell whose endurance is exceeded: it sticks at g_min or at g_max.
enum class WornMode { stuck_low, stuck_high };

struct DevicePhysics {
  DeviceKind kind = DeviceKind::flash;
  // Levels, conductance range, read noise and the pair mapping (DeviceSpec::pair).
  // cell.ideal must equal (kind == ideal); cell.prog_error_rel is not used on this path.
  DeviceSpec cell;
  double t_ref_c = 25.0;        // temperature at which targets are defined (programming, verify)
  double g_erased_ns = 2000.0;  // conductance right after an erase (flash high; pcm/rram low)
  double pulse_gain = 0.5;      // fraction of the measured error one pulse aims to remove (0, 1]
  double pulse_noise = 0.2;     // flash: sigma relative to the aimed step; pcm/rram: sigma / g_max
  // flash
  double slope_factor = 1.5;            // n of the sub-threshold slope (Vt <-> ln g conversion)
  double g_ref_ns = 1360.0;             // gate-coupling reference: its conductance does not move with T
  double retention_mv_per_decade = 0.15;  // Vt lost per decade of effective time, full charge
  double retention_ea_ev = 1.1;         // activation energy of charge loss
  // pcm / rram drift
  double drift_t0_s = 300.0;
  double nu_at_gmax = 0.02, nu_at_gmin = 0.1;
  double nu_sigma_at_gmax = 0.005, nu_sigma_at_gmin = 0.04;
  // pcm / rram conductance activation energy (temperature dependence)
  double ea_at_gmax_ev = 0.05, ea_at_gmin_ev = 0.3;
  // endurance: program/erase cycles a cell survives; then it behaves as `worn`
  double endurance_cycles = 1e5;
  WornMode worn = WornMode::stuck_low;
};

// Throws std::invalid_argument naming the bad field (ranges as in docs/device-physics.md).
void validate(const DevicePhysics& phys);

// Per-cell fault bits (CellState::fault_pos / fault_neg).
enum CellFault : uint8_t {
  kFaultNone = 0,
  kStuckLow = 1,   // reads g_min whatever is programmed
  kStuckHigh = 2,  // reads g_max (normalized 1) whatever is programmed
  kWorn = 4,       // set together with kStuckLow or kStuckHigh when endurance was exceeded
};

// The state of every cell of one array, rows x cols (word line x weight column), both cells of
// each pair. Conductances are the PROGRAMMED state: normalized, at t_ref_c, at the end of
// programming (before drift or charge loss).
struct CellState {
  CellState() = default;
  // Every cell at the erased conductance, no faults, zero cycles, nu = 0.
  CellState(int rows, int cols, const DevicePhysics& phys);
  int rows = 0, cols = 0;
  Eigen::MatrixXf g_pos, g_neg;
  Eigen::MatrixXf nu_pos, nu_neg;  // drift exponents (0 for flash and ideal)
  Eigen::Matrix<uint32_t, Eigen::Dynamic, Eigen::Dynamic> cycles_pos, cycles_neg;
  Eigen::Matrix<uint8_t, Eigen::Dynamic, Eigen::Dynamic> fault_pos, fault_neg;  // CellFault bits
  std::vector<uint8_t> dead_col;  // 1: the column's bit lines are open (reads 0 on both sides)

  long worn_cells() const;
  uint32_t max_cycles() const;
};

// Manufacturing faults, each cell (or column) independently with the given probability.
struct FaultRates {
  double stuck_low = 0, stuck_high = 0, dead_column = 0;
};
// Draws, in this order: one uniform per cell for stuck_low/high (pos row-major, then neg
// row-major; u < stuck_low -> kStuckLow, else u < stuck_low + stuck_high -> kStuckHigh), then one
// uniform per column for dead_column. A cell that is already stuck keeps its fault (its uniform is
// still drawn). Throws std::invalid_argument for rates outside [0, 1] or
// stuck_low + stuck_high > 1.
void inject_faults(CellState& state, const FaultRates& rates, Rng& rng);

// Normalized target conductances (g+, g-) of signed level `level` under spec.pair:
//   unipolar: the sign's cell at G(|level|), the other at G(0);
//   balanced: g_mid +- level * level_step / 2 with g_mid = (G(0) + G(L-1)) / 2.
// Either way g+ - g- = level * level_step(spec). Throws std::invalid_argument out of range.
std::pair<double, double> pair_targets(const DeviceSpec& spec, int level);

// Erases word lines [row0, row1) over all columns, both sides: every cell goes to g_erased
// (stuck cells keep their value), nu to 0. Flash counts an endurance cycle per erased cell (pcm and
// rram count cycles in program_verify). Cells whose count exceeds endurance_cycles become worn
// (kWorn | kStuckLow or kStuckHigh); a cell already stuck from manufacturing counts cycles but keeps
// its fault. Returns the number of cells erased (2 * (row1 - row0) * cols).
long erase_rows(CellState& state, const DevicePhysics& phys, int row0, int row1);

struct ProgramParams {
  int max_iterations = 20;    // pulses a cell may take before it is given up (unconverged)
  double tol_rel = 0.01;      // converged when |measured - target| <= max(tol_rel * target,
  double tol_gmax = 0.0;      //   tol_gmax (normalized), half a verify LSB)
  int verify_bits = 12;       // verify read: quantized to 1 / 2^verify_bits over [0, 1] (clips at 1);
                              //   1..24 (a pulse and a read are computed in float). A read above
                              //   full scale (over range: the value clipped)
                              //   never passes verify: the controller then aims from its own
                              //   estimate of g (docs/device-physics.md), at least 1 + tol.
  double temp_c = 25.0;       // die temperature while programming (the verify sees g at temp_c and
                              //   compares it with the targets as given: no compensation)
  bool record = false;        // keep every pulse and verify read (programming-sequence export)
  int threads = 1;            // host threads (groups of <= 512 pairs in parallel, >= 8 groups each);
                              //   the results are the same bits for any value
};

// One cell's programming, kept when ProgramParams::record is set.
struct CellRecord {
  int row = 0, col = 0;
  bool negative = false;
  float target = 0;             // normalized target conductance
  std::vector<float> pulse;     // per pulse: flash the aimed Vt shift in mV (> 0 raises Vt);
                                //   pcm/rram the aimed conductance change (normalized, signed)
  std::vector<float> verify;    // every verify read, normalized (first: before any pulse)
  bool converged = false;
};

struct ProgramResult {
  long cells = 0;          // 2 * rows_used * cols_used
  long pulses = 0;         // sum over cells
  long verify_reads = 0;   // sum over cells (= pulses + cells: one read before the first pulse)
  long unconverged = 0;    // cells left outside the tolerance (yield = 1 - unconverged / cells)
  // Per cell, in PROGRAMMING ORDER: for r, for c, for side (pos, neg): index (r * cols_used + c) * 2
  // + side. Cells are programmed parallel_cells at a time in this order (the controller's groups).
  std::vector<uint16_t> pulses_per_cell;
  std::vector<float> error;   // true programmed g - target (normalized, at t_ref_c), same order;
                              //   what a read sees: a stuck cell its stuck value, a dead column 0
  std::vector<uint8_t> converged;  // 1 when within tolerance, same order
  // iteration_histogram[k] = cells that took k pulses, k = 0 .. max_iterations.
  std::vector<long> iteration_histogram;
  std::vector<CellRecord> records;  // when ProgramParams::record, same order
};

// Program-and-verify of the block [0, rows_used) x [0, cols_used) to the signed levels
// (row-major, as in Crossbar::program_levels). Per cell: verify read; while not converged and
// pulses < max_iterations: one pulse (per the device kind, see the top of this file), verify read.
// Flash stops early, unconverged, when a verify reads below target - tolerance (overshoot: only an
// erase can raise the conductance). Stuck and worn cells do not move; dead columns read 0.
// Verify reads: g at params.temp_c, times (1 + read_noise_rel * z), quantized. pcm/rram draw a new
// nu per programmed cell and count one endurance cycle per cell that received a pulse.
// Random draws: one number from `rng` (the call's seed; the ideal device takes none), from which
// each group (a block of up to 16 rows x 512 pairs) seeds its own LaneNormals; within a group 32
// pulse channels each pulse one cell at a time, taking the next cell when theirs is finished (the
// exact sequence is documented at the top of program_verify.cpp). The results do not depend on
// params.threads. A pcm/rram cell that exceeds
// its endurance fails at its first pulse of that programming (it is stuck from then on). Cells
// outside the block are not touched. Throws std::invalid_argument for a bad block, level, params
// or state (nothing is changed then, and nothing is drawn).
ProgramResult program_verify(CellState& state, const DevicePhysics& phys, const int16_t* levels,
                             int rows_used, int cols_used, const ProgramParams& params, Rng& rng);

// What a read sees at `age_s` seconds after programming and die temperature temp_c: drift or
// charge loss, then temperature, then faults (stuck values) and dead columns (0). Normalized,
// rows x cols each (resized). Ideal devices return the programmed state (faults and dead columns
// still apply). Temperature acts on the drifted value (pcm/rram: Ea is taken at the drifted g).
void effective_conductances(const CellState& state, const DevicePhysics& phys, double age_s,
                            double temp_c, Eigen::MatrixXf& g_pos, Eigen::MatrixXf& g_neg);

// The temperature transform of one cell (no drift, no faults): g at t_ref_c -> g at temp_c, and
// its inverse. Exposed for tests and for programming at a temperature other than t_ref_c.
// pcm/rram: with Ea falling steeply with g the map is not monotonic on a hot die (default Ea
// values: above ~59 C); there the inverse returns the preimage nearest to g_at_temp.
double conductance_at_temperature(const DevicePhysics& phys, double g_ref_domain, double temp_c);
double conductance_at_reference(const DevicePhysics& phys, double g_at_temp, double temp_c);

// Flash only: the Vt offset (mV) of a cell of conductance g relative to the reference cell,
// dVt = -slope_factor * kT_ref/q * ln(g / g_ref). For the programming-sequence export.
double flash_vt_offset_mv(const DevicePhysics& phys, double g);

}  // namespace aimc::num
