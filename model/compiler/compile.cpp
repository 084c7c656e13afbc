// Calibration follows the chip's own arithmetic (quant_math.h) layer by layer: each layer's
// input codes come from the quantized previous layer, so ADC full scales are chosen for the
// currents the chip will really see, not for idealized float ones.
#include "compile.h"

#include <cstdio>
#include <cmath>
#include <sstream>

#include "address_map.h"
#include "quant_math.h"

namespace aimc::compiler {
namespace {

using aimc::config::PlatformConfig;

// Logits keep this many bits below their calibration maximum (int32 leaves 2^11 headroom).
constexpr int kOutputResolutionBits = 20;
constexpr uint32_t kActivationAlign = 64;  // buffer start alignment in SRAM (a bus-friendly size)

std::string dims(long a, long b) { return std::to_string(a) + "x" + std::to_string(b); }

// Balanced cut of n into ceil(n / cap) blocks whose sizes differ by at most one.
std::vector<std::pair<int, int>> split(int n, int cap) {
  const int blocks = (n + cap - 1) / cap;
  std::vector<std::pair<int, int>> out;
  int begin = 0;
  for (int k = 0; k < blocks; ++k) {
    const int size = n / blocks + (k < n % blocks ? 1 : 0);
    out.emplace_back(begin, size);
    begin += size;
  }
  return out;
}

void check_config(const PlatformConfig& cfg, const CompileOptions& opt) {
  auto fail = [&](const std::string& m) { throw CompileError("platform '" + cfg.name + "': " + m); };
  const auto& t = cfg.tile;
  if (t.dac.bits < 1 || t.dac.bits > 8) fail("tile.dac.bits " + std::to_string(t.dac.bits) + ": activation codes are bytes, need 1..8");
  if (t.adc.bits < 2 || t.adc.bits > 24) fail("tile.adc.bits " + std::to_string(t.adc.bits) + ": need 2..24 for a signed ADC");
  if (t.device.bits_per_cell < 1 || t.device.bits_per_cell > 15)
    fail("tile.device.bits_per_cell " + std::to_string(t.device.bits_per_cell) + ": levels are int16, need 1..15");
  if (!(t.device.g_max_ns > 0) || !(t.device.g_min_ns >= 0) || !(t.device.g_min_ns < t.device.g_max_ns))
    fail("need 0 <= tile.device.g_min_ns < tile.device.g_max_ns");
  if (t.array.rows < 1 || t.array.cols < 1) fail("tile.array.rows/cols must be >= 1");
  if (cfg.tile_count() < 1) fail("no tiles (grid_rows x grid_cols = 0)");
  if (cfg.sram.size_kib < 1) fail("sram.size_kib must be >= 1");
  auto pct = [&](double p, const char* name) {
    if (!(p > 0.0 && p <= 100.0)) throw CompileError(std::string("compile option ") + name + " = " + std::to_string(p) + ": need (0, 100]");
  };
  pct(opt.activation_percentile, "activation_percentile");
  pct(opt.adc_percentile, "adc_percentile");
  pct(opt.weight_percentile, "weight_percentile");
  if (opt.calibration_vectors < 1) throw CompileError("compile option calibration_vectors must be >= 1");
}

std::vector<double> abs_values(const Eigen::MatrixXf& m) {
  std::vector<double> v(size_t(m.size()));
  for (Eigen::Index i = 0; i < m.size(); ++i) v[size_t(i)] = std::abs(double(m(i)));
  return v;
}

// One slice with its levels, as the digital unit sees it.
struct SliceData {
  aimc_slice_t slice;
  Eigen::MatrixXi levels;  // row_count x col_count
  int bits_per_cell;
};

struct LayerRun {
  Eigen::MatrixXi out;  // next codes, or int32 outputs
  Eigen::MatrixXi adc;  // batch x sum(col_count), slice order
  Eigen::MatrixXd y;    // after bias and ReLU
};

// The per-layer execution shared by calibration and execute_ideal().
LayerRun run_layer(const aimc_layer_t& layer, const std::vector<SliceData>& slices, const Eigen::VectorXf& bias,
                   const Eigen::MatrixXi& codes, int dac_bits, int adc_bits, double g_ratio) {
  const Eigen::Index batch = codes.rows();
  Eigen::MatrixXi acc = Eigen::MatrixXi::Zero(batch, layer.out_features);
  long total_cols = 0;
  for (const auto& s : slices) total_cols += s.slice.col_count;
  LayerRun r;
  r.adc.resize(batch, total_cols);
  long at = 0;
  for (const auto& s : slices) {
    const auto& sl = s.slice;
    Eigen::MatrixXd cur = qmath::slice_currents(codes.middleCols(sl.row_begin, sl.row_count), s.levels, dac_bits,
                                                s.bits_per_cell, g_ratio);
    Eigen::MatrixXi a = qmath::adc_convert(cur, layer.adc_full_scale, adc_bits);
    acc.middleCols(sl.col_begin, sl.col_count) += a;
    r.adc.middleCols(at, sl.col_count) = a;
    at += sl.col_count;
  }
  r.y = qmath::digital_y(acc, layer.acc_scale, bias, layer.flags & AIMC_LAYER_RELU);
  r.out = qmath::requantize(r.y, layer.out_quant_scale, layer.flags & AIMC_LAYER_OUTPUT_I32, dac_bits);
  return r;
}

uint32_t align_up(uint32_t v, uint32_t a) { return (v + a - 1) / a * a; }

}  // namespace

std::vector<SlicePlan> plan_mapping(const Network& net, const PlatformConfig& cfg) {
  const int R = cfg.tile.array.rows, C = cfg.tile.array.cols;
  if (R < 1 || C < 1) throw CompileError("platform '" + cfg.name + "': tile.array.rows/cols must be >= 1");
  std::vector<SlicePlan> plan;
  int tile = 0;
  int total = 0;
  for (const auto& l : net.layers)
    total += int(split(l.in_features(), R).size() * split(l.out_features(), C).size());
  for (size_t li = 0; li < net.layers.size(); ++li) {
    const DenseLayer& layer = net.layers[li];
    const auto rows = split(layer.in_features(), R);
    const auto cols = split(layer.out_features(), C);
    const int need = int(rows.size() * cols.size());
    if (tile + need > cfg.tile_count()) {
      std::ostringstream m;
      m << "layer " << li << " '" << layer.name << "' (" << layer.in_features() << " inputs x " << layer.out_features()
        << " outputs) needs " << need << " tiles (" << rows.size() << " row blocks x " << cols.size() << " column blocks of a "
        << R << "x" << C << " array), tiles " << tile << ".." << tile + need - 1 << ", but platform '" << cfg.name << "' has "
        << cfg.tile_count() << " tiles (" << cfg.grid_rows << "x" << cfg.grid_cols << "); the whole network needs " << total
        << " tiles (weight reload is not supported yet)";
      throw CompileError(m.str());
    }
    for (const auto& [cb, cc] : cols) {
      const int reduce = tile;  // row block 0 of this column block is placed first
      for (const auto& [rb, rc] : rows) {
        SlicePlan s;
        s.layer = int(li);
        s.tile = tile++;
        s.row_begin = rb, s.row_count = rc, s.col_begin = cb, s.col_count = cc;
        s.reduce_tile = reduce;
        plan.push_back(s);
      }
    }
  }
  return plan;
}

CompiledModel compile(const Network& net, const PlatformConfig& cfg, const Eigen::MatrixXf& calibration_inputs,
                      const CompileOptions& opt) {
  check_config(cfg, opt);
  if (net.layers.empty()) throw CompileError("network '" + net.name + "' has no layers");
  try {
    net.validate();
  } catch (const std::invalid_argument& e) {
    throw CompileError(e.what());
  }
  for (size_t l = 0; l + 1 < net.layers.size(); ++l)
    if (!net.layers[l].relu)
      throw CompileError("layer " + std::to_string(l) + " '" + net.layers[l].name + "' has no ReLU but feeds layer '" +
                         net.layers[l + 1].name + "': the unsigned DACs cannot represent negative activations");
  if (calibration_inputs.cols() != net.in_features || calibration_inputs.rows() < 1)
    throw CompileError("calibration inputs are " + dims(calibration_inputs.rows(), calibration_inputs.cols()) +
                       ", expected n x " + std::to_string(net.in_features) + " with n >= 1");
  if (!calibration_inputs.allFinite()) throw CompileError("calibration inputs contain NaN or infinity");

  const auto& tc = cfg.tile;
  const int dac_bits = tc.dac.bits, adc_bits = tc.adc.bits, bpc = tc.device.bits_per_cell;
  const int cmax = qmath::dac_max_code(dac_bits);
  const double g_ratio = tc.device.g_min_ns / tc.device.g_max_ns;
  const size_t n_layers = net.layers.size();
  nlohmann::json warnings = nlohmann::json::array();

  const std::vector<SlicePlan> plan = plan_mapping(net, cfg);
  const int tiles_used = plan.empty() ? 0 : plan.back().tile + 1;

  const Eigen::Index n_cal = std::min<Eigen::Index>(calibration_inputs.rows(), opt.calibration_vectors);
  const Eigen::MatrixXf cal = calibration_inputs.topRows(n_cal);
  const std::vector<Eigen::MatrixXf> acts = net.forward_all(cal);

  // Input scales (float, as stored in the image).
  std::vector<float> in_scale(n_layers);
  if (cal.maxCoeff() <= 0.0f) throw CompileError("calibration inputs are all <= 0: the unsigned DAC codes would all be 0");
  if (cal.minCoeff() < 0.0f)
    warnings.push_back("calibration inputs have negative values (min " + std::to_string(cal.minCoeff()) +
                       "); the unsigned DAC clips them to 0");
  in_scale[0] = float(double(cal.maxCoeff()) / cmax);
  for (size_t l = 1; l < n_layers; ++l) {
    std::vector<double> v = abs_values(acts[l - 1]);
    double p = qmath::percentile(v, opt.activation_percentile);
    if (p <= 0.0) p = acts[l - 1].maxCoeff();
    if (p <= 0.0) {
      p = 1.0;
      warnings.push_back("layer '" + net.layers[l].name + "': its input is all zero on the calibration data");
    }
    in_scale[l] = float(p / cmax);
  }

  // Weights -> levels (out x in), per-layer w_scale.
  std::vector<float> w_scale(n_layers);
  std::vector<Eigen::MatrixXi> levels(n_layers);
  for (size_t l = 0; l < n_layers; ++l) {
    const auto& W = net.layers[l].weight;
    std::vector<double> v = abs_values(W);
    double s = qmath::percentile(v, opt.weight_percentile);
    if (s <= 0.0) s = W.cwiseAbs().maxCoeff();
    if (s <= 0.0) s = 1.0;  // all-zero weights: any scale gives level 0
    w_scale[l] = float(s);
    levels[l].resize(W.rows(), W.cols());
    for (Eigen::Index i = 0; i < W.size(); ++i) levels[l](i) = qmath::weight_level(W(i), w_scale[l], bpc);
  }

  // Activation buffers: ping-pong A/B. Layer l reads (l even ? A : B) and writes the other.
  std::vector<uint32_t> in_stride(n_layers), out_stride(n_layers);
  uint32_t bytes_a = 0, bytes_b = 0;
  for (size_t l = 0; l < n_layers; ++l) {
    in_stride[l] = uint32_t(net.layers[l].in_features());
    out_stride[l] = uint32_t(net.layers[l].out_features()) * (l + 1 == n_layers ? 4u : 1u);
    (l % 2 == 0 ? bytes_a : bytes_b) = std::max(l % 2 == 0 ? bytes_a : bytes_b, in_stride[l]);
    (l % 2 == 0 ? bytes_b : bytes_a) = std::max(l % 2 == 0 ? bytes_b : bytes_a, out_stride[l]);
  }
  const uint64_t sram_bytes = uint64_t(cfg.sram.size_kib) * 1024;
  long max_batch = long(sram_bytes / (uint64_t(bytes_a) + bytes_b));
  while (max_batch > 0 && align_up(uint32_t(max_batch) * bytes_a, kActivationAlign) + uint64_t(max_batch) * bytes_b > sram_bytes)
    --max_batch;
  if (max_batch < 1)
    throw CompileError("platform '" + cfg.name + "': activation SRAM of " + std::to_string(sram_bytes) +
                       " bytes cannot hold one vector: the ping-pong buffers need " + std::to_string(bytes_a) + " + " +
                       std::to_string(bytes_b) + " bytes plus alignment");
  const uint32_t buf_a = kActivationSramBase;
  const uint32_t buf_b = kActivationSramBase + align_up(uint32_t(max_batch) * bytes_a, kActivationAlign);

  // Layer by layer through the quantized pipeline: pick adc_full_scale, acc_scale, out scales.
  std::vector<aimc_layer_t> recs(n_layers);
  std::vector<aimc_slice_t> slice_recs;
  std::vector<float> bias_table;
  nlohmann::json layers_json = nlohmann::json::array();
  Eigen::MatrixXi codes = qmath::quantize_activations(cal, in_scale[0], dac_bits);
  float out_scale = 1.0f;
  Eigen::MatrixXd last_y;
  for (size_t l = 0; l < n_layers; ++l) {
    const DenseLayer& layer = net.layers[l];
    const bool last = l + 1 == n_layers;
    aimc_layer_t& rec = recs[l];
    rec = aimc_layer_t{};
    rec.in_features = uint32_t(layer.in_features());
    rec.out_features = uint32_t(layer.out_features());
    rec.in_addr = l % 2 == 0 ? buf_a : buf_b;
    rec.out_addr = l % 2 == 0 ? buf_b : buf_a;
    rec.in_stride = in_stride[l];
    rec.out_stride = out_stride[l];
    rec.flags = (layer.relu ? uint32_t(AIMC_LAYER_RELU) : 0u) | (last ? uint32_t(AIMC_LAYER_OUTPUT_I32) : 0u);
    rec.first_slice = uint32_t(slice_recs.size());
    rec.bias_offset = uint32_t(bias_table.size());
    for (int j = 0; j < layer.out_features(); ++j) bias_table.push_back(layer.bias(j));

    std::vector<SliceData> slices;
    nlohmann::json tiles = nlohmann::json::array(), slices_json = nlohmann::json::array();
    for (const SlicePlan& p : plan) {
      if (p.layer != int(l)) continue;
      SliceData sd;
      sd.slice = aimc_slice_t{uint32_t(p.tile), uint32_t(p.row_begin), uint32_t(p.row_count),
                              uint32_t(p.col_begin), uint32_t(p.col_count), uint32_t(p.reduce_tile)};
      sd.levels = levels[l].block(p.col_begin, p.row_begin, p.col_count, p.row_count).transpose();
      sd.bits_per_cell = bpc;
      slices.push_back(sd);
      slice_recs.push_back(sd.slice);
      tiles.push_back(p.tile);
      slices_json.push_back({{"tile", p.tile}, {"rows", {p.row_begin, p.row_begin + p.row_count}},
                             {"cols", {p.col_begin, p.col_begin + p.col_count}}, {"reduce_tile", p.reduce_tile}});
    }
    rec.slice_count = uint32_t(slices.size());

    // ADC full scale from the per-slice column currents of the real input codes.
    std::vector<double> currents;
    double i_max = 0.0;
    for (const SliceData& s : slices) {
      Eigen::MatrixXd cur = qmath::slice_currents(codes.middleCols(s.slice.row_begin, s.slice.row_count), s.levels,
                                                  dac_bits, bpc, g_ratio);
      for (Eigen::Index i = 0; i < cur.size(); ++i) currents.push_back(std::abs(cur(i)));
      i_max = std::max(i_max, cur.cwiseAbs().maxCoeff());
    }
    double fs = qmath::percentile(currents, opt.adc_percentile);
    if (fs <= 0.0) fs = i_max;
    if (fs <= 0.0) {
      fs = 1.0 - g_ratio;  // no current at all on calibration data: one full cell at full input
      warnings.push_back("layer '" + layer.name + "': zero column current on all calibration data");
    }
    rec.adc_full_scale = float(fs);
    const float w_s = w_scale[l];
    rec.acc_scale = float(qmath::acc_scale(rec.adc_full_scale, adc_bits, dac_bits, in_scale[l], w_s, g_ratio));

    // Output quantization: the next layer's in_scale; for the last layer choose out_scale from
    // the calibration outputs, which needs y first (independent of out_quant_scale).
    if (!last) {
      rec.out_quant_scale = in_scale[l + 1];
    } else {
      rec.out_quant_scale = 1.0f;
      LayerRun probe = run_layer(rec, slices, layer.bias, codes, dac_bits, adc_bits, g_ratio);
      double ymax = probe.y.cwiseAbs().maxCoeff();
      out_scale = float(ymax > 0 ? ymax / double(1 << kOutputResolutionBits) : rec.acc_scale);
      rec.out_quant_scale = out_scale;
    }
    LayerRun run = run_layer(rec, slices, layer.bias, codes, dac_bits, adc_bits, g_ratio);
    const int a_max = qmath::adc_max_code(adc_bits);
    const double adc_sat = run.adc.size() ? double((run.adc.array().abs() >= a_max).count()) / double(run.adc.size()) : 0.0;
    double clip = 0.0;
    if (!last) clip = double((run.out.array() >= cmax).count()) / double(run.out.size());

    layers_json.push_back({
        {"index", l}, {"name", layer.name}, {"in_features", layer.in_features()}, {"out_features", layer.out_features()},
        {"relu", layer.relu}, {"tiles", tiles}, {"slices", slices_json},
        {"in_scale", in_scale[l]}, {"w_scale", w_s}, {"adc_full_scale", rec.adc_full_scale}, {"acc_scale", rec.acc_scale},
        {"out_quant_scale", rec.out_quant_scale},
        {"in_addr", rec.in_addr}, {"in_stride", rec.in_stride}, {"out_addr", rec.out_addr}, {"out_stride", rec.out_stride},
        {"calibration", {{"adc_saturated_fraction", adc_sat}, {"output_codes_at_max_fraction", clip}}}});
    if (last) last_y = run.y;
    codes = std::move(run.out);
  }

  // Quality of the ideal quantized pipeline on the calibration vectors (codes = int32 outputs).
  const Eigen::MatrixXf q_logits = codes.cast<float>() * out_scale;
  const Eigen::MatrixXf& f_logits = acts.back();
  long agree = 0;
  for (Eigen::Index r = 0; r < n_cal; ++r) {
    Eigen::Index a, b;
    q_logits.row(r).maxCoeff(&a);
    f_logits.row(r).maxCoeff(&b);
    agree += a == b;
  }
  const double max_err = (q_logits - f_logits).cwiseAbs().maxCoeff();

  aimc_program_hdr_t ph{};
  ph.magic = AIMC_PROGRAM_MAGIC;
  ph.layer_count = uint32_t(n_layers);
  ph.slice_count = uint32_t(slice_recs.size());
  ph.bias_count = uint32_t(bias_table.size());
  ph.in_features = uint32_t(net.in_features);
  ph.out_features = uint32_t(net.out_features());
  ph.in_addr = recs.front().in_addr;
  ph.out_addr = recs.back().out_addr;
  ph.in_scale = in_scale[0];
  ph.out_scale = out_scale;
  ph.dac_bits = uint32_t(dac_bits);
  ph.max_batch = uint32_t(max_batch);
  ph.adc_bits = uint32_t(adc_bits);
  ph.bits_per_cell = uint32_t(bpc);
  ph.g_min_over_g_max = float(g_ratio);
  ph.reserved = 0;
  std::vector<uint8_t> program;
  append_record(program, ph);
  for (const auto& r : recs) append_record(program, r);
  for (const auto& s : slice_recs) append_record(program, s);
  for (float b : bias_table) append_record(program, b);
  if (program.size() > kProgramMemorySize)
    throw CompileError("network '" + net.name + "': program of " + std::to_string(program.size()) + " bytes (" +
                       std::to_string(n_layers) + " layers, " + std::to_string(slice_recs.size()) + " slices, " +
                       std::to_string(bias_table.size()) + " biases) exceeds the " + std::to_string(kProgramMemorySize) +
                       "-byte sequencer program memory");

  nlohmann::json meta = {
      {"format", "aimc deployment image v1"},
      {"model", net.name},
      {"source", net.source},
      {"platform", cfg.name},
      {"platform_file", cfg.source_file},
      {"input", {{"features", net.in_features}, {"encoding", "uint8 DAC code = clamp(round(x / in_scale), 0, " + std::to_string(cmax) + ")"},
                 {"addr", ph.in_addr}, {"stride", recs.front().in_stride}}},
      {"output", {{"features", net.out_features()}, {"encoding", "int32, value = output * out_scale"},
                  {"addr", ph.out_addr}, {"stride", recs.back().out_stride}}},
      {"in_scale", ph.in_scale},
      {"out_scale", ph.out_scale},
      {"layers", layers_json},
      {"tiles_used", tiles_used},
      {"tile_count", cfg.tile_count()},
      {"max_batch", max_batch},
      {"activation_buffers", {{"a", {{"addr", buf_a}, {"bytes_per_vector", bytes_a}}},
                              {"b", {{"addr", buf_b}, {"bytes_per_vector", bytes_b}}},
                              {"sram_bytes", sram_bytes}}},
      {"macs_per_inference", net.macs_per_inference()},
      {"quantized_for", {{"dac_bits", dac_bits}, {"adc_bits", adc_bits}, {"bits_per_cell", bpc},
                         {"g_min_ns", tc.device.g_min_ns}, {"g_max_ns", tc.device.g_max_ns}, {"g_min_over_g_max", g_ratio},
                         {"array_rows", tc.array.rows}, {"array_cols", tc.array.cols}}},
      {"compile_options", {{"calibration_vectors", opt.calibration_vectors},
                           {"activation_percentile", opt.activation_percentile},
                           {"adc_percentile", opt.adc_percentile},
                           {"weight_percentile", opt.weight_percentile}}},
      {"calibration", {{"vectors_used", n_cal},
                       {"ideal_vs_float_top1_agreement", double(agree) / double(n_cal)},
                       {"ideal_vs_float_max_abs_logit_error", max_err}}},
      {"warnings", warnings}};

  ImageBuilder builder;
  const std::string meta_text = meta.dump(1);
  builder.add_section(AIMC_SECTION_META, AIMC_TILE_NONE, 0, std::vector<uint8_t>(meta_text.begin(), meta_text.end()));
  for (const SlicePlan& p : plan) {
    const auto& sl = slice_recs[size_t(&p - plan.data())];
    Eigen::Matrix<int, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> lv =
        levels[size_t(p.layer)].block(p.col_begin, p.row_begin, p.col_count, p.row_count).transpose();
    std::vector<uint8_t> payload;
    append_record(payload, aimc_weights_hdr_t{sl.row_count, sl.col_count, uint32_t(bpc), 0});
    for (Eigen::Index i = 0; i < lv.size(); ++i) append_record(payload, int16_t(lv.data()[i]));
    if (payload.size() > kStagingBufferSize)
      throw CompileError("tile " + std::to_string(p.tile) + ": weights section of " + std::to_string(payload.size()) +
                         " bytes exceeds the programming staging buffer");
    builder.add_section(AIMC_SECTION_WEIGHTS, uint32_t(p.tile), kStagingBufferBase, std::move(payload));
  }
  builder.add_section(AIMC_SECTION_PROGRAM, AIMC_TILE_NONE, kProgramMemoryBase, std::move(program));

  CompiledModel out;
  out.image = builder.build();
  try {
    parse_image(out.image);  // the compiler never hands out an image its own reader refuses
  } catch (const ImageError& e) {
    throw std::logic_error(std::string("aimc compiler bug: emitted an invalid image: ") + e.what());
  }
  out.summary = meta;
  out.summary["image_bytes"] = out.image.size();
  out.summary["program_bytes"] = sizeof(aimc_program_hdr_t) + n_layers * sizeof(aimc_layer_t) +
                                 slice_recs.size() * sizeof(aimc_slice_t) + bias_table.size() * sizeof(float);
  out.macs_per_inference = net.macs_per_inference();
  out.params = net.params();
  out.summary["params"] = out.params;
  out.summary["placement"] = placement_summary(plan, net, cfg);
  out.tiles_used = tiles_used;
  out.max_batch = int(max_batch);
  return out;
}

nlohmann::json placement_summary(const std::vector<SlicePlan>& plan, const Network& net,
                                 const PlatformConfig& cfg) {
  const long rows = cfg.tile.array.rows, cols = cfg.tile.array.cols;
  const long per_tile = 2 * rows * cols;
  std::vector<long> used(size_t(cfg.tile_count()), 0);
  std::vector<nlohmann::json> blocks(size_t(cfg.tile_count()), nlohmann::json::array());
  for (const SlicePlan& p : plan) {
    used[size_t(p.tile)] += 2L * p.row_count * p.col_count;
    blocks[size_t(p.tile)].push_back({{"layer", net.layers[size_t(p.layer)].name},
                                      {"rows", {p.row_begin, p.row_begin + p.row_count}},
                                      {"cols", {p.col_begin, p.col_begin + p.col_count}}});
  }
  nlohmann::json tiles = nlohmann::json::array(), map = nlohmann::json::array();
  long total_used = 0;
  int tiles_with_blocks = 0;
  for (int t = 0; t < cfg.tile_count(); ++t) {
    const long u = used[size_t(t)];
    total_used += u;
    tiles_with_blocks += u > 0;
    const double f = double(u) / double(per_tile);
    tiles.push_back({{"tile", t}, {"cells_used", u}, {"cells", per_tile}, {"utilization", f},
                     {"blocks", blocks[size_t(t)]}});
    char head[64];
    std::snprintf(head, sizeof head, "tile %2d (%5.1f %%): ", t, 100.0 * f);
    std::string line = head;
    if (u == 0) line += "empty";
    for (size_t b = 0; b < blocks[size_t(t)].size(); ++b) {
      const auto& blk = blocks[size_t(t)][b];
      line += (b ? "; " : "") + blk["layer"].get<std::string>() + " in [" +
              std::to_string(blk["rows"][0].get<int>()) + ", " + std::to_string(blk["rows"][1].get<int>()) +
              ") x out [" + std::to_string(blk["cols"][0].get<int>()) + ", " +
              std::to_string(blk["cols"][1].get<int>()) + ")";
    }
    map.push_back(line);
  }
  return {{"overall", double(total_used) / double(per_tile * cfg.tile_count())},
          {"used_tiles", tiles_with_blocks ? double(total_used) / double(per_tile * tiles_with_blocks) : 0.0},
          {"tiles", tiles},
          {"map", map}};
}

IdealRun execute_ideal(const ImageView& image, const Eigen::MatrixXf& inputs, int adc_bits, double g_ratio) {
  const auto& p = image.program;
  if (inputs.cols() != long(p.in_features))
    throw std::invalid_argument("execute_ideal: inputs have " + std::to_string(inputs.cols()) + " features, image expects " +
                                std::to_string(p.in_features));
  if (adc_bits < 2 || adc_bits > 24) throw std::invalid_argument("execute_ideal: adc_bits must be in [2, 24]");
  const int dac_bits = int(p.dac_bits);
  IdealRun run;
  Eigen::MatrixXi codes = qmath::quantize_activations(inputs, p.in_scale, dac_bits);
  for (size_t l = 0; l < image.layers.size(); ++l) {
    const aimc_layer_t& layer = image.layers[l];
    std::vector<SliceData> slices;
    for (uint32_t k = layer.first_slice; k < layer.first_slice + layer.slice_count; ++k) {
      const aimc_slice_t& sl = image.slices[k];
      const TileWeights& tw = image.tile_weights(sl.tile);
      SliceData sd{sl, Eigen::MatrixXi(sl.row_count, sl.col_count), int(tw.hdr.bits_per_cell)};
      for (uint32_t r = 0; r < sl.row_count; ++r)
        for (uint32_t c = 0; c < sl.col_count; ++c) sd.levels(r, c) = tw.level(r, c);
      slices.push_back(std::move(sd));
    }
    Eigen::VectorXf bias = Eigen::Map<const Eigen::VectorXf>(image.bias.data() + layer.bias_offset, layer.out_features);
    run.codes.push_back(codes);
    LayerRun r = run_layer(layer, slices, bias, codes, dac_bits, adc_bits, g_ratio);
    run.adc.push_back(std::move(r.adc));
    codes = std::move(r.out);
  }
  run.output = codes;
  run.logits = codes.cast<float>() * p.out_scale;
  return run;
}

}  // namespace aimc::compiler
