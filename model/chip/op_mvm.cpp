// MVM ops (dense and convolution layers) on the tiles. The op's weight matrix is cut into slices
// (blocks on tiles); slices of the same columns form a column block whose partial sums meet at its
// reduce tile's digital unit. Per chunk of output positions (as many patches as half the tile's
// input buffer holds, so that the next chunk loads while one computes):
//   input   bus read of the chunk's patches from SRAM into the slice's tile; it may start once the
//           image's op inputs are in SRAM and the chunk two places earlier has started its MVMs.
//           On an interconnect with multicast (ExecContext::multicast), the slices of one row
//           block (the same input rows, every column block) take one read, delivered to all
//           their tiles at once, which waits for all their input buffers
//   mvm     the tile's array (DAC, array, ADC): chunk x t_mvm (see tile.h)
//   psum    bus write of the slice's ADC codes (ceil(adc_bits/8) bytes each) to the reduce tile,
//           for row slices other than the one on the reduce tile
//   digital the reduce tile's digital unit: partial-sum add, bias, scale, clamp, requantize
//   output  bus write of the chunk's output codes from the reduce tile to SRAM
// Each is a step of the command's booking queue, after the one it needs (the reduce tile's run
// after every slice's partial sums, the output write after every column block's run). A slice's
// chunks count across the images of the command: the input buffer's two halves are shared by the
// images in turn. With copies of the weights (replicas), chunk g of the batch (image after image)
// goes to copy g mod replicas: the copies work side by side on different tiles.
#include <algorithm>
#include <array>
#include <map>

#include "aimc_regs.h"
#include "chip/op_exec.h"
#include "program/layer_fields.h"
#include "sim/accounting.h"

namespace aimc::chip {

namespace {

// Digital-unit operations per output for its column scale: one multiply with COLUMN_SCALES.
long column_scale_ops(const aimc_layer_t& L) { return (L.flags & AIMC_LAYER_COLUMN_SCALES) ? 1 : 0; }

class MvmExecutor final : public OpExecutor {
 public:
  uint32_t compute(ExecContext& ctx, const OpStep& op, num::Maps& out, uint32_t& err_addr) override;
  void schedule(ExecContext& ctx, sim::BookingQueue& q, const OpStep& op, const num::Maps& out, uint32_t v,
                uint64_t inputs_ready_ps, std::vector<sim::BookingQueue::Id>& written, uint32_t& err_addr) override;

 private:
  struct Block {  // the slices of one column block of one copy
    uint32_t col_begin = 0, col_count = 0, reduce_tile = 0;
    std::vector<size_t> slices;
  };
  void plan(const ExecContext& ctx, const OpStep& op);
  uint32_t copy_of(uint32_t v, long q) const {
    return static_cast<uint32_t>((static_cast<long>(v) * chunks_per_image_ + q / chunk_) % copies_);
  }
  // Books the partial sums of slice S's chunk of n positions to its reduce tile from mvm_end on;
  // returns when they have arrived (mvm_end when S sits on its reduce tile).
  bool send_partial_sums(ExecContext& ctx, const OpStep& op, const aimc_slice_t& S, long n, uint64_t mvm_end,
                         uint64_t& arrived, uint32_t& err_addr);

  uint32_t copies_ = 1, per_copy_ = 0;
  long chunk_ = 1, chunks_per_image_ = 1;
  std::vector<std::vector<Eigen::Index>> rows_of_;     // per copy: the patch rows it computes
  std::map<std::pair<uint32_t, uint32_t>, Block> blocks_;  // (copy, col_begin) -> column block
  std::vector<double> array_pj_per_position_;          // per slice of the program
  // Slices of one copy that read the same input rows (one row block; with multicast, all its
  // column blocks, else one slice), and the tiles they sit on.
  struct ReadGroup {
    std::vector<uint32_t> slices;
    std::vector<sim::Endpoint> tiles;
  };
  std::vector<std::vector<ReadGroup>> groups_;  // per copy, in slice order of their first slice
  // The steps of one read group's chunk: one bus read of its patches into the group's tiles,
  // then per slice its MVM and partial sums to the reduce tile (the MVM itself when the slice is
  // on it); psum[s] = the step whose end has slice s's partial sums there.
  void schedule_group(ExecContext& ctx, sim::BookingQueue& q, const OpStep& op, const ReadGroup& g, uint32_t v,
                      long q0, long n, uint64_t inputs_ready_ps, std::map<size_t, sim::BookingQueue::Id>& psum,
                      uint32_t& err_addr);
  void trace_mvm(ExecContext& ctx, const OpStep& op, uint32_t s, uint32_t v, long q0, long n, uint64_t start) const;

