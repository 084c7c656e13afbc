// Device physics of the NVM cells: see device.h for the API and docs/device-physics.md for the
// formulas in prose.
//
// Random draw order (all from the Rng passed in; nothing else draws from it during the call):
//   inject_faults   one uniform() per cell, g+ row-major then g- row-major; then one uniform() per
//                   column (dead column). The draws are made whatever the rates are.
//   program_verify  standard normals taken in sequence from blocks of kNormalBlock produced by
//                   Rng::fill_normal_fast (the unused rest of the last block is discarded, so the
//                   generator ends up a whole number of blocks further on). The cells, in
//                   programming order (for r, for c, pos then neg), are programmed in groups of
//                   kGroupCells consecutive cells, one group after the other. Within a group:
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
#include <limits>
#include <sstream>
#include <stdexcept>
#include <string>

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

// Standard normals for program_verify, taken in order from blocks filled by
// Rng::fill_normal_fast (the ziggurat: millions of normals per tile, no log or sincos per draw).
class NormalSource {
 public:
  explicit NormalSource(Rng& rng) : rng_(rng) {}
  double next() {
    if (pos_ == kNormalBlock) {
      rng_.fill_normal_fast(buf_, kNormalBlock);
      pos_ = 0;
    }
    return buf_[pos_++];
  }

 private:
  Rng& rng_;
  float buf_[kNormalBlock];
  size_t pos_ = kNormalBlock;
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

// One cell's programming in flight (program_verify works on all cells of the block at once).
struct CellWork {
  double target = 0, tol = 0;
  double g_t = 0;       // true conductance at the die temperature
  double g_r = 0;       // programmed state at t_ref (before programming until the write-back)
  double m = 0;         // last verify read (quantized)
  double aim_from = 0;  // the reading the last pulse was aimed from, and its aimed step: the
  double aimed = 0;     //   controller's estimate of g when a later read is over range
  uint32_t cycles = 0;
  uint16_t pulses = 0;
  uint8_t fault = 0;
  bool dead = false, frozen = false, over = false, converged = false;
};

// The constants of one program_verify call.
struct Programmer {
  const DevicePhysics& phys;
  bool flash = false, drifting = false;
  double g_min = 0, g_erased = 0;
  double read_noise = 0, pulse_noise = 0, gain = 0;
  int max_it = 0;
  double q_levels = 0, inv_q = 0;
  uint8_t worn = 0;
  Thermal thermal;
  double upper_t = 0;
  double mv_per_ln = 0;
  NormalSource& normals;

  Programmer(const DevicePhysics& p, const ProgramParams& params, NormalSource& normal_source)
      : phys(p), thermal(p, params.temp_c), normals(normal_source) {
    flash = p.kind == DeviceKind::flash;
    drifting = p.kind == DeviceKind::pcm || p.kind == DeviceKind::rram;
    g_min = g_min_norm(p);
    g_erased = p.g_erased_ns / p.cell.g_max_ns;
    read_noise = p.cell.read_noise_rel;
    pulse_noise = p.pulse_noise;
    gain = p.pulse_gain;
    max_it = params.max_iterations;
    q_levels = std::ldexp(1.0, params.verify_bits);
    inv_q = 1.0 / q_levels;
    worn = worn_bits(p);
    // pcm/rram ceiling in the pulse (temperature) domain: a cell cannot conduct without bound.
    upper_t = thermal.forward(std::max(static_cast<double>(kGCeiling), g_erased));
    // Flash records: lowering ln g by dx at the programming temperature raises Vt by n kT/q dx.
    mv_per_ln = p.slope_factor * 1000.0 * kBoltzmannEvPerK * kelvin(params.temp_c);
  }

  // Verify read: what the cell shows at the die temperature, read noise, clip, quantization.
  void read(CellWork& w, CellRecord* rec) {
    double v = w.dead ? 0.0 : is_stuck(w.fault) ? stuck_value(w.fault, g_min) : w.g_t;
    if (read_noise > 0) v *= 1.0 + read_noise * normals.next();
    w.over = v > 1.0;
    v = std::min(std::max(v, 0.0), 1.0);
    w.m = std::floor(v * q_levels + 0.5) * inv_q;
    if (rec) rec->verify.push_back(static_cast<float>(w.m));
  }

