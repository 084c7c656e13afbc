// Compiler back end: calibrate and quantize a float Network for a platform, map its layers onto
// tiles, place activations in SRAM and emit the deployment image (firmware_stubs/include/
// aimc_image.h, described in docs/deployment-image.md). compile() runs the passes of passes/
// (passes/context.h, docs/compiler.md) over one context.
#pragma once

#include <Eigen/Dense>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "compile_options.h"
#include "config/platform_config.h"
#include "errors.h"
#include "graph.h"
#include "image.h"
#include "numerics/crossbar.h"

namespace aimc::compiler {

// One block of an MVM op on one tile (what an aimc_slice_t says, plus the op and its segment).
struct SlicePlan {
  int layer = 0;    // index of the MVM op in Graph::ops
  int tile = 0;
  int row_begin = 0, row_count = 0;
  int col_begin = 0, col_count = 0;
  int reduce_tile = 0;
  int tile_row = 0, tile_col = 0;  // where the block sits on the tile
  int segment = 0;                 // weight load it belongs to
  int replica = 0;                 // which copy of the op's weights (0 = the original)
  // Rows reserved under the block for its column block's bias (CompileOptions::bias_in_array):
  // 1 on the first row block of a column block whose op has a bias, else 0. They take tile rows
  // tile_row + row_count .. and count as used cells; the block's inputs are row_count.
  int bias_rows = 0;
};

struct CompiledModel {
  std::vector<uint8_t> image;  // the file bytes
  nlohmann::json summary;      // META contents plus per-layer calibration statistics
  long macs_per_inference = 0;
  long params = 0;             // weights + biases
  int tiles_used = 0;          // tiles that hold weights in some segment
  int max_batch = 0;           // images the activation SRAM holds per run
  int segments = 1;            // weight loads per pass of the network (1 = it fits)
};

// The mapper. Cuts each MVM op's weight matrix (patch rows x output channels; block-diagonal for
// grouped convolutions) into blocks of at most R x C (a dense matrix into ceil(rows/R) x
// ceil(cols/C) balanced blocks; a grouped one into runs of whole groups), and places the blocks on
// the tiles by best-fit rectangle packing, so small ops share a tile. Ops are taken in order; when
// an op's blocks no longer fit in the free space, a new segment (weight load) starts on an empty
// chip. Slices are ordered by op, then column block, then row block. Throws CompileError naming
// the op if one op alone needs more than the whole chip. `digital_depthwise` leaves depthwise
// convolutions off the tiles. `bias_in_array` reserves one always-on row per column block of an op
// whose bias is not all zeros, under its first row block (that block then holds one weight row
// fewer of the split: rows + 1 are cut into ceil((rows + 1) / R) balanced blocks).
std::vector<SlicePlan> plan_mapping(const Graph& g, const aimc::config::PlatformConfig& cfg,
                                    bool digital_depthwise = false, bool bias_in_array = false);
std::vector<SlicePlan> plan_mapping(const Network& net, const aimc::config::PlatformConfig& cfg);

// Replication for throughput. In each segment, while tiles are left empty: find the tile with the
// most array time per image (sum over its blocks of output positions / copies of the op x the
// block's MVM time, tile.dac + array + ADC rounds), take the op that contributes most to it, and,
// if its blocks fit on the empty tiles (one block per tile), add one more copy of it there. Stops
// when the busiest op's copy no longer fits, or when that tile's time per image is no longer above
// the bus's (patch bytes of every block, partial sums, op outputs and digital ops' inputs, over
// bus.width_bytes x bus.clock_mhz): copies do not shorten the bus's share. Returns the plan with the copies appended (replica
// 1, 2, ... of an op after its original slices); an op's chunks of output positions then go to
// its copies in turn. Ops that read one position per image (dense layers) share the images.
std::vector<SlicePlan> replicate_for_throughput(std::vector<SlicePlan> plan, const Graph& g,
                                                const aimc::config::PlatformConfig& cfg);

// Where the weight blocks sit and how full each tile is: cells used (both cells of every pair of
// every block on the tile) over cells available (2 x rows x cols), per tile and over all tiles of
// the chip, plus a readable map (one line per tile). JSON:
//   {"overall": f, "used_tiles": f, "tiles": [{"tile", "cells_used", "cells", "utilization",
//     "blocks": [{"layer", "rows": [begin, end), "cols": [begin, end), "at": [row, col],
//     "replica" (copies only: 1, 2, ...), "bias_rows" (only when > 0)}]}], "map": ["..."]}
// A block's cells are 2 x (rows + bias_rows) x cols.
// "overall" divides by every tile of the chip, "used_tiles" by the tiles that hold a block.
// With several segments, "segments" lists each segment's placement the same way, and the
// top-level figures are those of segment 0 (tiles hold one segment at a time).
nlohmann::json placement_summary(const std::vector<SlicePlan>& plan, const Graph& g,
                                 const aimc::config::PlatformConfig& cfg);

// calibration_inputs: n x g.in_features() (C, H, W order), the kind of data the network will see
// (e.g. training images in [0, 1]). Throws CompileError for unsupported settings or ops, bad
// calibration data, an op larger than the chip, activation SRAM or program memory too small.
CompiledModel compile(const Graph& g, const aimc::config::PlatformConfig& cfg,
                      const Eigen::MatrixXf& calibration_inputs, const CompileOptions& options = {});
// What compile() reads of the platform and the options, as text: two configurations with the
// same text compile one graph with the same calibration inputs to the same image and summary
// (`aimc run --compile-cache` keys its cache with it; CompilerCache.KeyTextNamesEveryInput changes
// every platform key in turn and checks). With options.replicate, the replication pass weighs the
// tiles' cost models: the text is then the whole configuration.
std::string compile_inputs_text(const aimc::config::PlatformConfig& cfg, const CompileOptions& options);

CompiledModel compile(const Network& net, const aimc::config::PlatformConfig& cfg,
                      const Eigen::MatrixXf& calibration_inputs, const CompileOptions& options = {});

// Activations in the network's C, H, W order <-> the chip's H, W, C order (one row per image).
Eigen::MatrixXf chw_to_hwc(const Eigen::MatrixXf& x, const Shape& s);
Eigen::MatrixXf hwc_to_chw(const Eigen::MatrixXf& x, const Shape& s);

// Ideal (noise-free, exact) execution of a compiled image: what the platform must produce with an
// ideal device. adc_bits and g_min/g_max are not in the image; pass the platform's (META records
// the values the image was compiled for under "quantized_for").
// inputs: batch x in_features in C, H, W order; output and logits come back in that order too.
// Ops are numbered over all segments in program order.
struct IdealRun {
  Eigen::MatrixXi output;                // batch x out_features, the int32 values of the last op
  Eigen::MatrixXf logits;                // output * out_scale
  std::vector<Eigen::MatrixXi> codes;    // codes[l] = input codes of op l (batch x in_features, chip order)
  // adc[l] = ADC codes of an MVM op, (batch * positions) x (sum over slices of col_count), slice
  // order (empty for digital ops); a BIT_SERIAL op's are the shift-and-add sums sum_k 2^k c_k
  std::vector<Eigen::MatrixXi> adc;
};
// `pair`: how the chip splits a level over a pair (tile.device.pair), which only sign-split ops
// (AIMC_LAYER_SIGN_SPLIT) see.
IdealRun execute_ideal(const ImageView& image, const Eigen::MatrixXf& inputs, int adc_bits, double g_min_over_g_max,
                       num::PairMode pair = num::PairMode::unipolar);

}  // namespace aimc::compiler
