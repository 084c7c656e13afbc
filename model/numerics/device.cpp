// Device physics of the NVM cells: see device.h for the API and docs/device-physics.md for the
// formulas in prose.
//
// Random draw order (all from the Rng passed in; nothing else draws from it during the call):
//   inject_faults   one uniform() per cell, g+ row-major then g- row-major; then one uniform() per
//                   column (dead column). The draws are made whatever the rates are.
//   program_verify  one draw (next()): the call's seed; the ideal device draws nothing. The
//                   cells, in programming order (for r, for c, pos then neg), are programmed in
//                   groups of kGroupCells consecutive cells. Group k takes standard normals in
//                   sequence from blocks of kNormalBlock filled by LaneNormals::fill, its lanes
//                   seeded with group_seed(call seed, k) (the rest of its last block is unused), so
//                   a group's draws do not depend on the other groups. Within a group:
//                     1. every cell's first verify read, in order: one normal each if
//                        read_noise_rel > 0;
//                     2. rounds until no cell of the group is left unfinished: in each round
//                        every unfinished cell, in order, takes one normal for its pulse outcome
//                        (if pulse_noise > 0) and then one for the verify read that follows (if
//                        read_noise_rel > 0);
//                     3. pcm / rram only: one normal per cell of the group, in order, for its
//                        drift exponent nu.
//                   This is the temporal order of a controller that pulses a group's unfinished
//                   cells in turn. Stuck cells and dead columns take the same draws as healthy
//                   ones (the controller cannot tell them apart). kGroupCells is part of the
//                   sequence: changing it changes which normal a cell gets, not the statistics.
//                   The ideal device draws nothing.
#include "numerics/device.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <exception>
#include <limits>
#if defined(__SSE2__)
#include <immintrin.h>  // SSE2; AVX2 for the functions compiled for it (pulse_and_verify)
// The AVX2 clone of program_verify's round needs GCC (#pragma GCC target, and inlining the shared
// body into an AVX2 function); other compilers take the SSE2 version.
#if defined(__GNUC__) && !defined(__clang__)
#define AIMC_PROGRAM_VERIFY_AVX2 1
#endif
#endif
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace aimc::num {

namespace {

constexpr size_t kNormalBlock = 1024;
// program_verify works on groups of this many consecutive cells (programming order), small
// enough that a group's working state stays in cache while it is pulsed round by round.
constexpr long kGroupCells = 1024;

std::string fmt(double v) {
  std::ostringstream os;
  os << v;
  return os.str();
}

[[noreturn]] void bad_field(const char* field, const char* expected, double got) {
  throw std::invalid_argument(std::string("device physics: ") + field + " " + expected + ", got " +
                              fmt(got));
}

void check_temperature(const char* who, double temp_c) {
  if (!(std::isfinite(temp_c) && temp_c > -kZeroCelsiusK))
    throw std::invalid_argument(std::string(who) +
                                ": temperature must be above absolute zero (-273.15 C), got " +
                                fmt(temp_c));
}

double kelvin(double temp_c) { return temp_c + kZeroCelsiusK; }

double g_min_norm(const DevicePhysics& p) { return p.cell.g_min_ns / p.cell.g_max_ns; }

bool is_stuck(uint8_t fault) { return (fault & (kStuckLow | kStuckHigh)) != 0; }

// What a stuck cell reads (normalized). validate()-ed states never carry both bits; if a
// hand-made one does, stuck-low wins.
double stuck_value(uint8_t fault, double g_min) { return (fault & kStuckLow) ? g_min : 1.0; }

uint8_t worn_bits(const DevicePhysics& p) {
  return static_cast<uint8_t>(kWorn | (p.worn == WornMode::stuck_low ? kStuckLow : kStuckHigh));
}

// Position of g in the programmable range, 0 at g_min, 1 at g_max, clamped so that the
// interpolated nu and Ea never leave the interval spanned by their two configured values.
double range_fraction(double g, double g_min) {
  return std::min(std::max((g - g_min) / (1.0 - g_min), 0.0), 1.0);
}

// PCM/RRAM conductance activation energy (eV) of a cell at normalized g: ea_min at g_min, ea_max
// at g_max, linear in ln g between, constant outside.
double activation_ev(double g, double g_min, double ea_min, double ea_max) {
  if (g <= g_min) return ea_min;
  if (g >= 1.0) return ea_max;
  return ea_min + (ea_max - ea_min) * (std::log(g) - std::log(g_min)) / (0.0 - std::log(g_min));
}

void check_state(const char* who, const CellState& s) {
  const auto ok = [&](Eigen::Index r, Eigen::Index c) { return r == s.rows && c == s.cols; };
  if (s.rows < 0 || s.cols < 0 || !ok(s.g_pos.rows(), s.g_pos.cols()) ||
      !ok(s.g_neg.rows(), s.g_neg.cols()) || !ok(s.nu_pos.rows(), s.nu_pos.cols()) ||
      !ok(s.nu_neg.rows(), s.nu_neg.cols()) || !ok(s.cycles_pos.rows(), s.cycles_pos.cols()) ||
      !ok(s.cycles_neg.rows(), s.cycles_neg.cols()) ||
      !ok(s.fault_pos.rows(), s.fault_pos.cols()) || !ok(s.fault_neg.rows(), s.fault_neg.cols()) ||
      s.dead_col.size() != static_cast<size_t>(s.cols))
    throw std::invalid_argument(std::string(who) + ": cell state is not consistently sized " +
                                std::to_string(s.rows) + " x " + std::to_string(s.cols) +
                                " (construct it with CellState(rows, cols, phys))");
}

// The temperature transform at one die temperature, with its constants computed once.
//   flash     g_T = g_ref (g / g_ref)^(T_ref / T)          (exact inverse in closed form)
//   pcm/rram  g_T = g exp(-c Ea(g)),  c = (1/T - 1/T_ref) / k  [1/eV]
// Ea is constant below g_min and above g_max and linear in u = ln g between (activation_ev()), so
// on the middle segment ln g_T = u (1 - c b) - c (ea_min - b u_min), b = dEa/du: linear in u, with
// a closed-form inverse. validate() keeps 1 - c b > 0 over the whole temperature range, so the
// transform is monotonic (a hotter die never reorders two cells) and the inverse is unique.
class Thermal {
 public:
  Thermal(const DevicePhysics& p, double temp_c)
      : kind_(p.kind), identity_(p.kind == DeviceKind::ideal || temp_c == p.t_ref_c) {
    const double t_ref_k = kelvin(p.t_ref_c), t_k = kelvin(temp_c);
    g_ref_ = p.g_ref_ns / p.cell.g_max_ns;
    ratio_ = t_ref_k / t_k;
    c_ = (1.0 / t_k - 1.0 / t_ref_k) / kBoltzmannEvPerK;
    g_min_ = g_min_norm(p);
    ea_min_ = p.ea_at_gmin_ev;
    ea_max_ = p.ea_at_gmax_ev;
    u_min_ = g_min_ > 0 ? std::log(g_min_) : -700.0;
    slope_ = (ea_max_ - ea_min_) / (0.0 - u_min_);
  }

  bool identity() const { return identity_; }

  double forward(double g) const {
    if (identity_ || g <= 0) return identity_ ? g : std::max(g, 0.0);
    if (kind_ == DeviceKind::flash) return g_ref_ * std::exp(ratio_ * std::log(g / g_ref_));
    return g * std::exp(-c_ * ea(g));
  }

  double inverse(double g_t) const {
    if (identity_ || g_t <= 0) return identity_ ? g_t : std::max(g_t, 0.0);
    if (kind_ == DeviceKind::flash) return g_ref_ * std::exp(std::log(g_t / g_ref_) / ratio_);
    const double y = std::log(g_t);
    const double u = (y + c_ * (ea_min_ - slope_ * u_min_)) / (1.0 - c_ * slope_);
    if (u < u_min_) return g_t * std::exp(c_ * ea_min_);  // below g_min: Ea = ea_min
    if (u > 0.0) return g_t * std::exp(c_ * ea_max_);     // above g_max: Ea = ea_max
    return std::exp(u);
  }

 private:
  double ea(double g) const { return activation_ev(g, g_min_, ea_min_, ea_max_); }

  DeviceKind kind_;
  bool identity_;
  double g_ref_ = 1, ratio_ = 1, c_ = 0;
  double g_min_ = 0, ea_min_ = 0, ea_max_ = 0, u_min_ = 0, slope_ = 0;
};

}  // namespace

void validate(const DevicePhysics& p) {
  const DeviceSpec& c = p.cell;
  const auto finite = [](double v) { return std::isfinite(v); };
  if (p.kind != DeviceKind::ideal && p.kind != DeviceKind::flash && p.kind != DeviceKind::pcm &&
      p.kind != DeviceKind::rram)
    bad_field("kind", "must be ideal, flash, pcm or rram", static_cast<int>(p.kind));
  if (c.bits_per_cell < 1 || c.bits_per_cell > 15)
    bad_field("cell.bits_per_cell", "must be in [1, 15]", c.bits_per_cell);
  if (!(finite(c.g_max_ns) && c.g_max_ns > 0)) bad_field("cell.g_max_ns", "must be > 0", c.g_max_ns);
  if (!(c.g_min_ns >= 0 && c.g_min_ns < c.g_max_ns))
    bad_field("cell.g_min_ns", "must be in [0, g_max_ns)", c.g_min_ns);
  if (p.kind == DeviceKind::flash && !(c.g_min_ns > 0))
    bad_field("cell.g_min_ns", "must be > 0 for flash (its pulses and temperature law act on ln g)",
              c.g_min_ns);
  if (!(finite(c.read_noise_rel) && c.read_noise_rel >= 0))
    bad_field("cell.read_noise_rel", "must be >= 0", c.read_noise_rel);
  if (c.ideal != (p.kind == DeviceKind::ideal))
    bad_field("cell.ideal", "must be true exactly when kind is ideal", c.ideal ? 1 : 0);
  if (c.pair != PairMode::unipolar && c.pair != PairMode::balanced)
    bad_field("cell.pair", "must be unipolar or balanced", static_cast<int>(c.pair));
  if (!(finite(p.t_ref_c) && p.t_ref_c > -kZeroCelsiusK))
    bad_field("t_ref_c", "must be above absolute zero (-273.15 C)", p.t_ref_c);
  if (!(finite(p.g_erased_ns) && p.g_erased_ns >= 0))
    bad_field("g_erased_ns", "must be >= 0", p.g_erased_ns);
  if (p.kind == DeviceKind::flash && !(p.g_erased_ns >= c.g_max_ns))
    bad_field("g_erased_ns",
              "must be >= cell.g_max_ns for flash (erase is the high state; pulses only lower g)",
              p.g_erased_ns);
  if (!(p.endurance_cycles >= 1))
    bad_field("endurance_cycles", "must be >= 1 (inf for no wear-out)", p.endurance_cycles);
  if (p.worn != WornMode::stuck_low && p.worn != WornMode::stuck_high)
    bad_field("worn", "must be stuck_low or stuck_high", static_cast<int>(p.worn));
  if (p.kind != DeviceKind::ideal) {
    if (!(p.pulse_gain > 0 && p.pulse_gain <= 1))
      bad_field("pulse_gain", "must be in (0, 1]", p.pulse_gain);
    if (!(finite(p.pulse_noise) && p.pulse_noise >= 0))
      bad_field("pulse_noise", "must be >= 0", p.pulse_noise);
  }
  if (p.kind == DeviceKind::flash) {
    if (!(finite(p.slope_factor) && p.slope_factor > 0))
      bad_field("slope_factor", "must be > 0", p.slope_factor);
    if (!(finite(p.g_ref_ns) && p.g_ref_ns > 0)) bad_field("g_ref_ns", "must be > 0", p.g_ref_ns);
    if (!(finite(p.retention_mv_per_decade) && p.retention_mv_per_decade >= 0))
      bad_field("retention_mv_per_decade", "must be >= 0", p.retention_mv_per_decade);
    if (!(finite(p.retention_ea_ev) && p.retention_ea_ev >= 0))
      bad_field("retention_ea_ev", "must be >= 0", p.retention_ea_ev);
  }
  if (p.kind == DeviceKind::pcm || p.kind == DeviceKind::rram) {
    if (!(finite(p.drift_t0_s) && p.drift_t0_s > 0))
      bad_field("drift_t0_s", "must be > 0", p.drift_t0_s);
    if (!finite(p.nu_at_gmax)) bad_field("nu_at_gmax", "must be finite", p.nu_at_gmax);
    if (!finite(p.nu_at_gmin)) bad_field("nu_at_gmin", "must be finite", p.nu_at_gmin);
    if (!(finite(p.nu_sigma_at_gmax) && p.nu_sigma_at_gmax >= 0))
      bad_field("nu_sigma_at_gmax", "must be >= 0", p.nu_sigma_at_gmax);
    if (!(finite(p.nu_sigma_at_gmin) && p.nu_sigma_at_gmin >= 0))
      bad_field("nu_sigma_at_gmin", "must be >= 0", p.nu_sigma_at_gmin);
    if (!finite(p.ea_at_gmax_ev)) bad_field("ea_at_gmax_ev", "must be finite", p.ea_at_gmax_ev);
    if (!finite(p.ea_at_gmin_ev)) bad_field("ea_at_gmin_ev", "must be finite", p.ea_at_gmin_ev);
    if (!(c.g_min_ns > 0))
      bad_field("cell.g_min_ns", "must be > 0 for pcm and rram (their temperature law acts on ln g)",
                c.g_min_ns);
    // Monotonic temperature law from -55 to 150 C: 1 - c dEa/dln g > 0 at both ends.
    const double slope = (p.ea_at_gmax_ev - p.ea_at_gmin_ev) / std::log(c.g_max_ns / c.g_min_ns);
    for (double t_c : {-55.0, 150.0}) {
      const double cc = (1.0 / kelvin(t_c) - 1.0 / kelvin(p.t_ref_c)) / kBoltzmannEvPerK;
      if (!(1.0 - cc * slope > 0))
        bad_field("ea_at_gmin_ev",
                  "differs too much from ea_at_gmax_ev: the temperature law would reorder cells "
                  "between -55 and 150 C (need |ea_at_gmax_ev - ea_at_gmin_ev| < ln(g_max/g_min) "
                  "/ |1/T - 1/T_ref| * k)",
                  p.ea_at_gmin_ev);
    }
  }
}

CellState::CellState(int rows_, int cols_, const DevicePhysics& phys) : rows(rows_), cols(cols_) {
  if (rows_ < 0 || cols_ < 0)
    throw std::invalid_argument("CellState: size must be non-negative, got " +
                                std::to_string(rows_) + " x " + std::to_string(cols_));
  validate(phys);
  const float g_erased = static_cast<float>(phys.g_erased_ns / phys.cell.g_max_ns);
  g_pos = Eigen::MatrixXf::Constant(rows_, cols_, g_erased);
  g_neg = g_pos;
  nu_pos = Eigen::MatrixXf::Zero(rows_, cols_);
  nu_neg = nu_pos;
  cycles_pos.setZero(rows_, cols_);
  cycles_neg.setZero(rows_, cols_);
  fault_pos.setZero(rows_, cols_);
  fault_neg.setZero(rows_, cols_);
  dead_col.assign(static_cast<size_t>(cols_), 0);
}

long CellState::worn_cells() const {
  long n = 0;
  for (Eigen::Index k = 0; k < fault_pos.size(); ++k) n += (fault_pos.data()[k] & kWorn) ? 1 : 0;
  for (Eigen::Index k = 0; k < fault_neg.size(); ++k) n += (fault_neg.data()[k] & kWorn) ? 1 : 0;
  return n;
}

uint32_t CellState::max_cycles() const {
  uint32_t m = 0;
  if (cycles_pos.size() > 0) m = std::max(m, cycles_pos.maxCoeff());
  if (cycles_neg.size() > 0) m = std::max(m, cycles_neg.maxCoeff());
  return m;
}

void inject_faults(CellState& state, const FaultRates& rates, Rng& rng) {
  check_state("inject_faults", state);
  const auto rate_ok = [](double r) { return r >= 0 && r <= 1; };
  if (!rate_ok(rates.stuck_low) || !rate_ok(rates.stuck_high) || !rate_ok(rates.dead_column) ||
      !(rates.stuck_low + rates.stuck_high <= 1))
    throw std::invalid_argument("inject_faults: rates must be in [0, 1] with stuck_low + stuck_high"
                                " <= 1, got stuck_low " + fmt(rates.stuck_low) + ", stuck_high " +
                                fmt(rates.stuck_high) + ", dead_column " + fmt(rates.dead_column));
  // A cell already stuck keeps what it has (one stuck bit per cell); the draw is made anyway so
  // the sequence does not depend on earlier faults.
  const auto draw = [&](Eigen::Matrix<uint8_t, Eigen::Dynamic, Eigen::Dynamic>& fault) {
    for (int r = 0; r < state.rows; ++r)
      for (int c = 0; c < state.cols; ++c) {
        const double u = rng.uniform();
        uint8_t& f = fault(r, c);
        if (is_stuck(f)) continue;
        if (u < rates.stuck_low)
          f |= kStuckLow;
        else if (u < rates.stuck_low + rates.stuck_high)
          f |= kStuckHigh;
      }
  };
  draw(state.fault_pos);
  draw(state.fault_neg);
  for (int c = 0; c < state.cols; ++c)
    if (rng.uniform() < rates.dead_column) state.dead_col[static_cast<size_t>(c)] = 1;
}

std::pair<double, double> pair_targets(const DeviceSpec& spec, int level) {
  const double step = level_step(spec);  // checks bits_per_cell and g_max_ns
  const int max_level = (1 << spec.bits_per_cell) - 1;
  if (level < -max_level || level > max_level)
    throw std::invalid_argument("pair_targets: level " + std::to_string(level) + " outside [" +
                                std::to_string(-max_level) + ", " + std::to_string(max_level) +
                                "]");
  const double g0 = spec.g_min_ns / spec.g_max_ns;
  if (spec.pair == PairMode::balanced) {
    // g_mid = (G(0) + G(L-1)) / 2 = G(0) + (L-1) step / 2.
    const double g_mid = g0 + 0.5 * max_level * step;
    const double half = 0.5 * level * step;
    return {g_mid + half, g_mid - half};
  }
  // Written exactly as Crossbar::program_levels always computed G(k), so unipolar targets are
  // bit-identical to the ones before pair modes existed.
  return {g0 + (level > 0 ? level : 0) * step, g0 + (level < 0 ? -level : 0) * step};
}

long erase_rows(CellState& state, const DevicePhysics& phys, int row0, int row1) {
  validate(phys);
  check_state("erase_rows", state);
  if (row0 < 0 || row1 < row0 || row1 > state.rows)
    throw std::invalid_argument("erase_rows: rows [" + std::to_string(row0) + ", " +
                                std::to_string(row1) + ") not inside [0, " +
                                std::to_string(state.rows) + ")");
  const float g_erased = static_cast<float>(phys.g_erased_ns / phys.cell.g_max_ns);
  const bool counts = phys.kind == DeviceKind::flash;
  const uint8_t worn = worn_bits(phys);
  const auto erase = [&](Eigen::MatrixXf& g, Eigen::MatrixXf& nu,
                         Eigen::Matrix<uint32_t, Eigen::Dynamic, Eigen::Dynamic>& cycles,
                         Eigen::Matrix<uint8_t, Eigen::Dynamic, Eigen::Dynamic>& fault) {
    for (int c = 0; c < state.cols; ++c)
      for (int r = row0; r < row1; ++r) {
        uint8_t& f = fault(r, c);
        if (!is_stuck(f)) g(r, c) = g_erased;
        nu(r, c) = 0.0f;
        if (!counts) continue;
        uint32_t& n = cycles(r, c);
        if (n < std::numeric_limits<uint32_t>::max()) ++n;
        // A cell already stuck (manufacturing fault) keeps its stuck value and is not "worn".
        if (!is_stuck(f) && static_cast<double>(n) > phys.endurance_cycles) f |= worn;
      }
  };
  erase(state.g_pos, state.nu_pos, state.cycles_pos, state.fault_pos);
  erase(state.g_neg, state.nu_neg, state.cycles_neg, state.fault_neg);
  return 2L * (row1 - row0) * state.cols;
}

namespace {

// ---------------------------------------------------------------------------------------------
// program_verify's machinery. A group's cells are held as a structure of arrays: the "slots" are
// the group's cells in programming order (what stays constant while a cell is programmed, and its
// results); the "active" arrays hold the cells still being pulsed (slot, g, the reading to aim
// from), compacted in programming order after every round, so that each round runs over
// contiguous arrays with SIMD and without branches on the cells' outcomes. Flash takes no log per
// pulse (the readings' logs come from a table, the targets' from the level) and its exp is a
// float polynomial. See docs/device-physics.md ("Random draws") for the measured costs.

// Working arrays are padded to a multiple of kLanes cells; the padding holds harmless values
// (their results are never read), so the SIMD loops (up to 8 floats) need no remainder.
constexpr long kLanes = 8;
long padded(long n) { return (n + kLanes - 1) / kLanes * kLanes; }

// Standard normals for program_verify: per group of cells, one sequence, taken in order from
// blocks of kNormalBlock filled by LaneNormals::fill, the lanes seeded from the call's seed and the
// group's index (group_seed). A group's normals depend on nothing but those two, so groups could
// be programmed in any order, or at once, with the same bits.
uint64_t group_seed(uint64_t call_seed, long group) {
  uint64_t st = call_seed ^ (static_cast<uint64_t>(group) * 0xD1B54A32D192ED03ull);
  return splitmix64(st);
}

class NormalStream {
 public:
  explicit NormalStream(uint64_t call_seed) : call_seed_(call_seed) {}
  void start_group(long group) {
    lanes_.reseed(group_seed(call_seed_, group));
    used_ = kNormalBlock;
  }
  void take(float* out, size_t n) {
    while (n > 0) {
      if (used_ == kNormalBlock) {
        lanes_.fill(block_, static_cast<long>(kNormalBlock));
        used_ = 0;
      }
      const size_t k = std::min(n, kNormalBlock - used_);
      std::memcpy(out, block_ + used_, k * sizeof(float));
      used_ += k;
      out += k;
      n -= k;
    }
  }

 private:
  uint64_t call_seed_;
  LaneNormals lanes_;
  alignas(64) float block_[kNormalBlock];
  size_t used_ = kNormalBlock;
};

// Verify outcome bits of a round (pulse_and_verify).
constexpr int32_t kDone = 1;  // finished: converged, overshot (flash) or out of pulses
constexpr int32_t kConverged = 2;

// The verify read and the controller's verdict, constants of one call. The hot loops take it by
// value and keep local copies of their array pointers, so that the compiler holds both in
// registers (a store through uint8_t or double could otherwise alias them).
struct VerifyRule {
  double q_levels, inv_q, half_lsb, tol_rel, tol_gmax, read_noise;
  bool flash;

  // Converged when |measured - target| <= tol.
  double tol(double target) const {
    return std::max(std::max(tol_rel * target, tol_gmax), half_lsb);
  }
};

// A verify read of value v (at the die temperature, read noise applied) and the controller's
// verdict: clip, quantization to m = k / 2^verify_bits, and whether the cell is finished:
// converged, overshot, or `last` (out of pulses). Over range a read never passes. Overshoot is
// flash only: an erase is the only way to raise g again.
struct Reading {
  double m;
  int32_t k;
  bool over, conv, done;
};

Reading read_cell(double v, double t, const VerifyRule& rule, bool last) {
  const bool over = v > 1.0;
  const int32_t k = static_cast<int32_t>(std::min(std::max(v, 0.0), 1.0) * rule.q_levels + 0.5);
  const double m = static_cast<double>(k) * rule.inv_q;
  const double tol = rule.tol(t);
  const bool in_range = !over;
  const bool conv = in_range & (std::abs(m - t) <= tol);
  const bool overshoot = rule.flash & in_range & (m < t - tol);
  return {m, k, over, conv, conv || overshoot || last};
}

// exp in float: x = j ln2 + r with j = x log2(e) rounded to the nearest integer (adding 1.5 * 2^23
// rounds) and |r| <= ln2 / 2; ln 2 split Cody-Waite style into hi (16 significant bits, so j * hi
// is exact) + lo. exp(r) = 1 + r + r^2 (1/2! + r/3! + ... + r^5/7!), the Taylor series to degree
// 7 (truncation below 0.3466^8 / 8! = 5.2e-9, under float's 6e-8 ulp), evaluated in Estrin's order
// (a shorter dependency chain than Horner's); 2^j goes into the exponent bits. Float rounding
// keeps the error below 8.5e-8 relative (1.4 ulp; measured over [-87, 0]). x is clamped to
// [-87, 88], where the result is a normal float;
// program_verify's x are <= 0. exp_simd does the same operations on 4 or 8 floats, so both give
// the same bits.
constexpr float kExpLo = -87.0f, kExpHi = 88.0f, kLog2e = 1.44269504088896341f;
constexpr float kRoundMagic = 12582912.0f;  // 1.5 * 2^23
constexpr float kLn2Hi = 45426.0f / 65536.0f;                         // round(ln2 * 2^16) / 2^16
constexpr float kLn2Lo = float(0.69314718055994530942 - 45426.0 / 65536.0);  // the rest of ln 2
constexpr float kExpP0 = float(1.0 / 5040), kExpP1 = float(1.0 / 720), kExpP2 = float(1.0 / 120),
                kExpP3 = float(1.0 / 24), kExpP4 = float(1.0 / 6), kExpP5 = 0.5f;  // 1/7! .. 1/2!

[[maybe_unused]] float exp_scalar(float x) {
  x = std::min(std::max(x, kExpLo), kExpHi);
  const float j = (x * kLog2e + kRoundMagic) - kRoundMagic;
  float r = x - j * kLn2Hi;
  r = r - j * kLn2Lo;
  const float r2 = r * r;
  const float a = kExpP0 * r + kExpP1, b = kExpP2 * r + kExpP3, c = kExpP4 * r + kExpP5;
  const float y = ((a * r2 + b) * r2 + c) * r2 + r + 1.0f;
  const int32_t scale_bits = (static_cast<int32_t>(j) + 127) * (1 << 23);
  float scale;
  std::memcpy(&scale, &scale_bits, sizeof scale);
  return y * scale;
}

// One round's arrays. The active cells' are compacted in programming order and padded to kLanes
// (the padding: slot 0, harmless values); what stays constant while a cell is programmed is read
// through its slot, so that the compaction moves less.
struct RoundArrays {
  const uint32_t* slot;  // the active cell's slot in the group
  const double* from;    // the reading its pulse aims from (flash: its ln)
  const float* z;        // per cell its pulse normal, then its read normal (0 without that noise):
                         //   the order they are drawn in
  double* g;             // true g at the die temperature (frozen cell: what it reads); updated
  // Per slot.
  const double* target;
  const double* ln_target;        // flash
  const double* ln_one_plus_tol;  // flash
  const uint8_t* frozen;          // pulses do not move the cell
  // Out, per active cell.
  double* aimed;      // the aimed step (flash: in ln g)
  float* factor;      // flash scratch: exp of the achieved step
  double* m;          // the verify reading
  double* from_next;  // the reading the next pulse aims from (flash: its ln)
  int32_t* flags;     // kDone, kConverged
};

struct RoundConstants {
  VerifyRule rule;
  double gain, pulse_noise, upper;  // upper: pcm/rram ceiling at the die temperature
  const double* ln_reading;         // flash: ln(k / 2^verify_bits) by k, or null (computed)
  bool last;                        // this round's pulse is the last allowed
  bool any_frozen;                  // some cell of the group is frozen
};

// One round of cells [0, np) (np a multiple of kLanes): every cell takes one pulse and one verify
// read (the verdict as in read_cell), and gets the reading its next pulse will aim from:
//   flash     aimed = gain ln(from / target) (ln of the reading minus ln of the target);
//             g *= exp(-aimed max(0, 1 + pulse_noise z)), the exp in float. Next: the ln of the
//             reading; over range the controller's estimate ln from - aimed, at least ln(1 + tol).
//   pcm/rram  aimed = gain (target - from); g = clamp(g + aimed + pulse_noise z, 0, upper). Next:
//             the reading; over range the estimate from + aimed, at least 1 + tol.
// Frozen cells keep g. Two passes for flash (the pulses with their exp, then the reads): one
// pass would chain ~60 dependent operations per cell, more than the CPU can overlap.
// This is the reference version; pulse_and_verify_simd does the same operations in the same
// order, so all give the same bits.
template <bool kFlash>
void pulse_and_verify_scalar(long np, const RoundArrays& io, const RoundConstants& rc) {
  const VerifyRule rule = rc.rule;
  if (kFlash) {
    const float noise_f = static_cast<float>(rc.pulse_noise);
    for (long a = 0; a < np; ++a) {
      io.aimed[a] = rc.gain * (io.from[a] - io.ln_target[io.slot[a]]);
      io.factor[a] = exp_scalar(-static_cast<float>(io.aimed[a]) *
                                std::max(1.0f + noise_f * io.z[2 * a], 0.0f));
    }
  }
  for (long a = 0; a < np; ++a) {
    const uint32_t i = io.slot[a];
    const double t = io.target[i];
    double g = io.g[a];
    if (kFlash) {
      if (!io.frozen[i]) g *= static_cast<double>(io.factor[a]);
    } else {
      io.aimed[a] = rc.gain * (t - io.from[a]);
      const double moved = std::min(
          std::max(g + io.aimed[a] + rc.pulse_noise * static_cast<double>(io.z[2 * a]), 0.0),
          rc.upper);
      if (!io.frozen[i]) g = moved;
    }
    io.g[a] = g;
    const Reading rd = read_cell(g * (1.0 + rule.read_noise * static_cast<double>(io.z[2 * a + 1])),
                                 t, rule, rc.last);
    io.m[a] = rd.m;
    io.flags[a] = (rd.done ? kDone : 0) | (rd.conv ? kConverged : 0);
    if (kFlash)
      io.from_next[a] = rd.over ? std::max(io.from[a] - io.aimed[a], io.ln_one_plus_tol[i])
                                : rc.ln_reading ? rc.ln_reading[rd.k] : std::log(rd.m);
    else
      io.from_next[a] = rd.over ? std::max(io.from[a] + io.aimed[a], 1.0 + rule.tol(t)) : rd.m;
  }
}

#if defined(__SSE2__)
// The SIMD versions of pulse_and_verify_scalar: one body (pulse_and_verify_simd), two backends
// with the same operations on W doubles or 2W floats per register. Sse2 is the x86-64 baseline;
// Avx2 (4 doubles) is compiled for that target alone (the global flags stay SSE2) and chosen at
// run time when the CPU has it. Neither uses FMA, and every lane takes the same IEEE operations
// in the same order as the scalar version, so all three give the same bits. min(x, c) / max(x, c)
// return c only when x > c / x < c, as std::min / std::max do for the (never NaN) values here;
// selects are and / andnot / or on compare masks.
struct Sse2 {
  static constexpr long kW = 2;  // doubles per register; the float registers hold 2 kW
  using D = __m128d;
  using F = __m128;
  using K = __m128i;  // kW int32 in the low half

  static D set(double v) { return _mm_set1_pd(v); }
  static D load(const double* p) { return _mm_loadu_pd(p); }
  static void store(double* p, D v) { _mm_storeu_pd(p, v); }
  static D add(D a, D b) { return _mm_add_pd(a, b); }
  static D sub(D a, D b) { return _mm_sub_pd(a, b); }
  static D mul(D a, D b) { return _mm_mul_pd(a, b); }
  static D max(D a, D b) { return _mm_max_pd(a, b); }
  static D min(D a, D b) { return _mm_min_pd(a, b); }
  static D gt(D a, D b) { return _mm_cmpgt_pd(a, b); }
  static D le(D a, D b) { return _mm_cmple_pd(a, b); }
  static D lt(D a, D b) { return _mm_cmplt_pd(a, b); }
  static D and_not(D mask, D b) { return _mm_andnot_pd(mask, b); }  // ~mask & b
  static D bit_or(D a, D b) { return _mm_or_pd(a, b); }
  static D select(D mask, D a, D b) {
    return _mm_or_pd(_mm_and_pd(mask, a), _mm_andnot_pd(mask, b));
  }
  static D all_ones() { return _mm_castsi128_pd(_mm_set1_epi32(-1)); }
  static D by_slot(const double* base, const uint32_t* slot) {
    return _mm_set_pd(base[slot[1]], base[slot[0]]);
  }
  static D mask_by_slot(const uint8_t* flag, const uint32_t* slot) {  // all ones where flag != 0
    return _mm_castsi128_pd(_mm_set_epi64x(-static_cast<int64_t>(flag[slot[1]] != 0),
                                           -static_cast<int64_t>(flag[slot[0]] != 0)));
  }
  static K trunc(D v) { return _mm_cvttpd_epi32(v); }
  static D to_double(K k) { return _mm_cvtepi32_pd(k); }
  static D by_k(const double* table, K k) {
    return _mm_set_pd(table[_mm_cvtsi128_si32(_mm_shuffle_epi32(k, 1))],
                      table[_mm_cvtsi128_si32(k)]);
  }
  // flags[j] = (done_j ? kDone : 0) | (conv_j ? kConverged : 0).
  static void store_flags(int32_t* flags, D done, D conv) {
    const __m128i f =
        _mm_or_si128(_mm_and_si128(_mm_castpd_si128(done), _mm_set1_epi64x(kDone)),
                     _mm_and_si128(_mm_castpd_si128(conv), _mm_set1_epi64x(kConverged)));
    _mm_storel_epi64(reinterpret_cast<__m128i*>(flags),
                     _mm_shuffle_epi32(f, _MM_SHUFFLE(2, 0, 2, 0)));
  }

  static F fset(float v) { return _mm_set1_ps(v); }
  static void fstore(float* p, F v) { _mm_storeu_ps(p, v); }
  static F fadd(F a, F b) { return _mm_add_ps(a, b); }
  static F fsub(F a, F b) { return _mm_sub_ps(a, b); }
  static F fmul(F a, F b) { return _mm_mul_ps(a, b); }
  static F fmax(F a, F b) { return _mm_max_ps(a, b); }
  static F fmin(F a, F b) { return _mm_min_ps(a, b); }
  static F fneg(F a) { return _mm_xor_ps(a, _mm_set1_ps(-0.0f)); }
  // 2^j for integral j in [-126, 127]: j + 127 into the exponent bits.
  static F pow2(F j) {
    const __m128i biased = _mm_add_epi32(_mm_cvttps_epi32(j), _mm_set1_epi32(127));
    return _mm_castsi128_ps(_mm_slli_epi32(biased, 23));
  }
  static F narrow(D lo, D hi) { return _mm_movelh_ps(_mm_cvtpd_ps(lo), _mm_cvtpd_ps(hi)); }
  // z holds (pulse, read) normal pairs: the pulse normals of 2 kW cells as floats, those of kW
  // cells as doubles, the read normals of kW cells as doubles.
  static F pulse_normals_f(const float* z) {
    return _mm_shuffle_ps(_mm_loadu_ps(z), _mm_loadu_ps(z + 4), _MM_SHUFFLE(2, 0, 2, 0));
  }
  static D pulse_normals(const float* z) {
    const __m128 v = _mm_loadu_ps(z);
    return _mm_cvtps_pd(_mm_shuffle_ps(v, v, _MM_SHUFFLE(2, 0, 2, 0)));
  }
  static D read_normals(const float* z) {
    const __m128 v = _mm_loadu_ps(z);
    return _mm_cvtps_pd(_mm_shuffle_ps(v, v, _MM_SHUFFLE(3, 1, 3, 1)));
  }
  static D floats(const float* p) {  // kW floats as doubles
    return _mm_cvtps_pd(_mm_castpd_ps(_mm_load_sd(reinterpret_cast<const double*>(p))));
  }
};

#if defined(AIMC_PROGRAM_VERIFY_AVX2)
#pragma GCC push_options
#pragma GCC target("avx2")
struct Avx2 {
  static constexpr long kW = 4;
  using D = __m256d;
  using F = __m256;
  using K = __m128i;

  static D set(double v) { return _mm256_set1_pd(v); }
  static D load(const double* p) { return _mm256_loadu_pd(p); }
  static void store(double* p, D v) { _mm256_storeu_pd(p, v); }
  static D add(D a, D b) { return _mm256_add_pd(a, b); }
  static D sub(D a, D b) { return _mm256_sub_pd(a, b); }
  static D mul(D a, D b) { return _mm256_mul_pd(a, b); }
  static D max(D a, D b) { return _mm256_max_pd(a, b); }
  static D min(D a, D b) { return _mm256_min_pd(a, b); }
  static D gt(D a, D b) { return _mm256_cmp_pd(a, b, _CMP_GT_OS); }
  static D le(D a, D b) { return _mm256_cmp_pd(a, b, _CMP_LE_OS); }
  static D lt(D a, D b) { return _mm256_cmp_pd(a, b, _CMP_LT_OS); }
  static D and_not(D mask, D b) { return _mm256_andnot_pd(mask, b); }
  static D bit_or(D a, D b) { return _mm256_or_pd(a, b); }
  static D select(D mask, D a, D b) { return _mm256_blendv_pd(b, a, mask); }
  static D all_ones() { return _mm256_castsi256_pd(_mm256_set1_epi32(-1)); }
  static D by_slot(const double* base, const uint32_t* slot) {
    return _mm256_set_pd(base[slot[3]], base[slot[2]], base[slot[1]], base[slot[0]]);
  }
  static D mask_by_slot(const uint8_t* flag, const uint32_t* slot) {
    return _mm256_castsi256_pd(_mm256_set_epi64x(
        -static_cast<int64_t>(flag[slot[3]] != 0), -static_cast<int64_t>(flag[slot[2]] != 0),
        -static_cast<int64_t>(flag[slot[1]] != 0), -static_cast<int64_t>(flag[slot[0]] != 0)));
  }
  static K trunc(D v) { return _mm256_cvttpd_epi32(v); }
  static D to_double(K k) { return _mm256_cvtepi32_pd(k); }
  static D by_k(const double* table, K k) {
    return _mm256_set_pd(table[_mm_extract_epi32(k, 3)], table[_mm_extract_epi32(k, 2)],
                         table[_mm_extract_epi32(k, 1)], table[_mm_cvtsi128_si32(k)]);
  }
  static void store_flags(int32_t* flags, D done, D conv) {
    const __m256i f = _mm256_or_si256(
        _mm256_and_si256(_mm256_castpd_si256(done), _mm256_set1_epi64x(kDone)),
        _mm256_and_si256(_mm256_castpd_si256(conv), _mm256_set1_epi64x(kConverged)));
    const __m256i packed =
        _mm256_permutevar8x32_epi32(f, _mm256_setr_epi32(0, 2, 4, 6, 0, 2, 4, 6));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(flags), _mm256_castsi256_si128(packed));
  }

  static F fset(float v) { return _mm256_set1_ps(v); }
  static void fstore(float* p, F v) { _mm256_storeu_ps(p, v); }
  static F fadd(F a, F b) { return _mm256_add_ps(a, b); }
  static F fsub(F a, F b) { return _mm256_sub_ps(a, b); }
  static F fmul(F a, F b) { return _mm256_mul_ps(a, b); }
  static F fmax(F a, F b) { return _mm256_max_ps(a, b); }
  static F fmin(F a, F b) { return _mm256_min_ps(a, b); }
  static F fneg(F a) { return _mm256_xor_ps(a, _mm256_set1_ps(-0.0f)); }
  static F pow2(F j) {
    return _mm256_castsi256_ps(
        _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvttps_epi32(j), _mm256_set1_epi32(127)), 23));
  }
  static F narrow(D lo, D hi) {
    return _mm256_insertf128_ps(_mm256_castps128_ps256(_mm256_cvtpd_ps(lo)), _mm256_cvtpd_ps(hi),
                                1);
  }
  static F pulse_normals_f(const float* z) {
    const __m256i even = _mm256_setr_epi32(0, 2, 4, 6, 1, 3, 5, 7);
    const __m256 a = _mm256_permutevar8x32_ps(_mm256_loadu_ps(z), even);
    const __m256 b = _mm256_permutevar8x32_ps(_mm256_loadu_ps(z + 8), even);
    return _mm256_permute2f128_ps(a, b, 0x20);  // the low halves: a's evens, then b's
  }
  static D pulse_normals(const float* z) {
    const __m256i even = _mm256_setr_epi32(0, 2, 4, 6, 1, 3, 5, 7);
    const __m256 v = _mm256_permutevar8x32_ps(_mm256_loadu_ps(z), even);
    return _mm256_cvtps_pd(_mm256_castps256_ps128(v));
  }
  static D read_normals(const float* z) {
    const __m256i odd = _mm256_setr_epi32(1, 3, 5, 7, 0, 2, 4, 6);
    const __m256 v = _mm256_permutevar8x32_ps(_mm256_loadu_ps(z), odd);
    return _mm256_cvtps_pd(_mm256_castps256_ps128(v));
  }
  static D floats(const float* p) { return _mm256_cvtps_pd(_mm_loadu_ps(p)); }
};
#pragma GCC pop_options
#endif

