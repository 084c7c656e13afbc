// Semihosting for the RV32 core: the calls of the Arm/RISC-V semihosting specification (v2) that a
// bare-metal C library (picolibc's libsemihost) makes, served on the host. It gives firmware on
// the core its command line (argv), stdio on the VP's terminal, the host's files by path, time, and
// its exit code. Plain C++ (no SystemC): the core passes the operation (a0), the parameter (a1) and
// access to its memory.
//
// Determinism: SYS_CLOCK, SYS_TIME, SYS_ELAPSED count simulated time since the run started, never
// the host's clock. Refused (-1, errno ENOSYS): SYS_SYSTEM, SYS_REMOVE, SYS_RENAME, SYS_TMPNAM,
// SYS_READC from a closed stdin. A pointer outside the core's memory gives -1 with errno EFAULT,
// never a crash; at most kMaxOpenFiles files are open at once.
#pragma once

#include <cstdint>
#include <cstdio>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace aimc::cpu {

// The core's memory as semihosting reads and writes it: false for an address range that is not
// all memory.
class GuestMemory {
 public:
  virtual ~GuestMemory() = default;
  virtual bool read(uint32_t addr, void* dst, uint32_t len) = 0;
  virtual bool write(uint32_t addr, const void* src, uint32_t len) = 0;
};

// Semihosting operation numbers used here.
namespace sh {
inline constexpr uint32_t kOpen = 0x01, kClose = 0x02, kWriteC = 0x03, kWrite0 = 0x04,
                          kWrite = 0x05, kRead = 0x06, kReadC = 0x07, kIsError = 0x08,
                          kIsTty = 0x09, kSeek = 0x0A, kFlen = 0x0C, kTmpnam = 0x0D,
                          kRemove = 0x0E, kRename = 0x0F, kClock = 0x10, kTime = 0x11,
                          kSystem = 0x12, kErrno = 0x13, kGetCmdline = 0x15, kHeapInfo = 0x16,
                          kExit = 0x18, kExitExtended = 0x20, kElapsed = 0x30, kTickFreq = 0x31;
inline constexpr uint32_t kApplicationExit = 0x20026;  // ADP_Stopped_ApplicationExit
}  // namespace sh

struct SemihostResult {
  uint32_t value = 0;  // what goes back in a0
  bool exit = false;   // the firmware asked to end the run
  int exit_code = 0;
};

class Semihost {
 public:
  static constexpr int kMaxOpenFiles = 64;
  // Writes to the console: stream 1 is standard output, 2 standard error.
  using Console = std::function<void(int stream, std::string_view text)>;
  // Simulated time since the run started, in ns.
  using Clock = std::function<uint64_t()>;

  // `command_line`: what SYS_GET_CMDLINE returns (program name and arguments, space-separated).
  Semihost(std::string command_line, Console console, Clock clock);
  ~Semihost();
  Semihost(const Semihost&) = delete;
  Semihost& operator=(const Semihost&) = delete;

  SemihostResult call(uint32_t op, uint32_t param, GuestMemory& mem);

  // The text of an operation for messages ("SYS_OPEN"), or "operation 0x.." when unknown.
  static std::string op_name(uint32_t op);

 private:
  enum class Kind { none, console_in, console_out, console_err, file, features };
  struct Handle {
    Kind kind = Kind::none;
    std::FILE* file = nullptr;
    uint64_t pos = 0;  // for the features file
  };
  uint32_t fail(int err);
  Handle* handle(uint32_t h);
  uint32_t open(uint32_t param, GuestMemory& mem);
  uint32_t write(uint32_t param, GuestMemory& mem);
  uint32_t read(uint32_t param, GuestMemory& mem);
  bool read_words(GuestMemory& mem, uint32_t addr, uint32_t* words, int n);

  std::string cmdline_;
  Console console_;
  Clock clock_;
  std::vector<Handle> handles_;
  int errno_ = 0;
};

}  // namespace aimc::cpu