  // After a read: true when the cell is finished (converged, overshot, or out of pulses).
  // Overshoot is flash only: an erase is the only way to raise g again.
  bool finished(CellWork& w) const {
    const bool in_range = !w.over;
    w.converged = in_range & (std::abs(w.m - w.target) <= w.tol);
    const bool overshoot = flash & in_range & (w.m < w.target - w.tol);
    return w.converged | overshoot | (w.pulses >= max_it);
  }

  // The reading the controller aims from. Over range it knows only that g > 1: it takes its own
  // estimate of where the last pulse was aimed to leave the cell (before any pulse: erased), but
  // at least 1 + tol, so that a target at full scale still gets a step.
  double aim_reading(const CellWork& w) const {
    if (!w.over) return w.m;
    double est = g_erased;
    if (w.pulses > 0) est = flash ? w.aim_from * std::exp(-w.aimed) : w.aim_from + w.aimed;
    return std::max(est, 1.0 + w.tol);
  }

  // One round: every active cell (indices into the group's work, in programming order) takes
  // one pulse and one verify read; finished cells leave `active` (order kept). The scalar passes
  // keep the draws in order (per cell: pulse, then read); the pulse and read arithmetic runs on
  // whole arrays, flash's log and exp in float (vectorized; float is the state's own precision).
  void round(std::vector<CellWork>& work, std::vector<uint32_t>& active, CellRecord* records) {
    const Eigen::Index n = static_cast<Eigen::Index>(active.size());
    if (from_.size() < n) resize_buffers(n);
    for (Eigen::Index k = 0; k < n; ++k) {
      CellWork& w = work[active[static_cast<size_t>(k)]];
      if (drifting && w.pulses == 0) {
        // One endurance cycle per programmed cell; the cell that exceeds its endurance fails on
        // this cycle, so this very pulse already finds it stuck.
        if (w.cycles < std::numeric_limits<uint32_t>::max()) ++w.cycles;
        if (!is_stuck(w.fault) && static_cast<double>(w.cycles) > phys.endurance_cycles) {
          w.fault |= worn;
          w.frozen = true;
        }
      }
      from_[k] = aim_reading(w);
      target_[k] = w.target;
      g_[k] = w.g_t;
      fixed_[k] = w.dead ? 0.0 : is_stuck(w.fault) ? stuck_value(w.fault, g_min) : -1.0;
      live_[k] = w.frozen ? 0.0 : 1.0;
      zp_[k] = pulse_noise > 0 ? static_cast<float>(normals.next()) : 0.0f;
      zr_[k] = read_noise > 0 ? static_cast<float>(normals.next()) : 0.0f;
    }

    const auto from = from_.head(n), target = target_.head(n), g = g_.head(n);
    const auto live = live_.head(n), fixed = fixed_.head(n);
    auto aimed = aimed_.head(n), g_new = g_new_.head(n), v = v_.head(n), m = m_.head(n);
    if (flash) {
      // Aimed: remove `gain` of the log-distance; achieved: aimed * max(0, 1 + noise z).
      // Pure float expressions between materialized buffers, so that Eigen vectorizes them.
      auto ratio_f = ratio_f_.head(n), aimed_f = aimed_f_.head(n), factor_f = factor_f_.head(n);
      ratio_f = (from / target).cast<float>();
      aimed_f = static_cast<float>(gain) * ratio_f.log();
      factor_f = (-aimed_f * (1.0f + static_cast<float>(pulse_noise) * zp_.head(n)).max(0.0f)).exp();
      g_new = (live > 0).select(g * factor_f.cast<double>(), g);
      aimed = aimed_f.cast<double>();
    } else {
      aimed = gain * (target - from);
      g_new = (live > 0)
                  .select((g + aimed + pulse_noise * zp_.head(n).cast<double>()).max(0.0).min(upper_t),
                          g);
    }
    v = (fixed >= 0).select(fixed, g_new) * (1.0 + read_noise * zr_.head(n).cast<double>());
    m = (v.max(0.0).min(1.0) * q_levels + 0.5).floor() * inv_q;

    size_t kept = 0;
    for (Eigen::Index k = 0; k < n; ++k) {
      const uint32_t i = active[static_cast<size_t>(k)];
      CellWork& w = work[i];
      ++w.pulses;
      w.aim_from = from[k];
      w.aimed = aimed[k];
      w.g_t = g_new[k];
      w.over = v[k] > 1.0;
      w.m = m[k];
      if (records) {
        CellRecord& rec = records[i];
        rec.pulse.push_back(static_cast<float>(flash ? aimed[k] * mv_per_ln : aimed[k]));
        rec.verify.push_back(static_cast<float>(m[k]));
      }
      // finished(), without branches: the outcome is hard to predict.
      active[kept] = i;
      kept += finished(w) ? 0 : 1;
    }
    active.resize(kept);
  }

