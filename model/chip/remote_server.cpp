#include "chip/remote_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <optional>
#include <sstream>

#include "aimc_hal_remote.h"

namespace aimc::chip {

namespace {

#ifndef MSG_NOSIGNAL
#define MSG_NOSIGNAL 0
#endif

// Payload limits: every fixed-size request fits in kMaxFixed; DMA_WRITE carries data.
constexpr uint32_t kMaxFixed = 64;
constexpr uint32_t kMaxDmaWrite = 4 + AIMC_REMOTE_MAX_DATA;
// WAIT_IRQ timeouts are clamped so that now + timeout stays far inside sc_time's 64-bit ps range,
// as the in-process HAL clamps them (aimc_hal.h).
constexpr uint64_t kMaxWaitNs = AIMC_HAL_MAX_WAIT_NS;

uint32_t get_u32(const uint8_t* p) {
  return uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24;
}
uint64_t get_u64(const uint8_t* p) { return get_u32(p) | uint64_t(get_u32(p + 4)) << 32; }
void put_u32(uint8_t* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}

const char* op_name(uint32_t op) {
  switch (op) {
    case AIMC_REMOTE_OP_HELLO: return "HELLO";
    case AIMC_REMOTE_OP_READ32: return "READ32";
    case AIMC_REMOTE_OP_WRITE32: return "WRITE32";
    case AIMC_REMOTE_OP_DMA_ALLOC: return "DMA_ALLOC";
    case AIMC_REMOTE_OP_DMA_FREE: return "DMA_FREE";
    case AIMC_REMOTE_OP_DMA_WRITE: return "DMA_WRITE";
    case AIMC_REMOTE_OP_DMA_READ: return "DMA_READ";
    case AIMC_REMOTE_OP_WAIT_IRQ: return "WAIT_IRQ";
    case AIMC_REMOTE_OP_SHUTDOWN: return "SHUTDOWN";
    case AIMC_REMOTE_OP_BYE: return "BYE";
    default: return nullptr;
  }
}

// Expected payload size of a fixed-size request; -1 for DMA_WRITE (variable).
int expected_len(uint32_t op) {
  switch (op) {
    case AIMC_REMOTE_OP_HELLO: return 8;  // or more: 8 + the shared secret (see hello())
    case AIMC_REMOTE_OP_READ32: return 4;
    case AIMC_REMOTE_OP_WRITE32: return 8;
    case AIMC_REMOTE_OP_DMA_ALLOC: return 4;
    case AIMC_REMOTE_OP_DMA_FREE: return 4;
    case AIMC_REMOTE_OP_DMA_READ: return 8;
    case AIMC_REMOTE_OP_WAIT_IRQ: return 8;
    case AIMC_REMOTE_OP_SHUTDOWN: return 0;
    case AIMC_REMOTE_OP_BYE: return 0;
    default: return -1;
  }
}

std::string hex(uint64_t v) {
  std::ostringstream s;
  s << "0x" << std::hex << v;
  return s.str();
}

// Reads exactly n bytes. 1: done; 0: clean end of stream before the first byte; -1: error or
// end of stream in the middle.
int read_exact(int fd, void* data, size_t n) {
  auto* p = static_cast<uint8_t*>(data);
  size_t got = 0;
  while (got < n) {
    const ssize_t r = ::recv(fd, p + got, n - got, 0);
    if (r < 0 && errno == EINTR) continue;
    if (r == 0) return got == 0 ? 0 : -1;
    if (r < 0) return -1;
    got += static_cast<size_t>(r);
  }
  return 1;
}

bool write_all(int fd, const void* data, size_t n) {
  const auto* p = static_cast<const uint8_t*>(data);
  while (n > 0) {
    const ssize_t r = ::send(fd, p, n, MSG_NOSIGNAL);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    p += r;
    n -= static_cast<size_t>(r);
  }
  return true;
}

void set_timeouts(int fd, double seconds) {
  if (seconds <= 0) return;
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(seconds);
  tv.tv_usec = static_cast<suseconds_t>((seconds - static_cast<double>(tv.tv_sec)) * 1e6);
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}


bool is_loopback_v4(const std::string& host, in_addr* out) {
  if (host == "localhost") {
    out->s_addr = htonl(INADDR_LOOPBACK);
    return true;
  }
  if (inet_pton(AF_INET, host.c_str(), out) != 1) return false;
  return (ntohl(out->s_addr) >> 24) == 127;
}

}  // namespace

struct RemoteServer::Session {
  uint64_t id = 0;
  bool hello = false;
  bool no_secret = false;  // refused for a missing or wrong secret: does not count for --once
  std::map<uint32_t, aimc_dma_buf_t> bufs;  // bus_addr -> the in-process HAL's buffer
  std::vector<uint8_t> payload;

