// MapHazards: which (op, image) pairs must precede which when a layer program's SRAM layout
// shares addresses between ops (plain C++, no SystemC).
#include <gtest/gtest.h>

#include <vector>

#include "chip/map_hazards.h"

using aimc::chip::MapHazards;
using aimc::chip::OpImage;

namespace {

constexpr uint32_t kMapBase = 0x10000000;

// A dense op: in_bytes per image at in_addr, out_bytes per image at out_addr.
aimc_layer_t dense(uint32_t in_addr, uint32_t in_bytes, uint32_t out_addr, uint32_t out_bytes) {
  aimc_layer_t L{};
  L.kind = AIMC_OP_MVM;
  L.in_h = L.in_w = 1, L.in_c = in_bytes;
  L.out_h = L.out_w = 1, L.out_c = out_bytes;
  L.in_addr = in_addr, L.in_stride = in_bytes;
  L.out_addr = out_addr, L.out_stride = out_bytes;
  L.out_pixel_channels = out_bytes;
  return L;
}

}  // namespace

TEST(MapHazards, AnOpWaitsForTheOpThatWroteItsInputForTheSameImage) {
  // 784 -> 256 -> 10, each map in its own region: no address is shared.
  const std::vector<aimc_layer_t> p = {dense(kMapBase, 784, kMapBase + 0x10000, 256), dense(kMapBase + 0x10000, 256, kMapBase + 0x20000, 10)};
  const MapHazards h(p, 8);
  EXPECT_TRUE(h.before(0, 3).empty());
  EXPECT_EQ(h.before(1, 3), (std::vector<OpImage>{{0, 3}}));
}

TEST(MapHazards, AnOutputOverAnotherImagesInputWaitsForThatImageToReadIt) {
  // Op 1 writes its 128-byte maps where op 0 read the 784-byte inputs (the input is dead after op
  // 0 when the batch runs op after op): image 7's output [896, 1024) overlaps image 1's input.
  const std::vector<aimc_layer_t> p = {dense(kMapBase, 784, kMapBase + 0x100000, 256), dense(kMapBase + 0x100000, 256, kMapBase, 128)};
  const MapHazards h(p, 8);
  EXPECT_EQ(h.before(1, 7), (std::vector<OpImage>{{0, 1}, {0, 7}}));
  EXPECT_EQ(h.before(1, 0), (std::vector<OpImage>{{0, 0}}));
}

TEST(MapHazards, AWideMapOverSmallerOnesWaitsForEachAndStopsAtTheBatch) {
  // Op 1 writes 3136 bytes per image over op 0's 784-byte inputs: four images each.
  const std::vector<aimc_layer_t> p = {dense(kMapBase + 0x100000, 784, kMapBase, 12544), dense(kMapBase, 12544, kMapBase + 0x100000, 3136)};
  EXPECT_EQ(MapHazards(p, 8).before(1, 1), (std::vector<OpImage>{{0, 1}, {0, 4}, {0, 5}, {0, 6}, {0, 7}}));
  // With a batch of 6 only images 4 and 5 exist past image 1.
  EXPECT_EQ(MapHazards(p, 6).before(1, 1), (std::vector<OpImage>{{0, 1}, {0, 4}, {0, 5}}));
  EXPECT_TRUE(MapHazards(p, 6).before(2, 0).empty());  // no such op
}

TEST(MapHazards, ChannelRangesOfOneMapDoNotWaitForEachOtherButItsReaderWaitsForBoth) {
  // Two ops write channels [0, 4) and [4, 12) of a 2-pixel map of 12 channels (CONCAT), a third
  // reads the whole map.
  aimc_layer_t a = dense(kMapBase, 16, kMapBase + 0x1000, 4), b = dense(kMapBase, 16, kMapBase + 0x1000, 8);
  for (aimc_layer_t* L : {&a, &b}) {
    L->kind = AIMC_OP_CONCAT;
    L->out_w = 2;
    L->out_pixel_channels = 12;
    L->out_stride = 24;
  }
  b.out_c_offset = 4;
  const aimc_layer_t reader = dense(kMapBase + 0x1000, 24, kMapBase + 0x2000, 10);
  const MapHazards h({a, b, reader}, 4);
  EXPECT_TRUE(h.before(1, 2).empty());
  EXPECT_EQ(h.before(2, 2), (std::vector<OpImage>{{0, 2}, {1, 2}}));
}
