// Device physics of the NVM cells: see device.h for the API and docs/device-physics.md for the
// formulas in prose.
//
// Random draw order (all from the Rng passed in; nothing else draws from it during the call):
//   inject_faults   one uniform() per cell, g+ row-major then g- row-major; then one uniform() per
//                   column (dead column). The draws are made whatever the rates are.
//   program_verify  one draw (next()): the call's seed; the ideal device draws nothing. The
//                   used block is cut into groups (GroupGrid): blocks of kGroupRows rows (fewer if
//                   fewer are used) by as many columns as fill kGroupPairs pairs, row of blocks by
//                   row of blocks. A group's slots are its cells in programming order (row by row,
//                   pos then neg). Group k seeds two LaneNormals from group_seed(call seed, k)
//                   (generator_seed: the channels' and the extra one), so a group's draws do not
//                   depend on the other groups. Within a group:
//                     1. every slot's first verify read, in order: normals from the extra
//                        generator's fill(slots) if read_noise_rel > 0; the cells left unfinished
//                        form the queue, in order;
//                     2. kChannels channels (kVecs vectors of 16) hold one cell each, taken from
//                        the queue in order. Each step, for each vector in turn, the channels'
//                        generator steps once and channel l of the vector takes lane l's pair:
//                        z0 for its pulse, z1 for the verify read after it (drawn whatever the
//                        noises are; an idle channel draws too). A channel whose cell finished
//                        (converged, overshot or out of pulses) takes the next queued cell, in
//                        channel order. Steps go on until no channel holds a cell;
//                     3. pcm / rram only: the extra generator's fill(slots) gives each slot's
//                        drift exponent nu, in order.
//                   This is the order of a controller with kChannels pulse-and-verify circuits.
//                   Stuck cells and dead columns take the same draws as healthy ones (the
//                   controller cannot tell them apart). The group shape and kChannels are part of
//                   the sequence: changing them changes which normal a cell gets, not the
//                   statistics. The ideal device draws nothing.
#include "numerics/device.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <exception>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "numerics/lane_simd.h"  // LaneNormals' transform and, with AVX-512, its vector form

namespace aimc::num {

namespace {

// program_verify works on groups of at most kGroupPairs pairs: blocks of kGroupRows rows (fewer
// if fewer are used) by as many columns as fill the group, so that a group's state stays in cache
// while it is programmed and its columns' cells (column-major in CellState) are read and written
// a cache line at a time.
constexpr int kGroupRows = 16;
constexpr long kGroupPairs = 512;

// The groups' shape for a used block of rows x cols pairs (both > 0), and group g's block.
struct GroupGrid {
  int rows, cols;        // the used block
  int g_rows, g_cols;    // a group's rows and columns (the last ones may be cut short)
  long n_row_groups, n_col_groups;

  GroupGrid(int rows_used, int cols_used) : rows(rows_used), cols(cols_used) {
    g_rows = std::min(kGroupRows, rows);
    g_cols = static_cast<int>(std::min<long>(cols, kGroupPairs / g_rows));
    n_row_groups = (rows + g_rows - 1) / g_rows;
    n_col_groups = (cols + g_cols - 1) / g_cols;
  }
  long groups() const { return n_row_groups * n_col_groups; }
  // Rows [r0, r1) and columns [c0, c1) of group g (row of groups by row of groups).
  void block(long g, int& r0, int& r1, int& c0, int& c1) const {
    r0 = static_cast<int>(g / n_col_groups) * g_rows;
    c0 = static_cast<int>(g % n_col_groups) * g_cols;
    r1 = std::min(rows, r0 + g_rows);
    c1 = std::min(cols, c0 + g_cols);
  }
};

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
  // n > endurance_cycles (>= 1, validated) for an integer count n: n > floor(endurance), which
  // a count (at most 2^32 - 1) can exceed only below 2^32 - 1.
  const double endurance = std::floor(phys.endurance_cycles);
  const bool can_wear = endurance < 4294967295.0;
  const uint32_t limit = can_wear ? static_cast<uint32_t>(endurance) : 0u;
  const long len = row1 - row0;
  // Column by column (the matrices are column-major), without branches on the cells.
  const auto erase = [&](Eigen::MatrixXf& g, Eigen::MatrixXf& nu,
                         Eigen::Matrix<uint32_t, Eigen::Dynamic, Eigen::Dynamic>& cycles,
                         Eigen::Matrix<uint8_t, Eigen::Dynamic, Eigen::Dynamic>& fault) {
    for (int c = 0; c < state.cols; ++c) {
      const long at = static_cast<long>(c) * state.rows + row0;
      float* const gp = g.data() + at;
      uint8_t* const fp = fault.data() + at;
      std::fill(nu.data() + at, nu.data() + at + len, 0.0f);
      for (long r = 0; r < len; ++r) gp[r] = is_stuck(fp[r]) ? gp[r] : g_erased;
      if (!counts) continue;
      uint32_t* const cp = cycles.data() + at;
      for (long r = 0; r < len; ++r) {
        const uint32_t n = cp[r] + (cp[r] != std::numeric_limits<uint32_t>::max() ? 1u : 0u);
        cp[r] = n;
        // A cell already stuck (manufacturing fault) keeps its stuck value and is not "worn".
        const bool wears = can_wear && !is_stuck(fp[r]) && n > limit;
        fp[r] = static_cast<uint8_t>(fp[r] | (wears ? worn : 0));
      }
    }
  };
  erase(state.g_pos, state.nu_pos, state.cycles_pos, state.fault_pos);
  erase(state.g_neg, state.nu_neg, state.cycles_neg, state.fault_neg);
  return 2L * (row1 - row0) * state.cols;
}

namespace {

// ---------------------------------------------------------------------------------------------
// program_verify's machinery: the pulse channels. A group's cells (its "slots", in programming
// order) are programmed by kChannels channels, the controller's pulse-and-verify circuits: each
// holds one cell, pulses and verifies it once per step, and when the cell is finished logs it and
// takes the next unfinished cell of the group. The channels are held as kVecs vectors of 16
// (structure of arrays). The AVX-512 path steps a vector with one set of instructions (its
// normals: one step of the 16 lanes of the channels' LaneNormals), refills the finished channels
// with an expand from the queue of unfinished cells and logs them with a compress; the scalar
// path does the same channel by channel with the same IEEE operations, so both give the same
// bits. The arithmetic of a pulse and a verify read is float (the state keeps g as float; a
// verify of at most 24 bits is exact in float), 16 channels per register; no per-round
// compaction and no buffered normals. Flash takes no log per pulse (the readings' logs come from
// a table, the targets' from the level) and its exp is a float polynomial. See
// docs/device-physics.md ("Random draws").

constexpr int kWidth = LaneNormals::kLanes;  // channels per vector: 16
constexpr int kVecs = 2;                     // vectors
constexpr int kChannels = kWidth * kVecs;    // 32 channels
constexpr long kQueueSlack = kChannels + kWidth;  // idle entries after the queue's cells
constexpr long kLogSlack = kWidth;           // a compress stores kWidth entries, some past the end
constexpr int32_t kConvergedBit = 1 << 16;   // in a log entry: pulses | converged << 16

// A group's two LaneNormals: the channels' (lane l serves channel l of every vector: each step
// draws one pair per lane per vector, vector 0 first) and the extra one (the first verify reads,
// then the drift exponents). Their lanes are seeded as lanes 0-15 and 16-31 of one LaneNormals
// seeded with group_seed(call seed, group), so a group's normals depend on nothing but those two:
// groups can be programmed in any order, or at once, with the same bits.
uint64_t group_seed(uint64_t call_seed, long group) {
  uint64_t st = call_seed ^ (static_cast<uint64_t>(group) * 0xD1B54A32D192ED03ull);
  return splitmix64(st);
}

uint64_t generator_seed(uint64_t group_seed, int which) {  // 0: the channels', 1: the extra one
  return group_seed + static_cast<uint64_t>(kWidth * which) * 0x9E3779B97F4A7C15ull;
}

// The verify read and the controller's verdict, constants of one call (float).
struct VerifyRule {
  float q_levels, inv_q, half_lsb, tol_rel, tol_gmax, read_noise;
  bool flash;

