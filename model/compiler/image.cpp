#include "image.h"

#include "io/atomic_file.h"
#include "program/validate.h"

#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <algorithm>
#include <map>
#include <set>

namespace aimc::compiler {

static_assert(sizeof(aimc_image_header_t) == 32, "image header layout");
static_assert(sizeof(aimc_image_section_t) == 32, "section entry layout");
static_assert(sizeof(aimc_weights_hdr_t) == 16, "weights header layout");
static_assert(sizeof(aimc_program_hdr_t) == 64, "program header layout");
static_assert(sizeof(aimc_layer_t) == 172, "op record layout");
static_assert(sizeof(aimc_slice_t) == 32, "slice record layout");
// Records are copied byte for byte; the file is little-endian.
static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "the image reader/writer assumes a little-endian host");

namespace {

constexpr uint64_t kAlign = 8;
uint64_t align_up(uint64_t v) { return (v + kAlign - 1) / kAlign * kAlign; }

[[noreturn]] void bad(const std::string& msg) { throw ImageError("deployment image: " + msg); }

template <typename T>
T read_record(const std::vector<uint8_t>& bytes, uint64_t offset) {
  T t;
  std::memcpy(&t, bytes.data() + offset, sizeof(T));
  return t;
}

const char* type_name(uint32_t type) {
  switch (type) {
    case AIMC_SECTION_META: return "META";
    case AIMC_SECTION_WEIGHTS: return "WEIGHTS";
    case AIMC_SECTION_PROGRAM: return "PROGRAM";
    default: return "unknown";
  }
}

std::string sec_name(size_t i, const aimc_image_section_t& s) {
  std::string n = "section " + std::to_string(i) + " (" + type_name(s.type);
  if (s.type == AIMC_SECTION_WEIGHTS) n += " tile " + std::to_string(s.tile);
  if (s.segment) n += " segment " + std::to_string(s.segment);
  return n + ")";
}

// Reads the PROGRAM section into `v` and checks it with the one program validator
// (program/validate.h) against this segment's WEIGHTS sections.
void read_program(SegmentView& v, const aimc_image_section_t& s, size_t si, const std::vector<uint8_t>& bytes) {
  const std::string where = sec_name(si, s) + ": ";
  if (s.size < sizeof(aimc_program_hdr_t)) bad(where + "too small for a program header");
  v.program = read_record<aimc_program_hdr_t>(bytes, s.offset);
  const auto& p = v.program;
  const uint64_t need = sizeof(aimc_program_hdr_t) + uint64_t(p.layer_count) * sizeof(aimc_layer_t) +
                        uint64_t(p.slice_count) * sizeof(aimc_slice_t) + uint64_t(p.bias_count) * sizeof(float);
  if (p.magic == AIMC_PROGRAM_MAGIC && need != s.size)
    bad(where + "header counts (" + std::to_string(p.layer_count) + " ops, " + std::to_string(p.slice_count) +
        " slices, " + std::to_string(p.bias_count) + " table floats) need " + std::to_string(need) + " bytes, section has " +
        std::to_string(s.size));
  if (p.magic == AIMC_PROGRAM_MAGIC) {
    uint64_t off = s.offset + sizeof(aimc_program_hdr_t);
    v.layers.resize(p.layer_count);
    for (auto& l : v.layers) { l = read_record<aimc_layer_t>(bytes, off); off += sizeof(aimc_layer_t); }
    v.slices.resize(p.slice_count);
    for (auto& sl : v.slices) { sl = read_record<aimc_slice_t>(bytes, off); off += sizeof(aimc_slice_t); }
    v.bias.resize(p.bias_count);
    if (p.bias_count) std::memcpy(v.bias.data(), bytes.data() + off, p.bias_count * sizeof(float));
    v.program_payload.assign(bytes.begin() + long(s.offset), bytes.begin() + long(s.offset + s.size));
  }
  const program::ProgramView view{&v.program, v.layers.data(), v.slices.data(), v.bias.data()};
  const auto tiles = [&v](uint32_t tile, program::TileBlock& block) -> program::Problem {
    auto wt = v.weights.find(tile);
    if (wt == v.weights.end())
      return program::bad_program(program::ArgKind::tile, tile,
                                  "tile " + std::to_string(tile) + " has no WEIGHTS section in this segment");
    block = {wt->second.hdr.rows, wt->second.hdr.cols, wt->second.levels.data()};
    return {};
  };
  if (program::Problem e = program::check_program(view, tiles)) bad(where + e.message);
}

}  // namespace

