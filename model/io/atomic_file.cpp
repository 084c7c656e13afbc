#include "io/atomic_file.h"

#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <system_error>

namespace fs = std::filesystem;

namespace aimc::io {

namespace {

// Unique among the temporaries of this process; the pid tells processes apart.
std::atomic<unsigned long> temp_counter{0};

std::string errno_text(int e) { return e ? std::strerror(e) : "unknown error"; }
// " (why)" when errno says why, else nothing: a stream that failed on an earlier write has lost it.
std::string errno_suffix(int e) { return e ? std::string(" (") + std::strerror(e) + ")" : std::string(); }

// A name the file system takes: the target's file name is cut so that the temporary's stays
// below the usual 255-byte limit.
std::string temp_name_for(const fs::path& target) {
  std::string base = target.filename().string();
  if (base.size() > 180) base.resize(180);
  return "." + base + ".tmp-" + std::to_string(static_cast<long>(::getpid())) + "-" +
         std::to_string(temp_counter.fetch_add(1));
}

}  // namespace

AtomicFile::AtomicFile(const std::string& path, Folders folders) : path_(path), target_(path) {
  if (path.empty()) throw OutputError("cannot write a file with an empty name");
  std::error_code ec;
  if (fs::is_symlink(path, ec)) {
    const fs::path resolved = fs::weakly_canonical(path, ec);
    if (!ec) target_ = resolved.string();
  }
  const fs::path target(target_);
  const fs::file_status st = fs::status(target, ec);
  if (!ec && fs::exists(st) && !fs::is_regular_file(st) && !fs::is_directory(st)) {
    direct_ = true;  // a device or FIFO: write to it, check the stream, replace nothing
    errno = 0;
    out_.open(target_, std::ios::binary);
    if (!out_) fail("cannot open it for writing (" + errno_text(errno) + ")");
    return;
  }
  const fs::path parent = target.parent_path();
  if (!parent.empty() && folders == Folders::create) {
    fs::create_directories(parent, ec);
    if (ec) fail("cannot create the folder " + parent.string() + " (" + ec.message() + ")");
  }
  temp_ = (parent / temp_name_for(target)).string();
  errno = 0;
  out_.open(temp_, std::ios::binary | std::ios::trunc);
  if (!out_) {
    const int e = errno;
    temp_.clear();  // nothing to remove
    fail("cannot create a file in " + (parent.empty() ? std::string(".") : parent.string()) + " (" +
         errno_text(e) + ")");
  }
}

AtomicFile::~AtomicFile() { discard(); }

void AtomicFile::fail(const std::string& what) {
  discard();
  throw OutputError("cannot write " + path_ + ": " + what);
}

void AtomicFile::commit() {
  if (committed_) return;
  errno = 0;
  out_.flush();
  if (!out_) fail("write failed" + errno_suffix(errno));
  out_.close();
  if (!out_) fail("write failed on close" + errno_suffix(errno));
  if (direct_) {
    committed_ = true;
    return;
  }
  // The replacement keeps the permission bits of the file it replaces.
  std::error_code ec;
  const fs::file_status old = fs::status(target_, ec);
  if (!ec && fs::is_regular_file(old)) fs::permissions(temp_, old.permissions(), ec);
  if (std::rename(temp_.c_str(), target_.c_str()) != 0) fail(errno_text(errno));
  committed_ = true;
}

void AtomicFile::discard() noexcept {
  if (committed_ || temp_.empty()) return;
  if (out_.is_open()) out_.close();
  std::remove(temp_.c_str());
  temp_.clear();
}

void write_file_atomically(const std::string& path, const std::function<void(std::ostream&)>& write,
                           Folders folders) {
  AtomicFile f(path, folders);
  write(f.stream());
  f.commit();
}

void write_file_atomically(const std::string& path, std::string_view bytes, Folders folders) {
  AtomicFile f(path, folders);
  f.stream().write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  f.commit();
}

void check_writable(const std::string& path, const std::string& option) {
  if (path.empty()) return;
  const auto refuse = [&](const std::string& why) {
    throw OutputError(option + " " + path + ": " + why);
  };
  std::error_code ec;
  const fs::path p(path);
  if (fs::is_directory(p, ec)) refuse("is a folder, not a file");
  // The nearest ancestor that exists: the folders below it are made when the file is written.
  fs::path dir = p.parent_path();
  if (dir.empty()) dir = ".";
  for (;;) {
    const fs::file_status st = fs::status(dir, ec);
    if (fs::exists(st)) {
      if (!fs::is_directory(st)) refuse(dir.string() + " is not a folder");
      break;
    }
    if (ec && ec != std::errc::no_such_file_or_directory && ec != std::errc::not_a_directory)
      refuse("cannot look at " + dir.string() + " (" + ec.message() + ")");
    const fs::path up = dir.parent_path();
    if (up.empty() || up == dir) {
      dir = up.empty() ? fs::path(".") : up;
      if (!fs::is_directory(dir, ec)) refuse("no folder to create it in");
      break;
    }
    dir = up;
  }
  if (::access(dir.c_str(), W_OK | X_OK) != 0)
    refuse("cannot write in the folder " + dir.string() + " (" + errno_text(errno) + ")");
}

std::string read_file_or_empty(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::ostringstream s;
  s << f.rdbuf();
  return s.str();
}

}  // namespace aimc::io
