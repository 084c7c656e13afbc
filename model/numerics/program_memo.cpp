// program_verify_memo (program_memo.h): the key over every input of a call, and the outcome as
// bytes. An entry is "AIMCPV01", the key, the block size, the block's cell arrays the call changed
// (each_changed_array) as they are after it, the generator's state after it and the ProgramResult
// (without records); its size follows from the call's inputs alone, so a stored file of any other
// size is not read.
#include "numerics/program_memo.h"

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <type_traits>
#include <utility>

#include "numerics/device_model.h"

namespace aimc::num {

namespace {

constexpr char kMagic[] = "AIMCPV01";  // 8 bytes, no terminator stored
constexpr size_t kMagicBytes = 8;
constexpr size_t kKeyHexDigits = 32;

// A field added to one of these structs must be added to the key below: the sizes catch it.
static_assert(sizeof(DeviceSpec) == 48, "DeviceSpec changed: update program_memo_key");
static_assert(sizeof(DevicePhysics) == 192, "DevicePhysics changed: update program_memo_key");
static_assert(sizeof(ProgramParams) == 48, "ProgramParams changed: update program_memo_key");

class Bytes {
 public:
  template <typename T>
  void put(const T& v) {
    static_assert(std::is_trivially_copyable_v<T>);
    out_.append(reinterpret_cast<const char*>(&v), sizeof v);
  }
  void put_raw(const void* p, size_t n) { out_.append(static_cast<const char*>(p), n); }
  std::string& str() { return out_; }

 private:
  std::string out_;
};

// The key's hash: four 64-bit lanes over 32-byte blocks (each lane: add the word times a large odd
// constant, rotate, multiply), then the lanes and the length folded into two 64-bit values, each
// through a 64-bit finalising mix. Streaming, so the cells are hashed where they lie; several GB/s,
// so a hit costs far less than the pulses it saves. Not cryptographic: a key guards against
// accidents (another call's entry), not against an adversary writing the cache folder.
class KeyHash {
 public:
  void add(const void* p, size_t n) {
    const auto* b = static_cast<const unsigned char*>(p);
    total_ += n;
    if (fill_ > 0) {
      const size_t take = std::min(n, kBlock - fill_);
      std::memcpy(buf_ + fill_, b, take);
      fill_ += take, b += take, n -= take;
      if (fill_ < kBlock) return;
      block(buf_);
      fill_ = 0;
    }
    for (; n >= kBlock; b += kBlock, n -= kBlock) block(b);
    std::memcpy(buf_, b, n);
    fill_ = n;
  }
  template <typename T>
  void put(const T& v) {
    static_assert(std::is_trivially_copyable_v<T>);
    add(&v, sizeof v);
  }
  std::pair<uint64_t, uint64_t> finish() const {
    KeyHash h = *this;
    if (h.fill_ > 0) {
      std::memset(h.buf_ + h.fill_, 0, kBlock - h.fill_);
      h.block(h.buf_);
    }
    const uint64_t* l = h.lane_;
    const uint64_t a = rotl(l[0], 1) + rotl(l[1], 7) + rotl(l[2], 12) + rotl(l[3], 18) + total_;
    const uint64_t b = l[0] ^ rotl(l[1], 17) ^ rotl(l[2], 31) ^ rotl(l[3], 43) ^ (total_ * kP3);
    return {mix(a), mix(b ^ mix(a))};
  }

 private:
  static constexpr size_t kBlock = 32;
  static constexpr uint64_t kP1 = 0x9E3779B185EBCA87ull, kP2 = 0xC2B2AE3D27D4EB4Full, kP3 = 0x165667B19E3779F9ull;
  static uint64_t rotl(uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }
  static uint64_t mix(uint64_t x) {
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ull;
    x ^= x >> 33;
    return x;
  }
  void block(const unsigned char* p) {
    uint64_t w[4];
    std::memcpy(w, p, kBlock);
    for (int i = 0; i < 4; ++i) lane_[i] = rotl(lane_[i] + w[i] * kP2, 31) * kP1;
  }
  uint64_t lane_[4] = {kP1 + kP2, kP2, 0, 0 - kP1};
  unsigned char buf_[kBlock] = {};
  size_t fill_ = 0;
  uint64_t total_ = 0;
};

class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}
  template <typename T>
  T get() {
    T v;
    get_raw(&v, sizeof v);
    return v;
  }
  void get_raw(void* p, size_t n) {
    if (n > in_.size() - pos_) throw std::length_error("program memo entry too short");
    std::memcpy(p, in_.data() + pos_, n);
    pos_ += n;
  }
  bool done() const { return pos_ == in_.size(); }
  size_t pos() const { return pos_; }
  void skip(size_t n) {
    if (n > in_.size() - pos_) throw std::length_error("program memo entry too short");
    pos_ += n;
  }

