// Program-and-verify through a memo (numerics/program_memo.h): a hit leaves the same bits as the
// call itself (cells, generator, result), every input is in the key, a damaged or foreign entry is
// not taken, and a call that keeps pulse records is not memoised.
#include <cstring>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "numerics/device.h"
#include "numerics/program_memo.h"
#include "numerics/rng.h"

using namespace aimc::num;

namespace {

// An in-memory store that counts what it was asked and can damage what it keeps.
class MapStore : public ProgramStore {
 public:
  std::optional<std::string> load(const std::string& key, size_t expected_bytes) override {
    ++loads;
    const auto it = entries.find(key);
    if (it == entries.end()) return std::nullopt;
    last_expected = expected_bytes;
    return it->second;
  }
  std::string store(const std::string& key, std::string_view bytes) override {
    ++stores;
    if (refuse) return "refused";
    entries[key] = std::string(bytes);
    return "";
  }
  std::map<std::string, std::string> entries;
  int loads = 0, stores = 0;
  size_t last_expected = 0;
  bool refuse = false;
};

DevicePhysics memo_physics(DeviceKind kind) {
  DevicePhysics p;
  p.kind = kind;
  p.cell.ideal = kind == DeviceKind::ideal;
  p.cell.bits_per_cell = 5;
  if (kind == DeviceKind::pcm || kind == DeviceKind::rram) p.g_erased_ns = 1;  // RESET: low
  return p;
}

std::vector<int16_t> memo_levels(int rows, int cols, int max_level, uint64_t seed) {
  Rng r(seed);
  std::vector<int16_t> lv(static_cast<size_t>(rows) * static_cast<size_t>(cols));
  for (auto& l : lv) l = static_cast<int16_t>(static_cast<int>(r.next() % (2 * max_level + 1)) - max_level);
  return lv;
}

bool same_bits(const Eigen::MatrixXf& a, const Eigen::MatrixXf& b) {
  return a.rows() == b.rows() && a.cols() == b.cols() &&
         std::memcmp(a.data(), b.data(), sizeof(float) * static_cast<size_t>(a.size())) == 0;
}

void expect_same_state(const CellState& a, const CellState& b) {
  EXPECT_TRUE(same_bits(a.g_pos, b.g_pos));
  EXPECT_TRUE(same_bits(a.g_neg, b.g_neg));
  EXPECT_TRUE(same_bits(a.nu_pos, b.nu_pos));
  EXPECT_TRUE(same_bits(a.nu_neg, b.nu_neg));
  EXPECT_TRUE(a.cycles_pos == b.cycles_pos);
  EXPECT_TRUE(a.cycles_neg == b.cycles_neg);
  EXPECT_TRUE(a.fault_pos == b.fault_pos);
  EXPECT_TRUE(a.fault_neg == b.fault_neg);
}

void expect_same_result(const ProgramResult& a, const ProgramResult& b) {
  EXPECT_EQ(a.cells, b.cells);
  EXPECT_EQ(a.pulses, b.pulses);
  EXPECT_EQ(a.verify_reads, b.verify_reads);
  EXPECT_EQ(a.unconverged, b.unconverged);
  EXPECT_EQ(a.pulses_per_cell, b.pulses_per_cell);
  ASSERT_EQ(a.error.size(), b.error.size());
  EXPECT_EQ(std::memcmp(a.error.data(), b.error.data(), sizeof(float) * a.error.size()), 0);
  EXPECT_EQ(a.converged, b.converged);
  EXPECT_EQ(a.iteration_histogram, b.iteration_histogram);
}

// A state programmed once (so cycles, nu and faults are not all zero), the next levels, a rng.
struct MemoCase {
  DevicePhysics phys;
  CellState state;
  std::vector<int16_t> levels;
  Rng rng{0};
  int rows = 40, cols = 24;
  ProgramParams params;
  explicit MemoCase(DeviceKind kind) : phys(memo_physics(kind)), state(64, 32, phys), rng(11) {
    FaultRates f;
    f.stuck_low = 0.01;
    f.dead_column = 0.05;
    Rng frng(5);
    inject_faults(state, f, frng);
    const int max_level = (1 << phys.cell.bits_per_cell) - 1;
    const std::vector<int16_t> first = memo_levels(rows, cols, max_level, 1);
    program_verify(state, phys, first.data(), rows, cols, params, rng);
    erase_rows(state, phys, 0, rows);
    levels = memo_levels(rows, cols, max_level, 2);
  }
};

class ProgramMemoKinds : public ::testing::TestWithParam<DeviceKind> {};

// Miss then hit: both leave the cells, the generator and the result exactly as the plain call.
TEST_P(ProgramMemoKinds, AHitIsTheSameBitsAsTheCall) {
  const MemoCase s(GetParam());
  CellState plain_state = s.state;
  Rng plain_rng = s.rng;
  const ProgramResult plain = program_verify(plain_state, s.phys, s.levels.data(), s.rows, s.cols, s.params, plain_rng);

  MapStore store;
  for (const MemoOutcome want : {MemoOutcome::miss, MemoOutcome::hit}) {
    CellState st = s.state;
    Rng rng = s.rng;
    MemoOutcome how = MemoOutcome::bypassed;
    const ProgramResult r = program_verify_memo(st, s.phys, s.levels.data(), s.rows, s.cols, s.params, rng, store, &how);
    EXPECT_EQ(how, want);
    expect_same_result(r, plain);
    expect_same_state(st, plain_state);
    EXPECT_EQ(rng.next(), Rng(plain_rng).next()) << "the generator is not where the call left it";
  }
  EXPECT_EQ(store.entries.size(), 1u);
  EXPECT_EQ(store.stores, 1);
  // The entry's size is what the call's inputs say it must be.
  EXPECT_EQ(store.entries.begin()->second.size(), store.last_expected);
}

INSTANTIATE_TEST_SUITE_P(Kinds, ProgramMemoKinds,
                         ::testing::Values(DeviceKind::flash, DeviceKind::pcm, DeviceKind::rram, DeviceKind::ideal),
                         [](const auto& info) { return std::string(device_kind_name(info.param)); });

// Every input the call reads changes the key; `threads` (which does not change the outcome) does not.
TEST(ProgramMemo, EveryInputIsInTheKey) {
  const MemoCase s(DeviceKind::pcm);
  const auto key = [&](const CellState& st, const DevicePhysics& ph, const std::vector<int16_t>& lv, int rows,
                       int cols, const ProgramParams& pa, const Rng& rng) {
    return program_memo_key(st, ph, lv.data(), rows, cols, pa, rng);
  };
  const std::string base = key(s.state, s.phys, s.levels, s.rows, s.cols, s.params, s.rng);
  EXPECT_EQ(base.size(), 32u);
  int changed = 0;
  const auto differs = [&](const std::string& k, const std::string& what) {
    EXPECT_NE(k, base) << what << " is not in the key";
    ++changed;
  };
  // The physics: every double field, the enums and the cell's integers.
  double DevicePhysics::*doubles[] = {
      &DevicePhysics::t_ref_c, &DevicePhysics::g_erased_ns, &DevicePhysics::pulse_gain,
      &DevicePhysics::pulse_noise, &DevicePhysics::slope_factor, &DevicePhysics::g_ref_ns,
      &DevicePhysics::retention_mv_per_decade, &DevicePhysics::retention_ea_ev, &DevicePhysics::drift_t0_s,
      &DevicePhysics::nu_at_gmax, &DevicePhysics::nu_at_gmin, &DevicePhysics::nu_sigma_at_gmax,
      &DevicePhysics::nu_sigma_at_gmin, &DevicePhysics::ea_at_gmax_ev, &DevicePhysics::ea_at_gmin_ev,
      &DevicePhysics::endurance_cycles};
  for (double DevicePhysics::*f : doubles) {
    DevicePhysics p = s.phys;
    p.*f *= 1.0 + 1e-12;
    differs(key(s.state, p, s.levels, s.rows, s.cols, s.params, s.rng), "a DevicePhysics field");
  }
  double DeviceSpec::*cell_doubles[] = {&DeviceSpec::g_min_ns, &DeviceSpec::g_max_ns, &DeviceSpec::prog_error_rel,
                                        &DeviceSpec::read_noise_rel};
  for (double DeviceSpec::*f : cell_doubles) {
    DevicePhysics p = s.phys;
    p.cell.*f *= 1.0 + 1e-12;
    differs(key(s.state, p, s.levels, s.rows, s.cols, s.params, s.rng), "a DeviceSpec field");
  }
  {
    DevicePhysics p = s.phys;
    p.kind = DeviceKind::rram;
    differs(key(s.state, p, s.levels, s.rows, s.cols, s.params, s.rng), "kind");
    p = s.phys;
    p.cell.bits_per_cell = 4;
    differs(key(s.state, p, s.levels, s.rows, s.cols, s.params, s.rng), "bits_per_cell");
    p = s.phys;
    p.cell.pair = PairMode::balanced;
    differs(key(s.state, p, s.levels, s.rows, s.cols, s.params, s.rng), "pair");
    p = s.phys;
    p.cell.ideal = true;
    differs(key(s.state, p, s.levels, s.rows, s.cols, s.params, s.rng), "ideal");
    p = s.phys;
    p.worn = WornMode::stuck_high;
    differs(key(s.state, p, s.levels, s.rows, s.cols, s.params, s.rng), "worn");
  }
  // The parameters.
  {
    ProgramParams p = s.params;
    p.max_iterations += 1;
    differs(key(s.state, s.phys, s.levels, s.rows, s.cols, p, s.rng), "max_iterations");
    p = s.params;
    p.tol_rel *= 1.5;
    differs(key(s.state, s.phys, s.levels, s.rows, s.cols, p, s.rng), "tol_rel");
    p = s.params;
    p.tol_gmax += 1e-6;
    differs(key(s.state, s.phys, s.levels, s.rows, s.cols, p, s.rng), "tol_gmax");
    p = s.params;
    p.verify_bits -= 1;
    differs(key(s.state, s.phys, s.levels, s.rows, s.cols, p, s.rng), "verify_bits");
    p = s.params;
    p.temp_c += 0.5;
    differs(key(s.state, s.phys, s.levels, s.rows, s.cols, p, s.rng), "temp_c");
    p = s.params;
    p.threads = 4;
    EXPECT_EQ(key(s.state, s.phys, s.levels, s.rows, s.cols, p, s.rng), base) << "threads do not change the outcome";
  }
  // The block, the levels, the generator.
  differs(key(s.state, s.phys, s.levels, s.rows, s.cols - 1, s.params, s.rng), "cols_used");
  {
    std::vector<int16_t> lv = s.levels;
    lv.back() = static_cast<int16_t>(lv.back() == 0 ? 1 : 0);
    differs(key(s.state, s.phys, lv, s.rows, s.cols, s.params, s.rng), "the last level");
    Rng r = s.rng;
    r.next();
    differs(key(s.state, s.phys, s.levels, s.rows, s.cols, s.params, r), "the generator's state");
  }
  // The cells of the block, each array; a cell outside the block is not read.
  {
    const int r = s.rows - 1, c = s.cols - 1;
    CellState st = s.state;
    st.g_neg(r, c) += 1e-3f;
    differs(key(st, s.phys, s.levels, s.rows, s.cols, s.params, s.rng), "g_neg");
    st = s.state;
    st.nu_pos(r, c) += 1e-3f;
    differs(key(st, s.phys, s.levels, s.rows, s.cols, s.params, s.rng), "nu_pos");
    st = s.state;
    st.cycles_neg(r, c) += 1;
    differs(key(st, s.phys, s.levels, s.rows, s.cols, s.params, s.rng), "cycles_neg");
    st = s.state;
    st.fault_pos(r, c) ^= kStuckHigh;
    differs(key(st, s.phys, s.levels, s.rows, s.cols, s.params, s.rng), "fault_pos");
    st = s.state;
    st.dead_col[static_cast<size_t>(c)] ^= 1;
    differs(key(st, s.phys, s.levels, s.rows, s.cols, s.params, s.rng), "dead_col");
    st = s.state;
    st.g_pos(s.rows, s.cols) += 1e-3f;  // outside the block
    EXPECT_EQ(key(st, s.phys, s.levels, s.rows, s.cols, s.params, s.rng), base) << "a cell outside the block";
  }
  EXPECT_EQ(changed, 16 + 4 + 5 + 5 + 3 + 5);
}

// A damaged entry (truncated, another key inside, a flipped byte in the header) is not taken: the
// call programs and stores a good one. A store that refuses leaves the run's results alone.
TEST(ProgramMemo, ADamagedOrRefusedEntryIsNotTaken) {
  const MemoCase s(DeviceKind::flash);
  CellState plain_state = s.state;
  Rng plain_rng = s.rng;
  const ProgramResult plain = program_verify(plain_state, s.phys, s.levels.data(), s.rows, s.cols, s.params, plain_rng);
  const std::string key = program_memo_key(s.state, s.phys, s.levels.data(), s.rows, s.cols, s.params, s.rng);

  MapStore good;
  {
    CellState st = s.state;
    Rng rng = s.rng;
    program_verify_memo(st, s.phys, s.levels.data(), s.rows, s.cols, s.params, rng, good);
  }
  const std::string entry = good.entries.at(key);
  std::string other_key = entry;
  other_key[8] = other_key[8] == 'a' ? 'b' : 'a';
  std::string bad_magic = entry;
  bad_magic[0] = 'X';
  for (const std::string& damaged : {entry.substr(0, entry.size() - 1), other_key, bad_magic, std::string()}) {
    MapStore store;
    store.entries[key] = damaged;
    CellState st = s.state;
    Rng rng = s.rng;
    MemoOutcome how = MemoOutcome::hit;
    const ProgramResult r = program_verify_memo(st, s.phys, s.levels.data(), s.rows, s.cols, s.params, rng, store, &how);
    EXPECT_EQ(how, MemoOutcome::miss);
    expect_same_result(r, plain);
    expect_same_state(st, plain_state);
    EXPECT_EQ(store.entries.at(key), entry) << "the damaged entry was not replaced by the call's";
  }
  MapStore refusing;
  refusing.refuse = true;
  CellState st = s.state;
  Rng rng = s.rng;
  MemoOutcome how = MemoOutcome::hit;
  const ProgramResult r = program_verify_memo(st, s.phys, s.levels.data(), s.rows, s.cols, s.params, rng, refusing, &how);
  EXPECT_EQ(how, MemoOutcome::unstored);
  expect_same_result(r, plain);
}

// Pulse records are not kept in an entry: such a call programs without the store; a bad call
// throws as program_verify does and stores nothing.
TEST(ProgramMemo, RecordsBypassAndBadCallsThrow) {
  const MemoCase s(DeviceKind::flash);
  MapStore store;
  ProgramParams rec = s.params;
  rec.record = true;
  CellState st = s.state;
  Rng rng = s.rng;
  MemoOutcome how = MemoOutcome::hit;
  const ProgramResult r = program_verify_memo(st, s.phys, s.levels.data(), s.rows, s.cols, rec, rng, store, &how);
  EXPECT_EQ(how, MemoOutcome::bypassed);
  EXPECT_EQ(r.records.size(), static_cast<size_t>(r.cells));
  EXPECT_EQ(store.loads + store.stores, 0);

  std::vector<int16_t> out_of_range = s.levels;
  out_of_range[3] = 1000;
  st = s.state;
  EXPECT_THROW(program_verify_memo(st, s.phys, out_of_range.data(), s.rows, s.cols, s.params, rng, store),
               std::invalid_argument);
  EXPECT_THROW(program_verify_memo(st, s.phys, s.levels.data(), s.state.rows + 1, s.cols, s.params, rng, store),
               std::invalid_argument);
  EXPECT_TRUE(store.entries.empty());
}

}  // namespace
