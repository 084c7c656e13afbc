// Tests of presets built on presets (`base:`): merge semantics, path resolution, refusals, that
// every error names the file and line the value was written in, overrides over a derived preset,
// and a load of every shipped preset.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "config/platform_config.h"
#include "presets.h"

namespace cfgns = aimc::config;
using cfgns::ConfigError;
using cfgns::PlatformConfig;
namespace fs = std::filesystem;

namespace {


// A fresh folder per test, with files written into it.
class BaseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::path(::testing::TempDir()) / (std::string("aimc_base_") + info->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Writes `text` to dir/name and returns the path as the loader will name it.
  std::string write(const std::string& name, const std::string& text) {
    const fs::path p = dir_ / name;
    fs::create_directories(p.parent_path());
    std::ofstream(p) << text;
    return p.string();
  }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }

  fs::path dir_;
};

// A complete small platform; the line numbers in the tests refer to it.
const char* kBase =
    "name: base\n"            // 1
    "grid: {rows: 2, cols: 2}\n"  // 2
    "tile:\n"                 // 3
    "  array:\n"              // 4
    "    rows: 64\n"          // 5
    "    cols: 32\n"          // 6
    "  adc:\n"                // 7
    "    bits: 6\n"           // 8
    "    share: 4\n"          // 9
    "  device:\n"             // 10
    "    g_min_ns: 2.0\n"     // 11
    "    g_max_ns: 500\n"     // 12
    "simulation:\n"           // 13
    "  seed: 42\n";           // 14

}  // namespace

// Sections merge key by key; a value the file sets replaces the base's; the rest is inherited.
TEST_F(BaseTest, MapsMergeAndValuesReplace) {
  write("base.yaml", kBase);
  const std::string derived = write("derived.yaml",
                                    "base: base.yaml\n"
                                    "name: derived\n"
                                    "tile:\n"
                                    "  adc:\n"
                                    "    bits: 7\n"
                                    "  dac: {bits: 4}\n");
  const PlatformConfig cfg = cfgns::load_platform(derived);
  EXPECT_EQ(cfg.name, "derived");           // replaced
  EXPECT_EQ(cfg.tile.adc.bits, 7);          // replaced inside a merged section
  EXPECT_EQ(cfg.tile.adc.share, 4);         // its sibling kept from the base
  EXPECT_EQ(cfg.tile.dac.bits, 4);          // a section the base does not have
  EXPECT_EQ(cfg.tile.array.rows, 64);       // a section the file does not mention
  EXPECT_DOUBLE_EQ(cfg.tile.device.g_max_ns, 500.0);
  EXPECT_EQ(cfg.simulation.seed, 42u);
  EXPECT_EQ(cfg.grid_rows * cfg.grid_cols, 4);
  EXPECT_EQ(cfg.source_file, derived);
  // The base alone is unchanged by having been used.
  EXPECT_EQ(cfgns::load_platform(path("base.yaml")).tile.adc.bits, 6);
  // A file that only names its base is that base.
  const PlatformConfig alias = cfgns::load_platform(write("alias.yaml", "base: base.yaml\n"));
  EXPECT_EQ(alias, cfgns::load_platform(path("base.yaml")));
}

// A value is replaced as a whole, whatever its kind: a sequence where the base has a number is not
// merged with it but is the file's own (wrong) value, refused at the file's line; likewise a value
// where the base has a section.
TEST_F(BaseTest, ScalarsAndSequencesReplaceWhole) {
  write("base.yaml", kBase);
  const std::string list = write("list.yaml", "base: base.yaml\ngrid:\n  rows: [1, 2]\n");
  EXPECT_EQ(error_of([&] { cfgns::load_platform(list); }),
            list + ":3: grid.rows: expected an integer in [1, 64], got a sequence");
  const std::string scalar = write("scalar.yaml", "base: base.yaml\ntile:\n  adc: 8\n");
  const std::string msg = error_of([&] { cfgns::load_platform(scalar); });
  EXPECT_EQ(msg.rfind(scalar + ":3: tile.adc: expected a mapping with keys kind, bits, share", 0), 0u) << msg;
}