// The body below is instantiated for Avx2 inside an AVX2 function only (it is always inlined);
// GCC still notes, for the template itself, that 32-byte vectors change the calling convention.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpsabi"

// exp_scalar on 2 kW floats, in place (no vector passed by value: see -Wpsabi above).
template <class B>
inline __attribute__((always_inline)) void exp_simd(typename B::F& x) {
  using F = typename B::F;
  x = B::fmin(B::fmax(x, B::fset(kExpLo)), B::fset(kExpHi));
  const F magic = B::fset(kRoundMagic);
  const F j = B::fsub(B::fadd(B::fmul(x, B::fset(kLog2e)), magic), magic);
  F r = B::fsub(x, B::fmul(j, B::fset(kLn2Hi)));
  r = B::fsub(r, B::fmul(j, B::fset(kLn2Lo)));
  const F r2 = B::fmul(r, r);
  const F a = B::fadd(B::fmul(B::fset(kExpP0), r), B::fset(kExpP1));
  const F b = B::fadd(B::fmul(B::fset(kExpP2), r), B::fset(kExpP3));
  const F c = B::fadd(B::fmul(B::fset(kExpP4), r), B::fset(kExpP5));
  const F p = B::fadd(B::fmul(B::fadd(B::fmul(a, r2), b), r2), c);
  const F y = B::fadd(B::fadd(B::fmul(p, r2), r), B::fset(1.0f));
  x = B::fmul(y, B::pow2(j));
}

