// Platform YAML -> PlatformConfig. One table of keys (platform_keys.cpp) drives loading, overrides,
// validation, the dump and describe_keys(), so the five cannot drift apart.
//
// Loading is three passes over that table:
//   1. the file and its `base:` chain are flattened into dotted keys, each file's over its base's
//      (yaml_source.cpp); unknown keys and wrong node kinds are refused there, with the file and
//      mark of the offending node;
//   2. "--set key=value" overrides replace flattened values (the override text becomes the origin);
//   3. each value is parsed into the struct, then ranges and cross-field rules are checked.
// Every value remembers where it came from, so any error can name file:line or the override.
#include "config/platform_config.h"

#include "numerics/device_model.h"

#include <algorithm>
#include <yaml-cpp/yaml.h>

#include <charconv>
#include <cmath>
#include <cstdio>
#include <limits>
#include <memory>
#include <sstream>

#include "config/platform_keys.h"
#include "config/yaml_source.h"

namespace aimc::config {
namespace {

using detail::fail;
using detail::Origin;
using detail::RawValue;
using detail::RawValues;
using detail::Key;
using detail::Kind;
using detail::keys;


std::string format_real(double v) {
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof buf, v);  // shortest text that reads back exactly
  std::string s(buf, res.ptr);
  if (s.find_first_of(".eE") == std::string::npos) s += ".0";  // reads as a real to people too
  return s;
}

std::string format_bound(double v) {
  return v == std::floor(v) && std::fabs(v) < 1e15 ? std::to_string(static_cast<long long>(v))
                                                   : format_real(v);
}

// What a key accepts, as it appears after "expected".
std::string expected_text(const Key& k) {
  std::string s;
  switch (k.kind) {
    case Kind::text: s = "a non-empty string"; break;
    case Kind::choice:
      s = "one of";
      for (int i = 0; i < k.choice_count; ++i) s += std::string(i ? ", " : " ") + k.choice_name(i);
      break;
    case Kind::unsigned64: s = "an unsigned integer"; break;
    case Kind::integer:
      s = "an integer in [" + format_bound(k.lo) + ", " + format_bound(k.hi) + "]";
      break;
    case Kind::real:
      if (std::isinf(k.hi)) {
        s = std::string("a number ") + (k.lo_open ? "> " : ">= ") + format_bound(k.lo);
      } else {
        s = std::string("a number in ") + (k.lo_open ? "(" : "[") + format_bound(k.lo) + ", " +
            format_bound(k.hi) + (k.hi_open ? ")" : "]");
      }
      break;
  }
  if (k.note) s += std::string(" (") + k.note + ")";
  return s;
}

std::string range_text(const Key& k) {
  std::string s = expected_text(k);
  return s.compare(0, 3, "an ") == 0 ? s.substr(3) : s.compare(0, 2, "a ") == 0 ? s.substr(2) : s;
}

// come later, so that code-built configs get the same checks.
bool parse_into(const Key& k, const std::string& text, PlatformConfig& cfg) {
  const char* b = text.data();
  const char* e = b + text.size();
  if (b != e && *b == '+' && k.kind != Kind::text && k.kind != Kind::choice) ++b;  // from_chars refuses '+'
  switch (k.kind) {
    case Kind::text:
      if (text.empty()) return false;
      k.text_ref(cfg) = text;
      return true;
    case Kind::choice:
      for (int i = 0; i < k.choice_count; ++i) {
        if (text == k.choice_name(i)) {
          k.choice_set(cfg, i);
          return true;
        }
      }
      return false;
    case Kind::integer: {
      long long v = 0;
      auto r = std::from_chars(b, e, v);
      if (r.ec != std::errc() || r.ptr != e || b == e) return false;
      if (v < k.lo || v > k.hi) return false;  // also keeps the int cast below safe
      k.int_ref(cfg) = static_cast<int>(v);
      return true;
    }
    case Kind::unsigned64: {
      unsigned long long v = 0;
      if (b != e && *b == '-') return false;
      auto r = std::from_chars(b, e, v);
      if (r.ec != std::errc() || r.ptr != e || b == e) return false;
      k.u64_ref(cfg) = v;
      return true;
    }
    case Kind::real: {
      double v = 0;
      auto r = std::from_chars(b, e, v, std::chars_format::general);
      if (r.ec != std::errc() || r.ptr != e || b == e || !std::isfinite(v)) return false;
      k.real_ref(cfg) = v;
      return true;
    }
  }
  return false;
}

std::string value_text(const Key& k, const PlatformConfig& cfg) {
  auto& c = const_cast<PlatformConfig&>(cfg);  // accessors are shared with the writers
  switch (k.kind) {
    case Kind::text: return k.text_ref(c);
    case Kind::choice: {
      const int i = k.choice_get(cfg);
      return i >= 0 && i < k.choice_count ? k.choice_name(i) : std::to_string(i);
    }
    case Kind::integer: return std::to_string(k.int_ref(c));
    case Kind::unsigned64: return std::to_string(k.u64_ref(c));
    case Kind::real: return format_real(k.real_ref(c));
  }
  return "";
}

// The index of the first byte of `s` that does not begin a valid UTF-8 sequence (overlong forms,
// surrogates and code points above U+10FFFF are invalid too), or npos.
std::size_t invalid_utf8_at(const std::string& s) {
  const auto* b = reinterpret_cast<const unsigned char*>(s.data());
  for (std::size_t i = 0; i < s.size();) {
    const unsigned lead = b[i];
    if (lead < 0x80) {
      ++i;
      continue;
    }
    std::size_t len = 0;
    unsigned lo = 0x80, hi = 0xBF;  // range of the second byte
    if (lead >= 0xC2 && lead <= 0xDF) {
      len = 2;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
      len = 3;
      if (lead == 0xE0) lo = 0xA0;  // overlong
      if (lead == 0xED) hi = 0x9F;  // surrogates
    } else if (lead >= 0xF0 && lead <= 0xF4) {
      len = 4;
      if (lead == 0xF0) lo = 0x90;  // overlong
      if (lead == 0xF4) hi = 0x8F;  // above U+10FFFF
    } else {
      return i;
    }
    if (i + len > s.size() || b[i + 1] < lo || b[i + 1] > hi) return i;
    for (std::size_t k = 2; k < len; ++k)
      if (b[i + k] < 0x80 || b[i + k] > 0xBF) return i;
    i += len;
  }
  return std::string::npos;
}

bool in_range(const Key& k, const PlatformConfig& cfg) {
  auto& c = const_cast<PlatformConfig&>(cfg);
  switch (k.kind) {
    case Kind::text: return !k.text_ref(c).empty();
    case Kind::choice: {
      const int i = k.choice_get(cfg);  // a code-built config may hold a cast-out-of-range value
      return i >= 0 && i < k.choice_count;
    }
    case Kind::unsigned64: return true;
    case Kind::integer: {
      const int v = k.int_ref(c);
      return v >= k.lo && v <= k.hi;
    }
    case Kind::real: {
      const double v = k.real_ref(c);
      if (!std::isfinite(v)) return false;
      if (k.lo_open ? !(v > k.lo) : !(v >= k.lo)) return false;
      if (!std::isinf(k.hi) && (k.hi_open ? !(v < k.hi) : !(v <= k.hi))) return false;
      return true;
    }
  }
  return false;
}

// Looks up where each key's value came from; keys without an entry took the struct default.
struct Origins {
  std::string source;  // file name, or "config" for code-built configurations
  const RawValues* values = nullptr;
  Origin of(const std::string& key) const {
    if (values) {
      auto it = values->find(key);
      if (it != values->end()) return it->second.origin;
    }
    return Origin{source, true, ""};
  }
};

std::string got(const std::string& formatted, const Origin& o) {
  if (o.is_default) return ", got " + formatted + " (the default)";
  return ", got " + (o.text.empty() ? formatted : o.text);
}

// The value of another key, with where it came from, for cross-field messages.
std::string other(const std::string& key, const std::string& value, const Origins& origins) {
  const Origin o = origins.of(key);
  return key + " = " + value + (o.is_default ? " (the default)" : " (from " + o.where + ")");
}

void validate(const PlatformConfig& cfg, const Origins& origins) {
  for (const Key& k : keys()) {
    // Text is UTF-8: other bytes would not survive the dump (its emitter writes U+FFFD for them).
    if (k.kind == Kind::text) {
      const std::string& text = k.text_ref(const_cast<PlatformConfig&>(cfg));
      if (const std::size_t bad = invalid_utf8_at(text); bad != std::string::npos) {
        char byte[8];
        std::snprintf(byte, sizeof byte, "0x%02X", static_cast<unsigned>(static_cast<unsigned char>(text[bad])));
        fail(origins.of(k.path).where, k.path,
             std::string("expected valid UTF-8 text, got invalid byte ") + byte + " at byte " +
                 std::to_string(bad + 1) + " of the value");
      }
    }
    if (!in_range(k, cfg)) {
      const Origin o = origins.of(k.path);
      fail(o.where, k.path, "expected " + expected_text(k) + got(value_text(k, cfg), o));
    }
  }
  const auto& t = cfg.tile;
  if (!(t.device.g_min_ns < t.device.g_max_ns)) {
    const Origin o = origins.of("tile.device.g_min_ns");
    fail(o.where, "tile.device.g_min_ns",
         "expected a number below " +
             other("tile.device.g_max_ns", format_real(t.device.g_max_ns), origins) +
             got(format_real(t.device.g_min_ns), o));
  }
  if (t.array.read_phases == 3) {
    const Origin o = origins.of("tile.array.read_phases");
    fail(o.where, "tile.array.read_phases", "expected 1, 2 or 4" + got("3", o));
  }
  if (t.array.read_phases > 1 && t.dac.kind == InputDriverKind::bit_serial) {
    const Origin o = origins.of("tile.array.read_phases");
    fail(o.where, "tile.array.read_phases",
         "expected 1 with " + other("tile.dac.kind", "bit_serial", origins) +
             " (a sign-split read takes one-shot inputs: voltage or pwm)" +
             got(std::to_string(t.array.read_phases), o));
  }
  if (t.adc.share > t.array.cols) {
    const Origin o = origins.of("tile.adc.share");
    fail(o.where, "tile.adc.share",
         "expected an integer in [1, " + std::to_string(t.array.cols) + "], at most " +
             other("tile.array.cols", std::to_string(t.array.cols), origins) +
             got(std::to_string(t.adc.share), o));
  }
  if (t.input_buffer_bytes < t.array.rows) {
    const Origin o = origins.of("tile.input_buffer_bytes");
    fail(o.where, "tile.input_buffer_bytes",
         "expected at least " + std::to_string(t.array.rows) + " B, one input vector of " +
             other("tile.array.rows", std::to_string(t.array.rows), origins) +
             got(std::to_string(t.input_buffer_bytes), o));
  }
  // A kind that erases to a high conductance programs only downward (flash), so every level must
  // lie below the erased state.
  const num::DeviceModel& kind = num::device_model(t.device.type);
  if (kind.traits().erase_high && t.device.g_erased_ns < t.device.g_max_ns) {
    const Origin o = origins.of("tile.device.g_erased_ns");
    fail(o.where, "tile.device.g_erased_ns",
         "expected a number >= " +
             other("tile.device.g_max_ns", format_real(t.device.g_max_ns), origins) + ", since " +
             kind.name() + " cells are only programmed downward from the erased state and " +
             other("tile.device.type", kind.name(), origins) +
             got(format_real(t.device.g_erased_ns), o));
  }
  // The two stuck-at faults are exclusive outcomes of one draw per cell.
  const auto& f = cfg.faults;
  if (f.stuck_low_rate + f.stuck_high_rate > 1) {
    const Origin o = origins.of("faults.stuck_high_rate");
    fail(o.where, "faults.stuck_high_rate",
         "expected a number in [0, " + format_real(1 - f.stuck_low_rate) + "], at most 1 - " +
             other("faults.stuck_low_rate", format_real(f.stuck_low_rate), origins) +
             got(format_real(f.stuck_high_rate), o));
  }
  const int out_bytes_per_col = (t.adc.bits + 7) / 8;
  if (t.output_buffer_bytes < t.array.cols * out_bytes_per_col) {
    const Origin o = origins.of("tile.output_buffer_bytes");
    fail(o.where, "tile.output_buffer_bytes",
         "expected at least " + std::to_string(t.array.cols * out_bytes_per_col) +
             " B, one output vector of " +
             other("tile.array.cols", std::to_string(t.array.cols), origins) + " x " +
             std::to_string(out_bytes_per_col) + " B for " +
             other("tile.adc.bits", std::to_string(t.adc.bits), origins) +
             got(std::to_string(t.output_buffer_bytes), o));
  }
  // A tile's address window (its buffers, then its local activation memory) fits the 1 MiB
  // between tiles (AIMC_TILE_STRIDE in firmware_stubs/include/aimc_regs.h).
  const long long buffers = static_cast<long long>(t.input_buffer_bytes) +
                            std::max<long long>(t.output_buffer_bytes, 4ll * t.array.cols);
  const long long room_kib = ((1ll << 20) - buffers) / 1024;
  if (static_cast<long long>(t.local_memory_kib) > room_kib) {
    const Origin o = origins.of("tile.local_memory_kib");
    fail(o.where, "tile.local_memory_kib",
         "expected at most " + std::to_string(room_kib) + " KiB: a tile's window (its " +
             std::to_string(buffers) + " B of buffers, then this memory) must fit the 1 MiB between tiles" +
             got(std::to_string(t.local_memory_kib), o));
  }
}

// The key names as the file layer sees them (leaf paths and what each accepts).
const detail::KeyNames& key_names() {
  static const detail::KeyNames names = [] {
    std::vector<std::string> leaves;
    for (const Key& k : keys()) leaves.push_back(k.path);
    return detail::KeyNames(std::move(leaves), [](const std::string& path) {
      for (const Key& k : keys())
        if (path == k.path) return expected_text(k);
      return std::string("a value");
    });
  }();
  return names;
}

// `values` holds what the file and its bases set; overrides go over them, then every value is
// parsed and checked.
PlatformConfig build(detail::RawValues values, const std::string& file,
                     const std::vector<std::string>& overrides) {
  for (const std::string& ov : overrides) detail::apply_override(ov, key_names(), values);

  for (const Key& k : keys()) {
    if (k.required && !values.count(k.path))
      fail(file, "", std::string("missing required key '") + k.path + "' (" + k.meaning + ")");
  }

  PlatformConfig cfg;
  cfg.source_file = file;
  for (const Key& k : keys()) {
    auto it = values.find(k.path);
    if (it == values.end()) continue;
    const RawValue& rv = it->second;
    if (rv.is_null)
      fail(rv.origin.where, k.path, "expected " + expected_text(k) + ", got nothing");
    if (!parse_into(k, rv.text, cfg))
      fail(rv.origin.where, k.path, "expected " + expected_text(k) + ", got " + rv.text);
  }
  validate(cfg, Origins{file, &values});
  return cfg;
}

}  // namespace

