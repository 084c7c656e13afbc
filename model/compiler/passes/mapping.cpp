// Mapping pass: the weight matrices of the MVM ops cut into blocks and packed onto the tiles,
// segment by segment (weight loads), and the choice of where depthwise convolutions run.
// Also the placement summary of a plan (cells used per tile and a readable map).
#include <algorithm>
#include <cstdio>
#include <map>
#include <numeric>
#include <sstream>

#include "passes/context.h"

namespace aimc::compiler {

using aimc::config::PlatformConfig;

namespace passes {
namespace {

// Balanced cut of n into ceil(n / cap) blocks whose sizes differ by at most one.
std::vector<std::pair<int, int>> split(int n, int cap) {
  const int blocks = (n + cap - 1) / cap;
  std::vector<std::pair<int, int>> out;
  int begin = 0;
  for (int k = 0; k < blocks; ++k) {
    const int size = n / blocks + (k < n % blocks ? 1 : 0);
    out.emplace_back(begin, size);
    begin += size;
  }
  return out;
}

struct BlockCut {
  int row_begin, row_count, col_begin, col_count;
  int column_block;  // blocks with the same column_block reduce together
  int bias_rows;     // always-on bias row reserved under the block (bias_in_array), 0 or 1
};

// bias: 1 to reserve a bias row in every column block (on its first row block), else 0.
std::vector<BlockCut> cut_blocks(const MvmShape& m, int R, int C, int bias) {
  std::vector<BlockCut> out;
  if (m.groups == 1 || m.rows_per_group + bias > R || m.cols_per_group > C) {
    // Dense, or groups too large for one tile: each group's diagonal block cut like a dense one.
    // With a bias row the rows + 1 are split; the first block's share holds the bias row.
    int cb_index = 0;
    for (int g = 0; g < m.groups; ++g)
      for (const auto& [cb, cc] : split(m.cols_per_group, C)) {
        int row = 0;
        for (const auto& [rb, rc] : split(m.rows_per_group + bias, R)) {
          const int b = rb == 0 ? bias : 0;
          out.push_back({g * m.rows_per_group + row, rc - b, g * m.cols_per_group + cb, cc, cb_index, b});
          row += rc - b;
        }
        ++cb_index;
      }
    return out;
  }
  // Runs of whole groups, block-diagonal inside: n groups take n x rows_per_group word lines (and
  // the bias row) and n x cols_per_group columns. Balanced over the runs.
  const int per_block = std::max(1, std::min((R - bias) / m.rows_per_group, C / m.cols_per_group));
  int cb_index = 0;
  for (const auto& [gb, gc] : split(m.groups, per_block))
    out.push_back({gb * m.rows_per_group, gc * m.rows_per_group, gb * m.cols_per_group, gc * m.cols_per_group,
                   cb_index++, bias});
  return out;
}

bool has_bias(const Op& op) { return op.bias.size() > 0 && op.bias.cwiseAbs().maxCoeff() > 0.0f; }

// Guillotine packing of rectangles on the tiles of one segment. `spread` puts a block on an empty
// tile while there is one (ops on different tiles run concurrently), then packs best-fit; without
// it, best-fit from the start (fewest tiles, so fewer weight loads for a large network).
class Packer {
 public:
  Packer(int tiles, int R, int C, bool spread) : R_(R), C_(C), spread_(spread), free_(size_t(tiles)) { reset(); }
  void reset() {
    for (auto& f : free_) f.assign(1, Rect{0, 0, R_, C_});
  }
  // Places r x c; returns false (and changes nothing) if no free rectangle holds it.
  bool place(int r, int c, int& tile, int& row, int& col) {
    long best = -1;
    size_t bt = 0, bi = 0;
    if (spread_)
      for (size_t t = 0; t < free_.size() && best < 0; ++t)
        if (free_[t].size() == 1 && free_[t][0].rows == R_ && free_[t][0].cols == C_ && r <= R_ && c <= C_)
          best = 0, bt = t, bi = 0;
    if (best < 0)
      for (size_t t = 0; t < free_.size(); ++t)
        for (size_t i = 0; i < free_[t].size(); ++i) {
          const Rect& f = free_[t][i];
          if (f.rows < r || f.cols < c) continue;
          const long waste = long(f.rows) * f.cols - long(r) * c;
          if (best < 0 || waste < best) best = waste, bt = t, bi = i;
        }
    if (best < 0) return false;
    const Rect f = free_[bt][bi];
    free_[bt].erase(free_[bt].begin() + long(bi));
    tile = int(bt), row = f.row, col = f.col;
    // Split along the longer leftover: keeps large free rectangles for later blocks.
    if (f.cols - c > f.rows - r) {
      if (f.cols > c) free_[bt].push_back({f.row, f.col + c, f.rows, f.cols - c});
      if (f.rows > r) free_[bt].push_back({f.row + r, f.col, f.rows - r, c});
    } else {
      if (f.cols > c) free_[bt].push_back({f.row, f.col + c, r, f.cols - c});
      if (f.rows > r) free_[bt].push_back({f.row + r, f.col, f.rows - r, f.cols});
    }
    return true;
  }
  struct Rect { int row, col, rows, cols; };
  std::vector<std::vector<Rect>> snapshot() const { return free_; }
  void restore(std::vector<std::vector<Rect>> s) { free_ = std::move(s); }