template <class B, bool kFlash>
inline __attribute__((always_inline)) void pulse_and_verify_simd(long np, const RoundArrays& io_in,
                                                                 const RoundConstants& rc) {
  using D = typename B::D;
  using F = typename B::F;
  constexpr long kW = B::kW;
  const RoundArrays io = io_in;  // a local copy: its pointers need no reload after each store
  const VerifyRule rule = rc.rule;
  const D zero = B::set(0.0), one = B::set(1.0), half = B::set(0.5);
  const D gain = B::set(rc.gain), noise = B::set(rc.pulse_noise), upper = B::set(rc.upper);
  const D read_noise = B::set(rule.read_noise);
  const D q = B::set(rule.q_levels), inv_q = B::set(rule.inv_q);
  const D tol_rel = B::set(rule.tol_rel), tol_gmax = B::set(rule.tol_gmax);
  const D half_lsb = B::set(rule.half_lsb), sign = B::set(-0.0);
  const D last = rc.last ? B::all_ones() : zero;

  if (kFlash) {
    const F one_f = B::fset(1.0f), zero_f = B::fset(0.0f);
    const F noise_f = B::fset(static_cast<float>(rc.pulse_noise));
    for (long a = 0; a < np; a += 2 * kW) {
      const D aimed0 =
          B::mul(gain, B::sub(B::load(io.from + a), B::by_slot(io.ln_target, io.slot + a)));
      const D aimed1 = B::mul(
          gain, B::sub(B::load(io.from + a + kW), B::by_slot(io.ln_target, io.slot + a + kW)));
      B::store(io.aimed + a, aimed0);
      B::store(io.aimed + a + kW, aimed1);
      const F z = B::pulse_normals_f(io.z + 2 * a);
      const F s = B::fmax(B::fadd(one_f, B::fmul(noise_f, z)), zero_f);
      F x = B::fmul(B::fneg(B::narrow(aimed0, aimed1)), s);
      exp_simd<B>(x);
      B::fstore(io.factor + a, x);
    }
  }
  for (long a = 0; a < np; a += kW) {
    const uint32_t* const slot = io.slot + a;
    const D g = B::load(io.g + a);
    const D from = B::load(io.from + a);
    const D t = B::by_slot(io.target, slot);
    D moved, aimed;
    if (kFlash) {
      aimed = B::load(io.aimed + a);
      moved = B::mul(g, B::floats(io.factor + a));
    } else {
      aimed = B::mul(gain, B::sub(t, from));
      B::store(io.aimed + a, aimed);
      const D z = B::pulse_normals(io.z + 2 * a);
      moved = B::min(B::max(B::add(B::add(g, aimed), B::mul(noise, z)), zero), upper);
    }
    const D g_new = rc.any_frozen ? B::select(B::mask_by_slot(io.frozen, slot), g, moved) : moved;
    B::store(io.g + a, g_new);
    const D v = B::mul(g_new, B::add(one, B::mul(read_noise, B::read_normals(io.z + 2 * a))));
    const D over = B::gt(v, one);
    const typename B::K k = B::trunc(B::add(B::mul(B::min(B::max(v, zero), one), q), half));
    const D m = B::mul(B::to_double(k), inv_q);
    B::store(io.m + a, m);
    const D tol = B::max(B::max(B::mul(tol_rel, t), tol_gmax), half_lsb);
    const D conv = B::and_not(over, B::le(B::and_not(sign, B::sub(m, t)), tol));
    const D overshoot = kFlash ? B::and_not(over, B::lt(m, B::sub(t, tol))) : zero;
    B::store_flags(io.flags + a, B::bit_or(B::bit_or(conv, overshoot), last), conv);
    D read, est;
    if (kFlash) {
      if (rc.ln_reading) {
        read = B::by_k(rc.ln_reading, k);
      } else {
        alignas(32) double mm[kW];
        B::store(mm, m);
        for (long j = 0; j < kW; ++j) mm[j] = std::log(mm[j]);
        read = B::load(mm);
      }
      est = B::max(B::sub(from, aimed), B::by_slot(io.ln_one_plus_tol, slot));
    } else {
      read = m;
      est = B::max(B::add(from, aimed), B::add(one, tol));
    }
    B::store(io.from_next + a, B::select(over, est, read));
  }
}

