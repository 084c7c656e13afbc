// The caches of aimc run (run_caches.h): compiled models (--compile-cache) and program-and-verify
// outcomes (--program-cache), each a folder of files written atomically.
#include "run_caches.h"

#include <cstdio>
#include <filesystem>
#include <optional>
#include <string_view>
#include <system_error>

#include <nlohmann/json.hpp>

#include "compiler/image.h"
#include "io/atomic_file.h"
#include "numerics/rng.h"

namespace aimc::app::stages {

namespace fs = std::filesystem;

namespace {

std::string hex64(uint64_t h) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

// A file's identity without reading it: its canonical path, size and modification time.
std::string file_stamp(const std::string& path) {
  std::error_code ec;
  const fs::path c = fs::canonical(path, ec);
  const auto size = fs::file_size(path, ec);
  const auto mtime = fs::last_write_time(path, ec).time_since_epoch().count();
  return (ec ? path : c.string()) + " " + std::to_string(size) + " " + std::to_string(mtime);
}

// The running executable's identity: a hash of its bytes (another build may compile or program
// the same inputs otherwise), read once.
const std::string& executable_fingerprint() {
  static const std::string exe = [] {
    std::error_code ec;
    const fs::path p = fs::read_symlink("/proc/self/exe", ec);
    return ec ? std::string("unknown") : hex64(num::fnv1a64(io::read_file_or_empty(p.string())));
  }();
  return exe;
}

}  // namespace

std::string compile_cache_key(const RunOptions& opt, const config::PlatformConfig& cfg,
                              const compiler::CompileOptions& copt, const Eigen::MatrixXf& given_calibration) {
  const std::string& exe = executable_fingerprint();
  std::string text = "aimc compile cache 1\nexe " + exe + "\nmodel " + hex64(num::fnv1a64(io::read_file_or_empty(opt.model_path))) +
                     "\n" + compiler::compile_inputs_text(cfg, copt);
  if (given_calibration.size() == 0) {
    text += "calibration " + file_stamp(idx_file(opt.data_dir, "train-images-idx3-ubyte")) + "\n";
  } else {
    text += "calibration values " +
            hex64(num::fnv1a64(std::string_view(reinterpret_cast<const char*>(given_calibration.data()),
                                                sizeof(float) * static_cast<size_t>(given_calibration.size())))) +
            " " + std::to_string(given_calibration.rows()) + "\n";
  }
  return hex64(num::fnv1a64(text));
}

CompileCache::CompileCache(const std::string& dir, std::string key) : dir_(dir), key_(std::move(key)) {}

bool CompileCache::load(compiler::CompiledModel& out) const {
  try {
    const std::string meta_text = io::read_file_or_empty(meta_path());
    if (meta_text.empty()) return false;
    const nlohmann::json m = nlohmann::json::parse(meta_text);
    if (m.value("format", "") != "aimc-compile-cache" || m.value("key", "") != key_) return false;
    const std::string bytes = io::read_file_or_empty(image_path());
    compiler::CompiledModel c;
    c.image.assign(bytes.begin(), bytes.end());
    if (c.image.size() != m.at("image_bytes").get<size_t>()) return false;
    compiler::parse_image(c.image);  // throws on a damaged file: compiled again
    c.summary = m.at("summary");
    c.macs_per_inference = m.at("macs_per_inference").get<long>();
    c.params = m.at("params").get<long>();
    c.tiles_used = m.at("tiles_used").get<int>();
    c.max_batch = m.at("max_batch").get<int>();
    c.segments = m.at("segments").get<int>();
    out = std::move(c);
    return true;
  } catch (const std::exception&) {
    return false;
  }
}

std::string CompileCache::store(const compiler::CompiledModel& c) const {
  const nlohmann::json m = {{"format", "aimc-compile-cache"}, {"version", 1},
                            {"key", key_},                    {"image_bytes", c.image.size()},
                            {"summary", c.summary},           {"macs_per_inference", c.macs_per_inference},
                            {"params", c.params},             {"tiles_used", c.tiles_used},
                            {"max_batch", c.max_batch},       {"segments", c.segments}};
  try {
    io::write_file_atomically(image_path(), std::string_view(reinterpret_cast<const char*>(c.image.data()), c.image.size()),
                              io::Folders::create);
    io::write_file_atomically(meta_path(), m.dump() + "\n", io::Folders::create);
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

std::string CompileCache::image_path() const { return (fs::path(dir_) / (key_ + ".aimg")).string(); }
std::string CompileCache::meta_path() const { return (fs::path(dir_) / (key_ + ".json")).string(); }

namespace {

// DIR/<executable>-<key>.pv: one program-and-verify outcome (num::program_verify_memo), written
// atomically. The executable's hash is in the name because another build may program the same
// inputs to other bits. Nothing is ever deleted: delete the folder to free it. No entry is added
// once the folder's entries (counted when the run starts, plus what this run wrote) reach
// `max_bytes`: runs that reload their weights for every input write an entry per reload (about
// 12 bytes per cell pair for flash), and a sweep of them would otherwise fill the disk.
class FolderProgramStore : public num::ProgramStore {
 public:
  FolderProgramStore(std::string dir, uint64_t max_bytes) : dir_(std::move(dir)), max_bytes_(max_bytes) {
    std::error_code ec;
    for (fs::directory_iterator it(dir_, ec), end; !ec && it != end; it.increment(ec)) {
      std::error_code size_ec;
      if (it->path().extension() == ".pv") held_ += it->file_size(size_ec);
    }
  }
  std::optional<std::string> load(const std::string& key, size_t expected_bytes) override {
    const std::string path = path_of(key);
    std::error_code ec;
    const auto size = fs::file_size(path, ec);
    if (ec || size != expected_bytes) return std::nullopt;  // missing, or not this call's entry
    std::string bytes = io::read_file_or_empty(path);
    if (bytes.size() != expected_bytes) return std::nullopt;
    return bytes;
  }
  std::string store(const std::string& key, std::string_view bytes) override {
    if (held_ + bytes.size() > max_bytes_)
      return "the folder holds " + std::to_string(held_ >> 20) + " MiB of entries, its limit is " +
             std::to_string(max_bytes_ >> 20) + " MiB (--program-cache-max-mb)";
    try {
      io::write_file_atomically(path_of(key), bytes, io::Folders::create);
    } catch (const std::exception& e) {
      return e.what();
    }
    held_ += bytes.size();
    return "";
  }

 private:
  std::string path_of(const std::string& key) const {
    return (fs::path(dir_) / (executable_fingerprint() + "-" + key + ".pv")).string();
  }
  std::string dir_;
  uint64_t max_bytes_;
  uint64_t held_ = 0;
};

}  // namespace

std::unique_ptr<num::ProgramStore> make_folder_program_store(const std::string& dir, uint64_t max_bytes) {
  return std::make_unique<FolderProgramStore>(dir, max_bytes);
}

}  // namespace aimc::app::stages
