// The sweep file of `aimc sweep`: what it expands to, in which order, with which ids, and what it
// refuses (naming the file and line).
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <string>

#include "sweep_spec.h"

namespace fs = std::filesystem;
using aimc::app::expand_sweep;
using aimc::app::read_sweep_spec;
using aimc::app::SweepLookup;
using aimc::app::SweepSpec;
using aimc::app::SweepSpecError;

namespace {

class SweepFile : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("aimc-sweep-test-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
    lookup_.platforms_dir = std::string(AIMC_SOURCE_DIR) + "/platforms";
    lookup_.models_dir = std::string(AIMC_SOURCE_DIR) + "/platforms/models";
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string write(const std::string& text, const std::string& name = "s.yaml") {
    const fs::path p = dir_ / name;
    std::ofstream(p) << text;
    return p.string();
  }
  SweepSpec read(const std::string& text) { return read_sweep_spec(write(text), lookup_); }
  // The message of the SweepSpecError that reading `text` throws ("" when it does not throw).
  std::string refusal(const std::string& text) {
    try {
      read(text);
    } catch (const SweepSpecError& e) {
      return e.what();
    }
    return "";
  }

  fs::path dir_;
  SweepLookup lookup_;
};

std::string at(const SweepSpec& s, size_t point, const std::string& key) {
  for (const auto& kv : s.points[point])
    if (kv.first == key) return kv.second;
  return "-";
}

}  // namespace

TEST_F(SweepFile, GridLastAxisFastestThenListedPoints) {
  const SweepSpec s = read(
      "axes:\n  tile.adc.bits: [4, 6, 8]\n  tile.dac.bits: [4, 8]\n"
      "points:\n  - {tile.adc.share: 2}\n");
  ASSERT_EQ(s.points.size(), 7u);
  EXPECT_EQ((std::vector<std::string>{"tile.adc.bits", "tile.dac.bits", "tile.adc.share"}), s.axes);
  EXPECT_EQ(at(s, 0, "tile.adc.bits"), "4");
  EXPECT_EQ(at(s, 0, "tile.dac.bits"), "4");
  EXPECT_EQ(at(s, 1, "tile.dac.bits"), "8");
  EXPECT_EQ(at(s, 2, "tile.adc.bits"), "6");
  EXPECT_EQ(at(s, 5, "tile.adc.bits"), "8");
  EXPECT_EQ(at(s, 6, "tile.adc.share"), "2");
  EXPECT_EQ(at(s, 6, "tile.adc.bits"), "-");
  // Defaults: the bundled preset and model, seed 1, the default figures.
  EXPECT_EQ(fs::path(s.platform).filename(), "membrain-3x4.yaml");
  ASSERT_EQ(s.models.size(), 1u);
  EXPECT_EQ(fs::path(s.models[0]).filename(), "fashion_mnist_mlp.onnx");
  EXPECT_EQ(s.seeds, std::vector<uint64_t>{1});
  EXPECT_EQ(s.collect, aimc::app::default_sweep_figures());
}

TEST_F(SweepFile, ZipVariesTogetherCrossedWithTheGrid) {
  const SweepSpec s = read(
      "zip:\n  tile.array.rows: [256, 512]\n  tile.array.cols: [128, 256]\n"
      "axes:\n  tile.adc.bits: [6, 8]\nseeds: 3\n");
  ASSERT_EQ(s.points.size(), 4u);
  EXPECT_EQ(at(s, 0, "tile.array.rows"), "256");
  EXPECT_EQ(at(s, 0, "tile.array.cols"), "128");
  EXPECT_EQ(at(s, 1, "tile.adc.bits"), "8");
  EXPECT_EQ(at(s, 2, "tile.array.rows"), "512");
  EXPECT_EQ(at(s, 2, "tile.array.cols"), "256");
  EXPECT_EQ(s.seeds, (std::vector<uint64_t>{1, 2, 3}));
}

