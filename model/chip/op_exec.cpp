#include "chip/op_exec.h"

#include <algorithm>
#include <cstring>

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

bool ExecContext::read_maps(uint32_t addr, uint32_t stride, const num::MapShape& shape, num::Maps& m) {
  std::vector<uint8_t> bytes(static_cast<size_t>(stride) * batch);
  if (!debug_read(addr, bytes.data(), static_cast<uint32_t>(bytes.size()))) return false;
  m.resize(batch, shape.size());
  for (uint32_t v = 0; v < batch; ++v)
    for (long i = 0; i < shape.size(); ++i)
      m(v, i) = static_cast<float>(bytes[static_cast<size_t>(v) * stride + static_cast<size_t>(i)]);
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

bool write_output(ExecContext& ctx, const OpStep& op, const num::Maps& out, sim::Endpoint src,
                  uint32_t v, long q0, long n, uint64_t earliest_ps, uint64_t& end_ps) {
  const aimc_layer_t& L = op.L;
  end_ps = earliest_ps;
  const long pix_bytes = static_cast<long>(L.out_c) * op.out_elem;
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
