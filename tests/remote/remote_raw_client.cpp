// remote_raw_client: speaks the remote protocol byte by byte (no client library), to check how
// `aimc serve` answers misbehaving clients; plus one mode that checks the C client library
// against a fake server that hangs up. Run by remote_test.sh.
//
//   remote_raw_client MODE ADDRESS
// Modes against `aimc serve` at unix:PATH:
//   garbage     random bytes: the server answers UNKNOWN_OP (or similar) and closes
//   toolong     HELLO, then a DMA_WRITE header with length 0xFFFFFFF0: TOO_LONG, closed
//   nohello     READ32 before HELLO: BAD_HELLO, closed
//   badversion  HELLO with version 99: BAD_HELLO, closed
//   malformed   requests with bad sizes and ranges get error answers on a connection that stays
//               usable; ends with BYE
//   abandon     HELLO, allocates 3 x 12 MiB of host memory, hangs up without BYE
//   midframe    HELLO, half a DMA_WRITE, hangs up
//   reclaim     HELLO, allocates 40 MiB (fails unless `abandon`'s buffers were freed), SHUTDOWN
//   stall       HELLO, half a request header, silence: dropped (--frame-timeout)
//   idle        HELLO, silence: dropped (--idle-timeout)
//   busy        connects while another client is served: HELLO answered E_BUSY
//   leave       HELLO, starts a tile erase (PROG_CMD ERASE on tile 0) and hangs up at once
//   patient     HELLO until it is not answered E_BUSY (at most 60 s), READ32 ID, SHUTDOWN
//   noshutdown  SHUTDOWN refused without --allow-shutdown; the session goes on; BYE
//   dirty       leaves registers away from reset (tile GAIN 0, a trim, STANDBY, ...), hangs up
//   clean       finds every one of them at its reset value, SHUTDOWN
// Mode "lost" (ADDRESS is a fresh socket path): forks a fake server that accepts HELLO, then hangs
// up; every call of the C client must then return AIMC_HAL_BUS_ERROR, without a crash or SIGPIPE.
// Exit code 0 when the mode's expectations held.
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "aimc_hal_remote.h"
#include "aimc_regs.h"

namespace {

int g_fail = 0;
#define EXPECT(cond, ...)                           \
  do {                                              \
    if (!(cond)) {                                  \
      ++g_fail;                                     \
      std::fprintf(stderr, "remote_raw_client: FAIL: " __VA_ARGS__); \
      std::fputc('\n', stderr);                     \
    }                                               \
  } while (0)

void put32(std::vector<uint8_t>& b, uint32_t v) {
  for (int i = 0; i < 4; ++i) b.push_back(static_cast<uint8_t>(v >> (8 * i)));
}
void put64(std::vector<uint8_t>& b, uint64_t v) {
  put32(b, static_cast<uint32_t>(v));
  put32(b, static_cast<uint32_t>(v >> 32));
}
uint32_t get32(const uint8_t* p) {
  return uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24;
}

std::string socket_path(const std::string& address) {
  return address.rfind("unix:", 0) == 0 ? address.substr(5) : address;
}

int connect_to(const std::string& address) {
  const std::string path = socket_path(address);
  sockaddr_un sa{};
  sa.sun_family = AF_UNIX;
  std::snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path.c_str());
  const int fd = socket(AF_UNIX, SOCK_STREAM, 0);
  if (fd < 0 || connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
    std::fprintf(stderr, "remote_raw_client: cannot connect to %s: %s\n", path.c_str(),
                 std::strerror(errno));
    std::exit(1);
  }
  timeval tv{10, 0};  // never hang on a server that does not answer
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  return fd;
}

bool send_bytes(int fd, const std::vector<uint8_t>& b) {
  size_t off = 0;
  while (off < b.size()) {
    const ssize_t n = send(fd, b.data() + off, b.size() - off, MSG_NOSIGNAL);
    if (n <= 0) return false;
    off += static_cast<size_t>(n);
  }
  return true;
}