#pragma GCC diagnostic pop

template <bool kFlash>
void pulse_and_verify_sse2(long np, const RoundArrays& io, const RoundConstants& rc) {
  pulse_and_verify_simd<Sse2, kFlash>(np, io, rc);
}

#if defined(AIMC_PROGRAM_VERIFY_AVX2)
template <bool kFlash>
__attribute__((target("avx2"))) void pulse_and_verify_avx2(long np, const RoundArrays& io,
                                                           const RoundConstants& rc) {
  pulse_and_verify_simd<Avx2, kFlash>(np, io, rc);
}
#endif
#endif

template <bool kFlash>
void pulse_and_verify(long np, const RoundArrays& io, const RoundConstants& rc) {
#if defined(AIMC_PROGRAM_VERIFY_AVX2)
  static const bool avx2 = __builtin_cpu_supports("avx2");
  if (avx2)
    pulse_and_verify_avx2<kFlash>(np, io, rc);
  else
    pulse_and_verify_sse2<kFlash>(np, io, rc);
#elif defined(__SSE2__)
  pulse_and_verify_sse2<kFlash>(np, io, rc);
#else
  pulse_and_verify_scalar<kFlash>(np, io, rc);
#endif
}

// The finished cells leave the active arrays (slot, g, from); the others are kept in order
// (stable compaction). A finished cell's results go to its slot. Cells before the first finished
// one stay where they are (in the first rounds, usually all of them). Returns how many are kept.
long keep_unfinished(long n, const int32_t* __restrict flags, uint16_t pulse,
                     uint32_t* __restrict slot, double* __restrict g, double* __restrict from,
                     double* __restrict g_final, uint16_t* __restrict pulses,
                     uint8_t* __restrict converged) {
  long kept = 0;
  while (kept < n && !(flags[kept] & kDone)) ++kept;
  for (long a = kept; a < n; ++a) {
    const uint32_t i = slot[a];
    const int32_t f = flags[a];
    g_final[i] = g[a];
    pulses[i] = pulse;
    converged[i] = static_cast<uint8_t>((f & kConverged) != 0);
    slot[kept] = i;
    g[kept] = g[a];
    from[kept] = from[a];
    kept += (f & kDone) ? 0 : 1;
  }
  return kept;
}

