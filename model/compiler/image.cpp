#include "image.h"
#include "program_rules.h"

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

void check_program(SegmentView& v, const aimc_image_section_t& s, size_t si, const std::vector<uint8_t>& bytes) {
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
    bad(where + "header counts (" + std::to_string(p.layer_count) + " ops, " + std::to_string(p.slice_count) +
        " slices, " + std::to_string(p.bias_count) + " table floats) need " + std::to_string(need) + " bytes, section has " +
        std::to_string(s.size));
  if (p.layer_count == 0) bad(where + "no ops");
  if (p.dac_bits < 1 || p.dac_bits > 8) bad(where + "dac_bits " + std::to_string(p.dac_bits) + " not in [1, 8]");
  if (p.max_batch == 0) bad(where + "max_batch is 0");
  if (p.adc_bits < 2 || p.adc_bits > 24) bad(where + "adc_bits " + std::to_string(p.adc_bits) + " not in [2, 24]");
  if (p.bits_per_cell < 1 || p.bits_per_cell > 15)
    bad(where + "bits_per_cell " + std::to_string(p.bits_per_cell) + " not in [1, 15]");
  if (!(p.g_min_over_g_max >= 0.0f && p.g_min_over_g_max < 1.0f))
    bad(where + "g_min_over_g_max must be in [0, 1)");
  if (!program::finite_positive(p.in_scale) || !program::finite_positive(p.out_scale)) bad(where + "in_scale/out_scale must be finite and > 0");
  if (p.in_zero > (1u << p.dac_bits) - 1) bad(where + "in_zero beyond the DAC codes");

  uint64_t off = s.offset + sizeof(aimc_program_hdr_t);
  v.layers.resize(p.layer_count);
  for (auto& l : v.layers) { l = read_record<aimc_layer_t>(bytes, off); off += sizeof(aimc_layer_t); }
  v.slices.resize(p.slice_count);
  for (auto& sl : v.slices) { sl = read_record<aimc_slice_t>(bytes, off); off += sizeof(aimc_slice_t); }
  v.bias.resize(p.bias_count);
  if (p.bias_count) std::memcpy(v.bias.data(), bytes.data() + off, p.bias_count * sizeof(float));
  v.program_payload.assign(bytes.begin() + long(s.offset), bytes.begin() + long(s.offset + s.size));

  const uint32_t code_max = (1u << p.dac_bits) - 1;
  std::vector<bool> slice_used(p.slice_count, false);
  for (uint32_t li = 0; li < p.layer_count; ++li) {
    const aimc_layer_t& l = v.layers[li];
    const std::string lw = where + "op " + std::to_string(li) + ": ";
    if (l.kind > AIMC_OP_DWCONV) bad(lw + "unknown kind " + std::to_string(l.kind));
    if (l.flags & ~uint32_t(AIMC_LAYER_RELU | AIMC_LAYER_OUTPUT_I32 | AIMC_LAYER_COUNT_PAD)) bad(lw + "unknown flags");
    const bool i32 = l.flags & AIMC_LAYER_OUTPUT_I32;
    if (!l.in_h || !l.in_w || !l.in_c || !l.out_h || !l.out_w || !l.out_c) bad(lw + "zero map dimension");
    const bool windowed = l.kind == AIMC_OP_MVM || l.kind == AIMC_OP_MAXPOOL || l.kind == AIMC_OP_AVGPOOL || l.kind == AIMC_OP_DWCONV;
    if (windowed) {
      if (!l.kh || !l.kw || !l.stride_h || !l.stride_w) bad(lw + "zero window or stride");
      if (uint64_t(l.in_h) + l.pad_t + l.pad_b < l.kh || uint64_t(l.in_w) + l.pad_l + l.pad_r < l.kw ||
          (l.in_h + l.pad_t + l.pad_b - l.kh) / l.stride_h + 1 != l.out_h ||
          (l.in_w + l.pad_l + l.pad_r - l.kw) / l.stride_w + 1 != l.out_w)
        bad(lw + "output map " + std::to_string(l.out_h) + "x" + std::to_string(l.out_w) + " does not follow from the window");
    }
    const uint64_t in_elems = uint64_t(l.in_h) * l.in_w * l.in_c;
    const uint64_t out_pixels = uint64_t(l.out_h) * l.out_w;
    if (l.kind == AIMC_OP_MVM) {
      if (!l.groups || l.in_c % l.groups || l.out_c % l.groups) bad(lw + "channels not divisible by groups");
      if (l.in_features != uint64_t(l.kh) * l.kw * l.in_c) bad(lw + "in_features is not kh * kw * in_c");
      if (l.out_features != l.out_c) bad(lw + "out_features is not out_c");
    } else {
      if (l.in_features != in_elems) bad(lw + "in_features is not in_h * in_w * in_c");
      if (l.out_features != out_pixels * l.out_c) bad(lw + "out_features is not out_h * out_w * out_c");
    }
    if ((l.kind == AIMC_OP_MAXPOOL || l.kind == AIMC_OP_AVGPOOL || l.kind == AIMC_OP_ADD || l.kind == AIMC_OP_CONCAT) &&
        l.kind != AIMC_OP_CONCAT && l.out_c != l.in_c)
      bad(lw + "out_c differs from in_c");
    if ((l.kind == AIMC_OP_ADD) && (l.out_h != l.in_h || l.out_w != l.in_w)) bad(lw + "add changes the map size");
    if (l.kind == AIMC_OP_CONCAT && (l.out_h != l.in_h || l.out_w != l.in_w || l.out_c != l.in_c)) bad(lw + "concat input and output slice differ");
    if (l.kind == AIMC_OP_SOFTMAX && (l.in_h != 1 || l.in_w != 1 || l.out_c != l.in_c)) bad(lw + "softmax needs a 1x1 map");
    if (l.kind == AIMC_OP_DWCONV && (l.groups != l.in_c || l.out_c != l.in_c)) bad(lw + "depthwise needs groups = in_c = out_c");
    if (uint64_t(l.out_c_offset) + l.out_c > l.out_pixel_channels) bad(lw + "out_c_offset + out_c beyond out_pixel_channels");
    if (l.kind != AIMC_OP_CONCAT && (l.out_c_offset != 0 || l.out_pixel_channels != l.out_c)) bad(lw + "only CONCAT writes a channel range");
    if (l.in_stride < in_elems) bad(lw + "in_stride smaller than the input map");
    if (l.out_stride < out_pixels * l.out_pixel_channels * (i32 ? 4 : 1)) bad(lw + "out_stride smaller than the output map");
    if (const char* problem = program::layer_number_problem(l)) bad(lw + problem);
    if (l.in_zero > code_max || l.out_zero > code_max || l.in2_zero > code_max) bad(lw + "zero point beyond the DAC codes");
    if (i32 && (l.out_addr != p.out_addr || l.out_quant_scale != p.out_scale))
      bad(lw + "an OUTPUT_I32 op must write the program's out_addr with its out_scale");
    if (l.kind == AIMC_OP_MVM || l.kind == AIMC_OP_DWCONV)
      if (uint64_t(l.bias_offset) + l.out_c > p.bias_count) bad(lw + "bias range beyond the table");
    if (l.kind == AIMC_OP_DWCONV && uint64_t(l.weight_offset) + uint64_t(l.kh) * l.kw * l.out_c > p.bias_count)
      bad(lw + "weight range beyond the table");
    const uint64_t in_end = uint64_t(l.in_addr) + uint64_t(p.max_batch) * l.in_stride;
    const uint64_t out_end = uint64_t(l.out_addr) + uint64_t(p.max_batch) * l.out_stride;
    if (l.in_addr < out_end && l.out_addr < in_end) bad(lw + "input and output activation regions overlap at max_batch");
    if (in_end > (1ull << 32) || out_end > (1ull << 32)) bad(lw + "activation region beyond the 32-bit address space");

    if (l.kind != AIMC_OP_MVM) {
      if (l.slice_count != 0) bad(lw + "a digital op has slices");
      if (l.replicas > 1) bad(lw + "a digital op has replicas = " + std::to_string(l.replicas));
      continue;
    }
    if (l.slice_count == 0 || uint64_t(l.first_slice) + l.slice_count > p.slice_count) bad(lw + "slice range beyond the slice table");
    const uint32_t copies = std::max(1u, l.replicas);
    if (l.slice_count % copies != 0)
      bad(lw + std::to_string(l.slice_count) + " slices do not split into " + std::to_string(copies) + " copies");
    const uint32_t per_copy = l.slice_count / copies;
    const uint32_t rows_g = l.in_features / l.groups, cols_g = l.out_c / l.groups;
    for (uint32_t copy = 0; copy < copies; ++copy) {
      // Coverage, per copy: every output column lies in exactly one column block; a column block's
      // slices have disjoint rows whose union is one range containing the rows of the column's groups.
      std::vector<uint32_t> col_cover(l.out_features, 0);
      std::map<std::pair<uint32_t, uint32_t>, std::vector<uint32_t>> blocks;
      const uint32_t first = l.first_slice + copy * per_copy;
      for (uint32_t k = first; k < first + per_copy; ++k) {
        if (slice_used[k]) bad(lw + "slice " + std::to_string(k) + " is shared with another op");
        slice_used[k] = true;
        const aimc_slice_t& sl = v.slices[k];
        const std::string sw = lw + "slice " + std::to_string(k) + ": ";
        if (sl.row_count == 0 || sl.col_count == 0) bad(sw + "empty");
        if (uint64_t(sl.row_begin) + sl.row_count > l.in_features) bad(sw + "rows beyond in_features");
        if (uint64_t(sl.col_begin) + sl.col_count > l.out_features) bad(sw + "columns beyond out_features");
        auto wt = v.weights.find(sl.tile);
        if (wt == v.weights.end()) bad(sw + "tile " + std::to_string(sl.tile) + " has no WEIGHTS section in this segment");
        if (uint64_t(sl.tile_row) + sl.row_count > wt->second.hdr.rows || uint64_t(sl.tile_col) + sl.col_count > wt->second.hdr.cols)
          bad(sw + "block at (" + std::to_string(sl.tile_row) + ", " + std::to_string(sl.tile_col) + ") of " +
              std::to_string(sl.row_count) + "x" + std::to_string(sl.col_count) + " lies outside the " +
              std::to_string(wt->second.hdr.rows) + "x" + std::to_string(wt->second.hdr.cols) + " levels of tile " +
              std::to_string(sl.tile));
        blocks[{sl.col_begin, sl.col_count}].push_back(k);
        if (copy > 0) {  // a copy: the same block as the original's slice, with the same levels
          const aimc_slice_t& o = v.slices[k - copy * per_copy];
          if (sl.row_begin != o.row_begin || sl.row_count != o.row_count || sl.col_begin != o.col_begin ||
              sl.col_count != o.col_count)
            bad(sw + "copy " + std::to_string(copy) + " does not cut the matrix as copy 0 (slice " +
                std::to_string(k - copy * per_copy) + ")");
          const TileWeights& ow = v.weights.at(o.tile);
          for (uint32_t r = 0; r < sl.row_count; ++r)
            for (uint32_t c = 0; c < sl.col_count; ++c)
              if (wt->second.level(sl.tile_row + r, sl.tile_col + c) != ow.level(o.tile_row + r, o.tile_col + c))
                bad(sw + "copy " + std::to_string(copy) + " holds other levels than copy 0 at row " +
                    std::to_string(r) + ", column " + std::to_string(c) + " of the block");
        }
      }
      for (auto& [cols, ks] : blocks) {
        std::sort(ks.begin(), ks.end(), [&](uint32_t a, uint32_t b) { return v.slices[a].row_begin < v.slices[b].row_begin; });
        uint32_t at = v.slices[ks.front()].row_begin;
        for (uint32_t k : ks) {
          if (v.slices[k].row_begin != at) bad(lw + "slice " + std::to_string(k) + ": rows of its column block overlap or leave a gap");
          at += v.slices[k].row_count;
          if (v.slices[k].reduce_tile != v.slices[ks.front()].tile)
            bad(lw + "slice " + std::to_string(k) + ": reduce_tile " + std::to_string(v.slices[k].reduce_tile) +
                " is not the tile of the first row block of its columns");
        }
        const uint32_t g0 = cols.first / cols_g, g1 = (cols.first + cols.second - 1) / cols_g;
        if (v.slices[ks.front()].row_begin > g0 * rows_g || at < (g1 + 1) * rows_g)
          bad(lw + "the slices of columns [" + std::to_string(cols.first) + ", " + std::to_string(cols.first + cols.second) +
              ") do not cover the rows of their groups");
        for (uint32_t c = cols.first; c < cols.first + cols.second; ++c) ++col_cover[c];
      }
      for (uint32_t c = 0; c < l.out_features; ++c)
        if (col_cover[c] != 1)
          bad(lw + (copies > 1 ? "copy " + std::to_string(copy) + ": " : std::string()) + "output " + std::to_string(c) +
              " is covered by " + std::to_string(col_cover[c]) + " column blocks");
    }
  }
  for (uint32_t k = 0; k < p.slice_count; ++k)
    if (!slice_used[k]) bad(where + "slice " + std::to_string(k) + " belongs to no op");
  // Blocks on one tile must not overlap.
  for (uint32_t a = 0; a < p.slice_count; ++a)
    for (uint32_t b = a + 1; b < p.slice_count; ++b) {
      const aimc_slice_t &x = v.slices[a], &y = v.slices[b];
      if (x.tile != y.tile) continue;
      if (x.tile_row < y.tile_row + y.row_count && y.tile_row < x.tile_row + x.row_count &&
          x.tile_col < y.tile_col + y.col_count && y.tile_col < x.tile_col + x.col_count)
        bad(where + "slices " + std::to_string(a) + " and " + std::to_string(b) + " overlap on tile " + std::to_string(x.tile));
    }
  if (program::first_non_finite(v.bias.data(), p.bias_count) != p.bias_count)
    bad(where + "non-finite value in the table");
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
    check_program(sv, ps, size_t(program_index[seg]), bytes);
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
