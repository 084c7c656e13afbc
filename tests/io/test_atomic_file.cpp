// AtomicFile and check_writable (model/io/atomic_file.h): the target holds the old file or the
// whole new one, never a part; no temporary file is left behind; errors name the target.
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "io/atomic_file.h"

namespace fs = std::filesystem;
using aimc::io::AtomicFile;
using aimc::io::Folders;
using aimc::io::OutputError;
using aimc::io::check_writable;
using aimc::io::write_file_atomically;

namespace {

// A fresh, empty folder per test.
class AtomicFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::path(::testing::TempDir()) /
           ("aimc_io_" + std::string(info->name()) + "_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override {
    std::error_code ec;
    fs::permissions(dir_, fs::perms::owner_all, fs::perm_options::add, ec);
    fs::remove_all(dir_, ec);
  }
  std::string at(const std::string& name) const { return (dir_ / name).string(); }
  // Every entry of the folder, by name (a leftover temporary shows up here).
  std::vector<std::string> entries() const {
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(dir_)) names.push_back(e.path().filename().string());
    std::sort(names.begin(), names.end());
    return names;
  }
  static std::string read(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  static void write_plain(const std::string& path, const std::string& text) {
    std::ofstream(path, std::ios::binary) << text;
  }
  fs::path dir_;
};

using Names = std::vector<std::string>;

TEST_F(AtomicFileTest, WritesTheWholeFileAndNoTemporaryStays) {
  write_file_atomically(at("out.json"), std::string_view("{\"a\": 1}\n"));
  EXPECT_EQ(read(at("out.json")), "{\"a\": 1}\n");
  EXPECT_EQ(entries(), Names{"out.json"});
}

TEST_F(AtomicFileTest, TheTemporaryIsBesideTheTargetUntilCommit) {
  AtomicFile f(at("out.bin"));
  EXPECT_EQ(fs::path(f.temp_path()).parent_path(), dir_);
  f.stream() << "bytes";
  EXPECT_FALSE(fs::exists(at("out.bin")));  // nothing at the target before the commit
  f.commit();
  EXPECT_EQ(read(at("out.bin")), "bytes");
  EXPECT_EQ(entries(), Names{"out.bin"});
}

TEST_F(AtomicFileTest, WithoutCommitTheOldFileStays) {
  write_plain(at("report.json"), "old report");
  {
    AtomicFile f(at("report.json"));
    f.stream() << "half of a new rep";
  }  // destroyed without commit: an exception or a stop went past
  EXPECT_EQ(read(at("report.json")), "old report");
  EXPECT_EQ(entries(), Names{"report.json"});
}

TEST_F(AtomicFileTest, AnExceptionOfTheWriterLeavesTheOldFile) {
  write_plain(at("trace.json"), "old trace");
  EXPECT_THROW(write_file_atomically(at("trace.json"),
                                     [](std::ostream& out) {
                                       out << "{\"traceEvents\":[";
                                       throw std::runtime_error("writer failed");
                                     }),
               std::runtime_error);
  EXPECT_EQ(read(at("trace.json")), "old trace");
  EXPECT_EQ(entries(), Names{"trace.json"});
}

TEST_F(AtomicFileTest, ReplacesTheOldFileAndKeepsItsPermissions) {
  write_plain(at("c.bin"), "old");
  fs::permissions(at("c.bin"), fs::perms::owner_read | fs::perms::owner_write);
  write_file_atomically(at("c.bin"), std::string_view("new"));
  EXPECT_EQ(read(at("c.bin")), "new");
  EXPECT_EQ(fs::status(at("c.bin")).permissions() & fs::perms::all,
            fs::perms::owner_read | fs::perms::owner_write);
}

TEST_F(AtomicFileTest, ALinkStaysAndItsFileIsReplaced) {
  fs::create_directories(dir_ / "real");
  write_plain(at("real/out.txt"), "old");
  fs::create_symlink(dir_ / "real" / "out.txt", dir_ / "link.txt");
  write_file_atomically(at("link.txt"), std::string_view("new"));
  EXPECT_TRUE(fs::is_symlink(at("link.txt")));
  EXPECT_EQ(read(at("real/out.txt")), "new");
}

TEST_F(AtomicFileTest, AFailedRenameNamesTheTargetAndRemovesTheTemporary) {
  fs::create_directories(dir_ / "taken");  // a folder where the file should go
  try {
    write_file_atomically(at("taken"), std::string_view("x"));
    FAIL() << "expected OutputError";
  } catch (const OutputError& e) {
    EXPECT_NE(std::string(e.what()).find(at("taken")), std::string::npos) << e.what();
  }
  EXPECT_EQ(entries(), Names{"taken"});
}

