// Reading platform YAML into flat, dotted keys that remember where each value was written: the
// file layer of the loader (platform_config.cpp turns the values into a PlatformConfig). Internal
// to aimc_config; users include config/platform_config.h.
//
// A file may start from another: a top-level `base: OTHER.yaml` (relative to the folder of the
// file that names it, or absolute) is read first, then the file's own keys are laid over it.
// Sections merge key by key and a value replaces the base's value, so the result is a deep merge
// of the two trees; bases chain. Since every file is flattened on its own, every value keeps the
// file and line it was written at, and an error in a base names the base.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "config/platform_config.h"

namespace aimc::config::detail {

// Where a value came from: "file:12" or "--set tile.adc.bits=6"; `where` alone (no line, and
// is_default) for a key that took its struct default.
struct Origin {
  std::string where;
  bool is_default = false;
  std::string text;  // the value as written, echoed in "got ..."
};

struct RawValue {
  std::string text;
  bool is_null = false;  // "key:" with nothing after it, or "~"
  Origin origin;
};

// Dotted key -> value, e.g. "tile.adc.bits" -> "6" from "x.yaml:10".
using RawValues = std::map<std::string, RawValue>;

// The top-level key that names a file's base. It is a property of the file, not a setting.
inline constexpr const char* kBaseKey = "base";

// Throws ConfigError "where: key: what" (empty parts left out).
[[noreturn]] void fail(const std::string& where, const std::string& key, const std::string& what);

// The keys a platform file may hold: every leaf as a dotted path (in file order), plus what each
// accepts ("an integer in [1, 16]") for messages. Sections are the proper prefixes of the leaves.
class KeyNames {
 public:
  KeyNames(std::vector<std::string> leaves, std::function<std::string(const std::string&)> expected);

  bool is_leaf(const std::string& path) const;
  bool is_section(const std::string& path) const;
  std::string expected(const std::string& leaf) const { return expected_(leaf); }
  // Names directly under a section ("" = the top level), in file order.
  std::vector<std::string> children(const std::string& section) const;
  // "expected a mapping with keys bits, share, ..."
  std::string section_expectation(const std::string& section) const;
  // "unknown key 'tile.adc.bitz' (did you mean 'tile.adc.bits'?)", or the valid keys nearby.
  std::string unknown_key_message(const std::string& path) const;

 private:
  std::vector<std::string> leaves_;
  std::vector<std::string> sections_;
  std::function<std::string(const std::string&)> expected_;
};

// Reads a platform file and its base chain into `values` (base first, the file's keys over it).
// Unknown keys, wrong node kinds, duplicate keys and YAML syntax errors are refused naming the file
// and line they are in; a missing base or a cycle of bases names the `base:` line that led there.
void read_platform_file(const std::string& path, const KeyNames& names, RawValues& values);
// Same, from text; `name` stands for the file in messages, and a relative `base:` is resolved
// against the folder of `name` (the working directory when `name` has none).
void read_platform_text(const std::string& text, const std::string& name, const KeyNames& names,
                        RawValues& values);

// Applies one "--set key=value" over `values` (the override text becomes the origin).
void apply_override(const std::string& ov, const KeyNames& names, RawValues& values);

}  // namespace aimc::config::detail
