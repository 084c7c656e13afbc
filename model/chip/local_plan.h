// Which maps skip the shared SRAM (plain C++): with a local activation memory per tile
// (tile.local_memory_kib > 0), an op's output map goes from the tile that writes it straight to
// the local memories of the tiles that read it, and those ops read it there (docs/chip-model.md,
// "Local activation memory"). The plan is made per command from the layer program alone:
//   - a map is local when every op that reads it reads exactly that map (the same address and
//     stride), it is written whole by one op (not a CONCAT's channel range), it is not the
//     program's output (the host reads that from SRAM), and each reading tile's memory still has
//     room for two images of it (double buffering), in program order;
//   - the reading tiles are an MVM op's slice tiles (every copy) or a digital op's unit tile; a
//     map a digital op reads stays in SRAM when the digital ops run on the chip's global unit
//     (digital_on_tiles false: the GDPU sits beside the SRAM);
//   - an op's input is local when the op that last wrote its address before it is local.
// The values stay where the functional model keeps them (the SRAM, written untimed); the plan
// only decides where the timed transfers go, so results do not depend on it.
#pragma once

#include <cstdint>
#include <vector>

#include "aimc_image.h"

namespace aimc::chip {

struct LocalOp {
  std::vector<uint32_t> out_tiles;  // tiles whose memories receive the op's output (empty: SRAM)
  bool in_local[2] = {false, false};  // its input (and an ADD's second input) are read locally
};

// One entry per layer of `layers` (all SRAM when local_memory_bytes is 0).
std::vector<LocalOp> plan_local_memory(const std::vector<aimc_layer_t>& layers,
                                       const std::vector<aimc_slice_t>& slices, uint32_t out_addr,
                                       uint32_t batch, uint64_t local_memory_bytes, bool digital_on_tiles = true);

}  // namespace aimc::chip