  // The buffer holding [addr, addr + len), or nullptr.
  aimc_dma_buf_t* find(uint32_t addr, uint64_t len) {
    auto it = bufs.upper_bound(addr);
    if (it == bufs.begin()) return nullptr;
    --it;
    aimc_dma_buf_t& b = it->second;
    const uint64_t end = uint64_t(addr) + len;
    return end <= uint64_t(b.bus_addr) + b.size ? &b : nullptr;
  }
};

RemoteServer::RemoteServer(const std::string& address, Options options)
    : opt_(std::move(options)), address_(address) {
  auto fail = [&](const std::string& why) -> RemoteAddressError {
    return RemoteAddressError("--listen " + address + ": " + why);
  };
  if (address.rfind("unix:", 0) == 0) {
    const std::string path = address.substr(5);
    sockaddr_un sa{};
    if (path.empty()) throw fail("empty socket path (expected unix:/path/to.sock)");
    if (path.size() >= sizeof sa.sun_path)
      throw fail("socket path longer than " + std::to_string(sizeof sa.sun_path - 1) +
                 " bytes (a limit of Unix sockets); use a shorter path");
    sa.sun_family = AF_UNIX;
    std::memcpy(sa.sun_path, path.c_str(), path.size() + 1);
    struct stat st {};
    if (::lstat(path.c_str(), &st) == 0) {
      if (!S_ISSOCK(st.st_mode)) throw fail("the path exists and is not a socket; refusing to replace it");
      // A socket file: in use by a live server, or left over by one that died.
      const int probe = ::socket(AF_UNIX, SOCK_STREAM, 0);
      const bool live =
          probe >= 0 && ::connect(probe, reinterpret_cast<const sockaddr*>(&sa), sizeof sa) == 0;
      if (probe >= 0) ::close(probe);
      if (live) throw fail("another server is listening on this socket");
      ::unlink(path.c_str());
    }
    listen_fd_ = ::socket(AF_UNIX, SOCK_STREAM, 0);
    if (listen_fd_ < 0) throw fail(std::string("socket: ") + std::strerror(errno));
    if (::bind(listen_fd_, reinterpret_cast<const sockaddr*>(&sa), sizeof sa) != 0) {
      const int e = errno;
      ::close(listen_fd_);
      throw fail(std::string("bind: ") + std::strerror(e));
    }
    unix_path_ = path;
    // Only the owner may connect (the protocol has no authentication).
    ::chmod(path.c_str(), S_IRUSR | S_IWUSR);
  } else if (address.rfind("tcp:", 0) == 0) {
    const std::string hp = address.substr(4);
    const auto colon = hp.rfind(':');
    if (colon == std::string::npos || colon == 0 || colon + 1 == hp.size())
      throw fail("expected tcp:127.0.0.1:PORT");
    std::string host = hp.substr(0, colon);
    const std::string port_s = hp.substr(colon + 1);
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
      host = host.substr(1, host.size() - 2);
    if (port_s.find_first_not_of("0123456789") != std::string::npos || port_s.size() > 5 ||
        std::stoul(port_s) > 65535)
      throw fail("port '" + port_s + "' is not a number from 0 to 65535");
    const auto port = static_cast<uint16_t>(std::stoul(port_s));
    sockaddr_storage ss{};
    socklen_t ss_len = 0;
    in_addr a4{};
    in6_addr a6{};
    if (is_loopback_v4(host, &a4)) {
      auto* sin = reinterpret_cast<sockaddr_in*>(&ss);
      sin->sin_family = AF_INET;
      sin->sin_port = htons(port);
      sin->sin_addr = a4;
      ss_len = sizeof *sin;
    } else if (inet_pton(AF_INET6, host.c_str(), &a6) == 1 && IN6_IS_ADDR_LOOPBACK(&a6)) {
      auto* sin6 = reinterpret_cast<sockaddr_in6*>(&ss);
      sin6->sin6_family = AF_INET6;
      sin6->sin6_port = htons(port);
      sin6->sin6_addr = a6;
      ss_len = sizeof *sin6;
    } else if (!opt_.allow_any_address) {
      throw fail("'" + host +
                 "' is not a loopback address; the server listens only on 127.0.0.1, ::1 or "
                 "localhost unless started with --allow-any-address and --secret-file (or use an "
                 "SSH tunnel to reach it from another machine)");
    } else if (opt_.secret.empty()) {
      throw fail("'" + host + "' is not a loopback address: --allow-any-address needs --secret-file, "
                 "the shared secret every client presents in its HELLO");
    } else if (inet_pton(AF_INET, host.c_str(), &a4) == 1) {
      auto* sin = reinterpret_cast<sockaddr_in*>(&ss);
      sin->sin_family = AF_INET;
      sin->sin_port = htons(port);
      sin->sin_addr = a4;
      ss_len = sizeof *sin;
    } else if (inet_pton(AF_INET6, host.c_str(), &a6) == 1) {
      auto* sin6 = reinterpret_cast<sockaddr_in6*>(&ss);
      sin6->sin6_family = AF_INET6;
      sin6->sin6_port = htons(port);
      sin6->sin6_addr = a6;
      ss_len = sizeof *sin6;
    } else {
      throw fail("'" + host + "' is not a numeric IPv4 or IPv6 address");
    }
    listen_fd_ = ::socket(ss.ss_family, SOCK_STREAM, 0);
    if (listen_fd_ < 0) throw fail(std::string("socket: ") + std::strerror(errno));
    const int one = 1;
    ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (::bind(listen_fd_, reinterpret_cast<const sockaddr*>(&ss), ss_len) != 0) {
      const int e = errno;
      ::close(listen_fd_);
      throw fail(std::string("bind: ") + std::strerror(e));
    }
    sockaddr_storage bound{};
    socklen_t bound_len = sizeof bound;
    ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&bound), &bound_len);
    const uint16_t real_port =
        ntohs(bound.ss_family == AF_INET ? reinterpret_cast<sockaddr_in*>(&bound)->sin_port
                                         : reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port);
    address_ = "tcp:" + (ss.ss_family == AF_INET6 ? "[" + host + "]" : host) + ":" +
               std::to_string(real_port);
  } else {
    throw fail("expected unix:/path/to.sock or tcp:127.0.0.1:PORT");
  }
  ::fcntl(listen_fd_, F_SETFD, FD_CLOEXEC);
  if (::listen(listen_fd_, SOMAXCONN) != 0) {
    const int e = errno;
    ::close(listen_fd_);
    listen_fd_ = -1;
    if (!unix_path_.empty()) ::unlink(unix_path_.c_str());
    throw fail(std::string("listen: ") + std::strerror(e));
  }
}

