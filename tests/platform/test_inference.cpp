// Inference through the firmware driver against the platform, and end-to-end runs of the main job.
#include <gtest/gtest.h>

#include <cmath>
#include <cstddef>
#include <cstring>
#include <limits>

#include "compiler/image.h"
#include "harness.h"
#include "run_job.h"
#include "summary.h"

namespace aimc::testing {
namespace {

// With an ideal device the chip must compute exactly what the compiler's arithmetic says
// (compiler::execute_ideal is the golden model, written from the image format's formulas).
// allowed_inexact: vectors that may differ by a count at a rounding boundary (see the balanced
// sign-split test); every other vector must match to the output's last rounding.
void expect_driver_matches_the_ideal_reference(const std::vector<std::string>& settings, long allowed_inexact = 0) {
  constexpr long kImages = 200;
  const config::PlatformConfig cfg = preset(settings);
  const compiler::Graph net = compiler::import_onnx(model_path());
  const compiler::CompiledModel cm = compiler::compile(net, cfg, train_images(512).images);
  const compiler::Dataset data = test_images(kImages);
  const compiler::ImageView img = compiler::parse_image(cm.image);
  const compiler::IdealRun ref = compiler::execute_ideal(
      img, data.images, cfg.tile.adc.bits, cfg.tile.device.g_min_ns / cfg.tile.device.g_max_ns,
      cfg.tile.device.pair == config::PairMode::balanced ? num::PairMode::balanced : num::PairMode::unipolar);

  Bench b(cfg);
  std::vector<int32_t> out(kImages * 10);
  int rc = -99;
  b.run([&](aimc_hal_t hal) {
    aimc_dev_t dev;
    if ((rc = aimc_init(&dev, hal)) != AIMC_OK) return;
    if ((rc = aimc_load_image(&dev, cm.image.data(), cm.image.size())) != AIMC_OK) return;
    std::vector<float> xs = row_major(data.images);
    std::vector<uint8_t> codes(xs.size());
    if ((rc = aimc_quantize_inputs(&dev, xs.data(), xs.size(), codes.data())) != AIMC_OK) return;
    rc = aimc_infer(&dev, codes.data(), kImages, out.data());
  });
  ASSERT_EQ(rc, AIMC_OK) << aimc_strerror(rc);

  long exact = 0, same_class = 0, max_diff = 0, max_abs = 0, inexact = 0;
  for (long v = 0; v < kImages; ++v) {
    bool row_exact = true;
    Eigen::Index best_ref = 0, best_chip = 0;
    int32_t best = INT32_MIN;
    for (int j = 0; j < 10; ++j) {
      row_exact &= out[v * 10 + j] == ref.output(v, j);
      if (out[v * 10 + j] > best) { best = out[v * 10 + j]; best_chip = j; }
    }
    ref.output.row(v).maxCoeff(&best_ref);
    exact += row_exact;
    long row_diff = 0;
    for (int j = 0; j < 10; ++j) row_diff = std::max<long>(row_diff, std::labs(long(out[v * 10 + j]) - long(ref.output(v, j))));
    if (row_diff > 1 && inexact < allowed_inexact) {
      ++inexact;
      row_diff = 0;
    }
    max_diff = std::max(max_diff, row_diff);
    max_abs = std::max<long>(max_abs, ref.output.row(v).cwiseAbs().maxCoeff());
    same_class += best_ref == best_chip;
  }
  // Every ADC code must match; what may differ is the final rounding of the int32 output: the
  // chip's digital unit computes y in float32, the reference in double. |y / out_quant_scale| is
  // below 2^20 by construction (docs/deployment-image.md), where float32's spacing is 1/8, so the
  // two roundings can differ by at most one output LSB; a wrong ADC code would move the output by
  // acc_scale / out_quant_scale, thousands of LSBs.
  EXPECT_LE(max_diff, 1) << "vectors identical to the reference: " << exact << " of " << kImages
                         << ", largest |output| " << max_abs;
  EXPECT_GE(same_class, kImages - allowed_inexact);
}

TEST(PlatformInference, DriverMatchesTheIdealReference) {
  expect_driver_matches_the_ideal_reference({"tile.device.type=ideal"});
}

// Bit-serial inputs: the compiler calibrates every MVM op's ADC for one bit's partial sum and marks
// it BIT_SERIAL; the chip reads and converts each input bit and shifts and adds (the golden model
// does the same arithmetic, so the codes still agree exactly).
TEST(PlatformInference, BitSerialDriverMatchesTheIdealReference) {
  expect_driver_matches_the_ideal_reference({"tile.device.type=ideal", "tile.dac.kind=bit_serial"});
}

// Sign-split (HERMES 4-phase) reads: the compiler marks the ops SIGN_SPLIT and calibrates each
// side's unipolar range, with the pairs' common conductance (balanced: both cells around the middle).
// (One platform per process: the balanced case is its own test.)
TEST(PlatformInference, SignSplitReadsMatchTheIdealReference) {
  expect_driver_matches_the_ideal_reference(
      {"tile.device.type=ideal", "tile.array.read_phases=4", "tile.device.pair=unipolar"});
}
// Balanced pairs: both sides carry the common conductance g_mid, so each side's current is a sum of
// ~400 terms near 0.5 that the tile adds in float32 from float32 conductances (errors ~1e-6 of a
// count) while the golden model is exact: over the ~300,000 counts of 200 images about one lands
// within that error of a rounding boundary and flips. At most 2 of 200 vectors may show it; a wrong
// law would move nearly every vector.
TEST(PlatformInference, SignSplitReadsOfBalancedPairsMatchTheIdealReference) {
  expect_driver_matches_the_ideal_reference(
      {"tile.device.type=ideal", "tile.array.read_phases=2", "tile.device.pair=balanced"}, 2);
}

// A layer program whose numbers have no output code (a NaN clamp bound or table value, an
// infinite scale) is refused by the sequencer before anything runs: AIMC_ERR_BAD_PROGRAM naming
// the op (or, for the table, the program), as the image reader refuses such an image. Programs
// reach the chip by DMA from firmware, so the chip cannot rely on the compiler's reader.
TEST(PlatformInference, ProgramWithNonFiniteNumbersIsRefusedBeforeItRuns) {
  const config::PlatformConfig cfg = preset({"tile.device.type=ideal"});
  const compiler::CompiledModel cm = bundled(cfg);
  const compiler::ImageView img = compiler::parse_image(cm.image);
  ASSERT_GE(img.layers.size(), 2u);
  ASSERT_GT(img.program.bias_count, 0u);
  const size_t op1 = sizeof(aimc_program_hdr_t) + sizeof(aimc_layer_t);
  const size_t table = sizeof(aimc_program_hdr_t) + img.layers.size() * sizeof(aimc_layer_t) +
                       img.slices.size() * sizeof(aimc_slice_t);
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  struct Case {
    const char* what;
    size_t offset;  // of the float in the program
    float value;
    bool names_op1;  // ERROR_ADDR: op 1, else the program's address
    const char* words;  // in the sequencer's last_problem()
  };
  const std::vector<Case> cases = {
      {"act_max NaN", op1 + offsetof(aimc_layer_t, act_max), nan, true, "op 1: act_min/act_max must be ordered"},
      {"acc_scale infinite", op1 + offsetof(aimc_layer_t, acc_scale), inf, true, "op 1: acc_scale must be finite"},
      {"out_quant_scale NaN", op1 + offsetof(aimc_layer_t, out_quant_scale), nan, true,
       "op 1: out_quant_scale must be finite"},
      {"table value NaN", table, nan, false, "non-finite value in the table (entry 0)"},
  };
  std::vector<std::string> problems;
  const Eigen::MatrixXf x = test_images(2).images;
  std::vector<uint32_t> errors, addrs;
  int rc_good = -99;
  uint32_t prog_addr = 0;
  Bench b(cfg);
  b.run([&](aimc_hal_t hal) {
    aimc_dev_t dev;
    ASSERT_EQ(aimc_init(&dev, hal), AIMC_OK);
    ASSERT_EQ(aimc_load_image(&dev, cm.image.data(), cm.image.size()), AIMC_OK);
    prog_addr = dev.prog_addr;
    std::vector<float> xs = row_major(x);
    std::vector<uint8_t> codes(xs.size());
    ASSERT_EQ(aimc_quantize_inputs(&dev, xs.data(), xs.size(), codes.data()), AIMC_OK);
    std::vector<int32_t> out(2 * dev.out_features);
    aimc_dma_buf_t buf;
    const auto& good = img.program_payload;
    ASSERT_EQ(hal.ops->dma_alloc(hal.ctx, good.size(), &buf), AIMC_HAL_OK);
    auto load_program = [&](const std::vector<uint8_t>& bytes) {
      std::memcpy(buf.cpu, bytes.data(), bytes.size());
      ASSERT_EQ(aimc_dma(&dev, &buf, 0, dev.prog_addr, static_cast<uint32_t>(bytes.size()), 0), AIMC_OK);
    };
    for (const Case& c : cases) {
      std::vector<uint8_t> bad = good;
      std::memcpy(bad.data() + c.offset, &c.value, sizeof(float));
      load_program(bad);
      dev.device_error = dev.device_error_addr = 0;
      EXPECT_EQ(aimc_infer(&dev, codes.data(), 2, out.data()), AIMC_E_DEVICE) << c.what;
      errors.push_back(dev.device_error);
      addrs.push_back(dev.device_error_addr);
      problems.push_back(b.chip.sequencer().last_problem());
    }
    load_program(good);  // the same program, unchanged, runs
    rc_good = aimc_infer(&dev, codes.data(), 2, out.data());
    problems.push_back(b.chip.sequencer().last_problem());
  });
  ASSERT_EQ(errors.size(), cases.size());
  for (size_t i = 0; i < cases.size(); ++i) {
    EXPECT_EQ(errors[i], static_cast<uint32_t>(AIMC_ERR_BAD_PROGRAM)) << cases[i].what;
    EXPECT_EQ(addrs[i], cases[i].names_op1 ? 1u : prog_addr) << cases[i].what;
    EXPECT_NE(problems[i].find(cases[i].words), std::string::npos) << cases[i].what << ": " << problems[i];
  }
  ASSERT_EQ(problems.size(), cases.size() + 1);
  EXPECT_EQ(problems.back(), "") << "an accepted program leaves no problem";
  EXPECT_EQ(rc_good, AIMC_OK) << aimc_strerror(rc_good);
}

app::RunOptions small_run(long images, std::vector<std::string> overrides) {
  app::RunOptions o;
  o.platform_path = preset_path();
  o.model_path = model_path();
  o.data_dir = data_dir();
  o.limit = images;
  o.overrides = std::move(overrides);
  o.progress = false;
  return o;
}

TEST(PlatformEndToEnd, IdealDevicesStayWithinTwoPointsOfFloat) {
  const auto r = app::run_job(small_run(300, {"tile.device.type=ideal"}));
  EXPECT_EQ(r["images"].get<long>(), 300);
  const double f = r["accuracy"]["float"].get<double>(), p = r["accuracy"]["platform"].get<double>();
  EXPECT_GT(f, 0.80);  // the bundled model is a working classifier
  EXPECT_LE(std::fabs(p - f), 0.02) << "float " << f << " platform " << p;
}

TEST(PlatformEndToEnd, ReportHasEveryFieldAndTheBreakdownSumsToTheTotal) {
  const auto r = app::run_job(small_run(100, {}));
  for (const char* key : {"platform", "model", "images", "seed", "tops", "tops_per_w", "interconnect", "bottleneck"})
    EXPECT_TRUE(r.contains(key)) << key;
  EXPECT_TRUE(r["accuracy"].contains("float"));
  EXPECT_TRUE(r["accuracy"].contains("platform"));
  EXPECT_GT(r["latency_ns"]["per_inference"].get<double>(), 0.0);
  // The network fits the chip: nothing to wait for between segments, latency = compute.
  EXPECT_EQ(r["reload"]["segments"].get<int>(), 1);
  EXPECT_EQ(r["latency_ns"]["per_inference_reload"].get<double>(), 0.0);
  EXPECT_EQ(r["latency_ns"]["per_inference"].get<double>(), r["latency_ns"]["per_inference_compute"].get<double>());
  const double per_inf = r["energy_j"]["per_inference"].get<double>();
  double sum_c = 0, sum_l = 0;
  for (const auto& [k, v] : r["energy_j"]["by_component"].items()) sum_c += v.get<double>();
  for (const auto& [k, v] : r["energy_j"]["by_layer"].items()) sum_l += v.get<double>();
  EXPECT_NEAR(sum_c, per_inf, 1e-12 * per_inf);
  EXPECT_NEAR(sum_l, per_inf, 1e-12 * per_inf);
  EXPECT_GT(per_inf, 0.0);
  for (const char* c : {"dac", "array", "adc", "digital", "bus", "sram", "host"})
    EXPECT_GT(r["energy_j"]["by_component"][c].get<double>(), 0.0) << c;
  // TOPS and TOPS/W are the MAC count over time and energy of the inference phase.
  const double ops = 2.0 * r["macs_per_inference"].get<double>() * 100;
  EXPECT_NEAR(r["tops_per_w"].get<double>(), ops / r["energy_j"]["infer"].get<double>() / 1e12,
              1e-9 * r["tops_per_w"].get<double>());
  EXPECT_NEAR(r["tops"].get<double>(), ops / (r["time_ns"]["infer"].get<double>() * 1e-9) / 1e12,
              1e-6 * r["tops"].get<double>());
}

// The bundled MLP on two tiles of 400 x 256 cells: the first layer takes both, so the other two
// run after a weight reload (two segments). One image: segment 0 is resident from the deploy, and
// the image waits for segment 1 to be programmed between its two commands.
TEST(PlatformEndToEnd, ReloadIsInTheLatencyAndItsStaticEnergyInTheReloadEnergy) {
  const std::vector<std::string> over = {"tile.device.type=ideal", "grid.rows=1", "grid.cols=2",
                                         "tile.array.cols=256"};
  const auto r = app::run_job(small_run(1, over));
  const auto& rl = r["reload"];
  ASSERT_EQ(rl["segments"].get<int>(), 2);
  ASSERT_EQ(rl["weight_loads"].get<int>(), 1);
  // Latency: compute (both commands) plus the wait between them, which holds the programming of
  // segment 1 (the controller's busy time: the run's only reload) and the firmware's weight DMA.
  const auto& lat = r["latency_ns"];
  const double total = lat["per_inference"].get<double>(), compute = lat["per_inference_compute"].get<double>(),
               reload = lat["per_inference_reload"].get<double>(), prog_ns = rl["time_ns"].get<double>();
  EXPECT_GT(compute, 0.0);
  EXPECT_GT(prog_ns, 0.0);
  EXPECT_DOUBLE_EQ(total, compute + reload);
  EXPECT_GE(reload, prog_ns) << "the image waited for the reprogramming of segment 1";
  EXPECT_LE(total, lat["per_inference_with_dma"].get<double>()) << "the call to aimc_infer holds it all, plus DMA";
  EXPECT_LT(lat["per_inference_with_dma"].get<double>() - total, 1e-3 * reload)
      << "the call adds only the input and output DMA and the interrupt (us) to the latency (ms)";
  // Reload energy: the programming events plus the chip's static power over the programming.
  const config::PlatformConfig cfg = preset(over);
  // (the preset's SAR ADCs at their reference bits: ceil(cols / share) per tile, each leaking p_static_uw;
  // one array per tile, its sense path drawing array.p_static_uw)
  const int adcs_per_tile = (cfg.tile.array.cols + cfg.tile.adc.share - 1) / cfg.tile.adc.share;
  const double p_static_w = (cfg.tile_count() * (cfg.tile.p_static_active_uw + cfg.tile.array.p_static_uw + cfg.tile.digital.p_static_uw +
                                                  adcs_per_tile * cfg.tile.adc.p_static_uw) +
                             cfg.bus.p_static_uw + cfg.sram.size_kib * cfg.sram.p_static_uw_per_kib + cfg.host.p_static_uw) * 1e-6;
  const double e_static = rl["energy_j_static"].get<double>(), e_dynamic = rl["energy_j_dynamic"].get<double>();
  EXPECT_NEAR(e_static, p_static_w * prog_ns * 1e-9, 1e-9 * e_static);
  const auto& by_comp_phase = r["energy_j"]["ledger"]["by_component_phase"];
  double e_prog = 0;
  for (const char* c : {"prog_erase", "prog_pulse", "prog_verify"}) e_prog += by_comp_phase[c]["infer"].get<double>();
  EXPECT_GT(e_prog, 0.0);
  EXPECT_DOUBLE_EQ(e_dynamic, e_prog);
  EXPECT_DOUBLE_EQ(rl["energy_j"].get<double>(), e_dynamic + e_static);
  EXPECT_DOUBLE_EQ(rl["energy_j_per_inference"].get<double>(), e_dynamic + e_static);  // one image
  // The bus: the deploy's weights and the reload's (infer) both cross it; the parts add up.
  const auto& bus = r["bus"];
  const double deploy_ns = bus["busy_ns_by_phase"]["deploy"].get<double>();
  const double infer_ns = bus["busy_ns_by_phase"]["infer"].get<double>();
  EXPECT_GT(deploy_ns, 0.0);
  EXPECT_GT(infer_ns, 0.0);
  EXPECT_DOUBLE_EQ(deploy_ns + infer_ns, bus["busy_ns"].get<double>());
  // The summary says what the image waited for.
  const std::string text = app::format_summary(r);
  EXPECT_NE(text.find("waiting for the weight reload between segments"), std::string::npos) << text;
  EXPECT_NE(text.find("weight reload              1 loads of 2 segments"), std::string::npos) << text;
}

// The report and the summary give the batch the run used (--batch, capped at max_batch), not
// only the largest one the SRAM allows.
TEST(PlatformEndToEnd, ReportAndSummaryGiveTheBatchUsed) {
  app::RunOptions o = small_run(7, {"tile.device.type=ideal"});
  o.batch = 4;
  const auto r = app::run_job(o);
  EXPECT_EQ(r["batch"].get<long>(), 4);
  EXPECT_EQ(r["commands"].get<long>(), 3) << "1 image alone, then 4 and 2";
  const long max_batch = r["max_batch"].get<long>();
  ASSERT_GT(max_batch, 4);
  const std::string text = app::format_summary(r);
  EXPECT_NE(text.find("then batches of up to 4, max_batch " + std::to_string(max_batch) + ")"), std::string::npos)
      << text;
}

}  // namespace
}  // namespace aimc::testing
