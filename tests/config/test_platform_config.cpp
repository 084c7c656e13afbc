// Tests of the platform configuration loader: the shipped preset, round-trip, overrides, and one
// test per class of error, each checking file, line and key path in the message.
#include "config/platform_config.h"

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <cstdlib>
#include <fstream>
#include <functional>
#include <set>
#include <sstream>

namespace cfgns = aimc::config;
using cfgns::ConfigError;
using cfgns::DeviceType;
using cfgns::PlatformConfig;

namespace {

std::string source_dir() {
  const char* dir = std::getenv("AIMC_SOURCE_DIR");
  return dir ? dir : AIMC_SOURCE_DIR_FALLBACK;
}

std::string preset_path() { return source_dir() + "/platforms/membrain-3x4.yaml"; }

// Runs f, expects a ConfigError, returns its message.
std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const ConfigError& e) {
    return e.what();
  } catch (const std::exception& e) {
    return std::string("WRONG EXCEPTION TYPE: ") + e.what();
  }
  return "NO EXCEPTION";
}

std::string load_error(const std::string& yaml, const std::vector<std::string>& overrides = {}) {
  return error_of([&] { cfgns::load_platform_from_string(yaml, "x.yaml", overrides); });
}

// A valid small platform; line numbers below refer to it.
const char* kSmall =
    "name: small\n"              // 1
    "grid:\n"                    // 2
    "  rows: 2\n"                // 3
    "  cols: 2\n"                // 4
    "tile:\n"                    // 5
    "  array:\n"                 // 6
    "    rows: 64\n"             // 7
    "    cols: 32\n"             // 8
    "  adc:\n"                   // 9
    "    bits: 6\n"              // 10
    "    share: 4\n"             // 11
    "  device:\n"                // 12
    "    g_min_ns: 2.0\n"        // 13
    "    g_max_ns: 500\n"        // 14
    "simulation:\n"              // 15
    "  seed: 42\n";              // 16

// kSmall with line `line` (1-based) replaced.
std::string with_line(int line, const std::string& replacement) {
  std::istringstream in(kSmall);
  std::string out, l;
  for (int n = 1; std::getline(in, l); ++n) out += (n == line ? replacement : l) + "\n";
  return out;
}

}  // namespace

// ---------------------------------------------------------------- the shipped preset

TEST(ConfigPreset, LoadsWithTwelveTiles) {
  const PlatformConfig cfg = cfgns::load_platform(preset_path());
  EXPECT_EQ(cfg.name, "membrain-3x4");
  EXPECT_EQ(cfg.grid_rows, 3);
  EXPECT_EQ(cfg.grid_cols, 4);
  EXPECT_EQ(cfg.tile_count(), 12);
  EXPECT_EQ(cfg.source_file, preset_path());
  EXPECT_EQ(cfg.tile.array.rows, 400);
  EXPECT_EQ(cfg.tile.array.cols, 400);
  EXPECT_EQ(cfg.tile.device.type, DeviceType::flash);
  EXPECT_DOUBLE_EQ(cfg.tile.device.prog_error_rel, 0.01);
  EXPECT_EQ(cfg.tile.adc.bits, 8);
  EXPECT_DOUBLE_EQ(cfg.tile.adc.e_conv_pj, 1.67);
  EXPECT_DOUBLE_EQ(cfg.bus.e_byte_pj, 0.43);
  EXPECT_NO_THROW(cfgns::validate_platform(cfg));
}

// A preset sets every key (and cites it), so nothing silently falls back to a struct default.
TEST(ConfigPreset, SetsEveryKey) {
  const YAML::Node root = YAML::LoadFile(preset_path());
  for (const auto& k : cfgns::describe_keys()) {
    YAML::Node n = YAML::Clone(root);
    std::stringstream ss(k.key);
    bool found = true;
    for (std::string part; std::getline(ss, part, '.');) {
      if (!n.IsMap() || !n[part]) {
        found = false;
        break;
      }
      n = n[part];
    }
    EXPECT_TRUE(found) << k.key << " is not set in the preset";
  }
}