RemoteServer::~RemoteServer() {
  if (listen_fd_ >= 0) ::close(listen_fd_);
  if (!unix_path_.empty()) ::unlink(unix_path_.c_str());
}

std::ostream& RemoteServer::log() { return opt_.log ? *opt_.log : std::cerr; }

RemoteServer::Wait RemoteServer::wait_for_request(int fd, uint64_t serving) {
  using Clock = std::chrono::steady_clock;
  const bool idle_limit = opt_.idle_timeout_s > 0;
  const auto deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                           std::chrono::duration<double>(idle_limit ? opt_.idle_timeout_s : 0));
  for (;;) {
    if (stopping()) return Wait::stop;
    int wait_ms = opt_.stop_requested ? kStopPollMs : -1;
    if (idle_limit) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
      if (left <= 0) return Wait::idle;
      wait_ms = static_cast<int>(std::min<long long>(left, wait_ms < 0 ? 1 << 30 : wait_ms));
    }
    pollfd p[2] = {{fd, POLLIN, 0}, {listen_fd_, POLLIN, 0}};
    const int n = ::poll(p, 2, wait_ms);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Wait::request;  // let the read report the error
    if (p[1].revents & POLLIN) answer_busy(serving);
    if (p[0].revents) return Wait::request;  // a request, or the end of the connection
  }
}

