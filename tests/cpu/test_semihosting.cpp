// Semihosting against a flat guest memory: console, command line, host files, the features file,
// exits, and every refusal (bad pointers, handles, unsupported calls) answered with -1 and errno.
#include <gtest/gtest.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "cpu/semihosting.h"

namespace sh = aimc::cpu::sh;
using aimc::cpu::Semihost;

namespace {

constexpr uint32_t kBase = 0x80000000u;

class Flat : public aimc::cpu::GuestMemory {
 public:
  std::vector<uint8_t> m = std::vector<uint8_t>(1 << 16, 0);
  bool read(uint32_t a, void* d, uint32_t n) override {
    if (a < kBase || a - kBase > m.size() || n > m.size() - (a - kBase)) return false;
    std::memcpy(d, m.data() + (a - kBase), n);
    return true;
  }
  bool write(uint32_t a, const void* s, uint32_t n) override {
    if (a < kBase || a - kBase > m.size() || n > m.size() - (a - kBase)) return false;
    std::memcpy(m.data() + (a - kBase), s, n);
    return true;
  }
  void words(uint32_t a, std::vector<uint32_t> w) {
    ASSERT_TRUE(write(a, w.data(), static_cast<uint32_t>(4 * w.size())));
  }
  void text(uint32_t a, const std::string& s) {
    ASSERT_TRUE(write(a, s.c_str(), static_cast<uint32_t>(s.size() + 1)));
  }
  uint32_t word(uint32_t a) {
    uint32_t v = 0;
    EXPECT_TRUE(read(a, &v, 4));
    return v;
  }
};

struct Fixture : ::testing::Test {
  Flat mem;
  std::string out, err;
  uint64_t now_ns = 0;
  Semihost host{"fw.elf --quiet model.aimg",
                [this](int s, std::string_view t) { (s == 2 ? err : out).append(t); },
                [this] { return now_ns; }};
  uint32_t call(uint32_t op, uint32_t param) { return host.call(op, param, mem).value; }
  uint32_t errno_now() { return call(sh::kErrno, 0); }
  uint32_t open(const std::string& name, uint32_t mode) {
    mem.text(kBase + 0x1000, name);
    mem.words(kBase + 0x100, {kBase + 0x1000, mode, static_cast<uint32_t>(name.size())});
    return call(sh::kOpen, kBase + 0x100);
  }
};

}  // namespace

TEST_F(Fixture, ConsoleAndCommandLine) {
  mem.text(kBase + 0x10, "hello\n");
  call(sh::kWrite0, kBase + 0x10);
  call(sh::kWriteC, kBase + 0x10);
  const uint32_t so = open(":tt", 4), se = open(":tt", 8);
  ASSERT_NE(so, 0xFFFFFFFFu);
  ASSERT_NE(se, so);
  mem.words(kBase + 0x200, {se, kBase + 0x10, 3});
  EXPECT_EQ(call(sh::kWrite, kBase + 0x200), 0u);  // 0 bytes left unwritten
  EXPECT_EQ(out, "hello\nh");
  EXPECT_EQ(err, "hel");
  mem.words(kBase + 0x300, {kBase + 0x400, 64});
  EXPECT_EQ(call(sh::kGetCmdline, kBase + 0x300), 0u);
  EXPECT_EQ(mem.word(kBase + 0x304), 25u);
  EXPECT_STREQ(reinterpret_cast<const char*>(mem.m.data() + 0x400), "fw.elf --quiet model.aimg");
  mem.words(kBase + 0x300, {kBase + 0x400, 10});  // too small a buffer
  EXPECT_EQ(call(sh::kGetCmdline, kBase + 0x300), 0xFFFFFFFFu);
  mem.words(kBase + 0x200, {so});
  EXPECT_EQ(call(sh::kIsTty, kBase + 0x200), 1u);
}

TEST_F(Fixture, HostFilesReadSeekLengthAndWrite) {
  const std::string dir = ::testing::TempDir() + "/aimc_semihost";
  std::filesystem::create_directories(dir);
  const std::string path = dir + "/data.bin";
  { std::ofstream(path, std::ios::binary) << "0123456789"; }
  const uint32_t h = open(path, 1);  // "rb"
  ASSERT_NE(h, 0xFFFFFFFFu);
  mem.words(kBase + 0x200, {h});
  EXPECT_EQ(call(sh::kFlen, kBase + 0x200), 10u);
  EXPECT_EQ(call(sh::kIsTty, kBase + 0x200), 0u);
  mem.words(kBase + 0x210, {h, 4});
  EXPECT_EQ(call(sh::kSeek, kBase + 0x210), 0u);
  mem.words(kBase + 0x220, {h, kBase + 0x800, 100});
  EXPECT_EQ(call(sh::kRead, kBase + 0x220), 94u);  // 6 read, 94 not
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(mem.m.data() + 0x800), 6), "456789");
  EXPECT_EQ(call(sh::kRead, kBase + 0x220), 100u);  // end of file: nothing read
  EXPECT_EQ(call(sh::kClose, kBase + 0x200), 0u);
  EXPECT_EQ(call(sh::kClose, kBase + 0x200), 0xFFFFFFFFu);  // closed twice
  EXPECT_EQ(errno_now(), static_cast<uint32_t>(EBADF));

  const uint32_t w = open(dir + "/out.txt", 4);  // "w"
  ASSERT_NE(w, 0xFFFFFFFFu);
  mem.text(kBase + 0x900, "written");
  mem.words(kBase + 0x230, {w, kBase + 0x900, 7});
  EXPECT_EQ(call(sh::kWrite, kBase + 0x230), 0u);
  mem.words(kBase + 0x200, {w});
  EXPECT_EQ(call(sh::kClose, kBase + 0x200), 0u);
  std::ifstream in(dir + "/out.txt");
  std::string got;
  in >> got;
  EXPECT_EQ(got, "written");

  EXPECT_EQ(open(dir + "/missing", 0), 0xFFFFFFFFu);
  EXPECT_EQ(errno_now(), static_cast<uint32_t>(ENOENT));
  EXPECT_EQ(open(path, 12), 0xFFFFFFFFu);  // no such mode
  EXPECT_EQ(errno_now(), static_cast<uint32_t>(EINVAL));
}