std::vector<uint8_t> request(uint32_t op, const std::vector<uint8_t>& payload) {
  std::vector<uint8_t> b;
  put32(b, op);
  put32(b, static_cast<uint32_t>(payload.size()));
  b.insert(b.end(), payload.begin(), payload.end());
  return b;
}

struct Response {
  bool ok = false;  // a whole response arrived
  int32_t status = 0;
  std::vector<uint8_t> payload;
};

Response read_response(int fd) {
  Response r;
  uint8_t hdr[8];
  size_t got = 0;
  while (got < 8) {
    const ssize_t n = recv(fd, hdr + got, 8 - got, 0);
    if (n <= 0) return r;
    got += static_cast<size_t>(n);
  }
  r.status = static_cast<int32_t>(get32(hdr));
  r.payload.resize(get32(hdr + 4));
  got = 0;
  while (got < r.payload.size()) {
    const ssize_t n = recv(fd, r.payload.data() + got, r.payload.size() - got, 0);
    if (n <= 0) return r;
    got += static_cast<size_t>(n);
  }
  r.ok = true;
  return r;
}

Response call(int fd, uint32_t op, const std::vector<uint8_t>& payload) {
  if (!send_bytes(fd, request(op, payload))) return {};
  return read_response(fd);
}

// The server closed the connection: recv sees end of stream (not a timeout).
bool closed_by_server(int fd) {
  uint8_t b;
  for (;;) {
    const ssize_t n = recv(fd, &b, 1, 0);
    if (n == 0) return true;
    if (n < 0) return errno == ECONNRESET;
    // leftover bytes of a response: keep draining
  }
}

void hello(int fd, uint32_t version = AIMC_REMOTE_VERSION) {
  std::vector<uint8_t> p;
  put32(p, AIMC_REMOTE_MAGIC);
  put32(p, version);
  const Response r = call(fd, AIMC_REMOTE_OP_HELLO, p);
  if (version == AIMC_REMOTE_VERSION) {
    EXPECT(r.ok && r.status == 0 && r.payload.size() == 8, "HELLO refused");
    if (r.payload.size() == 8) {
      EXPECT(get32(r.payload.data()) == AIMC_REMOTE_VERSION, "HELLO: wrong version");
      EXPECT(get32(r.payload.data() + 4) == AIMC_REMOTE_MAX_DATA, "HELLO: wrong max_data");
    }
  } else {
    EXPECT(r.ok && r.status == AIMC_REMOTE_E_BAD_HELLO, "HELLO v%u: status %d", version, r.status);
    EXPECT(closed_by_server(fd), "server kept the connection after a bad HELLO");
  }
}

uint32_t alloc(int fd, uint32_t size, int32_t* status = nullptr) {
  std::vector<uint8_t> p;
  put32(p, size);
  const Response r = call(fd, AIMC_REMOTE_OP_DMA_ALLOC, p);
  if (status) *status = r.ok ? r.status : -999;
  return r.ok && r.status == 0 && r.payload.size() == 8 ? get32(r.payload.data()) : 0;
}

int mode_garbage(const std::string& addr) {
  const int fd = connect_to(addr);
  std::vector<uint8_t> junk;
  uint32_t x = 0x12345678u;
  for (int i = 0; i < 256; ++i) {
    x = x * 1103515245u + 12345u;
    junk.push_back(static_cast<uint8_t>(x >> 16));
  }
  junk[0] = 0xEF;  // make sure the first "opcode" is not one of ours
  send_bytes(fd, junk);  // the server may close before reading it all
  const Response r = read_response(fd);
  EXPECT(!r.ok || r.status == AIMC_REMOTE_E_UNKNOWN_OP, "garbage: status %d", r.status);
  EXPECT(closed_by_server(fd), "garbage: the server kept the connection");
  close(fd);
  return g_fail;
}