bool RemoteServer::wait_for_client() {
  for (;;) {
    if (stopping()) return false;
    pollfd p{listen_fd_, POLLIN, 0};
    const int n = ::poll(&p, 1, opt_.stop_requested ? kStopPollMs : -1);
    if (n < 0 && errno != EINTR) return true;  // let accept report the error
    if (n > 0) return true;
  }
}

int RemoteServer::read_frame(int fd, void* data, size_t n, uint64_t serving) {
  using Clock = std::chrono::steady_clock;
  const auto deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                           std::chrono::duration<double>(opt_.frame_timeout_s));
  auto* p = static_cast<uint8_t*>(data);
  size_t got = 0;
  while (got < n) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) return -2;
    pollfd fds[2] = {{fd, POLLIN, 0}, {listen_fd_, POLLIN, 0}};
    const int k = ::poll(fds, 2, static_cast<int>(std::min<long long>(left, 1 << 30)));
    if (k < 0 && errno == EINTR) continue;
    if (k < 0) return -1;
    if (fds[1].revents & POLLIN) answer_busy(serving);
    if (!fds[0].revents) continue;
    const ssize_t r = ::recv(fd, p + got, n - got, MSG_DONTWAIT);
    if (r < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)) continue;
    if (r == 0) return got == 0 ? 0 : -1;
    if (r < 0) return -1;
    got += static_cast<size_t>(r);
  }
  return 1;
}

void RemoteServer::answer_busy(uint64_t serving) {
  const int fd = ::accept(listen_fd_, nullptr, nullptr);
  if (fd < 0) return;
  ::fcntl(fd, F_SETFD, FD_CLOEXEC);
  set_timeouts(fd, 1.0);
  // Read its HELLO (if it sends one within a second) before answering, so that the answer is not
  // lost to a reset of a connection closed with unread data.
  uint8_t hdr[8];
  if (read_exact(fd, hdr, sizeof hdr) == 1) {
    const uint32_t len = get_u32(hdr + 4);
    uint8_t payload[kMaxFixed];
    if (len <= sizeof payload) read_exact(fd, payload, len);
  }
  uint8_t resp[8];
  put_u32(resp, static_cast<uint32_t>(AIMC_REMOTE_E_BUSY));
  put_u32(resp + 4, 0);
  write_all(fd, resp, sizeof resp);
  ::shutdown(fd, SHUT_WR);
  ::close(fd);
  ++stats_.busy;
  log() << opt_.name << ": a client connected while client " << serving
        << " is served (or what it left running finishes): answered busy\n";
}

