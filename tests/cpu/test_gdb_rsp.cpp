// The GDB remote serial protocol layer (model/cpu/gdb_rsp.h): framing, the packets the stub
// answers, acknowledgements over a scripted byte stream, and what malformed input gets.
#include <gtest/gtest.h>

#include <deque>
#include <map>

#include "cpu/gdb_rsp.h"

namespace aimc::cpu::rsp {
namespace {

std::vector<Event> decode(Decoder& d, std::string_view bytes) {
  std::vector<Event> out;
  d.feed(bytes, out);
  return out;
}

// ---- Framing ---------------------------------------------------------------------------------

TEST(GdbRspDecoder, PacketsAcksAndInterrupts) {
  Decoder d;
  const auto ev = decode(d, "+$g#67-\x03$m0,4#fd");
  ASSERT_EQ(ev.size(), 5u);
  EXPECT_EQ(ev[0].kind, Event::Kind::ack);
  EXPECT_EQ(ev[1].kind, Event::Kind::packet);
  EXPECT_EQ(ev[1].payload, "g");
  EXPECT_EQ(ev[2].kind, Event::Kind::nak);
  EXPECT_EQ(ev[3].kind, Event::Kind::interrupt);
  EXPECT_EQ(ev[4].kind, Event::Kind::packet);
  EXPECT_EQ(ev[4].payload, "m0,4");
}

TEST(GdbRspDecoder, PacketSplitAcrossReadsAndUppercaseChecksum) {
  Decoder d;
  EXPECT_TRUE(decode(d, "$qSupp").empty());
  EXPECT_TRUE(decode(d, "orted#").empty());
  EXPECT_TRUE(decode(d, "3").empty());
  const std::string sum = frame("qSupported").substr(frame("qSupported").size() - 1);
  const auto ev = decode(d, std::string(1, static_cast<char>(std::toupper(sum[0]))));
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].kind, Event::Kind::packet);
  EXPECT_EQ(ev[0].payload, "qSupported");
}

TEST(GdbRspDecoder, BadChecksumIsReportedNotDelivered) {
  Decoder d;
  auto ev = decode(d, "$g#00");
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].kind, Event::Kind::bad_checksum);
  ev = decode(d, "$g#zz");  // not even hex
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].kind, Event::Kind::bad_checksum);
  ev = decode(d, "$g#67");  // and the line goes on
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].kind, Event::Kind::packet);
}

TEST(GdbRspDecoder, GarbageBetweenPacketsIsSkippedAndCounted) {
  Decoder d;
  const auto ev = decode(d, "hello\r\n$g#67 \xff");
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].payload, "g");
  EXPECT_EQ(d.garbage_bytes(), 9u);
  // A '$' inside a packet starts a new one; the partial one is lost.
  const auto ev2 = decode(d, "$m0,$g#67");
  ASSERT_EQ(ev2.size(), 1u);
  EXPECT_EQ(ev2[0].payload, "g");
}

TEST(GdbRspDecoder, OversizedPacketIsRefusedWithBoundedMemory) {
  Decoder d(16);
  std::string big = "$" + std::string(100000, 'a');
  EXPECT_TRUE(decode(d, big).empty());
  EXPECT_LE(d.buffered(), 16u);
  uint8_t sum = 0;
  for (int i = 0; i < 100000; ++i) sum = static_cast<uint8_t>(sum + 'a');
  char cs[4];
  std::snprintf(cs, sizeof cs, "%02x", sum);
  auto ev = decode(d, std::string("#") + cs);
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].kind, Event::Kind::too_long);
  ev = decode(d, "$g#67");  // resynchronised
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].kind, Event::Kind::packet);
  // Exactly the limit is still a packet.
  ev = decode(d, frame(std::string(16, 'b')));
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].kind, Event::Kind::packet);
}

TEST(GdbRspFraming, FrameEscapeAndHex) {
  EXPECT_EQ(frame("OK"), "$OK#9a");
  EXPECT_EQ(frame(""), "$#00");
  std::string all;
  for (int i = 0; i < 256; ++i) all.push_back(static_cast<char>(i));
  const std::string esc = escape_binary(all);
  for (const char c : std::string("#$*")) EXPECT_EQ(esc.find(c), std::string::npos) << c;
  EXPECT_EQ(unescape_binary(esc), all);
  EXPECT_EQ(escape_binary("a}b"), "a}]b");
  EXPECT_EQ(unescape_binary("abc}"), std::nullopt);  // a dangling escape
  EXPECT_EQ(to_hex("\x01\xab"), "01ab");
  EXPECT_EQ(from_hex("01AB"), std::string("\x01\xab"));
  EXPECT_EQ(from_hex("123"), std::nullopt);
  EXPECT_EQ(from_hex("zz"), std::nullopt);
  EXPECT_EQ(parse_hex("DeadBeef"), 0xdeadbeefu);
  EXPECT_EQ(parse_hex(""), std::nullopt);
  EXPECT_EQ(parse_hex("12345678123456781"), std::nullopt);  // 17 digits
  EXPECT_EQ(parse_hex("-1"), std::nullopt);
  EXPECT_EQ(reg_hex(0x41494D43u), "434d4941");
}

