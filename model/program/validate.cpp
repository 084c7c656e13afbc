#include "program/validate.h"

#include "program/layer_fields.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <map>
#include <utility>
#include <vector>

namespace aimc::program {

Problem problem(uint32_t code, ArgKind kind, uint32_t arg, std::string message) {
  Problem p;
  p.code = code;
  p.arg_kind = kind;
  p.arg = arg;
  p.message = std::move(message);
  return p;
}

Problem bad_program(ArgKind kind, uint32_t arg, std::string message) {
  return problem(AIMC_ERR_BAD_PROGRAM, kind, arg, std::move(message));
}

namespace {

using std::to_string;

bool finite_positive(float v) { return std::isfinite(v) && v > 0.0f; }

bool is_windowed(uint32_t kind) {
  return kind == AIMC_OP_MVM || kind == AIMC_OP_MAXPOOL || kind == AIMC_OP_AVGPOOL || kind == AIMC_OP_DWCONV;
}

Problem bad_header(std::string message) { return bad_program(ArgKind::program, 0, std::move(message)); }

// The first problem with the scales and clamp of op `l`, in words, or nullptr. Each scale is
// checked where the op's kind uses it: a NaN or infinite scale turns codes into NaNs, which no
// output code represents.
const char* number_problem(const aimc_layer_t& l) {
  const bool weighted = l.kind == AIMC_OP_MVM || l.kind == AIMC_OP_DWCONV;
  if (!finite_positive(l.out_quant_scale)) return "out_quant_scale must be finite and > 0";
  if (weighted && !finite_positive(l.acc_scale)) return "acc_scale must be finite and > 0";
  if (l.kind == AIMC_OP_MVM && !finite_positive(l.adc_full_scale)) return "adc_full_scale must be finite and > 0";
  if (l.kind != AIMC_OP_MVM && l.kind != AIMC_OP_MAXPOOL && !finite_positive(l.in_scale))
    return "in_scale must be finite and > 0";
  if (has_second_input(l) && !finite_positive(l.in2_scale)) return "in2_scale must be finite and > 0";
  if (std::isnan(l.act_min) || std::isnan(l.act_max) || l.act_min > l.act_max)
    return "act_min/act_max must be ordered and not NaN";
  // An infinite clamp is "no clamp" on its side only: a clamp to +inf (or -inf) would leave no
  // finite value to quantize.
  if (l.act_min == std::numeric_limits<float>::infinity() || l.act_max == -std::numeric_limits<float>::infinity())
    return "act_min must be below +inf and act_max above -inf";
  return nullptr;
}

Problem check_header(const aimc_program_hdr_t& p) {
  if (p.magic != AIMC_PROGRAM_MAGIC) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "bad program magic 0x%08x, expected 0x%08x", p.magic, AIMC_PROGRAM_MAGIC);
    return bad_header(buf);
  }
  if (p.layer_count == 0) return bad_header("no ops");
  if (p.dac_bits < 1 || p.dac_bits > 8) return bad_header("dac_bits " + to_string(p.dac_bits) + " not in [1, 8]");
  if (p.max_batch == 0) return bad_header("max_batch is 0");
  if (p.adc_bits < 2 || p.adc_bits > 24) return bad_header("adc_bits " + to_string(p.adc_bits) + " not in [2, 24]");
  if (p.bits_per_cell < 1 || p.bits_per_cell > 15)
    return bad_header("bits_per_cell " + to_string(p.bits_per_cell) + " not in [1, 15]");
  if (!(p.g_min_over_g_max >= 0.0f && p.g_min_over_g_max < 1.0f)) return bad_header("g_min_over_g_max must be in [0, 1)");
  if (!finite_positive(p.in_scale) || !finite_positive(p.out_scale))
    return bad_header("in_scale/out_scale must be finite and > 0");
  if (p.in_zero > (1u << p.dac_bits) - 1) return bad_header("in_zero beyond the DAC codes");
  return {};
}

