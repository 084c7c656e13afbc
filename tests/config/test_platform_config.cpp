// Tests of the platform configuration loader: the shipped presets, round-trip, overrides, and one
// test per class of error, each checking file, line and key path in the message.
#include "config/platform_config.h"

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <map>
#include <set>
#include <sstream>

#include "presets.h"

namespace cfgns = aimc::config;
using cfgns::ConfigError;
using cfgns::DeviceType;
using cfgns::PairMode;
using cfgns::PlatformConfig;
using cfgns::WornMode;
using cfgns::AdcKind;
using cfgns::InputDriverKind;
using cfgns::InterconnectKind;

namespace {

std::string preset_path() { return source_dir() + "/platforms/membrain-3x4.yaml"; }
std::string pcm_preset_path() { return source_dir() + "/platforms/pcm-3x4.yaml"; }
std::string rram_preset_path() { return source_dir() + "/platforms/rram-3x4.yaml"; }
// Every shipped preset (platforms/*.yaml, found at test time).
std::vector<std::string> preset_paths() { return preset_files(); }

// The device types a key is used by, from the "flash:" / "pcm, rram:" prefix of its meaning;
// empty when every type uses it.
// "ideal, flash, pcm, rram" (and any kind appended to numerics/device_kind.h).
std::string device_kinds() {
  std::string s;
  for (const char* name : aimc::num::kDeviceKindNames) s += (s.empty() ? "" : ", ") + std::string(name);
  return s;
}

std::set<std::string> key_users(const std::string& meaning) {
  static const std::set<std::string> kTypes(std::begin(aimc::num::kDeviceKindNames),
                                            std::end(aimc::num::kDeviceKindNames));
  const auto colon = meaning.find(':');
  if (colon == std::string::npos) return {};
  std::set<std::string> users;
  std::stringstream ss(meaning.substr(0, colon));
  for (std::string t; std::getline(ss, t, ',');) {
    t.erase(0, t.find_first_not_of(' '));
    if (!kTypes.count(t)) return {};  // an ordinary colon, not a device-type prefix
    users.insert(t);
  }
  return users;
}

// The node at a dotted path, or an undefined node.
YAML::Node node_at(const YAML::Node& root, const std::string& key) {
  YAML::Node n = YAML::Clone(root);
  std::stringstream ss(key);
  for (std::string part; std::getline(ss, part, '.');) {
    if (!n.IsMap() || !n[part]) return YAML::Node(YAML::NodeType::Undefined);
    n = n[part];
  }
  return n;
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
  EXPECT_EQ(cfg.tile.device.pair, PairMode::balanced);
  EXPECT_DOUBLE_EQ(cfg.tile.device.flash.g_ref_ns, 1360.5);
  EXPECT_DOUBLE_EQ(cfg.tile.device.g_erased_ns, 2000.0);
  EXPECT_EQ(cfg.tile.device.worn, WornMode::stuck_low);
  EXPECT_DOUBLE_EQ(cfg.programming.tolerance_rel, 0.01);
  EXPECT_EQ(cfg.programming.erase_sector_rows, 40);
  EXPECT_EQ(cfg.programming.verify_bits, 12);
  EXPECT_EQ(cfg.faults, cfgns::FaultConfig{});  // a good die
  EXPECT_EQ(cfg.tile.adc.bits, 8);
  EXPECT_DOUBLE_EQ(cfg.tile.adc.e_conv_pj, 1.67);
  EXPECT_DOUBLE_EQ(cfg.bus.e_byte_pj, 0.43);
  EXPECT_NO_THROW(cfgns::validate_platform(cfg));
}

TEST(ConfigPreset, PcmPresetLoads) {
  const PlatformConfig cfg = cfgns::load_platform(pcm_preset_path());
  EXPECT_EQ(cfg.name, "pcm-3x4");
  EXPECT_EQ(cfg.tile_count(), 12);
  EXPECT_EQ(cfg.tile.device.type, DeviceType::pcm);
  EXPECT_EQ(cfg.tile.device.pair, PairMode::unipolar);
  EXPECT_DOUBLE_EQ(cfg.tile.device.g_min_ns, 100.0);
  EXPECT_DOUBLE_EQ(cfg.tile.device.g_max_ns, 10000.0);
  EXPECT_DOUBLE_EQ(cfg.tile.device.g_erased_ns, cfg.tile.device.g_min_ns);
  EXPECT_DOUBLE_EQ(cfg.tile.device.pulse_gain, 1.0);
  EXPECT_DOUBLE_EQ(cfg.tile.device.drift.t0_s, 300.0);
  EXPECT_DOUBLE_EQ(cfg.tile.device.drift.nu_at_gmax, 0.02);
  EXPECT_DOUBLE_EQ(cfg.programming.t_pulse_ns, 125.0);
  EXPECT_DOUBLE_EQ(cfg.programming.t_verify_ns, 768.0);
  EXPECT_EQ(cfg.programming.parallel_cells, 32);
  EXPECT_EQ(cfg.programming.max_iterations, 30);
  EXPECT_DOUBLE_EQ(cfg.programming.tolerance_gmax_rel, 0.0625);
  // Same chip and periphery as the flash preset: only the cells and their programming differ.
  const PlatformConfig flash = cfgns::load_platform(preset_path());
  EXPECT_EQ(cfg.tile.array.rows, flash.tile.array.rows);
  EXPECT_EQ(cfg.tile.dac, flash.tile.dac);
  EXPECT_EQ(cfg.tile.adc, flash.tile.adc);
  EXPECT_EQ(cfg.bus, flash.bus);
  EXPECT_EQ(cfg.host, flash.host);
}

TEST(ConfigPreset, RramPresetLoads) {
  const PlatformConfig cfg = cfgns::load_platform(rram_preset_path());
  EXPECT_EQ(cfg.name, "rram-3x4");
  EXPECT_EQ(cfg.tile_count(), 12);
  EXPECT_EQ(cfg.tile.device.type, DeviceType::rram);
  EXPECT_DOUBLE_EQ(cfg.tile.device.g_max_ns, 10000.0);  // Ron 100 kOhm
  EXPECT_NEAR(cfg.tile.device.g_max_ns / cfg.tile.device.g_min_ns, 17.0, 1e-4);  // Roff = 17 Ron
  EXPECT_DOUBLE_EQ(cfg.tile.array.v_read_v, 0.5);
  EXPECT_EQ(cfg.tile.device.bits_per_cell, 4);
  const PlatformConfig flash = cfgns::load_platform(preset_path());
  EXPECT_EQ(cfg.tile.adc, flash.tile.adc);
  EXPECT_EQ(cfg.sram, flash.sram);
}

// The presets of published chips hold those chips' published architecture (reference-chips.md;
// docs/validation.md compares their figures with the published ones): a preset edited away from
// its chip fails here, whatever its calibration target does.
TEST(ConfigPreset, IbmSpeechIsTheSpeechChip) {
  const PlatformConfig cfg = cfgns::load_platform(source_dir() + "/platforms/ibm-speech.yaml");
  EXPECT_EQ(cfg.name, "ibm-speech");
  EXPECT_EQ(cfg.tile_count(), 34);                                   // 3c "Tiles; array"
  EXPECT_EQ(cfg.tile.array.rows, 512);                               // 512 x 512 weights, 4 PCM each
  EXPECT_EQ(cfg.tile.array.cols, 512);
  EXPECT_EQ(cfg.tile.device.type, DeviceType::pcm);
  EXPECT_DOUBLE_EQ(cfg.tile.array.v_read_v, 0.3);                    // 3c "Analog details"
  EXPECT_EQ(cfg.tile.dac.kind, InputDriverKind::pwm);                // 3c "I/O": 0-255 ns at 1 ns/step
  EXPECT_EQ(cfg.tile.dac.bits, 8);
  EXPECT_DOUBLE_EQ(cfg.tile.dac.t_lsb_ns, 1.0);
  EXPECT_EQ(cfg.tile.adc.kind, AdcKind::ramp);                       // 3c "I/O": shared ramp + comparators
  EXPECT_EQ(cfg.tile.adc.bits, 8);
  EXPECT_DOUBLE_EQ(cfg.tile.adc.t_conv_ns, 256.0);                   // 2^8 steps of 1 ns
  EXPECT_EQ(cfg.interconnect, InterconnectKind::mesh);               // 3c "Interconnect": 2D mesh
  // 512 wires each way, one 8-bit duration per 256 ns window each: 2 B/ns per link.
  EXPECT_DOUBLE_EQ(cfg.mesh.width_bytes * cfg.mesh.clock_mhz * 1e-3, 2.0);
  EXPECT_EQ(cfg.programming.parallel_cells, 512);                    // 6 "IBM speech chip": a row at once
  EXPECT_NO_THROW(cfgns::validate_platform(cfg));
}

TEST(ConfigPreset, MythicIsTheM1076) {
  const PlatformConfig cfg = cfgns::load_platform(source_dir() + "/platforms/mythic-m1076.yaml");
  EXPECT_EQ(cfg.name, "mythic-m1076");
  EXPECT_EQ(cfg.tile_count(), 76);                                   // 2 "M1076 tiles / weights"
  EXPECT_EQ(cfg.tile.array.rows, 1024);                              // 2 "Array per tile"
  EXPECT_EQ(cfg.tile.array.cols, 1024);
  EXPECT_EQ(cfg.tile.device.type, DeviceType::flash);                // 2 "Process": 40 nm NOR flash
  EXPECT_EQ(cfg.tile.dac.kind, InputDriverKind::voltage);            // 2 "Weight storage": DACs in
  EXPECT_EQ(cfg.tile.dac.bits, 8);                                   // 2 "Precision": 8 b in / 8 b out
  EXPECT_EQ(cfg.tile.adc.bits, 8);
  EXPECT_EQ(cfg.interconnect, InterconnectKind::mesh);               // 2 "Mythic per-tile structure": NoC router
  EXPECT_NO_THROW(cfgns::validate_platform(cfg));
}

// A preset sets every key its device type uses (and cites it), so nothing silently falls back to
// a struct default; and it leaves out the keys of other device types, which would only mislead.
// With `base:` a key counts as set when the file or a base sets it. A preset cannot unset what its
// base sets, so a key of another device type may come from the base, and the file itself may set
// it only to replace such an inherited value (its comment says UNUSED and why). The same holds for
// the interconnect: bus.* keys are the shared bus's, mesh.* the mesh's, links.* the point-to-point
// links' (interconnect.kind).
TEST(ConfigPreset, SetsEveryKeyItsDeviceUses) {
  for (const std::string& path : preset_paths()) {
    const auto origins = cfgns::platform_key_origins(path);
    const PlatformConfig loaded = cfgns::load_platform(path);
    const std::string type = cfgns::to_string(loaded.tile.device.type);
    const std::string interconnect = cfgns::to_string(loaded.interconnect);
    auto kind_uses = [&](const std::string& key) {
      if (key.rfind("bus.", 0) == 0) return interconnect == "shared_bus";
      if (key.rfind("mesh.", 0) == 0) return interconnect == "mesh";
      if (key.rfind("links.", 0) == 0) return interconnect == "links";
      return true;
    };
    const YAML::Node root = YAML::LoadFile(path);
    std::map<std::string, std::string> inherited;  // what the base chain alone sets
    if (root["base"]) {
      const std::string dir = path.substr(0, path.rfind('/') + 1);
      const std::string base = root["base"].as<std::string>();
      inherited = cfgns::platform_key_origins(base[0] == '/' ? base : dir + base);
    }
    for (const auto& k : cfgns::describe_keys()) {
      const auto users = key_users(k.meaning);
      const bool used = (users.empty() || users.count(type)) && kind_uses(k.key);
      const auto it = origins.find(k.key);
      const bool set = it != origins.end();
      const bool set_here = set && it->second.rfind(path + ":", 0) == 0;
      if (used)
        EXPECT_TRUE(set) << path << ": " << k.key << " is not set";
      else
        EXPECT_TRUE(!set_here || inherited.count(k.key))
            << path << ": " << k.key << " is set, but neither " << type << " nor " << interconnect << " uses it";
    }
  }
}

// Every value line in a preset cites a source, gives a derivation or says ASSUMPTION, or UNUSED
// for a key the device does not read (the header comment and section lines excepted).
TEST(ConfigPreset, EveryValueIsSourcedOrMarkedAssumption) {
  for (const std::string& path : preset_paths()) {
  SCOPED_TRACE(path);
  std::ifstream in(path);
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
                       context.find("(D:") != std::string::npos ||
                       context.find("ARCH") != std::string::npos ||
                       context.find("simulation setting") != std::string::npos ||
                       context.find("UNUSED") != std::string::npos;
    EXPECT_TRUE(cited) << "line " << i + 1 << " has no source: " << l;
  }
  }
}

