// The remote protocol (docs/remote-protocol.md) on a real server session. One chip and one
// RemoteServer (model/chip/remote_server.h) are elaborated once, in a thread of this process that
// runs the simulation with the server as the chip's firmware, exactly as `aimc serve` does (Unix
// socket, SHUTDOWN not allowed, a full chip reset at each session start). Each input is the byte
// stream one client sends on a fresh connection: the harness sends it (then half-closes), reads
// every answer, and checks them against the protocol:
//   - one answer per complete request frame, in order, with a status the request may get, and
//     a payload of the size its op returns on OK (none on an error);
//   - the framing errors exactly as documented: an unknown opcode gets UNKNOWN_OP, a length above
//     the op's limit TOO_LONG, a first request other than HELLO (or a bad HELLO) BAD_HELLO, and the
//     connection is then closed; a wrong payload size BAD_REQUEST with the session going on; BYE
//     OK and a close; a frame cut short by the end of the input no answer and a close;
//   - DMA_FREE, DMA_WRITE and DMA_READ succeed exactly on the buffers the session allocated
//     (BAD_RANGE otherwise), and DMA_ALLOC never hands out a range that overlaps a live buffer;
//   - the server closes the connection when the session ends, within kAnswerSeconds;
//   - then a new session (HELLO, READ32 of the ID register, BYE) is served as usual.
// Bounded work: the input is cut after the frame at which the client has asked for more than
// kWorkBudget bytes of DMA allocations and reads (each 64 MiB DMA_ALLOC zeroes 64 MiB), and the
// chip is a small one (2 tiles of 32 x 32). A crash, sanitizer report, exception escaping the
// server or hang is a finding, as is any answer that breaks the rules above.
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <ostream>
#include <string>
#include <thread>
#include <vector>

#include <sanitizer/lsan_interface.h>
#include <systemc>

#include "aimc_hal_remote.h"
#include "aimc_regs.h"
#include "chip/remote_server.h"
#include "session.h"
#include "sim/accounting.h"

#ifndef AIMC_SOURCE_DIR
#error "AIMC_SOURCE_DIR (the source tree, for the platform preset) must be defined"
#endif

