// Program-and-verify with a memo: a call whose every input was seen before (the device physics,
// the parameters, the levels, the block's cells as they were and the generator's state) takes the
// outcome stored then (the block's cells after it, the generator after it and the ProgramResult)
// instead of pulsing again. The outcome is the same bits as the call's own: a sweep whose points
// differ only in what programming does not read (the converters, the interconnect, the bus) and a
// run repeated with another --at program their arrays once (docs/sweeps.md, "The programming
// cache").
//
// Plain C++: the store behind it (a folder of files for aimc run --program-cache) is the caller's.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "numerics/device.h"
#include "numerics/rng.h"

namespace aimc::num {

// Where memoised outcomes live, by key (32 hex digits). Implementations may drop what they cannot
// keep: a memo only saves time.
class ProgramStore {
 public:
  virtual ~ProgramStore() = default;
  // The bytes stored under `key`, or nothing. `expected_bytes` is the only size the key's entry
  // can have: a store may refuse to read anything else (a damaged or foreign file).
  virtual std::optional<std::string> load(const std::string& key, size_t expected_bytes) = 0;
  // Keeps `bytes` under `key`; "" when kept, else why not (the run goes on).
  virtual std::string store(const std::string& key, std::string_view bytes) = 0;
};

// How a memoised call went.
enum class MemoOutcome {
  hit,       // the stored outcome was taken
  miss,      // programmed, and the outcome stored
  unstored,  // programmed; the store did not keep it
  bypassed,  // programmed without the memo: params.record (the pulse records are not kept)
};

// program_verify (device.h) through `store`: the same results, state changes and draws from `rng`
// as program_verify itself, by construction (a hit puts back exactly what the call left). Throws
// as program_verify does (a call that would throw is never stored).
ProgramResult program_verify_memo(CellState& state, const DevicePhysics& phys, const int16_t* levels,
                                  int rows_used, int cols_used, const ProgramParams& params, Rng& rng,
                                  ProgramStore& store, MemoOutcome* outcome = nullptr);

// The key of a call (exposed for tests): a 128-bit hash (program_memo.cpp), as 32 hex digits, over
// every input program_verify reads: a format tag, each DevicePhysics field, the parameters that
// change the outcome (not `threads`), the block size, the levels, the block's cell state (both
// conductances, drift exponents, cycle counts and fault bits) and the dead columns, and the
// generator's state.
std::string program_memo_key(const CellState& state, const DevicePhysics& phys, const int16_t* levels,
                             int rows_used, int cols_used, const ProgramParams& params, const Rng& rng);

}  // namespace aimc::num