// The program's arithmetic (acc_scale, the codes) assumed the chip's converters and cells; a
// mismatch would give wrong numbers silently, so it is refused.
Problem check_machine(const aimc_program_hdr_t& p, const Machine& m) {
  if (p.dac_bits != m.dac_bits || p.adc_bits != m.adc_bits || p.bits_per_cell != m.bits_per_cell ||
      p.g_min_over_g_max != m.g_min_over_g_max)
    return bad_header("compiled for dac_bits " + to_string(p.dac_bits) + ", adc_bits " + to_string(p.adc_bits) +
                      ", bits_per_cell " + to_string(p.bits_per_cell) + "; the chip has " + to_string(m.dac_bits) +
                      ", " + to_string(m.adc_bits) + ", " + to_string(m.bits_per_cell) +
                      " (or another g_min/g_max)");
  if (m.batch == 0 || m.batch > p.max_batch)
    return problem(AIMC_ERR_BAD_BATCH, ArgKind::batch, m.batch,
                   "batch " + to_string(m.batch) + " not in [1, max_batch = " + to_string(p.max_batch) + "]");
  return {};
}

// Shapes of op `li`: windows, feature counts, channel ranges, strides.
Problem check_op_shape(const aimc_layer_t& l, uint32_t li, const std::string& lw) {
  auto bad = [&](const std::string& m) { return bad_program(ArgKind::op, li, lw + m); };
  if (l.kind > AIMC_OP_MUL) return bad("unknown kind " + to_string(l.kind));
  if (l.flags & ~uint32_t(AIMC_LAYER_RELU | AIMC_LAYER_OUTPUT_I32 | AIMC_LAYER_COUNT_PAD | AIMC_LAYER_BIT_SERIAL |
                          AIMC_LAYER_SIGN_SPLIT | AIMC_LAYER_COLUMN_SCALES | AIMC_LAYER_IN2_PER_CHANNEL |
                          AIMC_LAYER_ACT_MASK))
    return bad("unknown flags");
  if ((l.flags & AIMC_LAYER_IN2_PER_CHANNEL) && !has_second_input(l))
    return bad("IN2_PER_CHANNEL on an op that is not an ADD or a MUL");
  if ((l.flags & AIMC_LAYER_COLUMN_SCALES) && l.kind != AIMC_OP_MVM) return bad("COLUMN_SCALES on an op that is not an MVM");
  if (layer_act_code(l) >= AIMC_ACT_COUNT) return bad("unknown activation " + to_string(layer_act_code(l)));
  // A max pool passes codes through without requantizing: there is no real value to apply f to.
  if (layer_act_code(l) != AIMC_ACT_NONE && l.kind == AIMC_OP_MAXPOOL) return bad("an activation on a MAXPOOL");
  if (l.kind == AIMC_OP_ACT && layer_act_code(l) == AIMC_ACT_NONE) return bad("an ACT op without an activation");
  if ((l.flags & AIMC_LAYER_BIT_SERIAL) && l.kind != AIMC_OP_MVM) return bad("BIT_SERIAL on an op that is not an MVM");
  if ((l.flags & AIMC_LAYER_SIGN_SPLIT) && l.kind != AIMC_OP_MVM) return bad("SIGN_SPLIT on an op that is not an MVM");
  if ((l.flags & AIMC_LAYER_SIGN_SPLIT) && (l.flags & AIMC_LAYER_BIT_SERIAL))
    return bad("SIGN_SPLIT with BIT_SERIAL (a sign-split read takes one-shot inputs)");
  const bool i32 = l.flags & AIMC_LAYER_OUTPUT_I32;
  if (!l.in_h || !l.in_w || !l.in_c || !l.out_h || !l.out_w || !l.out_c) return bad("zero map dimension");
  // The numerics index maps and windows with int: every size and its sums stay far inside it.
  const std::pair<const char*, uint32_t> sizes[] = {
      {"in_h", l.in_h},         {"in_w", l.in_w},         {"in_c", l.in_c},   {"out_h", l.out_h},
      {"out_w", l.out_w},       {"out_c", l.out_c},       {"kh", l.kh},       {"kw", l.kw},
      {"stride_h", l.stride_h}, {"stride_w", l.stride_w}, {"pad_t", l.pad_t}, {"pad_l", l.pad_l},
      {"pad_b", l.pad_b},       {"pad_r", l.pad_r}};
  for (const auto& [field, value] : sizes)
    if (value > kMaxMapSize)
      return bad(std::string(field) + " = " + to_string(value) + " above the limit of " + to_string(kMaxMapSize));
  if (uint64_t(l.in_h) * l.in_w * l.in_c > kMaxMapElements ||
      uint64_t(l.out_h) * l.out_w * std::max(l.out_c, l.out_pixel_channels) > kMaxMapElements)
    return bad("a map of more than " + to_string(kMaxMapElements) + " elements");
  if (is_windowed(l.kind)) {
    if (!l.kh || !l.kw || !l.stride_h || !l.stride_w) return bad("zero window or stride");
    if (uint64_t(l.in_h) + l.pad_t + l.pad_b < l.kh || uint64_t(l.in_w) + l.pad_l + l.pad_r < l.kw ||
        (uint64_t(l.in_h) + l.pad_t + l.pad_b - l.kh) / l.stride_h + 1 != l.out_h ||
        (uint64_t(l.in_w) + l.pad_l + l.pad_r - l.kw) / l.stride_w + 1 != l.out_w)
      return bad("output map " + to_string(l.out_h) + "x" + to_string(l.out_w) + " does not follow from the window");
    // A pooling window wholly in the padding holds no element to take the max or the mean of. ONNX
    // requires pads below the kernel; with them every window holds an element of the map.
    if ((l.kind == AIMC_OP_MAXPOOL || l.kind == AIMC_OP_AVGPOOL) &&
        (l.pad_t >= l.kh || l.pad_b >= l.kh || l.pad_l >= l.kw || l.pad_r >= l.kw))
      return bad("pads (t " + to_string(l.pad_t) + ", l " + to_string(l.pad_l) + ", b " + to_string(l.pad_b) +
                 ", r " + to_string(l.pad_r) + ") not below the " + to_string(l.kh) + "x" + to_string(l.kw) +
                 " pooling window: a window would hold no element of the map");
  } else if (l.out_h != l.in_h || l.out_w != l.in_w) {
    return bad(std::string(l.kind == AIMC_OP_ADD      ? "add"
                           : l.kind == AIMC_OP_MUL    ? "mul"
                           : l.kind == AIMC_OP_CONCAT ? "concat"
                           : l.kind == AIMC_OP_ACT    ? "activation"
                                                      : "softmax") +
               " changes the map size");
  }
  const uint64_t in_elems = uint64_t(l.in_h) * l.in_w * l.in_c;
  const uint64_t out_pixels = uint64_t(l.out_h) * l.out_w;
  if (l.kind == AIMC_OP_MVM) {
    if (!l.groups || l.in_c % l.groups || l.out_c % l.groups) return bad("channels not divisible by groups");
    if (l.in_features != uint64_t(l.kh) * l.kw * l.in_c) return bad("in_features is not kh * kw * in_c");
    if (l.out_features != l.out_c) return bad("out_features is not out_c");
  } else {
    if (l.in_features != in_elems) return bad("in_features is not in_h * in_w * in_c");
    if (l.out_features != out_pixels * l.out_c) return bad("out_features is not out_h * out_w * out_c");
    if (l.kind != AIMC_OP_DWCONV && l.out_c != l.in_c) return bad("out_c differs from in_c");
  }
  if (l.kind == AIMC_OP_SOFTMAX && (l.in_h != 1 || l.in_w != 1)) return bad("softmax needs a 1x1 map");
  if (l.kind == AIMC_OP_DWCONV && (l.groups != l.in_c || l.out_c != l.in_c))
    return bad("depthwise needs groups = in_c = out_c");
  if (uint64_t(l.out_c_offset) + l.out_c > l.out_pixel_channels)
    return bad("out_c_offset + out_c beyond out_pixel_channels");
  if (l.kind != AIMC_OP_CONCAT && (l.out_c_offset != 0 || l.out_pixel_channels != l.out_c))
    return bad("only CONCAT writes a channel range");
  if (l.in_stride < in_elems) return bad("in_stride smaller than the input map");
  if (l.out_stride < out_pixels * l.out_pixel_channels * (i32 ? 4 : 1)) return bad("out_stride smaller than the output map");
  if (has_second_input(l) && l.in2_stride < second_input_bytes(l)) return bad("in2_stride smaller than the second input map");
  if (l.kind != AIMC_OP_MVM) {
    if (l.slice_count != 0) return bad("a digital op has slices");
    if (l.replicas > 1) return bad("a digital op has replicas = " + to_string(l.replicas));
  }
  return {};
}

