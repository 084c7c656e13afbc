// Where the tests find the source tree and the shipped presets, and what an expected refusal says.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "config/platform_config.h"

inline std::string source_dir() {
  const char* dir = std::getenv("AIMC_SOURCE_DIR");
  return dir ? dir : AIMC_SOURCE_DIR_FALLBACK;
}

// Every platforms/*.yaml, sorted, listed when called (a preset added later is covered without
// editing a test). Empty when the folder is missing; callers fail on that.
inline std::vector<std::string> preset_files() {
  namespace fs = std::filesystem;
  std::vector<std::string> out;
  std::error_code ec;
  for (fs::directory_iterator it(source_dir() + "/platforms", ec), end; !ec && it != end;
       it.increment(ec)) {
    if (it->is_regular_file() && it->path().extension() == ".yaml") out.push_back(it->path().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

// Runs f, expects a config::ConfigError, returns its message (or says what happened instead).
inline std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const aimc::config::ConfigError& e) {
    return e.what();
  } catch (const std::exception& e) {
    return std::string("WRONG EXCEPTION TYPE: ") + e.what();
  }
  return "NO EXCEPTION";
}