void RemoteServer::serve(aimc_hal_t hal) {
  for (;;) {
    // The chip is made ready for the next client before it is accepted; a client that connects
    // while the chip drains what the previous one left running is answered busy at once.
    if (opt_.session_start) {
      const uint64_t previous = stats_.sessions;
      opt_.session_start([this, previous] {
        pollfd p{listen_fd_, POLLIN, 0};
        while (::poll(&p, 1, 0) > 0 && (p.revents & POLLIN)) answer_busy(previous);
      });
    }
    if (!wait_for_client()) {
      stats_.stopped = true;
      return;
    }
    const int fd = ::accept(listen_fd_, nullptr, nullptr);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      log() << opt_.name << ": accept: " << std::strerror(errno) << "; no more clients\n";
      return;
    }
    ::fcntl(fd, F_SETFD, FD_CLOEXEC);
    const int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);  // fails harmlessly on Unix
    // A request begun must arrive whole, and an answer be taken, within the frame timeout: a
    // client that stalls cannot hold the server.
    set_timeouts(fd, opt_.frame_timeout_s);
    Session s;
    s.id = ++stats_.sessions;
    log() << opt_.name << ": client " << s.id << " connected\n";
    const End end = run_session(fd, hal, s);
    ::close(fd);
    // Whatever the client left allocated goes back to host memory.
    for (auto& [addr, buf] : s.bufs) hal.ops->dma_free(hal.ctx, &buf);
    if (!s.bufs.empty())
      log() << opt_.name << ": client " << s.id << ": freed " << s.bufs.size()
            << " DMA buffer(s) it left allocated\n";
    const char* how = end == End::bye            ? "said goodbye"
                      : end == End::shutdown     ? "asked the server to shut down"
                      : end == End::disconnected ? "disconnected"
                      : end == End::stopped      ? "was disconnected: the server stops"
                                                 : "was dropped";
    log() << opt_.name << ": client " << s.id << " " << how << " (" << stats_.requests
          << " request(s) so far)\n";
    if (end == End::dropped) ++stats_.dropped;
    if (end == End::shutdown) {
      stats_.shutdown = true;
      return;
    }
    if (end == End::stopped) {
      stats_.stopped = true;
      return;
    }
    if (opt_.once && !s.no_secret) return;  // a client without the secret cannot end it
  }
}

// One client's session: reads each request, checks its framing, and answers it with the handler of
// its opcode through the in-process HAL.
struct RemoteServer::Runner {
  RemoteServer& server;
  int fd;
  aimc_hal_t hal;
  Session& s;
  std::string who;

  // What a handler leaves the session in.
  enum class Next { serve, lost, end_bye, end_shutdown, end_dropped };

  struct Request {
    uint32_t op = 0, len = 0;
    const char* name = nullptr;
    const uint8_t* p = nullptr;  // the payload
  };

  Runner(RemoteServer& srv, int fd_, aimc_hal_t hal_, Session& session)
      : server(srv), fd(fd_), hal(hal_), s(session),
        who(srv.opt_.name + ": client " + std::to_string(session.id)) {}

  std::ostream& log() { return server.log(); }
  bool verbose() const { return server.opt_.verbose; }

  // Sends a response; false when the client is gone.
  bool respond(int32_t status, const void* data = nullptr, uint32_t len = 0) {
    uint8_t hdr[8];
    put_u32(hdr, static_cast<uint32_t>(status));
    put_u32(hdr + 4, len);
    return write_all(fd, hdr, sizeof hdr) && (len == 0 || write_all(fd, data, len));
  }
  bool refuse(int32_t status, const std::string& why) {
    ++server.stats_.errors;
    log() << who << ": " << why << "\n";
    return respond(status);
  }
  Next sent(bool ok) { return ok ? Next::serve : Next::lost; }

  End run() {
    for (;;) {
      Request rq;
      std::optional<End> end = read_request(rq);
      if (end) return *end;
      if (rq.name == nullptr) continue;  // refused for its length, answered: next request
      const Next next = answer(rq);
      switch (next) {
        case Next::serve: break;
        case Next::lost:
          log() << who << ": connection lost while answering " << rq.name << "\n";
          return End::disconnected;
        case Next::end_bye: return End::bye;
        case Next::end_shutdown: return End::shutdown;
        case Next::end_dropped: return End::dropped;
      }
    }
  }