// ---------------------------------------------------------------- round trip

TEST(ConfigRoundTrip, PresetDumpLoadsBackIdentical) {
  for (const std::string& path : preset_paths()) {
    const PlatformConfig a = cfgns::load_platform(path);
    const std::string text = cfgns::dump_platform(a);
    const PlatformConfig b = cfgns::load_platform_from_string(text, "dump");
    EXPECT_EQ(a, b) << text;
    EXPECT_EQ(cfgns::dump_platform(b),
              cfgns::dump_platform(a).replace(text.find(path), path.size(), "dump"));
  }
}

// Every enumerator of every enum key survives dump -> load, spelled as in YAML.
TEST(ConfigRoundTrip, EveryEnumValueSurvives) {
  for (DeviceType t : {DeviceType::ideal, DeviceType::flash, DeviceType::pcm, DeviceType::rram}) {
    for (PairMode p : {PairMode::unipolar, PairMode::balanced}) {
      for (WornMode w : {WornMode::stuck_low, WornMode::stuck_high}) {
        PlatformConfig a;
        a.tile.device.type = t;
        a.tile.device.pair = p;
        a.tile.device.worn = w;
        const std::string text = cfgns::dump_platform(a);
        EXPECT_NE(text.find(std::string("type: ") + cfgns::to_string(t)), std::string::npos) << text;
        EXPECT_NE(text.find(std::string("pair: ") + cfgns::to_string(p)), std::string::npos) << text;
        EXPECT_NE(text.find(std::string("worn: ") + cfgns::to_string(w)), std::string::npos) << text;
        const PlatformConfig b = cfgns::load_platform_from_string(text, "dump");
        EXPECT_EQ(a, b) << text;
        EXPECT_EQ(b.tile.device.type, t);
        EXPECT_EQ(b.tile.device.pair, p);
        EXPECT_EQ(b.tile.device.worn, w);
      }
    }
  }
}

