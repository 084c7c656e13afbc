// Program and verify (device.h: program_verify): checks, groups on host threads, and the
// Programmer that loads a group, makes its first verify reads, runs the pulse channels
// (program_verify_machine.h; kernels in program_verify_scalar.cpp and program_verify_avx512.cpp)
// and stores the results. The kind is asked once per call for its traits and laws
// (device_model.h); nothing here names a kind.
//
// Random draw order (all from the Rng passed in; nothing else draws from it during the call):
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
//                     3. drifting kinds (pcm, rram) only: the extra generator's fill(slots)
//                        gives each slot's drift exponent nu, in order.
//                   This is the order of a controller with kChannels pulse-and-verify circuits.
//                   Stuck cells and dead columns take the same draws as healthy ones (the
//                   controller cannot tell them apart). The group shape and kChannels are part of
//                   the sequence: changing them changes which normal a cell gets, not the
//                   statistics. The ideal device draws nothing.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <exception>
#include <limits>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "numerics/device.h"
#include "numerics/device_internal.h"
#include "numerics/device_model.h"
#include "numerics/program_verify_machine.h"

namespace aimc::num {

using detail::check_state;
using detail::check_temperature;
using detail::fmt;
using detail::g_min_norm;
using detail::is_stuck;
using detail::range_fraction;
using detail::stuck_value;
using detail::worn_bits;
using pv::Channels;
using pv::kChannels;
using pv::kConvergedBit;
using pv::kLogSlack;
using pv::kQueueSlack;
using pv::kWidth;
using pv::Machine;
using pv::read_cell;
using pv::Reading;
using pv::take;
using pv::VerifyRule;

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

}  // namespace

