// Digital ops (pooling, add, concat, softmax, digital depthwise convolution, activation): they run
// on the digital unit of their `unit` tile, or on the chip's global digital unit when it has one
// (ExecContext::gdpu). Numbers from numerics/digital_ops; time: bus read of each chunk's share of
// the input, the unit's time for its element operations, bus write of the output; energy: the
// unit's energy per element operation.
#include <algorithm>

#include "chip/op_exec.h"
#include "program/layer_fields.h"

namespace aimc::chip {

namespace {

// One digital op kind: its kernel and its element operations per output pixel.
struct DigitalOp {
  uint32_t kind;
  const char* name;  // trace span name
  long (*ops_per_position)(const aimc_layer_t& L);
  DigitalWork work;  // what those operations are, for their energy (tile_blocks.h)
  // out = the op on `in` (the batch's first input); false with err_addr set on a bad program.
  bool (*run)(ExecContext& ctx, const OpStep& op, const num::Maps& in, num::Maps& out,
              uint32_t& err_addr);
};

bool run_maxpool(ExecContext&, const OpStep& op, const num::Maps& in, num::Maps& out, uint32_t&) {
  out = num::max_pool(in, op.in_shape, op.window);
  return true;
}

bool run_avgpool(ExecContext&, const OpStep& op, const num::Maps& in, num::Maps& out, uint32_t&) {
  const aimc_layer_t& L = op.L;
  out = num::avg_pool(in, op.in_shape, op.window, (L.flags & AIMC_LAYER_COUNT_PAD) != 0, L.in_scale,
                      static_cast<int>(L.in_zero), op.requant);
  return true;
}

// The second input of an ADD or MUL: the whole map, or one value per channel (IN2_PER_CHANNEL).
bool read_second_input(ExecContext& ctx, const OpStep& op, num::Maps& in2, uint32_t& err_addr) {
  const aimc_layer_t& L = op.L;
  const bool per_channel = (L.flags & AIMC_LAYER_IN2_PER_CHANNEL) != 0;
  if (ctx.read_maps(L.in2_addr, L.in2_stride, per_channel ? num::MapShape{1, 1, op.in_shape.c} : op.in_shape, in2))
    return true;
  err_addr = L.in2_addr;
  return false;
}

bool run_add(ExecContext& ctx, const OpStep& op, const num::Maps& in, num::Maps& out, uint32_t& err_addr) {
  const aimc_layer_t& L = op.L;
  num::Maps in2;
  if (!read_second_input(ctx, op, in2, err_addr)) return false;
  out = num::add(in, L.in_scale, static_cast<int>(L.in_zero), in2, L.in2_scale, static_cast<int>(L.in2_zero),
                 op.requant, nullptr, (L.flags & AIMC_LAYER_IN2_PER_CHANNEL) ? op.in_shape.c : 0);
  return true;
}

bool run_mul(ExecContext& ctx, const OpStep& op, const num::Maps& in, num::Maps& out, uint32_t& err_addr) {
  const aimc_layer_t& L = op.L;
  num::Maps in2;
  if (!read_second_input(ctx, op, in2, err_addr)) return false;
  out = num::mul(in, L.in_scale, static_cast<int>(L.in_zero), in2, L.in2_scale, static_cast<int>(L.in2_zero),
                 (L.flags & AIMC_LAYER_IN2_PER_CHANNEL) != 0, op.in_shape, op.requant);
  return true;
}

bool run_concat(ExecContext&, const OpStep& op, const num::Maps& in, num::Maps& out, uint32_t&) {
  out = num::requantize_codes(in, op.L.in_scale, static_cast<int>(op.L.in_zero), op.requant);
  return true;
}

bool run_softmax(ExecContext&, const OpStep& op, const num::Maps& in, num::Maps& out, uint32_t&) {
  out = num::softmax(in, op.L.in_scale, static_cast<int>(op.L.in_zero), op.requant);
  return true;
}

bool run_dwconv(ExecContext& ctx, const OpStep& op, const num::Maps& in, num::Maps& out, uint32_t&) {
  const aimc_layer_t& L = op.L;
  const std::vector<float>& table = ctx.program.bias;  // weights and biases share the float table
  out = num::depthwise_conv(in, op.in_shape, op.window, static_cast<int>(L.in_zero),
                            table.data() + L.weight_offset, L.acc_scale, table.data() + L.bias_offset,
                            op.requant);
  return true;
}

bool run_act(ExecContext&, const OpStep& op, const num::Maps& in, num::Maps& out, uint32_t&) {
  out = num::requantize_codes(in, op.L.in_scale, static_cast<int>(op.L.in_zero), op.requant);
  return true;
}

long window_ops(const aimc_layer_t& L) { return static_cast<long>(L.out_c) * L.kh * L.kw; }
long window_plus_one_ops(const aimc_layer_t& L) { return static_cast<long>(L.out_c) * (L.kh * L.kw + 1); }

// The digital op kinds. A new one: its kernel in numerics/digital_ops and one line here.
constexpr DigitalOp kDigitalOps[] = {
    {AIMC_OP_MAXPOOL, "maxpool", window_ops, DigitalWork::compare, run_maxpool},
    {AIMC_OP_AVGPOOL, "avgpool", window_plus_one_ops, DigitalWork::accumulate, run_avgpool},
    // two rescales and an add
    {AIMC_OP_ADD, "add", [](const aimc_layer_t& L) { return static_cast<long>(L.out_c) * 3; },
     DigitalWork::requantize, run_add},
    {AIMC_OP_CONCAT, "concat", [](const aimc_layer_t& L) { return static_cast<long>(L.out_c); },
     DigitalWork::requantize, run_concat},
    // exp, sum, divide, requantize
    {AIMC_OP_SOFTMAX, "softmax", [](const aimc_layer_t& L) { return static_cast<long>(L.out_c) * 4; },
     DigitalWork::float_op, run_softmax},
    {AIMC_OP_DWCONV, "dwconv", window_plus_one_ops, DigitalWork::mac, run_dwconv},
    // two rescales and a multiply
    {AIMC_OP_MUL, "mul", [](const aimc_layer_t& L) { return static_cast<long>(L.out_c) * 3; },
     DigitalWork::requantize, run_mul},
    // dequantize and requantize (the activation's float operations are added to every op's count)
    {AIMC_OP_ACT, "activation", [](const aimc_layer_t& L) { return static_cast<long>(L.out_c); },
     DigitalWork::requantize, run_act},
};

const DigitalOp* find_op(uint32_t kind) {
  for (const DigitalOp& d : kDigitalOps)
    if (d.kind == kind) return &d;
  return nullptr;
}

// The bus reads of a chunk of n output positions: its share of the input map (windows overlap;
// the share is what is new), and of the second input for ADD, from ready_ps on.
bool read_inputs(ExecContext& ctx, const OpStep& op, uint32_t v, long n, uint64_t ready_ps, uint64_t& start_ps,
                 uint64_t& end_ps, uint32_t& err_addr) {
  const aimc_layer_t& L = op.L;
  const sim::Endpoint unit = ctx.gdpu ? sim::Endpoint{sim::Endpoint::Kind::gdpu, 0}
                                      : sim::Endpoint::tile(static_cast<int>(L.unit));
  const uint64_t in_len = std::max<uint64_t>(1, static_cast<uint64_t>(op.in_map_bytes) * n / op.positions);
  start_ps = ready_ps;
  if (!ctx.read_input(op, 0, &unit, 1, L.in_addr + v * L.in_stride, in_len, ready_ps, end_ps)) {
    err_addr = L.in_addr;
    return false;
  }
  if (program::has_second_input(L)) {
    // A per-channel second input (a squeeze-excitation gate): its in_c bytes with every chunk.
    const uint64_t in2_len = (L.flags & AIMC_LAYER_IN2_PER_CHANNEL) ? uint64_t(L.in_c) : in_len;
    uint64_t e2 = 0;
    if (!ctx.read_input(op, 1, &unit, 1, L.in2_addr + v * L.in2_stride, in2_len, ready_ps, e2)) {
      err_addr = L.in2_addr;
      return false;
    }
    end_ps = std::max(end_ps, e2);
  }
  return true;
}

class DigitalExecutor final : public OpExecutor {
 public:
  explicit DigitalExecutor(const DigitalOp& op) : op_(op) {}