TEST_F(Fixture, FeaturesFileOffersExtendedExitAndSeparateStderr) {
  const uint32_t h = open(":semihosting-features", 0);
  ASSERT_NE(h, 0xFFFFFFFFu);
  mem.words(kBase + 0x200, {h});
  EXPECT_EQ(call(sh::kFlen, kBase + 0x200), 5u);
  mem.words(kBase + 0x220, {h, kBase + 0x800, 5});
  EXPECT_EQ(call(sh::kRead, kBase + 0x220), 0u);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(mem.m.data() + 0x800), 4), "SHFB");
  EXPECT_EQ(mem.m[0x804], 0x03);
}

TEST_F(Fixture, ExitCodes) {
  mem.words(kBase + 0x200, {sh::kApplicationExit, 42});
  auto r = host.call(sh::kExitExtended, kBase + 0x200, mem);
  EXPECT_TRUE(r.exit);
  EXPECT_EQ(r.exit_code, 42);
  r = host.call(sh::kExit, sh::kApplicationExit, mem);
  EXPECT_TRUE(r.exit);
  EXPECT_EQ(r.exit_code, 0);
  r = host.call(sh::kExit, 0x20023, mem);  // a run-time error
  EXPECT_EQ(r.exit_code, 1);
}

TEST_F(Fixture, TimeIsSimulatedTime) {
  now_ns = 2'500'000'000ull;
  EXPECT_EQ(call(sh::kClock, 0), 250u);  // centiseconds
  EXPECT_EQ(call(sh::kTime, 0), 2u);
  EXPECT_EQ(call(sh::kElapsed, kBase + 0x200), 0u);
  EXPECT_EQ(mem.word(kBase + 0x200), static_cast<uint32_t>(now_ns));
  EXPECT_EQ(call(sh::kTickFreq, 0), 1'000'000'000u);
}

TEST_F(Fixture, BadPointersHandlesAndCallsAreRefusedNotCrashed) {
  EXPECT_EQ(call(sh::kOpen, 0x10), 0xFFFFFFFFu);
  EXPECT_EQ(errno_now(), static_cast<uint32_t>(EFAULT));
  mem.words(kBase + 0x100, {0x10, 0, 5});  // the name outside memory
  EXPECT_EQ(call(sh::kOpen, kBase + 0x100), 0xFFFFFFFFu);
  mem.words(kBase + 0x100, {kBase, 0, 100000});  // an absurd name length
  EXPECT_EQ(call(sh::kOpen, kBase + 0x100), 0xFFFFFFFFu);
  EXPECT_EQ(errno_now(), static_cast<uint32_t>(ENAMETOOLONG));
  mem.words(kBase + 0x200, {77, kBase, 4});
  EXPECT_EQ(call(sh::kWrite, kBase + 0x200), 0xFFFFFFFFu);
  EXPECT_EQ(errno_now(), static_cast<uint32_t>(EBADF));
  const uint32_t so = open(":tt", 4);
  mem.words(kBase + 0x200, {so, kBase + 0xFFF0, 0x7FFFFFFF});  // runs off the end of memory
  EXPECT_EQ(call(sh::kWrite, kBase + 0x200), 0x7FFFFFFFu - 0x10u);
  EXPECT_EQ(call(sh::kSystem, kBase), 0xFFFFFFFFu);
  EXPECT_EQ(errno_now(), static_cast<uint32_t>(ENOSYS));
  EXPECT_EQ(call(0x99, 0), 0xFFFFFFFFu);
  EXPECT_EQ(Semihost::op_name(0x99), "operation 0x99");
}

TEST_F(Fixture, OpenFilesAreBounded) {
  int opened = 0;
  for (int i = 0; i < Semihost::kMaxOpenFiles + 5; ++i)
    if (open("/dev/null", 0) != 0xFFFFFFFFu) ++opened;
  EXPECT_EQ(opened, Semihost::kMaxOpenFiles);
  EXPECT_EQ(errno_now(), static_cast<uint32_t>(EMFILE));
}
