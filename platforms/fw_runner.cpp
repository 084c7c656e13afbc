// The in-VP firmware runner (library aimc_fw_runner): main() and sc_main() for a firmware program
// that defines aimc_fw_main (firmware_stubs/include/aimc_fw.h). It builds the chip from a platform
// YAML, runs the firmware on the chip's host CPU thread with the in-process HAL, and exits with the
// firmware's return value.
//
//   <firmware> [--platform FILE] [--set KEY=VALUE]... [--trace FILE] [--trace-format NAME]
//              [--trace-registers] [--report FILE] [-q] [--] [firmware args...]
//
// Runner options are recognized only at the start of the command line; the first other argument,
// or `--`, ends them, and everything from there on goes to the firmware (argv[0] is the program).
// Exit codes: the firmware's return value; 2 for a bad runner option or platform; 1 when the
// simulation fails (a model error, or the firmware did not finish).
// Without --platform the bundled preset of the data folder (data_dir.h) is used: the firmware may
// be built anywhere, so the folder is found at run time, never compiled in.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <systemc>

#include "aimc_fw.h"
#include "chip/chip.h"
#include "config/platform_config.h"
#include "data_dir.h"
#include "io/atomic_file.h"
#include "session.h"
#include "sim/accounting.h"
#include "sim/energy_ledger.h"
#include "sim/trace_writers.h"

namespace {

struct RunnerOptions {
  std::string platform;  // empty: the bundled preset in the data folder (data_dir.h)
  std::vector<std::string> overrides;
  std::string trace_path;
  std::string trace_format;  // "" = by the file's extension
  bool trace_registers = false;
  std::string report_path;
  bool quiet = false;
  std::vector<std::string> firmware_args;  // argv[0] first
};

struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

void print_usage(const char* prog, const aimc::app::DataDir& data, std::ostream& out) {
  const std::string default_platform =
      data.found() ? data.file(aimc::app::kDefaultPlatformRel)
                   : std::string("the bundled membrain-3x4.yaml, but the data folder was not found");
  out << "usage: " << prog
      << " [--platform FILE] [--set KEY=VALUE]... [--trace FILE] [--trace-format NAME]\n"
         "       [--trace-registers] [--report FILE] [-q] [--] [firmware args...]\n"
         "Runs this firmware on the aimc virtual platform, in process.\n"
         "  --platform FILE     platform YAML (default: "
      << default_platform << ")\n"
         "  --set KEY=VALUE     override a platform parameter (repeatable; docs/platform-config.md)\n"
         "  --trace FILE        write a trace of the run, in the format the extension names:\n"
         "                      "
      << aimc::sim::trace_format_list()
      << "\n"
         "  --trace-format NAME with --trace: this format whatever the extension\n"
         "  --trace-registers   with --trace: mark every register access on the host track\n"
         "  --report FILE       write a JSON report (time, energy ledger, exit code)\n"
         "  -q, --quiet         no summary on stderr\n"
         "  --                  end of runner options; the rest goes to the firmware\n"
         "Runner options are read only at the start of the command line; the first other\n"
         "argument ends them. Exit code: the firmware's; 2 for bad options; 1 if the simulation "
         "failed.\n"
      << aimc::app::describe_data_dir(data);
}

// Parses the leading runner options. Returns false when --help was asked for.
bool parse(int argc, char** argv, RunnerOptions& opt) {
  opt.firmware_args.push_back(argc > 0 ? argv[0] : "firmware");
  int i = 1;
  auto value = [&](const std::string& arg, const std::string& name, std::string& out) -> bool {
    if (arg == name) {
      if (i + 1 >= argc) throw UsageError(name + " needs a value");
      out = argv[++i];
      return true;
    }
    if (arg.rfind(name + "=", 0) == 0) {
      out = arg.substr(name.size() + 1);
      return true;
    }
    return false;
  };
  for (; i < argc; ++i) {
    const std::string a = argv[i];
    std::string v;
    if (a == "--") {
      ++i;
      break;
    }
    if (a == "--help" || a == "-h") return false;
    if (value(a, "--platform", v)) {
      if (v.empty()) throw UsageError("--platform: empty file name");
      opt.platform = v;
    } else if (value(a, "--set", v)) {
      if (v.find('=') == std::string::npos || v.front() == '=')
        throw UsageError("--set '" + v + "': expected KEY=VALUE");
      opt.overrides.push_back(v);
    } else if (value(a, "--trace", v)) {
      if (v.empty()) throw UsageError("--trace: empty file name");
      opt.trace_path = v;
    } else if (value(a, "--trace-format", v)) {
      opt.trace_format = v;
    } else if (a == "--trace-registers") {
      opt.trace_registers = true;
    } else if (value(a, "--report", v)) {
      if (v.empty()) throw UsageError("--report: empty file name");
      opt.report_path = v;
    } else if (a == "-q" || a == "--quiet") {
      opt.quiet = true;
    } else {
      break;  // the firmware's arguments start here
    }
  }
  for (; i < argc; ++i) opt.firmware_args.emplace_back(argv[i]);
  if (opt.trace_registers && opt.trace_path.empty())
    throw UsageError("--trace-registers needs --trace FILE");
  if (!opt.trace_format.empty() && opt.trace_path.empty())
    throw UsageError("--trace-format needs --trace FILE");
  if (!opt.trace_path.empty()) {
    try {
      aimc::sim::choose_trace_format(opt.trace_path, opt.trace_format);
    } catch (const aimc::sim::TraceFormatError& e) {
      throw UsageError(e.what());
    }
  }
  return true;
}

void write_text(const std::string& path, const std::string& text) {
  aimc::io::write_file_atomically(path, text, aimc::io::Folders::create);
}

}  // namespace