const TileWeights& SegmentView::tile_weights(uint32_t tile) const {
  auto it = weights.find(tile);
  if (it == weights.end()) throw ImageError("deployment image: no WEIGHTS section for tile " + std::to_string(tile));
  return it->second;
}

const TileWeights& ImageView::tile_weights(uint32_t tile) const {
  auto it = weights.find(tile);
  if (it == weights.end()) throw ImageError("deployment image: no WEIGHTS section for tile " + std::to_string(tile));
  return it->second;
}

ImageView parse_image(const std::vector<uint8_t>& bytes) {
  ImageView v;
  if (bytes.size() < sizeof(aimc_image_header_t))
    bad("truncated: " + std::to_string(bytes.size()) + " bytes, the header alone is 32");
  v.header = read_record<aimc_image_header_t>(bytes, 0);
  if (std::memcmp(v.header.magic, AIMC_IMAGE_MAGIC, 8) != 0) bad("bad magic (expected \"AIMCIMG1\"): not a deployment image");
  if (v.header.version != AIMC_IMAGE_VERSION)
    bad("version " + std::to_string(v.header.version) + " not supported (this reader knows " + std::to_string(AIMC_IMAGE_VERSION) + ")");
  if (v.header.total_bytes != bytes.size())
    bad("header says " + std::to_string(v.header.total_bytes) + " bytes, file has " + std::to_string(bytes.size()) +
        (bytes.size() < v.header.total_bytes ? " (truncated)" : ""));
  const uint64_t table_end = sizeof(aimc_image_header_t) + uint64_t(v.header.section_count) * sizeof(aimc_image_section_t);
  if (table_end > bytes.size()) bad("section table of " + std::to_string(v.header.section_count) + " entries runs past the end of the file");

  std::vector<std::pair<uint64_t, uint64_t>> ranges;
  std::map<uint32_t, int> program_index;                       // by segment
  std::map<uint32_t, std::map<uint32_t, TileWeights>> weights;  // by segment, tile
  for (uint32_t i = 0; i < v.header.section_count; ++i) {
    auto s = read_record<aimc_image_section_t>(bytes, sizeof(aimc_image_header_t) + uint64_t(i) * sizeof(aimc_image_section_t));
    v.sections.push_back(s);
    const std::string where = sec_name(i, s) + ": ";
    if (s.offset % kAlign) bad(where + "offset " + std::to_string(s.offset) + " is not 8-byte aligned");
    if (s.offset < table_end) bad(where + "payload overlaps the header or section table");
    if (s.offset > bytes.size() || s.size > bytes.size() - s.offset)
      bad(where + "payload [" + std::to_string(s.offset) + ", +" + std::to_string(s.size) + ") is out of the file's " +
          std::to_string(bytes.size()) + " bytes");
    for (auto& r : ranges)
      if (s.size && s.offset < r.first + r.second && r.first < s.offset + s.size) bad(where + "payload overlaps another section");
    ranges.emplace_back(s.offset, s.size);
    switch (s.type) {
      case AIMC_SECTION_META:
        if (s.tile != AIMC_TILE_NONE) bad(where + "tile must be AIMC_TILE_NONE");
        if (s.segment != 0) bad(where + "segment must be 0");
        if (!v.meta_text.empty() || !v.meta.is_null()) bad(where + "more than one META section");
        v.meta_text.assign(reinterpret_cast<const char*>(bytes.data() + s.offset), s.size);
        try {
          v.meta = nlohmann::json::parse(v.meta_text);
        } catch (const nlohmann::json::exception& e) {
          bad(where + "not valid JSON (" + e.what() + ")");
        }
        break;
      case AIMC_SECTION_WEIGHTS: {
        if (s.tile == AIMC_TILE_NONE) bad(where + "WEIGHTS needs a tile index");
        if (s.segment >= AIMC_MAX_SEGMENTS) bad(where + "segment " + std::to_string(s.segment) + " beyond AIMC_MAX_SEGMENTS");
        if (weights[s.segment].count(s.tile)) bad(where + "second WEIGHTS section for the same tile in segment " + std::to_string(s.segment));
        if (s.size < sizeof(aimc_weights_hdr_t)) bad(where + "too small for a weights header");
        TileWeights tw;
        tw.tile = s.tile;
        tw.dest_addr = s.dest_addr;
        tw.hdr = read_record<aimc_weights_hdr_t>(bytes, s.offset);
        if (tw.hdr.bits_per_cell < 1 || tw.hdr.bits_per_cell > 15)
          bad(where + "bits_per_cell " + std::to_string(tw.hdr.bits_per_cell) + " not in [1, 15]");
        const uint64_t n = uint64_t(tw.hdr.rows) * tw.hdr.cols;
        if (n == 0) bad(where + "empty weight block");
        // rows x cols < 2^64, but 2 bytes each may wrap: compare levels, not bytes.
        if ((s.size - sizeof(aimc_weights_hdr_t)) % 2 != 0 || (s.size - sizeof(aimc_weights_hdr_t)) / 2 != n)
          bad(where + std::to_string(tw.hdr.rows) + "x" + std::to_string(tw.hdr.cols) + " levels need " +
              (n > (UINT64_MAX - sizeof(aimc_weights_hdr_t)) / 2 ? std::string("more than 2^64")
                                                                  : std::to_string(sizeof(aimc_weights_hdr_t) + 2 * n)) +
              " bytes, section has " + std::to_string(s.size));
        tw.levels.resize(n);
        std::memcpy(tw.levels.data(), bytes.data() + s.offset + sizeof(aimc_weights_hdr_t), 2 * n);
        const int lm = (1 << tw.hdr.bits_per_cell) - 1;
        for (uint64_t k = 0; k < n; ++k)
          if (tw.levels[k] > lm || tw.levels[k] < -lm)
            bad(where + "level " + std::to_string(tw.levels[k]) + " at row " + std::to_string(k / tw.hdr.cols) + ", col " +
                std::to_string(k % tw.hdr.cols) + " outside +-" + std::to_string(lm));
        weights[s.segment].emplace(s.tile, std::move(tw));
        break;
      }
      case AIMC_SECTION_PROGRAM:
        if (s.tile != AIMC_TILE_NONE) bad(where + "tile must be AIMC_TILE_NONE");
        if (s.segment >= AIMC_MAX_SEGMENTS) bad(where + "segment " + std::to_string(s.segment) + " beyond AIMC_MAX_SEGMENTS");
        if (program_index.count(s.segment)) bad(where + "more than one PROGRAM section for segment " + std::to_string(s.segment));
        program_index[s.segment] = int(i);
        break;
      default:
        bad(where + "unknown section type " + std::to_string(s.type));
    }
  }
  if (program_index.empty()) bad("no PROGRAM section");
  const uint32_t n_seg = uint32_t(program_index.size());
  if (program_index.rbegin()->first != n_seg - 1) bad("PROGRAM sections must be numbered 0 .. segments - 1 without gaps");
  for (const auto& [seg, w] : weights)
    if (seg >= n_seg) bad("WEIGHTS section of segment " + std::to_string(seg) + ", which has no PROGRAM");
  // Programs refer to tiles, so they are checked after all WEIGHTS sections are known.
  for (uint32_t seg = 0; seg < n_seg; ++seg) {
    SegmentView sv;
    sv.weights = std::move(weights[seg]);
    const auto& ps = v.sections[size_t(program_index[seg])];
    sv.program_dest_addr = ps.dest_addr;
    read_program(sv, ps, size_t(program_index[seg]), bytes);
    std::set<uint32_t> used;
    for (const auto& sl : sv.slices) used.insert(sl.tile);
    for (const auto& [tile, w] : sv.weights)
      if (!used.count(tile)) bad("WEIGHTS section for tile " + std::to_string(tile) + " of segment " + std::to_string(seg) + " is used by no slice");
    v.segments.push_back(std::move(sv));
  }
  const auto& first = v.segments.front().program;
  for (const auto& sv : v.segments) {
    const auto& p = sv.program;
    if (p.in_features != first.in_features || p.out_features != first.out_features || p.in_addr != first.in_addr ||
        p.out_addr != first.out_addr || p.in_scale != first.in_scale || p.in_zero != first.in_zero ||
        p.out_scale != first.out_scale || p.max_batch != first.max_batch || p.dac_bits != first.dac_bits ||
        p.adc_bits != first.adc_bits || p.bits_per_cell != first.bits_per_cell || p.g_min_over_g_max != first.g_min_over_g_max)
      bad("the segments' program headers disagree (network input/output, scales, batch or chip parameters)");
  }
  if (!(v.segments.back().layers.back().flags & AIMC_LAYER_OUTPUT_I32)) bad("the last op of the last segment must have OUTPUT_I32");
  for (size_t si = 0; si < v.segments.size(); ++si)
    for (size_t li = 0; li < v.segments[si].layers.size(); ++li)
      if ((v.segments[si].layers[li].flags & AIMC_LAYER_OUTPUT_I32) &&
          !(si + 1 == v.segments.size() && li + 1 == v.segments[si].layers.size()))
        bad("only the last op of the last segment may have OUTPUT_I32 (segment " + std::to_string(si) + " op " + std::to_string(li) + ")");
  const SegmentView& s0 = v.segments.front();
  v.program = s0.program;
  v.program_dest_addr = s0.program_dest_addr;
  v.program_payload = s0.program_payload;
  v.layers = s0.layers;
  v.slices = s0.slices;
  v.bias = s0.bias;
  v.weights = s0.weights;
  return v;
}

