// The compiler back end: lowering, quantization, mapping, SRAM layout and image emission.
//
// Calibration follows the chip's own arithmetic (quant_math.h for the tiles, numerics/
// digital_ops.h for the digital units) op by op: each op's input codes come from the quantized
// ops before it, so ADC full scales are chosen for the currents the chip will really see.
#include "compile.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <numeric>
#include <set>
#include <sstream>
#include <tuple>

#include "address_map.h"
#include "numerics/converters.h"
#include "numerics/digital_ops.h"
#include "quant_math.h"

namespace aimc::compiler {
namespace {

using aimc::config::PlatformConfig;

// Network outputs keep this many bits below their calibration maximum (int32 leaves 2^11 headroom).
constexpr int kOutputResolutionBits = 20;
constexpr uint32_t kActivationAlign = 64;  // buffer start alignment in SRAM (a bus-friendly size)
constexpr int kDigitalWeightBits = 8;      // depthwise weights in the digital unit: signed 8 bit

std::string dims(long a, long b) { return std::to_string(a) + "x" + std::to_string(b); }
uint64_t align_up(uint64_t v, uint64_t a) { return (v + a - 1) / a * a; }

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

void check_config(const PlatformConfig& cfg, const CompileOptions& opt) {
  auto fail = [&](const std::string& m) { throw CompileError("platform '" + cfg.name + "': " + m); };
  const auto& t = cfg.tile;
  if (t.dac.bits < 1 || t.dac.bits > 8) fail("tile.dac.bits " + std::to_string(t.dac.bits) + ": activation codes are bytes, need 1..8");
  if (t.adc.bits < 2 || t.adc.bits > 24) fail("tile.adc.bits " + std::to_string(t.adc.bits) + ": need 2..24 for a signed ADC");
  if (t.device.bits_per_cell < 1 || t.device.bits_per_cell > 15)
    fail("tile.device.bits_per_cell " + std::to_string(t.device.bits_per_cell) + ": levels are int16, need 1..15");
  if (!(t.device.g_max_ns > 0) || !(t.device.g_min_ns >= 0) || !(t.device.g_min_ns < t.device.g_max_ns))
    fail("need 0 <= tile.device.g_min_ns < tile.device.g_max_ns");
  if (t.array.rows < 1 || t.array.cols < 1) fail("tile.array.rows/cols must be >= 1");
  if (cfg.tile_count() < 1) fail("no tiles (grid_rows x grid_cols = 0)");
  if (cfg.sram.size_kib < 1) fail("sram.size_kib must be >= 1");
  auto pct = [&](double p, const char* name) {
    if (!(p > 0.0 && p <= 100.0)) throw CompileError(std::string("compile option ") + name + " = " + std::to_string(p) + ": need (0, 100]");
  };
  pct(opt.activation_percentile, "activation_percentile");
  pct(opt.adc_percentile, "adc_percentile");
  pct(opt.weight_percentile, "weight_percentile");
  if (opt.calibration_vectors < 1) throw CompileError("compile option calibration_vectors must be >= 1");
  if (opt.calibration_patch_elements < 1) throw CompileError("compile option calibration_patch_elements must be >= 1");
}

std::vector<double> abs_values(const Eigen::MatrixXf& m) {
  std::vector<double> v(size_t(m.size()));
  for (Eigen::Index i = 0; i < m.size(); ++i) v[size_t(i)] = std::abs(double(m(i)));
  return v;
}

// ---- Mapping ----------------------------------------------------------------------------------

// The weight matrix of a Conv op as the tiles see it: rows = patch (group, ky, kx, ci), cols = out.
struct MvmShape {
  int rows = 0, cols = 0, groups = 1, rows_per_group = 0, cols_per_group = 0;
};
MvmShape mvm_shape(const Op& op) {
  MvmShape m;
  m.groups = op.groups;
  m.rows_per_group = op.kh * op.kw * op.cin_per_group();
  m.cols_per_group = op.out_channels() / op.groups;
  m.rows = m.rows_per_group * op.groups;
  m.cols = op.out_channels();
  return m;
}

struct BlockCut {
  int row_begin, row_count, col_begin, col_count;
  int column_block;  // blocks with the same column_block reduce together
};

std::vector<BlockCut> cut_blocks(const MvmShape& m, int R, int C) {
  std::vector<BlockCut> out;
  if (m.groups == 1 || m.rows_per_group > R || m.cols_per_group > C) {
    // Dense, or groups too large for one tile: each group's diagonal block cut like a dense one.
    int cb_index = 0;
    for (int g = 0; g < m.groups; ++g)
      for (const auto& [cb, cc] : split(m.cols_per_group, C)) {
        for (const auto& [rb, rc] : split(m.rows_per_group, R))
          out.push_back({g * m.rows_per_group + rb, rc, g * m.cols_per_group + cb, cc, cb_index});
        ++cb_index;
      }
    return out;
  }
  // Runs of whole groups, block-diagonal inside: n groups take n x rows_per_group word lines and
  // n x cols_per_group columns. Balanced over the runs.
  const int per_block = std::max(1, std::min(R / m.rows_per_group, C / m.cols_per_group));
  int cb_index = 0;
  for (const auto& [gb, gc] : split(m.groups, per_block))
    out.push_back({gb * m.rows_per_group, gc * m.rows_per_group, gb * m.cols_per_group, gc * m.cols_per_group, cb_index++});
  return out;
}

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

bool on_tiles(const Op& op, bool digital_depthwise) {
  if (op.kind != OpKind::Conv) return false;
  return !(digital_depthwise && op.depthwise() && op.out_channels() == op.groups);
}

}  // namespace

const char* to_string(CompileOptions::Depthwise d) {
  switch (d) {
    case CompileOptions::Depthwise::automatic: return "automatic";
    case CompileOptions::Depthwise::packed: return "packed";
    case CompileOptions::Depthwise::digital: return "digital";
  }
  return "?";
}

CompileOptions::Depthwise parse_depthwise(const std::string& text) {
  if (text == "automatic" || text == "auto") return CompileOptions::Depthwise::automatic;
  if (text == "packed") return CompileOptions::Depthwise::packed;
  if (text == "digital") return CompileOptions::Depthwise::digital;
  throw CompileError("depthwise mapping '" + text + "': expected automatic, packed or digital");
}

namespace {
std::vector<SlicePlan> plan_with(const Graph& g, const PlatformConfig& cfg, bool digital_depthwise, bool spread) {
  const int R = cfg.tile.array.rows, C = cfg.tile.array.cols;
  std::vector<SlicePlan> plan;
  Packer packer(cfg.tile_count(), R, C, spread);
  int segment = 0;
  bool segment_empty = true;
  for (size_t oi = 0; oi < g.ops.size(); ++oi) {
    const Op& op = g.ops[oi];
    if (!on_tiles(op, digital_depthwise)) continue;
    const MvmShape m = mvm_shape(op);
    const std::vector<BlockCut> cuts = cut_blocks(m, R, C);
    auto try_place = [&](std::vector<SlicePlan>& placed) {
      const auto saved = packer.snapshot();
      // Largest blocks first packs tighter; the slice order is restored below.
      std::vector<size_t> order(cuts.size());
      std::iota(order.begin(), order.end(), 0);
      std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
        return long(cuts[a].row_count) * cuts[a].col_count > long(cuts[b].row_count) * cuts[b].col_count;
      });
      placed.assign(cuts.size(), SlicePlan{});
      for (size_t k : order) {
        SlicePlan& s = placed[k];
        s.layer = int(oi);
        s.row_begin = cuts[k].row_begin, s.row_count = cuts[k].row_count;
        s.col_begin = cuts[k].col_begin, s.col_count = cuts[k].col_count;
        s.segment = segment;
        if (!packer.place(s.row_count, s.col_count, s.tile, s.tile_row, s.tile_col)) {
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
        for (const auto& c : cuts) cells += long(c.row_count) * c.col_count;
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
int segments_of(const std::vector<SlicePlan>& plan) { return plan.empty() ? 1 : plan.back().segment + 1; }
}  // namespace

std::vector<SlicePlan> plan_mapping(const Graph& g, const PlatformConfig& cfg, bool digital_depthwise) {
  const int R = cfg.tile.array.rows, C = cfg.tile.array.cols;
  if (R < 1 || C < 1) throw CompileError("platform '" + cfg.name + "': tile.array.rows/cols must be >= 1");
  if (cfg.tile_count() < 1) throw CompileError("platform '" + cfg.name + "': no tiles");
  // Ops on their own tiles while tiles last (they overlap in time); tight packing instead if
  // spreading would need more weight loads.
  std::vector<SlicePlan> spread = plan_with(g, cfg, digital_depthwise, true);
  std::vector<SlicePlan> tight = plan_with(g, cfg, digital_depthwise, false);
  return segments_of(spread) <= segments_of(tight) ? spread : tight;
}

std::vector<SlicePlan> plan_mapping(const Network& net, const PlatformConfig& cfg) {
  return plan_mapping(to_graph(net), cfg, false);
}

std::vector<SlicePlan> replicate_for_throughput(std::vector<SlicePlan> plan, const Graph& g, const PlatformConfig& cfg) {
  const int tiles = cfg.tile_count();
  const int adcs = std::max(1, (cfg.tile.array.cols + cfg.tile.adc.share - 1) / cfg.tile.adc.share);
  // Array time of one MVM of a block with `cols` columns (as Tile::t_mvm_ps), in ns.
  const auto t_mvm = [&](int cols) {
    return cfg.tile.dac.t_conv_ns + cfg.tile.array.t_read_ns + double((cols + adcs - 1) / adcs) * cfg.tile.adc.t_conv_ns;
  };
  const auto positions = [&](int op) {
    const Shape& s = g.tensors[size_t(g.ops[size_t(op)].output)].shape;
    return double(s.h) * s.w;
  };
  const int segments = plan.empty() ? 1 : plan.back().segment + 1;
  // The shared bus's time per image, which no copy shortens: patch reads of every block, partial
  // sums to reduce tiles, and maps in and out of the ops (all images read and write SRAM over it).
  const double bytes_per_ns = double(cfg.bus.width_bytes) * cfg.bus.clock_mhz * 1e-3;
  const int psum_bytes = (cfg.tile.adc.bits + 7) / 8;
  std::vector<double> bus_ns(size_t(segments), 0.0);
  std::set<int> seg_ops;
  for (const SlicePlan& p : plan) {
    double b = positions(p.layer) * p.row_count;
    if (p.reduce_tile != p.tile) b += positions(p.layer) * p.col_count * psum_bytes;
    bus_ns[size_t(p.segment)] += b / bytes_per_ns;
  }
  {
    std::map<int, int> seg_of;  // MVM op -> segment; digital ops count in the segment of the op before
    for (const SlicePlan& p : plan) seg_of[p.layer] = p.segment;
    int seg = 0;
    for (size_t i = 0; i < g.ops.size(); ++i) {
      if (seg_of.count(int(i))) seg = seg_of[int(i)];
      const Op& op = g.ops[i];
      if (op.kind == OpKind::Flatten) continue;
      double b = double(g.tensors[size_t(op.output)].shape.size());
      if (!seg_of.count(int(i)))
        for (int t : op.inputs) b += double(g.tensors[size_t(t)].shape.size());
      bus_ns[size_t(seg)] += b / bytes_per_ns;
    }
  }
  std::vector<SlicePlan> copies;
  for (int seg = 0; seg < segments; ++seg) {
    std::vector<bool> used(size_t(tiles), false);
    std::map<int, int> replicas;  // op -> copies so far
    for (const SlicePlan& p : plan)
      if (p.segment == seg) used[size_t(p.tile)] = true, replicas[p.layer] = 1;
    for (;;) {
      std::vector<int> empty;
      for (int t = 0; t < tiles; ++t)
        if (!used[size_t(t)]) empty.push_back(t);
      if (empty.empty()) break;
      // Array time per image of every tile and every op's share of it.
      std::vector<double> load(size_t(tiles), 0.0);
      std::vector<std::map<int, double>> share(static_cast<size_t>(tiles));
      auto add_load = [&](const SlicePlan& p) {
        const double t = positions(p.layer) / replicas[p.layer] * t_mvm(p.col_count);
        load[size_t(p.tile)] += t;
        share[size_t(p.tile)][p.layer] += t;
      };
      for (const SlicePlan& p : plan)
        if (p.segment == seg) add_load(p);
      for (const SlicePlan& p : copies)
        if (p.segment == seg) add_load(p);
      const size_t busiest = size_t(std::max_element(load.begin(), load.end()) - load.begin());
      // Copies help only while a tile, not the bus, sets the pace.
      if (load[busiest] <= 0.0 || load[busiest] <= bus_ns[size_t(seg)]) break;
      int op = -1;
      double most = -1.0;
      for (const auto& [o, t] : share[busiest])
        if (t > most) most = t, op = o;
      std::vector<SlicePlan> originals;
      for (const SlicePlan& p : plan)
        if (p.segment == seg && p.layer == op) originals.push_back(p);
      if (originals.size() > empty.size()) break;  // the busiest op's copy does not fit
      const int replica = replicas[op]++;
      // One block per empty tile, at its corner; a column block reduces on its first row block's tile.
      std::map<std::pair<int, int>, int> reduce;  // (col_begin, col_count) -> tile
      for (size_t k = 0; k < originals.size(); ++k) {
        SlicePlan c = originals[k];
        c.tile = empty[k];
        c.tile_row = c.tile_col = 0;
        c.replica = replica;
        const auto key = std::make_pair(c.col_begin, c.col_count);
        if (!reduce.count(key)) reduce[key] = c.tile;
        c.reduce_tile = reduce[key];
        used[size_t(c.tile)] = true;
        copies.push_back(c);
      }
    }
  }
  // Each segment's copies after its originals (segments stay in order), op by op in replica
  // order; a copy's slices keep the original's order.
  std::stable_sort(copies.begin(), copies.end(), [](const SlicePlan& a, const SlicePlan& b) {
    return std::make_tuple(a.segment, a.layer, a.replica) < std::make_tuple(b.segment, b.layer, b.replica);
  });
  std::vector<SlicePlan> out;
  out.reserve(plan.size() + copies.size());
  for (int seg = 0; seg < segments; ++seg) {
    for (const SlicePlan& p : plan)
      if (p.segment == seg) out.push_back(p);
    for (const SlicePlan& p : copies)
      if (p.segment == seg) out.push_back(p);
  }
  return out;
}

Eigen::MatrixXf chw_to_hwc(const Eigen::MatrixXf& x, const Shape& s) {
  if (x.cols() != s.size()) throw std::invalid_argument("chw_to_hwc: " + std::to_string(x.cols()) + " values per row for a " + to_string(s) + " map");
  if (s.h * s.w == 1) return x;
  Eigen::MatrixXf out(x.rows(), x.cols());
  for (int c = 0; c < s.c; ++c)
    for (int p = 0; p < s.h * s.w; ++p) out.col(long(p) * s.c + c) = x.col(long(c) * s.h * s.w + p);
  return out;
}

Eigen::MatrixXf hwc_to_chw(const Eigen::MatrixXf& x, const Shape& s) {
  if (x.cols() != s.size()) throw std::invalid_argument("hwc_to_chw: " + std::to_string(x.cols()) + " values per row for a " + to_string(s) + " map");
  if (s.h * s.w == 1) return x;
  Eigen::MatrixXf out(x.rows(), x.cols());
  for (int c = 0; c < s.c; ++c)
    for (int p = 0; p < s.h * s.w; ++p) out.col(long(c) * s.h * s.w + p) = x.col(long(p) * s.c + c);
  return out;
}

namespace {

// ---- Execution of the image's ops (ideal device), shared by calibration and execute_ideal ----

struct SliceData {
  aimc_slice_t slice;
  Eigen::MatrixXi levels;  // row_count x col_count
};

// Activation buffers by SRAM address: batch x (elements per image), codes as float integers.
using Buffers = std::map<uint32_t, num::Maps>;

num::Window window_of(const aimc_layer_t& L) {
  num::Window w;
  w.kh = int(L.kh), w.kw = int(L.kw), w.stride_h = int(L.stride_h), w.stride_w = int(L.stride_w);
  w.pad_t = int(L.pad_t), w.pad_l = int(L.pad_l), w.pad_b = int(L.pad_b), w.pad_r = int(L.pad_r);
  return w;
}

num::Requant requant_of(const aimc_layer_t& L, int dac_bits) {
  num::Requant q;
  q.scale = L.out_quant_scale;
  q.zero = int(L.out_zero);
  q.bits = dac_bits;
  q.int32 = (L.flags & AIMC_LAYER_OUTPUT_I32) != 0;
  q.act_min = (L.flags & AIMC_LAYER_RELU) ? std::max(0.0f, L.act_min) : L.act_min;
  q.act_max = L.act_max;
  return q;
}

// Writes an op's output (batch x out_h*out_w*out_c) into its buffer at out_c_offset.
void store(Buffers& bufs, const aimc_layer_t& L, const num::Maps& y, long batch) {
  const long pixels = long(L.out_h) * L.out_w;
  const long width = pixels * L.out_pixel_channels;
  num::Maps& dst = bufs[L.out_addr];
  if (dst.rows() != batch || dst.cols() != width) dst = num::Maps::Zero(batch, width);
  if (L.out_c_offset == 0 && L.out_pixel_channels == L.out_c) {
    dst = y;
    return;
  }
  for (long v = 0; v < batch; ++v)
    for (long p = 0; p < pixels; ++p)
      for (uint32_t c = 0; c < L.out_c; ++c) dst(v, p * L.out_pixel_channels + L.out_c_offset + c) = y(v, p * L.out_c + c);
}

const num::Maps& load(const Buffers& bufs, uint32_t addr, const std::string& what) {
  auto it = bufs.find(addr);
  if (it == bufs.end()) throw std::logic_error("aimc compiler bug: " + what + " reads a buffer nothing wrote");
  return it->second;
}

// The currents of an MVM op's slices for the patches of all images.
struct MvmRun {
  num::Maps patches;                   // (batch * positions) x rows
  std::vector<Eigen::MatrixXd> cur;    // per slice: (batch * positions) x col_count
};

MvmRun mvm_currents(const aimc_layer_t& L, const std::vector<SliceData>& slices, const num::Maps& in, int dac_bits,
                    int bpc, double g_ratio) {
  MvmRun r;
  r.patches = num::im2col(in, {int(L.in_h), int(L.in_w), int(L.in_c)}, window_of(L), int(L.groups), float(L.in_zero));
  for (const auto& s : slices) {
    const Eigen::MatrixXi codes = r.patches.middleCols(s.slice.row_begin, s.slice.row_count).cast<int>();
    r.cur.push_back(qmath::slice_currents(codes, s.levels, dac_bits, bpc, g_ratio));
  }
  return r;
}

// ADC, partial-sum reduction and digital unit of an MVM op. Returns the output maps and fills
// adc (slice order) if asked.
num::Maps mvm_finish(const aimc_layer_t& L, const std::vector<SliceData>& slices, const MvmRun& r, const float* bias,
                     int dac_bits, int adc_bits, long batch, Eigen::MatrixXi* adc_out, long* clipped) {
  const long rows = r.patches.rows();
  Eigen::MatrixXf acc = Eigen::MatrixXf::Zero(rows, L.out_features);
  long total_cols = 0;
  for (const auto& s : slices) total_cols += s.slice.col_count;
  if (adc_out) adc_out->resize(rows, total_cols);
  long at = 0;
  for (size_t k = 0; k < slices.size(); ++k) {
    const auto& sl = slices[k].slice;
    const Eigen::MatrixXi a = qmath::adc_convert(r.cur[k], L.adc_full_scale, adc_bits);
    acc.middleCols(sl.col_begin, sl.col_count) += a.cast<float>();
    if (adc_out) adc_out->middleCols(at, sl.col_count) = a;
    at += sl.col_count;
  }
  num::DigitalSpec ds{L.acc_scale, (L.flags & AIMC_LAYER_RELU) != 0, L.out_quant_scale, dac_bits,
                      (L.flags & AIMC_LAYER_OUTPUT_I32) != 0};
  ds.out_zero = int(L.out_zero);
  ds.act_min = L.act_min;
  ds.act_max = L.act_max;
  Eigen::MatrixXf out;
  const long c = num::digital_unit(acc, bias, ds, out);
  if (clipped) *clipped += c;
  // (batch * positions) x out_c, position-major = batch x (positions * out_c) in H, W, C order.
  num::Maps y(batch, rows / batch * L.out_features);
  for (long i = 0; i < rows; ++i)
    for (long j = 0; j < out.cols(); ++j) y(i / (rows / batch), (i % (rows / batch)) * out.cols() + j) = out(i, j);
  return y;
}

// A digital op on the buffers. Returns the output maps.
num::Maps digital_op(const aimc_layer_t& L, const Buffers& bufs, const std::vector<float>& table, int dac_bits,
                     long* clipped) {
  const num::Maps& in = load(bufs, L.in_addr, "a digital op");
  const num::MapShape s{int(L.in_h), int(L.in_w), int(L.in_c)};
  const num::Requant q = requant_of(L, dac_bits);
  switch (L.kind) {
    case AIMC_OP_MAXPOOL: return num::max_pool(in, s, window_of(L));
    case AIMC_OP_AVGPOOL:
      return num::avg_pool(in, s, window_of(L), (L.flags & AIMC_LAYER_COUNT_PAD) != 0, L.in_scale, int(L.in_zero), q, clipped);
    case AIMC_OP_ADD:
      return num::add(in, L.in_scale, int(L.in_zero), load(bufs, L.in2_addr, "an add"), L.in2_scale, int(L.in2_zero), q, clipped);
    case AIMC_OP_CONCAT: return num::requantize_codes(in, L.in_scale, int(L.in_zero), q, clipped);
    case AIMC_OP_SOFTMAX: return num::softmax(in, L.in_scale, int(L.in_zero), q, clipped);
    case AIMC_OP_DWCONV:
      return num::depthwise_conv(in, s, window_of(L), int(L.in_zero), table.data() + L.weight_offset, L.acc_scale,
                                 table.data() + L.bias_offset, q, clipped);
    default: throw std::logic_error("aimc compiler bug: digital_op of kind " + std::to_string(L.kind));
  }
}

// ---- Lowering ----------------------------------------------------------------------------------

struct TensorQuant {
  float scale = 1.0f;
  int zero = 0;
};

struct Buffer {
  Shape shape;          // the map as stored (H, W, C order in memory)
  bool i32 = false;     // the network output: int32 values
  int first = 0, last = 0;  // lowered op indices that write first / read last
  uint32_t addr = 0;
  long bytes() const { return shape.size() * (i32 ? 4 : 1); }
};

struct Lowered {
  aimc_layer_t rec{};
  int ir_op = -1;
  int in_buf = -1, in2_buf = -1, out_buf = -1;
  int segment = 0;
  std::vector<SlicePlan> plan;   // MVM
  Eigen::MatrixXi levels;        // MVM: rows x cols (patch order)
  float w_scale = 1.0f;
  std::vector<float> bias;       // MVM, DWCONV (zero-point correction included for MVM)
  std::vector<float> dw_weights; // DWCONV: kh*kw*C integers
  std::string why;               // depthwise: why this mapping
};

}  // namespace

CompiledModel compile(const Network& net, const PlatformConfig& cfg, const Eigen::MatrixXf& calibration_inputs,
                      const CompileOptions& options) {
  for (size_t l = 0; l + 1 < net.layers.size(); ++l)
    if (!net.layers[l].relu)
      throw CompileError("layer " + std::to_string(l) + " '" + net.layers[l].name + "' has no ReLU but feeds layer '" +
                         net.layers[l + 1].name + "': the unsigned DACs cannot represent negative activations");
  if (net.layers.empty()) throw CompileError("network '" + net.name + "' has no layers");
  try {
    net.validate();
  } catch (const std::invalid_argument& e) {
    throw CompileError(e.what());
  }
  return compile(to_graph(net), cfg, calibration_inputs, options);
}

CompiledModel compile(const Graph& g, const PlatformConfig& cfg, const Eigen::MatrixXf& calibration_inputs,
                      const CompileOptions& opt) {
  check_config(cfg, opt);
  if (g.ops.empty()) throw CompileError("network '" + g.name + "' has no ops");
  try {
    g.validate();
  } catch (const std::invalid_argument& e) {
    throw CompileError(e.what());
  }
  const long in_features = g.in_features();
  if (calibration_inputs.cols() != in_features || calibration_inputs.rows() < 1)
    throw CompileError("calibration inputs are " + dims(calibration_inputs.rows(), calibration_inputs.cols()) +
                       ", expected n x " + std::to_string(in_features) + " with n >= 1");
  if (!calibration_inputs.allFinite()) throw CompileError("calibration inputs contain NaN or infinity");

  const auto& tc = cfg.tile;
  const int dac_bits = tc.dac.bits, adc_bits = tc.adc.bits, bpc = tc.device.bits_per_cell;
  const int cmax = qmath::dac_max_code(dac_bits);
  const int lmax = qmath::max_level(bpc);
  const double g_ratio = tc.device.g_min_ns / tc.device.g_max_ns;
  nlohmann::json warnings = nlohmann::json::array();
  auto op_label = [&](size_t i) { return "op " + std::to_string(i) + " '" + g.ops[i].name + "' (" + g.ops[i].onnx_op + ")"; };

  // ---- Depthwise mapping: packed on the tiles or in the digital units. ----
  bool any_depthwise = false;
  for (const Op& op : g.ops) any_depthwise |= op.depthwise() && op.out_channels() == op.groups;
  bool digital_dw = opt.depthwise == CompileOptions::Depthwise::digital;
  std::string dw_reason;
  std::vector<SlicePlan> plan;
  if (any_depthwise && opt.depthwise == CompileOptions::Depthwise::automatic) {
    const auto packed = plan_mapping(g, cfg, false);
    const auto digital = plan_mapping(g, cfg, true);
    const int sp = packed.empty() ? 1 : packed.back().segment + 1;
    const int sd = digital.empty() ? 1 : digital.back().segment + 1;
    digital_dw = sp > sd;
    dw_reason = digital_dw ? "automatic: packed block-diagonal needs " + std::to_string(sp) + " weight loads, digital " +
                                 std::to_string(sd) + "; fewer loads win"
                           : "automatic: packed block-diagonal fits in " + std::to_string(sp) +
                                 " weight load(s), as many as digital; the analog array is faster per MAC";
    plan = digital_dw ? digital : packed;
  } else {
    plan = plan_mapping(g, cfg, digital_dw);
    if (any_depthwise) dw_reason = std::string("requested (") + (digital_dw ? "digital" : "packed") + ")";
  }
  if (opt.replicate) plan = replicate_for_throughput(std::move(plan), g, cfg);
  const int segments = plan.empty() ? 1 : plan.back().segment + 1;

  // ---- Buffers: one per tensor, Flatten outputs alias their input. ----
  const size_t n_tensors = g.tensors.size();
  std::vector<int> buf_of(n_tensors, -1);
  std::vector<bool> flattened(n_tensors, false);  // memory order is H, W, C of a spatial map
  std::vector<Buffer> bufs;
  auto new_buf = [&](int tensor) {
    Buffer b;
    b.shape = g.tensors[size_t(tensor)].shape;
    bufs.push_back(b);
    buf_of[size_t(tensor)] = int(bufs.size() - 1);
  };
  new_buf(g.input);

  // ---- Quantization of every tensor from the float activations. ----
  const long positions_max = [&] {
    long m = 1;
    for (const Op& op : g.ops) {
      const Shape& o = g.tensors[size_t(op.output)].shape;
      long rows = op.kind == OpKind::Conv ? long(op.kh) * op.kw * std::max(1, op.cin_per_group()) * op.groups : 1;
      m = std::max(m, long(o.h) * o.w * rows);
    }
    return m;
  }();
  const Eigen::Index n_cal = std::max<Eigen::Index>(
      1, std::min<Eigen::Index>({calibration_inputs.rows(), Eigen::Index(opt.calibration_vectors),
                                 Eigen::Index(opt.calibration_patch_elements / positions_max)}));
  const Eigen::MatrixXf cal = calibration_inputs.topRows(n_cal);
  const std::vector<Eigen::MatrixXf> acts = g.forward_all(cal);
  std::vector<TensorQuant> tq(n_tensors);
  {
    const Eigen::MatrixXf& x = cal;
    if (x.maxCoeff() <= 0.0f && x.minCoeff() >= 0.0f) throw CompileError("calibration inputs are all 0");
    const float lo = std::min(0.0f, x.minCoeff()), hi = std::max(0.0f, x.maxCoeff());
    tq[size_t(g.input)].scale = (hi - lo) / float(cmax);
    tq[size_t(g.input)].zero = int(std::lround(-lo / tq[size_t(g.input)].scale));
    if (lo < 0.0f)
      warnings.push_back("calibration inputs have negative values (min " + std::to_string(lo) +
                         "): inputs are encoded with zero point " + std::to_string(tq[size_t(g.input)].zero));
  }
  for (size_t i = 0; i < g.ops.size(); ++i) {
    const Op& op = g.ops[i];
    const int t = op.output;
    if (op.kind == OpKind::MaxPool || op.kind == OpKind::Flatten) {
      tq[size_t(t)] = tq[size_t(op.inputs[0])];
      continue;
    }
    if (op.kind == OpKind::Softmax) {
      tq[size_t(t)] = {1.0f / float(cmax), 0};
      continue;
    }
    const Eigen::MatrixXf& a = acts[size_t(t)];
    std::vector<double> pos, neg;
    pos.reserve(size_t(a.size()));
    for (Eigen::Index k = 0; k < a.size(); ++k) {
      const float v = a(k);
      if (v > 0) pos.push_back(v);
      else if (v < 0) neg.push_back(-double(v));
    }
    // Percentile of each side's magnitudes, weighted by how much of the data is on that side.
    const double n = double(a.size());
    double hi = pos.empty() ? 0.0 : qmath::percentile(pos, 100.0 - (100.0 - opt.activation_percentile) * n / double(pos.size()));
    double lo = neg.empty() ? 0.0 : -qmath::percentile(neg, 100.0 - (100.0 - opt.activation_percentile) * n / double(neg.size()));
    if (op.act_min >= 0.0f) lo = 0.0;
    if (op.has_clamp() && std::isfinite(op.act_max)) hi = std::min(hi, double(op.act_max));
    if (hi - lo <= 0.0) {
      hi = 1.0;
      warnings.push_back(op_label(i) + ": its output is all zero on the calibration data");
    }
    tq[size_t(t)].scale = float((hi - lo) / cmax);
    tq[size_t(t)].zero = int(std::lround(-lo / double(tq[size_t(t)].scale)));
  }

  // ---- Lowered ops. ----
  std::vector<Lowered> low;
  std::map<int, std::vector<SlicePlan>> plan_by_op;
  for (const SlicePlan& p : plan) plan_by_op[p.layer].push_back(p);
  int current_segment = 0;
  int unit_rr = 0;  // digital ops take the tiles' digital units round robin
  std::vector<int> consumers(n_tensors, 0);
  for (const Op& op : g.ops)
    for (int t : op.inputs) ++consumers[size_t(t)];
  for (size_t i = 0; i < g.ops.size(); ++i) {
    const Op& op = g.ops[i];
    const std::string where = op_label(i);
    for (int t : op.inputs)
      if (flattened[size_t(t)] && !(op.kind == OpKind::Conv && g.tensors[size_t(t)].shape.h == 1)) {
        if (op.kind != OpKind::Flatten)
          throw CompileError(where + ": its input '" + g.tensors[size_t(t)].name +
                             "' is a flattened feature map; the chip keeps maps in H, W, C order, so a flattened map "
                             "may only feed a dense layer (Gemm/MatMul) or be the network output");
      }
    if (op.kind == OpKind::Flatten) {
      const int src = op.inputs[0];
      buf_of[size_t(op.output)] = buf_of[size_t(src)];
      const Shape& s = g.tensors[size_t(src)].shape;
      flattened[size_t(op.output)] = flattened[size_t(src)] || s.h * s.w > 1;
      continue;
    }
    new_buf(op.output);
    const Shape in_s = g.tensors[size_t(op.inputs[0])].shape;
    const Shape out_s = g.tensors[size_t(op.output)].shape;
    const TensorQuant& qi = tq[size_t(op.inputs[0])];
    const TensorQuant& qo = tq[size_t(op.output)];
    const bool is_output = op.output == g.output;
    if (is_output && consumers[size_t(op.output)] > 0)
      throw CompileError(where + ": the network output is also used inside the network; the chip writes the output as int32");

    auto base = [&](uint32_t kind) {
      Lowered lo;
      lo.ir_op = int(i);
      lo.in_buf = buf_of[size_t(op.inputs[0])];
      lo.out_buf = buf_of[size_t(op.output)];
      aimc_layer_t& r = lo.rec;
      r.kind = kind;
      r.in_h = uint32_t(in_s.h), r.in_w = uint32_t(in_s.w), r.in_c = uint32_t(in_s.c);
      r.out_h = uint32_t(out_s.h), r.out_w = uint32_t(out_s.w), r.out_c = uint32_t(out_s.c);
      r.out_pixel_channels = r.out_c;
      r.kh = uint32_t(op.kh), r.kw = uint32_t(op.kw), r.stride_h = uint32_t(op.stride_h), r.stride_w = uint32_t(op.stride_w);
      r.pad_t = uint32_t(op.pad_t), r.pad_l = uint32_t(op.pad_l), r.pad_b = uint32_t(op.pad_b), r.pad_r = uint32_t(op.pad_r);
      r.groups = uint32_t(op.groups);
      r.in_zero = uint32_t(qi.zero);
      r.in_scale = qi.scale;
      r.out_zero = is_output ? 0u : uint32_t(qo.zero);
      r.out_quant_scale = qo.scale;
      r.act_min = op.act_min;
      r.act_max = op.act_max;
      r.in_features = uint32_t(in_s.size());
      r.out_features = uint32_t(out_s.size());
      r.flags = is_output ? uint32_t(AIMC_LAYER_OUTPUT_I32) : 0u;
      r.adc_full_scale = 1.0f;
      r.acc_scale = 1.0f;
      return lo;
    };

    switch (op.kind) {
      case OpKind::Conv: {
        const bool digital = !on_tiles(op, digital_dw);
        Lowered lo = base(digital ? AIMC_OP_DWCONV : AIMC_OP_MVM);
        if (digital) {
          // 8-bit symmetric weights, per op: w_int = round(W / max|W| * 127).
          const float wmax = std::max(op.weight.cwiseAbs().maxCoeff(), 1e-30f);
          const int wq = (1 << (kDigitalWeightBits - 1)) - 1;
          lo.dw_weights.assign(size_t(op.kh * op.kw * op.out_channels()), 0.0f);
          for (int o = 0; o < op.out_channels(); ++o)
            for (int k = 0; k < op.kh * op.kw; ++k)
              lo.dw_weights[size_t(k * op.out_channels() + o)] = std::round(op.weight(o, k) / wmax * float(wq));
          lo.rec.acc_scale = float(double(qi.scale) * wmax / wq);
          lo.bias.assign(op.bias.data(), op.bias.data() + op.bias.size());
          lo.rec.unit = uint32_t(unit_rr++ % cfg.tile_count());
          lo.why = dw_reason;
          lo.segment = current_segment;
        } else {
          const MvmShape m = mvm_shape(op);
          lo.rec.in_features = uint32_t(m.rows);
          lo.rec.out_features = uint32_t(m.cols);
          // A dense layer on a flattened map: the ONNX weight columns are in C, H, W order, the
          // SRAM holds H, W, C: permute the rows instead of the data.
          const int src = op.inputs[0];
          const Shape mem = bufs[size_t(buf_of[size_t(src)])].shape;
          const bool permute = flattened[size_t(src)] && mem.h * mem.w > 1;
          std::vector<double> v = abs_values(op.weight);
          double ws = qmath::percentile(v, opt.weight_percentile);
          if (ws <= 0.0) ws = op.weight.cwiseAbs().maxCoeff();
          if (ws <= 0.0) ws = 1.0;
          lo.w_scale = float(ws);
          lo.levels = Eigen::MatrixXi::Zero(m.rows, m.cols);
          std::vector<double> level_sum(size_t(m.cols), 0.0);
          for (int o = 0; o < m.cols; ++o) {
            const int grp = o / m.cols_per_group;
            for (int k = 0; k < m.rows_per_group; ++k) {
              int col = k;
              if (permute) {  // k indexes H, W, C memory; the weight column is C, H, W
                const int c = k % mem.c, p = k / mem.c;
                col = c * mem.h * mem.w + p;
              }
              const int lv = qmath::weight_level(op.weight(o, col), ws, bpc);
              lo.levels(grp * m.rows_per_group + k, o) = lv;
              level_sum[size_t(o)] += lv;
            }
          }
          // Zero point: W (x_code - z) s = W x_code s - z s sum(W): the second term is a constant.
          lo.bias.resize(size_t(m.cols));
          for (int o = 0; o < m.cols; ++o)
            lo.bias[size_t(o)] = float(double(op.bias(o)) - double(qi.scale) * qi.zero * level_sum[size_t(o)] * ws / lmax);
          lo.plan = plan_by_op[int(i)];
          lo.segment = lo.plan.front().segment;
          current_segment = lo.segment;
          if (op.depthwise()) lo.why = dw_reason;
        }
        low.push_back(std::move(lo));
        break;
      }
      case OpKind::MaxPool: {
        Lowered lo = base(AIMC_OP_MAXPOOL);
        lo.rec.out_zero = uint32_t(qi.zero);
        lo.rec.out_quant_scale = qi.scale;
        if (is_output) throw CompileError(where + ": a MaxPool cannot produce the network output (it does not requantize)");
        // The pool keeps its input's codes: a folded clamp must not cut into their range.
        if (op.act_min > -qi.scale * float(qi.zero) + 0.5f * qi.scale ||
            op.act_max < qi.scale * float(cmax - qi.zero) - 0.5f * qi.scale)
          throw CompileError(where + ": a clamp (Relu/Clip) folded into a MaxPool cuts into its input's range; the chip's "
                             "max pool does not requantize (put the activation before the pool)");
        lo.rec.unit = uint32_t(unit_rr++ % cfg.tile_count());
        lo.segment = current_segment;
        low.push_back(std::move(lo));
        break;
      }
      case OpKind::AvgPool:
      case OpKind::GlobalAvgPool: {
        Lowered lo = base(AIMC_OP_AVGPOOL);
        if (op.kind == OpKind::GlobalAvgPool) {
          lo.rec.kh = uint32_t(in_s.h), lo.rec.kw = uint32_t(in_s.w);
          lo.rec.stride_h = lo.rec.stride_w = 1;
          lo.rec.pad_t = lo.rec.pad_l = lo.rec.pad_b = lo.rec.pad_r = 0;
        }
        if (op.count_include_pad) lo.rec.flags |= AIMC_LAYER_COUNT_PAD;
        lo.rec.unit = uint32_t(unit_rr++ % cfg.tile_count());
        lo.segment = current_segment;
        low.push_back(std::move(lo));
        break;
      }
      case OpKind::Add: {
        Lowered lo = base(AIMC_OP_ADD);
        lo.in2_buf = buf_of[size_t(op.inputs[1])];
        const TensorQuant& q2 = tq[size_t(op.inputs[1])];
        lo.rec.in2_zero = uint32_t(q2.zero);
        lo.rec.in2_scale = q2.scale;
        lo.rec.unit = uint32_t(unit_rr++ % cfg.tile_count());
        lo.segment = current_segment;
        low.push_back(std::move(lo));
        break;
      }
      case OpKind::Concat: {
        uint32_t offset = 0;
        for (int t : op.inputs) {
          const Shape s = g.tensors[size_t(t)].shape;
          Lowered lo = base(AIMC_OP_CONCAT);
          lo.in_buf = buf_of[size_t(t)];
          lo.rec.in_h = uint32_t(s.h), lo.rec.in_w = uint32_t(s.w), lo.rec.in_c = uint32_t(s.c);
          lo.rec.in_features = uint32_t(s.size());
          lo.rec.in_zero = uint32_t(tq[size_t(t)].zero);
          lo.rec.in_scale = tq[size_t(t)].scale;
          lo.rec.out_c = uint32_t(s.c);
          lo.rec.out_c_offset = offset;
          lo.rec.out_pixel_channels = uint32_t(out_s.c);
          lo.rec.out_features = uint32_t(long(out_s.h) * out_s.w * s.c);
          offset += uint32_t(s.c);
          lo.rec.unit = uint32_t(unit_rr++ % cfg.tile_count());
          lo.segment = current_segment;
          low.push_back(std::move(lo));
        }
        break;
      }
      case OpKind::Softmax: {
        Lowered lo = base(AIMC_OP_SOFTMAX);
        lo.rec.unit = uint32_t(unit_rr++ % cfg.tile_count());
        lo.segment = current_segment;
        low.push_back(std::move(lo));
        break;
      }
      case OpKind::Flatten: break;  // handled above
    }
  }
  if (flattened[size_t(g.output)] && bufs[size_t(buf_of[size_t(g.output)])].shape.h * bufs[size_t(buf_of[size_t(g.output)])].shape.w > 1)
    throw CompileError("network '" + g.name + "': the output is a flattened feature map; end the network with a dense layer, "
                       "pooling or softmax");
  if (low.empty()) throw CompileError("network '" + g.name + "': nothing to execute (only Flatten ops)");
  if (buf_of[size_t(g.output)] == buf_of[size_t(g.input)])
    throw CompileError("network '" + g.name + "': the output is the input");
  const int in_buf = buf_of[size_t(g.input)], out_buf = buf_of[size_t(g.output)];
  bufs[size_t(out_buf)].i32 = true;

  // ---- SRAM layout: liveness over the lowered ops, first fit, for the largest batch that fits. ----
  for (auto& b : bufs) b.first = int(low.size()), b.last = -1;
  bufs[size_t(in_buf)].first = -1;
  for (size_t k = 0; k < low.size(); ++k) {
    const Lowered& lo = low[k];
    for (int b : {lo.in_buf, lo.in2_buf})
      if (b >= 0) bufs[size_t(b)].last = std::max(bufs[size_t(b)].last, int(k));
    bufs[size_t(lo.out_buf)].first = std::min(bufs[size_t(lo.out_buf)].first, int(k));
    bufs[size_t(lo.out_buf)].last = std::max(bufs[size_t(lo.out_buf)].last, int(k));
  }
  bufs[size_t(out_buf)].last = int(low.size());  // the host reads it after the last op
  const uint64_t sram_bytes = uint64_t(cfg.sram.size_kib) * 1024;
  auto layout = [&](long batch, bool commit) -> uint64_t {
    std::vector<size_t> order(bufs.size());
    std::iota(order.begin(), order.end(), 0);
    // Greedy by size: the largest buffers are placed first, each at the lowest address free
    // during its lifetime; small buffers then fill the gaps between them. (Placing in order of
    // first use leaves holes that the large late maps cannot use: MobileNet-v1 224 needed 1.75 MB
    // that way against 1.2 MB, the sum of its two largest live maps.)
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
      if (bufs[a].bytes() != bufs[b].bytes()) return bufs[a].bytes() > bufs[b].bytes();
      return bufs[a].first < bufs[b].first;
    });
    std::vector<std::pair<uint64_t, uint64_t>> placed(bufs.size(), {0, 0});  // [begin, end)
    std::vector<bool> done(bufs.size(), false);
    uint64_t peak = 0;
    for (size_t bi : order) {
      const Buffer& b = bufs[bi];
      if (b.last < b.first) continue;  // never used
      const uint64_t size = align_up(uint64_t(b.bytes()) * uint64_t(batch), kActivationAlign);
      std::vector<std::pair<uint64_t, uint64_t>> busy;
      for (size_t o = 0; o < bufs.size(); ++o)
        if (done[o] && !(bufs[o].last < b.first || b.last < bufs[o].first)) busy.push_back(placed[o]);
      std::sort(busy.begin(), busy.end());
      uint64_t at = 0;
      for (const auto& [s, e] : busy) {
        if (at + size <= s) break;
        at = std::max(at, e);
      }
      placed[bi] = {at, at + size};
      done[bi] = true;
      peak = std::max(peak, at + size);
    }
    if (commit)
      for (size_t bi = 0; bi < bufs.size(); ++bi) bufs[bi].addr = kActivationSramBase + uint32_t(placed[bi].first);
    return peak;
  };
  // The largest batch that fits: the peak grows with the batch, and no layout needs less than
  // the largest single buffer, which bounds the search from above.
  long largest = 1;
  for (const auto& b : bufs) largest = std::max(largest, b.bytes());
  long max_batch = 0;
  for (long lo = 1, hi = long(sram_bytes / uint64_t(largest)); lo <= hi;) {
    const long mid = lo + (hi - lo) / 2;
    if (layout(mid, false) <= sram_bytes) max_batch = mid, lo = mid + 1;
    else hi = mid - 1;
  }
  if (max_batch < 1)
    throw CompileError("platform '" + cfg.name + "': activation SRAM of " + std::to_string(sram_bytes) +
                       " bytes cannot hold the live activations of one image of network '" + g.name + "' (" +
                       std::to_string(layout(1, false)) + " bytes needed at the peak); raise sram.size_kib");
  max_batch = std::min<long>(max_batch, 65535);
  layout(max_batch, true);
  for (Lowered& lo : low) {
    aimc_layer_t& r = lo.rec;
    r.in_addr = bufs[size_t(lo.in_buf)].addr;
    r.in_stride = uint32_t(bufs[size_t(lo.in_buf)].bytes());
    if (lo.in2_buf >= 0) {
      r.in2_addr = bufs[size_t(lo.in2_buf)].addr;
      r.in2_stride = uint32_t(bufs[size_t(lo.in2_buf)].bytes());
    }
    r.out_addr = bufs[size_t(lo.out_buf)].addr;
    r.out_stride = uint32_t(bufs[size_t(lo.out_buf)].bytes());
  }

  // ---- Calibration: run the ops in order through the chip arithmetic. ----
  Buffers run;
  {
    const Eigen::MatrixXf x = chw_to_hwc(cal, g.in_shape());
    const Eigen::MatrixXi c0 = [&] {
      Eigen::MatrixXi c(x.rows(), x.cols());
      const TensorQuant& q = tq[size_t(g.input)];
      for (Eigen::Index k = 0; k < x.size(); ++k)
        c(k) = int(std::clamp(std::round(double(x(k)) / q.scale) + q.zero, 0.0, double(cmax)));
      return c;
    }();
    run[bufs[size_t(in_buf)].addr] = c0.cast<float>();
  }
  std::vector<float> table;  // per lowered op offsets are re-based per segment at emission
  std::vector<uint32_t> table_at(low.size(), 0), dw_at(low.size(), 0);
  nlohmann::json ops_json = nlohmann::json::array();
  float out_scale = 1.0f;
  num::Maps last_y;
  for (size_t k = 0; k < low.size(); ++k) {
    Lowered& lo = low[k];
    aimc_layer_t& r = lo.rec;
    const Op& op = g.ops[size_t(lo.ir_op)];
    const bool last_op = r.flags & AIMC_LAYER_OUTPUT_I32;
    table_at[k] = uint32_t(table.size());
    table.insert(table.end(), lo.bias.begin(), lo.bias.end());
    dw_at[k] = uint32_t(table.size());
    table.insert(table.end(), lo.dw_weights.begin(), lo.dw_weights.end());
    r.bias_offset = table_at[k];
    r.weight_offset = dw_at[k];
    long clipped = 0;
    double adc_sat = 0.0;
    nlohmann::json slices_json = nlohmann::json::array();
    num::Maps y;
    if (r.kind == AIMC_OP_MVM) {
      std::vector<SliceData> sd;
      for (const SlicePlan& p : lo.plan) {
        if (p.replica != 0) {  // a copy computes what the original does; listed, not recomputed
          slices_json.push_back({{"tile", p.tile}, {"rows", {p.row_begin, p.row_begin + p.row_count}},
                                 {"cols", {p.col_begin, p.col_begin + p.col_count}}, {"reduce_tile", p.reduce_tile},
                                 {"at", {p.tile_row, p.tile_col}}, {"replica", p.replica}});
          continue;
        }
        SliceData s;
        s.slice = aimc_slice_t{uint32_t(p.tile), uint32_t(p.row_begin), uint32_t(p.row_count), uint32_t(p.col_begin),
                               uint32_t(p.col_count), uint32_t(p.reduce_tile), uint32_t(p.tile_row), uint32_t(p.tile_col)};
        s.levels = lo.levels.block(p.row_begin, p.col_begin, p.row_count, p.col_count);
        sd.push_back(std::move(s));
        slices_json.push_back({{"tile", p.tile}, {"rows", {p.row_begin, p.row_begin + p.row_count}},
                               {"cols", {p.col_begin, p.col_begin + p.col_count}}, {"reduce_tile", p.reduce_tile},
                               {"at", {p.tile_row, p.tile_col}}});
      }
      const MvmRun mr = mvm_currents(r, sd, load(run, r.in_addr, op_label(size_t(lo.ir_op))), dac_bits, bpc, g_ratio);
      std::vector<double> currents;
      double i_max = 0.0;
      for (const auto& c : mr.cur) {
        for (Eigen::Index t = 0; t < c.size(); ++t) currents.push_back(std::abs(c(t)));
        if (c.size()) i_max = std::max(i_max, c.cwiseAbs().maxCoeff());
      }
      double fs = qmath::percentile(currents, opt.adc_percentile);
      if (fs <= 0.0) fs = i_max;
      if (fs <= 0.0) {
        fs = 1.0 - g_ratio;
        warnings.push_back(op_label(size_t(lo.ir_op)) + ": zero column current on all calibration data");
      }
      r.adc_full_scale = float(fs);
      r.acc_scale = float(qmath::acc_scale(r.adc_full_scale, adc_bits, dac_bits, r.in_scale, lo.w_scale, g_ratio));
      if (last_op) {
        // Output scale from the calibration outputs: y before quantization, probed with scale 1.
        r.out_quant_scale = 1.0f;
        aimc_layer_t probe = r;
        probe.act_min = op.act_min, probe.act_max = op.act_max;
        const num::Maps yp = mvm_finish(probe, sd, mr, table.data() + r.bias_offset, dac_bits, adc_bits, n_cal, nullptr, nullptr);
        const double ymax = yp.cwiseAbs().maxCoeff();
        r.out_quant_scale = float(ymax > 0 ? ymax / double(1 << kOutputResolutionBits) : r.acc_scale);
        out_scale = r.out_quant_scale;
      }
      Eigen::MatrixXi adc;
      y = mvm_finish(r, sd, mr, table.data() + r.bias_offset, dac_bits, adc_bits, n_cal, &adc, &clipped);
      const int a_max = qmath::adc_max_code(adc_bits);
      adc_sat = adc.size() ? double((adc.array().abs() >= a_max).count()) / double(adc.size()) : 0.0;
    } else {
      if (last_op) {
        r.out_quant_scale = 1.0f;
        aimc_layer_t probe = r;
        probe.flags |= AIMC_LAYER_OUTPUT_I32;
        // y of a digital op is the dequantized result: probe with a tiny scale and rescale.
        const num::Maps yp = digital_op(probe, run, table, dac_bits, nullptr);
        const double ymax = yp.cwiseAbs().maxCoeff();
        r.out_quant_scale = float(ymax > 0 ? ymax / double(1 << kOutputResolutionBits) : 1.0 / (1 << kOutputResolutionBits));
        out_scale = r.out_quant_scale;
      }
      y = digital_op(r, run, table, dac_bits, &clipped);
    }
    store(run, r, y, n_cal);
    if (last_op) last_y = y;
    nlohmann::json j = {{"index", k}, {"name", op.name}, {"onnx_op", op.onnx_op}, {"kind", r.kind}, {"segment", lo.segment},
                        {"in", {r.in_h, r.in_w, r.in_c}}, {"out", {r.out_h, r.out_w, r.out_c}},
                        {"in_scale", r.in_scale}, {"in_zero", r.in_zero}, {"out_quant_scale", r.out_quant_scale},
                        {"out_zero", r.out_zero}, {"in_addr", r.in_addr}, {"out_addr", r.out_addr},
                        {"calibration", {{"adc_saturated_fraction", adc_sat},
                                         {"output_clipped_fraction", y.size() ? double(clipped) / double(y.size()) : 0.0}}}};
    if (!op.folded.empty()) j["folded"] = op.folded;
    if (r.kind == AIMC_OP_MVM) {
      j["slices"] = slices_json;
      j["w_scale"] = lo.w_scale;
      j["adc_full_scale"] = r.adc_full_scale;
      j["acc_scale"] = r.acc_scale;
      j["macs"] = long(r.out_h) * r.out_w * long(op.kh) * op.kw * op.cin_per_group() * op.out_channels();
    }
    if (!lo.why.empty()) j["depthwise_mapping"] = {{"used", r.kind == AIMC_OP_DWCONV ? "digital" : "packed"}, {"why", lo.why}};
    ops_json.push_back(j);
  }

  // Quality of the ideal quantized pipeline on the calibration images.
  const Shape out_shape = g.out_shape();
  const Eigen::MatrixXf q_logits = hwc_to_chw(Eigen::MatrixXf(last_y) * out_scale, out_shape);
  const Eigen::MatrixXf& f_logits = acts[size_t(g.output)];
  long agree = 0;
  for (Eigen::Index rr = 0; rr < n_cal; ++rr) {
    Eigen::Index a, b;
    q_logits.row(rr).maxCoeff(&a);
    f_logits.row(rr).maxCoeff(&b);
    agree += a == b;
  }
  const double max_err = (q_logits - f_logits).cwiseAbs().maxCoeff();

  // ---- Emission: per segment a program and the weights of its tiles. ----
  const TensorQuant& qin = tq[size_t(g.input)];
  ImageBuilder builder;
  std::vector<std::vector<uint8_t>> programs(static_cast<size_t>(segments));
  std::vector<aimc_program_hdr_t> headers(static_cast<size_t>(segments));
  long total_slices = 0;
  for (int s = 0; s < segments; ++s) {
    std::vector<aimc_layer_t> recs;
    std::vector<aimc_slice_t> slice_recs;
    std::vector<float> seg_table;
    for (const Lowered& lo : low) {
      if (lo.segment != s) continue;
      aimc_layer_t r = lo.rec;
      const size_t k = size_t(&lo - low.data());
      r.bias_offset = uint32_t(seg_table.size());
      seg_table.insert(seg_table.end(), table.begin() + table_at[k], table.begin() + table_at[k] + long(lo.bias.size()));
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
    aimc_program_hdr_t ph{};
    ph.magic = AIMC_PROGRAM_MAGIC;
    ph.layer_count = uint32_t(recs.size());
    ph.slice_count = uint32_t(slice_recs.size());
    ph.bias_count = uint32_t(seg_table.size());
    ph.in_features = uint32_t(in_features);
    ph.out_features = uint32_t(g.out_features());
    ph.in_addr = bufs[size_t(in_buf)].addr;
    ph.out_addr = bufs[size_t(out_buf)].addr;
    ph.in_scale = qin.scale;
    ph.out_scale = out_scale;
    ph.dac_bits = uint32_t(dac_bits);
    ph.max_batch = uint32_t(max_batch);
    ph.adc_bits = uint32_t(adc_bits);
    ph.bits_per_cell = uint32_t(bpc);
    ph.g_min_over_g_max = float(g_ratio);
    ph.in_zero = uint32_t(qin.zero);
    headers[size_t(s)] = ph;
    std::vector<uint8_t>& program = programs[size_t(s)];
    append_record(program, ph);
    for (const auto& r : recs) append_record(program, r);
    for (const auto& sl : slice_recs) append_record(program, sl);
    for (float b : seg_table) append_record(program, b);
    total_slices += long(slice_recs.size());
  }
  uint64_t prog_bytes = 0;
  std::vector<uint32_t> prog_addr(static_cast<size_t>(segments));
  for (int s = 0; s < segments; ++s) {
    prog_addr[size_t(s)] = kProgramMemoryBase + uint32_t(prog_bytes);
    prog_bytes = align_up(prog_bytes + programs[size_t(s)].size(), 8);
  }
  if (prog_bytes > kProgramMemorySize)
    throw CompileError("network '" + g.name + "': programs of " + std::to_string(prog_bytes) + " bytes (" +
                       std::to_string(low.size()) + " ops, " + std::to_string(total_slices) + " slices, " +
                       std::to_string(table.size()) + " table floats, " + std::to_string(segments) +
                       " segments) exceed the " + std::to_string(kProgramMemorySize) + "-byte sequencer program memory");

  nlohmann::json segs_json = nlohmann::json::array();
  for (int s = 0; s < segments; ++s) {
    std::set<int> tiles;
    for (const SlicePlan& p : plan)
      if (p.segment == s) tiles.insert(p.tile);
    nlohmann::json ops_in = nlohmann::json::array();
    for (size_t k = 0; k < low.size(); ++k)
      if (low[k].segment == s) ops_in.push_back(k);
    segs_json.push_back({{"segment", s}, {"tiles", tiles}, {"ops", ops_in}, {"program_addr", prog_addr[size_t(s)]}});
  }
  // Ops with copies of their weights (replicate_for_throughput): name, copies, tiles of each copy.
  nlohmann::json replication_json = nlohmann::json::array();
  {
    std::map<int, std::map<int, std::set<int>>> tiles_of;  // op -> replica -> tiles
    for (const SlicePlan& p : plan) tiles_of[p.layer][p.replica].insert(p.tile);
    for (const auto& [op, reps] : tiles_of)
      if (reps.size() > 1) {
        nlohmann::json t = nlohmann::json::array();
        for (const auto& [rep, ts] : reps) t.push_back(ts);
        replication_json.push_back({{"op", g.ops[size_t(op)].name}, {"copies", reps.size()}, {"tiles", t}});
      }
  }
  int tiles_used = 0;
  {
    std::set<int> all;
    for (const SlicePlan& p : plan) all.insert(p.tile);
    tiles_used = int(all.size());
  }
  nlohmann::json meta = {
      {"format", "aimc deployment image v2"},
      {"model", g.name},
      {"source", g.source},
      {"platform", cfg.name},
      {"platform_file", cfg.source_file},
      {"input", {{"features", in_features}, {"shape", {g.in_shape().c, g.in_shape().h, g.in_shape().w}},
                 {"layout", "H, W, C (the host transposes from C, H, W)"},
                 {"encoding", "uint8 DAC code = clamp(round(x / in_scale) + in_zero, 0, " + std::to_string(cmax) + ")"},
                 {"in_zero", qin.zero}, {"addr", headers.front().in_addr}, {"stride", in_features}}},
      {"output", {{"features", g.out_features()}, {"shape", {out_shape.c, out_shape.h, out_shape.w}},
                  {"layout", "H, W, C"}, {"encoding", "int32, value = output * out_scale"},
                  {"addr", headers.back().out_addr}, {"stride", g.out_features() * 4}}},
      {"in_scale", qin.scale},
      {"in_zero", qin.zero},
      {"out_scale", out_scale},
      {"layers", ops_json},
      {"segments", segs_json},
      {"depthwise", any_depthwise ? nlohmann::json{{"mapping", digital_dw ? "digital" : "packed"}, {"why", dw_reason}}
                                  : nlohmann::json(nullptr)},
      {"replication", replication_json},
      {"tiles_used", tiles_used},
      {"tile_count", cfg.tile_count()},
      {"max_batch", max_batch},
      {"activation_sram", {{"bytes", sram_bytes}, {"peak_bytes", layout(max_batch, false)},
                           {"peak_bytes_per_image", layout(1, false)}}},
      {"macs_per_inference", g.macs_per_inference()},
      {"quantized_for", {{"dac_bits", dac_bits}, {"adc_bits", adc_bits}, {"bits_per_cell", bpc},
                         {"g_min_ns", tc.device.g_min_ns}, {"g_max_ns", tc.device.g_max_ns}, {"g_min_over_g_max", g_ratio},
                         {"array_rows", tc.array.rows}, {"array_cols", tc.array.cols}}},
      {"compile_options", {{"calibration_vectors", opt.calibration_vectors},
                           {"activation_percentile", opt.activation_percentile},
                           {"adc_percentile", opt.adc_percentile},
                           {"weight_percentile", opt.weight_percentile},
                           {"depthwise", to_string(opt.depthwise)},
                           {"replicate", opt.replicate}}},
      {"calibration", {{"vectors_used", n_cal},
                       {"ideal_vs_float_top1_agreement", double(agree) / double(n_cal)},
                       {"ideal_vs_float_max_abs_logit_error", max_err}}},
      {"warnings", warnings}};

  const std::string meta_text = meta.dump(1);
  builder.add_section(AIMC_SECTION_META, AIMC_TILE_NONE, 0, std::vector<uint8_t>(meta_text.begin(), meta_text.end()));
  for (int s = 0; s < segments; ++s) {
    // One WEIGHTS section per tile of the segment: the bounding box of its blocks, level 0 between.
    std::map<int, std::vector<const SlicePlan*>> by_tile;
    for (const SlicePlan& p : plan)
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
        for (const Lowered& l : low)
          if (l.ir_op == p->layer && l.rec.kind == AIMC_OP_MVM) lo = &l;
        lv.block(p->tile_row, p->tile_col, p->row_count, p->col_count) =
            lo->levels.block(p->row_begin, p->col_begin, p->row_count, p->col_count);
      }
      std::vector<uint8_t> payload;
      append_record(payload, aimc_weights_hdr_t{uint32_t(rows), uint32_t(cols), uint32_t(bpc), 0});
      for (Eigen::Index i = 0; i < lv.size(); ++i) append_record(payload, int16_t(lv.data()[i]));
      if (payload.size() > kStagingBufferSize)
        throw CompileError("tile " + std::to_string(tile) + ": weights section of " + std::to_string(payload.size()) +
                           " bytes exceeds the programming staging buffer");
      builder.add_section(AIMC_SECTION_WEIGHTS, uint32_t(tile), kStagingBufferBase, std::move(payload), uint32_t(s));
    }
    builder.add_section(AIMC_SECTION_PROGRAM, AIMC_TILE_NONE, prog_addr[size_t(s)], std::move(programs[size_t(s)]),
                        uint32_t(s));
  }