TEST_F(AtomicFileTest, MissingFoldersAreAnErrorOrMadeOnRequest) {
  const std::string deep = at("a/b/out.txt");
  try {
    write_file_atomically(deep, std::string_view("x"));
    FAIL() << "expected OutputError";
  } catch (const OutputError& e) {
    EXPECT_NE(std::string(e.what()).find(deep), std::string::npos) << e.what();
  }
  EXPECT_FALSE(fs::exists(dir_ / "a"));
  write_file_atomically(deep, std::string_view("x"), Folders::create);
  EXPECT_EQ(read(deep), "x");
}

TEST_F(AtomicFileTest, AFileInTheWayOfTheFoldersNamesTheTarget) {
  write_plain(at("plain"), "a file");
  const std::string under = at("plain/sub/out.txt");
  try {
    write_file_atomically(under, std::string_view("x"), Folders::create);
    FAIL() << "expected OutputError";
  } catch (const OutputError& e) {
    EXPECT_NE(std::string(e.what()).find(under), std::string::npos) << e.what();
  }
  EXPECT_EQ(entries(), Names{"plain"});
}

// Writers of the same path in parallel (threads here; processes differ by pid) leave one of their
// files whole: each has its own temporary, and the renames replace whole files.
TEST_F(AtomicFileTest, ParallelWritersLeaveOneWholeFile) {
  const std::string target = at("same.txt");
  std::vector<std::string> contents;
  for (int w = 0; w < 4; ++w) contents.push_back(std::string(200000 + 1000 * w, static_cast<char>('a' + w)));
  std::vector<std::thread> writers;
  for (int w = 0; w < 4; ++w)
    writers.emplace_back([&, w] {
      for (int k = 0; k < 20; ++k) write_file_atomically(target, contents[w]);
    });
  for (auto& t : writers) t.join();
  const std::string result = read(target);
  EXPECT_NE(std::find(contents.begin(), contents.end(), result), contents.end())
      << "a mix of the writers' files, " << result.size() << " bytes";
  EXPECT_EQ(entries(), Names{"same.txt"});
}

TEST_F(AtomicFileTest, CheckWritableTakesNewFilesAndFoldersToBeMade) {
  EXPECT_NO_THROW(check_writable("", "--report"));  // no output
  EXPECT_NO_THROW(check_writable(at("new.json"), "--report"));
  EXPECT_NO_THROW(check_writable(at("not/yet/made/new.json"), "--report"));
  write_plain(at("old.json"), "x");
  EXPECT_NO_THROW(check_writable(at("old.json"), "--report"));
  EXPECT_EQ(entries(), Names{"old.json"});  // checking makes nothing
}

TEST_F(AtomicFileTest, CheckWritableRefusesNamingTheOptionAndThePath) {
  write_plain(at("plain"), "a file");
  fs::create_directories(dir_ / "folder");
  for (const std::string& bad : {at("plain/r.json"), at("plain/sub/r.json"), at("folder")}) {
    try {
      check_writable(bad, "--trace");
      FAIL() << "expected OutputError for " << bad;
    } catch (const OutputError& e) {
      const std::string what = e.what();
      EXPECT_EQ(what.find("--trace " + bad), 0u) << what;
    }
  }
}

TEST_F(AtomicFileTest, CheckWritableRefusesAReadOnlyFolder) {
  if (::geteuid() == 0) GTEST_SKIP() << "root writes in any folder";
  fs::create_directories(dir_ / "ro");
  fs::permissions(dir_ / "ro", fs::perms::owner_read | fs::perms::owner_exec);
  EXPECT_THROW(check_writable(at("ro/r.json"), "--report"), OutputError);
  EXPECT_THROW(check_writable(at("ro/sub/r.json"), "--report"), OutputError);
}

}  // namespace

namespace {

// A target that is not a regular file is written in place, never replaced: renaming a temporary
// over /dev/null or a FIFO (as root, in /dev) would destroy the device node.
TEST_F(AtomicFileTest, ADeviceOrFifoIsWrittenInPlaceNotReplaced) {
  const std::string fifo = at("pipe");
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  std::string got;
  std::thread reader([&] { got = read(fifo); });
  write_file_atomically(fifo, std::string_view("through the pipe"));
  reader.join();
  EXPECT_EQ(got, "through the pipe");
  struct stat st{};
  ASSERT_EQ(::stat(fifo.c_str(), &st), 0);
  EXPECT_TRUE(S_ISFIFO(st.st_mode)) << "the FIFO was replaced by a regular file";
  EXPECT_EQ(entries(), Names{"pipe"});
  // A full device: the error names it, and it stays a device.
  EXPECT_THROW(write_file_atomically("/dev/full", std::string(1 << 16, 'x')), OutputError);
  ASSERT_EQ(::stat("/dev/full", &st), 0);
  EXPECT_TRUE(S_ISCHR(st.st_mode));
  write_file_atomically("/dev/null", std::string_view("gone"));
  ASSERT_EQ(::stat("/dev/null", &st), 0);
  EXPECT_TRUE(S_ISCHR(st.st_mode));
}

}  // namespace
