#include "cpu/gdb_rsp.h"

#include <algorithm>
#include <cstdio>

namespace aimc::cpu::rsp {

namespace {

constexpr char kHex[] = "0123456789abcdef";

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string hex2(unsigned v) { return {kHex[(v >> 4) & 0xF], kHex[v & 0xF]}; }

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && s.substr(0, prefix.size()) == prefix;
}

// "A,B" -> two hex numbers (the rest after B, if any, in `rest`, starting at the separator).
bool two_numbers(std::string_view args, uint64_t& a, uint64_t& b, std::string_view* rest = nullptr) {
  const size_t comma = args.find(',');
  if (comma == std::string_view::npos) return false;
  size_t end = args.find_first_of(":;", comma + 1);
  if (end == std::string_view::npos) end = args.size();
  if (!rest && end != args.size()) return false;
  const auto x = parse_hex(args.substr(0, comma));
  const auto y = parse_hex(args.substr(comma + 1, end - comma - 1));
  if (!x || !y) return false;
  a = *x;
  b = *y;
  if (rest) *rest = args.substr(end);
  return true;
}

constexpr const char* kGprNames[32] = {"zero", "ra", "sp",  "gp",  "tp", "t0", "t1", "t2",
                                       "fp",   "s1", "a0",  "a1",  "a2", "a3", "a4", "a5",
                                       "a6",   "a7", "s2",  "s3",  "s4", "s5", "s6", "s7",
                                       "s8",   "s9", "s10", "s11", "t3", "t4", "t5", "t6"};

}  // namespace

const CsrName kCsrNames[] = {{"mstatus", 0x300}, {"misa", 0x301},   {"mie", 0x304},
                             {"mtvec", 0x305},   {"mscratch", 0x340}, {"mepc", 0x341},
                             {"mcause", 0x342},  {"mtval", 0x343},  {"mip", 0x344}};
const int kCsrCount = static_cast<int>(sizeof kCsrNames / sizeof kCsrNames[0]);

// ---- Framing ---------------------------------------------------------------------------------

void Decoder::feed(std::string_view bytes, std::vector<Event>& out) {
  for (const char c : bytes) {
    const auto u = static_cast<uint8_t>(c);
    switch (state_) {
      case State::idle:
        if (c == '$') {
          state_ = State::payload;
          payload_.clear();
          overflow_ = false;
          sum_ = 0;
        } else if (c == '+') {
          out.push_back({Event::Kind::ack, {}});
        } else if (c == '-') {
          out.push_back({Event::Kind::nak, {}});
        } else if (u == 0x03) {
          out.push_back({Event::Kind::interrupt, {}});
        } else {
          ++garbage_;
        }
        break;
      case State::payload:
        if (c == '#') {
          state_ = State::check_hi;
        } else if (c == '$') {  // a new packet before this one ended: this one is lost
          garbage_ += payload_.size() + 1;
          payload_.clear();
          overflow_ = false;
          sum_ = 0;
        } else {
          sum_ = static_cast<uint8_t>(sum_ + u);
          if (payload_.size() < max_) payload_.push_back(c);
          else overflow_ = true;
        }
        break;
      case State::check_hi:
        check_hi_ = hex_digit(c);
        state_ = State::check_lo;
        break;
      case State::check_lo: {
        const int lo = hex_digit(c);
        state_ = State::idle;
        const bool ok = check_hi_ >= 0 && lo >= 0 && static_cast<uint8_t>(check_hi_ << 4 | lo) == sum_;
        if (!ok) out.push_back({Event::Kind::bad_checksum, {}});
        else if (overflow_) out.push_back({Event::Kind::too_long, {}});
        else out.push_back({Event::Kind::packet, std::move(payload_)});
        payload_.clear();
        overflow_ = false;
        break;
      }
    }
  }
}

std::string frame(std::string_view payload) {
  uint8_t sum = 0;
  for (const char c : payload) sum = static_cast<uint8_t>(sum + static_cast<uint8_t>(c));
  std::string out;
  out.reserve(payload.size() + 4);
  out.push_back('$');
  out.append(payload);
  out.push_back('#');
  out += hex2(sum);
  return out;
}

