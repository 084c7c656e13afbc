// The GDB remote serial protocol (RSP) for the RV32 core's debug stub, as plain C++: no SystemC,
// no sockets, no Unicorn, so every byte of it is unit-tested (tests/cpu/test_gdb_rsp.cpp).
//   Decoder   bytes from GDB -> packets, acks, interrupts (bounded: nothing grows past max_payload)
//   Session   one packet -> its reply and what the core is to do (resume, step, detach, kill),
//             against a Target (registers, memory, break- and watchpoints, monitor commands)
//   Link      the two over a Channel (a socket, or a script in tests): acknowledgements and
//             retransmission, QStartNoAckMode, packets queued while an answer is awaited
// The SystemC side (gdb_server.h) implements Target and Channel on the core and a TCP socket.
// Protocol reference: GDB's manual, appendix "Remote Serial Protocol"; what we answer is listed
// in docs/firmware.md, "Debugging with GDB".
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace aimc::cpu::rsp {

// The largest packet payload we accept and announce (qSupported PacketSize). 16 KiB lets GDB move
// memory in 8 KiB blocks; a longer packet is refused, never buffered.
inline constexpr size_t kMaxPayload = 16384;
// Registers: x0..x31, pc (32), then the machine CSRs of kCsrNames (33..).
inline constexpr int kPcRegister = 32;
inline constexpr int kFirstCsrRegister = 33;
// GDB's signal numbers (gdb/signals.def; not the host's).
enum Signal : int { kSigInt = 2, kSigIll = 4, kSigTrap = 5, kSigAbrt = 6, kSigKill = 9,
                    kSigBus = 10, kSigSegv = 11 };

// ---- Framing ---------------------------------------------------------------------------------

struct Event {
  enum class Kind {
    packet,        // a well-formed packet: payload holds it, as sent (still escaped)
    bad_checksum,  // a complete packet whose checksum does not match: answer '-'
    too_long,      // a packet longer than max_payload: dropped (its bytes were not kept)
    interrupt,     // 0x03 outside a packet: GDB's Ctrl-C
    ack,           // '+'
    nak,           // '-': resend the last packet
  };
  Kind kind;
  std::string payload;
};

class Decoder {
 public:
  explicit Decoder(size_t max_payload = kMaxPayload) : max_(max_payload) {}
  // Appends the events the bytes complete; a packet may span calls. Bytes between packets that
  // are none of '$', '+', '-', 0x03 are skipped (garbage_bytes counts them); a '$' inside a
  // packet starts a new one (the partial one is garbage).
  void feed(std::string_view bytes, std::vector<Event>& out);
  uint64_t garbage_bytes() const { return garbage_; }
  size_t buffered() const { return payload_.size(); }  // never more than max_payload

 private:
  enum class State { idle, payload, check_hi, check_lo };
  size_t max_;
  State state_ = State::idle;
  std::string payload_;
  bool overflow_ = false;
  uint8_t sum_ = 0;
  int check_hi_ = 0;
  uint64_t garbage_ = 0;
};

// "$payload#cs" (the payload as given: escape binary data first).
std::string frame(std::string_view payload);
// Binary data for a packet: '#', '$', '}' and '*' become '}' followed by the byte XOR 0x20.
std::string escape_binary(std::string_view data);
// The reverse; nullopt for a '}' with nothing after it.
std::optional<std::string> unescape_binary(std::string_view data);
std::string to_hex(std::string_view bytes);
// nullopt unless an even number of hex digits.
std::optional<std::string> from_hex(std::string_view hex);
// A hex number of at most 16 digits (no prefix), nullopt for anything else.
std::optional<uint64_t> parse_hex(std::string_view text);
// A 32-bit register value as RSP sends it: 8 hex digits, target byte order (little-endian).
std::string reg_hex(uint32_t value);

// ---- The target ------------------------------------------------------------------------------

// Z/z packet types.
enum class PointKind { software = 0, hardware = 1, write = 2, read = 3, access = 4 };

// Why the target stopped, for a stop reply.
struct StopReply {
  enum class Kind { signal, breakpoint, watchpoint, exited, terminated };
  Kind kind = Kind::signal;
  int signal = kSigTrap;       // signal, breakpoint, watchpoint, terminated
  bool hardware = false;       // breakpoint: a Z1 one (hwbreak) rather than Z0 (swbreak)
  PointKind watch = PointKind::write;  // watchpoint: which
  uint32_t address = 0;        // watchpoint: the address it triggered on
  int exit_code = 0;           // exited
};
std::string stop_reply(const StopReply& s);

class Target {
 public:
  virtual ~Target() = default;
  // Register regno (0..32, then the CSRs); nullopt for one that does not exist.
  virtual std::optional<uint32_t> read_register(int regno) = 0;
  virtual bool write_register(int regno, uint32_t value) = 0;
  // Copies up to len bytes from addr; returns how many could be read from the start (0: none).
  // Never a side effect on the simulated system.
  virtual size_t read_memory(uint32_t addr, uint8_t* dst, size_t len) = 0;
  virtual bool write_memory(uint32_t addr, const uint8_t* src, size_t len) = 0;
  // "" when inserted; else why not (the reply is an error, the reason goes to the log).
  virtual std::string insert_point(PointKind kind, uint32_t addr, uint32_t length) = 0;
  virtual bool remove_point(PointKind kind, uint32_t addr, uint32_t length) = 0;
  // A `monitor` command line; its console output (ends with a newline).
  virtual std::string monitor(const std::string& command) = 0;
};

// The register set GDB learns from qXfer:features:read:target.xml (riscv:rv32, x0..x31, pc, the
// CSRs below at 33..), so gdb-multiarch needs no `set architecture`.
struct CsrName {
  const char* name;
  uint16_t number;  // the CSR address
};
extern const CsrName kCsrNames[];
extern const int kCsrCount;
const std::string& target_xml();

// ---- One packet at a time --------------------------------------------------------------------

struct Action {
  enum class Kind { none, resume, detach, kill };
  Kind kind = Kind::none;
  bool step = false;                  // resume: one instruction
  std::optional<uint32_t> address;    // resume: from here (c ADDR, s ADDR)
};

class Session {
 public:
  explicit Session(Target& target) : target_(target) {}
  struct Reply {
    std::optional<std::string> payload;  // none: nothing to send (c, s, k)
    Action action;
  };
  // The reply to one packet (the payload as the Decoder gave it). Unknown packets get the empty
  // reply ("not supported"), malformed ones an error; nothing here throws on GDB's input.
  Reply handle(std::string_view packet);
  // The answer to '?': the last stop (set by the side that stops the target).
  void set_last_stop(const StopReply& s) { last_stop_ = s; }
  bool no_ack() const { return no_ack_; }
  // Counts of the packets seen, for tests and the log.
  uint64_t packets() const { return packets_; }

 private:
  std::string read_registers();
  std::string write_registers(std::string_view hex);
  std::string read_memory(std::string_view args);
  std::string write_memory(std::string_view args, bool binary);
  std::string point(std::string_view args, bool insert);
  std::string query(std::string_view packet);
  Reply resume(std::string_view packet);
  Reply vcont(std::string_view actions);

  Target& target_;
  StopReply last_stop_;
  bool no_ack_ = false;
  uint64_t packets_ = 0;
};

// ---- Over a byte stream ----------------------------------------------------------------------

class Channel {
 public:
  virtual ~Channel() = default;
  // Appends what has arrived to `out`. wait: block until at least one byte (or the end);
  // otherwise return at once. False when the stream has ended or failed.
  virtual bool read(std::string& out, bool wait) = 0;
  virtual bool write(std::string_view bytes) = 0;
};

class Link {
 public:
  Link(Channel& channel, Session& session) : channel_(channel), session_(session) {}
  // Serves GDB while the target is halted, until a packet resumes it, detaches or kills (the
  // action), or the stream ends (Action::Kind::detach: the firmware runs on). Stray 0x03 are
  // ignored while halted.
  Action serve();
  // Sends a packet (a stop reply, an exit) and, unless acknowledgements are off, waits for its '+'
  // and resends on '-' (at most kMaxResends times). False when the stream ended.
  bool send(std::string_view payload);
  // While the target runs: reads what is there without waiting. Returns true when GDB asked for
  // an interrupt (0x03). Packets that arrive meanwhile are kept for serve().
  bool interrupt_requested();
  bool closed() const { return closed_; }
  // The log of what went wrong on the line (bad checksums, long packets, garbage), for stderr.
  uint64_t bad_packets() const { return bad_packets_; }

  // Limits that keep a misbehaving peer from hanging the run or growing memory (GDB itself
  // resends a packet at most a few times and never has more than one packet outstanding).
  static constexpr int kMaxResends = 8;
  static constexpr size_t kMaxQueued = 64;  // events kept while waiting for an ack

 private:
  bool pull(bool wait);  // reads and decodes into queue_; false when closed
  bool write_packet(std::string_view payload);

  Channel& channel_;
  Session& session_;
  Decoder decoder_;
  std::deque<Event> queue_;
  std::string last_sent_;
  bool closed_ = false;
  bool acks_ = true;  // until QStartNoAckMode
  uint64_t bad_packets_ = 0;
};

}  // namespace aimc::cpu::rsp
