// The register bank of a memory-mapped unit: it owns the registers' values, decodes every bus
// access to one register of a table (regs::Register) or of one of a row of equal windows
// (regs::TileRegister, one window per tile), applies the register's access policy and calls the
// behaviour its owner attached at construction (CONVENTIONS practice 1). Plain C++ without
// SystemC, so it can be tested alone; the host interface turns TLM payloads into Requests.
//
// Checks come first, in this order, and each refusal reports an error code to the error handler
// (the host interface: ERROR_CODE, ERROR_ADDR, IRQ ERROR) with the access's address:
//   byte enables                  -> Response::byte_enable_error, AIMC_ERR_ACCESS
//   streaming width < length      -> Response::burst_error,       AIMC_ERR_ACCESS
//   address past the space        -> Response::address_error,     AIMC_ERR_UNMAPPED
//   length != 4 or misaligned     -> Response::command_error,     AIMC_ERR_ACCESS
//   no register at the address    -> Response::address_error,     AIMC_ERR_UNMAPPED
// Then the policy, with an OK response: a read of a write-only register returns 0; a write to a
// read-only register is ignored and reported (AIMC_ERR_RO_WRITE). Otherwise the attached
// callback runs; without one a table register stores the value (W1C: clears the bits written)
// and a window register ignores it (windows show state their owner keeps elsewhere).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "chip/register_table.h"

namespace aimc::chip {

class RegisterBankCore;

// A 64-bit count as a 32-bit counter register shows it: saturated at 0xFFFFFFFF, not wrapped.
inline uint32_t saturate_u32(uint64_t v) { return v > 0xFFFFFFFFu ? 0xFFFFFFFFu : static_cast<uint32_t>(v); }

// One bus access as a register callback sees it.
class RegAccess {
 public:
  uint64_t address = 0;   // byte offset in the register space
  unsigned window = 0;    // window registers: which window (tile)
  unsigned column = 0;    // per-column registers: which element
  uint64_t now_ps = 0;    // the caller's local time (kernel time plus its decoupling offset)
  uint64_t delay_ps = 0;  // the caller's offset from kernel time (events are notified after it)
  uint64_t took_ps = 0;   // a callback whose access takes time adds it here; the caller waits it

  // The access is refused: ERROR_CODE = code with this access's address (or `addr`); the bus
  // response stays OK, as for any register-level refusal.
  void refuse(uint32_t code) const;
  void refuse(uint32_t code, uint32_t addr) const;

 private:
  friend class RegisterBankCore;
  const RegisterBankCore* bank_ = nullptr;
};

class RegisterBankCore {
 public:
  using ReadFn = std::function<uint32_t(const RegAccess&)>;
  using WriteFn = std::function<void(uint32_t value, RegAccess&)>;
  using ErrorFn = std::function<void(uint32_t code, uint32_t addr)>;

  enum class Response { ok, address_error, command_error, byte_enable_error, burst_error };

  struct Request {
    enum class Kind { read, write, ignore } kind = Kind::read;
    uint64_t address = 0;
    unsigned length = 4;
    unsigned streaming_width = 4;
    bool byte_enables = false;
    uint32_t data = 0;  // written value in, read value out
  };

  // Where the registers are: a table at offset 0 and optionally `windows` windows of
  // window_registers at window_base + w * window_stride (per-column registers span `columns`).
  struct Layout {
    const regs::Register* registers = nullptr;
    size_t register_count = 0;
    uint64_t space_bytes = 0;
    const regs::TileRegister* window_registers = nullptr;
    size_t window_register_count = 0;
    uint64_t window_base = 0;
    uint64_t window_stride = 0;
    unsigned windows = 0;
    unsigned columns = 0;
    const char* window_prefix = "tile";  // trace names: tile3.TRIM[5]
  };

  explicit RegisterBankCore(const Layout& layout);
  RegisterBankCore(const RegisterBankCore&) = delete;
  RegisterBankCore& operator=(const RegisterBankCore&) = delete;

  void set_error_handler(ErrorFn fn) { on_error_ = std::move(fn); }

