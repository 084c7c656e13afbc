#include "chip/op_exec.h"

#include <algorithm>
#include <cstring>

#include "program/layer_fields.h"

namespace aimc::chip {

// Defined in op_mvm.cpp and op_digital.cpp.
std::unique_ptr<OpExecutor> make_mvm_executor();
std::unique_ptr<OpExecutor> make_digital_executor(uint32_t kind);
const char* digital_op_name(uint32_t kind);

std::unique_ptr<OpExecutor> make_executor(uint32_t kind) {
  if (kind == AIMC_OP_MVM) return make_mvm_executor();
  return make_digital_executor(kind);
}

const char* op_kind_name(uint32_t kind) {
  if (kind == AIMC_OP_MVM) return "mvm";
  const char* name = digital_op_name(kind);
  return name ? name : "unknown";
}

OpStep::OpStep(const Program& p, size_t index_, int layer_id_)
    : index(index_), L(p.layers[index_]), layer_id(layer_id_) {
  i32 = (L.flags & AIMC_LAYER_OUTPUT_I32) != 0;
  out_elem = i32 ? 4u : 1u;
  in_shape = {static_cast<int>(L.in_h), static_cast<int>(L.in_w), static_cast<int>(L.in_c)};
  window.kh = static_cast<int>(L.kh), window.kw = static_cast<int>(L.kw);
  window.stride_h = static_cast<int>(L.stride_h), window.stride_w = static_cast<int>(L.stride_w);
  window.pad_t = static_cast<int>(L.pad_t), window.pad_l = static_cast<int>(L.pad_l);
  window.pad_b = static_cast<int>(L.pad_b), window.pad_r = static_cast<int>(L.pad_r);
  requant.scale = L.out_quant_scale;
  requant.zero = static_cast<int>(L.out_zero);
  requant.bits = static_cast<int>(p.hdr.dac_bits);
  requant.int32 = i32;
  requant.act_min = (L.flags & AIMC_LAYER_RELU) ? std::max(0.0f, L.act_min) : L.act_min;
  requant.act_max = L.act_max;
  requant.act = program::layer_activation(L, p.bias.data());
  act_ops = num::activation_float_ops(requant.act.kind);
  in_map_bytes = static_cast<uint32_t>(in_shape.size());
  positions = static_cast<long>(L.out_h) * L.out_w;
}

bool ExecContext::timed_read(int layer_id, const sim::Endpoint* dsts, size_t ndst, uint32_t base, uint32_t map_bytes,
                             uint64_t len, uint64_t earliest_ps, uint64_t& end_ps) {
  end_ps = earliest_ps;
  while (len > 0) {
    const uint32_t n = static_cast<uint32_t>(std::min<uint64_t>(len, map_bytes));
    if (scratch.size() < n) scratch.resize(n);
    uint64_t e = 0;
    if (!transfer_to(layer_id, sim::Endpoint::sram(), dsts, ndst, tlm::TLM_READ_COMMAND, base, scratch.data(), n,
                     end_ps, e))
      return false;
    end_ps = e;
    len -= n;
  }
  return true;
}

bool ExecContext::read_input(const OpStep& op, int which, const sim::Endpoint* dsts, size_t ndst, uint32_t base,
                             uint64_t len, uint64_t earliest_ps, uint64_t& end_ps) {
  if (local.empty() || !local[op.index].in_local[which])
    return timed_read(op.layer_id, dsts, ndst, base, op.in_map_bytes, len, earliest_ps, end_ps);
  end_ps = earliest_ps;
  for (size_t i = 0; i < ndst; ++i) {
    Tile& T = *tiles[static_cast<size_t>(dsts[i].index)];
    const uint64_t t = T.t_local_memory_ps(len);
    end_ps = std::max(end_ps, T.local_memory_port().reserve(earliest_ps, t) + t);
    ledger.post(c_local_mem, op.layer_id, phase, T.e_local_memory_j(len, false), len);
  }
  return true;
}

bool ExecContext::read_maps(uint32_t addr, uint32_t stride, const num::MapShape& shape, num::Maps& m) {
  // Image by image, only the map's bytes: the stride may be far larger than the map (the program
  // check bounds addr + stride * (batch - 1) + map, not stride * batch), and reading whole strides
  // allocated stride * batch bytes (2.4 GB for one ADD with in2_stride 0x8C8C8C8C).
  const size_t n = static_cast<size_t>(shape.size());
  std::vector<uint8_t> bytes(n);
  m.resize(batch, shape.size());
  for (uint32_t v = 0; v < batch; ++v) {
    const uint64_t at = uint64_t(addr) + uint64_t(v) * stride;
    if (at + n > 0x100000000ull || !debug_read(static_cast<uint32_t>(at), bytes.data(), static_cast<uint32_t>(n)))
      return false;
    for (size_t i = 0; i < n; ++i) m(v, static_cast<long>(i)) = static_cast<float>(bytes[i]);
  }
  return true;
}

namespace {

// Image v's outputs of positions [q0, q0 + n) as the bytes SRAM holds: one code each, or int32
// for the network's last op; out_c per position, positions in order.
std::vector<uint8_t> output_bytes(const OpStep& op, const num::Maps& out, uint32_t v, long q0, long n) {
  const aimc_layer_t& L = op.L;
  const long pix_bytes = static_cast<long>(L.out_c) * op.out_elem;
  std::vector<uint8_t> bytes(static_cast<size_t>(n * pix_bytes));
  for (long q = 0; q < n; ++q)
    for (uint32_t c = 0; c < L.out_c; ++c) {
      const float y = out(v, (q0 + q) * L.out_c + c);
      if (op.i32) {
        const int32_t val = static_cast<int32_t>(y);
        std::memcpy(bytes.data() + (q * L.out_c + c) * 4, &val, 4);
      } else {
        bytes[static_cast<size_t>(q * L.out_c + c)] = static_cast<uint8_t>(y);
      }
    }
  return bytes;
}

// Contiguous in SRAM unless the op writes a channel range of wider pixels (CONCAT).
bool contiguous_output(const aimc_layer_t& L) { return L.out_c_offset == 0 && L.out_pixel_channels == L.out_c; }

// Where image v's output position q starts in SRAM.
uint32_t output_addr(const OpStep& op, uint32_t v, long q) {
  const aimc_layer_t& L = op.L;
  const uint32_t base = L.out_addr + v * L.out_stride;
  return base + static_cast<uint32_t>((q * L.out_pixel_channels + L.out_c_offset) * op.out_elem);
}

}  // namespace

namespace {

// Image v's positions [q0, q0 + n) of a local map: from the tile src that computed them over the
// interconnect (one multicast, or one transfer per tile) to the other reading tiles' local
// memories, then written there through each memory's port (src's own memory directly).
bool write_local(ExecContext& ctx, const OpStep& op, const std::vector<uint32_t>& readers, sim::Endpoint src,
                 uint32_t v, long q0, uint32_t len, uint64_t earliest_ps, uint64_t& end_ps) {
  std::vector<sim::Endpoint> away;
  for (uint32_t t : readers)
    if (static_cast<int>(t) != src.index || src.kind != sim::Endpoint::Kind::tile) away.push_back(sim::Endpoint::tile(static_cast<int>(t)));
  uint64_t arrived = earliest_ps;
  if (!away.empty()) {
    // Into the first reader's window: a place in its memory as the map's SRAM offset wraps there
    // (the bytes are the SRAM's; only the time and energy are the move's).
    const Tile& first = *ctx.tiles[static_cast<size_t>(away.front().index)];
    const uint64_t room = first.local_memory_bytes();
    uint64_t at = (static_cast<uint64_t>(output_addr(op, v, q0)) - AIMC_SRAM_BASE) % room;
    if (at + len > room) at = 0;
    const uint32_t addr = static_cast<uint32_t>(AIMC_TILE_BASE + static_cast<uint64_t>(away.front().index) * AIMC_TILE_STRIDE +
                                                first.local_memory_offset() + at);
    if (ctx.scratch.size() < len) ctx.scratch.resize(len);
    if (!ctx.transfer_to(op.layer_id, src, away.data(), away.size(), tlm::TLM_WRITE_COMMAND, addr, ctx.scratch.data(),
                         len, earliest_ps, arrived))
      return false;
  }
  end_ps = arrived;
  for (uint32_t t : readers) {
    Tile& T = *ctx.tiles[t];
    const uint64_t d = T.t_local_memory_ps(len);
    end_ps = std::max(end_ps, T.local_memory_port().reserve(arrived, d) + d);
    ctx.ledger.post(ctx.c_local_mem, op.layer_id, ctx.phase, T.e_local_memory_j(len, true), len);
  }
  return true;
}

}  // namespace

bool write_output(ExecContext& ctx, const OpStep& op, const num::Maps& out, sim::Endpoint src,
                  uint32_t v, long q0, long n, uint64_t earliest_ps, uint64_t& end_ps) {
  const aimc_layer_t& L = op.L;
  end_ps = earliest_ps;
  const long pix_bytes = static_cast<long>(L.out_c) * op.out_elem;
  if (!ctx.local.empty() && !ctx.local[op.index].out_tiles.empty())  // contiguous by the plan
    return write_local(ctx, op, ctx.local[op.index].out_tiles, src, v, q0, static_cast<uint32_t>(n * pix_bytes),
                       earliest_ps, end_ps);
  std::vector<uint8_t> bytes = output_bytes(op, out, v, q0, n);
  const sim::Endpoint sram = sim::Endpoint::sram();
  if (contiguous_output(L)) {
    return ctx.transfer(op.layer_id, src, sram, tlm::TLM_WRITE_COMMAND, output_addr(op, v, q0), bytes.data(),
                        static_cast<uint32_t>(n * pix_bytes), earliest_ps, end_ps);
  }
  for (long q = 0; q < n; ++q) {
    uint64_t e = 0;
    if (!ctx.transfer(op.layer_id, src, sram, tlm::TLM_WRITE_COMMAND, output_addr(op, v, q0 + q),
                      bytes.data() + q * pix_bytes, static_cast<uint32_t>(pix_bytes), earliest_ps, e))
      return false;
    end_ps = std::max(end_ps, e);
  }
  return true;
}

bool store_outputs(ExecContext& ctx, const OpStep& op, const num::Maps& out, uint32_t& err_addr) {
  const aimc_layer_t& L = op.L;
  const long pix_bytes = static_cast<long>(L.out_c) * op.out_elem;
  for (uint32_t v = 0; v < ctx.batch; ++v) {
    std::vector<uint8_t> bytes = output_bytes(op, out, v, 0, op.positions);
    const long runs = contiguous_output(L) ? 1 : op.positions;  // one write per pixel for CONCAT
    const long run_bytes = contiguous_output(L) ? op.positions * pix_bytes : pix_bytes;
    for (long q = 0; q < runs; ++q) {
      const uint32_t addr = output_addr(op, v, q);
      if (!ctx.debug_write(addr, bytes.data() + q * run_bytes, static_cast<uint32_t>(run_bytes))) {
        err_addr = addr;
        return false;
      }
    }
  }
  return true;
}

}  // namespace aimc::chip