namespace {

// Asks the CPU to bring a block's cells into the cache (column-major: a column's rows are
// contiguous): g and faults, and the cycle counts when programming reads them (cycles_on_program).
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
        traits_(device_model(p.kind).traits()),
        law_(device_model(p.kind).program_law(p, params.temp_c)),
        thermal_(thermal_law_at(p, params.temp_c)),
        log_down_(traits_.pulse == PulseLaw::log_down),
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
                       log_down_};
    // linear law's ceiling in the pulse (temperature) domain: a cell cannot conduct without bound.
    upper_t_ = static_cast<float>(
        thermal_.forward(std::max(static_cast<double>(kGCeiling), g_erased_)));
    if (log_down_) {
      ln_g_erased_ = static_cast<float>(std::log(g_erased_));
      // ln of every verify reading m = k / 2^verify_bits, so that a pulse takes no log. k = 0
      // (m = 0) never aims a pulse (a log_down cell reading 0 is converged or overshot); its entry
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

  // The exact law's (ideal device's) load_and_read: loads the group of the pairs in rows
  // [r0, r1) x columns [c0, c1) (its slots, row by row, g+ then g- of each pair), their targets
  // and the cells' state. `records` (or null): the call's records. Returns the number of cells.
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

  // Writes the group loaded last back to the state (drifting kinds: with each cell's drift
  // exponent, drawn by program()) and its results to `res`.
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
    const bool exact = traits_.pulse == PulseLaw::exact;
    const float* const nu_z = traits_.drift ? z_.data() : nullptr;
    long pulses_sum = 0, unconverged = 0;
    size_t i = 0;
    for (int r = r0; r < r1; ++r)
      for (int c = c0; c < c1; ++c) {
        const long at = static_cast<long>(c) * rows + r;
        for (int side = 0; side < 2; ++side, ++i) {
          float& g_cell = g_side[side][at];
          // Back to t_ref (the temperature law is monotonic, so the inverse is unique).
          if (!frozen_[i] && pulses_[i] > 0)
            g_cell = static_cast<float>(exact ? g_final_[i] : thermal_.inverse(g_final_[i]));
          const uint8_t fault = fault_[i];
          if (traits_.cycles_on_program) {  // wear: the only change to faults and cycles here
            fault_side[side][at] = fault;
            cycles_side[side][at] = cycles_[i];
          }
          if (nu_z) {
            const double f = range_fraction(g_cell, g_min_);
            const double mu = law_.nu_at_gmin + (law_.nu_at_gmax - law_.nu_at_gmin) * f;
            const double sd =
                law_.nu_sigma_at_gmin + (law_.nu_sigma_at_gmax - law_.nu_sigma_at_gmin) * f;
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

  // The exact law (the ideal device): exact verify (no noise, no quantization), one exact pulse;
  // no draws.
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

  // The pulse laws with channels (log_down, linear): loads group `group` (the pairs in rows
  // [r0, r1) x columns [c0, c1)) with the first verify read of every slot, in order; the cells it
  // leaves unfinished go to the queue, which the channels work through; then (drifting kinds) the
  // drift exponents' normals. call_records (or null): the call's records, to keep every pulse and
  // read in.
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
      const bool simd = detail::lanes_simd() && !records && (!log_down_ || !ln_reading_.empty());
#if defined(AIMC_LANES_AVX512)
      if (simd)
        pv::run_channels_avx512(traits_.pulse, channels_, gens_[0], machine_, p, o);
      else
#endif
        pv::run_channels_scalar(traits_.pulse, channels_, gens_[0], machine_, p, o,
                                records ? rec_.data() : nullptr, law_.record_scale);
      (void)simd;
      // The log, in slot order.
      for (long j = 0; j < o; ++j) {
        const size_t i = static_cast<size_t>(l_slot_[static_cast<size_t>(j)]);
        g_final_[i] = static_cast<double>(l_g_[static_cast<size_t>(j)]);
        pulses_[i] = static_cast<uint16_t>(l_packed_[static_cast<size_t>(j)] & 0xFFFF);
        converged_[i] = (l_packed_[static_cast<size_t>(j)] & kConvergedBit) ? 1 : 0;
      }
    }
    // Drifting kinds: each cell's drift exponent, in order.
    if (traits_.drift) extra.fill(z_.data(), count);
  }

 private:
  static constexpr int kMaxTableBits = 16;
  static constexpr int kMaxCachedLevels = 4095;

  // A pair level's targets: exact (for the error) and as the channels use them (float), with
  // ln target (log_down) and the floor of an over-range estimate (log_down ln(1 + tol), else
  // 1 + tol).
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
        e.floor[side] = log_down_ ? std::log(1.0f + tol) : 1.0f + tol;
      }
      e.ready = cached;
    }
    return e;
  }

  // Loads the group of the pairs in rows [r0, r1) x columns [c0, c1) (its slots, row by row, g+
  // then g- of each pair) and makes every slot's first verify read, in order (at the die
  // temperature; normals from `extra` if there is read noise). A finished cell's results go to its
  // slot; the others, in order, to the queue (kinds that count cycles when programming: with the
  // endurance cycle of their first pulse), then kQueueSlack idle entries. Returns the number of queued cells; sets up machine_.
  long load_and_read(const CellState& s, const int16_t* levels, int cols_used, int r0, int r1,
                     int c0, int c1, LaneNormals& extra, CellRecord* records) {
    const long count = 2L * (r1 - r0) * (c1 - c0);
    if (rule_.read_noise > 0) extra.fill(z_.data(), count);
    const float* const g_side[2] = {s.g_pos.data(), s.g_neg.data()};
    const uint8_t* const fault_side[2] = {s.fault_pos.data(), s.fault_neg.data()};
    const uint32_t* const cycles_side[2] = {s.cycles_pos.data(), s.cycles_neg.data()};
    const VerifyRule rule = rule_;
    const bool log_down = log_down_, cycles_on_program = traits_.cycles_on_program;
    const bool last = max_it_ == 0;
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
          if (cycles_on_program) cycles_[static_cast<size_t>(i)] = cycles_side[side][at];
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
          if (log_down)
            q_from[n] = rd.over      ? std::max(ln_g_erased, lv.floor[side])
                        : ln_reading ? ln_reading[rd.k]
                                     : std::log(rd.m);
          else
            q_from[n] = rd.over ? std::max(g_erased, lv.floor[side]) : rd.m;
          n += rd.done ? 0 : 1;
        }
      });
    // Kinds that count cycles when programming, before the first pulse: one endurance cycle per
    // queued cell (each takes at least one pulse); the cell that exceeds its endurance fails on
    // this cycle, so this very pulse already finds it stuck.
    if (traits_.cycles_on_program)
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
      q_from_[i] = log_down ? std::log(0.5f) : 0.5f;
      q_lt_[i] = log_down ? std::log(0.5f) : 0.0f;
      q_floor_[i] = log_down ? 0.0f : 1.0f;
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
  DeviceTraits traits_;  // the kind's, asked once per call: the loops read plain fields
  ProgramLaw law_;
  ThermalLaw thermal_;
  bool log_down_;
  double g_min_, g_erased_;
  float ln_g_erased_ = 0;
  double pulse_noise_, gain_;
  int max_it_;
  uint8_t worn_;
  int max_level_;
  VerifyRule rule_{};
  float upper_t_ = 0;
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
  std::vector<float> z_;  // the first reads' normals, then (drifting kinds) the drift exponents'
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
  const bool exact = device_model(phys.kind).traits().pulse == PulseLaw::exact;
  const bool cycles_on_program = device_model(phys.kind).traits().cycles_on_program;
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
  const uint64_t call_seed = exact ? 0 : rng.next();
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
        prefetch_block(state, n_r0, n_r1, n_c0, n_c1, cycles_on_program);
      }
      if (exact)
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

}  // namespace aimc::num