// Every value line in the preset cites a source or says ASSUMPTION (the header comment and
// section lines excepted).
TEST(ConfigPreset, EveryValueIsSourcedOrMarkedAssumption) {
  std::ifstream in(preset_path());
  ASSERT_TRUE(in);
  std::vector<std::string> lines;
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  std::set<std::string> leaves;
  for (const auto& k : cfgns::describe_keys()) leaves.insert(k.key.substr(k.key.rfind('.') + 1));
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const std::string& l = lines[i];
    const auto b = l.find_first_not_of(' ');
    if (b == std::string::npos || l[b] == '#') continue;
    const auto colon = l.find(':');
    if (colon == std::string::npos) continue;
    const std::string key = l.substr(b, colon - b);
    if (key == "name" || !leaves.count(key)) continue;
    if (l.substr(colon + 1).find_first_not_of(' ') == std::string::npos) continue;  // a section
    // The citation is on the line, or in the comment block right above it, or (for grid) the
    // line above.
    std::string context = l;
    for (std::size_t j = i; j-- > 0;) {
      const auto bj = lines[j].find_first_not_of(' ');
      if (bj == std::string::npos || lines[j][bj] != '#') {
        if (j + 1 == i) context += lines[j];  // a value whose comment sits on the line above
        break;
      }
      context += lines[j];
    }
    const bool cited = context.find("§") != std::string::npos ||
                       context.find("ASSUMPTION") != std::string::npos ||
                       context.find("ARCH") != std::string::npos ||
                       context.find("simulation setting") != std::string::npos;
    EXPECT_TRUE(cited) << "line " << i + 1 << " has no source: " << l;
  }
}

// ---------------------------------------------------------------- round trip

TEST(ConfigRoundTrip, PresetDumpLoadsBackIdentical) {
  const PlatformConfig a = cfgns::load_platform(preset_path());
  const std::string text = cfgns::dump_platform(a);
  const PlatformConfig b = cfgns::load_platform_from_string(text, "dump");
  EXPECT_EQ(a, b) << text;
  EXPECT_EQ(cfgns::dump_platform(b), cfgns::dump_platform(a).replace(
                                         text.find(preset_path()), preset_path().size(), "dump"));
}

TEST(ConfigRoundTrip, AwkwardValuesSurvive) {
  PlatformConfig a;
  a.name = "null";  // must stay a string, not become YAML null
  a.tile.device.type = DeviceType::ideal;
  a.tile.device.read_noise_rel = 0.1 + 0.2;  // 0.30000000000000004: needs all 17 digits
  a.tile.device.g_min_ns = 1e-7;
  a.tile.dac.e_conv_pj = 1.0 / 3.0;
  a.host.dma_bytes_per_ns = 123456789.125;
  a.simulation.seed = 18446744073709551615ull;
  ASSERT_NO_THROW(cfgns::validate_platform(a));
  const PlatformConfig b = cfgns::load_platform_from_string(cfgns::dump_platform(a), "dump");
  EXPECT_EQ(a, b) << cfgns::dump_platform(a);
  EXPECT_EQ(b.name, "null");
  EXPECT_EQ(b.simulation.seed, 18446744073709551615ull);
}

TEST(ConfigRoundTrip, EqualityNoticesEveryChange) {
  const PlatformConfig a = cfgns::load_platform(preset_path());
  for (const auto& k : cfgns::describe_keys()) {
    // Change one key through an override, to a value that is valid and different.
    std::string v = k.key == "name"               ? "other"
                    : k.key == "tile.device.type" ? "ideal"
                    : k.key == "simulation.seed"  ? "99"
                    : k.key == "grid.rows"        ? "2"
                    : k.key == "grid.cols"        ? "2"
                    : k.key == "tile.adc.share"   ? "4"
                                                   : "";
    if (v.empty()) {
      const auto dumped = YAML::Load(cfgns::dump_platform(a));
      YAML::Node n = YAML::Clone(dumped);
      std::stringstream ss(k.key);
      for (std::string part; std::getline(ss, part, '.');) n = n[part];
      const double old = n.as<double>();
      // Integers and reals: go down by one step where the range allows, else up.
      if (k.range.rfind("integer", 0) == 0)
        v = std::to_string(static_cast<long long>(old) + (k.key.find("bits") != std::string::npos ? -1 : 1));
      else
        v = std::to_string(old * 0.5 + (old == 0 ? 0.25 : 0));
    }
    PlatformConfig b;
    ASSERT_NO_THROW(b = cfgns::load_platform(preset_path(), {k.key + "=" + v})) << k.key << "=" << v;
    EXPECT_NE(a, b) << k.key << " is not compared by operator==";
  }
}