// Numbers, table ranges and activation regions of op `li`.
Problem check_op_data(const aimc_program_hdr_t& p, const aimc_layer_t& l, uint32_t li, const std::string& lw,
                      const Machine* m) {
  auto bad = [&](const std::string& msg) { return bad_program(ArgKind::op, li, lw + msg); };
  const bool i32 = l.flags & AIMC_LAYER_OUTPUT_I32;
  if (const char* np = number_problem(l)) return bad(np);
  const uint32_t code_max = (1u << p.dac_bits) - 1;
  if (l.in_zero > code_max || l.out_zero > code_max || l.in2_zero > code_max) return bad("zero point beyond the DAC codes");
  if (i32 && (l.out_addr != p.out_addr || l.out_quant_scale != p.out_scale))
    return bad("an OUTPUT_I32 op must write the program's out_addr with its out_scale");
  if (i32 && li + 1 != p.layer_count) return bad("only the program's last op may have OUTPUT_I32");
  if (l.kind == AIMC_OP_MVM || l.kind == AIMC_OP_DWCONV)
    if (uint64_t(l.bias_offset) + l.out_c > p.bias_count) return bad("bias range beyond the table");
  if ((l.flags & AIMC_LAYER_COLUMN_SCALES) && uint64_t(l.bias_offset) + 2ull * l.out_c > p.bias_count)
    return bad("column scales beyond the table");
  if (l.kind == AIMC_OP_DWCONV && uint64_t(l.weight_offset) + uint64_t(l.kh) * l.kw * l.out_c > p.bias_count)
    return bad("weight range beyond the table");
  if (const uint32_t act = layer_act_code(l); act != AIMC_ACT_NONE &&
      layer_act_params_offset(l) + uint64_t(num::activation_params(num::ActKind(act), long(l.out_c))) > p.bias_count)
    return bad(std::string("parameters of its activation (") + num::to_string(num::ActKind(act)) +
               ") beyond the table");
  const uint64_t in_end = uint64_t(l.in_addr) + uint64_t(p.max_batch) * l.in_stride;
  const uint64_t out_end = uint64_t(l.out_addr) + uint64_t(p.max_batch) * l.out_stride;
  if (l.in_addr < out_end && l.out_addr < in_end) return bad("input and output activation regions overlap at max_batch");
  if (in_end > (1ull << 32) || out_end > (1ull << 32)) return bad("activation region beyond the 32-bit address space");
  if (m) {
    // The ADC ranges of a bit-serial op are those of one bit's partial sum: on a one-shot chip (or
    // a one-shot op on a bit-serial chip) every code would be wrong by the input's weight.
    if (l.kind == AIMC_OP_MVM && ((l.flags & AIMC_LAYER_BIT_SERIAL) != 0) != m->bit_serial)
      return bad(m->bit_serial ? "quantized for one-shot inputs; the chip's input driver is bit_serial"
                               : "quantized for bit-serial inputs (BIT_SERIAL); the chip's input driver is not");
    if (l.kind == AIMC_OP_MVM && ((l.flags & AIMC_LAYER_SIGN_SPLIT) != 0) != m->sign_split)
      return bad(m->sign_split ? "quantized for differential reads; the chip's reads are sign-split (read_phases > 1)"
                               : "quantized for sign-split reads (SIGN_SPLIT); the chip reads differential currents");
    if (l.unit >= m->tile_count)
      return bad("unit " + to_string(l.unit) + " is not a tile of the chip (" + to_string(m->tile_count) + " tiles)");
    // Every image of this batch reads and writes inside the SRAM.
    const uint64_t in_elems = uint64_t(l.in_h) * l.in_w * l.in_c;
    const uint64_t out_bytes = uint64_t(l.out_h) * l.out_w * l.out_pixel_channels * (i32 ? 4 : 1);
    auto in_sram = [&](uint32_t addr, uint64_t stride, uint64_t bytes) {
      return addr >= m->sram_begin && addr + stride * (m->batch - 1) + bytes <= m->sram_end;
    };
    if (!in_sram(l.in_addr, l.in_stride, in_elems)) return bad("input map of the batch beyond the SRAM");
    if (!in_sram(l.out_addr, l.out_stride, out_bytes)) return bad("output map of the batch beyond the SRAM");
    if (has_second_input(l) && !in_sram(l.in2_addr, l.in2_stride, second_input_bytes(l)))
      return bad("second input map of the batch beyond the SRAM");
  }
  return {};
}

