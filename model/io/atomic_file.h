// Output files written whole or not at all. The bytes go to a temporary file beside the target
// (same folder, so that the rename is atomic), named .NAME.tmp-PID-N; only once every byte is
// written and the file closed without error does it replace the target. A failure, an exception
// or an interruption before that leaves the target as it was (the old file, or none) and removes
// the temporary; two processes writing the same path leave one of their two files, whole.
// No fsync: a process that dies never leaves a partial target, a machine that crashes may lose
// the newest file. A target that exists and is not a regular file (/dev/null, /dev/stdout, a
// FIFO) is written directly, never replaced: renaming over a device node would destroy it.
#pragma once

#include <fstream>
#include <functional>
#include <ostream>
#include <stdexcept>
#include <string>
#include <string_view>

namespace aimc::io {

// Writing an output failed; the message names the target path and why.
struct OutputError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Whether the target's missing folders are made (the tools' outputs: --report out/r.json) or
// their absence is an error (library writers, whose callers decide).
enum class Folders { must_exist, create };

class AtomicFile {
 public:
  // Opens the temporary file beside `path`. A symbolic link at `path` stays: the file it points
  // to is replaced. Throws OutputError naming `path`.
  explicit AtomicFile(const std::string& path, Folders folders = Folders::must_exist);
  // Removes the temporary file unless committed.
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  // Where the bytes go (binary mode: no newline translation).
  std::ostream& stream() { return out_; }
  // Flushes and closes the temporary file, checks that everything was written and renames it over
  // the target (which keeps the old file's permission bits). Throws OutputError naming the target;
  // the temporary file is removed then.
  void commit();
  // Removes the temporary file; the target is left as it was. Called by the destructor.
  void discard() noexcept;

  const std::string& path() const { return path_; }
  const std::string& temp_path() const { return temp_; }
  bool committed() const { return committed_; }

 private:
  [[noreturn]] void fail(const std::string& what);

  std::string path_;    // the target as given (named in errors)
  std::string target_;  // what the rename replaces: path_, or the file a link at path_ points to
  std::string temp_;
  std::ofstream out_;
  bool committed_ = false;
  bool direct_ = false;  // the target is a device or FIFO: written in place, no temporary
};

// The whole file through an AtomicFile: `write` fills the stream. Throws OutputError naming the
// path (and lets an exception of `write` through, after removing the temporary file).
void write_file_atomically(const std::string& path, const std::function<void(std::ostream&)>& write,
                           Folders folders = Folders::must_exist);
void write_file_atomically(const std::string& path, std::string_view bytes,
                           Folders folders = Folders::must_exist);

// The whole of a file, as bytes; "" when it cannot be read (a caller that must tell a missing file
// from an empty one checks first). For files the tools wrote themselves or the user named: no
// limit on the size.
std::string read_file_or_empty(const std::string& path);

// Refuses, before any work is done, an output path that cannot be written: an existing folder, a
// path whose nearest existing ancestor is not a folder (a regular file in the way) or is a folder
// this process may not write in. Folders missing below a writable one are fine (AtomicFile makes
// them with Folders::create). "" means no output and passes. Throws OutputError "OPTION PATH: why".
void check_writable(const std::string& path, const std::string& option);

}  // namespace aimc::io