// A worker's sums over its groups (merged into the ProgramResult at the end).
struct Totals {
  long pulses = 0, unconverged = 0;
  std::vector<long> histogram;  // cells by pulses taken, 0 .. max_iterations
};

// The constants of one program_verify call, the group's working state and the rounds.
class Programmer {
 public:
  // n_cells: the call's cells (the working arrays and the table of readings are sized for it).
  Programmer(const DevicePhysics& p, const ProgramParams& params, long n_cells,
             NormalStream& normals)
      : phys_(p),
        normals_(normals),
        thermal_(p, params.temp_c),
        flash_(p.kind == DeviceKind::flash),
        drifting_(p.kind == DeviceKind::pcm || p.kind == DeviceKind::rram),
        g_min_(g_min_norm(p)),
        g_erased_(p.g_erased_ns / p.cell.g_max_ns),
        pulse_noise_(p.pulse_noise),
        gain_(p.pulse_gain),
        max_it_(params.max_iterations),
        worn_(worn_bits(p)),
        max_level_((1 << p.cell.bits_per_cell) - 1),
        levels_(2 * max_level_ + 1 <= kMaxCachedLevels ? static_cast<size_t>(2 * max_level_ + 1)
                                                       : 0) {
    const double q = std::ldexp(1.0, params.verify_bits);
    rule_ = VerifyRule{q,          1.0 / q,         0.5 / q, params.tol_rel, params.tol_gmax,
                       p.cell.read_noise_rel, flash_};
    // pcm/rram ceiling in the pulse (temperature) domain: a cell cannot conduct without bound.
    upper_t_ = thermal_.forward(std::max(static_cast<double>(kGCeiling), g_erased_));
    // Flash records: lowering ln g by dx at the programming temperature raises Vt by n kT/q dx.
    mv_per_ln_ = p.slope_factor * 1000.0 * kBoltzmannEvPerK * kelvin(params.temp_c);
    if (flash_) {
      ln_g_erased_ = std::log(g_erased_);
      // ln of every verify reading m = k / 2^verify_bits, so that a pulse takes no log. k = 0
      // (m = 0) never aims a pulse (a flash cell reading 0 is converged or overshot); its entry
      // is a finite stand-in. Above kMaxTableBits, or for fewer cells than entries, the log is
      // taken per pulse instead (the same values: the table holds std::log of the readings).
      if (params.verify_bits <= kMaxTableBits && (1L << params.verify_bits) <= n_cells) {
        const size_t n = (size_t{1} << params.verify_bits) + 1;
        ln_reading_.resize(n);
        ln_reading_[0] = std::log(0.5 * rule_.inv_q);
        for (size_t k = 1; k < n; ++k)
          ln_reading_[k] = std::log(static_cast<double>(k) * rule_.inv_q);
      }
    }
    const size_t cap = static_cast<size_t>(padded(std::min(n_cells, kGroupCells)));
    for (std::vector<double>* a : {&target_, &ln_target_, &ln_one_plus_tol_, &g_r_, &g_final_,
                                   &a_g_, &a_from_,
                                   &aimed_, &m_, &from_next_})
      a->assign(cap, 0.0);
    for (std::vector<float>* a : {&z_first_, &factor_}) a->assign(cap, 0.0f);
    z_.assign(2 * cap, 0.0f);
    for (std::vector<uint8_t>* a : {&fault_, &dead_, &frozen_, &converged_}) a->assign(cap, 0);
    cycles_.assign(cap, 0);
    pulses_.assign(cap, 0);
    a_slot_.assign(cap, 0);
    flags_.assign(cap, 0);
  }