  // A bus access: checks, policy, callback. `access` carries the caller's time in and the time
  // the access took out (address, window and column are filled in here).
  Response access(Request& request, RegAccess& access);
  // The stored values now are the reset values (called once the owner and its units have set the
  // values that come from the platform config).
  void capture_reset_values() { reset_values_ = values_; }
  // Every table register's stored value back to its reset value: the captured ones, else the
  // table's. Callbacks are not called.
  void restore_reset_values();
  // A debug read of a table register: the value a read would return, with no error reported;
  // nothing for other addresses (windows included) or lengths.
  std::optional<uint32_t> debug_read(uint64_t address, unsigned length, uint64_t now_ps) const;
  // The name of the register at `address` as traces show it ("ERROR_CODE", "tile3.TRIM[5]"),
  // empty where there is none.
  std::string name_at(uint64_t address) const;
  // By name, for tests and debug tools only (the model binds registers by id): the value a read
  // would return now, or nothing if no table register has that name.
  std::optional<uint32_t> peek(const char* name, uint64_t now_ps) const;

 protected:
  uint32_t& value(size_t index) { return values_[index]; }
  uint32_t value(size_t index) const { return values_[index]; }
  void attach_read(size_t index, ReadFn fn);
  void attach_write(size_t index, WriteFn fn, bool after_store);
  void attach_window_read(size_t index, ReadFn fn);
  void attach_window_write(size_t index, WriteFn fn);

 private:
  friend class RegAccess;
  struct Slot {
    ReadFn read;
    WriteFn write;
    bool after_store = false;  // write runs after the default store instead of replacing it
  };
  struct Location {
    int reg = -1;         // table index, or
    int window_reg = -1;  // window register index
    unsigned window = 0, column = 0;
  };

  Location locate(uint64_t address) const;
  uint32_t read_table(size_t index, const RegAccess& a) const;
  void write_table(size_t index, uint32_t data, RegAccess& a);
  uint32_t read_window(size_t index, const RegAccess& a) const;
  void write_window(size_t index, uint32_t data, RegAccess& a);
  void report(uint32_t code, uint64_t address) const;
  [[noreturn]] void misuse(const std::string& what) const;

  Layout layout_;
  std::vector<uint32_t> values_;
  std::vector<uint32_t> reset_values_;  // captured; empty until capture_reset_values()
  std::vector<Slot> slots_;
  std::vector<Slot> window_slots_;
  std::vector<int> by_word_;  // table index by offset / 4, -1 where none
  ErrorFn on_error_;
};

// The bank with compile-time register handles: RegId and WindowId are the enums the register
// table generates (regs::Reg, regs::TileReg), so only registers that exist can be named, and a
// window register cannot be passed where a table register is meant.
template <typename RegId, typename WindowId>
class RegisterBank : public RegisterBankCore {
 public:
  using RegisterBankCore::RegisterBankCore;

  uint32_t get(RegId r) const { return value(index(r)); }
  void set(RegId r, uint32_t v) { value(index(r)) = v; }
  uint32_t& operator[](RegId r) { return value(index(r)); }

  // The value a read returns comes from `fn` (live state) instead of the stored value.
  void on_read(RegId r, ReadFn fn) { attach_read(index(r), std::move(fn)); }
  // A write calls `fn` instead of storing (fn stores with set() if it accepts the value).
  void on_write(RegId r, WriteFn fn) { attach_write(index(r), std::move(fn), false); }
  // A write stores by the register's policy (RW: the value; W1C: clears bits), then calls `fn`.
  void after_write(RegId r, WriteFn fn) { attach_write(index(r), std::move(fn), true); }

  // Window registers: the callback gets the window and column in the RegAccess.
  void on_read(WindowId r, ReadFn fn) { attach_window_read(index(r), std::move(fn)); }
  void on_write(WindowId r, WriteFn fn) { attach_window_write(index(r), std::move(fn)); }

 private:
  static constexpr size_t index(RegId r) { return static_cast<size_t>(r); }
  static constexpr size_t index(WindowId r) { return static_cast<size_t>(r); }
};

}  // namespace aimc::chip
