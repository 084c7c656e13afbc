// Serves the chip's HAL on a local socket, so that firmware in another process (under a debugger,
// or written in another language) reads and writes registers, moves DMA data and waits for
// interrupts. Protocol: docs/remote-protocol.md (constants in firmware_stubs/include/
// aimc_hal_remote.h, shared with the C client).
//
// serve() is meant to be the FirmwareHost's entry: every request is carried out through the
// in-process HAL from inside the firmware thread, so simulated time advances only as the
// client's requests make it (register reads sync the quantum keeper, WAIT_IRQ waits). Socket
// reads block the whole simulation, which is what we want: the chip is frozen while the client
// thinks, as it would be with the CPU halted in a debugger.
//
// One client at a time; others wait in the listen queue. Misuse by a client is an answer or a
// closed connection, never a crash of the VP.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <ostream>
#include <stdexcept>
#include <string>
#include <vector>

#include "aimc_hal.h"

namespace aimc::chip {

// A listen address that cannot be used (malformed, not loopback, bind failed); the message says
// which and why.
struct RemoteAddressError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class RemoteServer {
 public:
  struct Options {
    bool once = false;     // serve one client, then return; else until a client sends SHUTDOWN
    bool verbose = false;  // log every request to `log`
    std::ostream* log = nullptr;  // connections, protocol errors; nullptr = std::cerr
    std::string name = "aimc serve";  // prefix of log lines
    // Called in the serving SystemC thread when a client connected, before its first request:
    // `aimc serve` puts the chip in its reset state here (HostInterface::full_reset).
    std::function<void()> session_start;
  };
  struct Stats {
    uint64_t sessions = 0;
    uint64_t requests = 0;
    uint64_t bytes_to_device = 0;    // DMA_WRITE payload bytes
    uint64_t bytes_from_device = 0;  // DMA_READ payload bytes
    uint64_t errors = 0;             // requests answered with a protocol error
    uint64_t dropped = 0;            // sessions closed by the server for a protocol violation
    bool shutdown = false;           // a client sent SHUTDOWN
  };

  // address: "unix:/path/to.sock" or "tcp:HOST:PORT" with a loopback HOST (127.x.y.z, localhost,
  // ::1 or [::1]); PORT 0 picks a free port (see address()). Listens at once, so that clients may
  // connect before the simulation starts. A stale Unix socket file is replaced; any other file at
  // the path is refused. Throws RemoteAddressError.
  RemoteServer(const std::string& address, Options options);
  ~RemoteServer();  // closes the socket; removes the Unix socket file it created
  RemoteServer(const RemoteServer&) = delete;
  RemoteServer& operator=(const RemoteServer&) = delete;

  // Accepts clients and serves them through `hal`; returns after one session with `once`, else
  // when a client sends SHUTDOWN (or accept fails for good).
  void serve(aimc_hal_t hal);

  // The address actually listened on (a tcp port 0 resolved to the port the system chose).
  const std::string& address() const { return address_; }
  const Stats& stats() const { return stats_; }

 private:
  enum class End { bye, shutdown, disconnected, dropped };
  struct Session;
  struct Runner;  // one session's request loop and handlers (remote_server.cpp)

  End run_session(int fd, aimc_hal_t hal, Session& s);
  std::ostream& log();

  Options opt_;
  std::string address_;
  std::string unix_path_;  // non-empty when we created a Unix socket file
  int listen_fd_ = -1;
  Stats stats_;
};

}  // namespace aimc::chip
