// plan_local_memory: which maps go straight from tile to tile when the tiles have their own
// activation memory (chip/local_plan.h; plain C++, no SystemC).
#include <gtest/gtest.h>

#include <vector>

#include "chip/local_plan.h"

using aimc::chip::LocalOp;
using aimc::chip::plan_local_memory;

namespace {

constexpr uint32_t kPlanBase = 0x10000000;

// A dense op on tiles [first_tile, first_tile + tiles): in_bytes per image at in_addr, out_bytes
// at out_addr; its slices (one per tile) are appended to `slices`.
aimc_layer_t dense(std::vector<aimc_slice_t>& slices, uint32_t first_tile, uint32_t tiles, uint32_t in_addr,
                   uint32_t in_bytes, uint32_t out_addr, uint32_t out_bytes) {
  aimc_layer_t L{};
  L.kind = AIMC_OP_MVM;
  L.in_c = in_bytes, L.out_c = out_bytes;
  L.in_addr = in_addr, L.in_stride = in_bytes;
  L.out_addr = out_addr, L.out_stride = out_bytes;
  L.out_pixel_channels = out_bytes;
  L.first_slice = static_cast<uint32_t>(slices.size());
  L.slice_count = tiles;
  for (uint32_t t = 0; t < tiles; ++t) {
    aimc_slice_t S{};
    S.tile = first_tile + t;
    slices.push_back(S);
  }
  return L;
}

}  // namespace

TEST(LocalPlan, EachMapOfAChainGoesToTheTilesOfTheNextOp) {
  // 784 -> 256 -> 10 on tiles {0, 1}, {2}, {3}: op 0's map to tile 2, op 1's to tile 3; op 2 writes
  // the program's output, which the host reads from SRAM.
  std::vector<aimc_slice_t> s;
  const std::vector<aimc_layer_t> p = {dense(s, 0, 2, kPlanBase, 784, kPlanBase + 0x10000, 256),
                                       dense(s, 2, 1, kPlanBase + 0x10000, 256, kPlanBase + 0x20000, 128),
                                       dense(s, 3, 1, kPlanBase + 0x20000, 128, kPlanBase + 0x30000, 10)};
  const std::vector<LocalOp> plan = plan_local_memory(p, s, kPlanBase + 0x30000, 8, 4096);
  ASSERT_EQ(plan.size(), 3u);
  EXPECT_EQ(plan[0].out_tiles, (std::vector<uint32_t>{2}));
  EXPECT_EQ(plan[1].out_tiles, (std::vector<uint32_t>{3}));
  EXPECT_TRUE(plan[2].out_tiles.empty());
  EXPECT_FALSE(plan[0].in_local[0]);  // the image comes from the host through SRAM
  EXPECT_TRUE(plan[1].in_local[0]);
  EXPECT_TRUE(plan[2].in_local[0]);
  // Without a local memory, everything goes through SRAM.
  for (const LocalOp& op : plan_local_memory(p, s, kPlanBase + 0x30000, 8, 0)) {
    EXPECT_TRUE(op.out_tiles.empty());
    EXPECT_FALSE(op.in_local[0]);
  }
}

TEST(LocalPlan, AMapGoesLocalOnlyWhereTwoImagesOfItFitBesideTheOthers) {
  std::vector<aimc_slice_t> s;
  const std::vector<aimc_layer_t> p = {dense(s, 0, 1, kPlanBase, 784, kPlanBase + 0x10000, 256),
                                       dense(s, 1, 1, kPlanBase + 0x10000, 256, kPlanBase + 0x20000, 300),
                                       dense(s, 1, 1, kPlanBase + 0x20000, 300, kPlanBase + 0x30000, 10)};
  // Tile 1 reads both maps: 2 x 256 fits 1000 B, then 2 x 300 more does not: op 1's map stays in SRAM.
  const std::vector<LocalOp> plan = plan_local_memory(p, s, kPlanBase + 0x30000, 4, 1000);
  EXPECT_EQ(plan[0].out_tiles, (std::vector<uint32_t>{1}));
  EXPECT_TRUE(plan[1].out_tiles.empty());
  EXPECT_TRUE(plan[1].in_local[0]);
  EXPECT_FALSE(plan[2].in_local[0]);
  // 511 B cannot hold two 256-byte maps: nothing local.
  EXPECT_TRUE(plan_local_memory(p, s, kPlanBase + 0x30000, 4, 511)[0].out_tiles.empty());
}

TEST(LocalPlan, AMapReadByTwoOpsGoesToAllTheirTilesAndAnAddReadsBothInputs) {
  // Op 0's map is read by op 1 (tiles 1, 2) and, as the second input, by the ADD op 2 on unit tile
  // 3; op 1's map is the ADD's first input.
  std::vector<aimc_slice_t> s;
  std::vector<aimc_layer_t> p = {dense(s, 0, 1, kPlanBase, 64, kPlanBase + 0x1000, 64), dense(s, 1, 2, kPlanBase + 0x1000, 64, kPlanBase + 0x2000, 64)};
  aimc_layer_t add{};
  add.kind = AIMC_OP_ADD;
  add.unit = 3;
  add.in_addr = kPlanBase + 0x2000, add.in_stride = 64;
  add.in2_addr = kPlanBase + 0x1000, add.in2_stride = 64;
  add.out_addr = kPlanBase + 0x3000, add.out_stride = 64, add.out_c = 64, add.out_pixel_channels = 64;
  p.push_back(add);
  const std::vector<LocalOp> plan = plan_local_memory(p, s, kPlanBase + 0x3000, 2, 4096);
  EXPECT_EQ(plan[0].out_tiles, (std::vector<uint32_t>{1, 2, 3}));
  EXPECT_EQ(plan[1].out_tiles, (std::vector<uint32_t>{3}));
  EXPECT_TRUE(plan[2].in_local[0]);
  EXPECT_TRUE(plan[2].in_local[1]);
  // With the digital ops on the chip's global unit (beside the SRAM), a map a digital op reads
  // stays in SRAM: both maps here.
  for (const LocalOp& op : plan_local_memory(p, s, kPlanBase + 0x3000, 2, 4096, false)) {
    EXPECT_TRUE(op.out_tiles.empty());
    EXPECT_FALSE(op.in_local[0] || op.in_local[1]);
  }
}

TEST(LocalPlan, PartialReadsAndChannelRangesStayInSram) {
  std::vector<aimc_slice_t> s;
  // Op 1 reads only the second half of op 0's map (another address): op 0's map stays in SRAM.
  std::vector<aimc_layer_t> p = {dense(s, 0, 1, kPlanBase, 64, kPlanBase + 0x1000, 64), dense(s, 1, 1, kPlanBase + 0x1020, 32, kPlanBase + 0x2000, 8)};
  EXPECT_TRUE(plan_local_memory(p, s, kPlanBase + 0x2000, 1, 4096)[0].out_tiles.empty());
  EXPECT_FALSE(plan_local_memory(p, s, kPlanBase + 0x2000, 1, 4096)[1].in_local[0]);
  // A CONCAT-like write of a channel range of wider pixels is not a whole map.
  p = {dense(s, 0, 1, kPlanBase, 64, kPlanBase + 0x1000, 64), dense(s, 1, 1, kPlanBase + 0x1000, 64, kPlanBase + 0x2000, 8)};
  p[0].out_pixel_channels = 128;
  EXPECT_TRUE(plan_local_memory(p, s, kPlanBase + 0x2000, 1, 4096)[0].out_tiles.empty());
}