// ---------------------------------------------------------------- defaults and overrides

TEST(ConfigLoad, MissingKeysTakeStructDefaults) {
  const PlatformConfig cfg =
      cfgns::load_platform_from_string("name: tiny\ngrid: {rows: 1, cols: 1}\n", "tiny.yaml");
  PlatformConfig expected;
  expected.name = "tiny";
  expected.grid_rows = expected.grid_cols = 1;
  EXPECT_EQ(cfg, expected);
  EXPECT_EQ(cfg.source_file, "tiny.yaml");
}

TEST(ConfigLoad, SmallInlineConfig) {
  const PlatformConfig cfg = cfgns::load_platform_from_string(kSmall, "x.yaml");
  EXPECT_EQ(cfg.tile_count(), 4);
  EXPECT_EQ(cfg.tile.array.rows, 64);
  EXPECT_EQ(cfg.tile.adc.share, 4);
  EXPECT_DOUBLE_EQ(cfg.tile.device.g_max_ns, 500.0);
  EXPECT_EQ(cfg.simulation.seed, 42u);
}

TEST(ConfigOverride, AppliesOnTopOfTheFile) {
  const PlatformConfig cfg = cfgns::load_platform(
      preset_path(), {"tile.adc.bits=6", "grid.rows=2", "tile.device.type=ideal",
                      "simulation.seed=7", "tile.array.v_read_v = 0.5", "name=\"my chip\""});
  EXPECT_EQ(cfg.tile.adc.bits, 6);
  EXPECT_EQ(cfg.grid_rows, 2);
  EXPECT_EQ(cfg.tile_count(), 8);
  EXPECT_EQ(cfg.tile.device.type, DeviceType::ideal);
  EXPECT_EQ(cfg.simulation.seed, 7u);
  EXPECT_DOUBLE_EQ(cfg.tile.array.v_read_v, 0.5);
  EXPECT_EQ(cfg.name, "my chip");
  EXPECT_EQ(cfg.tile.array.rows, 400);  // untouched keys keep the file's values
}

TEST(ConfigOverride, LaterOverrideWins) {
  const PlatformConfig cfg = cfgns::load_platform(preset_path(), {"tile.adc.bits=6", "tile.adc.bits=4"});
  EXPECT_EQ(cfg.tile.adc.bits, 4);
}

TEST(ConfigOverride, CanSupplyRequiredKeys) {
  const PlatformConfig cfg =
      cfgns::load_platform_from_string("grid: {rows: 1, cols: 2}\n", "x.yaml", {"name=fromcli"});
  EXPECT_EQ(cfg.name, "fromcli");
}

