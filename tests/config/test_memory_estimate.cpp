// The memory estimate of a platform (config/memory_estimate.h) and its refusal: linear in tiles and
// in cells, what each part adds, the limit from AIMC_MEMORY_LIMIT_MB / MemAvailable / physical
// memory, and a refusal message that names the file, the keys, the estimate and the limit.
#include <gtest/gtest.h>

#include <string>

#include "config/memory_estimate.h"
#include "config/platform_config.h"
#include "presets.h"

namespace cfgns = aimc::config;
using cfgns::MemoryEstimate;
using cfgns::PlatformConfig;

namespace {

PlatformConfig membrain() { return cfgns::load_platform(source_dir() + "/platforms/membrain-3x4.yaml"); }

PlatformConfig with_grid(PlatformConfig cfg, int rows, int cols) {
  cfg.grid_rows = rows;
  cfg.grid_cols = cols;
  return cfg;
}

PlatformConfig with_array(PlatformConfig cfg, int rows, int cols) {
  cfg.tile.array.rows = rows;
  cfg.tile.array.cols = cols;
  return cfg;
}

constexpr uint64_t kHost = 64ull << 20;

}  // namespace

TEST(MemoryEstimate, GrowsLinearlyWithTiles) {
  const PlatformConfig base = membrain();
  const MemoryEstimate one = cfgns::estimate_memory(with_grid(base, 1, 1), kHost);
  const MemoryEstimate twelve = cfgns::estimate_memory(with_grid(base, 3, 4), kHost);
  const MemoryEstimate big = cfgns::estimate_memory(with_grid(base, 64, 64), kHost);
  EXPECT_EQ(one.tiles, 1u);
  EXPECT_EQ(big.tiles, 4096u);
  EXPECT_EQ(twelve.tile_bytes, 12 * one.tile_bytes);
  EXPECT_EQ(big.tile_bytes, 4096 * one.tile_bytes);
  // Only the tiles' part moves with the grid.
  EXPECT_EQ(big.total_bytes - one.total_bytes, 4095 * one.tile_bytes);
}

TEST(MemoryEstimate, GrowsWithCellsByTheBytesPerPair) {
  const PlatformConfig base = with_grid(membrain(), 3, 4);
  const MemoryEstimate a = cfgns::estimate_memory(with_array(base, 400, 400), kHost);
  const MemoryEstimate b = cfgns::estimate_memory(with_array(base, 800, 400), kHost);
  EXPECT_EQ(a.pairs_per_tile, 160000u);
  EXPECT_EQ(b.pairs_per_tile, 320000u);
  EXPECT_EQ(a.bytes_per_pair, cfgns::kBytesPerCellPair);
  // Same columns: the difference is the cells alone, 12 tiles x 160000 more pairs.
  EXPECT_EQ(b.tile_bytes - a.tile_bytes, 12u * 160000u * cfgns::kBytesPerCellPair);
  // The cells are almost all of a 400 x 400 tile.
  EXPECT_GT(a.tile_bytes, 12u * 160000u * cfgns::kBytesPerCellPair);
  EXPECT_LT(a.tile_bytes, 12u * 160000u * cfgns::kBytesPerCellPair * 11 / 10);
}

TEST(MemoryEstimate, IrDropAddsTheUnloadedConductances) {
  PlatformConfig cfg = membrain();
  const MemoryEstimate off = cfgns::estimate_memory(cfg, kHost);
  cfg.tile.array.ir_drop = true;
  const MemoryEstimate on = cfgns::estimate_memory(cfg, kHost);
  EXPECT_EQ(on.bytes_per_pair, cfgns::kBytesPerCellPair + cfgns::kIrDropBytesPerCellPair);
  EXPECT_EQ(on.tile_bytes - off.tile_bytes,
            static_cast<uint64_t>(cfg.tile_count()) * 160000u * cfgns::kIrDropBytesPerCellPair);
}

TEST(MemoryEstimate, CountsSramHostMemoryAndTheProcess) {
  PlatformConfig cfg = membrain();
  const MemoryEstimate a = cfgns::estimate_memory(cfg, kHost);
  cfg.sram.size_kib += 1024;
  const MemoryEstimate b = cfgns::estimate_memory(cfg, kHost + 1000);
  EXPECT_EQ(b.total_bytes - a.total_bytes, 1024u * 1024u + 1000u);
  uint64_t sum = 0;
  for (const auto& p : a.parts) sum += p.bytes;
  EXPECT_EQ(sum, a.total_bytes);
  EXPECT_EQ(a.total_bytes, a.tile_bytes + 160000u * cfgns::kProgrammingBytesPerCellPair + 2048u * 1024u + kHost +
                               cfgns::kProcessBytes);
}

TEST(MemoryEstimate, AddPartAddsToTheTotal) {
  MemoryEstimate e = cfgns::estimate_memory(membrain(), kHost);
  const uint64_t before = e.total_bytes;
  cfgns::add_part(e, "--trace", 256000000);
  EXPECT_EQ(e.total_bytes, before + 256000000u);
  EXPECT_EQ(e.parts.back().what, "--trace");
}