TEST(GdbRspFraming, StopReplies) {
  StopReply s;
  EXPECT_EQ(stop_reply(s), "T05thread:1;");
  s.signal = kSigInt;
  EXPECT_EQ(stop_reply(s), "T02thread:1;");
  s.kind = StopReply::Kind::breakpoint;
  EXPECT_EQ(stop_reply(s), "T05thread:1;swbreak:;");
  s.hardware = true;
  EXPECT_EQ(stop_reply(s), "T05thread:1;hwbreak:;");
  s.kind = StopReply::Kind::watchpoint;
  s.watch = PointKind::read;
  s.address = 0x80000024u;
  EXPECT_EQ(stop_reply(s), "T05thread:1;rwatch:80000024;");
  s.watch = PointKind::write;
  EXPECT_EQ(stop_reply(s), "T05thread:1;watch:80000024;");
  s.kind = StopReply::Kind::exited;
  s.exit_code = 3;
  EXPECT_EQ(stop_reply(s), "W03");
  s.kind = StopReply::Kind::terminated;
  s.signal = kSigSegv;
  EXPECT_EQ(stop_reply(s), "X0b");
}

// ---- Session against a fake target -----------------------------------------------------------

class FakeTarget : public Target {
 public:
  uint32_t regs[33 + 16] = {};
  std::map<uint32_t, uint8_t> mem;  // readable and writable bytes
  std::vector<std::string> points;
  std::string last_monitor;

  std::optional<uint32_t> read_register(int n) override {
    if (n < 0 || n >= kFirstCsrRegister + kCsrCount) return std::nullopt;
    return regs[n];
  }
  bool write_register(int n, uint32_t v) override {
    if (n < 0 || n >= kFirstCsrRegister + kCsrCount) return false;
    regs[n] = v;
    return true;
  }
  size_t read_memory(uint32_t addr, uint8_t* dst, size_t len) override {
    size_t i = 0;
    for (; i < len && mem.count(addr + static_cast<uint32_t>(i)); ++i) dst[i] = mem[addr + static_cast<uint32_t>(i)];
    return i;
  }
  bool write_memory(uint32_t addr, const uint8_t* src, size_t len) override {
    for (size_t i = 0; i < len; ++i)
      if (!mem.count(addr + static_cast<uint32_t>(i))) return false;
    for (size_t i = 0; i < len; ++i) mem[addr + static_cast<uint32_t>(i)] = src[i];
    return true;
  }
  std::string insert_point(PointKind k, uint32_t addr, uint32_t len) override {
    if (addr == 0xdead) return "refused";
    points.push_back("+" + std::to_string(static_cast<int>(k)) + "@" + std::to_string(addr) + "/" + std::to_string(len));
    return "";
  }
  bool remove_point(PointKind k, uint32_t addr, uint32_t len) override {
    points.push_back("-" + std::to_string(static_cast<int>(k)) + "@" + std::to_string(addr) + "/" + std::to_string(len));
    return true;
  }
  std::string monitor(const std::string& c) override {
    last_monitor = c;
    return c == "quiet" ? "" : "you said " + c + "\n";
  }
};

std::string reply(Session& s, std::string_view packet) {
  const auto r = s.handle(packet);
  return r.payload.value_or("<none>");
}