 private:
  std::string_view in_;
  size_t pos_ = 0;
};

// The block [0, rows) x [0, cols) of a column-major matrix of the state's shape, column by column;
// a matrix of another shape (a kind that keeps no such array) contributes nothing.
template <typename M>
bool whole(const M& m, const CellState& s) {
  return m.rows() == s.rows && m.cols() == s.cols;
}
template <typename M>
size_t block_bytes(const M& m, const CellState& s, int rows, int cols) {
  return whole(m, s) ? sizeof(typename M::Scalar) * static_cast<size_t>(rows) * static_cast<size_t>(cols) : 0;
}
template <typename M>
void put_block(Bytes& b, const M& m, const CellState& s, int rows, int cols) {
  if (!whole(m, s)) return;
  for (int c = 0; c < cols; ++c) b.put_raw(m.data() + static_cast<long>(c) * m.rows(), sizeof(typename M::Scalar) * rows);
}
template <typename M>
void hash_block(KeyHash& h, const M& m, const CellState& s, int rows, int cols) {
  if (!whole(m, s)) return;
  for (int c = 0; c < cols; ++c) h.add(m.data() + static_cast<long>(c) * m.rows(), sizeof(typename M::Scalar) * rows);
}
template <typename M>
void get_block(Reader& r, M& m, const CellState& s, int rows, int cols) {
  if (!whole(m, s)) return;
  for (int c = 0; c < cols; ++c) r.get_raw(m.data() + static_cast<long>(c) * m.rows(), sizeof(typename M::Scalar) * rows);
}

// Every array program_verify reads, in one order (the key).
template <typename F>
void each_array(const CellState& s, F&& f) {
  f(s.g_pos), f(s.g_neg), f(s.nu_pos), f(s.nu_neg), f(s.cycles_pos), f(s.cycles_neg), f(s.fault_pos), f(s.fault_neg);
}
// The arrays a call of this kind changes (device.h, program_verify), in one order for the entry
// and its size: the conductances; the drift exponents of a drifting kind; the cycle counts and
// the fault bits (endurance) of a kind that counts a cycle per programmed cell. The others are
// left as they were, so an entry does not carry them (a flash entry is about half the size).
template <typename S, typename F>
void each_changed_array(S& s, const DeviceTraits& t, F&& f) {
  f(s.g_pos), f(s.g_neg);
  if (t.drift) f(s.nu_pos), f(s.nu_neg);
  if (t.cycles_on_program) f(s.cycles_pos), f(s.cycles_neg), f(s.fault_pos), f(s.fault_neg);
}

void put_rng(Bytes& b, const Rng::State& st) {
  for (uint64_t w : st.s) b.put(w);
  b.put(st.spare);
  b.put(static_cast<uint8_t>(st.has_spare));
}
Rng::State get_rng(Reader& r) {
  Rng::State st;
  for (uint64_t& w : st.s) w = r.get<uint64_t>();
  st.spare = r.get<double>();
  st.has_spare = r.get<uint8_t>() != 0;
  return st;
}
constexpr size_t kRngBytes = 4 * sizeof(uint64_t) + sizeof(double) + 1;

std::string hex128(uint64_t a, uint64_t b) {
  static const char* d = "0123456789abcdef";
  std::string s(kKeyHexDigits, '0');
  for (int i = 0; i < 16; ++i) {
    s[15 - i] = d[(a >> (4 * i)) & 15];
    s[31 - i] = d[(b >> (4 * i)) & 15];
  }
  return s;
}

