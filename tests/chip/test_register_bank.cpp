// The register bank on a tiny table of its own (dispatch, access policies, the error responses
// and their order, windows, callbacks, misuse of the bank by model code), and the real register
// table's compile-time handles checked against the generated firmware header. No SystemC.
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <iterator>
#include <utility>
#include <vector>

#include "aimc_regs.h"
#include "chip/host_register_layout.h"
#include "chip/register_bank.h"
#include "chip/register_table.h"

namespace aimc::chip {
namespace {

using regs::Access;

// ---- Every register handle is at the offset the generated firmware header names -------------
#define CHECK_REG(name, ...)                                        \
  static_assert(regs::offset(regs::Reg::name) == AIMC_REG_##name, \
                "Reg::" #name " is not at AIMC_REG_" #name);
AIMC_REGISTER_LIST(CHECK_REG)
#undef CHECK_REG
#define TREG_OFFSET_one(name) AIMC_TREG_##name
#define TREG_OFFSET_per_column(name) AIMC_TREG_##name(0)
#define CHECK_TILE_REG(name, off, acc, span, ...)                                \
  static_assert(regs::offset(regs::TileReg::name) == TREG_OFFSET_##span(name), \
                "TileReg::" #name " is not at AIMC_TREG_" #name);
AIMC_TILE_REGISTER_LIST(CHECK_TILE_REG)
#undef CHECK_TILE_REG

using HostBank = RegisterBank<regs::Reg, regs::TileReg>;
using Request = RegisterBankCore::Request;
using Response = RegisterBankCore::Response;

TEST(RegisterTable, TheRealBankFindsEveryRegisterByItsHandle) {
  const HostBank::Layout l = host_register_layout(12, 64);
  HostBank bank(l);
  for (size_t i = 0; i < regs::kRegisterCount; ++i) {
    const regs::Register& r = regs::kRegisters[i];
    EXPECT_EQ(bank.name_at(r.offset), r.name);
    EXPECT_EQ(&regs::info(static_cast<regs::Reg>(i)), &r);
  }
  EXPECT_EQ(bank.name_at(AIMC_TILE_REG(11, AIMC_TREG_RESULT(63))), "tile11.RESULT[63]");
  EXPECT_EQ(bank.name_at(AIMC_TILE_REG(12, AIMC_TREG_STATUS)), "");  // no 13th tile
  EXPECT_EQ(bank.get(regs::Reg::ID), AIMC_CHIP_ID);                   // reset from the table
  EXPECT_EQ(bank.get(regs::Reg::CAPS_GRID), 0u);                      // from config: not yet set
  EXPECT_EQ(bank.get(regs::Reg::TEMP_ALARM_MC), 85000u);
}

// ---- A tiny bank ----------------------------------------------------------------------------
enum class TinyReg { A, B, C, D, E, F };
enum class TinyWin { X, CMD, ARR };
constexpr regs::Register kTiny[] = {
    {"A", 0x00, Access::rw, 5, "plain", nullptr, 0},
    {"B", 0x04, Access::ro, 0x1234, "read-only", nullptr, 0},
    {"C", 0x08, Access::wo, 0, "write-only", nullptr, 0},
    {"D", 0x0C, Access::w1c, 0xFF, "write 1 to clear", nullptr, 0},
    {"E", 0x10, Access::rw, regs::kFromConfig, "set by its owner", nullptr, 0},
    {"F", 0x18, Access::rw, 0, "after a hole at 0x14", nullptr, 0},
};
constexpr regs::TileRegister kTinyWindow[] = {
    {"X", 0x00, Access::ro, false, "one", nullptr, 0},
    {"CMD", 0x04, Access::wo, false, "command", nullptr, 0},
    {"ARR", 0x10, Access::rw, true, "per column", nullptr, 0},
};
using TinyBank = RegisterBank<TinyReg, TinyWin>;

TinyBank::Layout tiny_layout() {
  TinyBank::Layout l;
  l.registers = kTiny;
  l.register_count = std::size(kTiny);
  l.space_bytes = 0x1000;
  l.window_registers = kTinyWindow;
  l.window_register_count = std::size(kTinyWindow);
  l.window_base = 0x100;
  l.window_stride = 0x40;
  l.windows = 2;
  l.columns = 3;
  l.window_prefix = "w";
  return l;
}

struct Tiny {
  TinyBank bank{tiny_layout()};
  std::vector<std::pair<uint32_t, uint32_t>> errors;  // (code, address) as reported
  uint64_t now_ps = 1000, delay_ps = 0, took_ps = 0;

  Tiny() {
    bank.set_error_handler([this](uint32_t code, uint32_t addr) { errors.emplace_back(code, addr); });
  }
  Response send(Request r) {
    RegAccess a;
    a.now_ps = now_ps;
    a.delay_ps = delay_ps;
    const Response resp = bank.access(r, a);
    took_ps = a.took_ps;
    last_data = r.data;
    return resp;
  }
  uint32_t read(uint64_t addr) {
    Request r;
    r.address = addr;
    EXPECT_EQ(send(r), Response::ok) << "read " << addr;
    return last_data;
  }
  Response write(uint64_t addr, uint32_t v) {
    Request r;
    r.kind = Request::Kind::write;
    r.address = addr;
    r.data = v;
    return send(r);
  }
  uint32_t last_data = 0;
};

TEST(RegisterBank, PoliciesWithoutCallbacks) {
  Tiny t;
  EXPECT_EQ(t.read(0x00), 5u);  // reset from the table
  EXPECT_EQ(t.write(0x00, 7), Response::ok);
  EXPECT_EQ(t.read(0x00), 7u);
  EXPECT_EQ(t.bank.get(TinyReg::A), 7u);
  // Read-only: ignored, OK response, RO_WRITE at the register's address.
  EXPECT_EQ(t.write(0x04, 1), Response::ok);
  EXPECT_EQ(t.read(0x04), 0x1234u);
  ASSERT_EQ(t.errors.size(), 1u);
  EXPECT_EQ(t.errors[0], std::make_pair(uint32_t{AIMC_ERR_RO_WRITE}, 0x04u));
  // Write-only: stored but reads return 0.
  EXPECT_EQ(t.write(0x08, 9), Response::ok);
  EXPECT_EQ(t.read(0x08), 0u);
  EXPECT_EQ(t.bank.get(TinyReg::C), 9u);
  // W1C clears the bits written.
  EXPECT_EQ(t.write(0x0C, 0x0F), Response::ok);
  EXPECT_EQ(t.read(0x0C), 0xF0u);
  // A config reset starts at 0 until the owner sets it.
  EXPECT_EQ(t.read(0x10), 0u);
  t.bank.set(TinyReg::E, 42);
  EXPECT_EQ(t.read(0x10), 42u);
  ++t.bank[TinyReg::E];
  EXPECT_EQ(t.read(0x10), 43u);
  EXPECT_EQ(t.errors.size(), 1u);
}

TEST(RegisterBank, BadAccessesGetTheirResponseAndErrorInOrder) {
  Tiny t;
  auto req = [](uint64_t addr, unsigned len, unsigned width, bool be) {
    Request r;
    r.address = addr;
    r.length = len;
    r.streaming_width = width;
    r.byte_enables = be;
    return r;
  };
  // Byte enables are checked first, then bursts, then the space, then size and alignment.
  EXPECT_EQ(t.send(req(0x2000, 2, 1, true)), Response::byte_enable_error);
  EXPECT_EQ(t.send(req(0x2000, 2, 1, false)), Response::burst_error);
  EXPECT_EQ(t.send(req(0x2000, 2, 2, false)), Response::address_error);
  EXPECT_EQ(t.send(req(0x00, 2, 2, false)), Response::command_error);
  EXPECT_EQ(t.send(req(0x00, 8, 8, false)), Response::command_error);
  EXPECT_EQ(t.send(req(0x02, 4, 4, false)), Response::command_error);
  EXPECT_EQ(t.send(req(0x14, 4, 4, false)), Response::address_error);   // a hole in the table
  EXPECT_EQ(t.send(req(0x180, 4, 4, false)), Response::address_error);  // a third window
  EXPECT_EQ(t.send(req(0x11C, 4, 4, false)), Response::address_error);  // ARR[3] of 3 columns
  EXPECT_EQ(t.send(req(0x108, 4, 4, false)), Response::address_error);  // between X/CMD and ARR
  const std::vector<std::pair<uint32_t, uint32_t>> want = {
      {AIMC_ERR_ACCESS, 0x2000},   {AIMC_ERR_ACCESS, 0x2000},   {AIMC_ERR_UNMAPPED, 0x2000},
      {AIMC_ERR_ACCESS, 0x00},     {AIMC_ERR_ACCESS, 0x00},     {AIMC_ERR_ACCESS, 0x02},
      {AIMC_ERR_UNMAPPED, 0x14},   {AIMC_ERR_UNMAPPED, 0x180},  {AIMC_ERR_UNMAPPED, 0x11C},
      {AIMC_ERR_UNMAPPED, 0x108}};
  EXPECT_EQ(t.errors, want);
  // Nothing was read or written on the way.
  EXPECT_EQ(t.read(0x00), 5u);
}

TEST(RegisterBank, CallbacksReplaceOrFollowTheStore) {
  Tiny t;
  std::vector<std::string> log;
  t.bank.on_read(TinyReg::B, [](const RegAccess& a) { return static_cast<uint32_t>(a.now_ps / 10); });
  t.bank.on_write(TinyReg::A, [&](uint32_t v, RegAccess& a) {
    if (v > 100) return a.refuse(AIMC_ERR_BAD_VALUE);
    t.bank.set(TinyReg::A, v * 2);
  });
  t.bank.after_write(TinyReg::D, [&](uint32_t v, RegAccess&) {
    log.push_back("D=" + std::to_string(t.bank.get(TinyReg::D)) + " after " + std::to_string(v));
  });
  t.bank.on_write(TinyReg::C, [&](uint32_t, RegAccess& a) {
    a.took_ps += 500;
    a.refuse(AIMC_ERR_BUSY, 77);
  });
  t.now_ps = 12340;
  EXPECT_EQ(t.read(0x04), 1234u);  // live value at the caller's local time
  EXPECT_EQ(t.write(0x00, 21), Response::ok);
  EXPECT_EQ(t.read(0x00), 42u);  // the callback decided what is stored
  EXPECT_EQ(t.write(0x00, 101), Response::ok);
  EXPECT_EQ(t.read(0x00), 42u);  // refused: unchanged
  EXPECT_EQ(t.write(0x0C, 0x01), Response::ok);
  ASSERT_EQ(log.size(), 1u);
  EXPECT_EQ(log[0], "D=254 after 1");  // W1C applied before the hook
  EXPECT_EQ(t.write(0x08, 1), Response::ok);
  EXPECT_EQ(t.took_ps, 500u);
  const std::vector<std::pair<uint32_t, uint32_t>> want = {{AIMC_ERR_BAD_VALUE, 0x00},
                                                           {AIMC_ERR_BUSY, 77}};
  EXPECT_EQ(t.errors, want);
}

TEST(RegisterBank, WindowsPassWindowAndColumnAndKeepTheirPolicies) {
  Tiny t;
  std::vector<std::string> writes;
  t.bank.on_read(TinyWin::X, [](const RegAccess& a) { return 100u + a.window; });
  t.bank.on_read(TinyWin::ARR, [](const RegAccess& a) { return 10u * a.window + a.column; });
  t.bank.on_write(TinyWin::ARR, [&](uint32_t v, RegAccess& a) {
    writes.push_back(std::to_string(a.window) + ":" + std::to_string(a.column) + "=" +
                     std::to_string(v));
  });
  EXPECT_EQ(t.read(0x140), 101u);         // window 1, X
  EXPECT_EQ(t.read(0x100 + 0x10 + 8), 2u);  // window 0, ARR[2]
  EXPECT_EQ(t.read(0x140 + 0x10 + 4), 11u);
  EXPECT_EQ(t.read(0x144), 0u);  // CMD is write-only
  EXPECT_EQ(t.write(0x144, 1), Response::ok);  // no callback: ignored
  EXPECT_EQ(t.write(0x154, 9), Response::ok);
  EXPECT_EQ(writes, std::vector<std::string>{"1:1=9"});
  EXPECT_EQ(t.write(0x140, 3), Response::ok);  // X is read-only: flagged at its full address
  ASSERT_EQ(t.errors.size(), 1u);
  EXPECT_EQ(t.errors[0], std::make_pair(uint32_t{AIMC_ERR_RO_WRITE}, 0x140u));
  EXPECT_EQ(t.bank.name_at(0x154), "w1.ARR[1]");
  EXPECT_EQ(t.bank.name_at(0x140), "w1.X");
  EXPECT_EQ(t.bank.name_at(0x0C), "D");
  EXPECT_EQ(t.bank.name_at(0x14), "");
}

TEST(RegisterBank, IgnoreCommandsAndDebugReadsHaveNoEffect) {
  Tiny t;
  int reads = 0;
  t.bank.on_read(TinyReg::B, [&](const RegAccess&) { return static_cast<uint32_t>(++reads); });
  Request ignore;
  ignore.kind = Request::Kind::ignore;
  ignore.address = 0x00;
  ignore.data = 99;
  EXPECT_EQ(t.send(ignore), Response::ok);
  EXPECT_EQ(t.read(0x00), 5u);
  EXPECT_EQ(t.bank.debug_read(0x04, 4, 0), 1u);
  EXPECT_EQ(t.bank.debug_read(0x08, 4, 0), 0u);  // write-only reads 0
  EXPECT_FALSE(t.bank.debug_read(0x04, 2, 0));
  EXPECT_FALSE(t.bank.debug_read(0x140, 4, 0));  // windows are not debug-readable
  EXPECT_FALSE(t.bank.debug_read(0x14, 4, 0));
  EXPECT_EQ(t.bank.peek("A", 0), 5u);
  EXPECT_FALSE(t.bank.peek("NOPE", 0));
  EXPECT_TRUE(t.errors.empty());  // debug access reports nothing
}

TEST(RegisterBank, ModelMisuseIsCaughtAtConstruction) {
  Tiny t;
  auto noop_read = [](const RegAccess&) { return 0u; };
  auto noop_write = [](uint32_t, RegAccess&) {};
  EXPECT_THROW(t.bank.on_write(TinyReg::B, noop_write), std::logic_error);  // read-only
  EXPECT_THROW(t.bank.on_read(TinyReg::C, noop_read), std::logic_error);    // write-only
  EXPECT_THROW(t.bank.on_write(TinyWin::X, noop_write), std::logic_error);
  t.bank.on_write(TinyReg::A, noop_write);
  EXPECT_THROW(t.bank.after_write(TinyReg::A, noop_write), std::logic_error);  // one per register
  t.bank.on_read(TinyReg::A, noop_read);
  EXPECT_THROW(t.bank.on_read(TinyReg::A, noop_read), std::logic_error);
  // Two registers at one offset, or windows over the table.
  const regs::Register clash[] = {{"P", 0x0, Access::rw, 0, "", nullptr, 0},
                                  {"Q", 0x0, Access::rw, 0, "", nullptr, 0}};
  TinyBank::Layout l = tiny_layout();
  l.registers = clash;
  l.register_count = 2;
  EXPECT_THROW(TinyBank{l}, std::logic_error);
  l = tiny_layout();
  l.window_base = 0x10;
  EXPECT_THROW(TinyBank{l}, std::logic_error);
}

}  // namespace
}  // namespace aimc::chip
