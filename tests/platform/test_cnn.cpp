// Convolutional networks on the platform: conv lowering, depthwise mappings, residual adds and
// pooling through the firmware driver against the compiler's golden model; weight reload for a
// network larger than the chip; layer pipelining, its bus limit and the SRAM it must not overwrite.
// Each TEST runs in its own process (one SystemC elaboration per process).
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "chip/map_hazards.h"
#include "compiler/image.h"
#include "compiler/onnx_import.h"
#include "harness.h"
#include "run_job.h"

namespace aimc::testing {
namespace {

using compiler::Graph;
using compiler::Op;
using compiler::OpKind;
using compiler::Shape;

Eigen::MatrixXf uniform(long rows, long cols, unsigned seed, float lo = 0.0f, float hi = 1.0f) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> d(lo, hi);
  Eigen::MatrixXf m(rows, cols);
  for (long i = 0; i < m.size(); ++i) m(i) = d(gen);
  return m;
}

Op conv(const std::string& name, int cin, int cout, int k, int stride, int pad, int groups, unsigned seed,
        bool relu = true) {
  Op op;
  op.kind = OpKind::Conv;
  op.name = name;
  op.onnx_op = "Conv";
  op.kh = op.kw = k;
  op.stride_h = op.stride_w = stride;
  op.pad_t = op.pad_l = op.pad_b = op.pad_r = pad;
  op.groups = groups;
  const float bound = std::sqrt(6.0f / float(k * k * cin / groups));  // He-uniform: activations keep their size
  op.weight = uniform(cout, long(k) * k * (cin / groups), seed, -bound, bound);
  op.bias = uniform(cout, 1, seed + 1000, -0.05f, 0.05f);
  if (relu) op.act_min = 0.0f;
  return op;
}

// 3x12x12 -> conv 3x3 (16) -> depthwise 3x3 (16) -> pointwise (16) -> add with the first conv ->
// maxpool 2 -> global average pool -> dense 6. Every kind of op the chip executes but concat and
// softmax (covered by the compiler tests).
Graph small_cnn() {
  Graph g;
  g.name = "small_cnn";
  g.input = g.add_tensor("input", Shape{3, 12, 12});
  auto put = [&g](Op op) { return g.ops[size_t(g.add_op(std::move(op)))].output; };
  Op c1 = conv("conv1", 3, 16, 3, 1, 1, 1, 11);
  c1.inputs = {g.input};
  const int t1 = put(c1);
  Op dw = conv("dw", 16, 16, 3, 1, 1, 16, 12);
  dw.inputs = {t1};
  const int t2 = put(dw);
  Op pw = conv("pw", 16, 16, 1, 1, 0, 1, 13);
  pw.inputs = {t2};
  pw.act_min = -std::numeric_limits<float>::infinity();  // signed: the add follows
  const int t3 = put(pw);
  Op add;
  add.kind = OpKind::Add;
  add.name = "res";
  add.onnx_op = "Add";
  add.inputs = {t3, t1};
  add.act_min = 0.0f;
  const int t4 = put(add);
  Op mp;
  mp.kind = OpKind::MaxPool;
  mp.name = "pool";
  mp.onnx_op = "MaxPool";
  mp.kh = mp.kw = mp.stride_h = mp.stride_w = 2;
  mp.inputs = {t4};
  const int t5 = put(mp);
  Op gap;
  gap.kind = OpKind::GlobalAvgPool;
  gap.name = "gap";
  gap.onnx_op = "GlobalAveragePool";
  gap.inputs = {t5};
  const int t6 = put(gap);
  Op fc = conv("fc", 16, 6, 1, 1, 0, 1, 14, false);
  fc.onnx_op = "Gemm";
  fc.inputs = {t6};
  g.output = put(fc);
  g.validate();
  return g;
}

struct DriverRun {
  int rc = -99;
  std::vector<int32_t> out;
  aimc_dev_t dev{};
};

// Loads the image and runs `images` (C, H, W order) through aimc_infer in calls of `per_call`.
DriverRun run_driver(Bench& b, const compiler::CompiledModel& cm, const Graph& g, const Eigen::MatrixXf& images,
                     long per_call) {
  DriverRun r;
  const long n = images.rows();
  r.out.assign(size_t(n * g.out_features()), 0);
  b.run([&](aimc_hal_t hal) {
    if ((r.rc = aimc_init(&r.dev, hal)) != AIMC_OK) return;
    if ((r.rc = aimc_load_image(&r.dev, cm.image.data(), cm.image.size())) != AIMC_OK) return;
    std::vector<float> xs = row_major(compiler::chw_to_hwc(images, g.in_shape()));
    std::vector<uint8_t> codes(xs.size());
    if ((r.rc = aimc_quantize_inputs(&r.dev, xs.data(), xs.size(), codes.data())) != AIMC_OK) return;
    for (long done = 0; done < n; done += per_call) {
      const long k = std::min(per_call, n - done);
      r.rc = aimc_infer(&r.dev, codes.data() + done * g.in_features(), uint32_t(k),
                        r.out.data() + done * g.out_features());
      if (r.rc != AIMC_OK) return;
    }
  });
  return r;
}

// The chip with an ideal device computes what the compiler's golden model (execute_ideal) says.
// The ADC codes are exact (integer dot products); the digital units compute in float32 like the
// golden model, so the outputs agree to the last bit but for a double-vs-float current at an ADC
// rounding boundary, which moves one output by one code: allow 1 LSB on a few outputs.
void expect_ideal_match(compiler::CompileOptions::Depthwise mapping, const Graph& g = small_cnn(),
                        compiler::CompileOptions::WeightScales scales = compiler::CompileOptions::WeightScales::per_tensor) {
  const config::PlatformConfig cfg = preset({"tile.device.type=ideal"});
  const Eigen::MatrixXf cal = uniform(64, g.in_features(), 3);
  compiler::CompileOptions opt;
  opt.depthwise = mapping;
  opt.weight_scales = scales;
  const compiler::CompiledModel cm = compiler::compile(g, cfg, cal, opt);
  if (scales == compiler::CompileOptions::WeightScales::per_column) {  // every MVM op carries its scales
    for (const auto& op : cm.summary["layers"])
      if (op["kind"] == AIMC_OP_MVM) { EXPECT_EQ(op.value("weight_scales", ""), "per_column") << op["name"]; }
  }
  ASSERT_EQ(cm.segments, 1);
  const std::string used = cm.summary["depthwise"]["mapping"].get<std::string>();
  EXPECT_EQ(used, mapping == compiler::CompileOptions::Depthwise::digital ? "digital" : "packed");
  EXPECT_FALSE(cm.summary["depthwise"]["why"].get<std::string>().empty());

  const Eigen::MatrixXf x = uniform(12, g.in_features(), 4);
  const compiler::ImageView img = compiler::parse_image(cm.image);
  const compiler::IdealRun ref =
      compiler::execute_ideal(img, x, cfg.tile.adc.bits, cfg.tile.device.g_min_ns / cfg.tile.device.g_max_ns);
  Bench b(cfg);
  const DriverRun r = run_driver(b, cm, g, x, 5);
  ASSERT_EQ(r.rc, AIMC_OK) << aimc_strerror(r.rc) << " device error " << r.dev.device_error;
  long max_diff = 0, differing = 0;
  for (long v = 0; v < x.rows(); ++v)
    for (long j = 0; j < g.out_features(); ++j) {
      const long d = std::labs(long(r.out[size_t(v * g.out_features() + j)]) - long(ref.output(v, j)));
      max_diff = std::max(max_diff, d);
      differing += d != 0;
    }
  const double out_lsb_per_code = 1.0;
  EXPECT_LE(max_diff, long(out_lsb_per_code)) << differing << " outputs differ";

  // And the golden model tracks the float network: 8-bit activations and 6-bit weights keep the
  // outputs within a few percent of the output range (measured ~2-4 %; 10 % is far outside).
  const Eigen::MatrixXf f = g.forward(x);
  const double rms = std::sqrt(f.squaredNorm() / double(f.size()));
  const double err = std::sqrt((ref.logits - f).squaredNorm() / double(f.size()));
  EXPECT_LT(err, 0.10 * rms) << "ideal quantized outputs vs float: rms error " << err << ", rms " << rms;
}

TEST(CnnPlatform, IdealDeviceMatchesTheGoldenModelWithPackedDepthwise) {
  expect_ideal_match(compiler::CompileOptions::Depthwise::packed);
}

TEST(CnnPlatform, IdealDeviceMatchesTheGoldenModelWithDigitalDepthwise) {
  expect_ideal_match(compiler::CompileOptions::Depthwise::digital);
}

// Issue 20: every activation (folded into MVM ops with and without table parameters, into the
// digital depthwise convolution, the add and the standalone activation op) computes on the chip
// what the golden model says; the network is torch's export (tests/compiler/data/make_act_net.py).
// The second also puts per-column weight scales on every MVM op (the scales and the activation's
// parameters after the biases in the table).
TEST(CnnPlatform, ActivationsMatchTheGoldenModelWithPackedDepthwise) {
  expect_ideal_match(compiler::CompileOptions::Depthwise::packed,
                     compiler::import_onnx(source_dir() + "/tests/compiler/data/act_net_o13.onnx"));
}

TEST(CnnPlatform, ActivationsMatchTheGoldenModelWithDigitalDepthwise) {
  expect_ideal_match(compiler::CompileOptions::Depthwise::digital,
                     compiler::import_onnx(source_dir() + "/tests/compiler/data/act_net_o17.onnx"),
                     compiler::CompileOptions::WeightScales::per_column);
}

// Four 32x32 dense layers on a chip of two 32x32 tiles: two segments, and the driver reprograms
// the tiles for every segment they do not hold. Outputs stay those of the golden model; the
// reload is charged: one PROGRAM per tile per weight load, its cells and energy.
TEST(CnnPlatform, NetworkLargerThanTheChipRunsWithReloadAndPaysForIt) {
  const config::PlatformConfig cfg =
      preset({"tile.device.type=ideal", "grid.rows=1", "grid.cols=2", "tile.array.rows=32", "tile.array.cols=32"});
  compiler::Network net;
  net.name = "mlp32";
  net.in_features = 32;
  for (int l = 0; l < 4; ++l) {
    compiler::DenseLayer d;
    d.name = "fc" + std::to_string(l);
    d.weight = uniform(32, 32, 20 + l, -0.4f, 0.4f);
    d.bias = uniform(32, 1, 40 + l, -0.05f, 0.05f);
    d.relu = l < 3;
    net.layers.push_back(d);
  }
  const Graph g = compiler::to_graph(net);
  const compiler::CompiledModel cm = compiler::compile(g, cfg, uniform(64, 32, 5));
  ASSERT_EQ(cm.segments, 2) << "4 full tiles of weights on a 2-tile chip";
  const Eigen::MatrixXf x = uniform(6, 32, 6);
  const compiler::IdealRun ref = compiler::execute_ideal(compiler::parse_image(cm.image), x, cfg.tile.adc.bits,
                                                         cfg.tile.device.g_min_ns / cfg.tile.device.g_max_ns);
  Bench b(cfg);
  std::vector<chip::Sequencer::CommandTiming> commands;
  b.chip.sequencer().set_command_sink([&](const chip::Sequencer::CommandTiming& c) { commands.push_back(c); });
  const DriverRun r = run_driver(b, cm, g, x, 3);  // two calls of three images
  ASSERT_EQ(r.rc, AIMC_OK) << aimc_strerror(r.rc) << " device error " << r.dev.device_error;
  // The sequencer reports each segment's command: its program, batch and times, in order, with
  // the reprogramming between one segment's end and the next one's doorbell.
  const compiler::ImageView img = compiler::parse_image(cm.image);
  ASSERT_EQ(commands.size(), 4u) << "two calls of two segments";
  const uint64_t t_program_ps = sim::ns_to_ps(cfg.programming.t_verify_ns);  // a PROGRAM takes longer
  for (size_t i = 0; i < commands.size(); ++i) {
    const auto& c = commands[i];
    EXPECT_EQ(c.prog_addr, img.segments[i % 2].program_dest_addr) << i;
    EXPECT_EQ(c.batch, 3u) << i;
    EXPECT_LT(c.start_ps, c.first_output_ps) << i;
    EXPECT_LE(c.first_output_ps, c.end_ps) << i;
    if (i > 0) {
      EXPECT_GT(c.start_ps, commands[i - 1].end_ps + t_program_ps) << "a reload before command " << i;
    }
  }
  for (long v = 0; v < x.rows(); ++v)
    for (long j = 0; j < 32; ++j)
      EXPECT_LE(std::labs(long(r.out[size_t(v * 32 + j)]) - long(ref.output(v, j))), 1) << "image " << v;
  // Call 1: segment 0 is resident from the load, segment 1 is loaded. Call 2: 0, then 1 again.
  EXPECT_EQ(r.dev.segments, 2u);
  EXPECT_EQ(r.dev.reloads, 3u);
  const chip::ProgrammingStats& st = b.chip.programmer().stats();
  EXPECT_EQ(st.program_commands, 2 + 3 * 2) << "2 tiles at load, then 2 tiles per reload";
  EXPECT_EQ(st.cells, long(st.program_commands) * 2 * 32 * 32) << "every PROGRAM writes both cells of 32x32 pairs";
  EXPECT_EQ(long(r.dev.reload_cells), 3L * 2 * 2 * 32 * 32);
  const int pulse = b.ledger.component("prog_pulse");
  EXPECT_GT(b.ledger.component_j(pulse), 0.0);
}

// Replication: the busiest op gets copies on the tiles the mapping leaves empty. On an ideal
// device every copy computes what the original does, so the outputs stay the golden model's;
// the copies share the op's chunks of output positions in turn (chunk g of the batch, image after
// image, on copy g mod copies), which the tiles' MVM counts show.
TEST(CnnPlatform, ReplicatedOpSharesItsPositionsAndComputesTheSame) {
  // A 64-byte bus: on the preset's 8-byte one this small network is bus-bound, and copies would
  // not help (the mapper makes none).
  const config::PlatformConfig cfg = preset({"tile.device.type=ideal", "bus.width_bytes=64"});
  const Graph g = small_cnn();
  compiler::CompileOptions opt;
  opt.depthwise = compiler::CompileOptions::Depthwise::packed;
  opt.replicate = true;
  const compiler::CompiledModel cm = compiler::compile(g, cfg, uniform(64, g.in_features(), 3), opt);
  const compiler::ImageView img = compiler::parse_image(cm.image);
  const aimc_layer_t* op = nullptr;
  for (const aimc_layer_t& L : img.layers)
    if (L.replicas > 1 && !op) op = &L;
  ASSERT_NE(op, nullptr) << "small_cnn leaves tiles empty on 12 tiles and its first conv is slower than the bus";
  const uint32_t copies = op->replicas, per_copy = op->slice_count / copies;

  const Eigen::MatrixXf x = uniform(7, g.in_features(), 4);
  const compiler::IdealRun ref =
      compiler::execute_ideal(img, x, cfg.tile.adc.bits, cfg.tile.device.g_min_ns / cfg.tile.device.g_max_ns);
  Bench b(cfg);
  const DriverRun r = run_driver(b, cm, g, x, 7);  // one command: the chunks of 7 images
  ASSERT_EQ(r.rc, AIMC_OK) << aimc_strerror(r.rc) << " device error " << r.dev.device_error;
  for (long v = 0; v < x.rows(); ++v)
    for (long j = 0; j < g.out_features(); ++j)
      EXPECT_LE(std::labs(long(r.out[size_t(v * g.out_features() + j)]) - long(ref.output(v, j))), 1) << "image " << v;

  // Positions per copy, from the documented rule; the copies' tiles hold nothing else.
  uint32_t max_rows = 1;
  for (uint32_t s = op->first_slice; s < op->first_slice + op->slice_count; ++s)
    max_rows = std::max(max_rows, img.slices[s].row_count);
  const long chunk = std::max<long>(1, long(cfg.tile.input_buffer_bytes) / 2 / long(max_rows));
  const long positions = long(op->out_h) * op->out_w, chunks = (positions + chunk - 1) / chunk;
  std::vector<long> expect(copies, 0);
  for (long v = 0; v < x.rows(); ++v)
    for (long k = 0; k < chunks; ++k) expect[size_t((v * chunks + k) % copies)] += std::min(chunk, positions - k * chunk);
  EXPECT_GT(expect[1], 0);
  for (uint32_t c = 1; c < copies; ++c)
    for (uint32_t s = op->first_slice + c * per_copy; s < op->first_slice + (c + 1) * per_copy; ++s)
      EXPECT_EQ(long(b.chip.tiles()[img.slices[s].tile]->mvm_count()), expect[c]) << "copy " << c << ", slice " << s;
}

// The compiler lays the maps out for op after op over the batch, so image u's map of one op may
// share SRAM bytes with image v's map of another. The sequencer overlaps images only as far as
// that allows (chip/map_hazards.h): a batch in one command computes what its images compute
// alone, though they run through the ops side by side.
TEST(CnnPipeline, ImagesOfABatchSharingSramComputeWhatTheyComputeAlone) {
  const config::PlatformConfig cfg = preset({"tile.device.type=ideal"});
  // The bundled CNN: its last op writes the outputs where an early op's map was.
  const Graph g = compiler::import_onnx(source_dir() + "/platforms/models/fashion_mnist_cnn.onnx");
  const compiler::CompiledModel cm = compiler::compile(g, cfg, train_images(64).images);
  const compiler::ImageView img = compiler::parse_image(cm.image);
  const long n = 24;
  ASSERT_GE(cm.max_batch, n);
  // The layout does share bytes between images of different ops in this batch.
  const chip::MapHazards hazards(img.layers, uint32_t(n));
  long across = 0;
  for (uint32_t k = 0; k < img.layers.size(); ++k)
    for (uint32_t v = 0; v < n; ++v)
      for (const chip::OpImage& p : hazards.before(k, v)) across += p.image != v;
  ASSERT_GT(across, 0) << "no map shares SRAM with another image's: the test would show nothing";

  // On an ideal device an image's outputs do not depend on its company: run each image alone,
  // then all of them as one command.
  const Eigen::MatrixXf x = test_images(n).images;
  Bench b(cfg);
  int rc = -99;
  const size_t out_f = size_t(g.out_features());
  std::vector<int32_t> alone(size_t(n) * out_f), together(size_t(n) * out_f);
  aimc_dev_t dev{};
  b.run([&](aimc_hal_t hal) {
    if ((rc = aimc_init(&dev, hal)) != AIMC_OK) return;
    if ((rc = aimc_load_image(&dev, cm.image.data(), cm.image.size())) != AIMC_OK) return;
    std::vector<float> xs = row_major(compiler::chw_to_hwc(x, g.in_shape()));
    std::vector<uint8_t> codes(xs.size());
    if ((rc = aimc_quantize_inputs(&dev, xs.data(), xs.size(), codes.data())) != AIMC_OK) return;
    for (long v = 0; v < n; ++v)
      if ((rc = aimc_infer(&dev, codes.data() + v * g.in_features(), 1, alone.data() + v * out_f)) != AIMC_OK) return;
    rc = aimc_infer(&dev, codes.data(), uint32_t(n), together.data());
  });
  ASSERT_EQ(rc, AIMC_OK) << aimc_strerror(rc) << " device error " << dev.device_error;
  long differing = 0;
  for (size_t i = 0; i < alone.size(); ++i) differing += alone[i] != together[i];
  EXPECT_EQ(differing, 0) << "outputs of the batch that differ from the same images run alone, of " << alone.size();
  EXPECT_NE(alone, std::vector<int32_t>(alone.size(), 0));
}

app::RunOptions cnn_run(std::vector<std::string> overrides) {
  app::RunOptions o;
  o.platform_path = preset_path();
  o.model_path = source_dir() + "/platforms/models/fashion_mnist_cnn.onnx";
  o.input = "random";
  o.limit = 24;
  o.overrides = std::move(overrides);
  o.progress = false;
  return o;
}

// The layers sit on different tiles, so over a stream of images they overlap: the steady-state
// rate is higher than one image per latency.
TEST(CnnPipeline, ThroughputExceedsOneOverLatency) {
  // A wide bus (64 B per cycle) so that the tiles, not the bus, set the pace.
  const auto r = app::run_job(cnn_run({"tile.device.type=ideal", "bus.width_bytes=64"}));
  const double latency_s = r["latency_ns"]["per_inference"].get<double>() * 1e-9;
  const double rate = r["throughput_inferences_per_s"].get<double>();
  EXPECT_GT(rate, 1.2 / latency_s) << "latency " << latency_s << " s, rate " << rate << " /s";
  EXPECT_GE(r["tiles_used"].get<int>(), 5) << "ops on their own tiles";
}

// With a bus 100x slower, the shared bus bounds the rate: it is busy nearly all the time, and no
// schedule can beat bytes-per-image over bus bandwidth.
TEST(CnnPipeline, SlowBusLimitsThroughput) {
  const auto r = app::run_job(cnn_run({"tile.device.type=ideal", "bus.clock_mhz=2"}));
  const double rate = r["throughput_inferences_per_s"].get<double>();
  const double images = r["images"].get<double>();
  const double infer_s = r["time_ns"]["infer"].get<double>() * 1e-9;
  const double bus_busy_s = r["bus"]["busy_ns_by_phase"]["infer"].get<double>() * 1e-9;
  const double bus_bound = images / bus_busy_s;  // images per second of the inferences' bus time
  // The rate sits at the bus bound: images over the bus time of the infer phase (the deploy's
  // weight transfers are in busy_ns_by_phase.deploy).
  EXPECT_NEAR(rate / bus_bound, 1.0, 0.1) << "rate " << rate << " /s, bus bound " << bus_bound << " /s";
  EXPECT_GT(bus_busy_s / infer_s, 0.8) << "the bus should be the bottleneck";
}

// Copies of the busiest op lift the rate above what one copy of it could sustain: its positions
// per image times its MVM time (dac + array + ADC rounds) bound a single copy's rate.
TEST(CnnPipeline, ReplicationLiftsThroughputAboveOneCopysBound) {
  const std::vector<std::string> over = {"tile.device.type=ideal", "bus.width_bytes=64"};
  app::RunOptions o = cnn_run(over);
  o.replicate = true;
  const auto r = app::run_job(o);
  ASSERT_EQ(r["replication"].size(), 1u) << r["replication"].dump();
  const std::string name = r["replication"][0]["op"].get<std::string>();
  const int copies = r["replication"][0]["copies"].get<int>();
  EXPECT_GE(copies, 2);
  const config::PlatformConfig cfg = preset(over);
  const nlohmann::json* layer = nullptr;
  for (const auto& L : r["compile"]["layers"])
    if (L["name"] == name) layer = &L;
  ASSERT_NE(layer, nullptr);
  const double positions = (*layer)["out"][0].get<double>() * (*layer)["out"][1].get<double>();
  const int cols = (*layer)["slices"][0]["cols"][1].get<int>() - (*layer)["slices"][0]["cols"][0].get<int>();
  const int adcs = (cfg.tile.array.cols + cfg.tile.adc.share - 1) / cfg.tile.adc.share;
  // The array read: the bit line (every row of the array) settles to half an ADC LSB, then t_read.
  const auto& a = cfg.tile.array;
  const double t_settle_ns = (cfg.tile.adc.bits + 1) * std::log(2.0) * a.r_line_kohm * 1e3 *
                             (a.rows * a.cell_pitch_um * a.c_wire_ff_per_um * 1e-15) * 1e9;
  const double t_mvm_s =
      (cfg.tile.dac.t_conv_ns + a.t_read_ns + t_settle_ns + ((cols + adcs - 1) / adcs) * cfg.tile.adc.t_conv_ns) * 1e-9;
  const double one_copy_bound = 1.0 / (positions * t_mvm_s);
  const double rate = r["throughput_inferences_per_s"].get<double>();
  EXPECT_GT(rate, 1.5 * one_copy_bound) << copies << " copies of " << name << ": rate " << rate
                                        << " /s, one copy's bound " << one_copy_bound << " /s";
}

}  // namespace
}  // namespace aimc::testing
