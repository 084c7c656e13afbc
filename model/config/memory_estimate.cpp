#include "config/memory_estimate.h"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <sstream>

// Measured (aimc run --limit 10, peak RSS from /usr/bin/time, Release build) against this
// estimate; membrain-3x4 with --set grid.* / tile.array.*, and two presets (MB = 10^6 bytes):
//   platform             grid    array       measured   estimated   estimated / measured
//   membrain-3x4         1x1     400x400       98.4        111.5      1.13
//   membrain-3x4         3x4     400x400      173.6        186.3      1.07
//   membrain-3x4         6x8     200x200      170.9        186.1      1.09
//   membrain-3x4         6x8     400x400      415.3        430.8      1.04
//   membrain-3x4         3x4     800x800      423.8        438.8      1.04
//   membrain-3x4         12x16   400x400     1382.1       1409.1      1.02
//   mythic-m1076         4x19    1024x1024   3402.1       3502        1.03
//   hermes-64            (its own)            267.0        283.4      1.06
// Between the membrain rows, memory grows by 42 B per cell pair and tile (kBytesPerCellPair).
// Table also in docs/platform-config.md, "Memory"; measure again when the cell storage changes.

namespace aimc::config {

namespace {

uint64_t sat_mul(uint64_t a, uint64_t b) {
  if (a != 0 && b > std::numeric_limits<uint64_t>::max() / a) return std::numeric_limits<uint64_t>::max();
  return a * b;
}
uint64_t sat_add(uint64_t a, uint64_t b) {
  return b > std::numeric_limits<uint64_t>::max() - a ? std::numeric_limits<uint64_t>::max() : a + b;
}

}  // namespace

void add_part(MemoryEstimate& e, std::string what, uint64_t bytes) {
  e.parts.push_back({std::move(what), bytes});
  e.total_bytes = sat_add(e.total_bytes, bytes);
}

MemoryEstimate estimate_memory(const PlatformConfig& cfg, uint64_t host_memory_bytes) {
  MemoryEstimate e;
  const TileConfig& t = cfg.tile;
  e.tiles = static_cast<uint64_t>(std::max(cfg.grid_rows, 0)) * static_cast<uint64_t>(std::max(cfg.grid_cols, 0));
  const uint64_t rows = static_cast<uint64_t>(std::max(t.array.rows, 0));
  const uint64_t cols = static_cast<uint64_t>(std::max(t.array.cols, 0));
  e.pairs_per_tile = rows * cols;
  e.bytes_per_pair = kBytesPerCellPair + (t.array.ir_drop ? kIrDropBytesPerCellPair : 0);
  // The tile's input and output buffers (chip/tile.cpp: local_), as the tile sizes them.
  const uint64_t buffers = static_cast<uint64_t>(std::max(t.input_buffer_bytes, 0)) +
                           std::max<uint64_t>(static_cast<uint64_t>(std::max(t.output_buffer_bytes, 0)), 4 * cols);
  const uint64_t per_tile = sat_add(sat_add(sat_mul(e.pairs_per_tile, e.bytes_per_pair), cols * kBytesPerColumn),
                                    sat_add(buffers, kBytesPerTile));
  e.tile_bytes = sat_mul(e.tiles, per_tile);
  add_part(e, "tiles", e.tile_bytes);
  add_part(e, "programming a tile", e.tiles > 0 ? sat_mul(e.pairs_per_tile, kProgrammingBytesPerCellPair) : 0);
  add_part(e, "sram.size_kib", static_cast<uint64_t>(std::max(cfg.sram.size_kib, 0)) * 1024);
  add_part(e, "host memory", host_memory_bytes);
  add_part(e, "the simulator", kProcessBytes);
  return e;
}

std::optional<uint64_t> parse_mem_available(const std::string& meminfo) {
  std::istringstream in(meminfo);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("MemAvailable:", 0) != 0) continue;
    std::istringstream fields(line.substr(13));
    uint64_t kb = 0;
    std::string unit;
    if (!(fields >> kb) || !(fields >> unit) || unit != "kB") return std::nullopt;
    return sat_mul(kb, 1024);
  }
  return std::nullopt;
}

MemoryLimit memory_limit(const char* env_value, const std::string& meminfo, uint64_t physical_bytes) {
  if (env_value != nullptr) {
    const std::string v = env_value;
    const bool digits = !v.empty() && v.size() <= 12 &&
                        std::all_of(v.begin(), v.end(), [](unsigned char c) { return std::isdigit(c) != 0; });
    if (!digits)
      throw ConfigError(std::string(kMemoryLimitEnv) + ": expected a whole number of MB (10^6 bytes; 0: no limit), got '" +
                        v + "'");
    return {std::stoull(v) * 1000ull * 1000ull, std::string(kMemoryLimitEnv) + "=" + v};
  }
  if (const auto avail = parse_mem_available(meminfo)) return {*avail, "MemAvailable in /proc/meminfo"};
  if (physical_bytes > 0) return {physical_bytes, "physical memory"};
  return {0, ""};
}

MemoryLimit machine_memory_limit() {
  std::string meminfo;
  {
    std::ifstream f("/proc/meminfo");
    if (f) {
      std::ostringstream s;
      s << f.rdbuf();
      meminfo = s.str();
    }
  }
  uint64_t physical = 0;
  const long pages = sysconf(_SC_PHYS_PAGES);
  const long page = sysconf(_SC_PAGESIZE);
  if (pages > 0 && page > 0) physical = sat_mul(static_cast<uint64_t>(pages), static_cast<uint64_t>(page));
  return memory_limit(std::getenv(kMemoryLimitEnv), meminfo, physical);
}

std::string format_bytes(uint64_t bytes) {
  static const char* const units[] = {"B", "kB", "MB", "GB", "TB", "PB", "EB"};
  double v = static_cast<double>(bytes);
  int u = 0;
  while (v >= 1000.0 && u < 6) {
    v /= 1000.0;
    ++u;
  }
  char buf[32];
  if (u == 0) std::snprintf(buf, sizeof buf, "%llu B", static_cast<unsigned long long>(bytes));
  else std::snprintf(buf, sizeof buf, "%.1f %s", v, units[u]);
  return buf;
}

std::string memory_refusal(const PlatformConfig& cfg, const MemoryEstimate& e, const MemoryLimit& limit) {
  if (limit.bytes == 0 || e.total_bytes <= limit.bytes) return "";
  std::ostringstream m;
  m << (cfg.source_file.empty() ? std::string("config") : cfg.source_file) << ": the platform needs about "
    << format_bytes(e.total_bytes) << " of memory (grid.rows x grid.cols = " << cfg.grid_rows << " x " << cfg.grid_cols
    << " = " << e.tiles << " tiles of tile.array.rows x tile.array.cols = " << cfg.tile.array.rows << " x "
    << cfg.tile.array.cols << " cell pairs, " << e.bytes_per_pair << " B per pair"
    << (cfg.tile.array.ir_drop ? " with tile.array.ir_drop" : "") << ": " << format_bytes(e.tile_bytes);
  for (const MemoryPart& p : e.parts)
    if (p.what != "tiles") m << "; " << p.what << ": " << format_bytes(p.bytes);
  m << "), more than the " << format_bytes(limit.bytes) << " available (" << limit.source << "; set "
    << kMemoryLimitEnv << " to change the limit, in MB, 0 for none)";
  return m.str();
}

}  // namespace aimc::config