namespace {

constexpr double kAnswerSeconds = 8.0;          // all answers and the close, per session
// How long the next client retries while the server answers busy (draining a long command).
constexpr double kBusySeconds = 120.0;
constexpr uint64_t kWorkBudget = 256ull << 20;  // bytes of DMA_ALLOC + DMA_READ per input
constexpr uint32_t kMaxFixed = 64;              // payload limit of every op but DMA_WRITE
constexpr uint32_t kHostMemory = 64u << 20;     // the chip's host memory (platforms/session.h)

[[noreturn]] void fail(const std::string& what) {
  std::fprintf(stderr, "fuzz_protocol: %s\n", what.c_str());
  std::abort();
}

uint32_t u32(const uint8_t* p) {
  return uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24;
}
void put32(std::vector<uint8_t>& b, uint32_t v) {
  for (int i = 0; i < 4; ++i) b.push_back(static_cast<uint8_t>(v >> (8 * i)));
}

// ---- The server: elaborated once, serving in a thread of its own ----------------------------

struct Server {
  std::string socket_path;
  std::mutex m;
  std::condition_variable cv;
  bool listening = false;
  std::string error;
};
Server* g_server = nullptr;  // never destroyed: the simulation thread serves until the process ends
std::thread* g_simulation = nullptr;

// The server's session state (its buffers, the request being read) lives on the stack of the
// chip's firmware thread, a SystemC coroutine whose stack LeakSanitizer does not scan: libFuzzer's
// leak check after each input would take it for leaked. The region around that stack is made a
// root (unmapped and unreadable pages in it are skipped).
void register_coroutine_stack() {
  static bool done = false;
  if (done) return;
  done = true;
  char here;
  const uintptr_t sp = reinterpret_cast<uintptr_t>(&here);
  constexpr uintptr_t kAround = 1u << 20;
  __lsan_register_root_region(reinterpret_cast<void*>(sp - kAround), 2 * kAround);
}

void remove_socket() {
  if (g_server) ::unlink(g_server->socket_path.c_str());
}

void simulate(Server* srv) {
  try {
    static std::ostream no_log(nullptr);  // the server's log (every refusal) goes nowhere
    auto* session = new aimc::app::Session(
        {std::string(AIMC_SOURCE_DIR) + "/platforms/membrain-3x4.yaml",
         {"grid.rows=1", "grid.cols=2", "tile.array.rows=32", "tile.array.cols=32"},
         "", "", false});
    session->build_chip();
    static aimc::chip::RemoteServer::Options so;  // static: LeakSanitizer does not see this thread's stack
    so.log = std::getenv("AIMC_FUZZ_LOG") ? nullptr : &no_log;  // nullptr: std::cerr
    so.name = "fuzz_protocol server";
    so.frame_timeout_s = 2.0;
    so.idle_timeout_s = 4.0;
    // As `aimc serve` does (platforms/serve_job.cpp): every session starts from the reset chip.
    so.session_start = [session](const std::function<void()>& answer_waiting) {
      register_coroutine_stack();
      aimc::chip::Chip& c = session->chip();
      c.cpu().sync();
      while (c.host().busy()) {
        sc_core::wait(sc_core::sc_time(1, sc_core::SC_US));
        answer_waiting();
      }
      c.host().full_reset(aimc::sim::to_ps(sc_core::sc_time_stamp()));
    };
    auto* server = new aimc::chip::RemoteServer("unix:" + srv->socket_path, so);
    {
      std::lock_guard<std::mutex> lock(srv->m);
      srv->listening = true;
    }
    srv->cv.notify_all();
    session->run([server](aimc_hal_t hal) { server->serve(hal); });
    fail("the server stopped serving (serve() returned)");
  } catch (const std::exception& e) {
    {
      std::lock_guard<std::mutex> lock(srv->m);
      if (!srv->listening) {
        srv->error = e.what();
        srv->listening = true;
        srv->cv.notify_all();
        return;
      }
    }
    fail(std::string("an exception escaped the server: ") + e.what());
  }
}

void start_server() {
  if (g_server) return;
  g_server = new Server;
  g_server->socket_path = "/tmp/aimc-fuzz-protocol-" + std::to_string(::getpid()) + ".sock";
  std::atexit(remove_socket);
  g_simulation = new std::thread(simulate, g_server);  // serves until the process exits
  std::unique_lock<std::mutex> lock(g_server->m);
  g_server->cv.wait(lock, [] { return g_server->listening; });
  if (!g_server->error.empty()) fail("cannot start the server: " + g_server->error);
}

int connect_server() {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  if (fd < 0) fail(std::string("socket: ") + std::strerror(errno));
  sockaddr_un sa{};
  sa.sun_family = AF_UNIX;
  std::snprintf(sa.sun_path, sizeof sa.sun_path, "%s", g_server->socket_path.c_str());
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&sa), sizeof sa) != 0)
    fail(std::string("connect: ") + std::strerror(errno));
  return fd;
}

// Sends `out` (then half-closes) while reading every answer until the server closes the
// connection; fails if that takes longer than kAnswerSeconds.
std::vector<uint8_t> talk(const std::vector<uint8_t>& out, const char* what) {
  const int fd = connect_server();
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(kAnswerSeconds);
  std::vector<uint8_t> in;
  size_t sent = 0;
  bool write_closed = false;
  uint8_t buf[65536];
  for (;;) {
    if (sent == out.size() && !write_closed) {
      ::shutdown(fd, SHUT_WR);
      write_closed = true;
    }
    if (std::chrono::steady_clock::now() > deadline)
      fail(std::string(what) + ": the server neither answered nor closed the connection within " +
           std::to_string(kAnswerSeconds) + " s (" + std::to_string(sent) + " of " +
           std::to_string(out.size()) + " bytes sent, " + std::to_string(in.size()) + " received)");
    pollfd p{fd, static_cast<short>(POLLIN | (write_closed ? 0 : POLLOUT)), 0};
    if (::poll(&p, 1, 100) < 0 && errno != EINTR) fail(std::string("poll: ") + std::strerror(errno));
    if (!write_closed && (p.revents & (POLLOUT | POLLERR | POLLHUP))) {
      const ssize_t n = ::send(fd, out.data() + sent, out.size() - sent, MSG_NOSIGNAL);
      if (n > 0) sent += static_cast<size_t>(n);
      else if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
        sent = out.size();  // the server closed: what is left cannot be sent
    }
    if (p.revents & (POLLIN | POLLERR | POLLHUP)) {
      const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n > 0) in.insert(in.end(), buf, buf + n);
      else if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) break;  // closed
    }
  }
  ::close(fd);
  return in;
}