TEST(ConfigRoundTrip, FaultsAndDevicePhysicsSurvive) {
  PlatformConfig a;
  a.tile.device.type = DeviceType::pcm;
  a.tile.device.g_erased_ns = 1.0;  // below g_max: fine for pcm
  a.tile.device.t_ref_c = -40.5;
  a.tile.device.endurance_cycles = 1e9;
  a.tile.device.flash.g_ref_ns = 1360.5;
  a.tile.device.flash.retention_mv_per_decade = 0.158;
  a.tile.device.drift.nu_sigma_at_gmin = 1.0 / 3.0;
  a.tile.device.thermal.ea_at_gmin_ev = 0.31;
  a.programming.tolerance_gmax_rel = 0.0625;
  a.programming.verify_bits = 24;
  a.faults.stuck_low_rate = 0.25;
  a.faults.stuck_high_rate = 0.75;  // the sum may reach 1
  a.faults.dead_column_rate = 1e-3;
  a.faults.adc_offset_rate = 0.1 + 0.2;
  a.faults.adc_offset_lsb = 3.5;
  ASSERT_NO_THROW(cfgns::validate_platform(a));
  const PlatformConfig b = cfgns::load_platform_from_string(cfgns::dump_platform(a), "dump");
  EXPECT_EQ(a, b) << cfgns::dump_platform(a);
  EXPECT_EQ(b.faults.adc_offset_rate, 0.1 + 0.2);
}