 private:
  int R_, C_;
  bool spread_;
  std::vector<std::vector<Rect>> free_;
};

int segments_of(const std::vector<SlicePlan>& plan) { return plan.empty() ? 1 : plan.back().segment + 1; }

std::vector<SlicePlan> plan_with(const Graph& g, const PlatformConfig& cfg, bool digital_depthwise, bool spread,
                                 bool bias_in_array) {
  const int R = cfg.tile.array.rows, C = cfg.tile.array.cols;
  std::vector<SlicePlan> plan;
  Packer packer(cfg.tile_count(), R, C, spread);
  int segment = 0;
  bool segment_empty = true;
  for (size_t oi = 0; oi < g.ops.size(); ++oi) {
    const Op& op = g.ops[oi];
    if (!on_tiles(op, digital_depthwise)) continue;
    const MvmShape m = mvm_shape(op);
    const std::vector<BlockCut> cuts = cut_blocks(m, R, C, bias_in_array && R >= 2 && has_bias(op) ? 1 : 0);
    auto try_place = [&](std::vector<SlicePlan>& placed) {
      const auto saved = packer.snapshot();
      // Largest blocks first packs tighter; the slice order is restored below.
      std::vector<size_t> order(cuts.size());
      std::iota(order.begin(), order.end(), 0);
      std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
        return long(cuts[a].row_count + cuts[a].bias_rows) * cuts[a].col_count >
               long(cuts[b].row_count + cuts[b].bias_rows) * cuts[b].col_count;
      });
      placed.assign(cuts.size(), SlicePlan{});
      for (size_t k : order) {
        SlicePlan& s = placed[k];
        s.layer = int(oi);
        s.row_begin = cuts[k].row_begin, s.row_count = cuts[k].row_count;
        s.col_begin = cuts[k].col_begin, s.col_count = cuts[k].col_count;
        s.segment = segment;
        s.bias_rows = cuts[k].bias_rows;
        if (!packer.place(s.row_count + s.bias_rows, s.col_count, s.tile, s.tile_row, s.tile_col)) {
          packer.restore(saved);
          return false;
        }
      }
      return true;
    };
    std::vector<SlicePlan> placed;
    if (!try_place(placed)) {
      if (!segment_empty) {
        ++segment;
        packer.reset();
        segment_empty = true;
      }
      if (!try_place(placed)) {
        long cells = 0;
        for (const auto& c : cuts) cells += long(c.row_count + c.bias_rows) * c.col_count;
        std::ostringstream msg;
        msg << "op " << oi << " '" << op.name << "' (" << op.onnx_op << ", weight matrix " << m.rows << " patch rows x "
            << m.cols << " outputs" << (m.groups > 1 ? ", " + std::to_string(m.groups) + " groups" : std::string()) << ") needs "
            << cuts.size() << " blocks of up to " << R << "x" << C << " (" << cells << " weights), more than the "
            << cfg.tile_count() << " tiles of platform '" << cfg.name
            << "' hold at once; one op cannot be split across weight loads";
        throw CompileError(msg.str());
      }
    }
    segment_empty = false;
    // Reduce tile of each column block = the tile of its first row block.
    std::map<int, int> reduce;
    for (size_t k = 0; k < cuts.size(); ++k)
      if (!reduce.count(cuts[k].column_block)) reduce[cuts[k].column_block] = placed[k].tile;
    for (size_t k = 0; k < cuts.size(); ++k) {
      placed[k].reduce_tile = reduce[cuts[k].column_block];
      plan.push_back(placed[k]);
    }
  }
  return plan;
}

}  // namespace