  uint32_t compute(ExecContext& ctx, const OpStep& op, num::Maps& out, uint32_t& err_addr) override {
    const aimc_layer_t& L = op.L;
    num::Maps in;
    if (!ctx.read_maps(L.in_addr, L.in_stride, op.in_shape, in)) {
      err_addr = L.in_addr;
      return AIMC_ERR_BAD_PROGRAM;
    }
    if (!op_.run(ctx, op, in, out, err_addr)) return AIMC_ERR_BAD_PROGRAM;
    ops_per_position_ = op_.ops_per_position(L);
    act_per_position_ = static_cast<long>(L.out_c) * op.act_ops;
    post(ctx, op, static_cast<long>(ctx.batch) * op.positions * ops_per_position_, op_.work);
    if (act_per_position_)
      post(ctx, op, static_cast<long>(ctx.batch) * op.positions * act_per_position_, DigitalWork::float_op);
    return AIMC_ERR_NONE;
  }

  // The energy of `ops` element operations of kind `work` on the op's unit.
  void post(ExecContext& ctx, const OpStep& op, long ops, DigitalWork work) const {
    if (ctx.gdpu)
      ctx.ledger.post(ctx.gdpu->component(), op.layer_id, ctx.phase, ctx.gdpu->e_j(ops, work),
                      static_cast<uint64_t>(ops));
    else
      ctx.ledger.post(ctx.c_digital, op.layer_id, ctx.phase, ctx.tiles[op.L.unit]->e_digital_j(ops, work),
                      static_cast<uint64_t>(ops));
  }

