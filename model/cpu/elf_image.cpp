#include "cpu/elf_image.h"

#include <algorithm>
#include <cstring>
#include <fstream>
#include <sstream>

namespace aimc::cpu {

namespace {

// The ELF32 structures, read field by field (little-endian) rather than cast, so that a file of
// any alignment or content is read safely.
constexpr uint16_t kEtExec = 2;
constexpr uint16_t kEmRiscv = 243;
constexpr uint32_t kPtLoad = 1;
constexpr uint32_t kShtSymtab = 2;
constexpr uint8_t kSttObject = 1, kSttFunc = 2;

std::string hex(uint64_t v) {
  std::ostringstream s;
  s << "0x" << std::hex << v;
  return s.str();
}

class Reader {
 public:
  Reader(const uint8_t* d, size_t n, const std::string& what) : d_(d), n_(n), what_(what) {}
  uint32_t u32(uint64_t off) const {
    need(off, 4);
    return uint32_t(d_[off]) | uint32_t(d_[off + 1]) << 8 | uint32_t(d_[off + 2]) << 16 |
           uint32_t(d_[off + 3]) << 24;
  }
  uint16_t u16(uint64_t off) const {
    need(off, 2);
    return static_cast<uint16_t>(d_[off] | d_[off + 1] << 8);
  }
  uint8_t u8(uint64_t off) const {
    need(off, 1);
    return d_[off];
  }
  void need(uint64_t off, uint64_t len) const {
    if (off > n_ || len > n_ - off)
      fail("truncated: needs bytes " + hex(off) + ".." + hex(off + len) + " of a " +
           std::to_string(n_) + "-byte file");
  }
  [[noreturn]] void fail(const std::string& why) const {
    throw ElfError(what_ + ": not a firmware image for the RV32 core: " + why);
  }
  const uint8_t* data() const { return d_; }
  size_t size() const { return n_; }

