// Compiler back end: calibrate and quantize a float Network for a platform, map its layers onto
// tiles, place activations in SRAM and emit the deployment image (firmware_stubs/include/
// aimc_image.h, described in docs/deployment-image.md).
#pragma once

#include <Eigen/Dense>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "config/platform_config.h"
#include "errors.h"
#include "graph.h"
#include "image.h"

namespace aimc::compiler {

struct CompileOptions {
  // Rows of calibration_inputs used (the first N). More vectors give steadier percentiles and a
  // slower compile; 512 takes well under a second for the example MLP.
  int calibration_vectors = 512;
  // Percentile (0, 100] of each hidden layer's float input activations (all vectors and
  // features) that is mapped to the top DAC code. Below 100 clips rare outliers to gain
  // resolution for the bulk. Layer 0 always uses the maximum calibration input.
  double activation_percentile = 99.99;
  // Percentile (0, 100] of |per-slice column current| over the calibration vectors that is
  // mapped to the ADC full scale (code A). Below 100 saturates rare outliers.
  double adc_percentile = 99.99;
  // Percentile (0, 100] of |W| per layer mapped to the top cell level L-1; 100 = max|W|, so no
  // weight is clipped. Lower values clip large weights to refine the rest.
  double weight_percentile = 100.0;
};

// One block of a layer on one tile (what an aimc_slice_t says, plus the layer index).
struct SlicePlan {
  int layer = 0;
  int tile = 0;
  int row_begin = 0, row_count = 0;
  int col_begin = 0, col_count = 0;
  int reduce_tile = 0;
};

struct CompiledModel {
  std::vector<uint8_t> image;  // the file bytes
  nlohmann::json summary;      // META contents plus per-layer calibration statistics
  long macs_per_inference = 0;
  long params = 0;             // weights + biases
  int tiles_used = 0;
  int max_batch = 0;           // vectors the activation SRAM holds per run
};

// Cuts each layer into ceil(in/R) x ceil(out/C) balanced blocks, one per tile, tiles in order
// 0, 1, 2, ...; slices are ordered by layer, then column block, then row block. Throws
// CompileError naming the layer if the network needs more tiles than cfg.tile_count().
std::vector<SlicePlan> plan_mapping(const Network& net, const aimc::config::PlatformConfig& cfg);

// Where the weight blocks sit and how full each tile is: cells used (both cells of every pair of
// every block on the tile) over cells available (2 x rows x cols), per tile and over all tiles of
// the chip, plus a readable map (one line per tile). JSON:
//   {"overall": f, "used_tiles": f, "tiles": [{"tile", "cells_used", "cells", "utilization",
//     "blocks": [{"layer", "rows": [begin, end), "cols": [begin, end)}]}], "map": ["..."]}
// "overall" divides by every tile of the chip, "used_tiles" by the tiles that hold a block.
nlohmann::json placement_summary(const std::vector<SlicePlan>& plan, const Network& net,
                                 const aimc::config::PlatformConfig& cfg);

// calibration_inputs: n x net.in_features, the kind of data the network will see (e.g. training
// images in [0, 1]). Throws CompileError for unsupported settings, bad calibration data, too many
// tiles, activation SRAM or program memory too small.
CompiledModel compile(const Network& net, const aimc::config::PlatformConfig& cfg,
                      const Eigen::MatrixXf& calibration_inputs, const CompileOptions& options = {});

// Ideal (noise-free, exact) execution of a compiled image: what the platform must produce with an
// ideal device. adc_bits and g_min/g_max are not in the image; pass the platform's (META records
// the values the image was compiled for under "quantized_for").
struct IdealRun {
  Eigen::MatrixXi output;                // batch x out_features, the int32 values of the last layer
  Eigen::MatrixXf logits;                // output * out_scale
  std::vector<Eigen::MatrixXi> codes;    // codes[l] = input codes of layer l (batch x in_features)
  std::vector<Eigen::MatrixXi> adc;      // adc[l] = ADC codes, batch x (sum over slices of col_count), slice order
};
IdealRun execute_ideal(const ImageView& image, const Eigen::MatrixXf& inputs, int adc_bits, double g_min_over_g_max);

}  // namespace aimc::compiler
