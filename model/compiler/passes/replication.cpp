// Replication for throughput (CompileOptions::replicate): copies of the busiest MVM ops on the
// tiles a segment leaves empty. See replicate_for_throughput in compile.h.
#include <algorithm>
#include <map>
#include <set>
#include <tuple>

#include "chip/tile_blocks.h"
#include "compile.h"

namespace aimc::compiler {

using aimc::config::PlatformConfig;

std::vector<SlicePlan> replicate_for_throughput(std::vector<SlicePlan> plan, const Graph& g, const PlatformConfig& cfg) {
  const int tiles = cfg.tile_count();
  // Array time of one MVM of a block with `cols` columns, in ns: the tile's own blocks answer it
  // through the function Tile::t_mvm_ps uses (chip::mvm_time_ps), so another kind is followed here too.
  const auto dac = chip::make_input_driver(cfg);
  const auto array = chip::make_array_read(cfg);
  const auto adc = chip::make_adc_bank(cfg);
  const auto t_mvm = [&](int cols) { return double(chip::mvm_time_ps(*dac, *array, *adc, cols)) * 1e-3; };
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

}  // namespace aimc::compiler