  // Across the images of the command, per slice: the MVM steps of its last two chunks (the input
  // buffer's two halves: a chunk's read waits for the MVM two chunks earlier to start) and how
  // many chunks it has taken.
  std::map<size_t, std::array<sim::BookingQueue::Id, 2>> slot_;
  std::map<size_t, long> taken_;
};

void MvmExecutor::plan(const ExecContext& ctx, const OpStep& op) {
  const aimc_layer_t& L = op.L;
  copies_ = std::max(1u, L.replicas);
  per_copy_ = L.slice_count / copies_;
  uint32_t max_rows = 1;
  for (uint32_t s = L.first_slice; s < L.first_slice + L.slice_count; ++s)
    max_rows = std::max(max_rows, ctx.program.slices[s].row_count);
  chunk_ = std::max<long>(1, static_cast<long>(ctx.cfg.tile.input_buffer_bytes) / 2 / max_rows);
  chunks_per_image_ = (op.positions + chunk_ - 1) / chunk_;
  rows_of_.assign(copies_, {});
  for (uint32_t v = 0; v < ctx.batch; ++v)
    for (long q = 0; q < op.positions; ++q)
      rows_of_[copy_of(v, q)].push_back(static_cast<Eigen::Index>(v) * op.positions + q);
  array_pj_per_position_.assign(ctx.program.slices.size(), 0.0);
  groups_.assign(copies_, {});
  for (uint32_t copy = 0; copy < copies_; ++copy) {
    std::map<std::pair<uint32_t, uint32_t>, size_t> by_rows;  // (row_begin, row_count) -> group
    for (uint32_t s = L.first_slice + copy * per_copy_; s < L.first_slice + (copy + 1) * per_copy_; ++s) {
      const aimc_slice_t& S = ctx.program.slices[s];
      auto [it, fresh] = by_rows.try_emplace({S.row_begin, S.row_count}, groups_[copy].size());
      if (fresh || !ctx.multicast) {
        it->second = groups_[copy].size();
        groups_[copy].emplace_back();
      }
      ReadGroup& g = groups_[copy][it->second];
      g.slices.push_back(s);
      g.tiles.push_back(sim::Endpoint::tile(static_cast<int>(S.tile)));
    }
  }
  slot_.clear();
  taken_.clear();
}

uint32_t MvmExecutor::compute(ExecContext& ctx, const OpStep& op, num::Maps& out, uint32_t& err_addr) {
  const aimc_layer_t& L = op.L;
  const Program& p = ctx.program;
  num::Maps in;
  if (!ctx.read_maps(L.in_addr, L.in_stride, op.in_shape, in)) {
    err_addr = L.in_addr;
    return AIMC_ERR_BAD_PROGRAM;
  }
  plan(ctx, op);
  const num::Maps patches =
      num::im2col(in, op.in_shape, op.window, static_cast<int>(L.groups), static_cast<float>(L.in_zero));
  Eigen::MatrixXf acc = Eigen::MatrixXf::Zero(patches.rows(), L.out_features);
  for (uint32_t copy = 0; copy < copies_; ++copy) {
    const auto& rows = rows_of_[copy];
    if (rows.empty()) continue;
    num::Maps mine;  // this copy's patches (all of them without copies)
    if (copies_ > 1) {
      mine.resize(static_cast<Eigen::Index>(rows.size()), patches.cols());
      for (size_t i = 0; i < rows.size(); ++i) mine.row(static_cast<Eigen::Index>(i)) = patches.row(rows[i]);
    }
    const num::Maps& px = copies_ > 1 ? mine : patches;
    for (uint32_t s = L.first_slice + copy * per_copy_; s < L.first_slice + (copy + 1) * per_copy_; ++s) {
      const aimc_slice_t& S = p.slices[s];
      Block& b = blocks_[{copy, S.col_begin}];
      b.col_begin = S.col_begin;
      b.col_count = S.col_count;
      b.reduce_tile = S.reduce_tile;
      b.slices.push_back(s);
      const Eigen::MatrixXf x = px.middleCols(S.row_begin, S.row_count);
      const Tile::MvmResult r = ctx.tiles[S.tile]->mvm(
          x, static_cast<int>(S.row_count), static_cast<int>(S.col_count), L.adc_full_scale,
          op.layer_id, ctx.phase, static_cast<int>(S.tile_row), static_cast<int>(S.tile_col));
      if (copies_ > 1) {
        for (size_t i = 0; i < rows.size(); ++i)
          acc.row(rows[i]).segment(S.col_begin, S.col_count) += r.codes.row(static_cast<Eigen::Index>(i));
      } else {
        acc.middleCols(S.col_begin, S.col_count) += r.codes;
      }
      array_pj_per_position_[s] = r.e_array_j * 1e12 / static_cast<double>(px.rows());
    }
  }
  num::DigitalSpec ds{L.acc_scale, (L.flags & AIMC_LAYER_RELU) != 0, L.out_quant_scale,
                      static_cast<int>(p.hdr.dac_bits), op.i32};
  ds.out_zero = static_cast<int>(L.out_zero);
  ds.act_min = L.act_min;
  ds.act_max = L.act_max;
  ds.act = op.requant.act;
  ds.column_scale = program::layer_column_scales(L, p.bias.data());
  Eigen::MatrixXf o;
  num::digital_unit(acc, p.bias.data() + L.bias_offset, ds, o);
  out.resize(ctx.batch, op.positions * L.out_c);
  for (uint32_t v = 0; v < ctx.batch; ++v)
    for (long q = 0; q < op.positions; ++q)
      for (uint32_t c = 0; c < L.out_c; ++c) out(v, q * L.out_c + c) = o(v * op.positions + q, c);
  for (const auto& [key, b] : blocks_) {
    // An operation per slice (its partial sum), and with column scales one multiply more.
    const long ops = static_cast<long>(rows_of_[key.first].size()) * b.col_count *
                     (static_cast<long>(b.slices.size()) + column_scale_ops(L));
    ctx.ledger.post(ctx.c_digital, op.layer_id, ctx.phase, ctx.tiles[b.reduce_tile]->e_digital_j(ops),
                    static_cast<uint64_t>(ops));
    if (op.act_ops) {  // the activation of each output, in floating point
      const long act = static_cast<long>(rows_of_[key.first].size()) * b.col_count * op.act_ops;
      ctx.ledger.post(ctx.c_digital, op.layer_id, ctx.phase,
                      ctx.tiles[b.reduce_tile]->e_digital_j(act, DigitalWork::float_op), static_cast<uint64_t>(act));
    }
  }
  return AIMC_ERR_NONE;
}

bool MvmExecutor::send_partial_sums(ExecContext& ctx, const OpStep& op, const aimc_slice_t& S, long n,
                                    uint64_t mvm_end, uint64_t& arrived, uint32_t& err_addr) {
  arrived = mvm_end;
  if (S.reduce_tile == S.tile) return true;
  // Partial sums travel as the slice's raw ADC codes (Tile::psum_bytes); the reduce tile adds
  // codes, not scaled values. Timing only: the functional sum was formed in compute().
  const uint32_t psum_bytes = ctx.tiles[S.tile]->psum_bytes();
  const Tile& R = *ctx.tiles[S.reduce_tile];
  const uint32_t dst = AIMC_TILE_BASE + S.reduce_tile * AIMC_TILE_STRIDE + R.output_buffer_offset();
  const uint64_t total = static_cast<uint64_t>(n) * S.col_count * psum_bytes;
  const uint64_t piece_max =
      std::max<uint64_t>(psum_bytes, static_cast<uint64_t>(ctx.cfg.tile.output_buffer_bytes));
  const sim::Endpoint from = sim::Endpoint::tile(static_cast<int>(S.tile));
  const sim::Endpoint to = sim::Endpoint::tile(static_cast<int>(S.reduce_tile));
  uint64_t left = total, t = mvm_end;
  while (left > 0) {
    const uint32_t len = static_cast<uint32_t>(std::min(left, piece_max));
    if (ctx.scratch.size() < len) ctx.scratch.resize(len);
    std::fill(ctx.scratch.begin(), ctx.scratch.begin() + len, 0);
    uint64_t e = 0;
    if (!ctx.transfer(op.layer_id, from, to, tlm::TLM_WRITE_COMMAND, dst, ctx.scratch.data(), len, t, e)) {
      err_addr = dst;
      return false;
    }
    t = e;
    left -= len;
  }
  arrived = t;
  return true;
}

void MvmExecutor::trace_mvm(ExecContext& ctx, const OpStep& op, uint32_t s, uint32_t v, long q0, long n,
                            uint64_t start) const {
  const aimc_slice_t& S = ctx.program.slices[s];
  Tile& T = *ctx.tiles[S.tile];
  const uint64_t t_mvm = T.t_mvm_ps(static_cast<int>(S.col_count));
  const double e_dac = T.e_dac_j(static_cast<int>(S.row_count)) * 1e12;
  const double e_adc = T.e_adc_j(static_cast<int>(S.col_count)) * 1e12;
  const double e_arr = array_pj_per_position_[s];
  // The blocks' own times (their kinds' laws), as t_mvm composes them.
  BlockOp one;
  one.rows = static_cast<int>(S.row_count);
  one.cols = static_cast<int>(S.col_count);
  one.enc = T.dac_block().encoding();
  const uint64_t t_dac = T.dac_block().cost(one).t_ps;
  const uint64_t t_arr = T.array_block().cost(one).t_ps;
  ctx.trace.span(T.track(), "mvm", start, t_mvm * static_cast<uint64_t>(n),
                 {{"layer", static_cast<int>(op.index)}, {"vector", v}, {"positions", n},
                  {"first_position", q0}, {"rows", S.row_count}, {"cols", S.col_count},
                  {"energy_pj", n * (e_dac + e_arr + e_adc)}});
  if (n == 1 && T.reads_per_vector() == 1) {  // the conversions of a single one-read MVM
    ctx.trace.span(T.track(), "dac", start, t_dac, {{"energy_pj", e_dac}});
    ctx.trace.span(T.track(), "array", start + t_dac, t_arr, {{"energy_pj_batch_mean", e_arr}});
    ctx.trace.span(T.track(), "adc", start + t_dac + t_arr, t_mvm - t_dac - t_arr,
                   {{"energy_pj", e_adc}, {"conversions", S.col_count}});
  }
}

void MvmExecutor::schedule_group(ExecContext& ctx, sim::BookingQueue& q, const OpStep& op, const ReadGroup& g,
                                 uint32_t v, long q0, long n, uint64_t inputs_ready_ps,
                                 std::map<size_t, sim::BookingQueue::Id>& psum, uint32_t& err_addr) {
  const uint32_t rows = ctx.program.slices[g.slices.front()].row_count;
  const auto read = q.add(v, inputs_ready_ps, [&ctx, &op, &err_addr, &g, rows, v, n](uint64_t r, uint64_t& st,
                                                                                   uint64_t& en) {
    st = r;
    const aimc_layer_t& L = op.L;
    if (ctx.read_input(op, 0, g.tiles.data(), g.tiles.size(), L.in_addr + v * L.in_stride,
                       static_cast<uint64_t>(n) * rows, r, en))
      return true;
    err_addr = L.in_addr + v * L.in_stride;
    return false;
  });
  for (const uint32_t s : g.slices) {
    const aimc_slice_t& S = ctx.program.slices[s];
    // The input buffer holds two chunks: this one's half frees when the MVM two chunks back starts.
    const long k = taken_[s]++;
    auto ring = slot_.find(s);
    if (k >= 2) q.after_start(ring->second[k % 2], read);
    const auto mvm = q.add(v, 0, [this, &ctx, &op, &S, s, v, q0, n](uint64_t r, uint64_t& st, uint64_t& en) {
      Tile& T = *ctx.tiles[S.tile];
      const uint64_t busy = T.t_mvm_ps(static_cast<int>(S.col_count)) * static_cast<uint64_t>(n);
      st = T.analog().reserve(r, busy);
      en = st + busy;
      if (ctx.trace.enabled()) trace_mvm(ctx, op, s, v, q0, n, st);
      return true;
    });
    q.after_end(read, mvm);
    if (ring == slot_.end()) ring = slot_.emplace(s, std::array<sim::BookingQueue::Id, 2>{mvm, mvm}).first;
    ring->second[k % 2] = mvm;
    if (S.reduce_tile == S.tile) {
      psum[s] = mvm;
      continue;
    }
    const auto sent = q.add(v, 0, [this, &ctx, &op, &S, &err_addr, n](uint64_t r, uint64_t& st, uint64_t& en) {
      st = r;
      return send_partial_sums(ctx, op, S, n, r, en, err_addr);
    });
    q.after_end(mvm, sent);
    psum[s] = sent;
  }
}

void MvmExecutor::schedule(ExecContext& ctx, sim::BookingQueue& q, const OpStep& op, const num::Maps& out,
                           uint32_t v, uint64_t inputs_ready_ps, std::vector<sim::BookingQueue::Id>& written,
                           uint32_t& err_addr) {
  for (long q0 = 0; q0 < op.positions; q0 += chunk_) {
    const long n = std::min(chunk_, op.positions - q0);
    const uint32_t copy = copy_of(v, q0);
    std::map<size_t, sim::BookingQueue::Id> psum;  // slice -> step with its partial sums at the reduce tile
    for (const ReadGroup& g : groups_[copy]) schedule_group(ctx, q, op, g, v, q0, n, inputs_ready_ps, psum, err_addr);
    // Each column block's reduce tile adds its slices' partial sums, bias, scale, requantizes.
    std::vector<std::pair<sim::BookingQueue::Id, uint32_t>> digital;  // (step, reduce tile)
    for (const auto& [key, b] : blocks_) {
      if (key.first != copy) continue;
      const long ops = n * static_cast<long>(b.col_count) * (static_cast<long>(b.slices.size()) + column_scale_ops(op.L));
      const long act = n * static_cast<long>(b.col_count) * op.act_ops;
      const uint32_t tile = b.reduce_tile;
      const auto dig = q.add(v, 0, [&ctx, &op, tile, ops, act, v, n](uint64_t r, uint64_t& st, uint64_t& en) {
        Tile& R = *ctx.tiles[tile];
        const uint64_t t_dig = R.t_digital_ps(ops + act);
        st = R.digital().reserve(r, t_dig);
        en = st + t_dig;
        if (ctx.trace.enabled())
          ctx.trace.span(ctx.digital_tracks[tile], "digital", st, t_dig,
                         {{"layer", static_cast<int>(op.index)}, {"vector", v}, {"positions", n},
                          {"energy_pj", (R.e_digital_j(ops) + (act ? R.e_digital_j(act, DigitalWork::float_op) : 0.0)) * 1e12}});
        return true;
      });
      for (size_t s : b.slices) q.after_end(psum.at(s), dig);
      digital.emplace_back(dig, tile);
    }
    // The outputs leave from the reduce tile that finishes last.
    const auto write = q.add(v, 0, [&ctx, &q, &op, &out, &err_addr, digital, v, q0, n](uint64_t r, uint64_t& st,
                                                                                       uint64_t& en) {
      uint64_t last = 0;
      uint32_t out_tile = 0;
      for (const auto& [dig, tile] : digital)
        if (q.end_ps(dig) >= last) last = q.end_ps(dig), out_tile = tile;
      st = r;
      if (write_output(ctx, op, out, sim::Endpoint::tile(static_cast<int>(out_tile)), v, q0, n, r, en)) return true;
      err_addr = op.L.out_addr + v * op.L.out_stride;
      return false;
    });
    for (const auto& d : digital) q.after_end(d.first, write);
    written.push_back(write);
  }
}

}  // namespace

std::unique_ptr<OpExecutor> make_mvm_executor() { return std::make_unique<MvmExecutor>(); }

}  // namespace aimc::chip