// ---- What the answers must be -----------------------------------------------------------------

struct Answers {
  const std::vector<uint8_t>& in;
  size_t pos = 0;
  size_t index = 0;  // of the request being answered

  // The next answer: status and payload; fails if there is none or it is cut short.
  int32_t next(const char* request, std::vector<uint8_t>* payload) {
    const std::string who = "request " + std::to_string(index) + " (" + request + ")";
    if (in.size() - pos < 8) fail(who + ": no answer (the server closed the connection)");
    const auto status = static_cast<int32_t>(u32(&in[pos]));
    const uint32_t len = u32(&in[pos + 4]);
    if (in.size() - pos - 8 < len) fail(who + ": answer with a payload cut short");
    if (status != AIMC_HAL_OK && len != 0) fail(who + ": an error answer with a payload");
    payload->assign(in.begin() + long(pos + 8), in.begin() + long(pos + 8 + len));
    pos += 8 + len;
    return status;
  }
  void nothing_more(const std::string& why) {
    if (pos != in.size())
      fail("after " + why + " the server sent " + std::to_string(in.size() - pos) + " more bytes");
  }
};

std::string status_text(int32_t st) { return std::to_string(st); }

// Checks the answers `in` to the request stream `out` (both whole).
void check_answers(const std::vector<uint8_t>& out, const std::vector<uint8_t>& in) {
  Answers a{in};
  std::map<uint32_t, uint32_t> bufs;  // bus_addr -> size of this session's live DMA buffers
  auto inside = [&](uint32_t addr, uint64_t len) {
    auto it = bufs.upper_bound(addr);
    if (it == bufs.begin()) return false;
    --it;
    return uint64_t(addr) + len <= uint64_t(it->first) + it->second;
  };
  bool hello = false;
  size_t pos = 0;
  std::vector<uint8_t> pl;
  for (;; ++a.index) {
    if (out.size() - pos < 8) return a.nothing_more("a request header cut short by the end of the input");
    const uint32_t op = u32(&out[pos]), len = u32(&out[pos + 4]);
    pos += 8;
    const char* name = nullptr;
    switch (op) {
      case AIMC_REMOTE_OP_HELLO: name = "HELLO"; break;
      case AIMC_REMOTE_OP_READ32: name = "READ32"; break;
      case AIMC_REMOTE_OP_WRITE32: name = "WRITE32"; break;
      case AIMC_REMOTE_OP_DMA_ALLOC: name = "DMA_ALLOC"; break;
      case AIMC_REMOTE_OP_DMA_FREE: name = "DMA_FREE"; break;
      case AIMC_REMOTE_OP_DMA_WRITE: name = "DMA_WRITE"; break;
      case AIMC_REMOTE_OP_DMA_READ: name = "DMA_READ"; break;
      case AIMC_REMOTE_OP_WAIT_IRQ: name = "WAIT_IRQ"; break;
      case AIMC_REMOTE_OP_SHUTDOWN: name = "SHUTDOWN"; break;
      case AIMC_REMOTE_OP_BYE: name = "BYE"; break;
      default: break;
    }
    auto expect_closing = [&](int32_t want, const char* why) {
      const int32_t st = a.next(name ? name : "unknown opcode", &pl);
      if (st != want)
        fail("request " + std::to_string(a.index) + ": " + why + ": expected status " + status_text(want) +
             ", got " + status_text(st));
      a.nothing_more(why);
    };
    if (!name) return expect_closing(AIMC_REMOTE_E_UNKNOWN_OP, "an unknown opcode");
    const uint32_t limit = op == AIMC_REMOTE_OP_DMA_WRITE ? 4 + AIMC_REMOTE_MAX_DATA : kMaxFixed;
    if (len > limit) return expect_closing(AIMC_REMOTE_E_TOO_LONG, "a length above the op's limit");
    if (!hello && op != AIMC_REMOTE_OP_HELLO) return expect_closing(AIMC_REMOTE_E_BAD_HELLO, "a first request other than HELLO");
    if (out.size() - pos < len) return a.nothing_more("a payload cut short by the end of the input");
    const uint8_t* p = &out[pos];
    pos += len;
    uint32_t want_len = 0;
    switch (op) {
      case AIMC_REMOTE_OP_HELLO: want_len = 8; break;
      case AIMC_REMOTE_OP_READ32: want_len = 4; break;
      case AIMC_REMOTE_OP_WRITE32: want_len = 8; break;
      case AIMC_REMOTE_OP_DMA_ALLOC: case AIMC_REMOTE_OP_DMA_FREE: want_len = 4; break;
      case AIMC_REMOTE_OP_DMA_READ: case AIMC_REMOTE_OP_WAIT_IRQ: want_len = 8; break;
      default: want_len = 0; break;
    }
    if (op == AIMC_REMOTE_OP_HELLO) {
      if (len < 8 || len > 8 + AIMC_REMOTE_MAX_SECRET) return expect_closing(AIMC_REMOTE_E_BAD_HELLO, "a HELLO of a bad size");
      if (u32(p) != AIMC_REMOTE_MAGIC || u32(p + 4) != AIMC_REMOTE_VERSION)
        return expect_closing(AIMC_REMOTE_E_BAD_HELLO, "a HELLO with a bad magic or version");
    } else if (op == AIMC_REMOTE_OP_DMA_WRITE ? len < 4 : len != want_len) {
      const int32_t st = a.next(name, &pl);
      if (st != AIMC_REMOTE_E_BAD_REQUEST)
        fail("request " + std::to_string(a.index) + " (" + name + ") with a payload of " + std::to_string(len) +
             " bytes: expected BAD_REQUEST, got " + status_text(st));
      continue;
    }
    const std::string who = "request " + std::to_string(a.index) + " (" + name + ")";
    const int32_t st = a.next(name, &pl);
    auto ok_size = [&](size_t n) {
      if (st == AIMC_HAL_OK && pl.size() != n)
        fail(who + ": OK with " + std::to_string(pl.size()) + " payload bytes, expected " + std::to_string(n));
    };
    auto one_of = [&](std::initializer_list<int32_t> allowed) {
      for (int32_t s : allowed)
        if (st == s) return;
      fail(who + ": status " + status_text(st) + " is not one this request may get");
    };
    switch (op) {
      case AIMC_REMOTE_OP_HELLO:
        one_of({AIMC_HAL_OK});
        ok_size(8);
        if (u32(&pl[0]) != AIMC_REMOTE_VERSION || u32(&pl[4]) != AIMC_REMOTE_MAX_DATA) fail(who + ": a wrong HELLO answer");
        hello = true;
        break;
      case AIMC_REMOTE_OP_READ32:
        one_of({AIMC_HAL_OK, AIMC_HAL_BUS_ERROR});
        ok_size(4);
        break;
      case AIMC_REMOTE_OP_WRITE32: one_of({AIMC_HAL_OK, AIMC_HAL_BUS_ERROR}); break;
      case AIMC_REMOTE_OP_DMA_ALLOC: {
        const uint32_t size = u32(p);
        if (size == 0) {
          one_of({AIMC_REMOTE_E_BAD_REQUEST});
          break;
        }
        one_of({AIMC_HAL_OK, AIMC_HAL_NO_MEMORY});
        ok_size(8);
        if (st != AIMC_HAL_OK) break;
        const uint32_t addr = u32(&pl[0]);
        if (u32(&pl[4]) != size) fail(who + ": OK with another size than asked");
        if (uint64_t(addr) + size > 0x100000000ull) fail(who + ": a buffer beyond the 32-bit bus");
        for (const auto& [b, n] : bufs)
          if (addr < uint64_t(b) + n && b < uint64_t(addr) + size) fail(who + ": a buffer overlapping a live one");
        bufs[addr] = size;
        break;
      }
      case AIMC_REMOTE_OP_DMA_FREE: {
        const bool mine = bufs.erase(u32(p)) == 1;
        one_of({mine ? AIMC_HAL_OK : AIMC_REMOTE_E_BAD_RANGE});
        break;
      }
      case AIMC_REMOTE_OP_DMA_WRITE:
        one_of({inside(u32(p), len - 4) ? AIMC_HAL_OK : AIMC_REMOTE_E_BAD_RANGE});
        break;
      case AIMC_REMOTE_OP_DMA_READ: {
        const uint32_t n = u32(p + 4);
        if (n > AIMC_REMOTE_MAX_DATA) {
          one_of({AIMC_REMOTE_E_BAD_REQUEST});
          break;
        }
        one_of({inside(u32(p), n) ? AIMC_HAL_OK : AIMC_REMOTE_E_BAD_RANGE});
        ok_size(n);
        break;
      }
      case AIMC_REMOTE_OP_WAIT_IRQ: one_of({AIMC_HAL_OK, AIMC_HAL_TIMEOUT}); break;
      case AIMC_REMOTE_OP_SHUTDOWN: one_of({AIMC_REMOTE_E_REFUSED}); break;  // not allowed here
      case AIMC_REMOTE_OP_BYE:
        one_of({AIMC_HAL_OK});
        return a.nothing_more("BYE");
    }
  }
}