  CompiledModel out;
  out.image = builder.build();
  try {
    parse_image(out.image);  // the compiler never hands out an image its own reader refuses
  } catch (const ImageError& e) {
    throw std::logic_error(std::string("aimc compiler bug: emitted an invalid image: ") + e.what());
  }
  out.summary = meta;
  out.summary["image_bytes"] = out.image.size();
  out.summary["program_bytes"] = prog_bytes;
  out.macs_per_inference = g.macs_per_inference();
  out.params = g.source_params >= 0 ? g.source_params : g.params();
  out.summary["params"] = out.params;
  out.summary["params_with_bn"] = out.params + g.source_bn_params;
  out.summary["placement"] = placement_summary(plan, g, cfg);
  out.tiles_used = tiles_used;
  out.max_batch = int(max_batch);
  out.segments = segments;
  return out;
}

namespace {
nlohmann::json placement_of(const std::vector<SlicePlan>& plan, const Graph& g, const PlatformConfig& cfg, int segment) {
  const long rows = cfg.tile.array.rows, cols = cfg.tile.array.cols;
  const long per_tile = 2 * rows * cols;
  std::vector<long> used(size_t(cfg.tile_count()), 0);
  std::vector<nlohmann::json> blocks(size_t(cfg.tile_count()), nlohmann::json::array());
  for (const SlicePlan& p : plan) {
    if (p.segment != segment) continue;
    used[size_t(p.tile)] += 2L * p.row_count * p.col_count;
    nlohmann::json blk = {{"layer", g.ops[size_t(p.layer)].name},
                          {"rows", {p.row_begin, p.row_begin + p.row_count}},
                          {"cols", {p.col_begin, p.col_begin + p.col_count}},
                          {"at", {p.tile_row, p.tile_col}}};
    if (p.replica > 0) blk["replica"] = p.replica;
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

IdealRun execute_ideal(const ImageView& image, const Eigen::MatrixXf& inputs, int adc_bits, double g_ratio) {
  const auto& p0 = image.first_program();
  const auto& pl = image.last_program();
  if (inputs.cols() != long(p0.in_features))
    throw std::invalid_argument("execute_ideal: inputs have " + std::to_string(inputs.cols()) + " features, image expects " +
                                std::to_string(p0.in_features));
  if (adc_bits < 2 || adc_bits > 24) throw std::invalid_argument("execute_ideal: adc_bits must be in [2, 24]");
  const int dac_bits = int(p0.dac_bits);
  const int cmax = qmath::dac_max_code(dac_bits);
  // Shapes from META when present (an MLP image without them is a vector in and out).
  Shape in_shape{int(p0.in_features), 1, 1}, out_shape{int(pl.out_features), 1, 1};
  if (image.meta.is_object() && image.meta.contains("input") && image.meta["input"].contains("shape")) {
    const auto& a = image.meta["input"]["shape"];
    in_shape = {a[0].get<int>(), a[1].get<int>(), a[2].get<int>()};
    const auto& b = image.meta["output"]["shape"];
    out_shape = {b[0].get<int>(), b[1].get<int>(), b[2].get<int>()};
  }
  const long batch = inputs.rows();
  IdealRun result;
  Buffers run;
  {
    const Eigen::MatrixXf x = chw_to_hwc(inputs, in_shape);
    num::Maps c(x.rows(), x.cols());
    for (Eigen::Index i = 0; i < x.rows(); ++i)
      for (Eigen::Index j = 0; j < x.cols(); ++j)
        c(i, j) = float(std::clamp(std::round(double(x(i, j)) / p0.in_scale) + double(p0.in_zero), 0.0, double(cmax)));
    run[p0.in_addr] = c;
  }
  num::Maps last;
  for (const SegmentView& seg : image.segments) {
    for (const aimc_layer_t& L : seg.layers) {
      const num::Maps& in = load(run, L.in_addr, "execute_ideal");
      result.codes.push_back(in.cast<int>());
      num::Maps y;
      if (L.kind == AIMC_OP_MVM) {
        std::vector<SliceData> slices;
        // The first copy's slices: the other copies hold the same levels (replication).
        const uint32_t per_copy = L.slice_count / std::max(1u, L.replicas);
        for (uint32_t k = L.first_slice; k < L.first_slice + per_copy; ++k) {
          const aimc_slice_t& sl = seg.slices[k];
          const TileWeights& tw = seg.tile_weights(sl.tile);
          SliceData sd{sl, Eigen::MatrixXi(sl.row_count, sl.col_count)};
          for (uint32_t r = 0; r < sl.row_count; ++r)
            for (uint32_t c = 0; c < sl.col_count; ++c) sd.levels(r, c) = tw.level(sl.tile_row + r, sl.tile_col + c);
          slices.push_back(std::move(sd));
        }
        const MvmRun mr = mvm_currents(L, slices, in, dac_bits, int(seg.program.bits_per_cell), g_ratio);
        Eigen::MatrixXi adc;
        y = mvm_finish(L, slices, mr, seg.bias.data() + L.bias_offset, dac_bits, adc_bits, batch, &adc, nullptr);
        result.adc.push_back(std::move(adc));
      } else {
        y = digital_op(L, run, seg.bias, dac_bits, nullptr);
        result.adc.emplace_back();
      }
      store(run, L, y, batch);
    }
  }
  const num::Maps& out = load(run, pl.out_addr, "execute_ideal output");
  result.output = hwc_to_chw(Eigen::MatrixXf(out), out_shape).cast<int>();
  result.logits = result.output.cast<float>() * pl.out_scale;
  return result;
}

}  // namespace aimc::compiler