int mode_toolong(const std::string& addr) {
  const int fd = connect_to(addr);
  hello(fd);
  std::vector<uint8_t> b;
  put32(b, AIMC_REMOTE_OP_DMA_WRITE);
  put32(b, 0xFFFFFFF0u);
  send_bytes(fd, b);
  const Response r = read_response(fd);
  EXPECT(r.ok && r.status == AIMC_REMOTE_E_TOO_LONG, "toolong: status %d", r.status);
  EXPECT(closed_by_server(fd), "toolong: the server kept the connection");
  close(fd);
  return g_fail;
}

int mode_nohello(const std::string& addr) {
  const int fd = connect_to(addr);
  std::vector<uint8_t> p;
  put32(p, 0);
  const Response r = call(fd, AIMC_REMOTE_OP_READ32, p);
  EXPECT(r.ok && r.status == AIMC_REMOTE_E_BAD_HELLO, "nohello: status %d", r.status);
  EXPECT(closed_by_server(fd), "nohello: the server kept the connection");
  close(fd);
  return g_fail;
}

int mode_badversion(const std::string& addr) {
  const int fd = connect_to(addr);
  hello(fd, 99);
  close(fd);
  return g_fail;
}

int mode_malformed(const std::string& addr) {
  const int fd = connect_to(addr);
  hello(fd);
  Response r = call(fd, AIMC_REMOTE_OP_READ32, {1, 2});  // 2-byte payload
  EXPECT(r.ok && r.status == AIMC_REMOTE_E_BAD_REQUEST, "short READ32: status %d", r.status);
  std::vector<uint8_t> p;
  put32(p, 0);  // ID
  r = call(fd, AIMC_REMOTE_OP_READ32, p);
  EXPECT(r.ok && r.status == 0 && r.payload.size() == 4 && get32(r.payload.data()) == 0x41494D43u,
         "READ32 ID after an error: status %d", r.status);
  int32_t st = 0;
  alloc(fd, 0, &st);
  EXPECT(st == AIMC_REMOTE_E_BAD_REQUEST, "DMA_ALLOC 0: status %d", st);
  const uint32_t a = alloc(fd, 256, &st);
  EXPECT(st == 0 && a != 0, "DMA_ALLOC 256: status %d", st);
  p.clear();
  put32(p, a + 200);
  put32(p, 100);  // runs past the end of the buffer
  r = call(fd, AIMC_REMOTE_OP_DMA_READ, p);
  EXPECT(r.ok && r.status == AIMC_REMOTE_E_BAD_RANGE, "DMA_READ past the end: status %d", r.status);
  p.clear();
  put32(p, a);
  put32(p, AIMC_REMOTE_MAX_DATA + 1);
  r = call(fd, AIMC_REMOTE_OP_DMA_READ, p);
  EXPECT(r.ok && r.status == AIMC_REMOTE_E_BAD_REQUEST, "DMA_READ too long: status %d", r.status);
  p.clear();
  put32(p, 0x10);  // no buffer there
  p.insert(p.end(), 8, 0xAB);
  r = call(fd, AIMC_REMOTE_OP_DMA_WRITE, p);
  EXPECT(r.ok && r.status == AIMC_REMOTE_E_BAD_RANGE, "DMA_WRITE elsewhere: status %d", r.status);
  p.clear();
  put32(p, a + 64);
  r = call(fd, AIMC_REMOTE_OP_DMA_FREE, p);
  EXPECT(r.ok && r.status == AIMC_REMOTE_E_BAD_RANGE, "DMA_FREE mid-buffer: status %d", r.status);
  // A good write and read inside the buffer still work.
  p.clear();
  put32(p, a + 16);
  for (int i = 0; i < 32; ++i) p.push_back(static_cast<uint8_t>(i));
  r = call(fd, AIMC_REMOTE_OP_DMA_WRITE, p);
  EXPECT(r.ok && r.status == 0, "DMA_WRITE inside: status %d", r.status);
  p.clear();
  put32(p, a + 16);
  put32(p, 32);
  r = call(fd, AIMC_REMOTE_OP_DMA_READ, p);
  EXPECT(r.ok && r.status == 0 && r.payload.size() == 32 && r.payload[31] == 31,
         "DMA_READ inside: status %d", r.status);
  p.clear();
  put64(p, 100);
  r = call(fd, AIMC_REMOTE_OP_WAIT_IRQ, p);
  EXPECT(r.ok && (r.status == AIMC_HAL_TIMEOUT || r.status == 0), "WAIT_IRQ: status %d", r.status);
  p.clear();
  put32(p, a);
  r = call(fd, AIMC_REMOTE_OP_DMA_FREE, p);
  EXPECT(r.ok && r.status == 0, "DMA_FREE: status %d", r.status);
  r = call(fd, AIMC_REMOTE_OP_DMA_FREE, p);
  EXPECT(r.ok && r.status == AIMC_REMOTE_E_BAD_RANGE, "double DMA_FREE: status %d", r.status);
  r = call(fd, AIMC_REMOTE_OP_BYE, {});
  EXPECT(r.ok && r.status == 0, "BYE: status %d", r.status);
  EXPECT(closed_by_server(fd), "server kept the connection after BYE");
  close(fd);
  return g_fail;
}