// Slice `k` of op `l` (copy `copy`): inside the op's matrix and its tile's block; a copy cuts the
// matrix as copy 0 and, when levels are known, holds the same levels.
Problem check_slice(const ProgramView& v, const aimc_layer_t& l, uint32_t li, uint32_t k, uint32_t copy,
                    uint32_t per_copy, const TileLookup& tiles, const std::string& lw) {
  const aimc_slice_t& sl = v.slices[k];
  const std::string sw = lw + "slice " + to_string(k) + ": ";
  auto bad = [&](const std::string& msg) { return bad_program(ArgKind::op, li, sw + msg); };
  if (sl.row_count == 0 || sl.col_count == 0) return bad("empty");
  if (uint64_t(sl.row_begin) + sl.row_count > l.in_features) return bad("rows beyond in_features");
  if (uint64_t(sl.col_begin) + sl.col_count > l.out_features) return bad("columns beyond out_features");
  TileBlock block;
  if (Problem tp = tiles(sl.tile, block)) {
    tp.message = sw + tp.message;
    return tp;
  }
  if (uint64_t(sl.tile_row) + sl.row_count > block.rows || uint64_t(sl.tile_col) + sl.col_count > block.cols)
    return bad_program(ArgKind::tile, sl.tile,
                       sw + "block at (" + to_string(sl.tile_row) + ", " + to_string(sl.tile_col) + ") of " +
                           to_string(sl.row_count) + "x" + to_string(sl.col_count) + " lies outside the " +
                           to_string(block.rows) + "x" + to_string(block.cols) + " levels of tile " +
                           to_string(sl.tile));
  if (copy == 0) return {};
  const uint32_t ok = k - copy * per_copy;
  const aimc_slice_t& o = v.slices[ok];
  if (sl.row_begin != o.row_begin || sl.row_count != o.row_count || sl.col_begin != o.col_begin ||
      sl.col_count != o.col_count)
    return bad("copy " + to_string(copy) + " does not cut the matrix as copy 0 (slice " + to_string(ok) + ")");
  TileBlock ob;
  if (Problem tp = tiles(o.tile, ob)) return tp;
  if (!block.levels || !ob.levels) return {};
  for (uint32_t r = 0; r < sl.row_count; ++r)
    for (uint32_t c = 0; c < sl.col_count; ++c)
      if (block.levels[size_t(sl.tile_row + r) * block.cols + sl.tile_col + c] !=
          ob.levels[size_t(o.tile_row + r) * ob.cols + o.tile_col + c])
        return bad("copy " + to_string(copy) + " holds other levels than copy 0 at row " + to_string(r) +
                   ", column " + to_string(c) + " of the block");
  return {};
}

