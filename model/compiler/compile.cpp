// compile(): the compiler's passes (passes/context.h) run in order over one CompileContext.
#include "compile.h"

#include <sstream>

#include "numerics/converters.h"
#include "passes/context.h"

namespace aimc::compiler {

using aimc::config::PlatformConfig;

namespace passes {

CompileContext::CompileContext(const Graph& graph, const PlatformConfig& config, const Eigen::MatrixXf& calibration,
                               const CompileOptions& options)
    : g(graph),
      cfg(config),
      calibration_inputs(calibration),
      opt(options),
      dac_bits(config.tile.dac.bits),
      adc_bits(config.tile.adc.bits),
      bpc(config.tile.device.bits_per_cell),
      cmax(0),
      lmax(0),
      g_ratio(config.tile.device.g_min_ns / config.tile.device.g_max_ns) {}

std::string CompileContext::op_label(size_t i) const {
  return "op " + std::to_string(i) + " '" + g.ops[i].name + "' (" + g.ops[i].onnx_op + ")";
}

// The platform settings the compiler supports, the options, the graph and the calibration data.
void validate(CompileContext& ctx) {
  const PlatformConfig& cfg = ctx.cfg;
  auto fail = [&](const std::string& m) { throw CompileError("platform '" + cfg.name + "': " + m); };
  const auto& t = cfg.tile;
  if (t.dac.bits < 1 || t.dac.bits > 8) fail("tile.dac.bits " + std::to_string(t.dac.bits) + ": activation codes are bytes, need 1..8");
  if (t.adc.bits < num::kAdcBitsMin || t.adc.bits > num::kAdcBitsMax)
    fail("tile.adc.bits " + std::to_string(t.adc.bits) + ": need " + std::to_string(num::kAdcBitsMin) + ".." +
         std::to_string(num::kAdcBitsMax) + " for a signed ADC");
  if (t.device.bits_per_cell < num::kCellBitsMin || t.device.bits_per_cell > num::kCellBitsMax)
    fail("tile.device.bits_per_cell " + std::to_string(t.device.bits_per_cell) + ": levels are int16, need " +
         std::to_string(num::kCellBitsMin) + ".." + std::to_string(num::kCellBitsMax));
  if (!(t.device.g_max_ns > 0) || !(t.device.g_min_ns >= 0) || !(t.device.g_min_ns < t.device.g_max_ns))
    fail("need 0 <= tile.device.g_min_ns < tile.device.g_max_ns");
  if (t.array.rows < 1 || t.array.cols < 1) fail("tile.array.rows/cols must be >= 1");
  if (cfg.tile_count() < 1) fail("no tiles (grid_rows x grid_cols = 0)");
  if (cfg.sram.size_kib < 1) fail("sram.size_kib must be >= 1");
  validate_options(ctx.opt);
  ctx.cmax = num::dac_max_code(ctx.dac_bits);
  ctx.lmax = num::cell_max_level(ctx.bpc);

  const Graph& g = ctx.g;
  if (g.ops.empty()) throw CompileError("network '" + g.name + "' has no ops");
  try {
    g.validate();
  } catch (const std::invalid_argument& e) {
    throw CompileError(e.what());
  }
  const Eigen::MatrixXf& x = ctx.calibration_inputs;
  const long in_features = g.in_features();
  if (x.cols() != in_features || x.rows() < 1)
    throw CompileError("calibration inputs are " + std::to_string(x.rows()) + "x" + std::to_string(x.cols()) +
                       ", expected n x " + std::to_string(in_features) + " with n >= 1");
  if (!x.allFinite()) throw CompileError("calibration inputs contain NaN or infinity");
}

}  // namespace passes

std::string compile_inputs_text(const PlatformConfig& cfg, const CompileOptions& options) {
  nlohmann::json opt = to_json(options);
  opt["depthwise"] = to_string(options.depthwise);
  opt["replicate"] = options.replicate;
  opt["bias_in_array"] = options.bias_in_array;
  opt["calibration_patch_elements"] = options.calibration_patch_elements;
  std::ostringstream s;
  s << "compile inputs 1\noptions " << opt.dump() << "\n";
  if (options.replicate) {
    s << aimc::config::dump_platform(cfg);
    return s.str();
  }
  const auto& t = cfg.tile;
  s.precision(17);
  s << "name " << cfg.name << "\nsource_file " << cfg.source_file << "\ngrid " << cfg.grid_rows << " "
    << cfg.grid_cols << "\narray " << t.array.rows << " " << t.array.cols << " " << t.array.read_phases
    << "\ndac " << t.dac.bits << " " << aimc::config::to_string(t.dac.kind) << "\nadc " << t.adc.bits
    << "\ndevice " << t.device.bits_per_cell << " " << t.device.g_min_ns << " " << t.device.g_max_ns << " "
    << aimc::config::to_string(t.device.pair) << "\nsram " << cfg.sram.size_kib << "\n";
  return s.str();
}

CompiledModel compile(const Graph& g, const PlatformConfig& cfg, const Eigen::MatrixXf& calibration_inputs,
                      const CompileOptions& opt) {
  passes::CompileContext ctx(g, cfg, calibration_inputs, opt);
  passes::validate(ctx);
  passes::map_to_tiles(ctx);
  passes::quantize_tensors(ctx);
  passes::lower(ctx);
  passes::layout_sram(ctx);
  passes::calibrate(ctx);
  passes::compare_golden(ctx);
  passes::emit(ctx);
  return std::move(ctx.out);
}

CompiledModel compile(const Network& net, const PlatformConfig& cfg, const Eigen::MatrixXf& calibration_inputs,
                      const CompileOptions& options) {
  for (size_t l = 0; l + 1 < net.layers.size(); ++l)
    if (!net.layers[l].relu)
      throw CompileError("layer " + std::to_string(l) + " '" + net.layers[l].name + "' has no ReLU but feeds layer '" +
                         net.layers[l + 1].name + "': the unsigned DACs cannot represent negative activations");
  if (net.layers.empty()) throw CompileError("network '" + net.name + "' has no layers");
  try {
    net.validate();
  } catch (const std::invalid_argument& e) {
    throw CompileError(e.what());
  }
  return compile(to_graph(net), cfg, calibration_inputs, options);
}

}  // namespace aimc::compiler