TEST(GdbRspSession, QueriesGdbAsksFirst) {
  FakeTarget t;
  Session s(t);
  const std::string sup = reply(s, "qSupported:multiprocess+;swbreak+;hwbreak+;xmlRegisters=i386");
  EXPECT_NE(sup.find("PacketSize=4000"), std::string::npos) << sup;  // 16384 in hex
  for (const char* f : {"swbreak+", "hwbreak+", "qXfer:features:read+", "QStartNoAckMode+"})
    EXPECT_NE(sup.find(f), std::string::npos) << f;
  EXPECT_EQ(reply(s, "?"), "T05thread:1;");
  EXPECT_EQ(reply(s, "qAttached"), "1");
  EXPECT_EQ(reply(s, "qAttached:1"), "1");
  EXPECT_EQ(reply(s, "qC"), "QC1");
  EXPECT_EQ(reply(s, "qfThreadInfo"), "m1");
  EXPECT_EQ(reply(s, "qsThreadInfo"), "l");
  EXPECT_EQ(reply(s, "Hg0"), "OK");
  EXPECT_EQ(reply(s, "Hc-1"), "OK");
  EXPECT_EQ(reply(s, "vMustReplyEmpty"), "");
  EXPECT_EQ(reply(s, "qTStatus"), "");
  EXPECT_EQ(reply(s, "qSymbol::"), "OK");
  EXPECT_EQ(reply(s, ""), "");
  EXPECT_EQ(reply(s, "\x7f garbage"), "");
  EXPECT_FALSE(s.no_ack());
  EXPECT_EQ(reply(s, "QStartNoAckMode"), "OK");
  EXPECT_TRUE(s.no_ack());
}

TEST(GdbRspSession, TargetXmlInChunks) {
  FakeTarget t;
  Session s(t);
  std::string xml;
  for (size_t off = 0;;) {
    char q[80];
    std::snprintf(q, sizeof q, "qXfer:features:read:target.xml:%zx,%x", off, 100);
    const std::string r = reply(s, q);
    ASSERT_FALSE(r.empty());
    ASSERT_TRUE(r[0] == 'm' || r[0] == 'l') << r;
    const auto chunk = unescape_binary(r.substr(1));
    ASSERT_TRUE(chunk);
    xml += *chunk;
    off += chunk->size();
    if (r[0] == 'l') break;
    ASSERT_LT(off, 100000u);
  }
  EXPECT_EQ(xml, target_xml());
  EXPECT_NE(xml.find("<architecture>riscv:rv32</architecture>"), std::string::npos);
  EXPECT_NE(xml.find("org.gnu.gdb.riscv.cpu"), std::string::npos);
  EXPECT_NE(xml.find("name=\"pc\""), std::string::npos);
  EXPECT_NE(xml.find("name=\"mcause\""), std::string::npos);
  EXPECT_EQ(reply(s, "qXfer:features:read:target.xml:ffff,10"), "l");
  EXPECT_EQ(reply(s, "qXfer:features:read:other.xml:0,10"), "E00");
  EXPECT_EQ(reply(s, "qXfer:features:read:target.xml:zz"), "E00");
}

TEST(GdbRspSession, Registers) {
  FakeTarget t;
  for (int i = 0; i < 33; ++i) t.regs[i] = 0x01000000u * static_cast<uint32_t>(i) + 0x10u;
  Session s(t);
  const std::string g = reply(s, "g");
  ASSERT_EQ(g.size(), 33u * 8);
  EXPECT_EQ(g.substr(32 * 8), "10000020");  // pc, little-endian
  EXPECT_EQ(reply(s, "p20"), "10000020");
  EXPECT_EQ(reply(s, "P21=78563412"), "OK");  // the first CSR
  EXPECT_EQ(t.regs[kFirstCsrRegister], 0x12345678u);
  EXPECT_EQ(reply(s, "p999"), "E01");
  EXPECT_EQ(reply(s, "pzz"), "E01");
  EXPECT_EQ(reply(s, "P5=1234"), "E01");      // not four bytes
  EXPECT_EQ(reply(s, "P999=00000000"), "E01");
  std::string G;
  for (int i = 0; i < 33; ++i) G += reg_hex(0xA0000000u + static_cast<uint32_t>(i));
  EXPECT_EQ(reply(s, "G" + G), "OK");
  EXPECT_EQ(t.regs[5], 0xA0000005u);
  EXPECT_EQ(t.regs[32], 0xA0000020u);
  EXPECT_EQ(reply(s, "G1234"), "E01");
}

