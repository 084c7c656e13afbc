// The ELF reader: a well-formed RV32 executable is read (segments, entry, symbols); everything the
// core cannot run is refused with a message naming the file and the problem.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "cpu/elf_image.h"

using aimc::cpu::ElfError;
using aimc::cpu::MemoryRegion;
using aimc::cpu::parse_elf;

namespace {

const std::vector<MemoryRegion> kRegions = {{"ROM", 0x20000000u, 0x100000},
                                            {"RAM", 0x80000000u, 0x10000}};

void put16(std::vector<uint8_t>& b, size_t off, uint16_t v) {
  b[off] = uint8_t(v);
  b[off + 1] = uint8_t(v >> 8);
}
void put32(std::vector<uint8_t>& b, size_t off, uint32_t v) {
  for (int i = 0; i < 4; ++i) b[off + i] = uint8_t(v >> (8 * i));
}

// An ELF32 RISC-V executable with one code segment at `addr` (8 bytes), and a symbol table with
// one function "main" at addr + 4, size 4.
std::vector<uint8_t> make_elf(uint32_t addr = 0x20000000u) {
  std::vector<uint8_t> b(0x200, 0);
  std::memcpy(b.data(), "\x7f" "ELF", 4);
  b[4] = 1;  // 32-bit
  b[5] = 1;  // little-endian
  b[6] = 1;
  put16(b, 16, 2);    // ET_EXEC
  put16(b, 18, 243);  // EM_RISCV
  put32(b, 20, 1);
  put32(b, 24, addr);   // entry
  put32(b, 28, 0x34);   // phoff
  put32(b, 32, 0x100);  // shoff
  put16(b, 40, 52);
  put16(b, 42, 32);  // phentsize
  put16(b, 44, 1);   // phnum
  put16(b, 46, 40);  // shentsize
  put16(b, 48, 3);   // shnum: null, symtab, strtab
  // Program header: PT_LOAD, offset 0x60, 8 bytes at addr, mem 16.
  put32(b, 0x34, 1);
  put32(b, 0x38, 0x60);
  put32(b, 0x3C, addr);
  put32(b, 0x40, addr);
  put32(b, 0x44, 8);
  put32(b, 0x48, 16);
  for (int i = 0; i < 8; ++i) b[0x60 + i] = uint8_t(0xA0 + i);
  // Section 1: symtab at 0x80, two entries of 16 bytes (null + main), link 2.
  put32(b, 0x100 + 40 + 4, 2);
  put32(b, 0x100 + 40 + 16, 0x80);
  put32(b, 0x100 + 40 + 20, 32);
  put32(b, 0x100 + 40 + 24, 2);
  put32(b, 0x100 + 40 + 36, 16);
  put32(b, 0x80 + 16, 1);         // name offset 1
  put32(b, 0x80 + 16 + 4, addr + 4);
  put32(b, 0x80 + 16 + 8, 4);
  b[0x80 + 16 + 12] = 0x12;       // global function
  // Section 2: strtab at 0xC0.
  put32(b, 0x100 + 80 + 4, 3);
  put32(b, 0x100 + 80 + 16, 0xC0);
  put32(b, 0x100 + 80 + 20, 8);
  std::memcpy(b.data() + 0xC1, "main", 5);
  return b;
}

std::string refusal(const std::vector<uint8_t>& b) {
  try {
    parse_elf(b.data(), b.size(), "fw.elf", kRegions);
  } catch (const ElfError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(ElfImage, ReadsSegmentsEntryAndSymbols) {
  const auto b = make_elf();
  const auto img = parse_elf(b.data(), b.size(), "fw.elf", kRegions);
  EXPECT_EQ(img.entry, 0x20000000u);
  ASSERT_EQ(img.segments.size(), 1u);
  EXPECT_EQ(img.segments[0].load_addr, 0x20000000u);
  EXPECT_EQ(img.segments[0].mem_size, 16u);
  EXPECT_EQ(img.segments[0].bytes, std::vector<uint8_t>({0xA0, 0xA1, 0xA2, 0xA3, 0xA4, 0xA5, 0xA6, 0xA7}));
  ASSERT_NE(img.find("main"), nullptr);
  EXPECT_EQ(img.describe(0x20000006u), "main+0x2 (0x20000006)");
  EXPECT_EQ(img.describe(0x20000000u), "0x20000000");
}

TEST(ElfImage, RefusesWhatTheCoreCannotRun) {
  auto b = make_elf();
  b[4] = 2;
  EXPECT_NE(refusal(b).find("64-bit"), std::string::npos);
  b = make_elf();
  put16(b, 18, 62);  // x86-64
  EXPECT_NE(refusal(b).find("not RISC-V"), std::string::npos);
  b = make_elf();
  put16(b, 16, 1);  // relocatable
  EXPECT_NE(refusal(b).find("not an executable"), std::string::npos);
  b = make_elf(0x10000000u);  // outside ROM and RAM
  const std::string outside = refusal(b);
  EXPECT_NE(outside.find("outside the core's memories"), std::string::npos) << outside;
  EXPECT_NE(outside.find("fw.elf"), std::string::npos);
  b = make_elf(0x800FFFF8u);  // straddles the end of RAM
  EXPECT_NE(refusal(b).find("outside"), std::string::npos);
  b = make_elf();
  put32(b, 24, 0x20000100u);  // entry in no segment
  EXPECT_NE(refusal(b).find("entry point"), std::string::npos);
  b = make_elf();
  put32(b, 0x38, 0xFFFFFFF0u);  // segment bytes beyond the file
  EXPECT_NE(refusal(b).find("truncated"), std::string::npos);
  b = make_elf();
  b.resize(40);
  EXPECT_NE(refusal(b).find("no ELF header"), std::string::npos);
  b = make_elf();
  put16(b, 44, 0xFFFF);  // 65535 program headers: past the end of the file
  EXPECT_NE(refusal(b).find("truncated"), std::string::npos);
}

TEST(ElfImage, EveryTruncationIsRefusedCleanly) {
  const auto full = make_elf();
  for (size_t n = 0; n < 0x68; ++n) {  // up to the end of the segment's bytes
    std::vector<uint8_t> b(full.begin(), full.begin() + static_cast<long>(n));
    EXPECT_FALSE(refusal(b).empty()) << n << " bytes";
  }
}

TEST(ElfImage, MissingFileIsNamed) {
  try {
    aimc::cpu::read_elf("/nonexistent/fw.elf", kRegions);
    FAIL();
  } catch (const ElfError& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/fw.elf"), std::string::npos);
  }
}
