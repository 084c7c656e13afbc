#include "chip/register_bank.h"

#include <algorithm>
#include <cstring>
#include <stdexcept>

#include "aimc_regs.h"

namespace aimc::chip {

void RegAccess::refuse(uint32_t code) const { refuse(code, static_cast<uint32_t>(address)); }

void RegAccess::refuse(uint32_t code, uint32_t addr) const {
  if (bank_) bank_->report(code, addr);
}

RegisterBankCore::RegisterBankCore(const Layout& layout)
    : layout_(layout),
      values_(layout.register_count),
      slots_(layout.register_count),
      window_slots_(layout.window_register_count) {
  uint32_t max_word = 0;
  for (size_t i = 0; i < layout_.register_count; ++i) {
    const regs::Register& r = layout_.registers[i];
    if (r.offset % 4 != 0 || r.offset >= layout_.space_bytes)
      misuse(std::string("register ") + r.name + " is misaligned or outside the space");
    max_word = std::max(max_word, r.offset / 4);
    values_[i] = r.reset == regs::kFromConfig ? 0u : r.reset;
  }
  by_word_.assign(layout_.register_count ? max_word + 1 : 0, -1);
  for (size_t i = 0; i < layout_.register_count; ++i) {
    int& slot = by_word_[layout_.registers[i].offset / 4];
    if (slot >= 0) misuse(std::string("two registers at the offset of ") + layout_.registers[i].name);
    slot = static_cast<int>(i);
  }
  if (layout_.windows > 0 && (layout_.window_stride == 0 || layout_.window_base < by_word_.size() * 4u))
    misuse("register windows overlap the table");
}

void RegisterBankCore::restore_reset_values() {
  if (!reset_values_.empty()) {
    values_ = reset_values_;
    return;
  }
  for (size_t i = 0; i < layout_.register_count; ++i) {
    const regs::Register& r = layout_.registers[i];
    values_[i] = r.reset == regs::kFromConfig ? 0u : r.reset;
  }
}

void RegisterBankCore::misuse(const std::string& what) const {
  throw std::logic_error("register bank: " + what);  // a bug in the model, found at elaboration
}

void RegisterBankCore::attach_read(size_t index, ReadFn fn) {
  if (index >= slots_.size()) misuse("read callback for a register outside the table");
  const regs::Register& r = layout_.registers[index];
  if (r.access == regs::Access::wo) misuse(std::string(r.name) + " is write-only: reads return 0");
  if (slots_[index].read) misuse(std::string(r.name) + " already has a read callback");
  slots_[index].read = std::move(fn);
}

void RegisterBankCore::attach_write(size_t index, WriteFn fn, bool after_store) {
  if (index >= slots_.size()) misuse("write callback for a register outside the table");
  const regs::Register& r = layout_.registers[index];
  if (r.access == regs::Access::ro) misuse(std::string(r.name) + " is read-only");
  if (slots_[index].write) misuse(std::string(r.name) + " already has a write callback");
  slots_[index].write = std::move(fn);
  slots_[index].after_store = after_store;
}

void RegisterBankCore::attach_window_read(size_t index, ReadFn fn) {
  if (index >= window_slots_.size()) misuse("read callback for a window register outside the table");
  const regs::TileRegister& r = layout_.window_registers[index];
  if (r.access == regs::Access::wo) misuse(std::string(r.name) + " is write-only: reads return 0");
  if (window_slots_[index].read) misuse(std::string(r.name) + " already has a read callback");
  window_slots_[index].read = std::move(fn);
}

void RegisterBankCore::attach_window_write(size_t index, WriteFn fn) {
  if (index >= window_slots_.size()) misuse("write callback for a window register outside the table");
  const regs::TileRegister& r = layout_.window_registers[index];
  if (r.access == regs::Access::ro) misuse(std::string(r.name) + " is read-only");
  if (window_slots_[index].write) misuse(std::string(r.name) + " already has a write callback");
  window_slots_[index].write = std::move(fn);
}

void RegisterBankCore::report(uint32_t code, uint64_t address) const {
  if (on_error_) on_error_(code, static_cast<uint32_t>(address));
}

RegisterBankCore::Location RegisterBankCore::locate(uint64_t address) const {
  Location loc;
  if (address % 4 != 0) return loc;
  if (address / 4 < by_word_.size()) {
    loc.reg = by_word_[address / 4];
    return loc;
  }
  if (layout_.windows == 0 || address < layout_.window_base) return loc;
  const uint64_t rel = address - layout_.window_base;
  const uint64_t w = rel / layout_.window_stride;
  const uint64_t local = rel % layout_.window_stride;
  if (w >= layout_.windows) return loc;
  // First match in table order, as the reference documents the windows.
  for (size_t i = 0; i < layout_.window_register_count; ++i) {
    const regs::TileRegister& r = layout_.window_registers[i];
    const uint64_t span = r.per_column ? 4ull * layout_.columns : 4u;
    if (local >= r.offset && local < r.offset + span) {
      loc.window_reg = static_cast<int>(i);
      loc.window = static_cast<unsigned>(w);
      loc.column = static_cast<unsigned>((local - r.offset) / 4);
      return loc;
    }
  }
  return loc;
}

uint32_t RegisterBankCore::read_table(size_t index, const RegAccess& a) const {
  if (layout_.registers[index].access == regs::Access::wo) return 0;
  const Slot& s = slots_[index];
  return s.read ? s.read(a) : values_[index];
}

void RegisterBankCore::write_table(size_t index, uint32_t data, RegAccess& a) {
  const regs::Register& r = layout_.registers[index];
  if (r.access == regs::Access::ro) return a.refuse(AIMC_ERR_RO_WRITE);
  const Slot& s = slots_[index];
  if (s.write && !s.after_store) return s.write(data, a);
  if (r.access == regs::Access::w1c) values_[index] &= ~data;
  else values_[index] = data;
  if (s.write) s.write(data, a);
}

uint32_t RegisterBankCore::read_window(size_t index, const RegAccess& a) const {
  if (layout_.window_registers[index].access == regs::Access::wo) return 0;
  const Slot& s = window_slots_[index];
  return s.read ? s.read(a) : 0u;
}

void RegisterBankCore::write_window(size_t index, uint32_t data, RegAccess& a) {
  if (layout_.window_registers[index].access == regs::Access::ro) return a.refuse(AIMC_ERR_RO_WRITE);
  const Slot& s = window_slots_[index];
  if (s.write) s.write(data, a);
}

RegisterBankCore::Response RegisterBankCore::access(Request& req, RegAccess& a) {
  a.address = req.address;
  a.bank_ = this;
  auto refuse = [&](Response response, uint32_t code) {
    report(code, req.address);
    return response;
  };
  if (req.byte_enables) return refuse(Response::byte_enable_error, AIMC_ERR_ACCESS);
  if (req.streaming_width < req.length) return refuse(Response::burst_error, AIMC_ERR_ACCESS);
  if (req.address >= layout_.space_bytes) return refuse(Response::address_error, AIMC_ERR_UNMAPPED);
  if (req.length != 4 || req.address % 4 != 0)
    return refuse(Response::command_error, AIMC_ERR_ACCESS);
  const Location loc = locate(req.address);
  if (loc.reg < 0 && loc.window_reg < 0) return refuse(Response::address_error, AIMC_ERR_UNMAPPED);
  a.window = loc.window;
  a.column = loc.column;
  const bool table = loc.reg >= 0;
  const size_t index = static_cast<size_t>(table ? loc.reg : loc.window_reg);
  if (req.kind == Request::Kind::read) {
    req.data = table ? read_table(index, a) : read_window(index, a);
  } else if (req.kind == Request::Kind::write) {
    if (table) write_table(index, req.data, a);
    else write_window(index, req.data, a);
  }
  return Response::ok;
}

std::optional<uint32_t> RegisterBankCore::debug_read(uint64_t address, unsigned length,
                                                     uint64_t now_ps) const {
  const Location loc = locate(address);
  if (loc.reg < 0 || length != 4) return std::nullopt;
  RegAccess a;
  a.address = address;
  a.now_ps = now_ps;
  return read_table(static_cast<size_t>(loc.reg), a);
}

std::optional<uint32_t> RegisterBankCore::peek(const char* name, uint64_t now_ps) const {
  for (size_t i = 0; i < layout_.register_count; ++i)
    if (std::strcmp(layout_.registers[i].name, name) == 0)
      return debug_read(layout_.registers[i].offset, 4, now_ps);
  return std::nullopt;
}

std::string RegisterBankCore::name_at(uint64_t address) const {
  const Location loc = locate(address);
  if (loc.reg >= 0) return layout_.registers[loc.reg].name;
  if (loc.window_reg < 0) return {};
  const regs::TileRegister& r = layout_.window_registers[loc.window_reg];
  std::string name = layout_.window_prefix + std::to_string(loc.window) + "." + r.name;
  if (r.per_column) name += "[" + std::to_string(loc.column) + "]";
  return name;
}

}  // namespace aimc::chip
