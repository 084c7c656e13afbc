#include "session.h"

#include <systemc>

#include "config/memory_estimate.h"
#include "io/atomic_file.h"
#include "sim/accounting.h"

namespace aimc::app {

namespace {

// The trace store's bound (events) and what one event takes with its arguments, about.
constexpr uint64_t kMaxTraceEvents = 4'000'000;
constexpr uint64_t kTraceBytesPerEvent = 64;

// Refuses, before anything is elaborated, a platform that needs more memory than the limit.
void check_memory(const config::PlatformConfig& cfg, uint64_t host_memory_bytes, bool tracing) {
  config::MemoryEstimate e = config::estimate_memory(cfg, host_memory_bytes);
  if (tracing) config::add_part(e, "--trace", kMaxTraceEvents * kTraceBytesPerEvent);
  config::MemoryLimit limit;
  try {
    limit = config::machine_memory_limit();
  } catch (const config::ConfigError& err) {
    throw UserError(err.what());
  }
  const std::string refusal = config::memory_refusal(cfg, e, limit);
  if (!refusal.empty()) throw UserError(refusal);
}

}  // namespace

config::PlatformConfig load_platform_or_fail(const std::string& path,
                                             const std::vector<std::string>& overrides) {
  try {
    return config::load_platform(path, overrides);
  } catch (const config::ConfigError& e) {
    throw UserError(e.what());
  }
}

nlohmann::json report_header(const config::PlatformConfig& cfg, const std::string& platform_path,
                             const std::vector<std::string>& overrides) {
  nlohmann::json r;
  r["platform"] = cfg.name;
  r["platform_file"] = platform_path;
  r["overrides"] = overrides;
  r["seed"] = cfg.simulation.seed;
  return r;
}

sim::TraceRecording make_trace_recording(const std::string& path, const std::string& format) {
  if (path.empty() && !format.empty()) throw UserError("--trace-format needs --trace FILE");
  try {
    sim::TraceRecording recording(path, format, kMaxTraceEvents);  // ~0.26 GB at most (check_memory)
    io::check_writable(path, "--trace");  // refused now, not after the simulation
    return recording;
  } catch (const sim::TraceFormatError& e) {
    throw UserError(e.what());
  } catch (const io::OutputError& e) {
    throw UserError(e.what());
  }
}

Session::Session(const Options& opt)
    : trace_(make_trace_recording(opt.trace_path, opt.trace_format)),
      cfg_(load_platform_or_fail(opt.platform_path, opt.overrides)),
      trace_registers_(opt.trace_registers) {
  if (opt.trace_registers && opt.trace_path.empty())
    throw UserError("--trace-registers needs --trace FILE");
  check_memory(cfg_, kDefaultHostMemoryBytes, trace_.on());
}

void Session::set_trace_metadata(const std::string& key, const std::string& value) {
  if (trace_.on()) trace_.store()->set_metadata(key, value);
}

chip::Chip& Session::build_chip(chip::HostCpu host_cpu, uint64_t host_memory_bytes) {
  if (chip_) throw std::logic_error("Session::build_chip: the chip is already elaborated");
  chip_ = std::make_unique<chip::Chip>(cfg_, ledger_, trace_.sink(), host_memory_bytes, host_cpu);
  chip_->host().set_trace_registers(trace_registers_);
  return *chip_;
}

chip::Chip& Session::chip() {
  if (!chip_) throw std::logic_error("Session::chip: build_chip() first");
  return *chip_;
}

uint64_t Session::run(std::function<void(aimc_hal_t)> firmware) {
  chip().cpu().set_entry(std::move(firmware));
  sc_core::sc_start();
  chip().cpu().rethrow_failure();
  return sim::to_ps(sc_core::sc_time_stamp());
}

std::string Session::write_trace() {
  if (!trace_.on()) return "";
  try {
    trace_.write();
  } catch (const std::exception& e) {
    return std::string("--trace: ") + e.what();
  }
  return "";
}

}  // namespace aimc::app
