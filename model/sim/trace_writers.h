// Trace writers: plug-ins that turn a TraceStore into a file (Chrome/Perfetto JSON, VCD, CSV;
// traces/README.md says what each shows), chosen by name (--trace-format) or by the file's
// extension, and TraceRecording, which the front ends use to record a run's trace and write it.
//
// A new format is one new file, model/sim/trace_<name>.cpp, that defines
//   const TraceFormat& <name>_trace_format();
// (its name, extensions, a one-line description and a factory), plus one line in the registry
// table of trace_writers.cpp.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "io/atomic_file.h"
#include "sim/trace.h"
#include "sim/trace_store.h"

namespace aimc::sim {

class TraceWriter {
 public:
  virtual ~TraceWriter() = default;
  // The whole file. The same store gives the same bytes.
  virtual void write(const TraceStore& store, std::ostream& out) const = 0;

  std::string to_string(const TraceStore& store) const;
  // The whole file or nothing (io/atomic_file.h): written beside `path` and renamed over it.
  // Throws std::runtime_error (io::OutputError) naming the path when it cannot be written.
  void write_file(const TraceStore& store, const std::string& path) const;
  void write_file(const TraceStore& store, const std::string& path, io::Folders folders) const;
};

struct TraceFormat {
  std::string name;                     // what --trace-format takes: "chrome", "vcd", "csv"
  std::vector<std::string> extensions;  // file extensions that choose it, lower case: ".json"
  std::string description;              // one line, for help texts and errors
  std::unique_ptr<TraceWriter> (*make)();
};

// A bad format name or an extension that names no format: the message lists the formats.
struct TraceFormatError : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};

// Every registered format, in registry order.
const std::vector<const TraceFormat*>& trace_formats();
// nullptr when unknown.
const TraceFormat* find_trace_format(std::string_view name);
// By the path's extension (case-insensitive); nullptr when none matches.
const TraceFormat* trace_format_for_path(std::string_view path);
// "chrome (.json), vcd (.vcd), csv (.csv)"
std::string trace_format_list();
// The format for `--trace PATH [--trace-format NAME]`: NAME when given, else the path's
// extension. Throws TraceFormatError naming what was wrong and listing the formats.
const TraceFormat& choose_trace_format(std::string_view path, std::string_view name);

// A run's trace: a TraceStore and its chosen writer when a path is given, else the disabled sink
// (tracing off: modules see enabled() == false and record nothing).
class TraceRecording {
 public:
  // Throws TraceFormatError (see choose_trace_format) before anything is recorded.
  TraceRecording(std::string path, std::string_view format_name, uint64_t max_events);

  TraceSink& sink() { return *sink_; }
  bool on() const { return store_ != nullptr; }
  TraceStore* store() { return store_; }           // nullptr when off
  const TraceFormat* format() const { return format_; }  // nullptr when off
  const std::string& path() const { return path_; }
  // Writes the file whole or not at all (parent folders created). Throws std::runtime_error
  // naming the path.
  void write() const;

 private:
  std::string path_;
  const TraceFormat* format_ = nullptr;
  std::unique_ptr<TraceSink> sink_;
  TraceStore* store_ = nullptr;
};

}  // namespace aimc::sim