// The slices of MVM op `li`: per copy, each output column in exactly one column block whose slices
// have disjoint rows forming one range that covers the rows of the column's groups.
Problem check_mvm_slices(const ProgramView& v, uint32_t li, const TileLookup& tiles, std::vector<bool>& slice_used,
                         const std::string& lw) {
  const aimc_layer_t& l = v.layers[li];
  auto bad = [&](const std::string& msg) { return bad_program(ArgKind::op, li, lw + msg); };
  if (l.slice_count == 0 || uint64_t(l.first_slice) + l.slice_count > v.hdr->slice_count)
    return bad("slice range beyond the slice table");
  const uint32_t copies = std::max(1u, l.replicas);
  if (l.slice_count % copies != 0)
    return bad(to_string(l.slice_count) + " slices do not split into " + to_string(copies) + " copies");
  const uint32_t per_copy = l.slice_count / copies;
  const uint32_t rows_g = l.in_features / l.groups, cols_g = l.out_c / l.groups;
  for (uint32_t copy = 0; copy < copies; ++copy) {
    std::vector<uint32_t> col_cover(l.out_features, 0);
    std::map<std::pair<uint32_t, uint32_t>, std::vector<uint32_t>> blocks;  // (col_begin, col_count) -> slices
    const uint32_t first = l.first_slice + copy * per_copy;
    for (uint32_t k = first; k < first + per_copy; ++k) {
      if (slice_used[k]) return bad("slice " + to_string(k) + " is shared with another op");
      slice_used[k] = true;
      if (Problem sp = check_slice(v, l, li, k, copy, per_copy, tiles, lw)) return sp;
      blocks[{v.slices[k].col_begin, v.slices[k].col_count}].push_back(k);
    }
    for (auto& [cols, ks] : blocks) {
      std::sort(ks.begin(), ks.end(), [&](uint32_t a, uint32_t b) { return v.slices[a].row_begin < v.slices[b].row_begin; });
      uint32_t at = v.slices[ks.front()].row_begin;
      for (uint32_t k : ks) {
        if (v.slices[k].row_begin != at) return bad("slice " + to_string(k) + ": rows of its column block overlap or leave a gap");
        at += v.slices[k].row_count;
        if (v.slices[k].reduce_tile != v.slices[ks.front()].tile)
          return bad("slice " + to_string(k) + ": reduce_tile " + to_string(v.slices[k].reduce_tile) +
                     " is not the tile of the first row block of its columns");
      }
      const uint32_t g0 = cols.first / cols_g, g1 = (cols.first + cols.second - 1) / cols_g;
      if (v.slices[ks.front()].row_begin > uint64_t(g0) * rows_g || at < uint64_t(g1 + 1) * rows_g)
        return bad("the slices of columns [" + to_string(cols.first) + ", " + to_string(cols.first + cols.second) +
                   ") do not cover the rows of their groups");
      for (uint32_t c = cols.first; c < cols.first + cols.second; ++c) ++col_cover[c];
    }
    for (uint32_t c = 0; c < l.out_features; ++c)
      if (col_cover[c] != 1)
        return bad((copies > 1 ? "copy " + to_string(copy) + ": " : std::string()) + "output " + to_string(c) +
                   " is covered by " + to_string(col_cover[c]) + " column blocks");
  }
  return {};
}

