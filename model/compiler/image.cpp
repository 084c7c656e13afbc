#include "image.h"

#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <set>

namespace aimc::compiler {

static_assert(sizeof(aimc_image_header_t) == 32, "image header layout");
static_assert(sizeof(aimc_image_section_t) == 32, "section entry layout");
static_assert(sizeof(aimc_weights_hdr_t) == 16, "weights header layout");
static_assert(sizeof(aimc_program_hdr_t) == 64, "program header layout");
static_assert(sizeof(aimc_layer_t) == 56, "layer record layout");
static_assert(sizeof(aimc_slice_t) == 24, "slice record layout");
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
  return n + ")";
}

bool finite_positive(float v) { return std::isfinite(v) && v > 0.0f; }

void check_program(ImageView& v, const aimc_image_section_t& s, size_t si, const std::vector<uint8_t>& bytes) {
  const std::string where = sec_name(si, s) + ": ";
  if (s.size < sizeof(aimc_program_hdr_t)) bad(where + "too small for a program header");
  v.program = read_record<aimc_program_hdr_t>(bytes, s.offset);
  const auto& p = v.program;
  if (p.magic != AIMC_PROGRAM_MAGIC) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "bad program magic 0x%08x, expected 0x%08x", p.magic, AIMC_PROGRAM_MAGIC);
    bad(where + buf);
  }
  const uint64_t need = sizeof(aimc_program_hdr_t) + uint64_t(p.layer_count) * sizeof(aimc_layer_t) +
                        uint64_t(p.slice_count) * sizeof(aimc_slice_t) + uint64_t(p.bias_count) * sizeof(float);
  if (need != s.size)
    bad(where + "header counts (" + std::to_string(p.layer_count) + " layers, " + std::to_string(p.slice_count) +
        " slices, " + std::to_string(p.bias_count) + " biases) need " + std::to_string(need) + " bytes, section has " +
        std::to_string(s.size));
  if (p.layer_count == 0) bad(where + "no layers");
  if (p.dac_bits < 1 || p.dac_bits > 8) bad(where + "dac_bits " + std::to_string(p.dac_bits) + " not in [1, 8]");
  if (p.max_batch == 0) bad(where + "max_batch is 0");
  if (p.adc_bits < 2 || p.adc_bits > 24) bad(where + "adc_bits " + std::to_string(p.adc_bits) + " not in [2, 24]");
  if (p.bits_per_cell < 1 || p.bits_per_cell > 15)
    bad(where + "bits_per_cell " + std::to_string(p.bits_per_cell) + " not in [1, 15]");
  if (!(p.g_min_over_g_max >= 0.0f && p.g_min_over_g_max < 1.0f))
    bad(where + "g_min_over_g_max must be in [0, 1)");
  if (!finite_positive(p.in_scale) || !finite_positive(p.out_scale)) bad(where + "in_scale/out_scale must be finite and > 0");

  uint64_t off = s.offset + sizeof(aimc_program_hdr_t);
  v.layers.resize(p.layer_count);
  for (auto& l : v.layers) { l = read_record<aimc_layer_t>(bytes, off); off += sizeof(aimc_layer_t); }
  v.slices.resize(p.slice_count);
  for (auto& sl : v.slices) { sl = read_record<aimc_slice_t>(bytes, off); off += sizeof(aimc_slice_t); }
  v.bias.resize(p.bias_count);
  if (p.bias_count) std::memcpy(v.bias.data(), bytes.data() + off, p.bias_count * sizeof(float));
  v.program_payload.assign(bytes.begin() + long(s.offset), bytes.begin() + long(s.offset + s.size));

  uint32_t features = p.in_features;
  std::vector<bool> slice_used(p.slice_count, false);
  for (uint32_t li = 0; li < p.layer_count; ++li) {
    const aimc_layer_t& l = v.layers[li];
    const std::string lw = where + "layer " + std::to_string(li) + ": ";
    const bool last = li + 1 == p.layer_count;
    if (l.in_features != features)
      bad(lw + "in_features " + std::to_string(l.in_features) + " but the previous layer produces " + std::to_string(features));
    if (l.in_features == 0 || l.out_features == 0) bad(lw + "zero features");
    features = l.out_features;
    if (l.flags & ~uint32_t(AIMC_LAYER_RELU | AIMC_LAYER_OUTPUT_I32)) bad(lw + "unknown flags");
    if (bool(l.flags & AIMC_LAYER_OUTPUT_I32) != last)
      bad(lw + (last ? "the last layer must have OUTPUT_I32" : "only the last layer may have OUTPUT_I32"));
    const uint32_t out_bytes = last ? 4 : 1;
    if (l.in_stride < l.in_features) bad(lw + "in_stride smaller than in_features");
    if (l.out_stride < uint64_t(l.out_features) * out_bytes) bad(lw + "out_stride smaller than the output vector");
    if (!finite_positive(l.adc_full_scale) || !finite_positive(l.acc_scale) || !finite_positive(l.out_quant_scale))
      bad(lw + "adc_full_scale, acc_scale and out_quant_scale must be finite and > 0");
    if (uint64_t(l.bias_offset) + l.out_features > p.bias_count) bad(lw + "bias range beyond the bias table");
    if (l.slice_count == 0 || uint64_t(l.first_slice) + l.slice_count > p.slice_count) bad(lw + "slice range beyond the slice table");
    if (li == 0 && l.in_addr != p.in_addr) bad(lw + "in_addr differs from the program's in_addr");
    if (last && l.out_addr != p.out_addr) bad(lw + "out_addr differs from the program's out_addr");
    if (last && l.out_quant_scale != p.out_scale) bad(lw + "out_quant_scale differs from the program's out_scale");
    // With max_batch vectors, the layer's input and output regions must not overlap.
    const uint64_t in_end = uint64_t(l.in_addr) + uint64_t(p.max_batch) * l.in_stride;
    const uint64_t out_end = uint64_t(l.out_addr) + uint64_t(p.max_batch) * l.out_stride;
    if (l.in_addr < out_end && l.out_addr < in_end) bad(lw + "input and output activation regions overlap at max_batch");
    if (in_end > (1ull << 32) || out_end > (1ull << 32)) bad(lw + "activation region beyond the 32-bit address space");

    // Every (input, output) pair of the weight matrix must be covered by exactly one slice.
    // Slices form a grid: column blocks x row blocks; check it by coverage counts per axis.
    std::vector<uint32_t> col_cover(l.out_features, 0);
    for (uint32_t k = l.first_slice; k < l.first_slice + l.slice_count; ++k) {
      if (slice_used[k]) bad(lw + "slice " + std::to_string(k) + " is shared with another layer");
      slice_used[k] = true;
      const aimc_slice_t& sl = v.slices[k];
      const std::string sw = lw + "slice " + std::to_string(k) + ": ";
      if (sl.row_count == 0 || sl.col_count == 0) bad(sw + "empty");
      if (uint64_t(sl.row_begin) + sl.row_count > l.in_features) bad(sw + "rows beyond in_features");
      if (uint64_t(sl.col_begin) + sl.col_count > l.out_features) bad(sw + "columns beyond out_features");
      auto wt = v.weights.find(sl.tile);
      if (wt == v.weights.end()) bad(sw + "tile " + std::to_string(sl.tile) + " has no WEIGHTS section");
      if (wt->second.hdr.rows != sl.row_count || wt->second.hdr.cols != sl.col_count)
        bad(sw + "tile " + std::to_string(sl.tile) + " holds " + std::to_string(wt->second.hdr.rows) + "x" +
            std::to_string(wt->second.hdr.cols) + " levels, slice is " + std::to_string(sl.row_count) + "x" +
            std::to_string(sl.col_count));
      // The reduce tile holds row block 0 of the same column range.
      bool reduce_ok = false;
      uint64_t rows_in_block = 0;
      for (uint32_t m = l.first_slice; m < l.first_slice + l.slice_count; ++m) {
        const aimc_slice_t& o = v.slices[m];
        if (o.col_begin != sl.col_begin || o.col_count != sl.col_count) continue;
        rows_in_block += o.row_count;
        if (o.row_begin == 0 && o.tile == sl.reduce_tile) reduce_ok = true;
      }
      if (!reduce_ok) bad(sw + "reduce_tile " + std::to_string(sl.reduce_tile) + " is not the tile of row block 0 of its columns");
      if (rows_in_block != l.in_features) bad(sw + "the slices of its column range cover " + std::to_string(rows_in_block) +
                                              " rows, not in_features " + std::to_string(l.in_features));
      if (sl.row_begin == 0)
        for (uint32_t c = sl.col_begin; c < sl.col_begin + sl.col_count; ++c) ++col_cover[c];
    }
    for (uint32_t c = 0; c < l.out_features; ++c)
      if (col_cover[c] != 1) bad(lw + "output " + std::to_string(c) + " is covered by " + std::to_string(col_cover[c]) + " column blocks");
    // Rows of one column range: disjoint and complete (sum checked above; check overlap here).
    for (uint32_t k = l.first_slice; k < l.first_slice + l.slice_count; ++k)
      for (uint32_t m = k + 1; m < l.first_slice + l.slice_count; ++m) {
        const aimc_slice_t &a = v.slices[k], &b = v.slices[m];
        if (a.col_begin != b.col_begin) continue;
        if (a.row_begin < b.row_begin + b.row_count && b.row_begin < a.row_begin + a.row_count)
          bad(lw + "slices " + std::to_string(k) + " and " + std::to_string(m) + " overlap in rows");
      }
  }
  if (features != p.out_features)
    bad(where + "out_features " + std::to_string(p.out_features) + " but the last layer produces " + std::to_string(features));
  for (uint32_t k = 0; k < p.slice_count; ++k)
    if (!slice_used[k]) bad(where + "slice " + std::to_string(k) + " belongs to no layer");
  for (float b : v.bias)
    if (!std::isfinite(b)) bad(where + "non-finite bias");
}

}  // namespace

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
  int program_index = -1;
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
        if (v.weights.count(s.tile)) bad(where + "second WEIGHTS section for the same tile");
        if (s.size < sizeof(aimc_weights_hdr_t)) bad(where + "too small for a weights header");
        TileWeights tw;
        tw.tile = s.tile;
        tw.dest_addr = s.dest_addr;
        tw.hdr = read_record<aimc_weights_hdr_t>(bytes, s.offset);
        if (tw.hdr.bits_per_cell < 1 || tw.hdr.bits_per_cell > 15)
          bad(where + "bits_per_cell " + std::to_string(tw.hdr.bits_per_cell) + " not in [1, 15]");
        const uint64_t n = uint64_t(tw.hdr.rows) * tw.hdr.cols;
        if (n == 0) bad(where + "empty weight block");
        if (s.size != sizeof(aimc_weights_hdr_t) + 2 * n)
          bad(where + std::to_string(tw.hdr.rows) + "x" + std::to_string(tw.hdr.cols) + " levels need " +
              std::to_string(sizeof(aimc_weights_hdr_t) + 2 * n) + " bytes, section has " + std::to_string(s.size));
        tw.levels.resize(n);
        std::memcpy(tw.levels.data(), bytes.data() + s.offset + sizeof(aimc_weights_hdr_t), 2 * n);
        const int lm = (1 << tw.hdr.bits_per_cell) - 1;
        for (uint64_t k = 0; k < n; ++k)
          if (tw.levels[k] > lm || tw.levels[k] < -lm)
            bad(where + "level " + std::to_string(tw.levels[k]) + " at row " + std::to_string(k / tw.hdr.cols) + ", col " +
                std::to_string(k % tw.hdr.cols) + " outside +-" + std::to_string(lm));
        v.weights.emplace(s.tile, std::move(tw));
        break;
      }
      case AIMC_SECTION_PROGRAM:
        if (s.tile != AIMC_TILE_NONE) bad(where + "tile must be AIMC_TILE_NONE");
        if (program_index >= 0) bad(where + "more than one PROGRAM section");
        program_index = int(i);
        break;
      default:
        bad(where + "unknown section type " + std::to_string(s.type));
    }
  }
  if (program_index < 0) bad("no PROGRAM section");
  // The program refers to tiles, so it is checked after all WEIGHTS sections are known.
  const auto& ps = v.sections[size_t(program_index)];
  v.program_dest_addr = ps.dest_addr;
  check_program(v, ps, size_t(program_index), bytes);
  std::set<uint32_t> used;
  for (const auto& sl : v.slices) used.insert(sl.tile);
  for (const auto& [tile, w] : v.weights)
    if (!used.count(tile)) bad("WEIGHTS section for tile " + std::to_string(tile) + " is used by no slice");
  return v;
}

void ImageBuilder::add_section(uint32_t type, uint32_t tile, uint32_t dest_addr, std::vector<uint8_t> payload) {
  Pending p{};
  p.entry.type = type;
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
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  if (!f) throw std::runtime_error(path + ": cannot open for writing (" + std::strerror(errno) + ")");
  f.write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
  if (!f) throw std::runtime_error(path + ": write failed");
}

std::vector<uint8_t> read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw std::runtime_error(path + ": cannot open (" + std::strerror(errno) + ")");
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

}  // namespace aimc::compiler