  // Reads one request and checks its framing. Returns how the session ends, or nothing with rq
  // filled (rq.name null: the request was refused and answered, the session goes on).
  std::optional<End> read_request(Request& rq) {
    switch (server.wait_for_request(fd, s.id)) {
      case Wait::request: break;
      case Wait::idle:
        log() << who << ": no request for " << server.opt_.idle_timeout_s
              << " s (--idle-timeout); closing the connection\n";
        return End::dropped;
      case Wait::stop:
        log() << who << ": the server is stopping; closing the connection\n";
        return End::stopped;
    }
    uint8_t hdr[8];
    const int r = server.read_frame(fd, hdr, sizeof hdr, s.id);
    if (r == 0) {
      log() << who << ": closed the connection without BYE\n";
      return End::disconnected;
    }
    if (r < 0) {
      if (r == -2) {
        log() << who << ": stalled in the middle of a request header for " << server.opt_.frame_timeout_s
              << " s (--frame-timeout); closing the connection\n";
        return End::dropped;
      }
      log() << who << ": connection lost in a request header\n";
      return End::disconnected;
    }
    const uint32_t op = get_u32(hdr);
    const uint32_t len = get_u32(hdr + 4);
    ++server.stats_.requests;
    const char* name = op_name(op);
    if (!name) {
      refuse(AIMC_REMOTE_E_UNKNOWN_OP,
             "unknown opcode " + hex(op) + " (length " + std::to_string(len) +
                 "); closing the connection (see docs/remote-protocol.md)");
      return End::dropped;
    }
    const uint32_t limit = op == AIMC_REMOTE_OP_DMA_WRITE ? kMaxDmaWrite : kMaxFixed;
    if (len > limit) {
      refuse(AIMC_REMOTE_E_TOO_LONG, std::string(name) + " with length " + std::to_string(len) +
                                         " above the limit of " + std::to_string(limit) +
                                         " bytes; closing the connection");
      return End::dropped;
    }
    if (!s.hello && op != AIMC_REMOTE_OP_HELLO) {
      refuse(AIMC_REMOTE_E_BAD_HELLO,
             std::string("first request is ") + name + ", not HELLO; closing the connection");
      return End::dropped;
    }
    s.payload.resize(len);
    const int rp = len > 0 ? server.read_frame(fd, s.payload.data(), len, s.id) : 1;
    if (rp != 1) {
      if (rp == -2) {
        log() << who << ": stalled in the payload of " << name << " for " << server.opt_.frame_timeout_s
              << " s (--frame-timeout); closing the connection\n";
        return End::dropped;
      }
      log() << who << ": connection lost in the payload of " << name << "\n";
      return End::disconnected;
    }
    const int want = expected_len(op);
    const bool hello_len_ok = op == AIMC_REMOTE_OP_HELLO && len >= 8 && len <= 8 + AIMC_REMOTE_MAX_SECRET;
    if (!hello_len_ok && (op == AIMC_REMOTE_OP_DMA_WRITE ? len < 4 : len != static_cast<uint32_t>(want))) {
      if (op == AIMC_REMOTE_OP_HELLO) {
        refuse(AIMC_REMOTE_E_BAD_HELLO, "HELLO with a payload of " + std::to_string(len) +
                                            " bytes (expected 8); closing the connection");
        return End::dropped;
      }
      if (!refuse(AIMC_REMOTE_E_BAD_REQUEST,
                  std::string(name) + " with a payload of " + std::to_string(len) +
                      " bytes (expected " +
                      (want < 0 ? std::string("at least 4") : std::to_string(want)) + ")"))
        return End::disconnected;
      return std::nullopt;  // rq.name stays null: answered
    }
    rq = {op, len, name, s.payload.data()};
    return std::nullopt;
  }