void ImageBuilder::add_section(uint32_t type, uint32_t tile, uint32_t dest_addr, std::vector<uint8_t> payload,
                               uint32_t segment) {
  Pending p{};
  p.entry.type = type;
  p.entry.segment = segment;
  p.entry.tile = tile;
  p.entry.dest_addr = dest_addr;
  p.entry.size = payload.size();
  p.payload = std::move(payload);
  sections_.push_back(std::move(p));
}

std::vector<uint8_t> ImageBuilder::build() const {
  uint64_t off = align_up(sizeof(aimc_image_header_t) + sections_.size() * sizeof(aimc_image_section_t));
  std::vector<aimc_image_section_t> table;
  for (const auto& s : sections_) {
    aimc_image_section_t e = s.entry;
    e.offset = off;
    table.push_back(e);
    off = align_up(off + s.payload.size());
  }
  aimc_image_header_t h{};
  std::memcpy(h.magic, AIMC_IMAGE_MAGIC, 8);
  h.version = AIMC_IMAGE_VERSION;
  h.section_count = uint32_t(sections_.size());
  h.total_bytes = off;
  std::vector<uint8_t> out;
  out.reserve(off);
  append_record(out, h);
  for (const auto& e : table) append_record(out, e);
  for (size_t i = 0; i < sections_.size(); ++i) {
    out.resize(table[i].offset, 0);  // zero padding up to the aligned offset
    out.insert(out.end(), sections_[i].payload.begin(), sections_[i].payload.end());
  }
  out.resize(off, 0);
  return out;
}

void write_file(const std::string& path, const std::vector<uint8_t>& bytes) {
  io::write_file_atomically(path, std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
}

std::vector<uint8_t> read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw std::runtime_error(path + ": cannot open (" + std::strerror(errno) + ")");
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

}  // namespace aimc::compiler