TEST(ConfigOverride, UnknownKeyNamesTheOverride) {
  const std::string msg = error_of([] { cfgns::load_platform(preset_path(), {"tile.adc.bitz=6"}); });
  EXPECT_NE(msg.find("--set tile.adc.bitz=6: unknown key 'tile.adc.bitz'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("did you mean 'tile.adc.bits'?"), std::string::npos) << msg;
}

TEST(ConfigOverride, BadValueNamesTheOverride) {
  EXPECT_EQ(error_of([] { cfgns::load_platform(preset_path(), {"tile.adc.bits=40"}); }),
            "--set tile.adc.bits=40: tile.adc.bits: expected an integer in [2, 16], got 40");
  EXPECT_EQ(error_of([] { cfgns::load_platform(preset_path(), {"tile.device.type=pcm"}); }),
            "--set tile.device.type=pcm: tile.device.type: expected one of ideal, flash, got pcm");
  const std::string empty = error_of([] { cfgns::load_platform(preset_path(), {"bus.clock_mhz="}); });
  EXPECT_NE(empty.find("--set bus.clock_mhz=: bus.clock_mhz: expected a number > 0, got nothing"),
            std::string::npos) << empty;
}

TEST(ConfigOverride, MalformedOverrides) {
  std::string msg = error_of([] { cfgns::load_platform(preset_path(), {"tile.adc.bits"}); });
  EXPECT_NE(msg.find("--set tile.adc.bits: expected key=value"), std::string::npos) << msg;
  msg = error_of([] { cfgns::load_platform(preset_path(), {"tile.adc=8"}); });
  EXPECT_NE(msg.find("--set tile.adc=8: tile.adc: is a section"), std::string::npos) << msg;
  EXPECT_NE(msg.find("bits"), std::string::npos) << msg;
}

// A cross-field error caused by an override names both the blamed key's line and the override.
TEST(ConfigOverride, CrossFieldErrorNamesBothOrigins) {
  const std::string msg = load_error(kSmall, {"tile.array.cols=2"});
  EXPECT_NE(msg.find("x.yaml:11: tile.adc.share: expected an integer in [1, 2]"), std::string::npos) << msg;
  EXPECT_NE(msg.find("--set tile.array.cols=2"), std::string::npos) << msg;
  EXPECT_NE(msg.find("got 4"), std::string::npos) << msg;
}

// ---------------------------------------------------------------- errors in files

TEST(ConfigErrors, OutOfRangeHasFileLineKey) {
  EXPECT_EQ(load_error(with_line(10, "    bits: 40")),
            "x.yaml:10: tile.adc.bits: expected an integer in [2, 16], got 40");
  EXPECT_EQ(load_error(with_line(3, "  rows: 65")),
            "x.yaml:3: grid.rows: expected an integer in [1, 64], got 65");
  EXPECT_EQ(load_error(with_line(16, "  seed: -1")),
            "x.yaml:16: simulation.seed: expected an unsigned integer, got -1");
}

TEST(ConfigErrors, WrongTypeHasFileLineKey) {
  EXPECT_EQ(load_error(with_line(14, "    g_max_ns: abc")),
            "x.yaml:14: tile.device.g_max_ns: expected a number > 0, got abc");
  EXPECT_EQ(load_error(with_line(10, "    bits: 8.0")),
            "x.yaml:10: tile.adc.bits: expected an integer in [2, 16], got 8.0");
  EXPECT_EQ(load_error(with_line(14, "    g_max_ns: .nan")),
            "x.yaml:14: tile.device.g_max_ns: expected a number > 0, got .nan");
}

TEST(ConfigErrors, WrongNodeKind) {
  // A mapping where a value is expected.
  EXPECT_EQ(load_error(with_line(10, "    bits: {a: 1}")),
            "x.yaml:10: tile.adc.bits: expected an integer in [2, 16], got a mapping");
  // A sequence where a value is expected.
  EXPECT_EQ(load_error(with_line(3, "  rows: [1, 2]")),
            "x.yaml:3: grid.rows: expected an integer in [1, 64], got a sequence");
  // A value where a section is expected.
  const std::string msg = load_error("name: a\ngrid: {rows: 1, cols: 1}\ntile:\n  adc: 8\n");
  EXPECT_NE(msg.find("x.yaml:4: tile.adc: expected a mapping with keys bits, share, t_conv_ns, e_conv_pj, offset_sigma_lsb, got a scalar '8'"),
            std::string::npos) << msg;
  // A top level that is not a mapping.
  EXPECT_NE(load_error("- 1\n- 2\n").find("x.yaml:1: expected a mapping at the top level"),
            std::string::npos);
}

TEST(ConfigErrors, EmptyValue) {
  EXPECT_EQ(load_error(with_line(10, "    bits:")),
            "x.yaml:10: tile.adc.bits: expected an integer in [2, 16], got nothing");
}

TEST(ConfigErrors, UnknownKeyWithSuggestion) {
  EXPECT_EQ(load_error(with_line(10, "    bitz: 6")),
            "x.yaml:10: unknown key 'tile.adc.bitz' (did you mean 'tile.adc.bits'?)");
  EXPECT_EQ(load_error(with_line(9, "  adcs:")),
            "x.yaml:9: unknown key 'tile.adcs' (did you mean 'tile.adc'?)");
  const std::string far = load_error(with_line(15, "frobnicate:"));
  EXPECT_NE(far.find("x.yaml:15: unknown key 'frobnicate'; valid keys at the top level: name, grid, tile, bus, sram, host, programming, simulation"),
            std::string::npos) << far;
}

TEST(ConfigErrors, DuplicateKey) {
  std::string text = kSmall;
  text.insert(text.find("    share"), "    bits: 7\n");  // becomes line 11
  EXPECT_EQ(load_error(text), "x.yaml:11: tile.adc.bits: duplicate key");
}

TEST(ConfigErrors, MissingRequiredKey) {
  const std::string msg = load_error(with_line(1, "# no name"));
  EXPECT_NE(msg.find("x.yaml: missing required key 'name'"), std::string::npos) << msg;
  const std::string grid = load_error("name: a\ngrid: {rows: 2}\n");
  EXPECT_NE(grid.find("x.yaml: missing required key 'grid.cols'"), std::string::npos) << grid;
  EXPECT_NE(load_error("").find("missing required key 'name'"), std::string::npos);
}

TEST(ConfigErrors, YamlSyntaxErrorHasLine) {
  EXPECT_EQ(load_error(with_line(10, "    bits: 6: 7")),
            "x.yaml:10: YAML syntax error: illegal map value (column 12)");
  const std::string tab = load_error(with_line(4, "\tcols: 2"));
  EXPECT_EQ(tab.rfind("x.yaml:4: YAML syntax error:", 0), 0u) << tab;
  const std::string unclosed = load_error(with_line(7, "    rows: [64"));
  EXPECT_EQ(unclosed.rfind("x.yaml:", 0), 0u) << unclosed;
  EXPECT_NE(unclosed.find("YAML syntax error"), std::string::npos) << unclosed;
}

TEST(ConfigErrors, MissingFile) {
  const std::string msg = error_of([] { cfgns::load_platform("/nonexistent/dir/plat.yaml"); });
  EXPECT_EQ(msg.rfind("/nonexistent/dir/plat.yaml: cannot open file", 0), 0u) << msg;
}

TEST(ConfigErrors, ErrorInRealFileNamesThatFile) {
  const std::string path = ::testing::TempDir() + "aimc_config_bad.yaml";
  {
    std::ofstream out(path);
    out << with_line(13, "    g_min_ns: -1");
  }
  EXPECT_EQ(error_of([&] { cfgns::load_platform(path); }),
            path + ":13: tile.device.g_min_ns: expected a number >= 0, got -1");
}

TEST(ConfigErrors, RangesOfRealsAndNotes) {
  EXPECT_EQ(load_error(kSmall, {"tile.device.prog_error_rel=1"}),
            "--set tile.device.prog_error_rel=1: tile.device.prog_error_rel: expected a number in [0, 1), got 1");
  EXPECT_NO_THROW(cfgns::load_platform_from_string(kSmall, "x.yaml", {"tile.device.prog_error_rel=0"}));
  EXPECT_EQ(load_error(kSmall, {"tile.dac.bits=12"}),
            "--set tile.dac.bits=12: tile.dac.bits: expected an integer in [1, 8] (activations are stored as bytes), got 12");
  EXPECT_EQ(load_error(kSmall, {"simulation.quantum_ns=0"}),
            "--set simulation.quantum_ns=0: simulation.quantum_ns: expected a number > 0, got 0");
  EXPECT_EQ(load_error(kSmall, {"bus.e_byte_pj=-0.1"}),
            "--set bus.e_byte_pj=-0.1: bus.e_byte_pj: expected a number >= 0, got -0.1");
}

TEST(ConfigErrors, CrossFieldRules) {
  // g_min must lie below g_max: blamed on g_min's line, naming g_max's line.
  std::string msg = load_error(with_line(13, "    g_min_ns: 500"));
  EXPECT_NE(msg.find("x.yaml:13: tile.device.g_min_ns: expected a number below tile.device.g_max_ns"),
            std::string::npos) << msg;
  EXPECT_NE(msg.find("x.yaml:14"), std::string::npos) << msg;
  // ADC share at most the column count.
  msg = load_error(with_line(11, "    share: 33"));
  EXPECT_NE(msg.find("x.yaml:11: tile.adc.share: expected an integer in [1, 32]"), std::string::npos) << msg;
  // A default that became invalid: no line, says it is the default.
  msg = load_error("name: a\ngrid: {rows: 1, cols: 1}\ntile:\n  array: {rows: 4, cols: 4}\n");
  EXPECT_NE(msg.find("x.yaml: tile.adc.share: expected an integer in [1, 4]"), std::string::npos) << msg;
  EXPECT_NE(msg.find("got 8 (the default)"), std::string::npos) << msg;
  // Buffers must hold one vector.
  msg = load_error(kSmall, {"tile.input_buffer_bytes=63"});
  EXPECT_NE(msg.find("tile.input_buffer_bytes: expected at least 64"), std::string::npos) << msg;
  msg = load_error(kSmall, {"tile.adc.bits=12", "tile.output_buffer_bytes=63"});
  EXPECT_NE(msg.find("tile.output_buffer_bytes: expected at least 64"), std::string::npos) << msg;
}

TEST(ConfigValidate, CodeBuiltConfigs) {
  PlatformConfig cfg;
  EXPECT_NO_THROW(cfgns::validate_platform(cfg));
  cfg.tile.adc.bits = 0;
  EXPECT_EQ(error_of([&] { cfgns::validate_platform(cfg); }),
            "config: tile.adc.bits: expected an integer in [2, 16], got 0 (the default)");
  cfg = PlatformConfig{};
  cfg.tile.device.g_max_ns = cfg.tile.device.g_min_ns;
  EXPECT_NE(error_of([&] { cfgns::validate_platform(cfg); }).find("tile.device.g_min_ns"), std::string::npos);
}

// ---------------------------------------------------------------- key list and documentation

TEST(ConfigKeys, DescribeKeysIsCompleteAndUnique) {
  const auto& keys = cfgns::describe_keys();
  std::set<std::string> names;
  for (const auto& k : keys) {
    EXPECT_TRUE(names.insert(k.key).second) << k.key;
    EXPECT_FALSE(k.unit.empty()) << k.key;
    EXPECT_FALSE(k.meaning.empty()) << k.key;
    EXPECT_FALSE(k.range.empty()) << k.key;
  }
  // Every leaf of a dump is described, and nothing else.
  std::set<std::string> dumped;
  std::function<void(const YAML::Node&, const std::string&)> walk = [&](const YAML::Node& n,
                                                                        const std::string& p) {
    for (const auto& kv : n) {
      const std::string full = p.empty() ? kv.first.Scalar() : p + "." + kv.first.Scalar();
      if (kv.second.IsMap()) walk(kv.second, full);
      else dumped.insert(full);
    }
  };
  walk(YAML::Load(cfgns::dump_platform(PlatformConfig{})), "");
  EXPECT_EQ(dumped, names);
}

TEST(ConfigKeys, EveryKeyIsDocumented) {
  std::ifstream in(source_dir() + "/docs/platform-config.md");
  ASSERT_TRUE(in) << "docs/platform-config.md missing";
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string doc = ss.str();
  for (const auto& k : cfgns::describe_keys())
    EXPECT_NE(doc.find("`" + k.key + "`"), std::string::npos) << k.key << " is not in the doc";
}