  // Loads the group of `count` cells (even: whole pairs) from programming-order index `first`
  // on: targets from the pair levels, and the cells' state.
  void load_group(const CellState& s, const int16_t* levels, int cols_used, long first, long count,
                  CellRecord* records) {
    const long rows = s.rows;  // the state's matrices are column-major
    const float* const g_side[2] = {s.g_pos.data(), s.g_neg.data()};
    const uint8_t* const fault_side[2] = {s.fault_pos.data(), s.fault_neg.data()};
    const uint32_t* const cycles_side[2] = {s.cycles_pos.data(), s.cycles_neg.data()};
    double* const target = target_.data();
    double* const ln_target = ln_target_.data();
    double* const ln_one_plus_tol = ln_one_plus_tol_.data();
    double* const g_r = g_r_.data();
    uint8_t* const fault = fault_.data();
    uint8_t* const dead = dead_.data();
    uint8_t* const frozen = frozen_.data();
    uint8_t* const converged = converged_.data();
    uint32_t* const cycles = cycles_.data();
    uint16_t* const pulses = pulses_.data();
    int r = static_cast<int>(first / 2 / cols_used), c = static_cast<int>(first / 2 % cols_used);
    bool any_frozen = false;
    for (long k = 0; k < count; k += 2) {
      const Level& lv = level_entry(levels[static_cast<long>(r) * cols_used + c]);
      const long at = static_cast<long>(c) * rows + r;
      const bool dead_col = s.dead_col[static_cast<size_t>(c)] != 0;
      for (int side = 0; side < 2; ++side) {
        const long i = k + side;
        target[i] = lv.target[side];
        ln_target[i] = lv.ln_target[side];
        ln_one_plus_tol[i] = lv.ln_one_plus_tol[side];
        g_r[i] = g_side[side][at];
        fault[i] = fault_side[side][at];
        cycles[i] = cycles_side[side][at];
        dead[i] = dead_col;
        frozen[i] = dead_col || is_stuck(fault[i]);  // pulses cannot change the state
        any_frozen |= frozen[i] != 0;
        pulses[i] = 0;
        converged[i] = 0;
        if (records) {
          CellRecord& rec = records[i];
          rec.row = r;
          rec.col = c;
          rec.negative = side == 1;
          rec.target = static_cast<float>(lv.target[side]);
        }
      }
      if (++c == cols_used) {
        c = 0;
        ++r;
      }
    }
    any_frozen_ = any_frozen;
  }

  // Writes the group back to the state (pcm/rram: with each cell's drift exponent, from nu_z)
  // and its results to `res`, from programming-order index `first` on.
  void store_group(CellState& s, int cols_used, long first, long count, const float* nu_z,
                   CellRecord* records, ProgramResult& res, Totals& totals) const {
    const long rows = s.rows;
    float* const g_side[2] = {s.g_pos.data(), s.g_neg.data()};
    float* const nu_side[2] = {s.nu_pos.data(), s.nu_neg.data()};
    uint8_t* const fault_side[2] = {s.fault_pos.data(), s.fault_neg.data()};
    uint32_t* const cycles_side[2] = {s.cycles_pos.data(), s.cycles_neg.data()};
    uint16_t* const pulses_out = res.pulses_per_cell.data() + first;
    float* const error_out = res.error.data() + first;
    uint8_t* const converged_out = res.converged.data() + first;
    long* const histogram = totals.histogram.data();
    const bool ideal = phys_.kind == DeviceKind::ideal;
    long pulses_sum = 0, unconverged = 0;
    int r = static_cast<int>(first / 2 / cols_used), c = static_cast<int>(first / 2 % cols_used);
    for (long k = 0; k < count; k += 2) {
      const long at = static_cast<long>(c) * rows + r;
      for (int side = 0; side < 2; ++side) {
        const size_t i = static_cast<size_t>(k + side);
        float& g_cell = g_side[side][at];
        // Back to t_ref (the temperature law is monotonic, so the inverse is unique).
        if (!frozen_[i] && pulses_[i] > 0)
          g_cell = static_cast<float>(ideal ? g_final_[i] : thermal_.inverse(g_final_[i]));
        const uint8_t fault = fault_[i];
        fault_side[side][at] = fault;
        cycles_side[side][at] = cycles_[i];
        if (nu_z) {
          const double f = range_fraction(g_cell, g_min_);
          const double mu = phys_.nu_at_gmin + (phys_.nu_at_gmax - phys_.nu_at_gmin) * f;
          const double sd =
              phys_.nu_sigma_at_gmin + (phys_.nu_sigma_at_gmax - phys_.nu_sigma_at_gmin) * f;
          nu_side[side][at] =
              static_cast<float>(std::max(0.0, mu + sd * static_cast<double>(nu_z[i])));
        }
        // What a read at t_ref sees right after programming: faults override the state.
        const double programmed = dead_[i]           ? 0.0
                                  : is_stuck(fault) ? stuck_value(fault, g_min_)
                                                    : static_cast<double>(g_cell);
        const uint16_t pulses = pulses_[i];
        const bool converged = converged_[i] != 0;
        pulses_out[i] = pulses;
        error_out[i] = static_cast<float>(programmed - target_[i]);
        converged_out[i] = converged ? 1 : 0;
        pulses_sum += pulses;
        unconverged += converged ? 0 : 1;
        ++histogram[pulses];
        if (records) records[i].converged = converged;
      }
      if (++c == cols_used) {
        c = 0;
        ++r;
      }
    }
    totals.pulses += pulses_sum;
    totals.unconverged += unconverged;
  }

  // The ideal device: exact verify (no noise, no quantization), one exact pulse; no draws.
  void program_ideal(long count, CellRecord* records) {
    for (long k = 0; k < count; ++k) {
      const size_t i = static_cast<size_t>(k);
      CellRecord* rec = records ? &records[k] : nullptr;
      const float tf = static_cast<float>(target_[i]);
      double g = g_r_[i];
      const auto exact_read = [&] {
        return dead_[i] ? 0.0f
                        : is_stuck(fault_[i]) ? static_cast<float>(stuck_value(fault_[i], g_min_))
                                              : static_cast<float>(g);
      };
      float m = exact_read();
      if (rec) rec->verify.push_back(m);
      for (;;) {
        if (m == tf) {
          converged_[i] = 1;
          break;
        }
        if (pulses_[i] >= max_it_) break;
        ++pulses_[i];
        if (rec) rec->pulse.push_back(tf - m);
        if (!frozen_[i]) g = tf;
        m = exact_read();
        if (rec) rec->verify.push_back(m);
      }
      g_final_[i] = g;
    }
  }

