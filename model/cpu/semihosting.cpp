#include "cpu/semihosting.h"

#include <cerrno>
#include <cstring>
#include <utility>

namespace aimc::cpu {

namespace {
constexpr uint32_t kMinus1 = 0xFFFFFFFFu;
// The ":semihosting-features" file: magic "SHFB" and one feature byte, EXIT_EXTENDED (bit 0: the
// exit code reaches the VP) and STDOUT_STDERR (bit 1: ":tt" opened for append is stderr).
constexpr uint8_t kFeatures[] = {'S', 'H', 'F', 'B', 0x03};
// fopen modes by the specification's mode number.
constexpr const char* kModes[12] = {"r", "rb", "r+", "r+b", "w", "wb", "w+", "w+b", "a", "ab", "a+", "a+b"};
// The longest file name and console string read from the core.
constexpr uint32_t kMaxName = 4096, kMaxString = 1u << 20;
// Bytes moved per host call in SYS_READ/SYS_WRITE (no allocation scales with a firmware's length).
constexpr uint32_t kChunk = 64 * 1024;
}  // namespace

Semihost::Semihost(std::string command_line, Console console, Clock clock)
    : cmdline_(std::move(command_line)), console_(std::move(console)), clock_(std::move(clock)) {
  handles_.resize(1);  // handle 0 is never given out
}

Semihost::~Semihost() {
  for (Handle& h : handles_)
    if (h.file) std::fclose(h.file);
}

std::string Semihost::op_name(uint32_t op) {
  switch (op) {
    case sh::kOpen: return "SYS_OPEN";
    case sh::kClose: return "SYS_CLOSE";
    case sh::kWriteC: return "SYS_WRITEC";
    case sh::kWrite0: return "SYS_WRITE0";
    case sh::kWrite: return "SYS_WRITE";
    case sh::kRead: return "SYS_READ";
    case sh::kReadC: return "SYS_READC";
    case sh::kIsError: return "SYS_ISERROR";
    case sh::kIsTty: return "SYS_ISTTY";
    case sh::kSeek: return "SYS_SEEK";
    case sh::kFlen: return "SYS_FLEN";
    case sh::kTmpnam: return "SYS_TMPNAM";
    case sh::kRemove: return "SYS_REMOVE";
    case sh::kRename: return "SYS_RENAME";
    case sh::kClock: return "SYS_CLOCK";
    case sh::kTime: return "SYS_TIME";
    case sh::kSystem: return "SYS_SYSTEM";
    case sh::kErrno: return "SYS_ERRNO";
    case sh::kGetCmdline: return "SYS_GET_CMDLINE";
    case sh::kHeapInfo: return "SYS_HEAPINFO";
    case sh::kExit: return "SYS_EXIT";
    case sh::kExitExtended: return "SYS_EXIT_EXTENDED";
    case sh::kElapsed: return "SYS_ELAPSED";
    case sh::kTickFreq: return "SYS_TICKFREQ";
    default: {
      char buf[32];
      std::snprintf(buf, sizeof buf, "operation 0x%X", op);
      return buf;
    }
  }
}

uint32_t Semihost::fail(int err) {
  errno_ = err;
  return kMinus1;
}

Semihost::Handle* Semihost::handle(uint32_t h) {
  if (h == 0 || h >= handles_.size() || handles_[h].kind == Kind::none) return nullptr;
  return &handles_[h];
}

bool Semihost::read_words(GuestMemory& mem, uint32_t addr, uint32_t* words, int n) {
  uint8_t raw[16];
  if (n > 4 || !mem.read(addr, raw, static_cast<uint32_t>(4 * n))) return false;
  for (int i = 0; i < n; ++i)
    words[i] = uint32_t(raw[4 * i]) | uint32_t(raw[4 * i + 1]) << 8 |
               uint32_t(raw[4 * i + 2]) << 16 | uint32_t(raw[4 * i + 3]) << 24;
  return true;
}

uint32_t Semihost::open(uint32_t param, GuestMemory& mem) {
  uint32_t a[3];
  if (!read_words(mem, param, a, 3)) return fail(EFAULT);
  const uint32_t name_ptr = a[0], mode = a[1], len = a[2];
  if (mode >= 12) return fail(EINVAL);
  if (len > kMaxName) return fail(ENAMETOOLONG);
  std::string name(len, '\0');
  if (len > 0 && !mem.read(name_ptr, name.data(), len)) return fail(EFAULT);
  Handle h;
  if (name == ":tt") {
    h.kind = mode < 4 ? Kind::console_in : mode < 8 ? Kind::console_out : Kind::console_err;
  } else if (name == ":semihosting-features") {
    if (mode > 1) return fail(EACCES);
    h.kind = Kind::features;
  } else {
    if (name.empty() || name.find('\0') != std::string::npos) return fail(ENOENT);
    size_t open_files = 0;
    for (const Handle& x : handles_) open_files += x.kind != Kind::none;
    if (open_files >= kMaxOpenFiles) return fail(EMFILE);
    errno = 0;
    h.file = std::fopen(name.c_str(), kModes[mode]);
    if (!h.file) return fail(errno ? errno : EIO);
    h.kind = Kind::file;
  }
  for (uint32_t i = 1; i < handles_.size(); ++i)
    if (handles_[i].kind == Kind::none) {
      handles_[i] = h;
      return i;
    }
  handles_.push_back(h);
  return static_cast<uint32_t>(handles_.size() - 1);
}

uint32_t Semihost::write(uint32_t param, GuestMemory& mem) {
  uint32_t a[3];
  if (!read_words(mem, param, a, 3)) return fail(EFAULT);
  Handle* h = handle(a[0]);
  if (!h) return fail(EBADF);
  uint32_t done = 0;
  std::vector<char> buf;
  while (done < a[2]) {
    uint32_t n = std::min(kChunk, a[2] - done);
    buf.resize(n);
    while (n > 0 && !mem.read(a[1] + done, buf.data(), n)) n /= 2;  // up to the end of memory
    if (n == 0) {
      errno_ = EFAULT;
      break;
    }
    if (h->kind == Kind::console_out || h->kind == Kind::console_err) {
      console_(h->kind == Kind::console_out ? 1 : 2, std::string_view(buf.data(), n));
    } else if (h->kind == Kind::file) {
      const size_t w = std::fwrite(buf.data(), 1, n, h->file);
      done += static_cast<uint32_t>(w);
      if (w < n) {
        errno_ = EIO;
        break;
      }
      continue;
    } else {
      errno_ = EBADF;
      break;
    }
    done += n;
  }
  return a[2] - done;  // bytes not written
}

uint32_t Semihost::read(uint32_t param, GuestMemory& mem) {
  uint32_t a[3];
  if (!read_words(mem, param, a, 3)) return fail(EFAULT);
  Handle* h = handle(a[0]);
  if (!h) return fail(EBADF);
  uint32_t done = 0;
  std::vector<char> buf;
  while (done < a[2]) {
    const uint32_t want = std::min(kChunk, a[2] - done);
    buf.resize(want);
    size_t got = 0;
    if (h->kind == Kind::file) {
      got = std::fread(buf.data(), 1, want, h->file);
    } else if (h->kind == Kind::features) {
      const uint64_t left = h->pos < sizeof kFeatures ? sizeof kFeatures - h->pos : 0;
      got = std::min<uint64_t>(left, want);
      std::memcpy(buf.data(), kFeatures + h->pos, got);
      h->pos += got;
    }  // the console has no input: end of file
    if (got > 0 && !mem.write(a[1] + done, buf.data(), static_cast<uint32_t>(got))) {
      errno_ = EFAULT;
      break;
    }
    done += static_cast<uint32_t>(got);
    if (got < want) break;
  }
  return a[2] - done;  // bytes not read
}

SemihostResult Semihost::call(uint32_t op, uint32_t param, GuestMemory& mem) {
  SemihostResult r;
  uint32_t a[4];
  switch (op) {
    case sh::kOpen: r.value = open(param, mem); break;
    case sh::kClose: {
      if (!read_words(mem, param, a, 1)) { r.value = fail(EFAULT); break; }
      Handle* h = handle(a[0]);
      if (!h) { r.value = fail(EBADF); break; }
      if (h->file && std::fclose(h->file) != 0) errno_ = EIO;
      *h = Handle{};
      r.value = 0;
      break;
    }
    case sh::kWriteC: {
      char c;
      if (!mem.read(param, &c, 1)) { r.value = fail(EFAULT); break; }
      console_(1, std::string_view(&c, 1));
      break;
    }
    case sh::kWrite0: {
      std::string s;
      char c = 0;
      for (uint32_t i = 0; i < kMaxString; ++i) {
        if (!mem.read(param + i, &c, 1)) break;
        if (c == '\0') break;
        s.push_back(c);
      }
      console_(1, s);
      break;
    }
    case sh::kWrite: r.value = write(param, mem); break;
    case sh::kRead: r.value = read(param, mem); break;
    case sh::kReadC: r.value = fail(ENOSYS); break;  // the VP's console has no input
    case sh::kIsError: {
      if (!read_words(mem, param, a, 1)) { r.value = fail(EFAULT); break; }
      r.value = static_cast<int32_t>(a[0]) < 0 ? 1 : 0;
      break;
    }
    case sh::kIsTty: {
      if (!read_words(mem, param, a, 1)) { r.value = fail(EFAULT); break; }
      Handle* h = handle(a[0]);
      if (!h) { r.value = fail(EBADF); break; }
      r.value = h->kind == Kind::console_in || h->kind == Kind::console_out ||
                h->kind == Kind::console_err;
      break;
    }
    case sh::kSeek: {
      if (!read_words(mem, param, a, 2)) { r.value = fail(EFAULT); break; }
      Handle* h = handle(a[0]);
      if (!h) { r.value = fail(EBADF); break; }
      if (h->kind == Kind::features) { h->pos = a[1]; r.value = 0; break; }
      if (h->kind != Kind::file) { r.value = fail(ESPIPE); break; }
      r.value = std::fseek(h->file, static_cast<long>(a[1]), SEEK_SET) == 0 ? 0 : fail(EINVAL);
      break;
    }
    case sh::kFlen: {
      if (!read_words(mem, param, a, 1)) { r.value = fail(EFAULT); break; }
      Handle* h = handle(a[0]);
      if (!h) { r.value = fail(EBADF); break; }
      if (h->kind == Kind::features) { r.value = sizeof kFeatures; break; }
      if (h->kind != Kind::file) { r.value = 0; break; }
      const long here = std::ftell(h->file);
      if (here < 0 || std::fseek(h->file, 0, SEEK_END) != 0) { r.value = fail(EIO); break; }
      const long end = std::ftell(h->file);
      std::fseek(h->file, here, SEEK_SET);
      r.value = end < 0 || end > 0x7FFFFFFFL ? fail(EFBIG) : static_cast<uint32_t>(end);
      break;
    }
    case sh::kClock: r.value = static_cast<uint32_t>(clock_() / 10'000'000u); break;
    case sh::kTime: r.value = static_cast<uint32_t>(clock_() / 1'000'000'000u); break;
    case sh::kElapsed: {
      const uint64_t t = clock_();
      const uint32_t w[2] = {static_cast<uint32_t>(t), static_cast<uint32_t>(t >> 32)};
      uint8_t raw[8];
      for (int i = 0; i < 8; ++i) raw[i] = static_cast<uint8_t>(w[i / 4] >> (8 * (i % 4)));
      r.value = mem.write(param, raw, 8) ? 0 : fail(EFAULT);
      break;
    }
    case sh::kTickFreq: r.value = 1'000'000'000u; break;  // SYS_ELAPSED counts ns
    case sh::kErrno: r.value = static_cast<uint32_t>(errno_); break;
    case sh::kGetCmdline: {
      if (!read_words(mem, param, a, 2)) { r.value = fail(EFAULT); break; }
      if (a[1] < cmdline_.size() + 1) { r.value = fail(ENOSPC); break; }
      if (!mem.write(a[0], cmdline_.c_str(), static_cast<uint32_t>(cmdline_.size() + 1))) {
        r.value = fail(EFAULT);
        break;
      }
      const uint32_t len = static_cast<uint32_t>(cmdline_.size());
      const uint8_t raw[4] = {uint8_t(len), uint8_t(len >> 8), uint8_t(len >> 16), uint8_t(len >> 24)};
      r.value = mem.write(param + 4, raw, 4) ? 0 : fail(EFAULT);
      break;
    }
    case sh::kHeapInfo: {  // "unknown": the C library uses its linker script's heap
      if (!read_words(mem, param, a, 1)) { r.value = fail(EFAULT); break; }
      const uint8_t zeros[16] = {};
      r.value = mem.write(a[0], zeros, 16) ? 0 : fail(EFAULT);
      break;
    }
    case sh::kExit:  // 32-bit: the parameter is the reason itself; only "application exit" is 0
      r.exit = true;
      r.exit_code = param == sh::kApplicationExit ? 0 : 1;
      break;
    case sh::kExitExtended:
      if (!read_words(mem, param, a, 2)) { r.exit = true; r.exit_code = 1; break; }
      r.exit = true;
      r.exit_code = a[0] == sh::kApplicationExit ? static_cast<int>(a[1]) : 1;
      break;
    default:  // SYS_SYSTEM, SYS_REMOVE, SYS_RENAME, SYS_TMPNAM and unknown operations
      r.value = fail(ENOSYS);
      break;
  }
  return r;
}

}  // namespace aimc::cpu