  Next answer(const Request& rq) {
    switch (rq.op) {
      case AIMC_REMOTE_OP_HELLO: return hello(rq);
      case AIMC_REMOTE_OP_READ32: return read32(rq);
      case AIMC_REMOTE_OP_WRITE32: return write32(rq);
      case AIMC_REMOTE_OP_DMA_ALLOC: return dma_alloc(rq);
      case AIMC_REMOTE_OP_DMA_FREE: return dma_free(rq);
      case AIMC_REMOTE_OP_DMA_WRITE:
      case AIMC_REMOTE_OP_DMA_READ: return dma_data(rq);
      case AIMC_REMOTE_OP_WAIT_IRQ: return wait_irq(rq);
      case AIMC_REMOTE_OP_SHUTDOWN:
        if (!server.opt_.allow_shutdown)
          return sent(refuse(AIMC_REMOTE_E_REFUSED,
                             "SHUTDOWN refused: the server was started without --allow-shutdown"));
        respond(AIMC_HAL_OK);
        return Next::end_shutdown;
      case AIMC_REMOTE_OP_BYE:
        respond(AIMC_HAL_OK);
        return Next::end_bye;
    }
    return Next::serve;  // not reached: read_request refuses unknown opcodes
  }

  Next hello(const Request& rq) {
    const uint32_t magic = get_u32(rq.p), version = get_u32(rq.p + 4);
    if (magic != AIMC_REMOTE_MAGIC || version != AIMC_REMOTE_VERSION) {
      refuse(AIMC_REMOTE_E_BAD_HELLO,
             "HELLO with magic " + hex(magic) + " version " + std::to_string(version) +
                 " (this server speaks version " + std::to_string(AIMC_REMOTE_VERSION) +
                 "); closing the connection");
      return Next::end_dropped;
    }
    // The shared secret, when the server has one: the bytes after the version, compared in time
    // that does not depend on where they differ.
    if (!server.opt_.secret.empty()) {
      const std::string& want = server.opt_.secret;
      const size_t got_len = rq.len - 8;
      unsigned diff = got_len == want.size() ? 0u : 1u;
      for (size_t i = 0; i < want.size(); ++i)
        diff |= static_cast<unsigned>(static_cast<uint8_t>(want[i]) ^ (i < got_len ? rq.p[8 + i] : 0u));
      if (diff != 0) {
        s.no_secret = true;
        refuse(AIMC_REMOTE_E_BAD_HELLO,
               std::string(got_len == 0 ? "HELLO without" : "HELLO with a wrong") +
                   " shared secret (the server has --secret-file); closing the connection");
        return Next::end_dropped;
      }
    }
    s.hello = true;
    if (verbose()) log() << who << ": HELLO, protocol version " << version << "\n";
    uint8_t out[8];
    put_u32(out, AIMC_REMOTE_VERSION);
    put_u32(out + 4, AIMC_REMOTE_MAX_DATA);
    return sent(respond(AIMC_HAL_OK, out, sizeof out));
  }

  Next read32(const Request& rq) {
    const uint32_t offset = get_u32(rq.p);
    uint32_t value = 0;
    const int st = hal.ops->read32(hal.ctx, offset, &value);
    if (verbose())
      log() << who << ": READ32 " << hex(offset) << " -> "
            << (st == AIMC_HAL_OK ? hex(value) : "bus error") << "\n";
    uint8_t out[4];
    put_u32(out, value);
    return sent(st == AIMC_HAL_OK ? respond(st, out, 4) : respond(st));
  }

  Next write32(const Request& rq) {
    const uint32_t offset = get_u32(rq.p), value = get_u32(rq.p + 4);
    const int st = hal.ops->write32(hal.ctx, offset, value);
    if (verbose())
      log() << who << ": WRITE32 " << hex(offset) << " <- " << hex(value)
            << (st == AIMC_HAL_OK ? "" : " (bus error)") << "\n";
    return sent(respond(st));
  }