const char* to_string(PairMode mode) {
  switch (mode) {
    case PairMode::unipolar: return "unipolar";
    case PairMode::balanced: return "balanced";
  }
  return "?";
}

const char* to_string(WornMode mode) {
  switch (mode) {
    case WornMode::stuck_low: return "stuck_low";
    case WornMode::stuck_high: return "stuck_high";
  }
  return "?";
}

const char* to_string(SramStandby mode) {
  switch (mode) {
    case SramStandby::powered: return "powered";
    case SramStandby::retain: return "retain";
    case SramStandby::gate_unused: return "gate_unused";
    case SramStandby::gate_all: return "gate_all";
  }
  return "?";
}

const std::vector<KeyInfo>& describe_keys() {
  static const std::vector<KeyInfo> info = [] {
    std::vector<KeyInfo> out;
    for (const Key& k : keys()) out.push_back(KeyInfo{k.path, k.unit, range_text(k), k.meaning, k.required});
    return out;
  }();
  return info;
}

void validate_platform(const PlatformConfig& cfg) {
  validate(cfg, Origins{cfg.source_file.empty() ? "config" : cfg.source_file, nullptr});
}

PlatformConfig load_platform(const std::string& path, const std::vector<std::string>& overrides) {
  RawValues values;
  detail::read_platform_file(path, key_names(), values);
  return build(std::move(values), path, overrides);
}

