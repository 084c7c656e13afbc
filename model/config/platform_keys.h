// The table of platform keys (platform_keys.cpp): one row per YAML leaf key with its unit,
// meaning, range and accessors. platform_config.cpp drives loading, overrides, validation, the
// dump and describe_keys() from it. Internal to aimc_config.
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "config/platform_config.h"

namespace aimc::config::detail {

constexpr double kInf = std::numeric_limits<double>::infinity();

enum class Kind { integer, real, unsigned64, text, choice };

// One leaf key. Only the accessor matching `kind` is set; accessors are captureless lambdas so the
// table is plain data. A `choice` key is an enum: its value is the enumerator's index, spelled in
// YAML by to_string() of that enum (choice_name), so the names live in one place.
struct Key {
  const char* path;
  const char* unit;
  const char* meaning;
  Kind kind;
  double lo = 0, hi = kInf;           // closed for integers
  bool lo_open = false, hi_open = true;
  const char* note = nullptr;         // why the range is what it is, appended to "expected ..."
  bool required = false;
  int& (*int_ref)(PlatformConfig&) = nullptr;
  double& (*real_ref)(PlatformConfig&) = nullptr;
  uint64_t& (*u64_ref)(PlatformConfig&) = nullptr;
  std::string& (*text_ref)(PlatformConfig&) = nullptr;
  int choice_count = 0;                                 // enumerators 0 .. choice_count - 1
  const char* (*choice_name)(int) = nullptr;            // index -> YAML spelling
  int (*choice_get)(const PlatformConfig&) = nullptr;   // current index
  void (*choice_set)(PlatformConfig&, int) = nullptr;   // store an index
};

// Every key, in dump order.
const std::vector<Key>& keys();

}  // namespace aimc::config::detail
