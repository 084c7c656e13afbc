// The project's source folder for the compiler's tests: $AIMC_SOURCE_DIR (ctest sets it), else the
// folder compiled in (AIMC_SOURCE_DIR_FALLBACK), for running a test binary by hand.
#pragma once

#include <cstdlib>
#include <string>

namespace aimc::testing {

inline std::string source_dir() {
  if (const char* d = std::getenv("AIMC_SOURCE_DIR")) return d;
  return AIMC_SOURCE_DIR_FALLBACK;
}

}  // namespace aimc::testing