// a -> b -> c: each level's values win over the levels below it.
TEST_F(BaseTest, ChainOfThree) {
  write("c.yaml",
        "name: c\ngrid: {rows: 1, cols: 1}\n"
        "simulation: {seed: 1, quantum_ns: 100, host_threads: 1}\n");
  write("b.yaml", "base: c.yaml\nname: b\nsimulation: {quantum_ns: 200, host_threads: 2}\n");
  const std::string a = write("a.yaml", "base: b.yaml\nsimulation: {host_threads: 3}\n");
  const PlatformConfig cfg = cfgns::load_platform(a);
  EXPECT_EQ(cfg.simulation.seed, 1u);                 // from c
  EXPECT_DOUBLE_EQ(cfg.simulation.quantum_ns, 200.0);  // b over c
  EXPECT_EQ(cfg.simulation.host_threads, 3);          // a over b over c
  EXPECT_EQ(cfg.name, "b");
  const auto origins = cfgns::platform_key_origins(a);
  EXPECT_EQ(origins.at("simulation.seed"), path("c.yaml") + ":3");
  EXPECT_EQ(origins.at("simulation.quantum_ns"), path("b.yaml") + ":3");
  EXPECT_EQ(origins.at("simulation.host_threads"), a + ":2");
  EXPECT_EQ(origins.count("tile.adc.bits"), 0u);  // a struct default
}

// A relative base is found from the folder of the file that names it, at every level of the
// chain, whatever the working directory; `..` and absolute paths work.
TEST_F(BaseTest, RelativePathsResolveFromTheNamingFile) {
  write("leaf.yaml", "name: decoy\ngrid: {rows: 9, cols: 9}\n");  // what a wrong resolution finds
  write("presets/sub/leaf.yaml", "name: leaf\ngrid: {rows: 1, cols: 3}\n");
  write("presets/sub/mid.yaml", "base: leaf.yaml\nsimulation: {seed: 5}\n");
  const std::string top = write("presets/top.yaml", "base: sub/mid.yaml\ntile: {adc: {bits: 5}}\n");
  const std::string up = write("other/up.yaml", "base: ../presets/sub/mid.yaml\n");
  const std::string abs = write("abs.yaml", "base: " + path("presets/sub/leaf.yaml") + "\n");
  const fs::path cwd = fs::current_path();
  fs::current_path(dir_ / "other");  // neither the top file's folder nor the base's
  PlatformConfig cfg, cfg_up, cfg_abs;
  const std::string msg = error_of([&] {
    cfg = cfgns::load_platform(top);
    cfg_up = cfgns::load_platform(up);
    cfg_abs = cfgns::load_platform(abs);
  });
  fs::current_path(cwd);
  ASSERT_EQ(msg, "NO EXCEPTION");
  EXPECT_EQ(cfg.name, "leaf");
  EXPECT_EQ(cfg.grid_cols, 3);
  EXPECT_EQ(cfg.simulation.seed, 5u);
  EXPECT_EQ(cfg.tile.adc.bits, 5);
  EXPECT_EQ(cfg_up.grid_cols, 3);
  EXPECT_EQ(cfg_abs.grid_cols, 3);
  // From text, a relative base is resolved against the folder of the name given.
  const PlatformConfig text = cfgns::load_platform_from_string(
      "base: sub/leaf.yaml\nname: t\n", path("presets/in-memory.yaml"));
  EXPECT_EQ(text.grid_cols, 3);
}

TEST_F(BaseTest, CycleIsRefusedNamingTheBaseLine) {
  const std::string a = write("a.yaml", "name: a\nbase: b.yaml\n");
  const std::string b = write("b.yaml", "# b\nbase: ./a.yaml\ngrid: {rows: 1, cols: 1}\n");
  EXPECT_EQ(error_of([&] { cfgns::load_platform(a); }),
            b + ":2: base: cycle of bases: " + a + " -> " + b + " -> " + a);
  const std::string self = write("self.yaml", "base: self.yaml\n");
  EXPECT_EQ(error_of([&] { cfgns::load_platform(self); }),
            self + ":1: base: cycle of bases: " + self + " -> " + self);
}

