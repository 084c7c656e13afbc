// A firmware image for the RV32 core: the loadable segments, entry point and symbols of an ELF32
// RISC-V executable. Plain C++ (no SystemC). Anything the core cannot run (not ELF, 64-bit, another
// machine, big-endian, no loadable segment, a segment outside the memories, a truncated file) is
// refused with an ElfError naming the file and what is wrong.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace aimc::cpu {

struct ElfError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// A region of the core's memory map an image may be loaded into.
struct MemoryRegion {
  const char* name;
  uint32_t base;
  uint64_t size;
  bool contains(uint64_t addr, uint64_t len) const {
    return addr >= base && len <= size && addr - base <= size - len;
  }
};

struct ElfSegment {
  uint32_t load_addr = 0;      // where the bytes go (the physical address, the LMA)
  std::vector<uint8_t> bytes;  // the file's bytes; the rest up to mem_size is zeros
  uint32_t mem_size = 0;
};

struct ElfSymbol {
  std::string name;
  uint32_t addr = 0;
  uint32_t size = 0;
  bool function = false;
};

struct ElfImage {
  std::string path;
  uint32_t entry = 0;
  std::vector<ElfSegment> segments;
  std::vector<ElfSymbol> symbols;  // functions and objects, sorted by address

  // The symbol named `name`, or nullptr.
  const ElfSymbol* find(const std::string& name) const;
  // "func+0x12" for an address inside a function, else the hex address alone.
  std::string describe(uint32_t addr) const;
};

// The largest ELF file read (a firmware for a microcontroller is far smaller).
inline constexpr uint64_t kMaxElfBytes = 256ull << 20;

// Reads and checks `path`; every loadable byte must fall inside one of `regions`.
ElfImage read_elf(const std::string& path, const std::vector<MemoryRegion>& regions);
// The same from bytes in memory; `what` names the source in messages.
ElfImage parse_elf(const uint8_t* data, size_t size, const std::string& what,
                   const std::vector<MemoryRegion>& regions);

}  // namespace aimc::cpu