int sc_main(int argc, char** argv) {
  const std::string prog_name =
      argc > 0 ? std::filesystem::path(argv[0]).filename().string() : std::string("firmware");
  const char* prog = prog_name.c_str();
  RunnerOptions opt;
  const aimc::app::DataDir data = aimc::app::locate_data_dir(argc > 0 ? argv[0] : nullptr);
  try {
    if (!parse(argc, argv, opt)) {
      print_usage(prog, data, std::cout);
      return 0;
    }
  } catch (const UsageError& e) {
    std::cerr << prog << ": " << e.what() << " (see " << prog << " --help)\n";
    return 2;
  }
  if (opt.platform.empty()) {
    if (!data.found()) {
      std::cerr << prog << ": no --platform given, and " << data.not_found_message() << "\n";
      return 2;
    }
    opt.platform = data.file(aimc::app::kDefaultPlatformRel);
  }
  try {  // the report's path can be written (the trace's: Session), before anything runs
    aimc::io::check_writable(opt.report_path, "--report");
  } catch (const aimc::io::OutputError& e) {
    std::cerr << prog << ": " << e.what() << "\n";
    return 2;
  }

  int fw_rc = 1;
  bool fw_returned = false;
  uint64_t t_end_ps = 0;
  // The trace format was checked by parse(), before anything runs.
  std::unique_ptr<aimc::app::Session> session;
  try {
    session = std::make_unique<aimc::app::Session>(aimc::app::Session::Options{
        opt.platform, opt.overrides, opt.trace_path, opt.trace_format, opt.trace_registers});
  } catch (const std::exception& e) {  // UserError: the config, or a file that cannot be read
    std::cerr << prog << ": " << e.what() << "\n";
    return 2;
  }
  const aimc::config::PlatformConfig& cfg = session->config();
  aimc::sim::EnergyLedger& ledger = session->ledger();
  session->set_trace_metadata("platform", cfg.name);
  session->set_trace_metadata("firmware", opt.firmware_args.front());
  try {
    session->build_chip();
    // The firmware gets its own argv (C strings it may keep until it returns).
    std::vector<std::string> args = opt.firmware_args;
    std::vector<char*> fw_argv;
    for (auto& s : args) fw_argv.push_back(s.data());
    fw_argv.push_back(nullptr);
    t_end_ps = session->run([&](aimc_hal_t hal) {
      fw_rc = aimc_fw_main(hal, static_cast<int>(args.size()), fw_argv.data());
      fw_returned = true;
    });
    ledger.advance(t_end_ps);
  } catch (const std::exception& e) {
    std::fflush(stdout);
    std::cerr << prog << ": simulation failed: " << e.what() << "\n";
    return 1;
  }
  std::fflush(stdout);

  int rc = fw_returned ? fw_rc : 1;
  // A program the sequencer refused (ERROR_CODE says which code; this says why, in words).
  if (!session->chip().sequencer().last_problem().empty())
    std::cerr << prog << ": the sequencer refused the last program: " << session->chip().sequencer().last_problem()
              << "\n";
  if (!fw_returned)
    std::cerr << prog << ": the simulation ended before the firmware returned (a wait that can "
                 "never be satisfied?)\n";

  const double time_ns = t_end_ps / 1000.0;
  const double energy_nj = ledger.total_j() * 1e9;
  if (!opt.quiet) {
    std::ostringstream s;
    s.setf(std::ios::fixed);
    s.precision(1);
    s << prog << ": " << cfg.name << ": firmware returned " << fw_rc << "; simulated " << time_ns
      << " ns, energy ";
    s.precision(3);
    s << energy_nj << " nJ\n";
    std::cerr << s.str();
  }

  // Output files: a failure to write is reported and makes the exit code non-zero, unless the
  // firmware already failed (its code is the more useful one).
  const std::string trace_error = session->write_trace();
  if (!trace_error.empty()) {
    std::cerr << prog << ": " << trace_error << "\n";
    if (rc == 0) rc = 1;
  }
  if (!opt.report_path.empty()) {
    nlohmann::json r = aimc::app::report_header(cfg, opt.platform, opt.overrides);
    r["firmware"] = {{"argv", opt.firmware_args},
                     {"returned", fw_returned},
                     {"exit_code", fw_rc}};
    r["time_ns"] = time_ns;
    r["energy_j"] = {{"total", ledger.total_j()}, {"ledger", ledger.to_json()}};
    r["units"] = "time_ns in ns; energy_j in J";
    try {
      write_text(opt.report_path, r.dump(2) + "\n");
    } catch (const std::exception& e) {
      std::cerr << prog << ": --report: " << e.what() << "\n";
      if (rc == 0) rc = 1;
    }
  }
  return rc;
}

// Our own entry point, so that SystemC's banner can be silenced before the kernel starts (it is
// printed before sc_main runs); SC_COPYRIGHT_MESSAGE set by the user still wins.
int main(int argc, char** argv) {
  setenv("SC_COPYRIGHT_MESSAGE", "DISABLE", 0);
  return sc_core::sc_elab_and_sim(argc, argv);
}
