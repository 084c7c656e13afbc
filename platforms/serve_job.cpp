#include "serve_job.h"

#include <sys/stat.h>

#include <cstdio>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <memory>
#include <sstream>

#include <systemc>

#include "aimc_hal_remote.h"
#include "chip/checkpoint.h"
#include "chip/chip.h"
#include "chip/remote_server.h"
#include "config/platform_config.h"
#include "io/atomic_file.h"
#include "run_job.h"
#include "stop_request.h"
#include "sim/accounting.h"
#include "sim/energy_ledger.h"
#include "sim/trace_writers.h"

namespace aimc::app {

namespace {

// The first line of a secret file: 1 to AIMC_REMOTE_MAX_SECRET bytes, the file readable by its
// owner only (a secret others can read is none).
std::string read_secret(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode))
    throw UserError("--secret-file " + path + ": not a readable file");
  if (st.st_mode & (S_IRWXG | S_IRWXO))
    throw UserError("--secret-file " + path + ": others may read it (mode " +
                    [&] { char b[8]; std::snprintf(b, sizeof b, "%03o", unsigned(st.st_mode & 0777)); return std::string(b); }() +
                    "); make it owner-only (chmod 600)");
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  if (!line.empty() && line.back() == '\r') line.pop_back();
  if (line.empty() || line.size() > AIMC_REMOTE_MAX_SECRET)
    throw UserError("--secret-file " + path + ": the secret (its first line) must be 1 to " +
                    std::to_string(AIMC_REMOTE_MAX_SECRET) + " bytes");
  return line;
}

}  // namespace

int serve_job(const ServeOptions& opt) {
  Session session({opt.platform_path, opt.overrides, opt.trace_path, opt.trace_format, opt.trace_registers});
  const config::PlatformConfig& cfg = session.config();
  sim::EnergyLedger& ledger = session.ledger();
  session.set_trace_metadata("platform", cfg.name);
  session.set_trace_metadata("firmware", "remote (" + opt.listen + ")");
  io::check_writable(opt.checkpoint_path, "--checkpoint");
  chip::Chip& chip = session.build_chip();
  std::vector<chip::TileCalibration> calibration;  // a restored chip's, put back every session
  if (!opt.restore_path.empty()) {
    try {  // the clients program the tiles: no model to check
      chip::restore_checkpoint(opt.restore_path, chip, "");
    } catch (const chip::CheckpointError& e) {
      throw UserError(std::string("--restore: ") + e.what());
    }
    calibration = chip::tile_calibration(chip);
  }
  if (opt.temp_c || opt.at_s > 0)
    chip.set_environment(opt.temp_c.value_or(cfg.tile.device.t_ref_c), opt.at_s);

  chip::RemoteServer::Options so;
  so.once = opt.once;
  so.verbose = opt.verbose;
  so.allow_shutdown = opt.allow_shutdown;
  so.frame_timeout_s = opt.frame_timeout_s;
  so.idle_timeout_s = opt.idle_timeout_s;
  so.allow_any_address = opt.allow_any_address;
  if (!opt.secret_file.empty()) so.secret = read_secret(opt.secret_file);
  // SIGINT/SIGTERM (with the handlers aimc installs): end at the next request boundary and still
  // write the summary, the checkpoint and the trace.
  so.stop_requested = [] { return stop_requested() != 0; };
  // Every client starts from the same chip: registers, tile gains and trims, power state and
  // counters at their reset values (CTRL.FULL_RESET), once what the previous client left running
  // has finished; the cells keep their weights, and a restored chip its calibration
  // (docs/remote-protocol.md).
  so.session_start = [&session, &calibration](const std::function<void()>& answer_waiting) {
    chip::Chip& c = session.chip();
    c.cpu().sync();
    while (c.host().busy()) {
      sc_core::wait(sc_core::sc_time(1, sc_core::SC_US));
      answer_waiting();  // a client that connects meanwhile hears busy, not silence
    }
    c.host().full_reset(sim::to_ps(sc_core::sc_time_stamp()));
    if (!calibration.empty()) chip::apply_tile_calibration(c, calibration);
  };
  std::unique_ptr<chip::RemoteServer> server;
  try {
    server = std::make_unique<chip::RemoteServer>(opt.listen, so);
  } catch (const chip::RemoteAddressError& e) {
    throw UserError(e.what());
  }
  std::cerr << "aimc serve: " << cfg.name << " listening on " << server->address()
            << (opt.once ? " (one client)"
                : opt.allow_shutdown ? " (until stopped or a client sends SHUTDOWN)"
                                     : " (until stopped)")
            << std::endl;

  const uint64_t t_end_ps = session.run([&](aimc_hal_t hal) { server->serve(hal); });
  ledger.advance(t_end_ps);
  const chip::RemoteServer::Stats st = server->stats();
  server.reset();  // closes the socket and removes a Unix socket file now

  std::ostringstream s;
  s << std::fixed << std::setprecision(3);
  s << "aimc serve: " << st.sessions << " session(s), " << st.requests << " request(s), "
    << st.errors << " refused, " << st.dropped << " client(s) dropped; DMA data "
    << st.bytes_to_device << " B to the VP, " << st.bytes_from_device << " B back\n";
  s << "  simulated time  " << t_end_ps / 1e3 << " ns\n";
  const double total = ledger.total_j();
  s << "  energy          " << total * 1e9 << " nJ (static " << ledger.static_j() * 1e9
    << " nJ)\n";
  for (sim::Phase ph : {sim::Phase::deploy, sim::Phase::infer})
    s << "    phase " << std::left << std::setw(9) << sim::phase_name(ph) << std::right
      << std::setw(14) << ledger.phase_j(ph) * 1e9 << " nJ\n";
  for (int c = 0; c < ledger.component_count(); ++c) {
    const double j = ledger.component_phase_j(c, sim::Phase::deploy) +
                     ledger.component_phase_j(c, sim::Phase::infer);
    if (j > 0)
      s << "    " << std::left << std::setw(15) << ledger.component_name(c) << std::right
        << std::setw(14) << j * 1e9 << " nJ\n";
  }
  s << "  (remote firmware cannot mark phases: everything counts as deploy)\n";
  s << "  die temperature " << chip.temperature_c() << " C\n";

  int rc = 0;
  if (st.stopped) {
    const int signo = stop_requested();
    s << "  stopped by      " << signal_name(signo) << "\n";
    rc = 128 + signo;
  }
  if (!opt.restore_path.empty()) s << "  restored from   " << opt.restore_path << "\n";
  if (!opt.checkpoint_path.empty()) {
    try {  // what the clients left in the arrays
      chip::save_checkpoint(opt.checkpoint_path, chip, "");
      s << "  checkpoint      " << opt.checkpoint_path << "\n";
    } catch (const std::exception& e) {
      s << "aimc serve: --checkpoint: " << e.what() << "\n";
      if (rc == 0) rc = 1;
    }
  }
  std::cerr << s.str();
  if (session.trace().on()) {
    const std::string error = session.write_trace();
    if (error.empty()) {
      std::cerr << "  trace           " << opt.trace_path << "\n";
    } else {
      std::cerr << "aimc serve: " << error << "\n";
      if (rc == 0) rc = 1;
    }
  }
  return rc;
}

}  // namespace aimc::app