  // Converged when |measured - target| <= tol.
  float tol(float target) const { return std::max(std::max(tol_rel * target, tol_gmax), half_lsb); }
};

// A verify read of value v (at the die temperature, read noise applied) and the controller's
// verdict: clip, quantization to m = k / 2^verify_bits, and whether the cell is finished:
// converged, overshot, or `last` (out of pulses). Over range a read never passes. Overshoot is
// flash only: an erase is the only way to raise g again.
struct Reading {
  float m;
  int32_t k;
  bool over, conv, done;
};

inline __attribute__((always_inline)) Reading read_cell(float v, float t, const VerifyRule& rule,
                                                        bool last) {
  const bool over = v > 1.0f;
  const int32_t k = static_cast<int32_t>(std::min(std::max(v, 0.0f), 1.0f) * rule.q_levels + 0.5f);
  const float m = static_cast<float>(k) * rule.inv_q;
  const float tol = rule.tol(t);
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
// [-87, 88], where the result is a normal float; program_verify's x are <= 0. The AVX-512 path
// (exp16) does the same operations on 16 floats, so both give the same bits.
constexpr float kExpLo = -87.0f, kExpHi = 88.0f, kLog2e = 1.44269504088896341f;
constexpr float kRoundMagic = 12582912.0f;  // 1.5 * 2^23
constexpr float kLn2Hi = 45426.0f / 65536.0f;                         // round(ln2 * 2^16) / 2^16
constexpr float kLn2Lo = float(0.69314718055994530942 - 45426.0 / 65536.0);  // the rest of ln 2
constexpr float kExpP0 = float(1.0 / 5040), kExpP1 = float(1.0 / 720), kExpP2 = float(1.0 / 120),
                kExpP3 = float(1.0 / 24), kExpP4 = float(1.0 / 6), kExpP5 = 0.5f;  // 1/7! .. 1/2!

float exp_scalar(float x) {
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

// The channels' state; channel l of vector v is element 16 v + l. An idle channel (slot -1: the
// queue ran out) keeps stepping with harmless finite values; it takes and logs nothing.
struct alignas(64) Channels {
  int32_t slot[kChannels];    // the cell's slot in the group, or -1
  int32_t pulses[kChannels];  // pulses the cell has taken
  int32_t frozen[kChannels];  // -1: pulses do not move the cell (dead column, stuck), else 0
  float g[kChannels];         // true g at the die temperature (frozen: what it reads)
  float from[kChannels];      // the reading the next pulse aims from (flash: its ln)
  float t[kChannels];         // target
  float lt[kChannels];        // flash: ln target (pcm/rram: unused)
  float floor[kChannels];     // the least `from` over range: flash ln(1 + tol), pcm/rram 1 + tol
};

// The queue (the group's cells left unfinished by their first read, in programming order, then
// kQueueSlack idle entries), the log (finished cells, in the order they finish) and the
// constants of the steps.
struct Machine {
  VerifyRule rule;
  float gain, pulse_noise, upper;  // upper: pcm/rram ceiling at the die temperature
  const float* ln_reading;         // flash: ln(k / 2^verify_bits) by k, or null (std::log)
  int32_t max_it;
  const int32_t *q_slot, *q_frozen;
  const float *q_g, *q_from, *q_t, *q_lt, *q_floor;
  int32_t *l_slot, *l_packed;  // packed: pulses | kConvergedBit if converged
  float* l_g;
};

// Channel c takes queue entry p (a new cell: no pulse yet).
void take(Channels& ch, int c, const Machine& mc, long p) {
  ch.slot[c] = mc.q_slot[p];
  ch.pulses[c] = 0;
  ch.frozen[c] = mc.q_frozen[p];
  ch.g[c] = mc.q_g[p];
  ch.from[c] = mc.q_from[p];
  ch.t[c] = mc.q_t[p];
  ch.lt[c] = mc.q_lt[p];
  ch.floor[c] = mc.q_floor[p];
}

// One step of channel c with its pair (z0, z1): a pulse, then a verify read (the verdict as in
// read_cell), and the reading the next pulse will aim from:
//   flash     aimed = gain ln(from / target) (ln of the reading minus ln of the target);
//             g *= exp(-aimed max(0, 1 + pulse_noise z0)). Next: the ln of the reading; over
//             range the controller's estimate ln from - aimed, at least ln(1 + tol).
//   pcm/rram  aimed = gain (target - from); g = clamp(g + aimed + pulse_noise z0, 0, upper).
//             Next: the reading; over range the estimate from + aimed, at least 1 + tol.
// The read is g (1 + read_noise z1). Frozen cells keep g. All in float. This is the reference
// version; the AVX-512 path does the same operations in the same order.
template <bool kFlash>
Reading step_channel(Channels& ch, int c, float z0, float z1, const Machine& mc, float& aimed) {
  const float t = ch.t[c], from = ch.from[c];
  float g = ch.g[c];
  if (kFlash) {
    aimed = mc.gain * (from - ch.lt[c]);
    const float f = exp_scalar(-aimed * std::max(1.0f + mc.pulse_noise * z0, 0.0f));
    if (!ch.frozen[c]) g *= f;
  } else {
    aimed = mc.gain * (t - from);
    const float moved = std::min(std::max(g + aimed + mc.pulse_noise * z0, 0.0f), mc.upper);
    if (!ch.frozen[c]) g = moved;
  }
  ch.g[c] = g;
  const int32_t pulses = ++ch.pulses[c];
  const Reading rd = read_cell(g * (1.0f + mc.rule.read_noise * z1), t, mc.rule, pulses >= mc.max_it);
  const float read = !kFlash ? rd.m : mc.ln_reading ? mc.ln_reading[rd.k] : std::log(rd.m);
  const float est = kFlash ? std::max(from - aimed, ch.floor[c]) : std::max(from + aimed, ch.floor[c]);
  ch.from[c] = rd.over ? est : read;
  return rd;
}

// The steps of the scalar path until no channel holds a cell; p: the next queue entry, o: the
// next log entry. `records` (or null): the slots' records; rec_scale turns an aimed step into the
// record's unit (flash: mV of Vt).
template <bool kFlash>
void run_channels_scalar(Channels& ch, LaneNormals& normals, const Machine& mc, long& p, long& o,
                         CellRecord* const* records, double rec_scale) {
  for (bool any = true; any;) {
    any = false;
    for (int v = 0; v < kVecs; ++v) {
      // The vector's 16 channels: their pairs, their steps (independent of each other, so the
      // CPU overlaps them), then in channel order their records, logs and refills.
      float z0[kWidth], z1[kWidth], aimed[kWidth];
      Reading rd[kWidth];
      normals.step(z0, z1);
      for (int l = 0; l < kWidth; ++l)
        rd[l] = step_channel<kFlash>(ch, kWidth * v + l, z0[l], z1[l], mc, aimed[l]);
      for (int l = 0; l < kWidth; ++l) {
        const int c = kWidth * v + l;
        if (ch.slot[c] < 0) continue;  // idle: drew and stepped, takes nothing
        if (records) {
          CellRecord& rec = *records[ch.slot[c]];
          rec.pulse.push_back(static_cast<float>(static_cast<double>(aimed[l]) * rec_scale));
          rec.verify.push_back(rd[l].m);
        }
        if (rd[l].done) {
          mc.l_slot[o] = ch.slot[c];
          mc.l_g[o] = ch.g[c];
          mc.l_packed[o] = ch.pulses[c] | (rd[l].conv ? kConvergedBit : 0);
          ++o;
          take(ch, c, mc, p++);
        }
        any |= ch.slot[c] >= 0;
      }
    }
  }
}

}  // namespace

#if defined(AIMC_LANES_AVX512)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpsabi"
#pragma GCC diagnostic ignored "-Wuninitialized"  // GCC 12's avx512fintrin.h (_mm512_undefined)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
namespace {

// exp_scalar on 16 floats.
AIMC_AVX512_FN __m512 exp16(__m512 x) {
  x = _mm512_min_ps(_mm512_max_ps(x, _mm512_set1_ps(kExpLo)), _mm512_set1_ps(kExpHi));
  const __m512 magic = _mm512_set1_ps(kRoundMagic);
  const __m512 j =
      _mm512_sub_ps(_mm512_add_ps(_mm512_mul_ps(x, _mm512_set1_ps(kLog2e)), magic), magic);
  __m512 r = _mm512_sub_ps(x, _mm512_mul_ps(j, _mm512_set1_ps(kLn2Hi)));
  r = _mm512_sub_ps(r, _mm512_mul_ps(j, _mm512_set1_ps(kLn2Lo)));
  const __m512 r2 = _mm512_mul_ps(r, r);
  const __m512 a = _mm512_add_ps(_mm512_mul_ps(_mm512_set1_ps(kExpP0), r), _mm512_set1_ps(kExpP1));
  const __m512 b = _mm512_add_ps(_mm512_mul_ps(_mm512_set1_ps(kExpP2), r), _mm512_set1_ps(kExpP3));
  const __m512 c = _mm512_add_ps(_mm512_mul_ps(_mm512_set1_ps(kExpP4), r), _mm512_set1_ps(kExpP5));
  const __m512 p = _mm512_add_ps(_mm512_mul_ps(_mm512_add_ps(_mm512_mul_ps(a, r2), b), r2), c);
  const __m512 y = _mm512_add_ps(_mm512_add_ps(_mm512_mul_ps(p, r2), r), _mm512_set1_ps(1.0f));
  const __m512i scale =
      _mm512_slli_epi32(_mm512_add_epi32(_mm512_cvttps_epi32(j), _mm512_set1_epi32(127)), 23);
  return _mm512_mul_ps(y, _mm512_castsi512_ps(scale));
}

// run_channels_scalar without records, 16 channels at a time. The kVecs vectors are stepped
// phase by phase (each phase a loop over the vectors), so that their independent chains overlap
// in the CPU. min(x, c) / max(x, c) return c only when x > c / x < c, as std::min / std::max do
// for the (never NaN) values here; -x is a sign flip, as in the scalar version.
template <bool kFlash>
AIMC_AVX512_TARGET void run_channels_avx512(Channels& ch, LaneNormals& normals, const Machine& mc,
                                            long& p_io, long& o_io) {
  using namespace lanes_avx512;
  const __m512 zero = _mm512_setzero_ps(), one = _mm512_set1_ps(1.0f), half = _mm512_set1_ps(0.5f);
  const __m512 gain = _mm512_set1_ps(mc.gain), noise = _mm512_set1_ps(mc.pulse_noise);
  const __m512 upper = _mm512_set1_ps(mc.upper), read_noise = _mm512_set1_ps(mc.rule.read_noise);
  const __m512 q = _mm512_set1_ps(mc.rule.q_levels), inv_q = _mm512_set1_ps(mc.rule.inv_q);
  const __m512 tol_rel = _mm512_set1_ps(mc.rule.tol_rel);
  const __m512 tol_gmax = _mm512_set1_ps(mc.rule.tol_gmax);
  const __m512 half_lsb = _mm512_set1_ps(mc.rule.half_lsb);
  const __m512i sign = _mm512_set1_epi32(INT32_MIN), abs_bits = _mm512_set1_epi32(INT32_MAX);
  const __m512i zero_i = _mm512_setzero_si512(), one_i = _mm512_set1_epi32(1);
  const __m512i max_it = _mm512_set1_epi32(mc.max_it), conv_bit = _mm512_set1_epi32(kConvergedBit);
  long p = p_io, o = o_io;
  State st = load(normals);
  __m512i slot[kVecs], pulses[kVecs], frozen[kVecs];
  __m512 g[kVecs], from[kVecs], t[kVecs], lt[kVecs], floor[kVecs];
#pragma GCC unroll 4
  for (int v = 0; v < kVecs; ++v) {
    slot[v] = _mm512_load_si512(ch.slot + kWidth * v);
    pulses[v] = _mm512_load_si512(ch.pulses + kWidth * v);
    frozen[v] = _mm512_load_si512(ch.frozen + kWidth * v);
    g[v] = _mm512_load_ps(ch.g + kWidth * v);
    from[v] = _mm512_load_ps(ch.from + kWidth * v);
    t[v] = _mm512_load_ps(ch.t + kWidth * v);
    lt[v] = _mm512_load_ps(ch.lt + kWidth * v);
    floor[v] = _mm512_load_ps(ch.floor + kWidth * v);
  }
  for (bool any = true; any;) {
    __m512 z0[kVecs], z1[kVecs];
#pragma GCC unroll 4
    for (int v = 0; v < kVecs; ++v) {
      __m512i hi, lo;
      xoshiro(st, hi, lo);
      box_muller(hi, lo, z0[v], z1[v]);
    }
    // The pulse.
    __m512 aimed[kVecs];
#pragma GCC unroll 4
    for (int v = 0; v < kVecs; ++v) {
      __m512 moved;
      if (kFlash) {
        aimed[v] = _mm512_mul_ps(gain, _mm512_sub_ps(from[v], lt[v]));
        const __m512 s = _mm512_max_ps(_mm512_add_ps(one, _mm512_mul_ps(noise, z0[v])), zero);
        const __m512 neg =
            _mm512_castsi512_ps(_mm512_xor_si512(_mm512_castps_si512(aimed[v]), sign));
        moved = _mm512_mul_ps(g[v], exp16(_mm512_mul_ps(neg, s)));
      } else {
        aimed[v] = _mm512_mul_ps(gain, _mm512_sub_ps(t[v], from[v]));
        moved = _mm512_min_ps(
            _mm512_max_ps(
                _mm512_add_ps(_mm512_add_ps(g[v], aimed[v]), _mm512_mul_ps(noise, z0[v])), zero),
            upper);
      }
      g[v] = _mm512_mask_blend_ps(_mm512_test_epi32_mask(frozen[v], frozen[v]), moved, g[v]);
      pulses[v] = _mm512_add_epi32(pulses[v], one_i);
    }
    // The verify read, the verdict and the next reading to aim from.
    __mmask16 done[kVecs], conv[kVecs];
#pragma GCC unroll 4
    for (int v = 0; v < kVecs; ++v) {
      const __mmask16 active = _mm512_cmpge_epi32_mask(slot[v], zero_i);
      const __mmask16 last = _mm512_cmpge_epi32_mask(pulses[v], max_it);
      const __m512 rv = _mm512_mul_ps(g[v], _mm512_add_ps(one, _mm512_mul_ps(read_noise, z1[v])));
      const __mmask16 over = _mm512_cmp_ps_mask(rv, one, _CMP_GT_OQ);
      const __m512i k = _mm512_cvttps_epi32(
          _mm512_add_ps(_mm512_mul_ps(_mm512_min_ps(_mm512_max_ps(rv, zero), one), q), half));
      const __m512 m = _mm512_mul_ps(_mm512_cvtepi32_ps(k), inv_q);
      const __m512 tol =
          _mm512_max_ps(_mm512_max_ps(_mm512_mul_ps(tol_rel, t[v]), tol_gmax), half_lsb);
      const __m512 dev = _mm512_castsi512_ps(
          _mm512_and_si512(_mm512_castps_si512(_mm512_sub_ps(m, t[v])), abs_bits));
      conv[v] = _kandn_mask16(over, _mm512_cmp_ps_mask(dev, tol, _CMP_LE_OQ));
      const __mmask16 overshoot =
          kFlash ? _kandn_mask16(over, _mm512_cmp_ps_mask(m, _mm512_sub_ps(t[v], tol), _CMP_LT_OQ))
                 : __mmask16{0};
      done[v] = _kand_mask16(_kor_mask16(_kor_mask16(conv[v], overshoot), last), active);
      __m512 read, est;
      if (kFlash) {
        read = _mm512_i32gather_ps(k, mc.ln_reading, 4);  // the caller checked the table is there
        est = _mm512_max_ps(_mm512_sub_ps(from[v], aimed[v]), floor[v]);
      } else {
        read = m;
        est = _mm512_max_ps(_mm512_add_ps(from[v], aimed[v]), floor[v]);
      }
      from[v] = _mm512_mask_blend_ps(over, read, est);
    }
    // The finished channels, vector by vector: log them (compressed, in channel order), then
    // they take the next queue entries.
    __mmask16 active_any = 0;
#pragma GCC unroll 4
    for (int v = 0; v < kVecs; ++v) {
      const __mmask16 d = done[v];
      const long n_done = __builtin_popcount(static_cast<unsigned>(d));
      _mm512_storeu_si512(mc.l_slot + o, _mm512_maskz_compress_epi32(d, slot[v]));
      _mm512_storeu_ps(mc.l_g + o, _mm512_maskz_compress_ps(d, g[v]));
      _mm512_storeu_si512(
          mc.l_packed + o,
          _mm512_maskz_compress_epi32(d, _mm512_mask_or_epi32(pulses[v], conv[v], pulses[v],
                                                              conv_bit)));
      o += n_done;
      slot[v] = _mm512_mask_expand_epi32(slot[v], d, _mm512_loadu_si512(mc.q_slot + p));
      pulses[v] = _mm512_maskz_mov_epi32(static_cast<__mmask16>(~d), pulses[v]);
      frozen[v] = _mm512_mask_expand_epi32(frozen[v], d, _mm512_loadu_si512(mc.q_frozen + p));
      g[v] = _mm512_mask_expand_ps(g[v], d, _mm512_loadu_ps(mc.q_g + p));
      from[v] = _mm512_mask_expand_ps(from[v], d, _mm512_loadu_ps(mc.q_from + p));
      t[v] = _mm512_mask_expand_ps(t[v], d, _mm512_loadu_ps(mc.q_t + p));
      lt[v] = _mm512_mask_expand_ps(lt[v], d, _mm512_loadu_ps(mc.q_lt + p));
      floor[v] = _mm512_mask_expand_ps(floor[v], d, _mm512_loadu_ps(mc.q_floor + p));
      p += n_done;
      active_any |= _mm512_cmpge_epi32_mask(slot[v], zero_i);
    }
    any = active_any != 0;
  }
#pragma GCC unroll 4
  for (int v = 0; v < kVecs; ++v) {
    _mm512_store_si512(ch.slot + kWidth * v, slot[v]);
    _mm512_store_si512(ch.pulses + kWidth * v, pulses[v]);
    _mm512_store_si512(ch.frozen + kWidth * v, frozen[v]);
    _mm512_store_ps(ch.g + kWidth * v, g[v]);
    _mm512_store_ps(ch.from + kWidth * v, from[v]);
    _mm512_store_ps(ch.t + kWidth * v, t[v]);
    _mm512_store_ps(ch.lt + kWidth * v, lt[v]);
    _mm512_store_ps(ch.floor + kWidth * v, floor[v]);
  }
  store(normals, st);
  p_io = p;
  o_io = o;
}

}  // namespace
#pragma GCC diagnostic pop
#endif
namespace {

// Asks the CPU to bring a block's cells into the cache (column-major: a column's rows are
// contiguous): g and faults, and the cycle counts when programming reads them (pcm/rram).
void prefetch_block(const CellState& s, int r0, int r1, int c0, int c1, bool cycles) {
  const long rows = s.rows;
  for (int c = c0; c < c1; ++c) {
    const long first = static_cast<long>(c) * rows + r0, last = static_cast<long>(c) * rows + r1 - 1;
    for (long at : {first, last}) {
      __builtin_prefetch(s.g_pos.data() + at, 1);
      __builtin_prefetch(s.g_neg.data() + at, 1);
      if (cycles) {
        __builtin_prefetch(s.cycles_pos.data() + at, 1);
        __builtin_prefetch(s.cycles_neg.data() + at, 1);
      }
      __builtin_prefetch(s.fault_pos.data() + at, 1);
      __builtin_prefetch(s.fault_neg.data() + at, 1);
    }
  }
}

// A worker's sums over its groups (merged into the ProgramResult at the end).
struct Totals {
  long pulses = 0, unconverged = 0;
  std::vector<long> histogram;  // cells by pulses taken, 0 .. max_iterations
};

// The constants of one program_verify call, the group's working state and its channels.
class Programmer {
 public:
  // n_cells: the call's cells (the working arrays and the table of readings are sized for it).
  Programmer(const DevicePhysics& p, const ProgramParams& params, long n_cells, uint64_t call_seed)
      : phys_(p),
        call_seed_(call_seed),
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
    const double q = std::ldexp(1.0, params.verify_bits);  // verify_bits <= 24: exact in float
    rule_ = VerifyRule{static_cast<float>(q),
                       static_cast<float>(1.0 / q),
                       static_cast<float>(0.5 / q),
                       static_cast<float>(params.tol_rel),
                       static_cast<float>(params.tol_gmax),
                       static_cast<float>(p.cell.read_noise_rel),
                       flash_};
    // pcm/rram ceiling in the pulse (temperature) domain: a cell cannot conduct without bound.
    upper_t_ = static_cast<float>(
        thermal_.forward(std::max(static_cast<double>(kGCeiling), g_erased_)));
    // Flash records: lowering ln g by dx at the programming temperature raises Vt by n kT/q dx.
    mv_per_ln_ = p.slope_factor * 1000.0 * kBoltzmannEvPerK * kelvin(params.temp_c);
    if (flash_) {
      ln_g_erased_ = static_cast<float>(std::log(g_erased_));
      // ln of every verify reading m = k / 2^verify_bits, so that a pulse takes no log. k = 0
      // (m = 0) never aims a pulse (a flash cell reading 0 is converged or overshot); its entry
      // is a finite stand-in. Above kMaxTableBits, or for fewer cells than entries, the log is
      // taken per pulse instead (the same values: the table holds std::log of the readings).
      if (params.verify_bits <= kMaxTableBits && (1L << params.verify_bits) <= n_cells) {
        const size_t n = (size_t{1} << params.verify_bits) + 1;
        ln_reading_.resize(n);
        ln_reading_[0] = std::log(0.5f * rule_.inv_q);
        for (size_t k = 1; k < n; ++k)
          ln_reading_[k] = std::log(static_cast<float>(k) * rule_.inv_q);
      }
    }
    const size_t cap = static_cast<size_t>(std::min(n_cells, 2 * kGroupPairs));
    for (std::vector<double>* a : {&target_, &g_r_, &g_final_}) a->assign(cap, 0.0);
    z_.assign(cap, 0.0f);
    for (std::vector<uint8_t>* a : {&fault_, &dead_, &frozen_, &converged_}) a->assign(cap, 0);
    cycles_.assign(cap, 0);
    pulses_.assign(cap, 0);
    rec_.assign(params.record ? cap : 0, nullptr);
    const size_t queue = cap + static_cast<size_t>(kQueueSlack);
    for (std::vector<int32_t>* a : {&q_slot_, &q_frozen_}) a->assign(queue, 0);
    for (std::vector<float>* a : {&q_g_, &q_from_, &q_t_, &q_lt_, &q_floor_}) a->assign(queue, 0);
    for (std::vector<int32_t>* a : {&l_slot_, &l_packed_})
      a->assign(cap + static_cast<size_t>(kLogSlack), 0);
    l_g_.assign(cap + static_cast<size_t>(kLogSlack), 0.0f);
  }

  // The ideal device's load_and_read: loads the group of the pairs in rows [r0, r1) x columns
  // [c0, c1) (its slots, row by row, g+ then g- of each pair), their targets and the cells'
  // state. `records` (or null): the call's records. Returns the number of cells.
  long load_group(const CellState& s, const int16_t* levels, int cols_used, int r0, int r1, int c0,
                  int c1, CellRecord* records) {
    const float* const g_side[2] = {s.g_pos.data(), s.g_neg.data()};
    const uint8_t* const fault_side[2] = {s.fault_pos.data(), s.fault_neg.data()};
    const uint32_t* const cycles_side[2] = {s.cycles_pos.data(), s.cycles_neg.data()};
    double* const target = target_.data();
    double* const g_r = g_r_.data();
    uint8_t* const fault = fault_.data();
    uint8_t* const dead = dead_.data();
    uint8_t* const frozen = frozen_.data();
    uint8_t* const converged = converged_.data();
    uint32_t* const cycles = cycles_.data();
    uint16_t* const pulses = pulses_.data();
    long i = 0;
    each_pair(s, levels, cols_used, r0, r1, c0, c1,
              [&](int r, int c, const Level& lv, long at, bool dead_col) {
        for (int side = 0; side < 2; ++side, ++i) {
          target[i] = lv.target[side];
          g_r[i] = g_side[side][at];
          fault[i] = fault_side[side][at];
          cycles[i] = cycles_side[side][at];
          dead[i] = dead_col;
          frozen[i] = dead_col || is_stuck(fault[i]);  // pulses cannot change the state
          pulses[i] = 0;
          converged[i] = 0;
          if (records) start_record(records, cols_used, r, c, side, i, lv.target[side]);
        }
      });
    return i;
  }

  // Writes the group loaded last back to the state (pcm/rram: with each cell's drift exponent,
  // drawn by program()) and its results to `res`.
  void store_group(CellState& s, int cols_used, int r0, int r1, int c0, int c1, bool records,
                   ProgramResult& res, Totals& totals) const {
    const long rows = s.rows;
    float* const g_side[2] = {s.g_pos.data(), s.g_neg.data()};
    float* const nu_side[2] = {s.nu_pos.data(), s.nu_neg.data()};
    uint8_t* const fault_side[2] = {s.fault_pos.data(), s.fault_neg.data()};
    uint32_t* const cycles_side[2] = {s.cycles_pos.data(), s.cycles_neg.data()};
    uint16_t* const pulses_out = res.pulses_per_cell.data();
    float* const error_out = res.error.data();
    uint8_t* const converged_out = res.converged.data();
    long* const histogram = totals.histogram.data();
    const bool ideal = phys_.kind == DeviceKind::ideal;
    const float* const nu_z = drifting_ ? z_.data() : nullptr;
    long pulses_sum = 0, unconverged = 0;
    size_t i = 0;
    for (int r = r0; r < r1; ++r)
      for (int c = c0; c < c1; ++c) {
        const long at = static_cast<long>(c) * rows + r;
        for (int side = 0; side < 2; ++side, ++i) {
          float& g_cell = g_side[side][at];
          // Back to t_ref (the temperature law is monotonic, so the inverse is unique).
          if (!frozen_[i] && pulses_[i] > 0)
            g_cell = static_cast<float>(ideal ? g_final_[i] : thermal_.inverse(g_final_[i]));
          const uint8_t fault = fault_[i];
          if (drifting_) {  // wear: the only change to faults and cycles while programming
            fault_side[side][at] = fault;
            cycles_side[side][at] = cycles_[i];
          }
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
          const long out = (static_cast<long>(r) * cols_used + c) * 2 + side;
          pulses_out[out] = pulses;
          error_out[out] = static_cast<float>(programmed - target_[i]);
          converged_out[out] = converged ? 1 : 0;
          pulses_sum += pulses;
          unconverged += converged ? 0 : 1;
          ++histogram[pulses];
          if (records) rec_[i]->converged = converged;
        }
      }
    totals.pulses += pulses_sum;
    totals.unconverged += unconverged;
  }

  // The ideal device: exact verify (no noise, no quantization), one exact pulse; no draws.
  void program_ideal(long count, bool records) {
    for (long k = 0; k < count; ++k) {
      const size_t i = static_cast<size_t>(k);
      CellRecord* rec = records ? rec_[i] : nullptr;
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

  // flash, pcm, rram: loads group `group` (the pairs in rows [r0, r1) x columns [c0, c1)) with
  // the first verify read of every slot, in order; the cells it leaves unfinished go to the queue,
  // which the channels work through; then (pcm/rram) the drift exponents' normals. call_records
  // (or null): the call's records, to keep every pulse and read in.
  void program(long group, const CellState& s, const int16_t* levels, int cols_used, int r0,
               int r1, int c0, int c1, CellRecord* call_records) {
    const uint64_t seed = group_seed(call_seed_, group);
    for (int k = 0; k < 2; ++k) gens_[k].reseed(generator_seed(seed, k));
    LaneNormals& extra = gens_[1];
    const bool records = call_records != nullptr;
    const long count = 2L * (r1 - r0) * (c1 - c0);
    const long n = load_and_read(s, levels, cols_used, r0, r1, c0, c1, extra, call_records);
    if (n > 0) {
      // Every channel takes a queue entry (idle entries past the cells).
      long p = 0, o = 0;
      for (int c = 0; c < kChannels; ++c) take(channels_, c, machine_, p++);
      const bool simd = detail::lanes_simd() && !records && (!flash_ || !ln_reading_.empty());
      const double rec_scale = flash_ ? mv_per_ln_ : 1.0;
#if defined(AIMC_LANES_AVX512)
      if (simd && flash_)
        run_channels_avx512<true>(channels_, gens_[0], machine_, p, o);
      else if (simd)
        run_channels_avx512<false>(channels_, gens_[0], machine_, p, o);
      else
#endif
      if (flash_)
        run_channels_scalar<true>(channels_, gens_[0], machine_, p, o, records ? rec_.data() : nullptr,
                                  rec_scale);
      else
        run_channels_scalar<false>(channels_, gens_[0], machine_, p, o, records ? rec_.data() : nullptr,
                                   rec_scale);
      (void)simd;
      // The log, in slot order.
      for (long j = 0; j < o; ++j) {
        const size_t i = static_cast<size_t>(l_slot_[static_cast<size_t>(j)]);
        g_final_[i] = static_cast<double>(l_g_[static_cast<size_t>(j)]);
        pulses_[i] = static_cast<uint16_t>(l_packed_[static_cast<size_t>(j)] & 0xFFFF);
        converged_[i] = (l_packed_[static_cast<size_t>(j)] & kConvergedBit) ? 1 : 0;
      }
    }
    // pcm/rram: each cell's drift exponent, in order.
    if (drifting_) extra.fill(z_.data(), count);
  }

 private:
  static constexpr int kMaxTableBits = 16;
  static constexpr int kMaxCachedLevels = 4095;

  // A pair level's targets: exact (for the error) and as the channels use them (float), with
  // ln target (flash) and the floor of an over-range estimate (flash ln(1 + tol), else 1 + tol).
  struct Level {
    bool ready = false;
    double target[2] = {0, 0};
    float target_f[2] = {0, 0}, ln_target[2] = {0, 0}, floor[2] = {0, 0};
  };

  // Calls f(r, c, level entry, index in the column-major state, dead column) for the pairs in
  // rows [r0, r1) x columns [c0, c1), row by row: a group's pairs in programming order.
  template <class F>
  void each_pair(const CellState& s, const int16_t* levels, int cols_used, int r0, int r1, int c0,
                 int c1, F&& f) {
    for (int r = r0; r < r1; ++r)
      for (int c = c0; c < c1; ++c)
        f(r, c, level_entry(levels[static_cast<long>(r) * cols_used + c]),
          static_cast<long>(c) * s.rows + r, s.dead_col[static_cast<size_t>(c)] != 0);
  }

  // Slot i's record (the cell at row r, column c, side): its place in the call's records (in
  // programming order), filled with what is known before programming.
  CellRecord& start_record(CellRecord* records, int cols_used, int r, int c, int side, long i,
                           double target) {
    CellRecord& rec = records[(static_cast<long>(r) * cols_used + c) * 2 + side];
    rec_[static_cast<size_t>(i)] = &rec;
    rec.row = r;
    rec.col = c;
    rec.negative = side == 1;
    rec.target = static_cast<float>(target);
    return rec;
  }

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
        e.target_f[side] = static_cast<float>(e.target[side]);
        e.ln_target[side] = static_cast<float>(std::log(e.target[side]));
        const float tol = rule_.tol(e.target_f[side]);
        e.floor[side] = flash_ ? std::log(1.0f + tol) : 1.0f + tol;
      }
      e.ready = cached;
    }
    return e;
  }

  // Loads the group of the pairs in rows [r0, r1) x columns [c0, c1) (its slots, row by row, g+
  // then g- of each pair) and makes every slot's first verify read, in order (at the die
  // temperature; normals from `extra` if there is read noise). A finished cell's results go to its
  // slot; the others, in order, to the queue (pcm/rram: with the endurance cycle of their first
  // pulse), then kQueueSlack idle entries. Returns the number of queued cells; sets up machine_.
  long load_and_read(const CellState& s, const int16_t* levels, int cols_used, int r0, int r1,
                     int c0, int c1, LaneNormals& extra, CellRecord* records) {
    const long count = 2L * (r1 - r0) * (c1 - c0);
    if (rule_.read_noise > 0) extra.fill(z_.data(), count);
    const float* const g_side[2] = {s.g_pos.data(), s.g_neg.data()};
    const uint8_t* const fault_side[2] = {s.fault_pos.data(), s.fault_neg.data()};
    const uint32_t* const cycles_side[2] = {s.cycles_pos.data(), s.cycles_neg.data()};
    const VerifyRule rule = rule_;
    const bool flash = flash_, drifting = drifting_, last = max_it_ == 0;
    const bool read_noise = rule.read_noise > 0;
    const float* const ln_reading = ln_reading_.empty() ? nullptr : ln_reading_.data();
    const float* const z = z_.data();
    const float g_erased = static_cast<float>(g_erased_), ln_g_erased = ln_g_erased_;
    double* const target = target_.data();
    double* const g_final = g_final_.data();
    uint8_t* const fault = fault_.data();
    uint8_t* const dead = dead_.data();
    uint8_t* const frozen = frozen_.data();
    uint8_t* const converged = converged_.data();
    uint16_t* const pulses = pulses_.data();
    int32_t* const q_slot = q_slot_.data();
    float* const q_g = q_g_.data();
    float* const q_t = q_t_.data();
    float* const q_lt = q_lt_.data();
    float* const q_floor = q_floor_.data();
    float* const q_from = q_from_.data();
    long i = 0, n = 0;
    each_pair(s, levels, cols_used, r0, r1, c0, c1,
              [&](int r, int c, const Level& lv, long at, bool dead_col) {
        for (int side = 0; side < 2; ++side, ++i) {
          const uint8_t f = fault_side[side][at];
          target[i] = lv.target[side];
          fault[i] = f;
          dead[i] = dead_col;
          frozen[i] = dead_col || is_stuck(f);  // pulses cannot change the state
          pulses[i] = 0;
          if (drifting) cycles_[static_cast<size_t>(i)] = cycles_side[side][at];
          const double g_read = dead_col      ? 0.0
                                : is_stuck(f) ? stuck_value(f, g_min_)
                                              : thermal_.forward(g_side[side][at]);
          g_final[i] = g_read;
          const float g = static_cast<float>(g_read), t = lv.target_f[side];
          const float zr = read_noise ? z[i] : 0.0f;
          const Reading rd = read_cell(g * (1.0f + rule.read_noise * zr), t, rule, last);
          converged[i] = rd.conv ? 1 : 0;
          if (records)
            start_record(records, cols_used, r, c, side, i, lv.target[side]).verify.push_back(rd.m);
          q_slot[n] = static_cast<int32_t>(i);
          q_g[n] = g;
          q_t[n] = t;
          q_lt[n] = lv.ln_target[side];
          q_floor[n] = lv.floor[side];
          // Over range before any pulse: the controller assumes the erased state (at least the
          // floor).
          if (flash)
            q_from[n] = rd.over      ? std::max(ln_g_erased, lv.floor[side])
                        : ln_reading ? ln_reading[rd.k]
                                     : std::log(rd.m);
          else
            q_from[n] = rd.over ? std::max(g_erased, lv.floor[side]) : rd.m;
          n += rd.done ? 0 : 1;
        }
      });
    // pcm/rram, before the first pulse: one endurance cycle per queued cell (each takes at least
    // one pulse); the cell that exceeds its endurance fails on this cycle, so this very pulse
    // already finds it stuck.
    if (drifting_)
      for (long a = 0; a < n; ++a) {
        const size_t i = static_cast<size_t>(q_slot_[static_cast<size_t>(a)]);
        if (cycles_[i] < std::numeric_limits<uint32_t>::max()) ++cycles_[i];
        if (!is_stuck(fault_[i]) && static_cast<double>(cycles_[i]) > phys_.endurance_cycles) {
          fault_[i] |= worn_;
          frozen_[i] = 1;
          q_g_[static_cast<size_t>(a)] =
              static_cast<float>(dead_[i] ? 0.0 : stuck_value(fault_[i], g_min_));
        }
      }
    for (long a = 0; a < n; ++a)
      q_frozen_[static_cast<size_t>(a)] =
          frozen_[static_cast<size_t>(q_slot_[static_cast<size_t>(a)])] ? -1 : 0;
    // Idle entries: finite stand-ins (a cell aiming at 1/2 from 1/2).
    for (long a = n; a < n + kQueueSlack; ++a) {
      const size_t i = static_cast<size_t>(a);
      q_slot_[i] = -1;
      q_frozen_[i] = 0;
      q_g_[i] = 0.5f;
      q_t_[i] = 0.5f;
      q_from_[i] = flash ? std::log(0.5f) : 0.5f;
      q_lt_[i] = flash ? std::log(0.5f) : 0.0f;
      q_floor_[i] = flash ? 0.0f : 1.0f;
    }
    machine_ = Machine{rule_,
                       static_cast<float>(gain_),
                       static_cast<float>(pulse_noise_),
                       upper_t_,
                       ln_reading,
                       max_it_,
                       q_slot_.data(),
                       q_frozen_.data(),
                       q_g_.data(),
                       q_from_.data(),
                       q_t_.data(),
                       q_lt_.data(),
                       q_floor_.data(),
                       l_slot_.data(),
                       l_packed_.data(),
                       l_g_.data()};
    return n;
  }

  const DevicePhysics& phys_;
  uint64_t call_seed_;
  Thermal thermal_;
  bool flash_, drifting_;
  double g_min_, g_erased_;
  float ln_g_erased_ = 0;
  double pulse_noise_, gain_;
  int max_it_;
  uint8_t worn_;
  int max_level_;
  VerifyRule rule_{};
  float upper_t_ = 0;
  double mv_per_ln_ = 0;
  std::vector<Level> levels_;
  Level scratch_level_;
  std::vector<float> ln_reading_;
  // Slots (the group's cells in programming order).
  std::vector<double> target_;   // exact (the error is taken against it)
  std::vector<double> g_r_;      // ideal device: programmed state at t_ref, as loaded
  std::vector<double> g_final_;  // true g at the die temperature after the last pulse
  std::vector<uint8_t> fault_, dead_, frozen_, converged_;
  std::vector<uint32_t> cycles_;
  std::vector<uint16_t> pulses_;
  std::vector<CellRecord*> rec_;     // the slot's record (with ProgramParams::record)
  std::vector<float> z_;  // the first reads' normals, then (pcm/rram) the drift exponents'
  // The queue and the log (see Machine), the channels and their generators.
  std::vector<int32_t> q_slot_, q_frozen_, l_slot_, l_packed_;
  std::vector<float> q_g_, q_from_, q_t_, q_lt_, q_floor_, l_g_;
  Machine machine_{};
  Channels channels_;
  LaneNormals gens_[2];  // the channels' and the extra one (see generator_seed)
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
  if (params.verify_bits < 1 || params.verify_bits > 24)
    throw std::invalid_argument("program_verify: verify_bits must be in [1, 24], got " +
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
  const GroupGrid grid(rows_used, cols_used);
  const auto run_groups = [&](long g0, long g1, Totals& totals) {
    Programmer prog(phys, params, n_cells, call_seed);
    totals.histogram.assign(static_cast<size_t>(max_it) + 1, 0);
    CellRecord* const records = params.record ? res.records.data() : nullptr;
    for (long g = g0; g < g1; ++g) {
      int r0, r1, c0, c1;
      grid.block(g, r0, r1, c0, c1);
      if (g + 1 < g1) {  // the next group's columns, into the cache while this one is programmed
        int n_r0, n_r1, n_c0, n_c1;
        grid.block(g + 1, n_r0, n_r1, n_c0, n_c1);
        prefetch_block(state, n_r0, n_r1, n_c0, n_c1,
                       phys.kind == DeviceKind::pcm || phys.kind == DeviceKind::rram);
      }
      if (ideal)
        prog.program_ideal(prog.load_group(state, levels, cols_used, r0, r1, c0, c1, records),
                           records != nullptr);
      else
        prog.program(g, state, levels, cols_used, r0, r1, c0, c1, records);
      prog.store_group(state, cols_used, r0, r1, c0, c1, records != nullptr, res, totals);
    }
  };
  // Host threads: contiguous ranges of groups, at least kMinGroupsPerThread each (a thread costs
  // tens of microseconds to start). The results do not depend on the number of threads.
  constexpr long kMinGroupsPerThread = 8;
  const long n_groups = grid.groups();
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