// Every slice belongs to an op, and blocks on one tile do not overlap.
Problem check_slice_table(const ProgramView& v, const std::vector<bool>& slice_used) {
  const uint32_t n = v.hdr->slice_count;
  for (uint32_t k = 0; k < n; ++k)
    if (!slice_used[k]) return bad_header("slice " + to_string(k) + " belongs to no op");
  for (uint32_t a = 0; a < n; ++a)
    for (uint32_t b = a + 1; b < n; ++b) {
      const aimc_slice_t &x = v.slices[a], &y = v.slices[b];
      if (x.tile != y.tile) continue;
      if (x.tile_row < y.tile_row + y.row_count && y.tile_row < x.tile_row + x.row_count &&
          x.tile_col < y.tile_col + y.col_count && y.tile_col < x.tile_col + x.col_count)
        return bad_header("slices " + to_string(a) + " and " + to_string(b) + " overlap on tile " + to_string(x.tile));
    }
  return {};
}

}  // namespace

Problem check_program(const ProgramView& v, const TileLookup& tiles, const Machine* machine) {
  const aimc_program_hdr_t& p = *v.hdr;
  if (Problem e = check_header(p)) return e;
  if (machine)
    if (Problem e = check_machine(p, *machine)) return e;
  for (uint32_t i = 0; i < p.bias_count; ++i)
    if (!std::isfinite(v.table[i])) return bad_header("non-finite value in the table (entry " + to_string(i) + ")");
  std::vector<bool> slice_used(p.slice_count, false);
  for (uint32_t li = 0; li < p.layer_count; ++li) {
    const aimc_layer_t& l = v.layers[li];
    const std::string lw = "op " + to_string(li) + ": ";
    if (Problem e = check_op_shape(l, li, lw)) return e;
    if (Problem e = check_op_data(p, l, li, lw, machine)) return e;
    if (l.kind == AIMC_OP_MVM)
      if (Problem e = check_mvm_slices(v, li, tiles, slice_used, lw)) return e;
  }
  return check_slice_table(v, slice_used);
}

}  // namespace aimc::program