MvmShape mvm_shape(const Op& op) {
  MvmShape m;
  m.groups = op.groups;
  m.rows_per_group = op.kh * op.kw * op.cin_per_group();
  m.cols_per_group = op.out_channels() / op.groups;
  m.rows = m.rows_per_group * op.groups;
  m.cols = op.out_channels();
  return m;
}

bool on_tiles(const Op& op, bool digital_depthwise) {
  if (op.kind != OpKind::Conv) return false;
  return !(digital_depthwise && op.depthwise() && op.out_channels() == op.groups);
}

// Depthwise convolutions packed on the tiles or in the digital units (CompileOptions::depthwise),
// then the plan, with copies for throughput if asked.
void map_to_tiles(CompileContext& ctx) {
  const Graph& g = ctx.g;
  const PlatformConfig& cfg = ctx.cfg;
  const CompileOptions& opt = ctx.opt;
  for (const Op& op : g.ops) ctx.any_depthwise |= op.depthwise() && op.out_channels() == op.groups;
  ctx.digital_dw = opt.depthwise == CompileOptions::Depthwise::digital;
  if (ctx.any_depthwise && opt.depthwise == CompileOptions::Depthwise::automatic) {
    const auto packed = plan_mapping(g, cfg, false, opt.bias_in_array);
    const auto digital = plan_mapping(g, cfg, true, opt.bias_in_array);
    const int sp = segments_of(packed);
    const int sd = segments_of(digital);
    ctx.digital_dw = sp > sd;
    ctx.dw_reason = ctx.digital_dw
                        ? "automatic: packed block-diagonal needs " + std::to_string(sp) + " weight loads, digital " +
                              std::to_string(sd) + "; fewer loads win"
                        : "automatic: packed block-diagonal fits in " + std::to_string(sp) +
                              " weight load(s), as many as digital; the analog array is faster per MAC";
    ctx.plan = ctx.digital_dw ? digital : packed;
  } else {
    ctx.plan = plan_mapping(g, cfg, ctx.digital_dw, opt.bias_in_array);
    if (ctx.any_depthwise) ctx.dw_reason = std::string("requested (") + (ctx.digital_dw ? "digital" : "packed") + ")";
  }
  if (opt.replicate) ctx.plan = replicate_for_throughput(std::move(ctx.plan), g, cfg);
  ctx.segments = segments_of(ctx.plan);
}

}  // namespace passes

using passes::plan_with;
using passes::segments_of;

std::vector<SlicePlan> plan_mapping(const Graph& g, const PlatformConfig& cfg, bool digital_depthwise,
                                    bool bias_in_array) {
  const int R = cfg.tile.array.rows, C = cfg.tile.array.cols;
  if (R < 1 || C < 1) throw CompileError("platform '" + cfg.name + "': tile.array.rows/cols must be >= 1");
  if (cfg.tile_count() < 1) throw CompileError("platform '" + cfg.name + "': no tiles");
  // Ops on their own tiles while tiles last (they overlap in time); tight packing instead if
  // spreading would need more weight loads.
  std::vector<SlicePlan> spread = plan_with(g, cfg, digital_depthwise, true, bias_in_array);
  std::vector<SlicePlan> tight = plan_with(g, cfg, digital_depthwise, false, bias_in_array);
  return segments_of(spread) <= segments_of(tight) ? spread : tight;
}