PlatformConfig load_platform_from_string(const std::string& yaml_text, const std::string& name,
                                         const std::vector<std::string>& overrides) {
  RawValues values;
  detail::read_platform_text(yaml_text, name, key_names(), values);
  return build(std::move(values), name, overrides);
}

std::map<std::string, std::string> platform_key_origins(const std::string& path,
                                                        const std::vector<std::string>& overrides) {
  RawValues values;
  detail::read_platform_file(path, key_names(), values);
  for (const std::string& ov : overrides) detail::apply_override(ov, key_names(), values);
  std::map<std::string, std::string> out;
  for (const auto& [key, value] : values) out[key] = value.origin.where;
  return out;
}

std::string dump_platform(const PlatformConfig& cfg) {
  YAML::Emitter out;
  out << YAML::Comment("effective configuration" +
                       (cfg.source_file.empty() ? std::string() : " (loaded from " + cfg.source_file + ")"));
  out << YAML::BeginMap;
  std::vector<std::string> open;  // sections currently open, outermost first
  for (const Key& k : keys()) {
    std::vector<std::string> parts;
    std::stringstream ss(k.path);
    for (std::string p; std::getline(ss, p, '.');) parts.push_back(p);
    const std::string leaf = parts.back();
    parts.pop_back();
    std::size_t common = 0;
    while (common < open.size() && common < parts.size() && open[common] == parts[common]) ++common;
    while (open.size() > common) {
      out << YAML::EndMap;
      open.pop_back();
    }
    for (std::size_t i = common; i < parts.size(); ++i) {
      out << YAML::Key << parts[i] << YAML::Value << YAML::BeginMap;
      open.push_back(parts[i]);
    }
    out << YAML::Key << leaf << YAML::Value;
    if (k.kind == Kind::text) out << YAML::DoubleQuoted;  // a name like "null" or "8" stays a name
    out << value_text(k, cfg);
  }
  while (!open.empty()) {
    out << YAML::EndMap;
    open.pop_back();
  }
  out << YAML::EndMap;
  return std::string(out.c_str()) + "\n";
}

}  // namespace aimc::config
