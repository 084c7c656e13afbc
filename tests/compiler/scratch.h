// A private scratch folder per test, named after the test and the process (tests of one program
// may run in parallel processes), and removed with everything in it when the program ends.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <string>
#include <system_error>
#include <vector>

#include <gtest/gtest.h>

namespace aimc::testing {

inline std::filesystem::path scratch(const std::string& prefix) {
  namespace fs = std::filesystem;
  struct Cleaner {
    std::vector<fs::path> dirs;
    ~Cleaner() {
      for (const fs::path& d : dirs) {
        std::error_code ec;
        fs::remove_all(d, ec);  // best effort at exit: a folder that will not go is left, not fatal
      }
    }
  };
  static Cleaner cleaner;
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  fs::path p = fs::temp_directory_path() / (prefix + std::string(info->test_suite_name()) + "_" + info->name() +
                                            "_" + std::to_string(::getpid()));
  fs::create_directories(p);
  if (cleaner.dirs.empty() || cleaner.dirs.back() != p) cleaner.dirs.push_back(p);
  return p;
}

}  // namespace aimc::testing