int mode_abandon(const std::string& addr) {
  const int fd = connect_to(addr);
  hello(fd);
  for (int i = 0; i < 3; ++i) {
    int32_t st = 0;
    alloc(fd, 12u << 20, &st);
    EXPECT(st == 0, "abandon: DMA_ALLOC 12 MiB #%d: status %d", i, st);
  }
  close(fd);  // no BYE, buffers still allocated
  return g_fail;
}

int mode_midframe(const std::string& addr) {
  const int fd = connect_to(addr);
  hello(fd);
  std::vector<uint8_t> b;
  put32(b, AIMC_REMOTE_OP_DMA_WRITE);
  put32(b, 1000);
  b.insert(b.end(), 10, 0x55);
  send_bytes(fd, b);
  close(fd);
  return g_fail;
}

// HELLO, then half a request header, then silence: the server must drop it after its frame
// timeout (the test gives --frame-timeout 1) and not stay held by it.
int mode_stall(const std::string& addr) {
  const int fd = connect_to(addr);
  hello(fd);
  std::vector<uint8_t> b;
  put32(b, AIMC_REMOTE_OP_READ32);
  send_bytes(fd, b);  // 4 of the header's 8 bytes
  EXPECT(closed_by_server(fd), "stall: the server did not drop a client stalled mid-frame");
  close(fd);
  return g_fail;
}

// HELLO, then nothing: dropped after the idle timeout (the test gives --idle-timeout 2).
int mode_idle(const std::string& addr) {
  const int fd = connect_to(addr);
  hello(fd);
  EXPECT(closed_by_server(fd), "idle: the server did not drop an idle client");
  close(fd);
  return g_fail;
}

// Connects while another client is served: HELLO is answered E_BUSY at once, not with silence.
int mode_busy(const std::string& addr) {
  const int fd = connect_to(addr);
  std::vector<uint8_t> p;
  put32(p, AIMC_REMOTE_MAGIC);
  put32(p, AIMC_REMOTE_VERSION);
  const Response r = call(fd, AIMC_REMOTE_OP_HELLO, p);
  EXPECT(r.ok && r.status == AIMC_REMOTE_E_BUSY, "busy: HELLO answered %d, expected E_BUSY (%d)", r.status,
         AIMC_REMOTE_E_BUSY);
  close(fd);
  return g_fail;
}