TEST_F(BaseTest, MissingOrBadBaseIsRefusedWithFileAndLine) {
  const std::string x = write("sub/x.yaml", "name: x\n\nbase: nope.yaml\n");
  EXPECT_EQ(error_of([&] { cfgns::load_platform(x); }),
            x + ":3: base: cannot read the base 'nope.yaml' (looked for " + path("sub/nope.yaml") +
                "): No such file or directory");
  fs::create_directories(dir_ / "folder.yaml");
  const std::string folder = write("folder_base.yaml", "base: folder.yaml\n");
  EXPECT_NE(error_of([&] { cfgns::load_platform(folder); }).find(folder + ":1: base: cannot read the base 'folder.yaml'"),
            std::string::npos);
  const std::string empty = write("empty.yaml", "name: e\nbase:\n");
  EXPECT_EQ(error_of([&] { cfgns::load_platform(empty); }),
            empty + ":2: base: expected the file name of a base platform (relative to this file's "
                    "folder), got nothing");
  const std::string map = write("map.yaml", "base: {file: a.yaml}\n");
  EXPECT_NE(error_of([&] { cfgns::load_platform(map); }).find(map + ":1: base: expected the file name"),
            std::string::npos);
  write("ok.yaml", kBase);
  const std::string twice = write("twice.yaml", "base: ok.yaml\nbase: ok.yaml\n");
  EXPECT_EQ(error_of([&] { cfgns::load_platform(twice); }), twice + ":2: base: duplicate key");
  // `base` is a top-level key only, and not a setting.
  const std::string nested = write("nested.yaml", "base: ok.yaml\ntile:\n  base: ok.yaml\n");
  EXPECT_EQ(error_of([&] { cfgns::load_platform(nested); }).rfind(nested + ":3: unknown key 'tile.base'", 0), 0u);
  EXPECT_EQ(error_of([&] { cfgns::load_platform(path("ok.yaml"), {"base=other.yaml"}); })
                .rfind("--set base=other.yaml: base: names a file's base platform, not a setting", 0),
            0u);
  const std::string typo = write("typo.yaml", "bsae: ok.yaml\n");
  EXPECT_EQ(error_of([&] { cfgns::load_platform(typo); }),
            typo + ":1: unknown key 'bsae' (did you mean 'base'?)");
}

// Errors in a base name the base file and line; errors in the derived file name the derived file.
TEST_F(BaseTest, ErrorsNameTheFileTheValueIsIn) {
  std::string text = kBase;
  text.replace(text.find("    bits: 6"), 11, "    bitz: 6");  // line 8
  write("unknown.yaml", text);
  const std::string d1 = write("d1.yaml", "base: unknown.yaml\nname: d1\n");
  EXPECT_EQ(error_of([&] { cfgns::load_platform(d1); }),
            path("unknown.yaml") + ":8: unknown key 'tile.adc.bitz' (did you mean 'tile.adc.bits'?)");

  text = kBase;
  text.replace(text.find("    g_max_ns: 500"), 17, "    g_max_ns: abc");  // line 12
  write("badvalue.yaml", text);
  const std::string d2 = write("d2.yaml", "base: badvalue.yaml\nname: d2\n");
  EXPECT_EQ(error_of([&] { cfgns::load_platform(d2); }),
            path("badvalue.yaml") + ":12: tile.device.g_max_ns: expected a number > 0, got abc");
  // ... unless the derived file replaces that value: only the merged result is checked.
  const std::string fixed = write("fixed.yaml", "base: badvalue.yaml\ntile: {device: {g_max_ns: 400}}\n");
  EXPECT_DOUBLE_EQ(cfgns::load_platform(fixed).tile.device.g_max_ns, 400.0);

  write("syntax.yaml", "name: s\ngrid: {rows: 1, cols: 1\n");
  const std::string d3 = write("d3.yaml", "base: syntax.yaml\n");
  EXPECT_EQ(error_of([&] { cfgns::load_platform(d3); }).rfind(path("syntax.yaml") + ":", 0), 0u);

  write("base.yaml", kBase);
  const std::string d4 = write("d4.yaml", "base: base.yaml\ntile:\n  adc:\n    bits: 40\n");
  EXPECT_EQ(error_of([&] { cfgns::load_platform(d4); }),
            d4 + ":4: tile.adc.bits: expected an integer in [2, 16], got 40");
  // A cross-field error names both files: blamed on the derived line, naming the base's.
  const std::string d5 = write("d5.yaml", "base: base.yaml\ntile: {device: {g_min_ns: 600}}\n");
  const std::string msg = error_of([&] { cfgns::load_platform(d5); });
  EXPECT_EQ(msg.rfind(d5 + ":2: tile.device.g_min_ns: expected a number below tile.device.g_max_ns = "
                               "500.0 (from " + path("base.yaml") + ":12)", 0),
            0u) << msg;
  // A required key missing from the whole chain is reported on the file that was loaded.
  write("partial.yaml", "grid: {rows: 1, cols: 1}\n");
  const std::string d6 = write("d6.yaml", "base: partial.yaml\n");
  EXPECT_EQ(error_of([&] { cfgns::load_platform(d6); }).rfind(d6 + ": missing required key 'name'", 0), 0u);
}

