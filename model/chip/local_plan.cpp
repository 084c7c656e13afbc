#include "chip/local_plan.h"

#include "program/layer_fields.h"

#include <algorithm>
#include <map>

namespace aimc::chip {

namespace {

struct Span {
  uint64_t begin, end;  // [begin, end) over the batch
};
Span span_of(uint32_t addr, uint32_t stride, uint32_t batch) {
  return {addr, addr + static_cast<uint64_t>(stride) * std::max(1u, batch)};
}
bool overlap(const Span& a, const Span& b) { return a.begin < b.end && b.begin < a.end; }

// The tiles an op reads its inputs with.
std::vector<uint32_t> reading_tiles(const aimc_layer_t& L, const std::vector<aimc_slice_t>& slices) {
  std::vector<uint32_t> t;
  if (L.kind == AIMC_OP_MVM) {
    for (uint32_t s = L.first_slice; s < L.first_slice + L.slice_count && s < slices.size(); ++s)
      t.push_back(slices[s].tile);
  } else {
    t.push_back(L.unit);
  }
  std::sort(t.begin(), t.end());
  t.erase(std::unique(t.begin(), t.end()), t.end());
  return t;
}

}  // namespace

std::vector<LocalOp> plan_local_memory(const std::vector<aimc_layer_t>& layers,
                                       const std::vector<aimc_slice_t>& slices, uint32_t out_addr,
                                       uint32_t batch, uint64_t local_memory_bytes, bool digital_on_tiles) {
  const size_t n = layers.size();
  std::vector<LocalOp> plan(n);
  if (local_memory_bytes == 0) return plan;
  // Each op's inputs: the op that last wrote their addresses before it (-1: none, e.g. the image).
  struct Input {
    size_t op;
    int which;
    long producer;
    bool exact;  // reads exactly the producer's map
  };
  std::vector<Input> inputs;
  for (size_t j = 0; j < n; ++j) {
    const aimc_layer_t& L = layers[j];
    const int count = program::has_second_input(L) ? 2 : 1;
    for (int w = 0; w < count; ++w) {
      const uint32_t addr = w == 0 ? L.in_addr : L.in2_addr;
      const uint32_t stride = w == 0 ? L.in_stride : L.in2_stride;
      const Span in = span_of(addr, stride, batch);
      long producer = -1;
      for (size_t k = 0; k < j; ++k)
        if (overlap(in, span_of(layers[k].out_addr, layers[k].out_stride, batch))) producer = static_cast<long>(k);
      const bool exact = producer >= 0 && layers[static_cast<size_t>(producer)].out_addr == addr &&
                         layers[static_cast<size_t>(producer)].out_stride == stride;
      inputs.push_back({j, w, producer, exact});
    }
  }
  std::map<uint32_t, uint64_t> used;  // per tile: bytes its memory holds for the maps given it so far
  for (size_t k = 0; k < n; ++k) {
    const aimc_layer_t& P = layers[k];
    if (P.out_addr == out_addr || P.out_c_offset != 0 || P.out_pixel_channels != P.out_c) continue;
    bool ok = true, read = false;
    std::vector<uint32_t> tiles;
    for (const Input& in : inputs) {
      if (in.producer != static_cast<long>(k)) continue;
      read = true;
      ok = ok && in.exact && (digital_on_tiles || layers[in.op].kind == AIMC_OP_MVM);
      for (uint32_t t : reading_tiles(layers[in.op], slices)) tiles.push_back(t);
    }
    if (!read || !ok) continue;
    std::sort(tiles.begin(), tiles.end());
    tiles.erase(std::unique(tiles.begin(), tiles.end()), tiles.end());
    const uint64_t need = 2ull * P.out_stride;  // two images' maps: one written while one is read
    bool fits = true;
    for (uint32_t t : tiles) fits = fits && used[t] + need <= local_memory_bytes;
    if (!fits) continue;
    for (uint32_t t : tiles) used[t] += need;
    plan[k].out_tiles = tiles;
  }
  for (const Input& in : inputs)
    if (in.producer >= 0 && !plan[static_cast<size_t>(in.producer)].out_tiles.empty())
      plan[in.op].in_local[in.which] = true;
  return plan;
}

}  // namespace aimc::chip
