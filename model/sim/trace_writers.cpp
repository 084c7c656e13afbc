#include "sim/trace_writers.h"

#include <cctype>
#include <filesystem>
#include <sstream>

#include "io/atomic_file.h"

namespace aimc::sim {

// ---- The registry ---------------------------------------------------------------------------
// One line per format: X(name) refers to `const TraceFormat& name_trace_format()`, defined in
// trace_<name>.cpp (picked up by model/sim/CMakeLists.txt's glob). The order is the order of help
// texts and error messages; the first format whose extension matches a path wins.
#define AIMC_TRACE_FORMATS(X) \
  X(chrome)                   \
  X(vcd)                      \
  X(csv)

#define AIMC_DECLARE_TRACE_FORMAT(name) const TraceFormat& name##_trace_format();
AIMC_TRACE_FORMATS(AIMC_DECLARE_TRACE_FORMAT)
#undef AIMC_DECLARE_TRACE_FORMAT

const std::vector<const TraceFormat*>& trace_formats() {
#define AIMC_LIST_TRACE_FORMAT(name) &name##_trace_format(),
  static const std::vector<const TraceFormat*> formats{AIMC_TRACE_FORMATS(AIMC_LIST_TRACE_FORMAT)};
#undef AIMC_LIST_TRACE_FORMAT
  return formats;
}

// ---------------------------------------------------------------------------------------------
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

const TraceFormat* find_trace_format(std::string_view name) {
  for (const TraceFormat* f : trace_formats())
    if (f->name == name) return f;
  return nullptr;
}

const TraceFormat* trace_format_for_path(std::string_view path) {
  const std::string ext = lower(std::filesystem::path(std::string(path)).extension().string());
  if (ext.empty()) return nullptr;
  for (const TraceFormat* f : trace_formats())
    for (const std::string& e : f->extensions)
      if (e == ext) return f;
  return nullptr;
}

std::string trace_format_list() {
  std::string out;
  for (const TraceFormat* f : trace_formats()) {
    if (!out.empty()) out += ", ";
    out += f->name + " (";
    for (size_t i = 0; i < f->extensions.size(); ++i) out += (i ? " " : "") + f->extensions[i];
    out += ")";
  }
  return out;
}

const TraceFormat& choose_trace_format(std::string_view path, std::string_view name) {
  if (!name.empty()) {
    if (const TraceFormat* f = find_trace_format(name)) return *f;
    throw TraceFormatError("--trace-format: unknown format '" + std::string(name) +
                           "'; the formats are " + trace_format_list());
  }
  if (const TraceFormat* f = trace_format_for_path(path)) return *f;
  const std::string ext = std::filesystem::path(std::string(path)).extension().string();
  throw TraceFormatError("--trace " + std::string(path) + ": " +
                         (ext.empty() ? std::string("no file extension")
                                      : "the extension '" + ext + "' names no trace format") +
                         "; use one of " + trace_format_list() + ", or choose with --trace-format");
}

// ---------------------------------------------------------------------------------------------
std::string TraceWriter::to_string(const TraceStore& store) const {
  std::ostringstream ss;
  write(store, ss);
  return ss.str();
}

void TraceWriter::write_file(const TraceStore& store, const std::string& path) const {
  write_file(store, path, io::Folders::must_exist);
}

void TraceWriter::write_file(const TraceStore& store, const std::string& path, io::Folders folders) const {
  io::write_file_atomically(path, [&](std::ostream& out) { write(store, out); }, folders);
}

TraceRecording::TraceRecording(std::string path, std::string_view format_name,
                               uint64_t max_events)
    : path_(std::move(path)) {
  if (path_.empty()) {
    sink_ = std::make_unique<TraceSink>();
    return;
  }
  format_ = &choose_trace_format(path_, format_name);
  auto store = std::make_unique<TraceStore>(max_events);
  store_ = store.get();
  sink_ = std::move(store);
}

void TraceRecording::write() const {
  if (store_ == nullptr) return;
  format_->make()->write_file(*store_, path_, io::Folders::create);
}

}  // namespace aimc::sim