// Leaves a long command running: the server must finish it before the next session, and answer
// a client that connects meanwhile busy rather than leave it in silence.
int mode_leave(const std::string& addr) {
  const int fd = connect_to(addr);
  hello(fd);
  for (const auto& [reg, value] : {std::pair<uint32_t, uint32_t>{AIMC_REG_PROG_TILE, 0u},
                                   std::pair<uint32_t, uint32_t>{AIMC_REG_PROG_CMD, AIMC_PROG_ERASE}}) {
    std::vector<uint8_t> p;
    put32(p, reg);
    put32(p, value);
    const Response r = call(fd, AIMC_REMOTE_OP_WRITE32, p);
    EXPECT(r.ok && r.status == 0, "leave: WRITE32 0x%x answered %d", reg, r.status);
  }
  close(fd);  // no BYE, the erase still running
  return g_fail;
}

// Tries HELLO until the server is not busy (a real client's retry), then is served as usual.
int mode_patient(const std::string& addr) {
  for (int attempt = 0; attempt < 1200; ++attempt) {
    const int fd = connect_to(addr);
    std::vector<uint8_t> p;
    put32(p, AIMC_REMOTE_MAGIC);
    put32(p, AIMC_REMOTE_VERSION);
    const Response r = call(fd, AIMC_REMOTE_OP_HELLO, p);
    if (r.ok && r.status == AIMC_REMOTE_E_BUSY) {
      close(fd);
      usleep(50000);
      continue;
    }
    EXPECT(r.ok && r.status == 0, "patient: HELLO answered %d", r.status);
    std::vector<uint8_t> q;
    put32(q, AIMC_REG_ID);
    const Response id = call(fd, AIMC_REMOTE_OP_READ32, q);
    EXPECT(id.ok && id.status == 0 && id.payload.size() == 4 && get32(id.payload.data()) == AIMC_CHIP_ID,
           "patient: READ32 ID");
    const Response sd = call(fd, AIMC_REMOTE_OP_SHUTDOWN, {});
    EXPECT(sd.ok && sd.status == 0, "patient: SHUTDOWN answered %d", sd.status);
    close(fd);
    return g_fail;
  }
  EXPECT(false, "patient: the server answered busy for 60 s");
  return g_fail;
}

// SHUTDOWN on a server started without --allow-shutdown: refused, the session goes on.
int mode_noshutdown(const std::string& addr) {
  const int fd = connect_to(addr);
  hello(fd);
  Response r = call(fd, AIMC_REMOTE_OP_SHUTDOWN, {});
  EXPECT(r.ok && r.status == AIMC_REMOTE_E_REFUSED, "SHUTDOWN answered %d, expected E_REFUSED", r.status);
  std::vector<uint8_t> off;
  put32(off, 0);  // ID
  r = call(fd, AIMC_REMOTE_OP_READ32, off);
  EXPECT(r.ok && r.status == 0, "the session did not go on after a refused SHUTDOWN");
  r = call(fd, AIMC_REMOTE_OP_BYE, {});
  EXPECT(r.ok && r.status == 0, "BYE: status %d", r.status);
  close(fd);
  return g_fail;
}

int mode_reclaim(const std::string& addr) {
  const int fd = connect_to(addr);
  hello(fd);
  int32_t st = 0;
  alloc(fd, 40u << 20, &st);
  EXPECT(st == 0, "reclaim: DMA_ALLOC 40 MiB: status %d (an earlier client's buffers leaked?)", st);
  const Response r = call(fd, AIMC_REMOTE_OP_SHUTDOWN, {});
  EXPECT(r.ok && r.status == 0, "SHUTDOWN: status %d", r.status);
  EXPECT(closed_by_server(fd), "server kept the connection after SHUTDOWN");
  close(fd);
  return g_fail;
}

