// The job of `aimc serve`: build the chip from a platform config and serve its HAL on a local
// socket to firmware in another process (model/chip/remote_server.h, docs/remote-protocol.md).
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace aimc::app {

struct ServeOptions {
  std::string listen;                  // unix:/path/to.sock or tcp:127.0.0.1:PORT
  std::string platform_path;
  std::vector<std::string> overrides;  // --set key=value
  std::string trace_path;              // "" = tracing off
  std::string trace_format;            // --trace-format; "" = by the file's extension
  bool trace_registers = false;
  bool once = false;                   // serve one client, then end
  bool verbose = false;                // log every request
  bool allow_shutdown = false;         // a client's SHUTDOWN ends the server
  double frame_timeout_s = 10.0;       // a begun request must arrive whole within this
  double idle_timeout_s = 600.0;       // a client silent this long is dropped (0: never)
  std::string secret_file;             // its first line: the secret every HELLO must carry
  bool allow_any_address = false;      // --listen may name an address that is not loopback
  // The die, as aimc run sets it: the temperature (default tile.device.t_ref_c), time added to
  // the age of the cells a restored chip holds, a checkpoint to start from and one to save at the
  // end (docs/checkpoint.md).
  std::optional<double> temp_c;
  double at_s = 0;
  std::string restore_path, checkpoint_path;
};

// Every session starts from the same chip: registers at their reset values (CTRL.FULL_RESET),
// the cells as the previous session left them, and with --restore the checkpoint's tile
// calibration (TRIM, CAL_REF, GAIN) put back.
// Runs the server in this process (one SystemC elaboration per process) until the session ends
// (--once), a client sends SHUTDOWN or SIGINT/SIGTERM stops it (stop_request.h: the client being
// served is disconnected at a request boundary), then prints a summary on stderr (simulated time,
// energy by phase and component), saves the checkpoint and writes the trace. Returns the exit
// code: 0; 128 + the signal when stopped by one; else 1 when the trace or checkpoint cannot be
// written. Throws UserError (run_job.h) for a bad platform or listen address.
int serve_job(const ServeOptions& options);

}  // namespace aimc::app