  // flash, pcm, rram: the first verify read of every slot, in order; then rounds until every
  // cell is finished. `records` (or null) points at the group's first record.
  void program(long count, CellRecord* records) {
    // First read, and the cells it leaves unfinished become the active ones. The loop works at
    // the die temperature.
    if (rule_.read_noise > 0) normals_.take(z_first_.data(), static_cast<size_t>(count));
    const VerifyRule rule = rule_;
    const bool flash = flash_, last = max_it_ == 0;
    const double* const target = target_.data();
    const double* const ln_one_plus_tol = ln_one_plus_tol_.data();
    const double* const ln_reading = ln_reading_.empty() ? nullptr : ln_reading_.data();
    const float* const z = z_first_.data();
    double* const g_final = g_final_.data();
    uint8_t* const converged = converged_.data();
    uint32_t* const slot = a_slot_.data();
    double* const g = a_g_.data();
    double* const from = a_from_.data();
    const double ln_g_erased = ln_g_erased_, g_erased = g_erased_;
    long n = 0;
    for (long k = 0; k < count; ++k) {
      const size_t i = static_cast<size_t>(k);
      const double g_read = dead_[i]               ? 0.0
                            : is_stuck(fault_[i]) ? stuck_value(fault_[i], g_min_)
                                                  : thermal_.forward(g_r_[i]);
      g_final[i] = g_read;
      const double t = target[i];
      const Reading rd =
          read_cell(g_read * (1.0 + rule.read_noise * static_cast<double>(z[i])), t, rule, last);
      if (records) records[k].verify.push_back(static_cast<float>(rd.m));
      converged[i] = rd.conv ? 1 : 0;
      // Over range before any pulse: the controller assumes the erased state (at least 1 + tol).
      slot[n] = static_cast<uint32_t>(k);
      g[n] = g_read;
      if (flash)
        from[n] = rd.over      ? std::max(ln_g_erased, ln_one_plus_tol[i])
                  : ln_reading ? ln_reading[rd.k]
                               : std::log(rd.m);
      else
        from[n] = rd.over ? std::max(g_erased, 1.0 + rule.tol(t)) : rd.m;
      n += rd.done ? 0 : 1;
    }
    pad(n);
    for (uint16_t pulse = 1; n > 0; ++pulse) {
      if (drifting_ && pulse == 1) count_cycles(n);
      n = round(n, pulse, records);
    }
  }

 private:
  static constexpr int kMaxTableBits = 16;
  static constexpr int kMaxCachedLevels = 4095;

  struct Level {
    bool ready = false;
    double target[2] = {0, 0}, ln_target[2] = {0, 0}, ln_one_plus_tol[2] = {0, 0};
  };

  // The pair level's targets, cached on first use up to kMaxCachedLevels levels (above, computed
  // per cell: a block uses few of the 65535 levels of 15-bit cells).
  const Level& level_entry(int level) {
    const bool cached = !levels_.empty();
    Level& e = cached ? levels_[static_cast<size_t>(level + max_level_)] : scratch_level_;
    if (!e.ready) {
      const std::pair<double, double> t = pair_targets(phys_.cell, level);
      e.target[0] = t.first;
      e.target[1] = t.second;
      for (int side = 0; side < 2; ++side) {
        e.ln_target[side] = std::log(e.target[side]);
        e.ln_one_plus_tol[side] = std::log(1.0 + rule_.tol(e.target[side]));
      }
      e.ready = cached;
    }
    return e;
  }

  // Harmless (finite) values in the padding of the active arrays: slot 0's constants.
  void pad(long n) {
    for (long a = n; a < padded(n); ++a) {
      const size_t i = static_cast<size_t>(a);
      a_slot_[i] = 0;
      a_from_[i] = flash_ ? 0.0 : 1.0;
      a_g_[i] = 0.5;
    }
  }

  // pcm/rram, before the first pulse: one endurance cycle per programmed cell; the cell that
  // exceeds its endurance fails on this cycle, so this very pulse already finds it stuck.
  void count_cycles(long n) {
    for (long a = 0; a < n; ++a) {
      const size_t i = a_slot_[static_cast<size_t>(a)];
      if (cycles_[i] < std::numeric_limits<uint32_t>::max()) ++cycles_[i];
      if (!is_stuck(fault_[i]) && static_cast<double>(cycles_[i]) > phys_.endurance_cycles) {
        fault_[i] |= worn_;
        frozen_[i] = 1;
        any_frozen_ = true;
        a_g_[static_cast<size_t>(a)] = dead_[i] ? 0.0 : stuck_value(fault_[i], g_min_);
      }
    }
  }

  // The round's normals, in the documented order: per active cell, its pulse's, then its read's
  // (z_ keeps that layout; a noise that is off leaves its places at 0).
  void draw_round(long n) {
    const size_t un = static_cast<size_t>(n);
    const bool pulse_noise = pulse_noise_ > 0, read_noise = rule_.read_noise > 0;
    if (pulse_noise && read_noise) {
      normals_.take(z_.data(), 2 * un);
    } else if (pulse_noise || read_noise) {
      normals_.take(z_first_.data(), un);
      for (size_t a = 0; a < un; ++a) z_[2 * a + (pulse_noise ? 0 : 1)] = z_first_[a];
    }
  }

  // One round: every active cell takes one pulse and one verify read; finished cells leave the
  // active arrays (order kept). Returns the number of cells still active.
  long round(long n, uint16_t pulse, CellRecord* records) {
    const long np = padded(n);
    draw_round(n);
    const RoundArrays io{a_slot_.data(),     a_from_.data(),          z_.data(),
                         a_g_.data(),        target_.data(),          ln_target_.data(),
                         ln_one_plus_tol_.data(), frozen_.data(),     aimed_.data(),
                         factor_.data(),     m_.data(),               from_next_.data(),
                         flags_.data()};
    const RoundConstants rc{rule_,
                            gain_,
                            pulse_noise_,
                            upper_t_,
                            ln_reading_.empty() ? nullptr : ln_reading_.data(),
                            pulse >= max_it_,
                            any_frozen_};
    if (flash_)
      pulse_and_verify<true>(np, io, rc);
    else
      pulse_and_verify<false>(np, io, rc);
    if (records)
      for (long a = 0; a < n; ++a) {
        const size_t i = static_cast<size_t>(a);
        CellRecord& rec = records[a_slot_[i]];
        rec.pulse.push_back(static_cast<float>(flash_ ? aimed_[i] * mv_per_ln_ : aimed_[i]));
        rec.verify.push_back(static_cast<float>(m_[i]));
      }
    a_from_.swap(from_next_);  // the next pulses aim from the new readings
    const long kept = keep_unfinished(n, flags_.data(), pulse, a_slot_.data(), a_g_.data(),
                                      a_from_.data(), g_final_.data(), pulses_.data(),
                                      converged_.data());
    pad(kept);
    return kept;
  }

  const DevicePhysics& phys_;
  NormalStream& normals_;
  Thermal thermal_;
  bool flash_, drifting_;
  double g_min_, g_erased_, ln_g_erased_ = 0;
  double pulse_noise_, gain_;
  int max_it_;
  uint8_t worn_;
  int max_level_;
  VerifyRule rule_{};
  double upper_t_ = 0, mv_per_ln_ = 0;
  std::vector<Level> levels_;
  Level scratch_level_;
  std::vector<double> ln_reading_;
  // Slots (the group's cells in programming order).
  std::vector<double> target_, ln_target_, ln_one_plus_tol_;
  std::vector<double> g_r_;      // programmed state at t_ref, as loaded
  std::vector<double> g_final_;  // true g at the die temperature after the last pulse
  std::vector<uint8_t> fault_, dead_, frozen_, converged_;
  std::vector<uint32_t> cycles_;
  std::vector<uint16_t> pulses_;
  // Active cells (see RoundArrays).
  std::vector<uint32_t> a_slot_;
  std::vector<double> a_g_, a_from_;
  bool any_frozen_ = false;  // some cell of the group is frozen
  // Round scratch.
  std::vector<float> z_, z_first_, factor_;  // z_first_: the first reads' normals
  std::vector<double> aimed_, m_, from_next_;
  std::vector<int32_t> flags_;
};

}  // namespace