 private:
  const uint8_t* d_;
  size_t n_;
  const std::string& what_;
};

std::string regions_text(const std::vector<MemoryRegion>& regions) {
  std::string s;
  for (const MemoryRegion& r : regions)
    s += (s.empty() ? "" : ", ") + std::string(r.name) + " " + hex(r.base) + ".." +
         hex(r.base + r.size);
  return s;
}

}  // namespace

const ElfSymbol* ElfImage::find(const std::string& name) const {
  for (const ElfSymbol& s : symbols)
    if (s.name == name) return &s;
  return nullptr;
}

std::string ElfImage::describe(uint32_t addr) const {
  const ElfSymbol* best = nullptr;
  for (const ElfSymbol& s : symbols)
    if (s.function && s.addr <= addr && (addr - s.addr < s.size || (s.size == 0 && s.addr == addr)))
      best = &s;
  if (!best) return hex(addr);
  return best->name + "+" + hex(addr - best->addr) + " (" + hex(addr) + ")";
}

ElfImage parse_elf(const uint8_t* data, size_t size, const std::string& what,
                   const std::vector<MemoryRegion>& regions) {
  Reader r(data, size, what);
  if (size < 52 || std::memcmp(data, "\x7f" "ELF", 4) != 0) r.fail("no ELF header");
  if (r.u8(4) != 1) r.fail("a 64-bit ELF (the core is RV32: build with -march=rv32imac -mabi=ilp32)");
  if (r.u8(5) != 1) r.fail("big-endian");
  if (r.u16(16) != kEtExec) r.fail("not an executable (ELF type " + std::to_string(r.u16(16)) + ")");
  if (r.u16(18) != kEmRiscv) r.fail("built for machine " + std::to_string(r.u16(18)) + ", not RISC-V (243)");
  ElfImage img;
  img.path = what;
  img.entry = r.u32(24);
  const uint32_t phoff = r.u32(28), shoff = r.u32(32);
  const uint16_t phentsize = r.u16(42), phnum = r.u16(44);
  const uint16_t shentsize = r.u16(46), shnum = r.u16(48);
  if (phnum == 0) r.fail("no program headers");
  if (phentsize < 32) r.fail("program header size " + std::to_string(phentsize));
  for (uint16_t i = 0; i < phnum; ++i) {
    const uint64_t ph = phoff + uint64_t(i) * phentsize;
    r.need(ph, 32);
    if (r.u32(ph) != kPtLoad) continue;
    const uint32_t offset = r.u32(ph + 4), paddr = r.u32(ph + 12);
    const uint32_t filesz = r.u32(ph + 16), memsz = r.u32(ph + 20);
    if (memsz == 0) continue;
    if (filesz > memsz) r.fail("segment " + std::to_string(i) + " has more file bytes than memory");
    r.need(offset, filesz);
    bool inside = false;
    for (const MemoryRegion& m : regions) inside = inside || m.contains(paddr, memsz);
    if (!inside)
      r.fail("segment " + std::to_string(i) + " (" + hex(paddr) + ".." + hex(uint64_t(paddr) + memsz) +
             ") is outside the core's memories (" + regions_text(regions) +
             "); link with the kit's settings (aimc_add_firmware)");
    ElfSegment seg;
    seg.load_addr = paddr;
    seg.mem_size = memsz;
    seg.bytes.assign(data + offset, data + offset + filesz);
    img.segments.push_back(std::move(seg));
  }
  if (img.segments.empty()) r.fail("no loadable segment");
  bool entry_ok = false;
  for (const ElfSegment& s : img.segments)
    entry_ok = entry_ok || (img.entry >= s.load_addr && img.entry - s.load_addr < s.mem_size);
  if (!entry_ok) r.fail("the entry point " + hex(img.entry) + " is in no loaded segment");

  // Symbols (optional: a stripped image runs, with addresses instead of names in messages).
  if (shoff != 0 && shnum != 0 && shentsize >= 40) {
    for (uint16_t i = 0; i < shnum; ++i) {
      const uint64_t sh = shoff + uint64_t(i) * shentsize;
      r.need(sh, 40);
      if (r.u32(sh + 4) != kShtSymtab) continue;
      const uint32_t sym_off = r.u32(sh + 16), sym_size = r.u32(sh + 20);
      const uint32_t link = r.u32(sh + 24), entsize = r.u32(sh + 36);
      if (entsize < 16 || link >= shnum) r.fail("malformed symbol table");
      const uint64_t strsh = shoff + uint64_t(link) * shentsize;
      r.need(strsh, 40);
      const uint32_t str_off = r.u32(strsh + 16), str_size = r.u32(strsh + 20);
      r.need(sym_off, sym_size);
      r.need(str_off, str_size);
      for (uint64_t e = 0; e + entsize <= sym_size; e += entsize) {
        const uint64_t s = sym_off + e;
        const uint32_t name = r.u32(s), value = r.u32(s + 4), sz = r.u32(s + 8);
        const uint8_t type = r.u8(s + 12) & 0xF;
        if ((type != kSttFunc && type != kSttObject) || name >= str_size) continue;
        const char* p = reinterpret_cast<const char*>(data + str_off + name);
        const size_t len = strnlen(p, str_size - name);
        img.symbols.push_back(ElfSymbol{std::string(p, len), value, sz, type == kSttFunc});
      }
    }
    std::stable_sort(img.symbols.begin(), img.symbols.end(),
                     [](const ElfSymbol& a, const ElfSymbol& b) { return a.addr < b.addr; });
  }
  return img;
}

ElfImage read_elf(const std::string& path, const std::vector<MemoryRegion>& regions) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) throw ElfError(path + ": cannot open the firmware image");
  const std::streamoff n = in.tellg();
  if (n < 0) throw ElfError(path + ": cannot size the firmware image");
  if (static_cast<uint64_t>(n) > kMaxElfBytes)
    throw ElfError(path + ": " + std::to_string(n) + " bytes is no firmware image (the limit is " +
                   std::to_string(kMaxElfBytes >> 20) + " MiB)");
  std::vector<uint8_t> bytes(static_cast<size_t>(n));
  in.seekg(0);
  if (n > 0 && !in.read(reinterpret_cast<char*>(bytes.data()), n))
    throw ElfError(path + ": cannot read the firmware image");
  return parse_elf(bytes.data(), bytes.size(), path, regions);
}

}  // namespace aimc::cpu
