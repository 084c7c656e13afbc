#include "chip/checkpoint.h"

#include <cstring>
#include <fstream>
#include <sstream>

#include "io/atomic_file.h"
#include "numerics/rng.h"

namespace aimc::chip {

namespace {

constexpr char kMagic[8] = {'A', 'I', 'M', 'C', 'C', 'K', 'P', 'T'};
constexpr uint32_t kVersion = 1;

void apply(Tile& t, const TileCalibration& c) {
  t.set_cal_ref(c.cal_ref);
  t.set_gain_q16(c.gain_q16);
  for (size_t col = 0; col < c.trims.size(); ++col) t.set_trim(static_cast<int>(col), c.trims[col]);
}

class Writer {
 public:
  template <typename T>
  void put(const T& v) { raw(&v, sizeof v); }
  void raw(const void* p, size_t n) {
    const auto* b = static_cast<const uint8_t*>(p);
    bytes_.insert(bytes_.end(), b, b + n);
  }
  template <typename M>
  void matrix(const M& m) { raw(m.data(), sizeof(typename M::Scalar) * static_cast<size_t>(m.size())); }
  std::vector<uint8_t>& bytes() { return bytes_; }

 private:
  std::vector<uint8_t> bytes_;
};

class Reader {
 public:
  Reader(const std::vector<uint8_t>& b, std::string path) : b_(b), path_(std::move(path)) {}
  void raw(void* p, size_t n) {
    if (pos_ + n > b_.size()) throw CheckpointError(path_ + ": truncated checkpoint");
    std::memcpy(p, b_.data() + pos_, n);
    pos_ += n;
  }
  template <typename T>
  T get() {
    T v;
    raw(&v, sizeof v);
    return v;
  }
  template <typename M>
  void matrix(M& m) { raw(m.data(), sizeof(typename M::Scalar) * static_cast<size_t>(m.size())); }
  size_t pos() const { return pos_; }