// --set applies last, over the merged file, and is checked like a file value.
TEST_F(BaseTest, OverridesApplyOverADerivedPreset) {
  write("base.yaml", kBase);
  const std::string d = write("d.yaml", "base: base.yaml\ntile: {adc: {bits: 7}}\n");
  const PlatformConfig cfg = cfgns::load_platform(d, {"tile.adc.bits=5", "tile.array.rows=128"});
  EXPECT_EQ(cfg.tile.adc.bits, 5);      // over the derived file's value
  EXPECT_EQ(cfg.tile.array.rows, 128);  // over the base's value
  EXPECT_EQ(cfg.tile.adc.share, 4);
  EXPECT_EQ(cfgns::platform_key_origins(d, {"tile.adc.bits=5"}).at("tile.adc.bits"), "--set tile.adc.bits=5");
  const std::string msg = error_of([&] { cfgns::load_platform(d, {"tile.array.cols=2"}); });
  EXPECT_EQ(msg.rfind(path("base.yaml") + ":9: tile.adc.share: expected an integer in [1, 2]", 0), 0u) << msg;
  EXPECT_NE(msg.find("(from --set tile.array.cols=2)"), std::string::npos) << msg;
}

// Every platforms/*.yaml loads, validates and dumps to a configuration that loads back equal.
TEST(ConfigPresets, EveryShippedPresetLoads) {
  const auto files = preset_files();
  ASSERT_FALSE(files.empty()) << "no *.yaml in " << source_dir() << "/platforms";
  for (const std::string& file : files) {
    SCOPED_TRACE(file);
    PlatformConfig cfg;
    ASSERT_EQ(error_of([&] { cfg = cfgns::load_platform(file); }), "NO EXCEPTION");
    EXPECT_NO_THROW(cfgns::validate_platform(cfg));
    const std::string stem = fs::path(file).stem().string();
    EXPECT_EQ(cfg.name, stem) << "a preset's name is its file name";
    EXPECT_EQ(cfgns::load_platform_from_string(cfgns::dump_platform(cfg), "dump"), cfg);
  }
}

// The device-type variants are written as the flash chip plus what differs.
TEST(ConfigPresets, DeviceVariantsBuildOnTheFlashPreset) {
  const PlatformConfig flash = cfgns::load_platform(source_dir() + "/platforms/membrain-3x4.yaml");
  for (const char* name : {"pcm-3x4", "rram-3x4"}) {
    const std::string file = source_dir() + "/platforms/" + name + ".yaml";
    const auto origins = cfgns::platform_key_origins(file);
    EXPECT_EQ(origins.at("sram.size_kib").rfind(source_dir() + "/platforms/membrain-3x4.yaml:", 0), 0u)
        << name << ": the periphery comes from the base";
    EXPECT_EQ(origins.at("tile.device.type").rfind(file + ":", 0), 0u) << name;
    const PlatformConfig cfg = cfgns::load_platform(file);
    EXPECT_EQ(cfg.bus, flash.bus) << name;
    EXPECT_EQ(cfg.tile.adc, flash.tile.adc) << name;
  }
}