ProgramResult program_verify(CellState& state, const DevicePhysics& phys, const int16_t* levels,
                             int rows_used, int cols_used, const ProgramParams& params, Rng& rng) {
  // Everything is checked before anything changes (state and rng alike).
  validate(phys);
  check_state("program_verify", state);
  if (rows_used < 0 || cols_used < 0 || rows_used > state.rows || cols_used > state.cols)
    throw std::invalid_argument("program_verify: used block " + std::to_string(rows_used) + " x " +
                                std::to_string(cols_used) + " does not fit the " +
                                std::to_string(state.rows) + " x " + std::to_string(state.cols) +
                                " array");
  if (params.max_iterations < 0 || params.max_iterations > 65535)
    throw std::invalid_argument("program_verify: max_iterations must be in [0, 65535], got " +
                                std::to_string(params.max_iterations));
  if (!(std::isfinite(params.tol_rel) && params.tol_rel >= 0) ||
      !(std::isfinite(params.tol_gmax) && params.tol_gmax >= 0))
    throw std::invalid_argument("program_verify: tol_rel and tol_gmax must be >= 0, got " +
                                fmt(params.tol_rel) + " and " + fmt(params.tol_gmax));
  if (params.verify_bits < 1 || params.verify_bits > 30)
    throw std::invalid_argument("program_verify: verify_bits must be in [1, 30], got " +
                                std::to_string(params.verify_bits));
  check_temperature("program_verify", params.temp_c);
  if (params.threads < 1)
    throw std::invalid_argument("program_verify: threads must be >= 1, got " +
                                std::to_string(params.threads));
  const long n_pairs = static_cast<long>(rows_used) * cols_used;
  if (n_pairs > 0 && levels == nullptr)
    throw std::invalid_argument("program_verify: levels is null");
  const int max_level = (1 << phys.cell.bits_per_cell) - 1;
  for (int r = 0; r < rows_used; ++r)
    for (int c = 0; c < cols_used; ++c) {
      const int l = levels[static_cast<long>(r) * cols_used + c];
      if (l < -max_level || l > max_level)
        throw std::invalid_argument("program_verify: level " + std::to_string(l) + " at row " +
                                    std::to_string(r) + ", col " + std::to_string(c) +
                                    " outside [" + std::to_string(-max_level) + ", " +
                                    std::to_string(max_level) + "]");
    }

  const long n_cells = 2 * n_pairs;
  const bool ideal = phys.kind == DeviceKind::ideal;
  const bool drifting = phys.kind == DeviceKind::pcm || phys.kind == DeviceKind::rram;
  const int max_it = params.max_iterations;

  ProgramResult res;
  res.cells = n_cells;
  res.pulses_per_cell.resize(static_cast<size_t>(n_cells));
  res.error.resize(static_cast<size_t>(n_cells));
  res.converged.resize(static_cast<size_t>(n_cells));
  res.iteration_histogram.assign(static_cast<size_t>(max_it) + 1, 0);
  if (params.record) res.records.resize(static_cast<size_t>(n_cells));
  if (n_cells == 0) return res;

  // One draw from rng: the call's seed (the ideal device draws nothing).
  const uint64_t call_seed = ideal ? 0 : rng.next();
  // Groups [g0, g1) with their own working state; groups are independent (their normals come from
  // the call's seed and their index, their cells and results do not overlap).
  const auto run_groups = [&](long g0, long g1, Totals& totals) {
    NormalStream normals(call_seed);
    Programmer prog(phys, params, n_cells, normals);
    std::vector<float> nu_z(drifting ? static_cast<size_t>(kGroupCells) : 0);
    totals.histogram.assign(static_cast<size_t>(max_it) + 1, 0);
    for (long g = g0; g < g1; ++g) {
      const long first = g * kGroupCells;
      const long count = std::min<long>(kGroupCells, n_cells - first);
      CellRecord* group_records =
          params.record ? &res.records[static_cast<size_t>(first)] : nullptr;
      normals.start_group(g);
      prog.load_group(state, levels, cols_used, first, count, group_records);
      if (ideal)
        prog.program_ideal(count, group_records);
      else
        prog.program(count, group_records);
      // pcm/rram draw each cell's drift exponent now, in order.
      if (drifting) normals.take(nu_z.data(), static_cast<size_t>(count));
      prog.store_group(state, cols_used, first, count, drifting ? nu_z.data() : nullptr,
                       group_records, res, totals);
    }
  };
  // Host threads: contiguous ranges of groups, at least kMinGroupsPerThread each (a thread costs
  // tens of microseconds to start). The results do not depend on the number of threads.
  constexpr long kMinGroupsPerThread = 8;
  const long n_groups = (n_cells + kGroupCells - 1) / kGroupCells;
  const long workers =
      std::max(1L, std::min<long>(params.threads, n_groups / kMinGroupsPerThread));
  std::vector<Totals> totals(static_cast<size_t>(workers));
  std::vector<std::exception_ptr> failed(static_cast<size_t>(workers));
  const auto run_worker = [&](long w) {
    try {
      run_groups(n_groups * w / workers, n_groups * (w + 1) / workers, totals[static_cast<size_t>(w)]);
    } catch (...) {
      failed[static_cast<size_t>(w)] = std::current_exception();
    }
  };
  std::vector<std::thread> pool;
  for (long w = 1; w < workers; ++w) pool.emplace_back(run_worker, w);
  run_worker(0);
  for (std::thread& t : pool) t.join();
  for (const std::exception_ptr& e : failed)
    if (e) std::rethrow_exception(e);
  for (const Totals& t : totals) {
    res.pulses += t.pulses;
    res.unconverged += t.unconverged;
    for (size_t k = 0; k < t.histogram.size(); ++k) res.iteration_histogram[k] += t.histogram[k];
  }
  res.verify_reads = res.pulses + res.cells;
  return res;
}

void effective_conductances(const CellState& state, const DevicePhysics& phys, double age_s,
                            double temp_c, Eigen::MatrixXf& g_pos, Eigen::MatrixXf& g_neg) {
  validate(phys);
  check_state("effective_conductances", state);
  if (!(std::isfinite(age_s) && age_s >= 0))
    throw std::invalid_argument("effective_conductances: age_s must be >= 0, got " + fmt(age_s));
  check_temperature("effective_conductances", temp_c);

  const double g_min = g_min_norm(phys);
  const Thermal thermal(phys, temp_c);
  const double t_ref_k = kelvin(phys.t_ref_c);

  // Drift / charge loss, then temperature, on whole arrays (double for the exponentials).
  const auto transform = [&](const Eigen::MatrixXf& g_prog, const Eigen::MatrixXf& nu,
                             Eigen::MatrixXf& out) {
    if (phys.kind == DeviceKind::ideal) {
      out = g_prog;
      return;
    }
    Eigen::ArrayXXd g = g_prog.cast<double>().array();
    if (phys.kind == DeviceKind::flash) {
      // Both steps act on x = ln g (Vt is linear in it): one log and one exp per cell.
      const bool charge_loss = age_s > 0 && phys.retention_mv_per_decade > 0;
      if (!charge_loss && thermal.identity()) {
        out = g_prog;
        return;
      }
      Eigen::ArrayXXd x = g.log();
      if (charge_loss) {
        // Charge loss lowers Vt by dVt = R log10(1 + AF t) q; q: the cell's stored charge.
        const double af = std::exp(phys.retention_ea_ev / kBoltzmannEvPerK *
                                   (1.0 / t_ref_k - 1.0 / kelvin(temp_c)));
        const double dvt_full_mv = phys.retention_mv_per_decade * std::log10(1.0 + af * age_s);
        const double ln_erased = std::log(phys.g_erased_ns / phys.cell.g_max_ns);
        const double ln_span = ln_erased - std::log(g_min);
        const double vt_per_ln_mv = phys.slope_factor * 1000.0 * kBoltzmannEvPerK * t_ref_k;
        x += ((ln_erased - x) / ln_span).max(0.0).min(1.0) * (dvt_full_mv / vt_per_ln_mv);
      }
      if (!thermal.identity()) {
        // g_T = g_ref (g / g_ref)^(T_ref / T).
        const double ln_g_ref = std::log(phys.g_ref_ns / phys.cell.g_max_ns);
        x = ln_g_ref + (t_ref_k / kelvin(temp_c)) * (x - ln_g_ref);
      }
      g = x.exp();
    } else {  // pcm, rram
      if (age_s > phys.drift_t0_s) {
        const double ln_age = std::log(age_s / phys.drift_t0_s);
        g *= (nu.cast<double>().array() * -ln_age).exp();
      }
      if (!thermal.identity()) {
        const double c = (1.0 / kelvin(temp_c) - 1.0 / t_ref_k) / kBoltzmannEvPerK;
        const double ln_g_min = std::log(g_min);
        const Eigen::ArrayXXd frac =
            ((g.max(1e-300).log() - ln_g_min) / (0.0 - ln_g_min)).max(0.0).min(1.0);
        const Eigen::ArrayXXd ea = phys.ea_at_gmin_ev + (phys.ea_at_gmax_ev - phys.ea_at_gmin_ev) * frac;
        g *= (ea * -c).exp();
      }
    }
    out = g.cast<float>().matrix();
  };
  transform(state.g_pos, state.nu_pos, g_pos);
  transform(state.g_neg, state.nu_neg, g_neg);

  // Faults, then dead columns, override whatever the cell holds.
  const float g_min_f = static_cast<float>(g_min);
  const auto apply_faults = [&](const Eigen::Matrix<uint8_t, Eigen::Dynamic, Eigen::Dynamic>& fault,
                                Eigen::MatrixXf& out) {
    for (Eigen::Index k = 0; k < fault.size(); ++k) {
      const uint8_t f = fault.data()[k];
      if (is_stuck(f)) out.data()[k] = (f & kStuckLow) ? g_min_f : 1.0f;
    }
  };
  apply_faults(state.fault_pos, g_pos);
  apply_faults(state.fault_neg, g_neg);
  for (int c = 0; c < state.cols; ++c)
    if (state.dead_col[static_cast<size_t>(c)]) {
      g_pos.col(c).setZero();
      g_neg.col(c).setZero();
    }
}

double conductance_at_temperature(const DevicePhysics& phys, double g_ref_domain, double temp_c) {
  validate(phys);
  check_temperature("conductance_at_temperature", temp_c);
  return Thermal(phys, temp_c).forward(g_ref_domain);
}

double conductance_at_reference(const DevicePhysics& phys, double g_at_temp, double temp_c) {
  validate(phys);
  check_temperature("conductance_at_reference", temp_c);
  // Without a previous state to follow, the root nearest to g_at_temp (the smallest correction)
  // is the answer where the pcm/rram map is not monotonic; elsewhere the root is unique.
  return Thermal(phys, temp_c).inverse(g_at_temp);
}

double flash_vt_offset_mv(const DevicePhysics& phys, double g) {
  validate(phys);
  if (phys.kind != DeviceKind::flash)
    throw std::invalid_argument("flash_vt_offset_mv: the device is not flash");
  if (!(g > 0)) throw std::invalid_argument("flash_vt_offset_mv: g must be > 0, got " + fmt(g));
  const double kt_ref_mv = 1000.0 * kBoltzmannEvPerK * kelvin(phys.t_ref_c);
  return -phys.slope_factor * kt_ref_mv * std::log(g / (phys.g_ref_ns / phys.cell.g_max_ns));
}

}  // namespace aimc::num