  Next dma_alloc(const Request& rq) {
    const uint32_t size = get_u32(rq.p);
    if (size == 0) return sent(refuse(AIMC_REMOTE_E_BAD_REQUEST, "DMA_ALLOC of 0 bytes"));
    aimc_dma_buf_t buf{};
    const int st = hal.ops->dma_alloc(hal.ctx, size, &buf);
    if (verbose())
      log() << who << ": DMA_ALLOC " << size << " -> "
            << (st == AIMC_HAL_OK ? hex(buf.bus_addr) : "no memory") << "\n";
    if (st != AIMC_HAL_OK) return sent(respond(st));
    // The client's shadow starts zeroed; so does the buffer here, whatever was there before.
    std::memset(buf.cpu, 0, buf.size);
    s.bufs[buf.bus_addr] = buf;
    uint8_t out[8];
    put_u32(out, buf.bus_addr);
    put_u32(out + 4, size);
    return sent(respond(AIMC_HAL_OK, out, sizeof out));
  }

  Next dma_free(const Request& rq) {
    const uint32_t addr = get_u32(rq.p);
    auto it = s.bufs.find(addr);
    if (it == s.bufs.end())
      return sent(refuse(AIMC_REMOTE_E_BAD_RANGE,
                         "DMA_FREE of " + hex(addr) + ", not a buffer this client allocated"));
    hal.ops->dma_free(hal.ctx, &it->second);
    s.bufs.erase(it);
    if (verbose()) log() << who << ": DMA_FREE " << hex(addr) << "\n";
    return sent(respond(AIMC_HAL_OK));
  }

  Next dma_data(const Request& rq) {
    const bool write = rq.op == AIMC_REMOTE_OP_DMA_WRITE;
    const uint32_t addr = get_u32(rq.p);
    const uint32_t n = write ? rq.len - 4 : get_u32(rq.p + 4);
    if (!write && n > AIMC_REMOTE_MAX_DATA)
      return sent(refuse(AIMC_REMOTE_E_BAD_REQUEST, "DMA_READ of " + std::to_string(n) +
                                                        " bytes, above the limit of " +
                                                        std::to_string(AIMC_REMOTE_MAX_DATA)));
    aimc_dma_buf_t* b = s.find(addr, n);
    if (!b)
      return sent(refuse(AIMC_REMOTE_E_BAD_RANGE,
                         std::string(rq.name) + " of " + std::to_string(n) + " bytes at " + hex(addr) +
                             ": not inside a buffer this client allocated"));
    const size_t off = addr - b->bus_addr;
    auto* cpu = static_cast<uint8_t*>(b->cpu) + off;
    if (verbose()) log() << who << ": " << rq.name << " " << n << " bytes at " << hex(addr) << "\n";
    if (write) {
      std::memcpy(cpu, rq.p + 4, n);
      server.stats_.bytes_to_device += n;
      return sent(respond(hal.ops->dma_sync(hal.ctx, b, off, n, AIMC_DMA_TO_DEVICE)));
    }
    const int st = hal.ops->dma_sync(hal.ctx, b, off, n, AIMC_DMA_FROM_DEVICE);
    if (st == AIMC_HAL_OK) server.stats_.bytes_from_device += n;
    return sent(st == AIMC_HAL_OK ? respond(st, cpu, n) : respond(st));
  }

  Next wait_irq(const Request& rq) {
    uint64_t timeout_ns = get_u64(rq.p);
    if (timeout_ns > kMaxWaitNs) timeout_ns = kMaxWaitNs;
    const int st = hal.ops->wait_irq(hal.ctx, timeout_ns);
    if (verbose())
      log() << who << ": WAIT_IRQ " << timeout_ns << " ns -> "
            << (st == AIMC_HAL_OK ? "raised" : "timeout") << "\n";
    return sent(respond(st));
  }
};

RemoteServer::End RemoteServer::run_session(int fd, aimc_hal_t hal, Session& s) {
  return Runner(*this, fd, hal, s).run();
}

}  // namespace aimc::chip