TEST_F(SweepFile, RandomPointsAreSeededAndInRange) {
  const std::string text =
      "random:\n  count: 50\n  seed: 9\n  keys:\n"
      "    tile.adc.bits: {int: [4, 8]}\n    tile.adc.kind: {choice: [sar, ramp]}\n"
      "    programming.tolerance_rel: {log_uniform: [0.001, 0.1]}\n";
  const SweepSpec a = read(text), b = read(text);
  ASSERT_EQ(a.points.size(), 50u);
  EXPECT_EQ(a.points, b.points);
  std::set<std::string> bits, kinds;
  for (size_t i = 0; i < a.points.size(); ++i) {
    bits.insert(at(a, i, "tile.adc.bits"));
    kinds.insert(at(a, i, "tile.adc.kind"));
    const double tol = std::stod(at(a, i, "programming.tolerance_rel"));
    EXPECT_GE(tol, 0.001);
    EXPECT_LE(tol, 0.1);
  }
  EXPECT_EQ(bits, (std::set<std::string>{"4", "5", "6", "7", "8"}));  // every integer, both ends
  EXPECT_EQ(kinds, (std::set<std::string>{"sar", "ramp"}));
  const SweepSpec c = read("random:\n  count: 50\n  seed: 10\n  keys:\n    tile.adc.bits: {int: [4, 8]}\n");
  EXPECT_NE(a.points, c.points) << "another seed, other points";
}

TEST_F(SweepFile, RefusalsNameTheFileAndLine) {
  EXPECT_NE(refusal("axes:\n  tile.adc.bitz: [4]\n").find("s.yaml:2: 'tile.adc.bitz' is not a platform key"),
            std::string::npos);
  EXPECT_NE(refusal("axes:\n  tile.adc.bits: []\n").find("s.yaml:2: axes: tile.adc.bits: expected a non-empty list"),
            std::string::npos);
  EXPECT_NE(refusal("limit: 10\naxis:\n  tile.adc.bits: [4]\n").find("s.yaml:2: unknown field 'axis'"),
            std::string::npos);
  EXPECT_NE(refusal("options: [--report, x.json]\n").find("'--report' is not an aimc run option a sweep may set"),
            std::string::npos);
  EXPECT_NE(refusal("options: [--at]\n").find("--at needs a value"), std::string::npos);
  EXPECT_NE(refusal("zip:\n  tile.array.rows: [1, 2]\n  tile.array.cols: [3]\n").find("as many values"),
            std::string::npos);
  EXPECT_NE(refusal("seeds: [1, 1]\n").find("listed twice"), std::string::npos);
  EXPECT_NE(refusal("seeds: 0\n").find("seeds: expected an integer"), std::string::npos);
  EXPECT_NE(refusal("models: [nosuch.onnx]\n").find("model 'nosuch.onnx': no such file"), std::string::npos);
  EXPECT_NE(refusal("random:\n  count: 3\n  keys:\n    tile.adc.bits: {normal: [1, 2]}\n")
                .find("unknown distribution 'normal'"),
            std::string::npos);
  EXPECT_NE(refusal("random:\n  count: 3\n  keys:\n    tile.adc.bits: {int: [8, 4]}\n").find("LO must not exceed HI"),
            std::string::npos);
  EXPECT_NE(refusal("axes:\n  tile.adc.bits: [4, 6\n").find("not valid YAML"), std::string::npos);
  EXPECT_NE(refusal("axes:\n  tile.adc.bits: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]\n  tile.dac.bits: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]\n"
                    "  tile.adc.share: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]\n  tile.array.rows: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]\n"
                    "  tile.array.cols: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]\n  tile.adc.kind: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]\n"
                    "  tile.dac.kind: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]\n")
                .find("more than a million"),
            std::string::npos);
}

TEST_F(SweepFile, PlatformAndModelBesideTheFileOrBundled) {
  fs::copy_file(std::string(AIMC_SOURCE_DIR) + "/platforms/pcm-3x4.yaml", dir_ / "mine.yaml");
  const SweepSpec s = read("platform: mine.yaml\nmodels: [fashion_mnist_cnn.onnx]\n");
  EXPECT_EQ(fs::path(s.platform), dir_ / "mine.yaml");
  EXPECT_EQ(fs::path(s.models[0]).filename(), "fashion_mnist_cnn.onnx");
  const SweepSpec b = read("platform: rram-3x4.yaml\n");
  EXPECT_EQ(fs::path(b.platform), fs::path(lookup_.platforms_dir) / "rram-3x4.yaml");
}