// A fake server that accepts one client, answers HELLO, then hangs up.
int mode_lost(const std::string& addr) {
  const std::string path = socket_path(addr);
  unlink(path.c_str());
  sockaddr_un sa{};
  sa.sun_family = AF_UNIX;
  std::snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path.c_str());
  const int lfd = socket(AF_UNIX, SOCK_STREAM, 0);
  if (lfd < 0 || bind(lfd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0 || listen(lfd, 1) != 0) {
    std::fprintf(stderr, "remote_raw_client: fake server: %s\n", std::strerror(errno));
    return 1;
  }
  const pid_t child = fork();
  if (child == 0) {
    alarm(20);
    const int fd = accept(lfd, nullptr, nullptr);
    uint8_t hdr[8], payload[8];
    if (fd >= 0 && recv(fd, hdr, 8, MSG_WAITALL) == 8 && recv(fd, payload, 8, MSG_WAITALL) == 8) {
      std::vector<uint8_t> resp;
      put32(resp, 0);
      put32(resp, 8);
      put32(resp, AIMC_REMOTE_VERSION);
      put32(resp, AIMC_REMOTE_MAX_DATA);
      send_bytes(fd, resp);
      uint8_t b[8];
      recv(fd, b, sizeof b, MSG_WAITALL);  // the first request after HELLO...
    }
    _exit(0);  // ...is never answered: hang up
  }
  close(lfd);
  aimc_hal_t hal{};
  EXPECT(aimc_hal_remote_open(addr.c_str(), &hal) == AIMC_HAL_OK, "open against the fake server");
  uint32_t v = 0;
  EXPECT(hal.ops && hal.ops->read32(hal.ctx, 0, &v) == AIMC_HAL_BUS_ERROR, "read32 after hang-up");
  EXPECT(aimc_hal_remote_lost(&hal) == 1, "the HAL does not report the lost connection");
  if (hal.ops) {
    EXPECT(hal.ops->write32(hal.ctx, 0, 1) == AIMC_HAL_BUS_ERROR, "write32 after hang-up");
    aimc_dma_buf_t buf{};
    EXPECT(hal.ops->dma_alloc(hal.ctx, 64, &buf) == AIMC_HAL_BUS_ERROR, "dma_alloc after hang-up");
    EXPECT(hal.ops->dma_sync(hal.ctx, &buf, 0, 0, AIMC_DMA_TO_DEVICE) == AIMC_HAL_BUS_ERROR,
           "dma_sync after hang-up");
    hal.ops->dma_free(hal.ctx, &buf);
    EXPECT(hal.ops->wait_irq(hal.ctx, 10) == AIMC_HAL_BUS_ERROR, "wait_irq after hang-up");
  }
  aimc_hal_remote_close(&hal);
  EXPECT(hal.ops == nullptr && hal.ctx == nullptr, "close did not zero the HAL");
  aimc_hal_remote_close(&hal);  // twice: harmless
  int wstatus = 0;
  waitpid(child, &wstatus, 0);
  unlink(path.c_str());
  // Opening an address where nobody listens fails cleanly.
  aimc_hal_t none{};
  EXPECT(aimc_hal_remote_open(addr.c_str(), &none) == AIMC_HAL_BUS_ERROR, "open with no server");
  EXPECT(aimc_hal_remote_open("tcp:nonsense", &none) == AIMC_HAL_BUS_ERROR, "open tcp:nonsense");
  EXPECT(aimc_hal_remote_open("carrier-pigeon:1", &none) == AIMC_HAL_BUS_ERROR, "open bad scheme");
  return g_fail;
}

}  // namespace