// The input up to the frame at which the DMA_ALLOC sizes and DMA_READ lengths reach kWorkBudget
// (that frame included): beyond it, a client's legitimate requests cost too much per input.
size_t bounded_length(const uint8_t* data, size_t size) {
  uint64_t work = 0;
  size_t pos = 0;
  while (size - pos >= 8) {
    const uint32_t op = u32(data + pos), len = u32(data + pos + 4);
    if (len > size - pos - 8) break;
    const uint8_t* p = data + pos + 8;
    // What can cost: an allocation that may succeed (host memory is 64 MiB), a read the server
    // may carry out (at most max_data).
    if (op == AIMC_REMOTE_OP_DMA_ALLOC && len == 4 && u32(p) <= kHostMemory) work += u32(p);
    if (op == AIMC_REMOTE_OP_DMA_READ && len == 8 && u32(p + 4) <= AIMC_REMOTE_MAX_DATA) work += u32(p + 4);
    pos += 8 + len;
    if (work > kWorkBudget) return pos;
  }
  return size;
}

// A well-behaved client after the input: HELLO, READ32 of the ID register, BYE.
void check_server_serves() {
  std::vector<uint8_t> out;
  put32(out, AIMC_REMOTE_OP_HELLO);
  put32(out, 8);
  put32(out, AIMC_REMOTE_MAGIC);
  put32(out, AIMC_REMOTE_VERSION);
  put32(out, AIMC_REMOTE_OP_READ32);
  put32(out, 4);
  put32(out, AIMC_REG_ID);
  put32(out, AIMC_REMOTE_OP_BYE);
  put32(out, 0);
  // While the server finishes what the input left running it answers busy (and nothing else):
  // the client tries again, as a real one would, for at most kBusySeconds.
  std::vector<uint8_t> busy;
  put32(busy, static_cast<uint32_t>(AIMC_REMOTE_E_BUSY));
  put32(busy, 0);
  std::vector<uint8_t> in = talk(out, "the next client");
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::duration<double>(kBusySeconds);
  while (in == busy) {
    if (std::chrono::steady_clock::now() > give_up)
      fail("the next client: the server answered busy for " + std::to_string(kBusySeconds) + " s");
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    in = talk(out, "the next client");
  }
  std::vector<uint8_t> want;
  put32(want, 0);
  put32(want, 8);
  put32(want, AIMC_REMOTE_VERSION);
  put32(want, AIMC_REMOTE_MAX_DATA);
  put32(want, 0);
  put32(want, 4);
  put32(want, AIMC_CHIP_ID);
  put32(want, 0);
  put32(want, 0);
  if (in != want) {
    std::string got;
    char b[4];
    for (uint8_t c : in) {
      std::snprintf(b, sizeof b, "%02x ", c);
      got += b;
    }
    fail("the next client (HELLO, READ32 ID, BYE) was not served as usual; it got: " + got);
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  ::setenv("SC_COPYRIGHT_MESSAGE", "DISABLE", 0);
  start_server();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::vector<uint8_t> out(data, data + bounded_length(data, size));
  check_answers(out, talk(out, "the fuzzed client"));
  check_server_serves();
  return 0;
}

// libsystemc refers to sc_main; libFuzzer's main runs instead and never calls it.
int sc_main(int, char*[]) { return 0; }
