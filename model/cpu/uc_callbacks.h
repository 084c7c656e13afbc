// Unicorn's callbacks are C functions with a user pointer; these templates forward them to the
// core's members, named (and access-checked) where rv32_core.cpp and rv32_debug.cpp install them.
// Private to the cpu library.
#pragma once

#include <cstdint>

#include <unicorn/unicorn.h>

#include "cpu/rv32_core.h"

namespace aimc::cpu::uc_callbacks {

template <void (Rv32Core::*F)(uint64_t, uint32_t)>
void block_hook(uc_engine*, uint64_t addr, uint32_t size, void* self) {
  (static_cast<Rv32Core*>(self)->*F)(addr, size);
}
template <void (Rv32Core::*F)(uint64_t, int)>
bool invalid_hook(uc_engine*, uc_mem_type type, uint64_t addr, int, int64_t, void* self) {
  (static_cast<Rv32Core*>(self)->*F)(addr, static_cast<int>(type));
  return false;  // not mapped on demand: the access faults
}
template <void (Rv32Core::*F)(uint64_t)>
void code_hook(uc_engine*, uint64_t addr, uint32_t, void* self) {
  (static_cast<Rv32Core*>(self)->*F)(addr);
}
template <void (Rv32Core::*F)(int, uint64_t, int)>
void mem_hook(uc_engine*, uc_mem_type type, uint64_t addr, int size, int64_t, void* self) {
  (static_cast<Rv32Core*>(self)->*F)(static_cast<int>(type), addr, size);
}
template <void (Rv32Core::*F)(uint32_t)>
void intr_hook(uc_engine*, uint32_t intno, void* self) {
  (static_cast<Rv32Core*>(self)->*F)(intno);
}
template <uint64_t (Rv32Core::*F)(uint64_t, unsigned)>
uint64_t mmio_read(uc_engine*, uint64_t off, unsigned size, void* self) {
  return (static_cast<Rv32Core*>(self)->*F)(off, size);
}
template <void (Rv32Core::*F)(uint64_t, unsigned, uint64_t)>
void mmio_write(uc_engine*, uint64_t off, unsigned size, uint64_t value, void* self) {
  (static_cast<Rv32Core*>(self)->*F)(off, size, value);
}

}  // namespace aimc::cpu::uc_callbacks