std::string escape_binary(std::string_view data) {
  std::string out;
  out.reserve(data.size());
  for (const char c : data) {
    if (c == '#' || c == '$' || c == '}' || c == '*') {
      out.push_back('}');
      out.push_back(static_cast<char>(c ^ 0x20));
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::optional<std::string> unescape_binary(std::string_view data) {
  std::string out;
  out.reserve(data.size());
  for (size_t i = 0; i < data.size(); ++i) {
    if (data[i] != '}') {
      out.push_back(data[i]);
      continue;
    }
    if (++i == data.size()) return std::nullopt;
    out.push_back(static_cast<char>(data[i] ^ 0x20));
  }
  return out;
}

std::string to_hex(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size() * 2);
  for (const char c : bytes) out += hex2(static_cast<uint8_t>(c));
  return out;
}

std::optional<std::string> from_hex(std::string_view hex) {
  if (hex.size() % 2) return std::nullopt;
  std::string out(hex.size() / 2, '\0');
  for (size_t i = 0; i < out.size(); ++i) {
    const int hi = hex_digit(hex[2 * i]), lo = hex_digit(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out[i] = static_cast<char>(hi << 4 | lo);
  }
  return out;
}

std::optional<uint64_t> parse_hex(std::string_view text) {
  if (text.empty() || text.size() > 16) return std::nullopt;
  uint64_t v = 0;
  for (const char c : text) {
    const int d = hex_digit(c);
    if (d < 0) return std::nullopt;
    v = v << 4 | static_cast<uint64_t>(d);
  }
  return v;
}

std::string reg_hex(uint32_t value) {
  std::string out;
  for (int i = 0; i < 4; ++i) out += hex2((value >> (8 * i)) & 0xFFu);
  return out;
}

std::string stop_reply(const StopReply& s) {
  switch (s.kind) {
    case StopReply::Kind::exited: return "W" + hex2(static_cast<unsigned>(s.exit_code) & 0xFFu);
    case StopReply::Kind::terminated: return "X" + hex2(static_cast<unsigned>(s.signal) & 0xFFu);
    case StopReply::Kind::breakpoint:
      return "T" + hex2(kSigTrap) + "thread:1;" + (s.hardware ? "hwbreak:;" : "swbreak:;");
    case StopReply::Kind::watchpoint: {
      const char* what = s.watch == PointKind::read ? "rwatch" : s.watch == PointKind::access ? "awatch" : "watch";
      char addr[16];
      std::snprintf(addr, sizeof addr, "%x", s.address);
      return "T" + hex2(kSigTrap) + "thread:1;" + what + ":" + addr + ";";
    }
    case StopReply::Kind::signal: break;
  }
  return "T" + hex2(static_cast<unsigned>(s.signal) & 0xFFu) + "thread:1;";
}

const std::string& target_xml() {
  static const std::string xml = [] {
    std::string x =
        "<?xml version=\"1.0\"?>\n<!DOCTYPE target SYSTEM \"gdb-target.dtd\">\n"
        "<target version=\"1.0\">\n<architecture>riscv:rv32</architecture>\n"
        "<feature name=\"org.gnu.gdb.riscv.cpu\">\n";
    for (int i = 0; i < 32; ++i) {
      const char* type = i == 1 ? "code_ptr" : (i == 2 || i == 8) ? "data_ptr" : "int";
      x += std::string("  <reg name=\"") + kGprNames[i] + "\" bitsize=\"32\" type=\"" + type +
           "\" regnum=\"" + std::to_string(i) + "\"/>\n";
    }
    x += "  <reg name=\"pc\" bitsize=\"32\" type=\"code_ptr\" regnum=\"32\"/>\n</feature>\n"
         "<feature name=\"org.gnu.gdb.riscv.csr\">\n";
    for (int i = 0; i < kCsrCount; ++i)
      x += std::string("  <reg name=\"") + kCsrNames[i].name + "\" bitsize=\"32\" type=\"int\" regnum=\"" +
           std::to_string(kFirstCsrRegister + i) + "\" group=\"csr\"/>\n";
    x += "</feature>\n</target>\n";
    return x;
  }();
  return xml;
}

// ---- Session ---------------------------------------------------------------------------------

Session::Reply Session::handle(std::string_view p) {
  ++packets_;
  Reply r;
  if (p.empty()) {
    r.payload = "";
    return r;
  }
  const std::string_view args = p.substr(1);
  switch (p[0]) {
    case '?': r.payload = stop_reply(last_stop_); break;
    case 'g': r.payload = read_registers(); break;
    case 'G': r.payload = write_registers(args); break;
    case 'p': {
      const auto n = parse_hex(args);
      const auto v = n && *n < 4096 ? target_.read_register(static_cast<int>(*n)) : std::nullopt;
      r.payload = v ? reg_hex(*v) : "E01";
      break;
    }
    case 'P': {
      const size_t eq = args.find('=');
      const auto n = eq == std::string_view::npos ? std::nullopt : parse_hex(args.substr(0, eq));
      const auto bytes = eq == std::string_view::npos ? std::nullopt : from_hex(args.substr(eq + 1));
      bool ok = n && *n < 4096 && bytes && bytes->size() == 4;
      if (ok) {
        uint32_t v = 0;
        for (int i = 3; i >= 0; --i) v = v << 8 | static_cast<uint8_t>((*bytes)[static_cast<size_t>(i)]);
        ok = target_.write_register(static_cast<int>(*n), v);
      }
      r.payload = ok ? "OK" : "E01";
      break;
    }
    case 'm': r.payload = read_memory(args); break;
    case 'M': r.payload = write_memory(args, false); break;
    case 'X': r.payload = write_memory(args, true); break;
    case 'Z': r.payload = point(args, true); break;
    case 'z': r.payload = point(args, false); break;
    case 'c':
    case 's':
    case 'C':
    case 'S': return resume(p);
    case 'v':
      if (p == "vCont?") {
        r.payload = "vCont;c;C;s;S";
      } else if (starts_with(p, "vCont;")) {
        return vcont(p.substr(6));
      } else if (starts_with(p, "vKill")) {
        r.payload = "OK";
        r.action.kind = Action::Kind::kill;
      } else {
        r.payload = "";  // vMustReplyEmpty and everything we do not support
      }
      break;
    case 'q':
    case 'Q': r.payload = query(p); break;
    case 'D':
      r.payload = "OK";
      r.action.kind = Action::Kind::detach;
      break;
    case 'k': r.action.kind = Action::Kind::kill; break;  // no reply (GDB does not wait for one)
    case 'H':
    case 'T': r.payload = "OK"; break;  // one thread: every thread id is it
    default: r.payload = ""; break;
  }
  return r;
}

std::string Session::read_registers() {
  std::string out;
  for (int i = 0; i <= kPcRegister; ++i) out += reg_hex(target_.read_register(i).value_or(0));
  return out;
}

std::string Session::write_registers(std::string_view hex) {
  const auto bytes = from_hex(hex);
  if (!bytes || bytes->size() < 4u * (kPcRegister + 1)) return "E01";
  for (int i = 0; i <= kPcRegister; ++i) {
    uint32_t v = 0;
    for (int b = 3; b >= 0; --b) v = v << 8 | static_cast<uint8_t>((*bytes)[static_cast<size_t>(4 * i + b)]);
    if (i != 0 && !target_.write_register(i, v)) return "E01";
  }
  return "OK";
}

std::string Session::read_memory(std::string_view args) {
  uint64_t addr = 0, len = 0;
  if (!two_numbers(args, addr, len) || addr > 0xFFFFFFFFull) return "E01";
  len = std::min<uint64_t>(len, kMaxPayload / 2);
  len = std::min<uint64_t>(len, 0x100000000ull - addr);
  if (len == 0) return "";
  std::string buf(len, '\0');
  const size_t got = target_.read_memory(static_cast<uint32_t>(addr), reinterpret_cast<uint8_t*>(buf.data()), len);
  if (got == 0) return "E01";
  buf.resize(std::min<size_t>(got, buf.size()));
  return to_hex(buf);
}

std::string Session::write_memory(std::string_view args, bool binary) {
  uint64_t addr = 0, len = 0;
  std::string_view rest;
  if (!two_numbers(args, addr, len, &rest) || rest.empty() || rest[0] != ':' || addr > 0xFFFFFFFFull)
    return "E01";
  const auto data = binary ? unescape_binary(rest.substr(1)) : from_hex(rest.substr(1));
  if (!data || data->size() != len || addr + len > 0x100000000ull) return "E01";
  if (len == 0) return "OK";  // GDB's probe for X
  return target_.write_memory(static_cast<uint32_t>(addr), reinterpret_cast<const uint8_t*>(data->data()), data->size())
             ? "OK"
             : "E01";
}

std::string Session::point(std::string_view args, bool insert) {
  // type,addr,kind[;cond...]
  const size_t c1 = args.find(',');
  if (c1 != 1 || args[0] < '0' || args[0] > '4') return "";  // a type we do not know: unsupported
  uint64_t addr = 0, kind = 0;
  std::string_view rest;
  if (!two_numbers(args.substr(2), addr, kind, &rest) || addr > 0xFFFFFFFFull || kind == 0 ||
      kind > 0x10000)
    return "E01";
  const auto type = static_cast<PointKind>(args[0] - '0');
  if (insert) return target_.insert_point(type, static_cast<uint32_t>(addr), static_cast<uint32_t>(kind)).empty() ? "OK" : "E01";
  return target_.remove_point(type, static_cast<uint32_t>(addr), static_cast<uint32_t>(kind)) ? "OK" : "E01";
}

Session::Reply Session::resume(std::string_view p) {
  Reply r;
  std::string_view addr = p.substr(1);
  if (p[0] == 'C' || p[0] == 'S') {  // Csig[;addr]: the signal is not delivered (bare metal)
    const size_t semi = addr.find(';');
    if (!parse_hex(addr.substr(0, semi))) {
      r.payload = "E01";
      return r;
    }
    addr = semi == std::string_view::npos ? std::string_view() : addr.substr(semi + 1);
  }
  if (!addr.empty()) {
    const auto a = parse_hex(addr);
    if (!a || *a > 0xFFFFFFFFull) {
      r.payload = "E01";
      return r;
    }
    r.action.address = static_cast<uint32_t>(*a);
  }
  r.action.kind = Action::Kind::resume;
  r.action.step = p[0] == 's' || p[0] == 'S';
  return r;
}

Session::Reply Session::vcont(std::string_view actions) {
  // action[:thread](;action[:thread])*: the first that applies to our thread (or to all) decides.
  Reply r;
  while (!actions.empty()) {
    const size_t semi = actions.find(';');
    const std::string_view one = actions.substr(0, semi);
    actions = semi == std::string_view::npos ? std::string_view() : actions.substr(semi + 1);
    const size_t colon = one.find(':');
    const std::string_view act = one.substr(0, colon);
    if (colon != std::string_view::npos) {
      const std::string_view thread = one.substr(colon + 1);
      if (thread != "1" && thread != "-1" && thread != "p1.1" && thread != "p1.-1" && thread != "0")
        continue;  // another thread: there is none
    }
    if (act.empty()) break;
    if (act[0] == 'c' || act[0] == 's') {
      if (act.size() != 1) break;
    } else if (act[0] == 'C' || act[0] == 'S') {
      if (!parse_hex(act.substr(1))) break;
    } else {
      break;  // t, r and the rest: not supported
    }
    r.action.kind = Action::Kind::resume;
    r.action.step = act[0] == 's' || act[0] == 'S';
    return r;
  }
  r.payload = "E01";
  return r;
}

std::string Session::query(std::string_view p) {
  if (starts_with(p, "qSupported"))
    return "PacketSize=" + [] {
      char b[16];
      std::snprintf(b, sizeof b, "%zx", kMaxPayload);
      return std::string(b);
    }() + ";qXfer:features:read+;swbreak+;hwbreak+;QStartNoAckMode+;vContSupported+";
  if (p == "QStartNoAckMode") {
    no_ack_ = true;
    return "OK";
  }
  if (p == "qAttached" || starts_with(p, "qAttached:")) return "1";  // GDB detaches, never kills, on quit
  if (p == "qC") return "QC1";
  if (p == "qfThreadInfo") return "m1";
  if (p == "qsThreadInfo") return "l";
  if (starts_with(p, "qThreadExtraInfo,")) return to_hex("RV32IMAC core");
  if (starts_with(p, "qSymbol")) return "OK";
  if (starts_with(p, "qXfer:features:read:")) {
    std::string_view rest = p.substr(20);
    const size_t colon = rest.find(':');
    if (colon == std::string_view::npos) return "E00";
    if (rest.substr(0, colon) != "target.xml") return "E00";
    uint64_t off = 0, len = 0;
    if (!two_numbers(rest.substr(colon + 1), off, len)) return "E00";
    const std::string& xml = target_xml();
    if (off >= xml.size()) return "l";
    // Escaping can double a byte: keep the reply within the packet size.
    len = std::min<uint64_t>(len, kMaxPayload / 2 - 1);
    const std::string chunk = xml.substr(off, len);
    return (off + chunk.size() >= xml.size() ? "l" : "m") + escape_binary(chunk);
  }
  if (starts_with(p, "qRcmd,")) {
    const auto text = from_hex(p.substr(6));
    if (!text) return "E01";
    const std::string out = target_.monitor(*text);
    if (out.empty()) return "OK";
    // The output as one hex reply, cut to the packet size.
    return to_hex(std::string_view(out).substr(0, kMaxPayload / 2 - 1));
  }
  return "";
}

// ---- Link ------------------------------------------------------------------------------------

bool Link::pull(bool wait) {
  std::string bytes;
  const bool open = channel_.read(bytes, wait);
  std::vector<Event> events;
  decoder_.feed(bytes, events);
  for (Event& e : events) {
    if (queue_.size() >= kMaxQueued && e.kind != Event::Kind::ack && e.kind != Event::Kind::nak) {
      ++bad_packets_;  // a flood while we wait: drop it rather than grow
      continue;
    }
    queue_.push_back(std::move(e));
  }
  if (!open) closed_ = true;
  return open || !events.empty();
}

bool Link::write_packet(std::string_view payload) {
  last_sent_ = frame(payload);
  if (!channel_.write(last_sent_)) {
    closed_ = true;
    return false;
  }
  return true;
}

bool Link::send(std::string_view payload) {
  if (closed_) return false;
  if (!write_packet(payload)) return false;
  if (!acks_) return true;
  for (int resends = 0;;) {
    bool resent = false;
    for (auto it = queue_.begin(); it != queue_.end(); ++it) {
      if (it->kind == Event::Kind::ack) {
        queue_.erase(it);
        return true;
      }
      if (it->kind == Event::Kind::nak) {
        queue_.erase(it);
        if (++resends > kMaxResends) return true;  // give up on this one; the line goes on
        if (!channel_.write(last_sent_)) {
          closed_ = true;
          return false;
        }
        resent = true;
        break;
      }
    }
    if (!resent && (closed_ || !pull(true))) return false;
  }
}

Action Link::serve() {
  const Action closed{Action::Kind::detach, false, std::nullopt};
  for (;;) {
    while (queue_.empty())
      if ((closed_ || !pull(true)) && queue_.empty()) {
        closed_ = true;
        return closed;
      }
    Event e = std::move(queue_.front());
    queue_.pop_front();
    switch (e.kind) {
      case Event::Kind::packet: {
        if (acks_ && !channel_.write("+")) {
          closed_ = true;
          return closed;
        }
        const Session::Reply r = session_.handle(e.payload);
        // QStartNoAckMode's own OK is still acknowledged: the switch comes after it.
        if (r.payload) send(*r.payload);
        if (session_.no_ack()) acks_ = false;
        if (r.action.kind != Action::Kind::none) return r.action;
        break;
      }
      case Event::Kind::bad_checksum:
        ++bad_packets_;
        if (acks_) channel_.write("-");
        break;
      case Event::Kind::too_long:
        ++bad_packets_;
        if (acks_) channel_.write("+");
        send("E01");
        break;
      case Event::Kind::nak:        // for nothing we are waiting on
      case Event::Kind::interrupt:  // already halted
      case Event::Kind::ack: break;
    }
    if (closed_) return closed;
  }
}

bool Link::interrupt_requested() {
  if (closed_) return false;
  pull(false);
  bool asked = false;
  for (auto it = queue_.begin(); it != queue_.end();) {
    if (it->kind == Event::Kind::interrupt) {
      asked = true;
      it = queue_.erase(it);
    } else {
      ++it;
    }
  }
  return asked;
}

}  // namespace aimc::cpu::rsp
