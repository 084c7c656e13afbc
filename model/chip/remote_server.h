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
    // Called in the serving SystemC thread before each client is accepted: `aimc serve` lets what
    // the previous client left running finish and puts the chip in its reset state here
    // (HostInterface::full_reset). The callback calls `answer_waiting` now and then while it
    // waits: a client that connects meanwhile is answered busy (E_BUSY) rather than left in
    // silence.
    std::function<void(const std::function<void()>& answer_waiting)> session_start;
    bool allow_shutdown = false;  // SHUTDOWN ends the server; else refused (E_REFUSED)
    // A request begun must arrive whole, and an answer be taken, within frame_timeout_s; a
    // session with no request for idle_timeout_s is closed (0: never). Clients that connect
    // meanwhile get E_BUSY in answer to their HELLO.
    double frame_timeout_s = 10.0;
    double idle_timeout_s = 600.0;
    // A shared secret (1 .. AIMC_REMOTE_MAX_SECRET bytes) every client must present in its HELLO;
    // empty: none. Listening on an address that is not loopback needs allow_any_address and one.
    std::string secret;
    bool allow_any_address = false;
    // Asked every kStopPollMs while the server waits for a client or for a request: when it says
    // true, the client being served (if any) is disconnected, at a request boundary, and serve()
    // returns (`aimc serve` on SIGINT/SIGTERM, so that it still writes its outputs). Empty: never.
    std::function<bool()> stop_requested;
  };
  static constexpr int kStopPollMs = 100;
  struct Stats {
    uint64_t sessions = 0;
    uint64_t requests = 0;
    uint64_t bytes_to_device = 0;    // DMA_WRITE payload bytes
    uint64_t bytes_from_device = 0;  // DMA_READ payload bytes
    uint64_t errors = 0;             // requests answered with a protocol error
    uint64_t dropped = 0;            // sessions closed by the server (protocol violation, timeout)
    uint64_t busy = 0;               // clients answered E_BUSY while another was served
    bool shutdown = false;           // a client sent SHUTDOWN
    bool stopped = false;            // Options::stop_requested ended serving
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
  // when a client sends SHUTDOWN, when Options::stop_requested says so, or when accept fails for
  // good.
  void serve(aimc_hal_t hal);

  // The address actually listened on (a tcp port 0 resolved to the port the system chose).
  const std::string& address() const { return address_; }
  const Stats& stats() const { return stats_; }

 private:
  enum class End { bye, shutdown, disconnected, dropped, stopped };
  enum class Wait { request, idle, stop };
  struct Session;
  struct Runner;  // one session's request loop and handlers (remote_server.cpp)

  End run_session(int fd, aimc_hal_t hal, Session& s);
  // Waits until the client on fd has a request, stayed idle for idle_timeout_s, or a stop was
  // requested; meanwhile every client that connects is answered E_BUSY.
  Wait wait_for_request(int fd, uint64_t serving);
  // Waits until a client connects (true) or a stop was requested (false).
  bool wait_for_client();
  bool stopping() const { return opt_.stop_requested && opt_.stop_requested(); }
  void answer_busy(uint64_t serving);
  // Reads exactly n bytes of a request within frame_timeout_s, answering clients that connect
  // meanwhile: 1 done; 0 clean end before the first byte; -1 error or end in the middle; -2 the
  // frame timeout passed.
  int read_frame(int fd, void* data, size_t n, uint64_t serving);
  std::ostream& log();

  Options opt_;
  std::string address_;
  std::string unix_path_;  // non-empty when we created a Unix socket file
  int listen_fd_ = -1;
  Stats stats_;
};

}  // namespace aimc::chip
