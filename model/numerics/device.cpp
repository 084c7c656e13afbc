// Device physics of the NVM cells, the parts every kind shares: parameter checks, the cell state,
// faults, pair targets, erase and what a read sees. See device.h for the API and
// docs/device-physics.md for the formulas in prose. What differs between kinds is in each kind's
// class (devices/, device_model.h); program and verify is in program_verify.cpp.
//
// Random draw order (all from the Rng passed in; nothing else draws from it during the call):
//   inject_faults   one uniform() per cell, g+ row-major then g- row-major; then one uniform() per
//                   column (dead column). The draws are made whatever the rates are.
//   program_verify  see program_verify.cpp.
#include "numerics/device.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "numerics/device_internal.h"
#include "numerics/device_model.h"

namespace aimc::num {

using detail::check_state;
using detail::check_temperature;
using detail::fmt;
using detail::g_min_norm;
using detail::is_stuck;
using detail::worn_bits;

namespace detail {

std::string fmt(double v) {
  std::ostringstream os;
  os << v;
  return os.str();
}

void check_temperature(const char* who, double temp_c) {
  if (!(std::isfinite(temp_c) && temp_c > -kZeroCelsiusK))
    throw std::invalid_argument(std::string(who) +
                                ": temperature must be above absolute zero (-273.15 C), got " +
                                fmt(temp_c));
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

}  // namespace detail

void bad_device_field(const char* field, const char* expected, double got) {
  throw std::invalid_argument(std::string("device physics: ") + field + " " + expected + ", got " +
                              fmt(got));
}

ThermalLaw thermal_law_at(const DevicePhysics& p, double temp_c) {
  if (temp_c == p.t_ref_c) return ThermalLaw{};
  return device_model(p.kind).thermal_law(p, temp_c);
}

// The parameters every kind reads; then the kind checks its own (DeviceModel::validate).
void validate(const DevicePhysics& p) {
  const DeviceSpec& c = p.cell;
  const auto finite = [](double v) { return std::isfinite(v); };
  if (!(static_cast<int>(p.kind) >= 0 && static_cast<int>(p.kind) < kDeviceKindCount))
    bad_device_field("kind", ("must be one of " + device_kind_list()).c_str(),
                     static_cast<int>(p.kind));
  const DeviceModel& model = device_model(p.kind);
  const DeviceTraits traits = model.traits();
  const bool exact = traits.pulse == PulseLaw::exact;
  if (c.bits_per_cell < 1 || c.bits_per_cell > 15)
    bad_device_field("cell.bits_per_cell", "must be in [1, 15]", c.bits_per_cell);
  if (!(finite(c.g_max_ns) && c.g_max_ns > 0))
    bad_device_field("cell.g_max_ns", "must be > 0", c.g_max_ns);
  if (!(c.g_min_ns >= 0 && c.g_min_ns < c.g_max_ns))
    bad_device_field("cell.g_min_ns", "must be in [0, g_max_ns)", c.g_min_ns);
  if (!(finite(c.read_noise_rel) && c.read_noise_rel >= 0))
    bad_device_field("cell.read_noise_rel", "must be >= 0", c.read_noise_rel);
  if (c.ideal != exact)
    bad_device_field("cell.ideal", "must be true exactly when kind is ideal", c.ideal ? 1 : 0);
  if (c.pair != PairMode::unipolar && c.pair != PairMode::balanced)
    bad_device_field("cell.pair", "must be unipolar or balanced", static_cast<int>(c.pair));
  if (!(finite(p.t_ref_c) && p.t_ref_c > -kZeroCelsiusK))
    bad_device_field("t_ref_c", "must be above absolute zero (-273.15 C)", p.t_ref_c);
  if (!(finite(p.g_erased_ns) && p.g_erased_ns >= 0))
    bad_device_field("g_erased_ns", "must be >= 0", p.g_erased_ns);
  if (traits.erase_high && !(p.g_erased_ns >= c.g_max_ns))
    bad_device_field("g_erased_ns",
                     ("must be >= cell.g_max_ns for " + std::string(model.name()) +
                      " (erase is the high state; pulses only lower g)")
                         .c_str(),
                     p.g_erased_ns);
  if (!(p.endurance_cycles >= 1))
    bad_device_field("endurance_cycles", "must be >= 1 (inf for no wear-out)", p.endurance_cycles);
  if (p.worn != WornMode::stuck_low && p.worn != WornMode::stuck_high)
    bad_device_field("worn", "must be stuck_low or stuck_high", static_cast<int>(p.worn));
  if (!exact) {
    if (!(p.pulse_gain > 0 && p.pulse_gain <= 1))
      bad_device_field("pulse_gain", "must be in (0, 1]", p.pulse_gain);
    if (!(finite(p.pulse_noise) && p.pulse_noise >= 0))
      bad_device_field("pulse_noise", "must be >= 0", p.pulse_noise);
  }
  model.validate(p);
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
  const bool counts = device_model(phys.kind).traits().cycles_on_erase;
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

void effective_conductances(const CellState& state, const DevicePhysics& phys, double age_s,
                            double temp_c, Eigen::MatrixXf& g_pos, Eigen::MatrixXf& g_neg) {
  validate(phys);
  check_state("effective_conductances", state);
  if (!(std::isfinite(age_s) && age_s >= 0))
    throw std::invalid_argument("effective_conductances: age_s must be >= 0, got " + fmt(age_s));
  check_temperature("effective_conductances", temp_c);

  const double g_min = g_min_norm(phys);
  // Drift / charge loss, then temperature: the kind's law, on whole arrays.
  const DeviceModel& model = device_model(phys.kind);
  model.read_transform(state.g_pos, state.nu_pos, phys, age_s, temp_c, g_pos);
  model.read_transform(state.g_neg, state.nu_neg, phys, age_s, temp_c, g_neg);

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
  return thermal_law_at(phys, temp_c).forward(g_ref_domain);
}

double conductance_at_reference(const DevicePhysics& phys, double g_at_temp, double temp_c) {
  validate(phys);
  check_temperature("conductance_at_reference", temp_c);
  // Without a previous state to follow, the root nearest to g_at_temp (the smallest correction)
  // is the answer where the pcm/rram map is not monotonic; elsewhere the root is unique.
  return thermal_law_at(phys, temp_c).inverse(g_at_temp);
}

}  // namespace aimc::num