size_t entry_bytes(const CellState& state, const DeviceTraits& t, int rows, int cols, const ProgramParams& params) {
  size_t n = kMagicBytes + kKeyHexDigits + 2 * sizeof(int32_t);
  each_changed_array(state, t, [&](const auto& m) { n += block_bytes(m, state, rows, cols); });
  const size_t cells = 2 * static_cast<size_t>(rows) * static_cast<size_t>(cols);
  n += kRngBytes + 4 * sizeof(int64_t) + cells * (sizeof(uint16_t) + sizeof(float) + sizeof(uint8_t)) +
       (static_cast<size_t>(params.max_iterations) + 1) * sizeof(int64_t);
  return n;
}

std::string entry(const std::string& key, const CellState& state, const DeviceTraits& t, int rows, int cols,
                  const Rng& rng, const ProgramResult& r) {
  Bytes b;
  b.put_raw(kMagic, kMagicBytes);
  b.put_raw(key.data(), kKeyHexDigits);
  b.put(static_cast<int32_t>(rows));
  b.put(static_cast<int32_t>(cols));
  each_changed_array(state, t, [&](const auto& m) { put_block(b, m, state, rows, cols); });
  put_rng(b, rng.state());
  b.put(static_cast<int64_t>(r.cells));
  b.put(static_cast<int64_t>(r.pulses));
  b.put(static_cast<int64_t>(r.verify_reads));
  b.put(static_cast<int64_t>(r.unconverged));
  b.put_raw(r.pulses_per_cell.data(), r.pulses_per_cell.size() * sizeof(uint16_t));
  b.put_raw(r.error.data(), r.error.size() * sizeof(float));
  b.put_raw(r.converged.data(), r.converged.size());
  for (long h : r.iteration_histogram) b.put(static_cast<int64_t>(h));
  return std::move(b.str());
}

// Parses an entry into a result, a copy of the block's arrays and the generator's state; false
// (nothing changed) for anything but an entry of exactly this key and shape.
bool apply_entry(std::string_view bytes, const std::string& key, CellState& state, const DeviceTraits& t, int rows,
                 int cols, const ProgramParams& params, Rng& rng, ProgramResult& out) {
  try {
    if (bytes.size() != entry_bytes(state, t, rows, cols, params)) return false;
    Reader in(bytes);
    char magic[kMagicBytes], k[kKeyHexDigits];
    in.get_raw(magic, kMagicBytes);
    in.get_raw(k, kKeyHexDigits);
    if (std::memcmp(magic, kMagic, kMagicBytes) != 0 || std::string_view(k, kKeyHexDigits) != key) return false;
    if (in.get<int32_t>() != rows || in.get<int32_t>() != cols) return false;
    // The arrays are written into the state only once the rest of the entry has been checked.
    Reader arrays = in;
    size_t array_bytes = 0;
    each_changed_array(state, t, [&](const auto& m) { array_bytes += block_bytes(m, state, rows, cols); });
    in.skip(array_bytes);
    const Rng::State rng_after = get_rng(in);
    ProgramResult r;
    const size_t cells = 2 * static_cast<size_t>(rows) * static_cast<size_t>(cols);
    r.cells = static_cast<long>(in.get<int64_t>());
    r.pulses = static_cast<long>(in.get<int64_t>());
    r.verify_reads = static_cast<long>(in.get<int64_t>());
    r.unconverged = static_cast<long>(in.get<int64_t>());
    if (r.cells != static_cast<long>(cells)) return false;
    r.pulses_per_cell.resize(cells);
    r.error.resize(cells);
    r.converged.resize(cells);
    in.get_raw(r.pulses_per_cell.data(), cells * sizeof(uint16_t));
    in.get_raw(r.error.data(), cells * sizeof(float));
    in.get_raw(r.converged.data(), cells);
    r.iteration_histogram.resize(static_cast<size_t>(params.max_iterations) + 1);
    for (long& h : r.iteration_histogram) h = static_cast<long>(in.get<int64_t>());
    if (!in.done()) return false;
    each_changed_array(state, t, [&](auto& m) { get_block(arrays, m, state, rows, cols); });
    rng.set_state(rng_after);
    out = std::move(r);
    return true;
  } catch (const std::exception&) {
    return false;
  }
}

}  // namespace