std::vector<SlicePlan> plan_mapping(const Network& net, const PlatformConfig& cfg) {
  return plan_mapping(to_graph(net), cfg, false);
}

namespace {
nlohmann::json placement_of(const std::vector<SlicePlan>& plan, const Graph& g, const PlatformConfig& cfg, int segment) {
  const long rows = cfg.tile.array.rows, cols = cfg.tile.array.cols;
  const long per_tile = 2 * rows * cols;
  std::vector<long> used(size_t(cfg.tile_count()), 0);
  std::vector<nlohmann::json> blocks(size_t(cfg.tile_count()), nlohmann::json::array());
  for (const SlicePlan& p : plan) {
    if (p.segment != segment) continue;
    used[size_t(p.tile)] += 2L * (p.row_count + p.bias_rows) * p.col_count;
    nlohmann::json blk = {{"layer", g.ops[size_t(p.layer)].name},
                          {"rows", {p.row_begin, p.row_begin + p.row_count}},
                          {"cols", {p.col_begin, p.col_begin + p.col_count}},
                          {"at", {p.tile_row, p.tile_col}}};
    if (p.replica > 0) blk["replica"] = p.replica;
    if (p.bias_rows > 0) blk["bias_rows"] = p.bias_rows;
    blocks[size_t(p.tile)].push_back(std::move(blk));
  }
  nlohmann::json tiles = nlohmann::json::array(), map = nlohmann::json::array();
  long total_used = 0;
  int tiles_with_blocks = 0;
  for (int t = 0; t < cfg.tile_count(); ++t) {
    const long u = used[size_t(t)];
    total_used += u;
    tiles_with_blocks += u > 0;
    const double f = double(u) / double(per_tile);
    tiles.push_back({{"tile", t}, {"cells_used", u}, {"cells", per_tile}, {"utilization", f}, {"blocks", blocks[size_t(t)]}});
    char head[64];
    std::snprintf(head, sizeof head, "tile %2d (%5.1f %%): ", t, 100.0 * f);
    std::string line = head;
    if (u == 0) line += "empty";
    for (size_t b = 0; b < blocks[size_t(t)].size(); ++b) {
      const auto& blk = blocks[size_t(t)][b];
      line += (b ? "; " : "") + blk["layer"].get<std::string>() + " in [" + std::to_string(blk["rows"][0].get<int>()) +
              ", " + std::to_string(blk["rows"][1].get<int>()) + ") x out [" + std::to_string(blk["cols"][0].get<int>()) +
              ", " + std::to_string(blk["cols"][1].get<int>()) + ")";
      if (blk["at"][0].get<int>() || blk["at"][1].get<int>())
        line += " @(" + std::to_string(blk["at"][0].get<int>()) + "," + std::to_string(blk["at"][1].get<int>()) + ")";
      if (blk.contains("bias_rows")) line += " + " + std::to_string(blk["bias_rows"].get<int>()) + " bias row";
      if (blk.contains("replica")) line += " (copy " + std::to_string(blk["replica"].get<int>() + 1) + ")";
    }
    map.push_back(line);
  }
  return {{"overall", double(total_used) / double(per_tile * cfg.tile_count())},
          {"used_tiles", tiles_with_blocks ? double(total_used) / double(per_tile * tiles_with_blocks) : 0.0},
          {"tiles", tiles},
          {"map", map}};
}
}  // namespace

nlohmann::json placement_summary(const std::vector<SlicePlan>& plan, const Graph& g, const PlatformConfig& cfg) {
  const int segments = plan.empty() ? 1 : plan.back().segment + 1;
  nlohmann::json out = placement_of(plan, g, cfg, 0);
  if (segments > 1) {
    nlohmann::json segs = nlohmann::json::array();
    for (int s = 0; s < segments; ++s) segs.push_back(placement_of(plan, g, cfg, s));
    out["segments"] = segs;
  }
  return out;
}

}  // namespace aimc::compiler
