#include "cpu/gdb_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "cpu/rv32_core.h"

namespace aimc::cpu {

namespace {

WatchKind watch_kind(rsp::PointKind k) {
  return k == rsp::PointKind::read ? WatchKind::read : k == rsp::PointKind::access ? WatchKind::access : WatchKind::write;
}

rsp::StopReply reply_for(const DebugStop& s) {
  rsp::StopReply r;
  switch (s.kind) {
    case DebugStop::Kind::initial:
    case DebugStop::Kind::step: r.signal = rsp::kSigTrap; break;
    case DebugStop::Kind::interrupt: r.signal = rsp::kSigInt; break;
    case DebugStop::Kind::breakpoint:
      r.kind = rsp::StopReply::Kind::breakpoint;
      r.hardware = s.hardware;
      break;
    case DebugStop::Kind::watchpoint:
      r.kind = rsp::StopReply::Kind::watchpoint;
      r.watch = s.watch == WatchKind::read ? rsp::PointKind::read
                : s.watch == WatchKind::access ? rsp::PointKind::access
                                               : rsp::PointKind::write;
      r.address = s.address;
      break;
    case DebugStop::Kind::fault: r.signal = s.signal; break;
    case DebugStop::Kind::exited:
      r.kind = rsp::StopReply::Kind::exited;
      r.exit_code = s.exit_code;
      break;
    case DebugStop::Kind::killed:
      r.kind = rsp::StopReply::Kind::terminated;
      r.signal = rsp::kSigKill;
      break;
  }
  return r;
}

}  // namespace

// A connected TCP socket as the RSP's byte stream.
class GdbServer::Socket : public rsp::Channel {
 public:
  explicit Socket(int fd) : fd_(fd) {}
  ~Socket() override { ::close(fd_); }
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;

  bool read(std::string& out, bool wait) override {
    char buf[4096];
    for (;;) {
      const ssize_t n = ::recv(fd_, buf, sizeof buf, wait ? 0 : MSG_DONTWAIT);
      if (n > 0) {
        out.append(buf, static_cast<size_t>(n));
        return true;
      }
      if (n == 0) return false;
      if (errno == EINTR) continue;
      return !wait && (errno == EAGAIN || errno == EWOULDBLOCK);
    }
  }
  bool write(std::string_view bytes) override {
    while (!bytes.empty()) {
      const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      bytes.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }

 private:
  int fd_;
};

GdbServer::GdbServer(Rv32Core& core, uint16_t port, Monitor monitor, std::ostream& log)
    : core_(core), monitor_(std::move(monitor)), log_(log) {
  const std::string where = "127.0.0.1:" + std::to_string(port);
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listen_fd_ < 0) throw std::runtime_error("gdb: cannot open a socket: " + std::string(std::strerror(errno)));
  const int one = 1;
  ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);  // loopback only: the stub has no authentication
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(listen_fd_, 1) != 0) {
    const std::string why = std::strerror(errno);
    ::close(listen_fd_);
    throw std::runtime_error("gdb: cannot listen on " + where + ": " + why);
  }
  socklen_t len = sizeof a;
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&a), &len);
  port_ = ntohs(a.sin_port);
}

GdbServer::~GdbServer() {
  link_.reset();
  session_.reset();
  socket_.reset();
  if (listen_fd_ >= 0) ::close(listen_fd_);
}

bool GdbServer::accept_connection() {
  if (link_) return true;
  if (session_over_ || listen_fd_ < 0) return false;
  int fd;
  do {
    fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
  } while (fd < 0 && errno == EINTR);
  ::close(listen_fd_);  // one session per run
  listen_fd_ = -1;
  if (fd < 0) {
    log_ << "aimc fw run: gdb: accept failed (" << std::strerror(errno) << "); the firmware runs without a debugger\n";
    session_over_ = true;
    return false;
  }
  const int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  socket_ = std::make_unique<Socket>(fd);
  session_ = std::make_unique<rsp::Session>(static_cast<rsp::Target&>(*this));
  link_ = std::make_unique<rsp::Link>(*socket_, *session_);
  log_ << "aimc fw run: gdb: connected\n" << std::flush;
  return true;
}

void GdbServer::close_connection(const char* why) {
  if (!link_) return;
  if (link_->bad_packets())
    log_ << "aimc fw run: gdb: " << link_->bad_packets() << " malformed packet(s) refused\n";
  link_.reset();
  session_.reset();
  socket_.reset();
  session_over_ = true;
  log_ << "aimc fw run: gdb: " << why << "\n" << std::flush;
}

void GdbServer::console(const std::string& text) {
  if (link_) link_->send("O" + rsp::to_hex(std::string_view(text).substr(0, rsp::kMaxPayload / 2 - 1)));
}