TEST_F(SweepFile, RunIdsFollowWhatDecidesTheRun) {
  const SweepSpec s = read("axes:\n  tile.adc.bits: [6, 8, 6]\nseeds: [1, 2]\nlimit: 10\n");
  const auto runs = expand_sweep(s, "v1");
  // 3 points x 2 seeds, the repeated point once: 4 runs with 4 ids.
  ASSERT_EQ(runs.size(), 4u);
  std::set<std::string> ids;
  for (const auto& r : runs) {
    EXPECT_EQ(r.id.size(), 12u);
    ids.insert(r.id);
  }
  EXPECT_EQ(ids.size(), 4u);
  EXPECT_EQ(runs[0].axis_values.at("tile.adc.bits"), "6");
  EXPECT_EQ(runs[2].axis_values.at("tile.adc.bits"), "8");
  // Stable: the same file and version give the same ids; another version, another limit, others.
  EXPECT_EQ(expand_sweep(s, "v1")[0].id, runs[0].id);
  EXPECT_NE(expand_sweep(s, "v2")[0].id, runs[0].id);
  EXPECT_NE(expand_sweep(read("axes:\n  tile.adc.bits: [6]\nlimit: 11\n"), "v1")[0].id, runs[0].id);
  // A value spelled otherwise that loads to the same platform is the same run.
  EXPECT_EQ(expand_sweep(read("axes:\n  programming.tolerance_rel: [0.01, 1e-2, 0.010]\n"), "v1").size(), 1u);
  // The axis column holds the effective value, also where the point does not set the key.
  const auto listed = expand_sweep(read("points:\n  - {tile.adc.bits: 6}\n  - {tile.dac.bits: 4}\n"), "v1");
  ASSERT_EQ(listed.size(), 2u);
  EXPECT_EQ(listed[1].axis_values.at("tile.adc.bits"), "8");  // the preset's
  EXPECT_EQ(listed[0].axis_values.at("tile.dac.bits"), "8");
}

