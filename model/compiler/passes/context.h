// The compiler's passes and the one context they work on. compile() (compile.cpp) runs them in
// order; each pass reads what the passes before it left in the context and adds its own part:
//
//   validate      the platform, the options, the graph and the calibration data
//   mapping       weight blocks of the MVM ops onto tiles and segments (mapping.cpp)
//   quantization  a scale and zero point for every tensor from the float activations
//   lowering      IR ops -> program records with their buffers; weights -> cell levels
//   sram_layout   buffer addresses in the activation SRAM and the largest batch that fits
//   calibration   the ops run through the chip arithmetic: ADC full scales, output scale
//   golden        the ideal quantized pipeline against the float network on the same images
//   emission      programs, weights and META as deployment image bytes, and the summary
//
// Internal to the compiler library; the public interface is compile.h.
#pragma once

#include <Eigen/Dense>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "aimc_image.h"
#include "compile.h"
#include "numerics/digital_ops.h"

namespace aimc::compiler::passes {

// Network outputs keep this many bits below their calibration maximum (int32 leaves 2^11 headroom).
constexpr int kOutputResolutionBits = 20;
constexpr uint32_t kActivationAlign = 64;  // buffer start alignment in SRAM (a bus-friendly size)
constexpr int kDigitalWeightBits = 8;      // depthwise weights in the digital unit: signed 8 bit
// CompileOptions::weight_scales = automatic: per-column scales when they lower the rms weight
// quantization error of an op by at least this fraction (ASSUMPTION: a clear gain for one multiply
// per output; the error is measured on the op's own weights, docs/compiler.md).
constexpr double kColumnScaleGain = 0.25;
// The golden pass warns when the ideal quantized network agrees with the float one on fewer of
// the calibration images (top-1), or differs by more rms, than this (ASSUMPTION: well outside
// what 8-bit activations cost a trained network: the bundled MLP and CNN agree on ~99 %).
constexpr double kGoldenTop1Warn = 0.90;
constexpr double kGoldenRmsWarn = 0.10;

// v rounded up to a multiple of a (a > 0).
constexpr uint64_t align_up(uint64_t v, uint64_t a) { return (v + a - 1) / a * a; }

struct TensorQuant {
  float scale = 1.0f;
  int zero = 0;
};

// One activation buffer in SRAM (a tensor; Flatten outputs alias their input's buffer).
struct Buffer {
  Shape shape;              // the map as stored (H, W, C order in memory)
  bool i32 = false;         // the network output: int32 values
  int first = 0, last = 0;  // lowered op indices that write first / read last
  uint32_t addr = 0;
  long bytes() const { return shape.size() * (i32 ? 4 : 1); }
};

// One op of the program (an IR op, or one input of a Concat) with what it needs from the passes.
struct Lowered {
  aimc_layer_t rec{};
  int ir_op = -1;
  int in_buf = -1, in2_buf = -1, out_buf = -1;
  int segment = 0;
  std::vector<SlicePlan> plan;   // MVM
  Eigen::MatrixXi levels;        // MVM: rows x cols (patch order)
  float w_scale = 1.0f;
  std::vector<float> bias;       // MVM, DWCONV (zero-point correction included for MVM)
  std::vector<float> dw_weights; // DWCONV: kh*kw*C integers
  std::vector<float> column_scales; // MVM with COLUMN_SCALES: per output column, after the biases
  std::vector<float> act_params; // the activation's parameters, after the biases (and column scales)
  std::string why;               // depthwise: why this mapping
};

struct CompileContext {
  CompileContext(const Graph& graph, const aimc::config::PlatformConfig& config, const Eigen::MatrixXf& calibration,
                 const CompileOptions& options);

  // Inputs.
  const Graph& g;
  const aimc::config::PlatformConfig& cfg;
  const Eigen::MatrixXf& calibration_inputs;
  const CompileOptions& opt;
  int dac_bits, adc_bits, bpc;  // tile.dac.bits, tile.adc.bits, tile.device.bits_per_cell
  int cmax, lmax;               // largest DAC code, largest cell level
  double g_ratio;               // g_min / g_max
  nlohmann::json warnings = nlohmann::json::array();  // in the order the passes find them
  std::string op_label(size_t i) const;  // "op 3 'conv1' (Conv)"

  // mapping
  bool any_depthwise = false;  // some op is a depthwise convolution
  bool digital_dw = false;     // depthwise convolutions run in the digital units
  std::string dw_reason;
  std::vector<SlicePlan> plan;
  int segments = 1;

  // quantization
  Eigen::Index n_cal = 0;               // calibration images used
  Eigen::MatrixXf cal;                  // their float inputs (C, H, W)
  std::vector<Eigen::MatrixXf> acts;    // float activations of every tensor on them
  std::vector<TensorQuant> tq;          // per tensor

  // lowering
  std::vector<int> buf_of;              // tensor -> buffer
  std::vector<bool> flattened;          // tensor is a flattened spatial map (H, W, C in memory)
  std::vector<Buffer> bufs;
  std::vector<Lowered> low;
  int in_buf = -1, out_buf = -1;

  // sram_layout
  uint64_t sram_bytes = 0;
  long max_batch = 0;
  uint64_t peak_bytes = 0, peak_bytes_per_image = 0;

  // calibration
  std::vector<float> table;             // biases and depthwise weights of all ops, in op order
  std::vector<uint32_t> table_at;       // per lowered op: where its biases start in `table`
  nlohmann::json ops_json = nlohmann::json::array();  // META "layers"
  float out_scale = 1.0f;
  num::Maps last_y;                     // the last op's output codes on the calibration images

  // golden
  long agree = 0;                       // calibration images with the float network's top-1
  double max_err = 0.0;                 // largest |logit difference|

  // emission
  CompiledModel out;
};

void validate(CompileContext& ctx);
void map_to_tiles(CompileContext& ctx);
void quantize_tensors(CompileContext& ctx);
void lower(CompileContext& ctx);
void layout_sram(CompileContext& ctx);
void calibrate(CompileContext& ctx);
void compare_golden(CompileContext& ctx);
void emit(CompileContext& ctx);

// Helpers shared between passes.
bool on_tiles(const Op& op, bool digital_depthwise);  // an MVM op on the tiles (mapping.cpp)
// The weight matrix of a Conv op as the tiles see it: rows = patch (group, ky, kx, ci), cols = out.
struct MvmShape {
  int rows = 0, cols = 0, groups = 1, rows_per_group = 0, cols_per_group = 0;
};
MvmShape mvm_shape(const Op& op);
// Weight quantizers the lowering pass calls (quantization.cpp). MVM: levels, w_scale and the bias
// with the input zero point folded in; `mem` is the input as stored, `permute` reorders the rows of
// a dense layer on a flattened map from C, H, W to H, W, C. Depthwise: dw_weights, acc_scale, bias.
void quantize_mvm_weights(const CompileContext& ctx, const Op& op, const TensorQuant& qi, const Shape& mem,
                          bool permute, Lowered& lo);
void quantize_depthwise_weights(const Op& op, const TensorQuant& qi, Lowered& lo);
// First-fit peak of the SRAM for `batch` images; with commit, writes the buffers' addresses.
uint64_t sram_peak(std::vector<Buffer>& bufs, long batch, bool commit);

}  // namespace aimc::compiler::passes