TEST(ConfigRoundTrip, AwkwardValuesSurvive) {
  PlatformConfig a;
  a.name = "null";  // must stay a string, not become YAML null
  a.tile.device.type = DeviceType::ideal;
  a.tile.device.pair = PairMode::balanced;
  a.tile.device.worn = WornMode::stuck_high;
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
  for (const std::string& path : preset_paths()) {
    const PlatformConfig a = cfgns::load_platform(path);
    const YAML::Node dumped = YAML::Load(cfgns::dump_platform(a));
    for (const auto& k : cfgns::describe_keys()) {
      // Change one key through an override, to a value that is valid and different: the first
      // candidate that loads.
      const std::string old = node_at(dumped, k.key).Scalar();
      std::vector<std::string> candidates;
      if (k.key == "name") {
        candidates = {"other"};
      } else if (k.key == "simulation.seed") {
        candidates = {"99"};
      } else if (k.key == "grid.rows" || k.key == "grid.cols") {
        candidates = {old == "2" ? "3" : "2"};  // a different grid (ucsb-flash-mnist is 1 x 2)
      } else if (k.key == "tile.adc.share") {
        candidates = {"4"};
      } else if (k.range.rfind("one of ", 0) == 0) {  // an enum: every other spelling
        std::stringstream ss(k.range.substr(7));
        for (std::string name; std::getline(ss, name, ',');) {
          name.erase(0, name.find_first_not_of(' '));
          if (name != old) candidates.push_back(name);
        }
        if (candidates.empty()) continue;  // a role with one kind so far: no other value exists
      } else if (k.range.rfind("integer", 0) == 0) {  // one step down or up
        const long long v = std::stoll(old);
        candidates = {std::to_string(v - 1), std::to_string(v + 1)};
      } else {  // halve, or grow, or move off zero
        const double v = std::stod(old);
        candidates = {std::to_string(v * 0.5 + (v == 0 ? 0.25 : 0)), std::to_string(v * 1.5 + 0.25)};
      }
      bool changed = false;
      for (const std::string& v : candidates) {
        PlatformConfig b;
        try {
          b = cfgns::load_platform(path, {k.key + "=" + v});
        } catch (const ConfigError&) {
          continue;
        }
        EXPECT_NE(a, b) << path << ": " << k.key << " is not compared by operator==";
        changed = true;
        break;
      }
      EXPECT_TRUE(changed) << path << ": no valid different value found for " << k.key;
    }
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

TEST(ConfigOverride, EnumKeys) {
  PlatformConfig cfg = cfgns::load_platform(
      preset_path(), {"tile.device.type=pcm", "tile.device.pair=unipolar", "tile.device.worn=stuck_high"});
  EXPECT_EQ(cfg.tile.device.type, DeviceType::pcm);
  EXPECT_EQ(cfg.tile.device.pair, PairMode::unipolar);
  EXPECT_EQ(cfg.tile.device.worn, WornMode::stuck_high);
  cfg = cfgns::load_platform(pcm_preset_path(), {"tile.device.type=rram"});
  EXPECT_EQ(cfg.tile.device.type, DeviceType::rram);
  // In a file too, and spelled exactly (lower case).
  EXPECT_EQ(load_error(with_line(13, "    type: PCM")),
            "x.yaml:13: tile.device.type: expected one of " + device_kinds() + ", got PCM");
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
  EXPECT_EQ(error_of([] { cfgns::load_platform(preset_path(), {"tile.device.type=sram"}); }),
            "--set tile.device.type=sram: tile.device.type: expected one of " + device_kinds() +
                ", got sram");
  EXPECT_EQ(error_of([] { cfgns::load_platform(preset_path(), {"tile.device.pair=bipolar"}); }),
            "--set tile.device.pair=bipolar: tile.device.pair: expected one of unipolar, balanced, got bipolar");
  EXPECT_EQ(error_of([] { cfgns::load_platform(preset_path(), {"tile.device.worn=Stuck_Low"}); }),
            "--set tile.device.worn=Stuck_Low: tile.device.worn: expected one of stuck_low, stuck_high, got Stuck_Low");
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
  EXPECT_NE(msg.find("x.yaml:4: tile.adc: expected a mapping with keys kind, bits, share, ref_bits, t_conv_ns, e_conv_pj, area_um2, p_static_uw, offset_sigma_lsb, got a scalar '8'"),
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
  EXPECT_NE(far.find("x.yaml:15: unknown key 'frobnicate'; valid keys at the top level: name, grid, tile, interconnect, bus, mesh, links, gdpu, sram, host, programming, faults, cpu, simulation"),
            std::string::npos) << far;
}

// The suggestion is the nearest key within max(2, length / 3) edits, also for keys far longer than
// any valid one (the bounded search must not change which key is suggested, or miss one).
TEST(ConfigErrors, SuggestionLimitAndLongKeys) {
  // 'tile.adc.bitsxx' is 2 edits from 'tile.adc.bits' (limit 2 for a 6-letter last part).
  EXPECT_EQ(load_error(with_line(10, "    bitsxx: 6")),
            "x.yaml:10: unknown key 'tile.adc.bitsxx' (did you mean 'tile.adc.bits'?)");
  // 3 edits: no suggestion, the valid keys of the section instead.
  const std::string three = load_error(with_line(10, "    bitsxxx: 6"));
  EXPECT_EQ(three.find("did you mean"), std::string::npos) << three;
  EXPECT_NE(three.find("unknown key 'tile.adc.bitsxxx'; valid keys under tile.adc:"), std::string::npos) << three;
  // A 1,000-letter key (YAML's longest plain key; the search is bounded by the length difference):
  // no suggestion, the valid keys instead.
  const std::string long_name(1000, 'a');
  const std::string msg = load_error(long_name + ": 1\n");
  EXPECT_EQ(msg.find("did you mean"), std::string::npos);
  EXPECT_NE(msg.find("unknown key '" + long_name + "'; valid keys at the top level:"), std::string::npos);
}

// yaml-cpp's LoadAll never ends on a document that starts with a stray ',' (found by the config
// fuzzer: 1.5 GB in 10 s); the loader reads at most two documents and answers at once.
TEST(ConfigErrors, StrayCommaDocumentsEnd) {
  EXPECT_NE(load_error(",inks: tiny\n2%dcb: 0.0\nsimu"), "");
  EXPECT_NE(load_error(",").find("x.yaml"), std::string::npos);
  EXPECT_NE(load_error("name: a\n---\n,\n").find("more than one YAML document"), std::string::npos);
  EXPECT_NE(load_error("- a\n,\n").find("x.yaml"), std::string::npos);
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

// yaml-cpp accepts a quoted scalar that runs to the end of the file when the file ends with a
// newline (it folds the rest of the file into the value): the loader refuses it at the quote.
TEST(ConfigErrors, UnterminatedQuoteHasFileAndLine) {
  EXPECT_EQ(load_error(with_line(1, "name: \"small")),
            "x.yaml:1: name: unterminated double-quoted string (it runs to the end of the file)");
  EXPECT_EQ(load_error(with_line(16, "  seed: '42")),
            "x.yaml:16: simulation.seed: unterminated single-quoted string (it runs to the end of the file)");
  // Quotes that close, on the same or a later line, with escapes, are fine.
  EXPECT_EQ(cfgns::load_platform_from_string(with_line(1, "name: \"sm\\\"all\""), "x.yaml").name, "sm\"all");
  EXPECT_EQ(cfgns::load_platform_from_string(with_line(1, "name: 'it''s'"), "x.yaml").name, "it's");
  EXPECT_EQ(cfgns::load_platform_from_string(with_line(1, "name: \"two\n  lines\""), "x.yaml").name, "two lines");
  EXPECT_EQ(cfgns::load_platform_from_string("\xEF\xBB\xBF" + with_line(1, "name: \"bom\""), "x.yaml").name, "bom");
}

// A platform file is one YAML document: a second one (after '---') was silently ignored.
TEST(ConfigErrors, SecondYamlDocumentIsRefused) {
  EXPECT_EQ(load_error(std::string(kSmall) + "---\nname: other\n"),
            "x.yaml:17: the file holds more than one YAML document (a second one starts here); a platform "
            "file is one document");
  EXPECT_EQ(load_error(std::string(kSmall) + "---\n"),
            "x.yaml:17: the file holds more than one YAML document (a second one starts here); a platform "
            "file is one document");
  // A leading '---' and a closing '...' are one document.
  EXPECT_EQ(cfgns::load_platform_from_string("---\n" + std::string(kSmall) + "...\n", "x.yaml").name, "small");
}

// Strings are UTF-8: a name with invalid bytes would not survive `aimc config` and back (the
// emitter writes U+FFFD for them), so it is refused naming the key.
TEST(ConfigErrors, InvalidUtf8IsRefusedNamingTheKey) {
  EXPECT_EQ(load_error(with_line(1, "name: \"ab\xFF\xFE\"")),
            "x.yaml:1: name: expected valid UTF-8 text, got invalid byte 0xFF at byte 3 of the value");
  EXPECT_EQ(load_error(with_line(1, "name: ab\xC3")),
            "x.yaml:1: name: expected valid UTF-8 text, got invalid byte 0xC3 at byte 3 of the value");
  EXPECT_EQ(load_error(kSmall, {"name=\xC0\xAF"}),
            "--set name=\xC0\xAF: name: expected valid UTF-8 text, got invalid byte 0xC0 at byte 1 of the value");
  PlatformConfig c = cfgns::load_platform_from_string(kSmall, "x.yaml");
  c.name = "bad\xED\xA0\x80";  // an encoded surrogate is not UTF-8 either
  EXPECT_EQ(error_of([&] { cfgns::validate_platform(c); }),
            "x.yaml: name: expected valid UTF-8 text, got invalid byte 0xED at byte 4 of the value");
  // Valid UTF-8 round-trips through the dump.
  c.name = "m\xC3\xA9moire \xE2\x80\x94 \xF0\x9F\x98\x80";
  const PlatformConfig back = cfgns::load_platform_from_string(cfgns::dump_platform(c), "dump");
  EXPECT_EQ(back.name, c.name);
}

// A folder given as the platform says so (it said "missing required key 'name'").
TEST(ConfigErrors, FolderIsNotAPlatformFile) {
  const std::string dir = ::testing::TempDir() + "aimc_config_folder";
  std::filesystem::create_directories(dir);
  EXPECT_EQ(error_of([&] { cfgns::load_platform(dir); }), dir + ": cannot open file (it is a folder)");
  EXPECT_EQ(error_of([&] { cfgns::load_platform(dir + "/"); }), dir + "/: cannot open file (it is a folder)");
  std::filesystem::remove(dir);
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
  EXPECT_EQ(load_error(kSmall, {"tile.device.read_noise_rel=1"}),
            "--set tile.device.read_noise_rel=1: tile.device.read_noise_rel: expected a number in [0, 1), got 1");
  EXPECT_NO_THROW(cfgns::load_platform_from_string(kSmall, "x.yaml", {"tile.device.read_noise_rel=0"}));
  EXPECT_EQ(load_error(kSmall, {"tile.dac.bits=12"}),
            "--set tile.dac.bits=12: tile.dac.bits: expected an integer in [1, 8] (activations are stored as bytes), got 12");
  EXPECT_EQ(load_error(kSmall, {"simulation.quantum_ns=0"}),
            "--set simulation.quantum_ns=0: simulation.quantum_ns: expected a number > 0, got 0");
  EXPECT_EQ(load_error(kSmall, {"bus.e_byte_pj=-0.1"}),
            "--set bus.e_byte_pj=-0.1: bus.e_byte_pj: expected a number >= 0, got -0.1");
}

// The removed keys of the basic programming model are refused, with the replacement suggested
// where the name is close.
TEST(ConfigErrors, RemovedKeysAreUnknown) {
  EXPECT_NE(load_error(kSmall, {"tile.device.prog_error_rel=0.01"}).find("unknown key 'tile.device.prog_error_rel'"),
            std::string::npos);
  EXPECT_NE(load_error(kSmall, {"programming.t_cell_ns=1"}).find("unknown key 'programming.t_cell_ns'"),
            std::string::npos);
  const std::string msg = load_error(kSmall, {"programming.e_cell_pj=1"});
  EXPECT_NE(msg.find("unknown key 'programming.e_cell_pj'"), std::string::npos) << msg;
}

TEST(ConfigErrors, RangesOfDeviceProgrammingAndFaultKeys) {
  auto err = [](const std::string& ov) { return load_error(kSmall, {ov}); };
  EXPECT_EQ(err("tile.device.pulse_gain=0"),
            "--set tile.device.pulse_gain=0: tile.device.pulse_gain: expected a number in (0, 1], got 0");
  EXPECT_NO_THROW(cfgns::load_platform_from_string(kSmall, "x.yaml", {"tile.device.pulse_gain=1"}));
  EXPECT_EQ(err("tile.device.pulse_noise=-0.1"),
            "--set tile.device.pulse_noise=-0.1: tile.device.pulse_noise: expected a number >= 0, got -0.1");
  EXPECT_EQ(err("tile.device.t_ref_c=151"),
            "--set tile.device.t_ref_c=151: tile.device.t_ref_c: expected a number in [-55, 150], got 151");
  EXPECT_NO_THROW(cfgns::load_platform_from_string(kSmall, "x.yaml", {"tile.device.t_ref_c=-55"}));
  EXPECT_EQ(err("tile.device.g_erased_ns=0"),
            "--set tile.device.g_erased_ns=0: tile.device.g_erased_ns: expected a number > 0, got 0");
  EXPECT_EQ(err("tile.device.endurance_cycles=0.5"),
            "--set tile.device.endurance_cycles=0.5: tile.device.endurance_cycles: expected a number >= 1, got 0.5");
  EXPECT_EQ(err("tile.device.flash.slope_factor=0.9"),
            "--set tile.device.flash.slope_factor=0.9: tile.device.flash.slope_factor: expected a number in [1, 3], got 0.9");
  EXPECT_EQ(err("tile.device.flash.g_ref_ns=0"),
            "--set tile.device.flash.g_ref_ns=0: tile.device.flash.g_ref_ns: expected a number > 0, got 0");
  EXPECT_EQ(err("tile.device.drift.t0_s=0"),
            "--set tile.device.drift.t0_s=0: tile.device.drift.t0_s: expected a number > 0, got 0");
  EXPECT_EQ(err("tile.device.drift.nu_at_gmin=-0.01"),
            "--set tile.device.drift.nu_at_gmin=-0.01: tile.device.drift.nu_at_gmin: expected a number >= 0, got -0.01");
  EXPECT_EQ(err("tile.device.drift.nu_sigma_at_gmax=-1"),
            "--set tile.device.drift.nu_sigma_at_gmax=-1: tile.device.drift.nu_sigma_at_gmax: expected a number >= 0, got -1");
  EXPECT_EQ(err("programming.verify_bits=25"),
            "--set programming.verify_bits=25: programming.verify_bits: expected an integer in [1, 24], got 25");
  EXPECT_EQ(err("programming.max_iterations=0"),
            "--set programming.max_iterations=0: programming.max_iterations: expected an integer in [1, 1000], got 0");
  EXPECT_EQ(err("programming.erase_sector_rows=4097"),
            "--set programming.erase_sector_rows=4097: programming.erase_sector_rows: expected an integer in [1, 4096], got 4097");
  EXPECT_EQ(err("programming.tolerance_gmax_rel=1"),
            "--set programming.tolerance_gmax_rel=1: programming.tolerance_gmax_rel: expected a number in [0, 1), got 1");
  EXPECT_EQ(err("faults.dead_column_rate=1.5"),
            "--set faults.dead_column_rate=1.5: faults.dead_column_rate: expected a number in [0, 1], got 1.5");
  EXPECT_NO_THROW(cfgns::load_platform_from_string(kSmall, "x.yaml", {"faults.dead_column_rate=1"}));
  EXPECT_EQ(err("faults.adc_offset_lsb=-2"),
            "--set faults.adc_offset_lsb=-2: faults.adc_offset_lsb: expected a number >= 0, got -2");
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
  // Read phases: 1, 2 or 4, and more than 1 only with one-shot inputs.
  msg = load_error(kSmall, {"tile.array.read_phases=3"});
  EXPECT_NE(msg.find("tile.array.read_phases: expected 1, 2 or 4"), std::string::npos) << msg;
  msg = load_error(kSmall, {"tile.array.read_phases=2", "tile.dac.kind=bit_serial"});
  EXPECT_NE(msg.find("tile.array.read_phases: expected 1 with tile.dac.kind"), std::string::npos) << msg;
}

// The stuck-at rates are exclusive outcomes of one draw per cell: their sum is at most 1.
TEST(ConfigErrors, StuckRatesSumAtMostOne) {
  EXPECT_EQ(load_error(kSmall, {"faults.stuck_low_rate=0.6", "faults.stuck_high_rate=0.5"}),
            "--set faults.stuck_high_rate=0.5: faults.stuck_high_rate: expected a number in [0, 0.4], "
            "at most 1 - faults.stuck_low_rate = 0.6 (from --set faults.stuck_low_rate=0.6), got 0.5");
  // In a file: blamed on stuck_high_rate's line, naming stuck_low_rate's.
  const std::string msg = load_error(std::string(kSmall) +
                                     "faults:\n  stuck_low_rate: 0.75\n  stuck_high_rate: 0.3\n");
  EXPECT_NE(msg.find("x.yaml:19: faults.stuck_high_rate: expected a number in [0, 0.25]"), std::string::npos) << msg;
  EXPECT_NE(msg.find("(from x.yaml:18)"), std::string::npos) << msg;
  EXPECT_NO_THROW(cfgns::load_platform_from_string(
      kSmall, "x.yaml", {"faults.stuck_low_rate=0.5", "faults.stuck_high_rate=0.5"}));
  PlatformConfig cfg;
  cfg.faults.stuck_low_rate = 0.9;
  cfg.faults.stuck_high_rate = 0.2;
  EXPECT_NE(error_of([&] { cfgns::validate_platform(cfg); }).find("config: faults.stuck_high_rate: expected"),
            std::string::npos);
}

// Flash programs only downward from the erased state: every level must lie below it.
TEST(ConfigErrors, FlashErasedStateAboveGmax) {
  const std::string msg = load_error(kSmall, {"tile.device.g_erased_ns=400"});
  EXPECT_NE(msg.find("--set tile.device.g_erased_ns=400: tile.device.g_erased_ns: expected a number >= "
                     "tile.device.g_max_ns = 500.0 (from x.yaml:14)"),
            std::string::npos) << msg;
  EXPECT_NE(msg.find("got 400"), std::string::npos) << msg;
  // The RESET state of pcm and rram is low: no such rule.
  EXPECT_NO_THROW(cfgns::load_platform_from_string(
      kSmall, "x.yaml", {"tile.device.type=pcm", "tile.device.g_erased_ns=2"}));
  EXPECT_NO_THROW(cfgns::load_platform_from_string(
      kSmall, "x.yaml", {"tile.device.type=rram", "tile.device.g_erased_ns=2"}));
  // Switching a pcm preset to flash needs a flash erased state too.
  EXPECT_NE(error_of([] { cfgns::load_platform(pcm_preset_path(), {"tile.device.type=flash"}); })
                .find("tile.device.g_erased_ns: expected a number >= tile.device.g_max_ns"),
            std::string::npos);
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
  // An enum value outside its enumerators (only possible in code) is refused, not dumped as junk.
  cfg = PlatformConfig{};
  cfg.tile.device.pair = static_cast<PairMode>(7);
  EXPECT_EQ(error_of([&] { cfgns::validate_platform(cfg); }),
            "config: tile.device.pair: expected one of unipolar, balanced, got 7 (the default)");
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

TEST(ConfigKeys, EnumSpellings) {
  EXPECT_STREQ(cfgns::to_string(DeviceType::ideal), "ideal");
  EXPECT_STREQ(cfgns::to_string(DeviceType::flash), "flash");
  EXPECT_STREQ(cfgns::to_string(DeviceType::pcm), "pcm");
  EXPECT_STREQ(cfgns::to_string(DeviceType::rram), "rram");
  EXPECT_STREQ(cfgns::to_string(PairMode::unipolar), "unipolar");
  EXPECT_STREQ(cfgns::to_string(PairMode::balanced), "balanced");
  EXPECT_STREQ(cfgns::to_string(WornMode::stuck_low), "stuck_low");
  EXPECT_STREQ(cfgns::to_string(WornMode::stuck_high), "stuck_high");
  std::map<std::string, std::string> ranges;
  for (const auto& k : cfgns::describe_keys()) ranges[k.key] = k.range;
  // The published kinds first; kinds added later are appended (numerics/device_kind.h).
  EXPECT_EQ(ranges["tile.device.type"].rfind("one of ideal, flash, pcm, rram", 0), 0u)
      << ranges["tile.device.type"];
  EXPECT_EQ(ranges["tile.device.pair"], "one of unipolar, balanced");
  EXPECT_EQ(ranges["tile.device.worn"], "one of stuck_low, stuck_high");
  EXPECT_STREQ(cfgns::to_string(cfgns::SramStandby::powered), "powered");
  EXPECT_STREQ(cfgns::to_string(cfgns::SramStandby::gate_all), "gate_all");
  EXPECT_EQ(ranges["sram.standby"], "one of powered, retain, gate_unused, gate_all");
  EXPECT_EQ(ranges["tile.array.ir_drop"], "one of false, true");
}

// The SRAM's STANDBY modes and the IR-drop switch survive dump -> load, and a misspelling is refused.
TEST(ConfigRoundTrip, SramStandbyAndIrDropSurvive) {
  for (auto m : {cfgns::SramStandby::powered, cfgns::SramStandby::retain, cfgns::SramStandby::gate_unused,
                 cfgns::SramStandby::gate_all}) {
    PlatformConfig a;
    a.sram.standby = m;
    a.sram.retention_leakage_rel = 0.25;
    a.tile.array.ir_drop = m == cfgns::SramStandby::retain;
    const PlatformConfig b = cfgns::load_platform_from_string(cfgns::dump_platform(a), "dump");
    EXPECT_EQ(a, b) << cfgns::dump_platform(a);
    EXPECT_EQ(b.sram.standby, m);
  }
  const PlatformConfig on = cfgns::load_platform(preset_path(), {"sram.standby=gate_unused", "tile.array.ir_drop=true"});
  EXPECT_EQ(on.sram.standby, cfgns::SramStandby::gate_unused);
  EXPECT_TRUE(on.tile.array.ir_drop);
  EXPECT_THROW(cfgns::load_platform(preset_path(), {"sram.standby=on"}), cfgns::ConfigError);
  EXPECT_THROW(cfgns::load_platform(preset_path(), {"tile.array.ir_drop=yes"}), cfgns::ConfigError);
  EXPECT_THROW(cfgns::load_platform(preset_path(), {"sram.retention_leakage_rel=1.5"}), cfgns::ConfigError);
}

// Keys used by only some device types say so at the start of their meaning ("flash: ...").
TEST(ConfigKeys, DeviceSpecificKeysSayWhichDevices) {
  for (const auto& k : cfgns::describe_keys()) {
    const bool flash_only = k.key.rfind("tile.device.flash.", 0) == 0 ||
                            k.key == "programming.erase_sector_rows";
    const bool drifting_only = k.key.rfind("tile.device.drift.", 0) == 0 ||
                               k.key.rfind("tile.device.thermal.", 0) == 0;
    if (flash_only) {
      EXPECT_EQ(key_users(k.meaning), std::set<std::string>{"flash"}) << k.key;
    }
    if (drifting_only) {
      EXPECT_EQ(key_users(k.meaning), (std::set<std::string>{"pcm", "rram"})) << k.key;
    }
  }
}

TEST(ConfigKeys, EveryKeyIsDocumented) {
  std::ifstream in(source_dir() + "/docs/platform-config.md");
  ASSERT_TRUE(in) << "docs/platform-config.md missing";
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string doc = ss.str();
  for (const auto& k : cfgns::describe_keys())
    EXPECT_NE(doc.find("`" + k.key + "`"), std::string::npos) << k.key << " is not in the doc";
  for (const std::string& path : preset_paths()) {
    const std::string preset = path.substr(path.rfind('/') + 1);
    EXPECT_NE(doc.find(preset), std::string::npos) << preset << " is not in the doc";
  }
}