 private:
  void resize_buffers(Eigen::Index n) {
    for (Eigen::ArrayXd* a : {&from_, &target_, &g_, &fixed_, &live_, &aimed_, &g_new_, &v_, &m_})
      a->resize(n);
    for (Eigen::ArrayXf* a : {&zp_, &zr_, &ratio_f_, &aimed_f_, &factor_f_}) a->resize(n);
  }

  Eigen::ArrayXd from_, target_, g_, fixed_, live_, aimed_, g_new_, v_, m_;
  Eigen::ArrayXf zp_, zr_, ratio_f_, aimed_f_, factor_f_;
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
  const double g_min = g_min_norm(phys);
  const double half_lsb = 0.5 * std::ldexp(1.0, -params.verify_bits);
  const int max_it = params.max_iterations;

  ProgramResult res;
  res.cells = n_cells;
  res.pulses_per_cell.resize(static_cast<size_t>(n_cells));
  res.error.resize(static_cast<size_t>(n_cells));
  res.converged.resize(static_cast<size_t>(n_cells));
  res.iteration_histogram.assign(static_cast<size_t>(max_it) + 1, 0);
  if (params.record) res.records.resize(static_cast<size_t>(n_cells));

  NormalSource normals(rng);
  Programmer prog(phys, params, normals);
  std::vector<CellWork> work(static_cast<size_t>(std::min<long>(n_cells, kGroupCells)));
  std::vector<uint32_t> active;
  active.reserve(work.size());

  // The cell of programming-order index idx: pair idx / 2 (row-major in the block), side idx % 2.
  const auto cell_of = [&](long idx, int& r, int& c, int& side) {
    const long pair = idx / 2;
    r = static_cast<int>(pair / cols_used);
    c = static_cast<int>(pair % cols_used);
    side = static_cast<int>(idx % 2);
  };