  // Per chunk of output positions: read its share of the input(s), run the unit, write the
  // outputs; each a step of q, after the one before.
  void schedule(ExecContext& ctx, sim::BookingQueue& q, const OpStep& op, const num::Maps& out, uint32_t v,
                uint64_t inputs_ready_ps, std::vector<sim::BookingQueue::Id>& written, uint32_t& err_addr) override {
    const aimc_layer_t& L = op.L;
    const long pix_out_bytes = static_cast<long>(L.out_c) * op.out_elem;
    const long chunk = std::max<long>(1, static_cast<long>(ctx.cfg.tile.output_buffer_bytes) / pix_out_bytes);
    for (long q0 = 0; q0 < op.positions; q0 += chunk) {
      const long n = std::min(chunk, op.positions - q0);
      const auto read = q.add(v, inputs_ready_ps, [&ctx, &op, &err_addr, v, n](uint64_t r, uint64_t& st, uint64_t& en) {
        return read_inputs(ctx, op, v, n, r, st, en, err_addr);
      });
      const auto run = q.add(v, 0, [this, &ctx, &op, v, n](uint64_t r, uint64_t& st, uint64_t& en) {
        const long ops = n * ops_per_position_, act = n * act_per_position_;
        Tile& U = *ctx.tiles[op.L.unit];
        const uint64_t t_dig = ctx.gdpu ? ctx.gdpu->t_ps(ops + act) : U.t_digital_ps(ops + act);
        st = (ctx.gdpu ? ctx.gdpu->timeline() : U.digital()).reserve(r, t_dig);
        en = st + t_dig;
        if (ctx.trace.enabled()) {
          auto energy = [&](long k, DigitalWork w) { return ctx.gdpu ? ctx.gdpu->e_j(k, w) : U.e_digital_j(k, w); };
          ctx.trace.span(ctx.gdpu ? ctx.gdpu->track() : ctx.digital_tracks[op.L.unit], op_.name, st, t_dig,
                         {{"layer", static_cast<int>(op.index)}, {"vector", v}, {"positions", n},
                          {"energy_pj", (energy(ops, op_.work) + (act ? energy(act, DigitalWork::float_op) : 0.0)) * 1e12}});
        }
        return true;
      });
      q.after_end(read, run);
      const auto write = q.add(v, 0, [&ctx, &op, &out, &err_addr, v, q0, n](uint64_t r, uint64_t& st, uint64_t& en) {
        st = r;
        const sim::Endpoint from = ctx.gdpu ? sim::Endpoint{sim::Endpoint::Kind::gdpu, 0}
                                            : sim::Endpoint::tile(static_cast<int>(op.L.unit));
        if (write_output(ctx, op, out, from, v, q0, n, r, en)) return true;
        err_addr = op.L.out_addr + v * op.L.out_stride;
        return false;
      });
      q.after_end(run, write);
      written.push_back(write);
    }
  }

 private:
  const DigitalOp& op_;
  long ops_per_position_ = 0;
  long act_per_position_ = 0;  // float operations of the activation per output position
};

}  // namespace

const char* digital_op_name(uint32_t kind) {
  const DigitalOp* d = find_op(kind);
  return d ? d->name : nullptr;
}

std::unique_ptr<OpExecutor> make_digital_executor(uint32_t kind) {
  const DigitalOp* d = find_op(kind);
  if (d == nullptr) return nullptr;
  return std::make_unique<DigitalExecutor>(*d);
}

}  // namespace aimc::chip
