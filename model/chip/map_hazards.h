// Which steps of a layer program over a batch must wait for which, because they touch the same
// activation SRAM: the sequencer's scoreboard when it overlaps images.
//
// The program means "op after op, each over the whole batch" (op-major): op k of every image
// runs after op k - 1 of every image. The compiler's SRAM layout relies on that: a map gets the
// addresses of maps whose lifetimes over the ops have ended, for the whole batch at once
// (compiler/passes/sram_layout.cpp), so image u's map of op j and image v's map of op k > j may
// share bytes. Any other order of the (op, image) pairs computes the same if each pair that
// accesses bytes an op-major-earlier pair accessed, one of the two writing, comes after it
// (read after write, write after read, write after write). Pairs of the same op touch disjoint
// bytes (each image has its own stride of every map), so only earlier ops matter.
//
// An access is the bytes an op reads (its input map, and the second input of ADD) or writes (its
// output map; for CONCAT, its channel range in every pixel of a wider map) for one image. Two
// accesses overlap when their spans do, except two channel ranges of the same map that do not.
// Plain C++.
#pragma once

#include <cstdint>
#include <vector>

#include "aimc_image.h"

namespace aimc::chip {

struct OpImage {
  uint32_t op = 0, image = 0;
  bool operator==(const OpImage& o) const { return op == o.op && image == o.image; }
};

class MapHazards {
 public:
  MapHazards(const std::vector<aimc_layer_t>& layers, uint32_t batch);
  // The pairs (op j < k, image u) that (k, v) must wait for, op by op, images ascending.
  std::vector<OpImage> before(uint32_t k, uint32_t v) const;

 private:
  struct Access {
    uint64_t addr = 0, stride = 0;  // image u's bytes start at addr + u * stride
    uint64_t span = 0;              // from the first byte to one past the last
    bool write = false;
    // Channel range of a map with `pixel` bytes per pixel: bytes [ch_begin, ch_end) of each
    // (CONCAT's output); pixel == 0 for a contiguous access.
    uint64_t pixel = 0, ch_begin = 0, ch_end = 0;
  };
  static bool disjoint_channels(const Access& a, const Access& b);

  uint32_t batch_;
  std::vector<std::vector<Access>> access_;  // per op
};

}  // namespace aimc::chip