 private:
  const std::vector<uint8_t>& b_;
  std::string path_;
  size_t pos_ = 0;
};

// The per-cell arrays of a tile record, in file order (one list for writing and reading).
template <class Io, class State>
void cell_arrays(Io& io, State& c) {
  io.matrix(c.g_pos);
  io.matrix(c.g_neg);
  io.matrix(c.nu_pos);
  io.matrix(c.nu_neg);
  io.matrix(c.cycles_pos);
  io.matrix(c.cycles_neg);
  io.matrix(c.fault_pos);
  io.matrix(c.fault_neg);
}

uint64_t checksum(const uint8_t* p, size_t n) {
  return num::fnv1a64(std::string_view(reinterpret_cast<const char*>(p), n));
}

}  // namespace

std::string chip_fingerprint(const config::PlatformConfig& cfg) {
  // Only what the meaning of a saved cell depends on: the grid, the array and the device model.
  config::PlatformConfig c;
  c.name = "fingerprint";
  c.grid_rows = cfg.grid_rows;
  c.grid_cols = cfg.grid_cols;
  c.tile.array = cfg.tile.array;
  c.tile.device = cfg.tile.device;
  const std::string text = config::dump_platform(c);
  std::ostringstream o;
  o << config::to_string(cfg.tile.device.type) << ", " << cfg.tile.device.bits_per_cell
    << " bits/cell, " << config::to_string(cfg.tile.device.pair) << ", " << cfg.grid_rows << "x"
    << cfg.grid_cols << " tiles of " << cfg.tile.array.rows << "x" << cfg.tile.array.cols
    << ", settings hash " << std::hex << num::fnv1a64(text);
  return o.str();
}

void save_checkpoint(const std::string& path, Chip& chip, const std::string& model_fingerprint) {
  const config::PlatformConfig& cfg = chip.config();
  nlohmann::json h;
  h["format"] = "aimc checkpoint";
  h["version"] = kVersion;
  h["platform"] = cfg.name;
  h["chip"] = chip_fingerprint(cfg);
  h["model"] = model_fingerprint;
  h["seed"] = cfg.simulation.seed;
  h["temp_c"] = chip.temperature_c();
  h["tiles"] = cfg.tile_count();
  h["rows"] = cfg.tile.array.rows;
  h["cols"] = cfg.tile.array.cols;
  nlohmann::json ages = nlohmann::json::array();
  for (Tile* t : chip.tiles()) ages.push_back(t->programmed() ? t->age_s() : 0.0);
  h["age_s"] = ages;
  const std::string header = h.dump();

  Writer w;
  w.raw(kMagic, sizeof kMagic);
  w.put(kVersion);
  w.put(static_cast<uint32_t>(header.size()));
  w.raw(header.data(), header.size());
  for (Tile* t : chip.tiles()) {
    const num::CellState& c = t->cells();
    w.put(static_cast<uint8_t>(t->programmed() ? 1 : 0));
    w.put(static_cast<uint32_t>(t->rows_used()));
    w.put(static_cast<uint32_t>(t->cols_used()));
    w.put(t->programmed() ? t->age_s() : 0.0);
    w.put(t->cal_ref());
    w.put(t->gain_q16());
    w.raw(t->trims().data(), sizeof(int32_t) * t->trims().size());
    cell_arrays(w, c);
    w.raw(c.dead_col.data(), c.dead_col.size());
  }
  const uint64_t sum = checksum(w.bytes().data(), w.bytes().size());
  w.put(sum);
  try {
    io::write_file_atomically(
        path, std::string_view(reinterpret_cast<const char*>(w.bytes().data()), w.bytes().size()));
  } catch (const io::OutputError& e) {
    throw CheckpointError(e.what());
  }
}

nlohmann::json restore_checkpoint(const std::string& path, Chip& chip,
                                  const std::string& expected_model) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw CheckpointError("cannot read checkpoint " + path);
  const std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  if (bytes.size() < sizeof kMagic + 8 + 8 || std::memcmp(bytes.data(), kMagic, sizeof kMagic) != 0)
    throw CheckpointError(path + ": not an aimc checkpoint (no AIMCCKPT signature)");
  uint64_t stored = 0;
  std::memcpy(&stored, bytes.data() + bytes.size() - 8, 8);
  if (checksum(bytes.data(), bytes.size() - 8) != stored)
    throw CheckpointError(path + ": checksum mismatch (the file is truncated or corrupted)");
  Reader r(bytes, path);
  char magic[8];
  r.raw(magic, sizeof magic);
  const uint32_t version = r.get<uint32_t>();
  if (version != kVersion)
    throw CheckpointError(path + ": checkpoint version " + std::to_string(version) +
                          ", this build reads version " + std::to_string(kVersion));
  const uint32_t hlen = r.get<uint32_t>();
  std::string header(hlen, '\0');
  r.raw(header.data(), hlen);
  nlohmann::json h;
  try {
    h = nlohmann::json::parse(header);
  } catch (const std::exception& e) {
    throw CheckpointError(path + ": unreadable header: " + e.what());
  }
  const config::PlatformConfig& cfg = chip.config();
  const std::string want = chip_fingerprint(cfg);
  if (h.value("chip", std::string()) != want)
    throw CheckpointError(path + ": saved for a different chip (" + h.value("chip", std::string("?")) +
                          "); this platform is " + want +
                          ". Restore needs the same grid, array and device settings");
  if (!expected_model.empty() && h.value("model", std::string()).empty())
    throw CheckpointError(path + ": saved without a model (by aimc fw run or aimc serve, where "
                          "firmware programmed the tiles), so which weights they hold is not "
                          "known; restore it with aimc fw run or aimc serve, whose firmware "
                          "attaches its image");
  if (!expected_model.empty() && h.value("model", std::string()) != expected_model)
    throw CheckpointError(path + ": its tiles hold another model's weights (saved for '" +
                          h.value("model", std::string()) + "', this run needs '" +
                          expected_model + "')");
  // Parse every record first, so that a bad file leaves the chip as it was.
  struct Record {
    num::CellState cells;
    bool programmed = false;
    int rows_used = 0, cols_used = 0;
    double age = 0;
    uint32_t cal_ref = 0, gain = 0;
    std::vector<int32_t> trims;
  };
  const int rows = cfg.tile.array.rows, cols = cfg.tile.array.cols;
  std::vector<Record> records;
  for (Tile* t : chip.tiles()) {
    Record rec;
    rec.cells = num::CellState(rows, cols, t->physics());
    num::CellState& c = rec.cells;
    rec.programmed = r.get<uint8_t>() != 0;
    rec.rows_used = static_cast<int>(r.get<uint32_t>());
    rec.cols_used = static_cast<int>(r.get<uint32_t>());
    rec.age = r.get<double>();
    rec.cal_ref = r.get<uint32_t>();
    rec.gain = r.get<uint32_t>();
    rec.trims.resize(static_cast<size_t>(cols));
    r.raw(rec.trims.data(), sizeof(int32_t) * rec.trims.size());
    cell_arrays(r, c);
    r.raw(c.dead_col.data(), c.dead_col.size());
    if (rec.rows_used < 0 || rec.rows_used > rows || rec.cols_used < 0 || rec.cols_used > cols ||
        !(rec.age >= 0))
      throw CheckpointError(path + ": tile" + std::to_string(t->index()) + " record is inconsistent");
    records.push_back(std::move(rec));
  }
  if (r.pos() != bytes.size() - 8)
    throw CheckpointError(path + ": " + std::to_string(bytes.size() - 8 - r.pos()) +
                          " unexpected bytes after the last tile");
  for (Tile* t : chip.tiles()) {
    const Record& rec = records[static_cast<size_t>(t->index())];
    t->restore(rec.cells, rec.programmed, rec.rows_used, rec.cols_used, rec.age);
    apply(*t, TileCalibration{rec.cal_ref, rec.gain, rec.trims});
  }
  return h;
}

std::vector<TileCalibration> tile_calibration(Chip& chip) {
  std::vector<TileCalibration> out;
  for (Tile* t : chip.tiles()) out.push_back({t->cal_ref(), t->gain_q16(), t->trims()});
  return out;
}

void apply_tile_calibration(Chip& chip, const std::vector<TileCalibration>& calibration) {
  if (calibration.size() != chip.tiles().size())
    throw std::logic_error("apply_tile_calibration: calibration of another chip");
  for (Tile* t : chip.tiles()) apply(*t, calibration[static_cast<size_t>(t->index())]);
}

}  // namespace aimc::chip