DebugResume GdbServer::halted(const DebugStop& why) {
  if (why.kind == DebugStop::Kind::initial && !accept_connection()) return DebugResume::detach;
  if (!link_) return DebugResume::detach;
  const rsp::StopReply reply = reply_for(why);
  session_->set_last_stop(reply);
  if (why.kind != DebugStop::Kind::initial) {  // the answer to the c or s GDB is waiting on
    if (why.kind == DebugStop::Kind::fault) console("aimc fw run: " + why.fault_message + "\n");
    link_->send(rsp::stop_reply(reply));
  }
  if (link_->closed()) {
    close_connection("the connection closed; the firmware runs on");
    return DebugResume::detach;
  }
  const rsp::Action a = link_->serve();
  switch (a.kind) {
    case rsp::Action::Kind::resume:
      if (a.address) core_.debug_set_pc(*a.address);
      last_poll_ = std::chrono::steady_clock::now();
      return a.step ? DebugResume::step : DebugResume::cont;
    case rsp::Action::Kind::kill:
      close_connection("killed the run");
      return DebugResume::kill;
    case rsp::Action::Kind::detach:
    case rsp::Action::Kind::none: break;
  }
  close_connection(link_->closed() ? "the connection closed; the firmware runs on"
                                   : "detached; the firmware runs on");
  return DebugResume::detach;
}

bool GdbServer::interrupt_requested() {
  if (!link_) return false;
  const auto now = std::chrono::steady_clock::now();
  if (now - last_poll_ < kPollEvery) return false;
  last_poll_ = now;
  // A closed connection halts the core too: halted() then finds it closed and lets it run free.
  return link_->interrupt_requested() || link_->closed();
}

void GdbServer::ended(const DebugStop& why) {
  if (!link_) return;
  if (why.kind == DebugStop::Kind::fault) {  // shown as a stop already; now the process is gone
    rsp::StopReply r;
    r.kind = rsp::StopReply::Kind::terminated;
    r.signal = why.signal;
    link_->send(rsp::stop_reply(r));
  } else if (why.kind != DebugStop::Kind::killed) {
    link_->send(rsp::stop_reply(reply_for(why)));
  }
  close_connection(why.kind == DebugStop::Kind::exited ? "the firmware exited; session closed"
                                                      : "the run ended; session closed");
}

void GdbServer::abandon(const std::string& why) {
  if (!link_) return;
  console("aimc fw run: " + why + "\n");
  rsp::StopReply r;
  r.kind = rsp::StopReply::Kind::exited;
  r.exit_code = 1;
  link_->send(rsp::stop_reply(r));
  close_connection("the run ended; session closed");
}

// ---- rsp::Target -----------------------------------------------------------------------------

std::optional<uint32_t> GdbServer::read_register(int regno) {
  if (regno >= 0 && regno < 32) return core_.debug_x(regno);
  if (regno == rsp::kPcRegister) return core_.pc();
  const int csr = regno - rsp::kFirstCsrRegister;
  if (csr >= 0 && csr < rsp::kCsrCount) return core_.debug_csr(rsp::kCsrNames[csr].number);
  return std::nullopt;
}

bool GdbServer::write_register(int regno, uint32_t value) {
  if (regno >= 0 && regno < 32) {
    core_.debug_set_x(regno, value);
    return true;
  }
  if (regno == rsp::kPcRegister) {
    core_.debug_set_pc(value);
    return true;
  }
  const int csr = regno - rsp::kFirstCsrRegister;
  if (csr >= 0 && csr < rsp::kCsrCount) return core_.debug_set_csr(rsp::kCsrNames[csr].number, value);
  return false;
}

size_t GdbServer::read_memory(uint32_t addr, uint8_t* dst, size_t len) { return core_.debug_read(addr, dst, len); }

bool GdbServer::write_memory(uint32_t addr, const uint8_t* src, size_t len) {
  return core_.debug_write(addr, src, len);
}

std::string GdbServer::insert_point(rsp::PointKind kind, uint32_t addr, uint32_t length) {
  std::string why;
  if (kind == rsp::PointKind::software || kind == rsp::PointKind::hardware) {
    if (breakpoints_ >= kMaxBreakpoints) why = "more than " + std::to_string(kMaxBreakpoints) + " breakpoints";
    else why = core_.insert_breakpoint(addr, kind == rsp::PointKind::hardware);
    if (why.empty()) ++breakpoints_;
  } else {
    if (watchpoints_ >= kMaxWatchpoints) why = "more than " + std::to_string(kMaxWatchpoints) + " watchpoints";
    else why = core_.insert_watchpoint(addr, length, watch_kind(kind));
    if (why.empty()) ++watchpoints_;
  }
  if (!why.empty()) log_ << "aimc fw run: gdb: cannot insert a point at 0x" << std::hex << addr << std::dec << ": " << why << "\n";
  return why;
}

bool GdbServer::remove_point(rsp::PointKind kind, uint32_t addr, uint32_t length) {
  if (kind == rsp::PointKind::software || kind == rsp::PointKind::hardware) {
    const bool ok = core_.remove_breakpoint(addr, kind == rsp::PointKind::hardware);
    if (ok) --breakpoints_;
    return ok;
  }
  const bool ok = core_.remove_watchpoint(addr, length, watch_kind(kind));
  if (ok) --watchpoints_;
  return ok;
}

std::string GdbServer::monitor(const std::string& command) {
  if (!monitor_) return "no monitor commands here\n";
  try {
    return monitor_(command);
  } catch (const std::exception& e) {
    return std::string("monitor: ") + e.what() + "\n";
  }
}

}  // namespace aimc::cpu
