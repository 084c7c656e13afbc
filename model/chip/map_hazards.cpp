#include "chip/map_hazards.h"

#include <algorithm>

#include "program/layer_fields.h"

namespace aimc::chip {

MapHazards::MapHazards(const std::vector<aimc_layer_t>& layers, uint32_t batch) : batch_(batch) {
  for (const aimc_layer_t& L : layers) {
    std::vector<Access> acc;
    const uint64_t in_bytes = uint64_t(L.in_h) * L.in_w * L.in_c;
    acc.push_back({L.in_addr, L.in_stride, in_bytes, false, 0, 0, 0});
    if (program::has_second_input(L))
      acc.push_back({L.in2_addr, L.in2_stride, program::second_input_bytes(L), false, 0, 0, 0});
    const uint64_t elem = (L.flags & AIMC_LAYER_OUTPUT_I32) ? 4u : 1u;
    const uint64_t positions = uint64_t(L.out_h) * L.out_w;
    Access w{L.out_addr, L.out_stride, positions * L.out_c * elem, true, 0, 0, 0};
    if (L.out_c_offset != 0 || L.out_pixel_channels != L.out_c) {  // a channel range of wider pixels
      w.pixel = uint64_t(L.out_pixel_channels) * elem;
      w.ch_begin = uint64_t(L.out_c_offset) * elem;
      w.ch_end = w.ch_begin + uint64_t(L.out_c) * elem;
      w.addr += w.ch_begin;
      w.span = positions > 0 ? (positions - 1) * w.pixel + (w.ch_end - w.ch_begin) : 0;
    }
    acc.push_back(w);
    access_.push_back(std::move(acc));
  }
}

bool MapHazards::disjoint_channels(const Access& a, const Access& b) {
  if (a.pixel == 0 || b.pixel == 0 || a.pixel != b.pixel || a.stride != b.stride) return false;
  // The same map: the same pixel grid (bases one channel offset apart, inside one pixel).
  const uint64_t base_a = a.addr - a.ch_begin, base_b = b.addr - b.ch_begin;
  if (base_a != base_b) return false;
  return a.ch_end <= b.ch_begin || b.ch_end <= a.ch_begin;
}

std::vector<OpImage> MapHazards::before(uint32_t k, uint32_t v) const {
  std::vector<OpImage> out;
  if (k >= access_.size() || v >= batch_) return out;
  for (uint32_t j = 0; j < k; ++j) {
    std::vector<uint32_t> images;
    for (const Access& q : access_[k]) {
      if (q.span == 0) continue;
      const uint64_t qa = q.addr + uint64_t(v) * q.stride, qb = qa + q.span;
      for (const Access& p : access_[j]) {
        if (!(p.write || q.write) || p.span == 0) continue;
        // Images u with p.addr + u * p.stride < qb and p.addr + u * p.stride + p.span > qa.
        if (p.addr >= qb) continue;
        uint64_t u_lo = 0, u_hi = batch_;  // [u_lo, u_hi)
        if (p.stride == 0) {
          if (p.addr + p.span <= qa) continue;
        } else {
          u_hi = std::min<uint64_t>(batch_, (qb - p.addr + p.stride - 1) / p.stride);
          if (qa >= p.addr + p.span) u_lo = (qa - p.addr - p.span) / p.stride + 1;
        }
        for (uint64_t u = u_lo; u < u_hi; ++u) {
          const uint64_t pa = p.addr + u * p.stride;
          if (pa >= qb || pa + p.span <= qa) continue;
          if (u == v && disjoint_channels(p, q)) continue;  // one map, other channels
          images.push_back(static_cast<uint32_t>(u));
        }
      }
    }
    std::sort(images.begin(), images.end());
    images.erase(std::unique(images.begin(), images.end()), images.end());
    for (uint32_t u : images) out.push_back({j, u});
  }
  return out;
}

}  // namespace aimc::chip