TEST(MemoryEstimate, TheLargestGridOfTheLargestArraysIsTensOfGigabytes) {
  // 64 x 64 tiles of 1024 x 1024 pairs, the most the validator allows: no overflow, ~176 GB.
  const MemoryEstimate e = cfgns::estimate_memory(with_array(with_grid(membrain(), 64, 64), 1024, 1024), kHost);
  EXPECT_GT(e.total_bytes, 4096ull * 1024 * 1024 * cfgns::kBytesPerCellPair);
  EXPECT_LT(e.total_bytes, 4096ull * 1024 * 1024 * cfgns::kBytesPerCellPair * 11 / 10);
}

TEST(MemoryLimit, MemAvailableIsReadFromMeminfo) {
  const std::string meminfo =
      "MemTotal:       24683520 kB\nMemFree:        22391808 kB\nMemAvailable:   24221696 kB\n"
      "Buffers:          123456 kB\n";
  ASSERT_TRUE(cfgns::parse_mem_available(meminfo).has_value());
  EXPECT_EQ(*cfgns::parse_mem_available(meminfo), 24221696ull * 1024);
  EXPECT_FALSE(cfgns::parse_mem_available("MemTotal: 1 kB\n").has_value());
  EXPECT_FALSE(cfgns::parse_mem_available("MemAvailable: lots\n").has_value());
  EXPECT_FALSE(cfgns::parse_mem_available("").has_value());
}

TEST(MemoryLimit, TheEnvironmentWinsThenMemAvailableThenPhysicalMemory) {
  const std::string meminfo = "MemAvailable:   1000 kB\n";
  const cfgns::MemoryLimit env = cfgns::memory_limit("250", meminfo, 5000);
  EXPECT_EQ(env.bytes, 250u * 1000u * 1000u);
  EXPECT_NE(env.source.find("AIMC_MEMORY_LIMIT_MB=250"), std::string::npos);
  EXPECT_EQ(cfgns::memory_limit("0", meminfo, 5000).bytes, 0u);  // 0: no limit
  const cfgns::MemoryLimit avail = cfgns::memory_limit(nullptr, meminfo, 5000);
  EXPECT_EQ(avail.bytes, 1000u * 1024u);
  EXPECT_NE(avail.source.find("MemAvailable"), std::string::npos);
  const cfgns::MemoryLimit phys = cfgns::memory_limit(nullptr, "", 5000);
  EXPECT_EQ(phys.bytes, 5000u);
  EXPECT_EQ(phys.source, "physical memory");
  EXPECT_EQ(cfgns::memory_limit(nullptr, "", 0).bytes, 0u);  // nothing known: no limit
}

TEST(MemoryLimit, ABadEnvironmentValueIsRefusedNamingTheVariable) {
  for (const char* bad : {"", "12x", "-1", "1.5", "99999999999999999999"}) {
    const std::string msg = error_of([&] { cfgns::memory_limit(bad, "", 0); });
    EXPECT_NE(msg.find("AIMC_MEMORY_LIMIT_MB"), std::string::npos) << bad << ": " << msg;
    EXPECT_NE(msg.find("whole number of MB"), std::string::npos) << msg;
  }
}

TEST(MemoryRefusal, ASmallLimitRefusesNamingTheFileTheKeysAndTheFigures) {
  const PlatformConfig cfg = with_grid(membrain(), 64, 64);
  const MemoryEstimate e = cfgns::estimate_memory(cfg, kHost);
  const std::string msg = cfgns::memory_refusal(cfg, e, {1000u * 1000u, "AIMC_MEMORY_LIMIT_MB=1"});
  for (const std::string& want :
       {std::string("membrain-3x4.yaml: the platform needs about ") + cfgns::format_bytes(e.total_bytes),
        std::string("grid.rows x grid.cols = 64 x 64 = 4096 tiles"),
        std::string("tile.array.rows x tile.array.cols = 400 x 400 cell pairs, 42 B per pair"),
        std::string("sram.size_kib: 2.1 MB"), std::string("more than the 1.0 MB available"),
        std::string("(AIMC_MEMORY_LIMIT_MB=1; set AIMC_MEMORY_LIMIT_MB to change the limit")})
    EXPECT_NE(msg.find(want), std::string::npos) << "missing '" << want << "' in: " << msg;
}

TEST(MemoryRefusal, NothingWhenTheEstimateFitsOrThereIsNoLimit) {
  const PlatformConfig cfg = membrain();
  const MemoryEstimate e = cfgns::estimate_memory(cfg, kHost);
  EXPECT_EQ(cfgns::memory_refusal(cfg, e, {e.total_bytes, "test"}), "");
  EXPECT_NE(cfgns::memory_refusal(cfg, e, {e.total_bytes - 1, "test"}), "");
  EXPECT_EQ(cfgns::memory_refusal(cfg, e, {0, ""}), "");
}

TEST(MemoryRefusal, BytesAreFormattedInDecimalUnits) {
  EXPECT_EQ(cfgns::format_bytes(999), "999 B");
  EXPECT_EQ(cfgns::format_bytes(1000), "1.0 kB");
  EXPECT_EQ(cfgns::format_bytes(2097152), "2.1 MB");
  EXPECT_EQ(cfgns::format_bytes(27600000000ull), "27.6 GB");
}