// Mode "dirty": a client that leaves the chip far from its reset state (a tile's GAIN at 0, a trim,
// STANDBY, interrupts enabled, a scratch value). Mode "clean": the next client must find every one
// of them at its reset value (each session starts with CTRL.FULL_RESET), then shuts the server down.
struct RegisterValue {
  uint32_t offset, dirty, reset;
  const char* name;
};
const RegisterValue kSessionRegisters[] = {
    {AIMC_TILE_REG(0, AIMC_TREG_GAIN), 0u, 0x10000u, "tile0.GAIN"},
    {AIMC_TILE_REG(0, AIMC_TREG_TRIM(3)), 5u, 0u, "tile0.TRIM[3]"},
    {AIMC_TILE_REG(1, AIMC_TREG_CAL_REF), 1234u, 0u, "tile1.CAL_REF"},
    {AIMC_REG_IRQ_ENABLE, 0xFFu, 0u, "IRQ_ENABLE"},
    {AIMC_REG_SCRATCH, 0xA5A5A5A5u, 0u, "SCRATCH"},
    {AIMC_REG_TEMP_ALARM_MC, 100000u, 85000u, "TEMP_ALARM_MC"},
    {AIMC_REG_POWER_STATE, AIMC_POWER_STANDBY, AIMC_POWER_ACTIVE, "POWER_STATE"},
};

int mode_session(const std::string& addr, bool dirty) {
  aimc_hal_t hal{};
  EXPECT(aimc_hal_remote_open(addr.c_str(), &hal) == AIMC_HAL_OK, "open %s", addr.c_str());
  if (!hal.ops) return g_fail;
  for (const RegisterValue& r : kSessionRegisters) {
    uint32_t v = 0xDEADBEEFu;
    if (dirty) {
      EXPECT(hal.ops->write32(hal.ctx, r.offset, r.dirty) == AIMC_HAL_OK, "write %s", r.name);
      EXPECT(hal.ops->read32(hal.ctx, r.offset, &v) == AIMC_HAL_OK && v == r.dirty,
             "%s reads 0x%x after writing 0x%x", r.name, v, r.dirty);
    } else {
      EXPECT(hal.ops->read32(hal.ctx, r.offset, &v) == AIMC_HAL_OK && v == r.reset,
             "new session: %s is 0x%x, expected its reset value 0x%x", r.name, v, r.reset);
    }
  }
  if (dirty) aimc_hal_remote_close(&hal);
  else EXPECT(aimc_hal_remote_shutdown(&hal) == AIMC_HAL_OK, "SHUTDOWN");
  return g_fail;
}

int main(int argc, char** argv) {
  signal(SIGPIPE, SIG_DFL);  // a SIGPIPE would kill us: the library must avoid it
  if (argc != 3) {
    std::fprintf(stderr, "usage: remote_raw_client MODE ADDRESS\n");
    return 2;
  }
  const std::string mode = argv[1], addr = argv[2];
  int fails;
  if (mode == "garbage") fails = mode_garbage(addr);
  else if (mode == "toolong") fails = mode_toolong(addr);
  else if (mode == "nohello") fails = mode_nohello(addr);
  else if (mode == "badversion") fails = mode_badversion(addr);
  else if (mode == "malformed") fails = mode_malformed(addr);
  else if (mode == "abandon") fails = mode_abandon(addr);
  else if (mode == "leave") fails = mode_leave(addr);
  else if (mode == "patient") fails = mode_patient(addr);
  else if (mode == "midframe") fails = mode_midframe(addr);
  else if (mode == "reclaim") fails = mode_reclaim(addr);
  else if (mode == "lost") fails = mode_lost(addr);
  else if (mode == "dirty") fails = mode_session(addr, true);
  else if (mode == "stall") fails = mode_stall(addr);
  else if (mode == "idle") fails = mode_idle(addr);
  else if (mode == "busy") fails = mode_busy(addr);
  else if (mode == "noshutdown") fails = mode_noshutdown(addr);
  else if (mode == "clean") fails = mode_session(addr, false);
  else {
    std::fprintf(stderr, "remote_raw_client: unknown mode '%s'\n", mode.c_str());
    return 2;
  }
  std::printf("remote_raw_client %s: %s\n", mode.c_str(), fails ? "FAILED" : "ok");
  return fails ? 1 : 0;
}