TEST(GdbRspSession, Memory) {
  FakeTarget t;
  for (uint32_t a = 0x1000; a < 0x1008; ++a) t.mem[a] = static_cast<uint8_t>(a);
  Session s(t);
  EXPECT_EQ(reply(s, "m1000,4"), "00010203");
  EXPECT_EQ(reply(s, "m1006,4"), "0607");  // a partial read
  EXPECT_EQ(reply(s, "m2000,4"), "E01");
  EXPECT_EQ(reply(s, "m1000"), "E01");
  EXPECT_EQ(reply(s, "mzz,4"), "E01");
  EXPECT_EQ(reply(s, "m1000,0"), "");
  EXPECT_EQ(reply(s, "m1ffffffff,4"), "E01");  // past 32 bits
  EXPECT_EQ(reply(s, "m1000,100000000"), "0001020304050607");  // capped, never allocated
  EXPECT_EQ(reply(s, "M1000,2:abcd"), "OK");
  EXPECT_EQ(t.mem[0x1001], 0xcd);
  EXPECT_EQ(reply(s, "M1000,3:abcd"), "E01");  // length and data disagree
  EXPECT_EQ(reply(s, "M2000,1:00"), "E01");
  EXPECT_EQ(reply(s, "M1000,1"), "E01");
  EXPECT_EQ(reply(s, "X1000,0:"), "OK");  // GDB's probe
  const std::string bin = std::string("X1002,4:") + escape_binary(std::string("#$}*", 4));
  EXPECT_EQ(reply(s, bin), "OK");
  EXPECT_EQ(t.mem[0x1002], '#');
  EXPECT_EQ(t.mem[0x1005], '*');
  EXPECT_EQ(reply(s, "X1000,2:}"), "E01");
}

TEST(GdbRspSession, BreakAndWatchPoints) {
  FakeTarget t;
  Session s(t);
  EXPECT_EQ(reply(s, "Z0,20000100,2"), "OK");
  EXPECT_EQ(reply(s, "z0,20000100,2"), "OK");
  EXPECT_EQ(reply(s, "Z1,20000104,4"), "OK");
  EXPECT_EQ(reply(s, "Z2,80000000,4"), "OK");
  EXPECT_EQ(reply(s, "Z3,80000000,4;X1,0"), "OK");  // a condition list is ignored
  EXPECT_EQ(reply(s, "Z4,80000000,8"), "OK");
  ASSERT_EQ(t.points.size(), 6u);
  EXPECT_EQ(t.points[0], "+0@536871168/2");
  EXPECT_EQ(t.points[3], "+2@2147483648/4");
  EXPECT_EQ(reply(s, "Z0,dead,2"), "E01");
  EXPECT_EQ(reply(s, "Z5,100,4"), "");  // a type we do not know: not supported
  EXPECT_EQ(reply(s, "Z0,100"), "E01");
  EXPECT_EQ(reply(s, "Z0,100,0"), "E01");
  EXPECT_EQ(reply(s, "Z0,1ffffffff,2"), "E01");
  EXPECT_EQ(reply(s, "Z"), "");
}

TEST(GdbRspSession, ResumesDetachAndKill) {
  FakeTarget t;
  Session s(t);
  auto r = s.handle("c");
  EXPECT_FALSE(r.payload);
  EXPECT_EQ(r.action.kind, Action::Kind::resume);
  EXPECT_FALSE(r.action.step);
  r = s.handle("s20000010");
  EXPECT_TRUE(r.action.step);
  EXPECT_EQ(r.action.address, 0x20000010u);
  r = s.handle("C05;20000020");
  EXPECT_EQ(r.action.kind, Action::Kind::resume);
  EXPECT_EQ(r.action.address, 0x20000020u);
  EXPECT_EQ(reply(s, "Cxx"), "E01");
  EXPECT_EQ(reply(s, "cnothex"), "E01");
  EXPECT_EQ(reply(s, "vCont?"), "vCont;c;C;s;S");
  r = s.handle("vCont;s:1;c");
  EXPECT_EQ(r.action.kind, Action::Kind::resume);
  EXPECT_TRUE(r.action.step);
  r = s.handle("vCont;s:2;c");  // no thread 2: the default action applies
  EXPECT_FALSE(r.action.step);
  r = s.handle("vCont;c:p1.-1");
  EXPECT_EQ(r.action.kind, Action::Kind::resume);
  EXPECT_EQ(reply(s, "vCont;t"), "E01");
  EXPECT_EQ(reply(s, "vCont;"), "E01");
  r = s.handle("D");
  EXPECT_EQ(r.payload, "OK");
  EXPECT_EQ(r.action.kind, Action::Kind::detach);
  r = s.handle("k");
  EXPECT_FALSE(r.payload);
  EXPECT_EQ(r.action.kind, Action::Kind::kill);
  r = s.handle("vKill;1");
  EXPECT_EQ(r.payload, "OK");
  EXPECT_EQ(r.action.kind, Action::Kind::kill);
}

