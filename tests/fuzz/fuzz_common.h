// Shared by the libFuzzer targets (tests/fuzz, built with -DAIMC_FUZZ=ON by scripts/fuzz.sh).
// A target feeds one input to one reader and accepts only the reader's own error for bad input
// (the message a user would see); anything else that escapes (std::out_of_range, bad_alloc,
// logic_error, a crash, a sanitizer report, a hang or more memory than -rss_limit_mb) is a finding.
#pragma once

#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <fstream>
#include <string>

namespace aimc::fuzz {

// The input as a file, for readers that take a path: one file per process, rewritten per input.
inline std::string as_file(const uint8_t* data, size_t size, const char* ext) {
  static const std::string path =
      "/tmp/aimc-fuzz-" + std::to_string(static_cast<long>(::getpid())) + ext;
  std::ofstream(path, std::ios::binary | std::ios::trunc).write(reinterpret_cast<const char*>(data),
                                                              static_cast<std::streamsize>(size));
  return path;
}

[[noreturn]] inline void finding(const char* target, const std::exception* e) {
  std::fprintf(stderr, "%s: an exception that is not the reader's own error escaped: %s\n", target,
               e ? e->what() : "(not a std::exception)");
  std::abort();
}

// Runs `read` on one input: the reader's own error `Error` (bad input, answered with a message) is
// fine; any other exception is a finding.
template <class Error, class Read>
void expect_only(const char* target, Read&& read) {
  try {
    read();
  } catch (const Error&) {
  } catch (const std::exception& e) {
    finding(target, &e);
  } catch (...) {
    finding(target, nullptr);
  }
}

}  // namespace aimc::fuzz