std::string program_memo_key(const CellState& state, const DevicePhysics& phys, const int16_t* levels,
                             int rows_used, int cols_used, const ProgramParams& params, const Rng& rng) {
  KeyHash h;
  h.add("aimc program memo 1\n", 20);
  h.put(static_cast<int32_t>(phys.kind));
  h.put(static_cast<uint8_t>(phys.cell.ideal));
  h.put(static_cast<int32_t>(phys.cell.pair));
  h.put(static_cast<int32_t>(phys.cell.bits_per_cell));
  for (double v : {phys.cell.g_min_ns, phys.cell.g_max_ns, phys.cell.prog_error_rel, phys.cell.read_noise_rel,
                   phys.t_ref_c, phys.g_erased_ns, phys.pulse_gain, phys.pulse_noise, phys.slope_factor,
                   phys.g_ref_ns, phys.retention_mv_per_decade, phys.retention_ea_ev, phys.drift_t0_s,
                   phys.nu_at_gmax, phys.nu_at_gmin, phys.nu_sigma_at_gmax, phys.nu_sigma_at_gmin,
                   phys.ea_at_gmax_ev, phys.ea_at_gmin_ev, phys.endurance_cycles})
    h.put(v);
  h.put(static_cast<int32_t>(phys.worn));
  h.put(static_cast<int32_t>(params.max_iterations));
  h.put(params.tol_rel);
  h.put(params.tol_gmax);
  h.put(static_cast<int32_t>(params.verify_bits));
  h.put(params.temp_c);
  h.put(static_cast<int32_t>(state.rows));
  h.put(static_cast<int32_t>(state.cols));
  h.put(static_cast<int32_t>(rows_used));
  h.put(static_cast<int32_t>(cols_used));
  if (levels != nullptr && rows_used > 0 && cols_used > 0)
    h.add(levels, sizeof(int16_t) * static_cast<size_t>(rows_used) * static_cast<size_t>(cols_used));
  each_array(state, [&](const auto& m) {
    h.put(static_cast<uint8_t>(whole(m, state)));
    hash_block(h, m, state, rows_used, cols_used);
  });
  const size_t dead = std::min(state.dead_col.size(), static_cast<size_t>(std::max(cols_used, 0)));
  h.put(static_cast<uint64_t>(dead));
  h.add(state.dead_col.data(), dead);
  const Rng::State st = rng.state();
  for (uint64_t w : st.s) h.put(w);
  h.put(st.spare);
  h.put(static_cast<uint8_t>(st.has_spare));
  const auto [h1, h2] = h.finish();
  return hex128(h1, h2);
}

ProgramResult program_verify_memo(CellState& state, const DevicePhysics& phys, const int16_t* levels,
                                  int rows_used, int cols_used, const ProgramParams& params, Rng& rng,
                                  ProgramStore& store, MemoOutcome* outcome) {
  const auto say = [outcome](MemoOutcome o) {
    if (outcome) *outcome = o;
  };
  if (params.record || rows_used < 0 || cols_used < 0 || rows_used > state.rows || cols_used > state.cols ||
      params.max_iterations < 0 || params.max_iterations > 65535) {
    say(MemoOutcome::bypassed);  // records are not kept; a bad call throws from program_verify
    return program_verify(state, phys, levels, rows_used, cols_used, params, rng);
  }
  const std::string key = program_memo_key(state, phys, levels, rows_used, cols_used, params, rng);
  const DeviceTraits traits = device_model(phys.kind).traits();
  ProgramResult r;
  if (const std::optional<std::string> bytes = store.load(key, entry_bytes(state, traits, rows_used, cols_used, params));
      bytes && apply_entry(*bytes, key, state, traits, rows_used, cols_used, params, rng, r)) {
    say(MemoOutcome::hit);
    return r;
  }
  r = program_verify(state, phys, levels, rows_used, cols_used, params, rng);
  say(store.store(key, entry(key, state, traits, rows_used, cols_used, rng, r)).empty() ? MemoOutcome::miss
                                                                                       : MemoOutcome::unstored);
  return r;
}

}  // namespace aimc::num
