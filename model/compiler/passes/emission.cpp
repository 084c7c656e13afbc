// Emission pass: per segment a program (header, op records, slices, bias table) and the weights
// of its tiles, META (the compile summary), the image bytes through ImageBuilder, and the summary
// that CompiledModel hands out. Addresses are the chip's (aimc_regs.h, from the register table).
#include <algorithm>
#include <map>
#include <set>

#include "aimc_regs.h"
#include "passes/context.h"

namespace aimc::compiler::passes {
namespace {

struct Programs {
  std::vector<std::vector<uint8_t>> bytes;  // per segment
  std::vector<aimc_program_hdr_t> headers;  // per segment
  std::vector<uint32_t> addr;               // per segment: where it is DMA'd
  uint64_t total_bytes = 0;
};

aimc_program_hdr_t program_header(const CompileContext& ctx) {
  const TensorQuant& qin = ctx.tq[size_t(ctx.g.input)];
  aimc_program_hdr_t ph{};
  ph.magic = AIMC_PROGRAM_MAGIC;
  ph.in_features = uint32_t(ctx.g.in_features());
  ph.out_features = uint32_t(ctx.g.out_features());
  ph.in_addr = ctx.bufs[size_t(ctx.in_buf)].addr;
  ph.out_addr = ctx.bufs[size_t(ctx.out_buf)].addr;
  ph.in_scale = qin.scale;
  ph.out_scale = ctx.out_scale;
  ph.dac_bits = uint32_t(ctx.dac_bits);
  ph.max_batch = uint32_t(ctx.max_batch);
  ph.adc_bits = uint32_t(ctx.adc_bits);
  ph.bits_per_cell = uint32_t(ctx.bpc);
  ph.g_min_over_g_max = float(ctx.g_ratio);
  ph.in_zero = uint32_t(qin.zero);
  return ph;
}

// The program of segment s; its bias table offsets re-based to the segment. Adds its slices to
// *slices.
std::vector<uint8_t> program_of(const CompileContext& ctx, int s, aimc_program_hdr_t& ph, long* slices) {
  std::vector<aimc_layer_t> recs;
  std::vector<aimc_slice_t> slice_recs;
  std::vector<float> seg_table;
  for (size_t k = 0; k < ctx.low.size(); ++k) {
    const Lowered& lo = ctx.low[k];
    if (lo.segment != s) continue;
    aimc_layer_t r = lo.rec;
    r.bias_offset = uint32_t(seg_table.size());
    seg_table.insert(seg_table.end(), ctx.table.begin() + ctx.table_at[k],
                     ctx.table.begin() + ctx.table_at[k] + long(lo.bias.size()));
    seg_table.insert(seg_table.end(), lo.column_scales.begin(), lo.column_scales.end());  // after the biases
    seg_table.insert(seg_table.end(), lo.act_params.begin(), lo.act_params.end());
    r.weight_offset = uint32_t(seg_table.size());
    seg_table.insert(seg_table.end(), lo.dw_weights.begin(), lo.dw_weights.end());
    r.first_slice = uint32_t(slice_recs.size());
    for (const SlicePlan& p : lo.plan)
      slice_recs.push_back(aimc_slice_t{uint32_t(p.tile), uint32_t(p.row_begin), uint32_t(p.row_count),
                                        uint32_t(p.col_begin), uint32_t(p.col_count), uint32_t(p.reduce_tile),
                                        uint32_t(p.tile_row), uint32_t(p.tile_col)});
    r.slice_count = uint32_t(lo.plan.size());
    r.replicas = 1;
    for (const SlicePlan& p : lo.plan) r.replicas = std::max(r.replicas, uint32_t(p.replica + 1));
    recs.push_back(r);
  }
  if (recs.empty()) throw std::logic_error("aimc compiler bug: segment " + std::to_string(s) + " has no ops");
  ph = program_header(ctx);
  ph.layer_count = uint32_t(recs.size());
  ph.slice_count = uint32_t(slice_recs.size());
  ph.bias_count = uint32_t(seg_table.size());
  std::vector<uint8_t> program;
  append_record(program, ph);
  for (const auto& r : recs) append_record(program, r);
  for (const auto& sl : slice_recs) append_record(program, sl);
  for (float b : seg_table) append_record(program, b);
  *slices += long(slice_recs.size());
  return program;
}

// The programs of all segments, placed one after the other in the sequencer program memory.
Programs programs_of(const CompileContext& ctx) {
  const int segments = ctx.segments;
  Programs p;
  p.bytes.resize(size_t(segments));
  p.headers.resize(size_t(segments));
  p.addr.resize(size_t(segments));
  long total_slices = 0;
  for (int s = 0; s < segments; ++s) p.bytes[size_t(s)] = program_of(ctx, s, p.headers[size_t(s)], &total_slices);
  for (int s = 0; s < segments; ++s) {
    p.addr[size_t(s)] = AIMC_SEQ_MEM_BASE + uint32_t(p.total_bytes);
    p.total_bytes = align_up(p.total_bytes + p.bytes[size_t(s)].size(), 8);
  }
  if (p.total_bytes > AIMC_SEQ_MEM_SIZE)
    throw CompileError("network '" + ctx.g.name + "': programs of " + std::to_string(p.total_bytes) + " bytes (" +
                       std::to_string(ctx.low.size()) + " ops, " + std::to_string(total_slices) + " slices, " +
                       std::to_string(ctx.table.size()) + " table floats, " + std::to_string(segments) +
                       " segments) exceed the " + std::to_string(AIMC_SEQ_MEM_SIZE) + "-byte sequencer program memory");
  return p;
}

nlohmann::json segments_json(const CompileContext& ctx, const Programs& progs) {
  nlohmann::json segs = nlohmann::json::array();
  for (int s = 0; s < ctx.segments; ++s) {
    std::set<int> tiles;
    for (const SlicePlan& p : ctx.plan)
      if (p.segment == s) tiles.insert(p.tile);
    nlohmann::json ops_in = nlohmann::json::array();
    for (size_t k = 0; k < ctx.low.size(); ++k)
      if (ctx.low[k].segment == s) ops_in.push_back(k);
    segs.push_back({{"segment", s}, {"tiles", tiles}, {"ops", ops_in}, {"program_addr", progs.addr[size_t(s)]}});
  }
  return segs;
}

// Ops with copies of their weights (replicate_for_throughput): name, copies, tiles of each copy.
nlohmann::json replication_json(const CompileContext& ctx) {
  nlohmann::json out = nlohmann::json::array();
  std::map<int, std::map<int, std::set<int>>> tiles_of;  // op -> replica -> tiles
  for (const SlicePlan& p : ctx.plan) tiles_of[p.layer][p.replica].insert(p.tile);
  for (const auto& [op, reps] : tiles_of)
    if (reps.size() > 1) {
      nlohmann::json t = nlohmann::json::array();
      for (const auto& [rep, ts] : reps) t.push_back(ts);
      out.push_back({{"op", ctx.g.ops[size_t(op)].name}, {"copies", reps.size()}, {"tiles", t}});
    }
  return out;
}

int tiles_used(const CompileContext& ctx) {
  std::set<int> all;
  for (const SlicePlan& p : ctx.plan) all.insert(p.tile);
  return int(all.size());
}

nlohmann::json meta_json(const CompileContext& ctx, const Programs& progs) {
  const Graph& g = ctx.g;
  const auto& tc = ctx.cfg.tile;
  const CompileOptions& opt = ctx.opt;
  const TensorQuant& qin = ctx.tq[size_t(g.input)];
  const long in_features = g.in_features();
  const Shape out_shape = g.out_shape();
  return {
      {"format", "aimc deployment image v2"},
      {"model", g.name},
      {"source", g.source},
      {"platform", ctx.cfg.name},
      {"platform_file", ctx.cfg.source_file},
      {"input", {{"features", in_features}, {"shape", {g.in_shape().c, g.in_shape().h, g.in_shape().w}},
                 {"layout", "H, W, C (the host transposes from C, H, W)"},
                 {"encoding", "uint8 DAC code = clamp(round(x / in_scale) + in_zero, 0, " + std::to_string(ctx.cmax) + ")"},
                 {"in_zero", qin.zero}, {"addr", progs.headers.front().in_addr}, {"stride", in_features}}},
      {"output", {{"features", g.out_features()}, {"shape", {out_shape.c, out_shape.h, out_shape.w}},
                  {"layout", "H, W, C"}, {"encoding", "int32, value = output * out_scale"},
                  {"addr", progs.headers.back().out_addr}, {"stride", g.out_features() * 4}}},
      {"in_scale", qin.scale},
      {"in_zero", qin.zero},
      {"out_scale", ctx.out_scale},
      {"layers", ctx.ops_json},
      {"segments", segments_json(ctx, progs)},
      {"depthwise", ctx.any_depthwise
                        ? nlohmann::json{{"mapping", ctx.digital_dw ? "digital" : "packed"}, {"why", ctx.dw_reason}}
                        : nlohmann::json(nullptr)},
      {"replication", replication_json(ctx)},
      {"tiles_used", tiles_used(ctx)},
      {"tile_count", ctx.cfg.tile_count()},
      {"max_batch", ctx.max_batch},
      {"activation_sram", {{"bytes", ctx.sram_bytes}, {"peak_bytes", ctx.peak_bytes},
                           {"peak_bytes_per_image", ctx.peak_bytes_per_image}}},
      {"macs_per_inference", g.macs_per_inference()},
      {"quantized_for", {{"dac_bits", ctx.dac_bits}, {"adc_bits", ctx.adc_bits}, {"bits_per_cell", ctx.bpc},
                         {"g_min_ns", tc.device.g_min_ns}, {"g_max_ns", tc.device.g_max_ns}, {"g_min_over_g_max", ctx.g_ratio},
                         {"array_rows", tc.array.rows}, {"array_cols", tc.array.cols}}},
      {"compile_options", to_json(opt)},
      {"calibration", {{"vectors_used", ctx.n_cal},
                       {"ideal_vs_float_top1_agreement", double(ctx.agree) / double(ctx.n_cal)},
                       {"ideal_vs_float_max_abs_logit_error", ctx.max_err}}},
      {"warnings", ctx.warnings}};
}

// One WEIGHTS section per tile of segment s: the bounding box of its blocks, level 0 between.
void add_weight_sections(const CompileContext& ctx, int s, ImageBuilder& builder) {
  std::map<int, std::vector<const SlicePlan*>> by_tile;
  for (const SlicePlan& p : ctx.plan)
    if (p.segment == s) by_tile[p.tile].push_back(&p);
  for (const auto& [tile, blocks] : by_tile) {
    int rows = 0, cols = 0;
    for (const SlicePlan* p : blocks) {
      rows = std::max(rows, p->tile_row + p->row_count);
      cols = std::max(cols, p->tile_col + p->col_count);
    }
    Eigen::Matrix<int, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> lv = Eigen::MatrixXi::Zero(rows, cols);
    for (const SlicePlan* p : blocks) {
      const Lowered* lo = nullptr;
      for (const Lowered& l : ctx.low)
        if (l.ir_op == p->layer && l.rec.kind == AIMC_OP_MVM) lo = &l;
      lv.block(p->tile_row, p->tile_col, p->row_count, p->col_count) =
          lo->levels.block(p->row_begin, p->col_begin, p->row_count, p->col_count);
    }
    std::vector<uint8_t> payload;
    append_record(payload, aimc_weights_hdr_t{uint32_t(rows), uint32_t(cols), uint32_t(ctx.bpc), 0});
    for (Eigen::Index i = 0; i < lv.size(); ++i) append_record(payload, int16_t(lv.data()[i]));
    if (payload.size() > AIMC_STAGING_SIZE)
      throw CompileError("tile " + std::to_string(tile) + ": weights section of " + std::to_string(payload.size()) +
                         " bytes exceeds the programming staging buffer");
    builder.add_section(AIMC_SECTION_WEIGHTS, uint32_t(tile), AIMC_STAGING_BASE, std::move(payload), uint32_t(s));
  }
}

}  // namespace

void emit(CompileContext& ctx) {
  Programs progs = programs_of(ctx);
  const nlohmann::json meta = meta_json(ctx, progs);
  ImageBuilder builder;
  const std::string meta_text = meta.dump(1);
  builder.add_section(AIMC_SECTION_META, AIMC_TILE_NONE, 0, std::vector<uint8_t>(meta_text.begin(), meta_text.end()));
  for (int s = 0; s < ctx.segments; ++s) {
    add_weight_sections(ctx, s, builder);
    builder.add_section(AIMC_SECTION_PROGRAM, AIMC_TILE_NONE, progs.addr[size_t(s)], std::move(progs.bytes[size_t(s)]),
                        uint32_t(s));
  }
  CompiledModel& out = ctx.out;
  out.image = builder.build();
  try {
    parse_image(out.image);  // the compiler never hands out an image its own reader refuses
  } catch (const ImageError& e) {
    throw std::logic_error(std::string("aimc compiler bug: emitted an invalid image: ") + e.what());
  }
  const Graph& g = ctx.g;
  out.summary = meta;
  out.summary["image_bytes"] = out.image.size();
  out.summary["program_bytes"] = progs.total_bytes;
  out.macs_per_inference = g.macs_per_inference();
  out.params = g.source_params >= 0 ? g.source_params : g.params();
  out.summary["params"] = out.params;
  out.summary["params_with_bn"] = out.params + g.source_bn_params;
  out.summary["placement"] = placement_summary(ctx.plan, g, ctx.cfg);
  out.tiles_used = tiles_used(ctx);
  out.max_batch = int(ctx.max_batch);
  out.segments = ctx.segments;
}

}  // namespace aimc::compiler::passes