TEST(GdbRspSession, MonitorCommands) {
  FakeTarget t;
  Session s(t);
  EXPECT_EQ(reply(s, "qRcmd," + to_hex("reg ID")), to_hex("you said reg ID\n"));
  EXPECT_EQ(t.last_monitor, "reg ID");
  EXPECT_EQ(reply(s, "qRcmd," + to_hex("quiet")), "OK");
  EXPECT_EQ(reply(s, "qRcmd,7"), "E01");  // odd hex
}

// ---- Link over a scripted stream -------------------------------------------------------------

// Reads come from `script` one chunk per read; when it runs out the stream has ended (never a hang).
class ScriptChannel : public Channel {
 public:
  std::deque<std::string> script;
  std::string written;
  bool read(std::string& out, bool wait) override {
    if (script.empty()) return !wait;
    out += script.front();
    script.pop_front();
    return true;
  }
  bool write(std::string_view bytes) override {
    written += bytes;
    return true;
  }
};

TEST(GdbRspLink, AcknowledgesAnswersAndWaitsForAcks) {
  FakeTarget t;
  Session s(t);
  ScriptChannel ch;
  Link link(ch, s);
  ch.script = {"$?#3f", "+", "$c#63"};
  const Action a = link.serve();
  EXPECT_EQ(a.kind, Action::Kind::resume);
  EXPECT_EQ(ch.written, "+" + frame("T05thread:1;") + "+");
}

TEST(GdbRspLink, BadChecksumGetsNakAndTheResendIsServed) {
  FakeTarget t;
  Session s(t);
  ScriptChannel ch;
  Link link(ch, s);
  ch.script = {"junk$?#00", "$?#3f", "+", "$c#63"};
  EXPECT_EQ(link.serve().kind, Action::Kind::resume);
  EXPECT_EQ(ch.written, "-+" + frame("T05thread:1;") + "+");
  EXPECT_EQ(link.bad_packets(), 1u);
}

TEST(GdbRspLink, NakMakesTheStubResendBounded) {
  FakeTarget t;
  Session s(t);
  ScriptChannel ch;
  Link link(ch, s);
  ch.script = {"$?#3f", "-", "+", "$c#63"};
  EXPECT_EQ(link.serve().kind, Action::Kind::resume);
  EXPECT_EQ(ch.written, "+" + frame("T05thread:1;") + frame("T05thread:1;") + "+");
  // A peer that naks everything: the stub gives up after kMaxResends and the line goes on.
  ScriptChannel ch2;
  Session s2(t);
  Link link2(ch2, s2);
  for (int i = 0; i < 100; ++i) ch2.script.push_back("-");
  EXPECT_TRUE(link2.send("OK"));
  EXPECT_EQ(ch2.written.size(), frame("OK").size() * (Link::kMaxResends + 1));
}

TEST(GdbRspLink, NoAckModeAfterItsOwnAcknowledgedOk) {
  FakeTarget t;
  Session s(t);
  ScriptChannel ch;
  Link link(ch, s);
  ch.script = {frame("QStartNoAckMode"), "+", frame("?"), frame("c")};
  EXPECT_EQ(link.serve().kind, Action::Kind::resume);
  EXPECT_EQ(ch.written, "+" + frame("OK") + frame("T05thread:1;"));
}

TEST(GdbRspLink, OversizedPacketGetsAnErrorReply) {
  FakeTarget t;
  Session s(t);
  ScriptChannel ch;
  Link link(ch, s);
  const std::string big = frame("M0," + std::string(2 * kMaxPayload, '0'));
  ch.script = {big, "+", "$c#63"};
  EXPECT_EQ(link.serve().kind, Action::Kind::resume);
  EXPECT_EQ(ch.written, "+" + frame("E01") + "+");
}

TEST(GdbRspLink, ClosedStreamDetachesAndInterruptIsSeenWhileRunning) {
  FakeTarget t;
  Session s(t);
  ScriptChannel ch;
  Link link(ch, s);
  ch.script = {"$g#6"};  // cut off mid-packet
  EXPECT_EQ(link.serve().kind, Action::Kind::detach);
  EXPECT_TRUE(link.closed());

  ScriptChannel ch2;
  Session s2(t);
  Link running(ch2, s2);
  EXPECT_FALSE(running.interrupt_requested());  // nothing there: no wait
  ch2.script = {"\x03"};
  EXPECT_TRUE(running.interrupt_requested());
  ch2.script = {"\x03", "$?#3f", "+", "$c#63"};  // a stray 0x03 while halted is ignored
  EXPECT_EQ(running.serve().kind, Action::Kind::resume);
}

}  // namespace
}  // namespace aimc::cpu::rsp
