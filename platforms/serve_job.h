// The job of `aimc serve`: build the chip from a platform config and serve its HAL on a local
// socket to firmware in another process (model/chip/remote_server.h, docs/remote-protocol.md).
#pragma once

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
};

// Runs the server in this process (one SystemC elaboration per process) until the session ends
// (--once) or a client sends SHUTDOWN, then prints a summary on stderr (simulated time, energy by
// phase and component) and writes the trace. Returns the exit code: 0, or 1 when the trace
// cannot be written. Throws UserError (run_job.h) for a bad platform or listen address.
int serve_job(const ServeOptions& options);

}  // namespace aimc::app
