#include "fw_run_job.h"

#include <cstdio>
#include <iostream>
#include <sstream>

#include <nlohmann/json.hpp>
#include <systemc>

#include "chip/checkpoint.h"
#include "cpu/gdb_server.h"
#include "cpu/rv32_core.h"
#include "fw_monitor.h"
#include "io/atomic_file.h"
#include "session.h"
#include "sim/accounting.h"

namespace aimc::app {

namespace {

// The command line semihosting hands the firmware: one string, words split at spaces; a word that
// is empty or holds a space, a quote or a backslash is quoted ("...", with \" and \\), as the
// kit's main() reads it (firmware_stubs/riscv/aimc_rv_main.c).
std::string command_line(const FwRunOptions& opt) {
  std::string line;
  std::vector<std::string> argv = {opt.elf_path};
  argv.insert(argv.end(), opt.args.begin(), opt.args.end());
  for (const std::string& a : argv) {
    if (a.find_first_of("\n\r") != std::string::npos)
      throw UserError("firmware argument '" + a + "': a line break cannot pass through semihosting");
    if (!line.empty()) line += ' ';
    if (!a.empty() && a.find_first_of(" \t\"\\") == std::string::npos) {
      line += a;
      continue;
    }
    line += '"';
    for (char c : a) {
      if (c == '"' || c == '\\') line += '\\';
      line += c;
    }
    line += '"';
  }
  return line;
}

}  // namespace

int fw_run_job(const FwRunOptions& opt) {
  const std::string cmdline = command_line(opt);
  io::check_writable(opt.report_path, "--report");
  io::check_writable(opt.gdb_port_file, "--gdb-port-file");
  io::check_writable(opt.checkpoint_path, "--checkpoint");
  if (!opt.gdb_port_file.empty() && !opt.gdb_port)
    throw UserError("--gdb-port-file: only with --gdb PORT");
  if (opt.gdb_port && (*opt.gdb_port < 0 || *opt.gdb_port > 65535))
    throw UserError("--gdb: port " + std::to_string(*opt.gdb_port) + " is outside 0..65535");
  Session session(Session::Options{opt.platform_path, opt.overrides, opt.trace_path,
                                   opt.trace_format, opt.trace_registers});
  const config::PlatformConfig& cfg = session.config();
  const std::string bad = cpu::check_cpu_config(cfg.cpu);
  if (!bad.empty()) throw UserError(bad);
  cpu::ElfImage image;
  try {
    image = cpu::read_elf(opt.elf_path, cpu::core_memories(cfg.cpu));
  } catch (const cpu::ElfError& e) {
    throw UserError(e.what());
  }
  session.set_trace_metadata("platform", cfg.name);
  session.set_trace_metadata("firmware", opt.elf_path);

  chip::Chip& chip = session.build_chip(chip::HostCpu::external);
  nlohmann::json restored;
  if (!opt.restore_path.empty()) {
    try {  // the firmware programmed the tiles, so no model can be checked: any is accepted
      restored = chip::restore_checkpoint(opt.restore_path, chip, "");
    } catch (const chip::CheckpointError& e) {
      throw UserError(std::string("--restore: ") + e.what());
    }
  }
  // The die's temperature, and --at added to the age of every programmed (or restored) cell.
  if (opt.temp_c || opt.at_s > 0)
    chip.set_environment(opt.temp_c.value_or(cfg.tile.device.t_ref_c), opt.at_s);
  // The core binds the chip's public interface only (chip.h), as a user's own platform would.
  cpu::Rv32Core core("rv32", cfg.cpu, session.ledger(), session.trace().sink());
  core.chip_regs.bind(chip.register_socket());
  chip.dma_socket().bind(core.dma_target);
  for (int n = 0; n < chip::Chip::kIrqSources; ++n) core.irq_in[n].bind(chip.irq_source(n));
  core.load(image, cmdline);

  FwMonitor monitor(chip, session.ledger(), core);
  std::unique_ptr<cpu::GdbServer> gdb;
  if (opt.gdb_port) {
    try {
      gdb = std::make_unique<cpu::GdbServer>(
          core, static_cast<uint16_t>(*opt.gdb_port), [&monitor](const std::string& line) { return monitor.run(line); },
          std::cerr);
    } catch (const std::runtime_error& e) {
      throw UserError(std::string("--gdb: ") + e.what());
    }
    if (!opt.gdb_port_file.empty()) {
      try {
        io::write_file_atomically(opt.gdb_port_file, std::to_string(gdb->port()) + "\n", io::Folders::create);
      } catch (const std::exception& e) {
        throw UserError(std::string("--gdb-port-file: ") + e.what());
      }
    }
    std::cerr << "aimc fw run: gdb: waiting for a connection on 127.0.0.1:" << gdb->port() << "\n" << std::flush;
    core.attach_debugger(gdb.get());
  }

  sc_core::sc_start();
  std::fflush(stdout);
  const uint64_t t_end_ps = sim::to_ps(sc_core::sc_time_stamp());
  session.ledger().advance(t_end_ps);

  int rc = core.finished() ? core.exit_code() : 1;
  std::string problem = core.fault();
  if (!core.finished())
    problem = core.asleep()
                  ? "the firmware sleeps in wfi (at " + image.describe(core.pc()) +
                        ") and nothing can wake it: no enabled interrupt can become pending"
                  : "the simulation ended before the firmware did (at " + image.describe(core.pc()) + ")";
  if (!problem.empty()) std::cerr << "aimc fw run: " << problem << "\n";
  if (gdb && !core.finished()) gdb->abandon(problem);
  if (!chip.sequencer().last_problem().empty())
    std::cerr << "aimc fw run: the sequencer refused the last program: "
              << chip.sequencer().last_problem() << "\n";

  // The array state at the end, whatever the firmware did (a chip it did not program saves as
  // such); model fingerprint "": the VP does not know which image the firmware programmed.
  std::string checkpoint_error;
  if (!opt.checkpoint_path.empty()) {
    try {
      chip::save_checkpoint(opt.checkpoint_path, chip, "");
    } catch (const std::exception& e) {
      checkpoint_error = e.what();
      std::cerr << "aimc fw run: --checkpoint: " << checkpoint_error << "\n";
      if (rc == 0) rc = 1;
    }
  }

  const cpu::CoreStats st = core.stats();
  sim::EnergyLedger& ledger = session.ledger();
  const int c_cpu = ledger.component("cpu");
  const double time_ns = t_end_ps / 1000.0;
  if (!opt.quiet) {
    std::ostringstream s;
    s.setf(std::ios::fixed);
    s.precision(1);
    s << "aimc fw run: " << cfg.name << ": firmware " << (problem.empty() ? "exited with " : "ended, code ")
      << rc << "; simulated " << time_ns << " ns; " << st.instructions << " instructions, asleep "
      << st.sleep_ps / 1000.0 << " ns; energy ";
    s.precision(3);
    s << ledger.total_j() * 1e9 << " nJ (cpu " << ledger.component_j(c_cpu) * 1e9 << " nJ)\n";
    std::cerr << s.str();
  }

  const std::string trace_error = session.write_trace();
  if (!trace_error.empty()) {
    std::cerr << "aimc fw run: " << trace_error << "\n";
    if (rc == 0) rc = 1;
  }
  if (!opt.report_path.empty()) {
    nlohmann::json r = report_header(cfg, opt.platform_path, opt.overrides);
    r["firmware"] = {{"elf", opt.elf_path},
                     {"command_line", cmdline},
                     {"finished", core.finished()},
                     {"exit_code", rc},
                     {"fault", problem}};
    r["cpu"] = {{"instructions", st.instructions},
                {"cycles", st.cycles},
                {"sleep_ns", st.sleep_ps / 1000.0},
                {"chip_accesses", st.chip_accesses},
                {"interrupts", st.interrupts},
                {"exceptions", st.exceptions},
                {"handler_ns", st.handler_ps / 1000.0},
                {"handler_exits", st.handler_exits},
                {"semihost_calls", st.semihost_calls},
                {"clock_mhz", cfg.cpu.clock_mhz},
                {"cpi", cfg.cpu.cpi}};
    r["conditions"] = {{"temp_c", chip.temperature_c()},
                       {"at_s", opt.at_s},
                       {"restored_from", opt.restore_path}};
    if (!opt.restore_path.empty()) r["conditions"]["restored_header"] = restored;
    if (!opt.checkpoint_path.empty() && checkpoint_error.empty())
      r["checkpoint_file"] = opt.checkpoint_path;
    r["time_ns"] = time_ns;
    r["energy_j"] = {{"total", ledger.total_j()}, {"ledger", ledger.to_json()}};
    r["units"] = "time_ns, sleep_ns, handler_ns in ns; energy_j in J; clock_mhz in MHz; temp_c in C; at_s in s";
    try {
      io::write_file_atomically(opt.report_path, r.dump(2) + "\n", io::Folders::create);
    } catch (const std::exception& e) {
      std::cerr << "aimc fw run: --report: " << e.what() << "\n";
      if (rc == 0) rc = 1;
    }
  }
  return rc;
}

}  // namespace aimc::app