TEST_F(SweepFile, APointThePlatformRefusesIsNamed) {
  const SweepSpec s = read("axes:\n  tile.adc.bits: [6, 99]\n");
  try {
    expand_sweep(s, "v1");
    FAIL() << "tile.adc.bits=99 was accepted";
  } catch (const SweepSpecError& e) {
    EXPECT_NE(std::string(e.what()).find("point 2 (tile.adc.bits=99)"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("tile.adc.bits: expected an integer"), std::string::npos) << e.what();
  }
}

// Every sweep file shipped in platforms/sweeps reads and expands (its platforms load); those of the
// scaling study name models that scripts/scaling_models.py generates into build/scaling/ and are
// read only when they are there (scripts.scaling_study_smoke runs them).
TEST(ShippedSweeps, ReadAndExpand) {
  SweepLookup lookup;
  lookup.platforms_dir = std::string(AIMC_SOURCE_DIR) + "/platforms";
  lookup.models_dir = std::string(AIMC_SOURCE_DIR) + "/platforms/models";
  size_t files = 0;
  for (const auto& e : fs::directory_iterator(std::string(AIMC_SOURCE_DIR) + "/platforms/sweeps")) {
    if (e.path().extension() != ".yaml") continue;
    SCOPED_TRACE(e.path().string());
    try {
      const SweepSpec s = read_sweep_spec(e.path().string(), lookup);
      EXPECT_FALSE(expand_sweep(s, "v").empty());
      ++files;
    } catch (const SweepSpecError& err) {
      const std::string what = err.what();
      if (what.find("build/scaling/") == std::string::npos || what.find("no such file") == std::string::npos)
        ADD_FAILURE() << what;
    }
  }
  EXPECT_GE(files, 1u);
  const SweepSpec s = read_sweep_spec(std::string(AIMC_SOURCE_DIR) + "/platforms/sweeps/adc-dac-share.yaml", lookup);
  EXPECT_EQ(expand_sweep(s, "v").size(), 3u * 2u * 3u * 3u);
}

TEST_F(SweepFile, RunOptionsAsAxes) {
  const SweepSpec s = read("axes:\n  run.batch: [1, 4]\n  tile.adc.bits: [8]\npoints:\n  - {run.at: 1h}\n");
  const auto runs = expand_sweep(s, "v1");
  ASSERT_EQ(runs.size(), 3u);
  EXPECT_EQ(runs[0].run_options, (std::vector<std::string>{"--batch", "1"}));
  EXPECT_EQ(runs[1].run_options, (std::vector<std::string>{"--batch", "4"}));
  EXPECT_EQ(runs[0].axis_values.at("run.batch"), "1");
  EXPECT_EQ(runs[2].axis_values.at("run.batch"), "default");  // the listed point leaves it to aimc run
  EXPECT_EQ(runs[2].axis_values.at("run.at"), "1h");
  EXPECT_EQ(runs[2].run_options, (std::vector<std::string>{"--at", "1h"}));
  EXPECT_NE(runs[0].id, runs[1].id);
  for (const auto& r : runs)
    for (const auto& o : r.overrides) EXPECT_EQ(o.find("run."), std::string::npos) << o;
  EXPECT_NE(refusal("axes:\n  run.batch: [1]\noptions: [--batch, 2]\n").find("choose one"), std::string::npos);
  EXPECT_NE(refusal("set:\n  run.batch: 2\n").find("set: takes platform keys only"), std::string::npos);
  EXPECT_NE(refusal("axes:\n  run.seed: [1]\n").find("'run.seed' is not a key a point may set"), std::string::npos);
}

// A model paired with values of other keys (zip, points): that point runs that model only; the
// other points run every model of `models`. The model is no axis of its own (the tables' model
// column shows it). In `axes` it is refused: `models` crosses models with the points already.
TEST_F(SweepFile, ModelsZippedWithKeys) {
  const SweepSpec s = read(
      "models: [fashion_mnist_mlp.onnx]\n"
      "zip:\n  model: [fashion_mnist_mlp.onnx, fashion_mnist_cnn.onnx]\n  tile.adc.bits: [4, 6]\n"
      "axes:\n  tile.dac.bits: [4, 8]\n"
      "points:\n  - {model: fashion_mnist_cnn.onnx, tile.adc.bits: 8}\n  - {tile.adc.bits: 5}\n"
      "seeds: 2\n");
  EXPECT_EQ((std::vector<std::string>{"tile.dac.bits", "tile.adc.bits"}), s.axes);
  ASSERT_EQ(s.points.size(), 6u);
  EXPECT_EQ(fs::path(at(s, 0, "model")).filename(), "fashion_mnist_mlp.onnx");
  EXPECT_EQ(fs::path(at(s, 2, "model")).filename(), "fashion_mnist_cnn.onnx");
  EXPECT_EQ(at(s, 2, "tile.adc.bits"), "6");
  EXPECT_EQ(fs::path(at(s, 4, "model")).filename(), "fashion_mnist_cnn.onnx");
  EXPECT_EQ(at(s, 5, "model"), "-");
  const auto runs = aimc::app::expand_sweep(s, "v1");
  ASSERT_EQ(runs.size(), 6u * 2u);  // each point one model (the last: the one of `models`), 2 seeds
  std::vector<std::string> models;
  for (const auto& r : runs) models.push_back(fs::path(r.model).filename().string());
  EXPECT_EQ(models[0], "fashion_mnist_mlp.onnx");
  EXPECT_EQ(models[4], "fashion_mnist_cnn.onnx");  // point 2: the zip's second model
  EXPECT_EQ(models[8], "fashion_mnist_cnn.onnx");  // point 4: the listed point's model
  EXPECT_EQ(models[10], "fashion_mnist_mlp.onnx");
  for (const auto& r : runs) EXPECT_EQ(r.axis_values.count("model"), 0u);
  // The model decides the run's id: the same settings with another model are another run.
  EXPECT_NE(runs[0].id, runs[4].id);

  EXPECT_NE(refusal("axes:\n  model: [fashion_mnist_mlp.onnx]\n").find("s.yaml:2: axes: model: every model"),
            std::string::npos);
  EXPECT_NE(refusal("zip:\n  model: [nosuch.onnx]\n  tile.adc.bits: [4]\n").find("s.yaml:2: model 'nosuch.onnx': no such file"),
            std::string::npos);
  EXPECT_NE(refusal("points:\n  - {model: nosuch.onnx}\n").find("model 'nosuch.onnx': no such file"),
            std::string::npos);
}
