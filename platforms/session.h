// One simulation session, built the same way by every front end (`aimc run`, `aimc serve`, the
// in-VP firmware runner): the platform configuration, the trace recording, the energy ledger and
// the chip, and one run of firmware on the chip's host CPU. Front ends add what is theirs (the
// compile and the report of `aimc run`, the socket of `aimc serve`, the argv of a firmware).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "aimc_hal.h"
#include "chip/chip.h"
#include "config/platform_config.h"
#include "sim/energy_ledger.h"
#include "sim/trace_writers.h"

namespace aimc::app {

// Thrown for anything the user can fix (bad file, bad option); the message says what and where.
struct UserError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// The platform YAML with overrides; a ConfigError becomes a UserError (same message).
config::PlatformConfig load_platform_or_fail(const std::string& path,
                                             const std::vector<std::string>& overrides);
// The trace of a run (--trace PATH, --trace-format NAME): a store and the writer chosen by NAME or
// by PATH's extension, or the disabled sink when PATH is "". Throws UserError, listing the
// formats, for an unknown format or extension, and for a format without a path; and, naming the
// path, for a PATH that cannot be written (io::check_writable), before anything runs.
sim::TraceRecording make_trace_recording(const std::string& path, const std::string& format);

// The fields every front end's JSON report starts with: platform, platform_file, overrides, seed.
nlohmann::json report_header(const config::PlatformConfig& cfg, const std::string& platform_path,
                             const std::vector<std::string>& overrides);

// The host memory (DMA-visible) of the chip every front end builds: 64 MiB.
inline constexpr uint64_t kDefaultHostMemoryBytes = 64ull << 20;

class Session {
 public:
  struct Options {
    std::string platform_path;
    std::vector<std::string> overrides;  // --set key=value (and the front end's own, e.g. the seed)
    std::string trace_path;              // "" = tracing off
    std::string trace_format;            // "" = by the file's extension
    bool trace_registers = false;        // mark every register access on the host track
  };

  // Opens the trace recording first, so that a bad format is refused before anything else, then
  // loads the platform and checks that the machine has the memory it needs
  // (config::estimate_memory against config::machine_memory_limit: MemAvailable, or
  // AIMC_MEMORY_LIMIT_MB). Throws UserError. The chip is elaborated by build_chip().
  explicit Session(const Options& options);
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  const config::PlatformConfig& config() const { return cfg_; }
  sim::EnergyLedger& ledger() { return ledger_; }
  sim::TraceRecording& trace() { return trace_; }
  // Adds an entry to the trace's metadata (platform, firmware, ...) when recording.
  void set_trace_metadata(const std::string& key, const std::string& value);

  // Elaborates the chip from the configuration (once: one SystemC elaboration per process). With
  // chip::HostCpu::external the caller binds its own core to chip().host().regs (aimc fw run), and
  // host_memory_bytes is that core's RAM.
  chip::Chip& build_chip(chip::HostCpu host_cpu = chip::HostCpu::in_process,
                         uint64_t host_memory_bytes = kDefaultHostMemoryBytes);
  chip::Chip& chip();  // std::logic_error before build_chip()

  // Runs the simulation with `firmware` as the host CPU's program until nothing is left to
  // simulate; returns the simulated time then (ps). The front end brings the ledger's static
  // energy up to the end it reports (ledger().advance): `aimc run` ends where its firmware
  // finished, the others where the simulation stopped.
  uint64_t run(std::function<void(aimc_hal_t)> firmware);

  // Writes the trace file when recording; "" on success (or when off), else the error, naming
  // the path.
  std::string write_trace();

 private:
  sim::TraceRecording trace_;
  config::PlatformConfig cfg_;
  sim::EnergyLedger ledger_;
  bool trace_registers_;
  std::unique_ptr<chip::Chip> chip_;
};

}  // namespace aimc::app
