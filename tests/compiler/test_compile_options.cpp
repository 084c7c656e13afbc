// Compile options by name (parsing, ranges, the table against the defaults, their effect and
// record in META) and a compiler pass in isolation (the SRAM layout on a hand-made context).
#include <gtest/gtest.h>

#include <random>
#include <string>

#include "aimc_regs.h"
#include "compile.h"
#include "passes/context.h"

namespace {

using namespace aimc::compiler;
using aimc::config::PlatformConfig;

template <typename F>
std::string compile_error_of(F&& f) {
  try {
    f();
  } catch (const CompileError& e) {
    return e.what();
  }
  return "<no CompileError>";
}

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

TEST(CompileOptions, EveryKeyIsParsedAndRecorded) {
  CompileOptions o;
  set_compile_options(o, {"calibration_vectors=64", "activation_percentile=99.5", "adc_percentile=100",
                          "weight_percentile=1e-3", "calibration_patch_elements=4096", "depthwise=digital",
                          "replicate=on", "bias_in_array=yes"});
  EXPECT_EQ(o.calibration_vectors, 64);
  EXPECT_DOUBLE_EQ(o.activation_percentile, 99.5);
  EXPECT_DOUBLE_EQ(o.adc_percentile, 100.0);
  EXPECT_DOUBLE_EQ(o.weight_percentile, 1e-3);
  EXPECT_EQ(o.calibration_patch_elements, 4096);
  EXPECT_EQ(o.depthwise, CompileOptions::Depthwise::digital);
  EXPECT_TRUE(o.replicate);
  EXPECT_TRUE(o.bias_in_array);
  const nlohmann::json j = to_json(o);
  EXPECT_EQ(j["calibration_vectors"], 64);
  EXPECT_EQ(j["adc_percentile"], 100.0);
  EXPECT_EQ(j["depthwise"], "digital");
  EXPECT_EQ(j["replicate"], true);
  EXPECT_EQ(j["calibration_patch_elements"], 4096);
  EXPECT_EQ(j["bias_in_array"], true);
  // A later value wins.
  set_compile_options(o, {"replicate=false", "adc_percentile=50"});
  EXPECT_FALSE(o.replicate);
  EXPECT_DOUBLE_EQ(o.adc_percentile, 50.0);
}

TEST(CompileOptions, TableDefaultsAreTheStructDefaults) {
  const CompileOptions defaults;
  const nlohmann::json want = to_json(defaults);
  // The default patch bound is not in META (images compiled with the defaults keep their bytes).
  EXPECT_FALSE(want.contains("calibration_patch_elements"));
  EXPECT_FALSE(want.contains("bias_in_array"));  // the same for the biases' rows
  EXPECT_FALSE(want.contains("weight_scales"));  // and for per-tensor weight scales
  EXPECT_EQ(compile_option_table().size(), 9u);
  for (const CompileOptionInfo& info : compile_option_table()) {
    CompileOptions o;
    set_compile_option(o, info.key + "=" + info.default_value);
    EXPECT_EQ(to_json(o), want) << info.key << " default " << info.default_value;
    EXPECT_TRUE(contains(compile_options_help(), info.key + " = " + info.range)) << info.key;
  }
}

TEST(CompileOptions, UnknownKeyIsRefusedNamingTheKeys) {
  CompileOptions o;
  std::string msg = compile_error_of([&] { set_compile_option(o, "adc_pct=99"); });
  EXPECT_TRUE(contains(msg, "unknown compile option 'adc_pct'")) << msg;
  EXPECT_TRUE(contains(msg, "adc_percentile")) << msg;
  msg = compile_error_of([&] { set_compile_option(o, "adc_percentile"); });
  EXPECT_TRUE(contains(msg, "expected KEY=VALUE")) << msg;
  msg = compile_error_of([&] { set_compile_option(o, "=3"); });
  EXPECT_TRUE(contains(msg, "expected KEY=VALUE")) << msg;
}

TEST(CompileOptions, OutOfRangeOrMalformedValuesNameKeyAndRange) {
  const CompileOptions defaults;
  const struct {
    const char* kv;
    const char* key;
    const char* range;
  } bad[] = {
      {"adc_percentile=0", "adc_percentile", "(0, 100]"},
      {"adc_percentile=100.5", "adc_percentile", "(0, 100]"},
      {"activation_percentile=-1", "activation_percentile", "(0, 100]"},
      {"weight_percentile=nan", "weight_percentile", "(0, 100]"},
      {"weight_percentile=", "weight_percentile", "(0, 100]"},
      {"adc_percentile=99.9%", "adc_percentile", "(0, 100]"},
      {"calibration_vectors=0", "calibration_vectors", "[1, 2147483647]"},
      {"calibration_vectors=1.5", "calibration_vectors", "[1, 2147483647]"},
      {"calibration_vectors=3000000000", "calibration_vectors", "[1, 2147483647]"},
      {"calibration_patch_elements=-5", "calibration_patch_elements", ">= 1"},
      {"depthwise=diagonal", "depthwise", "automatic | packed | digital"},
      {"replicate=maybe", "replicate", "true | false"},
      {"bias_in_array=2", "bias_in_array", "true | false"},
  };
  for (const auto& b : bad) {
    CompileOptions o;
    const std::string msg = compile_error_of([&] { set_compile_option(o, b.kv); });
    EXPECT_TRUE(contains(msg, b.key) && contains(msg, b.range)) << b.kv << ": " << msg;
    EXPECT_EQ(to_json(o), to_json(defaults)) << b.kv << " changed the options";
  }
  // Set in code, out of range: compile() refuses before doing anything.
  CompileOptions o;
  o.adc_percentile = 0.0;
  const std::string msg = compile_error_of([&] { validate_options(o); });
  EXPECT_TRUE(contains(msg, "adc_percentile") && contains(msg, "(0, 100]")) << msg;
}

// A two-layer MLP, random weights, ReLU between.
Graph small_mlp() {
  Network net;
  net.name = "mlp";
  net.in_features = 12;
  std::mt19937 rng(3);
  std::normal_distribution<float> nd(0.0f, 0.3f);
  const int sizes[] = {12, 8, 3};
  for (int l = 0; l < 2; ++l) {
    DenseLayer layer;
    layer.name = "fc" + std::to_string(l);
    layer.weight = Eigen::MatrixXf(sizes[l + 1], sizes[l]);
    for (Eigen::Index i = 0; i < layer.weight.size(); ++i) layer.weight(i) = nd(rng);
    layer.bias = Eigen::VectorXf::Zero(sizes[l + 1]);
    layer.relu = l == 0;
    net.layers.push_back(layer);
  }
  return to_graph(net);
}

TEST(CompileOptions, PercentilesReachTheCompileAndMeta) {
  const Graph g = small_mlp();
  PlatformConfig cfg;
  cfg.name = "test";
  std::mt19937 rng(4);
  std::uniform_real_distribution<float> ud(0.0f, 1.0f);
  Eigen::MatrixXf x(100, 12);
  for (Eigen::Index i = 0; i < x.size(); ++i) x(i) = ud(rng);
  CompileOptions full, half;
  set_compile_options(full, {"adc_percentile=100", "calibration_vectors=40"});
  set_compile_options(half, {"adc_percentile=50", "calibration_vectors=40"});
  const CompiledModel a = compile(g, cfg, x, full), b = compile(g, cfg, x, half);
  EXPECT_EQ(a.summary["compile_options"]["adc_percentile"], 100.0);
  EXPECT_EQ(b.summary["compile_options"]["adc_percentile"], 50.0);
  EXPECT_EQ(a.summary["calibration"]["vectors_used"], 40);
  // The median current is below the largest: a smaller full scale, and saturated codes.
  const auto& la = a.summary["layers"][0], &lb = b.summary["layers"][0];
  EXPECT_LT(lb["adc_full_scale"].get<double>(), la["adc_full_scale"].get<double>());
  EXPECT_LT(la["calibration"]["adc_saturated_fraction"].get<double>(), 0.05);  // the largest only
  EXPECT_GT(lb["calibration"]["adc_saturated_fraction"].get<double>(), 0.1);
}

// The SRAM layout pass alone: input -> op 0 -> op 1 -> int32 output, 100-byte maps.
TEST(SramLayoutPass, ReusesDeadBuffersAndFindsTheLargestBatch) {
  Graph g;
  g.name = "hand-made";
  PlatformConfig cfg;
  cfg.name = "test";
  cfg.sram.size_kib = 1;
  const Eigen::MatrixXf cal;
  const CompileOptions opt;
  passes::CompileContext ctx(g, cfg, cal, opt);
  ctx.bufs.resize(3);
  ctx.bufs[0].shape = {100, 1, 1};
  ctx.bufs[1].shape = {100, 1, 1};
  ctx.bufs[2].shape = {10, 1, 1};
  ctx.bufs[2].i32 = true;  // 40 bytes
  ctx.in_buf = 0, ctx.out_buf = 2;
  ctx.low.resize(2);
  ctx.low[0].in_buf = 0, ctx.low[0].out_buf = 1;
  ctx.low[1].in_buf = 1, ctx.low[1].out_buf = 2;
  passes::layout_sram(ctx);
  // Buffers start on 64-byte boundaries: 5 images of a 100-byte map take 512 bytes, and the two
  // maps live at once (op 0 reads one and writes the other) fill the 1 KiB; a 6th image does not
  // fit. The output reuses the input's place (the input is dead after op 0).
  EXPECT_EQ(ctx.max_batch, 5);
  EXPECT_EQ(ctx.sram_bytes, 1024u);
  EXPECT_EQ(ctx.peak_bytes, 1024u);
  EXPECT_EQ(ctx.peak_bytes_per_image, 256u);
  EXPECT_EQ(ctx.bufs[0].addr, AIMC_SRAM_BASE);
  EXPECT_EQ(ctx.bufs[1].addr, AIMC_SRAM_BASE + 512u);
  EXPECT_EQ(ctx.bufs[2].addr, AIMC_SRAM_BASE);
  EXPECT_EQ(ctx.low[0].rec.in_addr, AIMC_SRAM_BASE);
  EXPECT_EQ(ctx.low[0].rec.out_addr, AIMC_SRAM_BASE + 512u);
  EXPECT_EQ(ctx.low[0].rec.in_stride, 100u);
  EXPECT_EQ(ctx.low[1].rec.out_addr, AIMC_SRAM_BASE);
  EXPECT_EQ(ctx.low[1].rec.out_stride, 40u);
  // Too small for one image: refused naming the platform and the bytes needed.
  cfg.sram.size_kib = 0;
  passes::CompileContext tiny(g, cfg, cal, opt);
  tiny.bufs = ctx.bufs, tiny.low = ctx.low, tiny.in_buf = 0, tiny.out_buf = 2;
  const std::string msg = compile_error_of([&] { passes::layout_sram(tiny); });
  EXPECT_TRUE(contains(msg, "platform 'test'") && contains(msg, "256 bytes needed")) << msg;
}

}  // namespace
