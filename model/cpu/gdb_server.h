// The GDB stub of the RV32 core (`aimc fw run FIRMWARE.elf --gdb PORT`; docs/firmware.md,
// "Debugging with GDB"): a TCP listener on 127.0.0.1 only, one GDB session per run.
//
// The core calls it from its SystemC thread (CoreDebugger): before the first instruction it waits
// for GDB to connect, and whenever the core halts it serves GDB's packets (gdb_rsp.h) until GDB
// resumes the core, with the thread blocked, so simulated time stands still. While the core runs,
// GDB's Ctrl-C is looked for at the core's synchronisation points (at most every kPollEvery of
// host time). When GDB detaches or the connection closes, the firmware runs on to its end with no
// debugger; `kill` ends the run (exit code 137). The firmware's exit is reported to GDB (W), a
// fault shown as a stop with a signal (SIGSEGV, SIGILL, SIGBUS, ...) and then reported (X).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <ostream>
#include <string>

#include "cpu/core_debug.h"
#include "cpu/gdb_rsp.h"

namespace aimc::cpu {

class Rv32Core;

class GdbServer : public CoreDebugger, private rsp::Target {
 public:
  // A `monitor` command line -> its console output.
  using Monitor = std::function<std::string(const std::string&)>;
  // Listens on 127.0.0.1:port (0: a free port the system picks). Throws std::runtime_error
  // naming the port when it cannot. Messages ("gdb: connected", ...) go to `log`.
  GdbServer(Rv32Core& core, uint16_t port, Monitor monitor, std::ostream& log);
  ~GdbServer() override;
  GdbServer(const GdbServer&) = delete;
  GdbServer& operator=(const GdbServer&) = delete;

  uint16_t port() const { return port_; }
  bool connected() const { return link_ != nullptr; }
  // The run ended without the core saying so (it sleeps in wfi and nothing can wake it): tells
  // GDB (the reason as console output, then an exit with code 1) and closes.
  void abandon(const std::string& why);

  // CoreDebugger.
  DebugResume halted(const DebugStop& why) override;
  bool interrupt_requested() override;
  void ended(const DebugStop& why) override;

  // Ctrl-C is looked for at most this often: well under the ~100 ms a person notices, and a
  // clock read per synchronisation point otherwise (a 140 M-instruction loop ran as fast attached).
  static constexpr std::chrono::milliseconds kPollEvery{20};
  // Bounds on what GDB may insert (each is a Unicorn hook; GDB inserts a handful): a limit, not a
  // model parameter.
  static constexpr int kMaxBreakpoints = 256, kMaxWatchpoints = 32;

 private:
  // rsp::Target.
  std::optional<uint32_t> read_register(int regno) override;
  bool write_register(int regno, uint32_t value) override;
  size_t read_memory(uint32_t addr, uint8_t* dst, size_t len) override;
  bool write_memory(uint32_t addr, const uint8_t* src, size_t len) override;
  std::string insert_point(rsp::PointKind kind, uint32_t addr, uint32_t length) override;
  bool remove_point(rsp::PointKind kind, uint32_t addr, uint32_t length) override;
  std::string monitor(const std::string& command) override;

  bool accept_connection();
  void close_connection(const char* why);
  void console(const std::string& text);  // an O packet (only while GDB waits for a stop)

  class Socket;
  Rv32Core& core_;
  Monitor monitor_;
  std::ostream& log_;
  int listen_fd_ = -1;
  uint16_t port_ = 0;
  std::unique_ptr<Socket> socket_;
  std::unique_ptr<rsp::Session> session_;
  std::unique_ptr<rsp::Link> link_;
  bool session_over_ = false;  // connected once and then closed: never again
  std::chrono::steady_clock::time_point last_poll_{};
  int breakpoints_ = 0, watchpoints_ = 0;
};

}  // namespace aimc::cpu