  for (long first = 0; first < n_cells; first += kGroupCells) {
    const long count = std::min<long>(kGroupCells, n_cells - first);
    const auto record_of = [&](long k) {
      return params.record ? &res.records[static_cast<size_t>(first + k)]
                           : static_cast<CellRecord*>(nullptr);
    };

    // Gather the group from the state.
    for (long k = 0; k < count; ++k) {
      int r, c, side;
      cell_of(first + k, r, c, side);
      CellWork& w = work[static_cast<size_t>(k)];
      w = CellWork{};
      const std::pair<double, double> targets =
          pair_targets(phys.cell, levels[static_cast<long>(r) * cols_used + c]);
      w.target = side == 0 ? targets.first : targets.second;
      w.tol = std::max({params.tol_rel * w.target, params.tol_gmax, half_lsb});
      w.g_r = side == 0 ? state.g_pos(r, c) : state.g_neg(r, c);
      w.fault = side == 0 ? state.fault_pos(r, c) : state.fault_neg(r, c);
      w.cycles = side == 0 ? state.cycles_pos(r, c) : state.cycles_neg(r, c);
      w.dead = state.dead_col[static_cast<size_t>(c)] != 0;
      w.frozen = w.dead || is_stuck(w.fault);  // pulses cannot change the state
      if (params.record) {
        CellRecord& rec = *record_of(k);
        rec.row = r;
        rec.col = c;
        rec.negative = side == 1;
        rec.target = static_cast<float>(w.target);
      }
    }

    if (ideal) {
      // Exact verify (no noise, no quantization), one exact pulse; no random draws.
      for (long k = 0; k < count; ++k) {
        CellWork& w = work[static_cast<size_t>(k)];
        CellRecord* rec = record_of(k);
        const float tf = static_cast<float>(w.target);
        const auto exact_read = [&] {
          return w.dead ? 0.0f
                        : is_stuck(w.fault) ? static_cast<float>(stuck_value(w.fault, g_min))
                                            : static_cast<float>(w.g_r);
        };
        float m = exact_read();
        if (rec) rec->verify.push_back(m);
        for (;;) {
          if (m == tf) {
            w.converged = true;
            break;
          }
          if (w.pulses >= max_it) break;
          ++w.pulses;
          if (rec) rec->pulse.push_back(tf - m);
          if (!w.frozen) w.g_r = tf;
          m = exact_read();
          if (rec) rec->verify.push_back(m);
        }
      }
    } else {
      // The first verify read of every cell of the group, in order; then rounds, as a
      // controller that pulses the group's unfinished cells in turn: in each round every
      // unfinished cell, in order, takes one pulse and one verify read. (Rounds also let the
      // CPU overlap the cells' dependency chains.)
      active.clear();
      for (long k = 0; k < count; ++k) {
        CellWork& w = work[static_cast<size_t>(k)];
        w.g_t = prog.thermal.forward(w.g_r);  // the loop works at the die temperature
        prog.read(w, record_of(k));
        if (!prog.finished(w)) active.push_back(static_cast<uint32_t>(k));
      }
      CellRecord* group_records = params.record ? &res.records[static_cast<size_t>(first)] : nullptr;
      while (!active.empty()) prog.round(work, active, group_records);
    }

    // Write the group back; pcm/rram draw each cell's drift exponent now, in order.
    for (long k = 0; k < count; ++k) {
      const long idx = first + k;
      int r, c, side;
      cell_of(idx, r, c, side);
      CellWork& w = work[static_cast<size_t>(k)];
      float& g_cell = side == 0 ? state.g_pos(r, c) : state.g_neg(r, c);
      if (!w.frozen && w.pulses > 0) {
        // Back to t_ref (the temperature law is monotonic, so the inverse is unique).
        if (!ideal) w.g_r = prog.thermal.inverse(w.g_t);
        g_cell = static_cast<float>(w.g_r);
      }
      (side == 0 ? state.fault_pos(r, c) : state.fault_neg(r, c)) = w.fault;
      (side == 0 ? state.cycles_pos(r, c) : state.cycles_neg(r, c)) = w.cycles;
      if (drifting) {
        const double f = range_fraction(g_cell, g_min);
        const double mu = phys.nu_at_gmin + (phys.nu_at_gmax - phys.nu_at_gmin) * f;
        const double sd =
            phys.nu_sigma_at_gmin + (phys.nu_sigma_at_gmax - phys.nu_sigma_at_gmin) * f;
        const float nu = static_cast<float>(std::max(0.0, mu + sd * normals.next()));
        (side == 0 ? state.nu_pos(r, c) : state.nu_neg(r, c)) = nu;
      }
      // What a read at t_ref sees right after programming: faults override the state.
      const double programmed = w.dead ? 0.0
                                : is_stuck(w.fault) ? stuck_value(w.fault, g_min)
                                                    : static_cast<double>(g_cell);
      const size_t i = static_cast<size_t>(idx);
      res.pulses_per_cell[i] = w.pulses;
      res.error[i] = static_cast<float>(programmed - w.target);
      res.converged[i] = w.converged ? 1 : 0;
      res.pulses += w.pulses;
      if (!w.converged) ++res.unconverged;
      ++res.iteration_histogram[w.pulses];
      if (params.record) res.records[i].converged = w.converged;
    }
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
