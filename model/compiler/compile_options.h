// The compiler's options (what compile() takes besides the graph, the platform and the
// calibration data), and their names for users: `aimc run` and `aimc compile` set them with
// --compile-option KEY=VALUE; docs/compiler.md lists them. One table (compile_options.cpp) holds
// each option's key, range, default and meaning, and is what parsing, validation and --help use.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "errors.h"

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
  // How grouped convolutions with one input channel per group (depthwise) are executed:
  //   packed   block-diagonal on the tiles: groups side by side, zeros off the diagonal
  //   digital  in a digital unit, with 8-bit weights (no cells; slower, kh*kw MACs per output)
  //   automatic  packed unless it needs more weight loads (segments) than digital
  enum class Depthwise { automatic, packed, digital };
  Depthwise depthwise = Depthwise::automatic;
  // Calibration of a CNN runs its im2col patches through the chip arithmetic; images beyond this
  // many patch elements (positions x patch rows, of the largest op) are not used, so that a big
  // network calibrates on a few images in bounded memory (2^24 elements = 64 MiB of floats).
  long calibration_patch_elements = 1L << 24;
  // Copy the busiest MVM ops onto tiles a segment leaves empty, so that their output positions
  // (or, for a dense layer, the images of a batch) are shared between the copies: more
  // throughput for more cells programmed. See replicate_for_throughput.
  bool replicate = false;
  // Biases in the array (as the UCSB flash MLP, reference-chips 1: (784+1) x 64 x 2 + (64+1) x
  // 10 x 2 = 101,780 cells): the mapper reserves an always-on input row per column block of an
  // op with a bias, whose cells count as used (placement, cells_used, utilization). The bias is
  // still added by the reduce tile's digital unit: the reserved cells are not programmed or read.
  bool bias_in_array = false;
  // The scale of an MVM op's weights on the cell levels:
  //   per_tensor  one for the op: max |W| (weight_percentile) on the top level
  //   per_column  one per output column (channel), each column on the full level range; the
  //               digital unit multiplies each output by its column's scale (COLUMN_SCALES)
  //   automatic   per column where that lowers the op's weight quantization error (rms) by at
  //               least kColumnScaleGain (a channel whose weights are much smaller than the
  //               op's largest, as batch-norm folding makes them, keeps its resolution)
  enum class WeightScales { automatic, per_tensor, per_column };
  WeightScales weight_scales = WeightScales::per_tensor;
};
const char* to_string(CompileOptions::WeightScales w);
const char* to_string(CompileOptions::Depthwise d);
// "automatic" | "packed" | "digital"; throws CompileError naming the text otherwise.
CompileOptions::Depthwise parse_depthwise(const std::string& text);

// One user-settable option: its key (the field's name), the values it takes, its default, and
// what it does (one line each, for --help and docs/compiler.md).
struct CompileOptionInfo {
  std::string key;
  std::string range;     // e.g. "(0, 100]", "integer >= 1", "automatic | packed | digital"
  std::string default_value;
  std::string meaning;
};
// Every option a user can set by key, in the order the docs list them.
const std::vector<CompileOptionInfo>& compile_option_table();

// Sets one option from "KEY=VALUE" (spaces around either are not allowed). Throws CompileError
// naming the key and the allowed values for an unknown key, a malformed or out-of-range value.
void set_compile_option(CompileOptions& options, const std::string& key_value);
// Applies every "KEY=VALUE" in order (a later one wins); throws as set_compile_option.
void set_compile_options(CompileOptions& options, const std::vector<std::string>& key_values);
// Throws CompileError naming the first option outside its range (compile() calls it).
void validate_options(const CompileOptions& options);
// "key = default: range. meaning" lines for every option, for a command's --help.
std::string compile_options_help();
// The options as META and the report record them: every key of the table except
// calibration_patch_elements, bias_in_array and weight_scales, which appear only when they differ
// from their defaults (images compiled with the defaults keep the bytes they had before they were options).
nlohmann::json to_json(const CompileOptions& options);

}  // namespace aimc::compiler
