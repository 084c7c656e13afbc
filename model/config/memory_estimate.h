// The host memory a platform takes to simulate, estimated from its configuration before anything
// is elaborated, and the check against a limit: a grid the validator allows (64 x 64 tiles of
// 1024 x 1024 cells) can need more memory than the machine has, and is refused with the keys that
// make it large instead of dying in std::bad_alloc half a minute later (docs/platform-config.md,
// "Memory"). No SystemC: the front ends (platforms/session.cpp) call it and tests run it alone.
//
// The one place that knows what a tile keeps per cell (kBytesPerCellPair and its parts below):
// when the cell state or the crossbar changes its storage, change the figures here.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "config/platform_config.h"

namespace aimc::config {

// Bytes one weight (a differential pair of cells) holds for the life of a run, in every tile
// whether or not it is programmed (measured: 42 B per pair, /usr/bin/time -v on aimc run; see
// memory_estimate.cpp):
//   num::CellState   g_pos, g_neg (float), nu_pos, nu_neg (float), cycles_pos, cycles_neg
//                    (uint32), fault_pos, fault_neg (uint8)                     26 B
//   num::Crossbar    g_pos_, g_neg_, g_diff_, noise_var_ (float)                16 B
inline constexpr uint64_t kBytesPerCellPair = 2 * 4 + 2 * 4 + 2 * 4 + 2 * 1 + 4 * 4;
// With tile.array.ir_drop the tile also keeps the conductances before the lines' loss (2 floats).
inline constexpr uint64_t kIrDropBytesPerCellPair = 2 * 4;
// While one tile is programmed (one at a time): the program-and-verify result per cell
// (num::ProgramResult: pulses uint16, error float, converged uint8; two cells a pair) and the
// effective conductances the tile computes for its crossbar (two floats).
inline constexpr uint64_t kProgrammingBytesPerCellPair = 2 * (2 + 4 + 1) + 2 * 4;
// Per weight column: dead_col (uint8), ADC offset (float), trim and test result (int32).
inline constexpr uint64_t kBytesPerColumn = 1 + 4 + 4 + 4;
// Per tile besides its cells and buffers: the SystemC modules, sockets, timelines and random
// streams of one tile (measured: lost in the noise of a few kB; 64 KiB is a generous bound).
inline constexpr uint64_t kBytesPerTile = 64 * 1024;
// The process itself: code and libraries, SystemC's kernel, the bundled model, the data set and
// the compiler's working set for aimc run (measured: ~24 MB besides host memory and SRAM).
inline constexpr uint64_t kProcessBytes = 32ull * 1000 * 1000;

// One named part of the estimate, e.g. {"tiles", ...}.
struct MemoryPart {
  std::string what;  // names the keys it comes from
  uint64_t bytes = 0;
};

struct MemoryEstimate {
  uint64_t tiles = 0;             // grid.rows x grid.cols
  uint64_t pairs_per_tile = 0;    // tile.array.rows x tile.array.cols
  uint64_t bytes_per_pair = 0;    // kBytesPerCellPair (+ kIrDropBytesPerCellPair)
  uint64_t tile_bytes = 0;        // all tiles: cells, columns, buffers and kBytesPerTile
  std::vector<MemoryPart> parts;  // tile_bytes first, then one tile's programming, SRAM, host
                                  // memory, the process, extras
  uint64_t total_bytes = 0;       // sum of parts
};

// The estimate for `cfg` with a host memory of host_memory_bytes (the chip's DMA-visible memory,
// app::kDefaultHostMemoryBytes). Add front-end parts (e.g. the trace store) with add_part.
MemoryEstimate estimate_memory(const PlatformConfig& cfg, uint64_t host_memory_bytes);
void add_part(MemoryEstimate& e, std::string what, uint64_t bytes);

// The limit the estimate is checked against, and where it came from (for the message).
struct MemoryLimit {
  uint64_t bytes = 0;   // 0: no limit (the check is off)
  std::string source;   // "MemAvailable", "physical memory", "AIMC_MEMORY_LIMIT_MB=..."
};

// The environment variable that sets the limit, in MB (10^6 bytes); 0 turns the check off.
inline constexpr const char* kMemoryLimitEnv = "AIMC_MEMORY_LIMIT_MB";

// MemAvailable of a /proc/meminfo text, in bytes; nullopt when the line is missing or malformed.
std::optional<uint64_t> parse_mem_available(const std::string& meminfo);
// The limit from AIMC_MEMORY_LIMIT_MB's value when `env_value` is non-null, else MemAvailable
// from `meminfo` (the text of /proc/meminfo, "" when unreadable), else `physical_bytes` (0 when
// unknown: no limit). Throws ConfigError naming the variable for a value that is not a whole
// number of MB.
MemoryLimit memory_limit(const char* env_value, const std::string& meminfo, uint64_t physical_bytes);
// The same for this machine: getenv, /proc/meminfo, sysconf(_SC_PHYS_PAGES) x page size.
MemoryLimit machine_memory_limit();

// "" when the estimate fits the limit (or there is none); else the refusal, naming the platform
// file, the keys, the estimate and the limit, e.g.
//   platforms/membrain-3x4.yaml: the platform needs about 27.9 GB of memory (grid.rows x
//   grid.cols = 64 x 64 = 4096 tiles of tile.array.rows x tile.array.cols = 400 x 400 cell pairs,
//   42 B per pair: 27.8 GB; programming a tile: 3.5 MB; ...), more than the 23.9 GB available
//   (MemAvailable in /proc/meminfo; set AIMC_MEMORY_LIMIT_MB to change the limit, in MB, 0 for none)
std::string memory_refusal(const PlatformConfig& cfg, const MemoryEstimate& e, const MemoryLimit& limit);

// "27.6 GB", "512.0 MB", "3.0 kB" (decimal units, one decimal).
std::string format_bytes(uint64_t bytes);

}  // namespace aimc::config
