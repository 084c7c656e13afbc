// SRAM layout pass: liveness of the activation buffers over the lowered ops, a first-fit layout
// by size, and the largest batch whose layout fits the activation SRAM; the records get their
// buffers' addresses and strides.
#include <algorithm>
#include <numeric>

#include "aimc_regs.h"
#include "passes/context.h"

namespace aimc::compiler::passes {
namespace {

// Which lowered ops write a buffer first and read it last; the input is live from the start, the
// output until the host reads it after the last op.
void liveness(CompileContext& ctx) {
  auto& bufs = ctx.bufs;
  for (auto& b : bufs) b.first = int(ctx.low.size()), b.last = -1;
  bufs[size_t(ctx.in_buf)].first = -1;
  for (size_t k = 0; k < ctx.low.size(); ++k) {
    const Lowered& lo = ctx.low[k];
    for (int b : {lo.in_buf, lo.in2_buf})
      if (b >= 0) bufs[size_t(b)].last = std::max(bufs[size_t(b)].last, int(k));
    bufs[size_t(lo.out_buf)].first = std::min(bufs[size_t(lo.out_buf)].first, int(k));
    bufs[size_t(lo.out_buf)].last = std::max(bufs[size_t(lo.out_buf)].last, int(k));
  }
  bufs[size_t(ctx.out_buf)].last = int(ctx.low.size());
}

}  // namespace

uint64_t sram_peak(std::vector<Buffer>& bufs, long batch, bool commit) {
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
    for (size_t bi = 0; bi < bufs.size(); ++bi) bufs[bi].addr = AIMC_SRAM_BASE + uint32_t(placed[bi].first);
  return peak;
}

void layout_sram(CompileContext& ctx) {
  liveness(ctx);
  auto& bufs = ctx.bufs;
  const uint64_t sram_bytes = uint64_t(ctx.cfg.sram.size_kib) * 1024;
  ctx.sram_bytes = sram_bytes;
  // The largest batch that fits: the peak grows with the batch, and no layout needs less than
  // the largest single buffer, which bounds the search from above.
  long largest = 1;
  for (const auto& b : bufs) largest = std::max(largest, b.bytes());
  long max_batch = 0;
  for (long lo = 1, hi = long(sram_bytes / uint64_t(largest)); lo <= hi;) {
    const long mid = lo + (hi - lo) / 2;
    if (sram_peak(bufs, mid, false) <= sram_bytes) max_batch = mid, lo = mid + 1;
    else hi = mid - 1;
  }
  if (max_batch < 1)
    throw CompileError("platform '" + ctx.cfg.name + "': activation SRAM of " + std::to_string(sram_bytes) +
                       " bytes cannot hold the live activations of one image of network '" + ctx.g.name + "' (" +
                       std::to_string(sram_peak(bufs, 1, false)) + " bytes needed at the peak); raise sram.size_kib");
  max_batch = std::min<long>(max_batch, 65535);
  sram_peak(bufs, max_batch, true);
  ctx.max_batch = max_batch;
  ctx.peak_bytes = sram_peak(bufs, max_batch, false);
  ctx.peak_bytes_per_image = sram_peak(bufs, 1, false);
  for (Lowered& lo : ctx.low) {
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
}

}  // namespace aimc::compiler::passes
