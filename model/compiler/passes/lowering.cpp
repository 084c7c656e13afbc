// Lowering pass: IR ops -> program records (aimc_layer_t) in program order, one activation buffer
// per tensor (Flatten outputs alias their input's), the MVM ops with their slices and cell levels,
// the digital ops with the digital unit that runs them. Refuses what the chip cannot execute.
#include <algorithm>
#include <map>

#include "passes/context.h"

namespace aimc::compiler::passes {
namespace {

class Lowering {
 public:
  explicit Lowering(CompileContext& ctx) : ctx_(ctx), g_(ctx.g) {
    for (const SlicePlan& p : ctx.plan) plan_by_op_[p.layer].push_back(p);
    consumers_.assign(g_.tensors.size(), 0);
    for (const Op& op : g_.ops)
      for (int t : op.inputs) ++consumers_[size_t(t)];
    ctx.buf_of.assign(g_.tensors.size(), -1);
    ctx.flattened.assign(g_.tensors.size(), false);
    new_buf(g_.input);
  }

  void op(size_t i) {
    const Op& op = g_.ops[i];
    check_flattened_inputs(i);
    if (op.kind == OpKind::Flatten) {
      const int src = op.inputs[0];
      ctx_.buf_of[size_t(op.output)] = ctx_.buf_of[size_t(src)];
      const Shape& s = g_.tensors[size_t(src)].shape;
      ctx_.flattened[size_t(op.output)] = ctx_.flattened[size_t(src)] || s.h * s.w > 1;
      return;
    }
    new_buf(op.output);
    if (op.output == g_.output && consumers_[size_t(op.output)] > 0)
      throw CompileError(ctx_.op_label(i) +
                         ": the network output is also used inside the network; the chip writes the output as int32");
    switch (op.kind) {
      case OpKind::Conv: conv(i); break;
      case OpKind::MaxPool: max_pool(i); break;
      case OpKind::AvgPool:
      case OpKind::GlobalAvgPool: avg_pool(i); break;
      case OpKind::Add: two_inputs(i, AIMC_OP_ADD); break;
      case OpKind::Mul: two_inputs(i, AIMC_OP_MUL); break;
      case OpKind::Concat: concat(i); break;
      case OpKind::Softmax: push_digital(base(i, AIMC_OP_SOFTMAX)); break;
      case OpKind::Activation: push_digital(base(i, AIMC_OP_ACT)); break;
      case OpKind::Flatten: break;  // handled above
    }
  }

 private:
  void new_buf(int tensor) {
    Buffer b;
    b.shape = g_.tensors[size_t(tensor)].shape;
    ctx_.bufs.push_back(b);
    ctx_.buf_of[size_t(tensor)] = int(ctx_.bufs.size() - 1);
  }

  void check_flattened_inputs(size_t i) const {
    const Op& op = g_.ops[i];
    for (int t : op.inputs)
      if (ctx_.flattened[size_t(t)] && !(op.kind == OpKind::Conv && g_.tensors[size_t(t)].shape.h == 1)) {
        if (op.kind != OpKind::Flatten)
          throw CompileError(ctx_.op_label(i) + ": its input '" + g_.tensors[size_t(t)].name +
                             "' is a flattened feature map; the chip keeps maps in H, W, C order, so a flattened map "
                             "may only feed a dense layer (Gemm/MatMul) or be the network output");
      }
  }

  // The record of op i as far as every kind shares it: shapes, window, quantization, flags.
  Lowered base(size_t i, uint32_t kind) const {
    const Op& op = g_.ops[i];
    const Shape in_s = g_.tensors[size_t(op.inputs[0])].shape;
    const Shape out_s = g_.tensors[size_t(op.output)].shape;
    const TensorQuant& qi = ctx_.tq[size_t(op.inputs[0])];
    const TensorQuant& qo = ctx_.tq[size_t(op.output)];
    const bool is_output = op.output == g_.output;
    Lowered lo;
    lo.ir_op = int(i);
    lo.in_buf = ctx_.buf_of[size_t(op.inputs[0])];
    lo.out_buf = ctx_.buf_of[size_t(op.output)];
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
    r.flags |= uint32_t(op.act) << AIMC_LAYER_ACT_SHIFT;
    lo.act_params = act_params(op, 0, out_s.c);
    r.adc_full_scale = 1.0f;
    r.acc_scale = 1.0f;
    return lo;
  }

  // The table parameters of op's activation (aimc_image.h, enum aimc_act) for its output channels
  // [c0, c0 + n).
  static std::vector<float> act_params(const Op& op, int c0, int n) {
    switch (op.act) {
      case num::ActKind::leaky_relu:
      case num::ActKind::elu: return {op.act_alpha};
      case num::ActKind::hard_sigmoid: return {op.act_alpha, op.act_beta};
      case num::ActKind::prelu: return std::vector<float>(op.act_slope.data() + c0, op.act_slope.data() + c0 + n);
      default: return {};
    }
  }

  // A digital op: the tiles' digital units take them round robin; it runs in the segment of the
  // MVM op before it.
  void push_digital(Lowered lo) {
    lo.rec.unit = uint32_t(unit_rr_++ % ctx_.cfg.tile_count());
    lo.segment = current_segment_;
    ctx_.low.push_back(std::move(lo));
  }

  void conv(size_t i) {
    const Op& op = g_.ops[i];
    const TensorQuant& qi = ctx_.tq[size_t(op.inputs[0])];
    if (!on_tiles(op, ctx_.digital_dw)) {
      Lowered lo = base(i, AIMC_OP_DWCONV);
      quantize_depthwise_weights(op, qi, lo);
      lo.why = ctx_.dw_reason;
      push_digital(std::move(lo));
      return;
    }
    Lowered lo = base(i, AIMC_OP_MVM);
    // A bit-serial chip reads one input bit at a time: its ADC ranges are calibrated per bit.
    if (ctx_.cfg.tile.dac.kind == aimc::config::InputDriverKind::bit_serial) lo.rec.flags |= AIMC_LAYER_BIT_SERIAL;
    // A sign-split read converts the pairs' sides apart: its ADC ranges are those of one side.
    if (ctx_.cfg.tile.array.read_phases > 1) lo.rec.flags |= AIMC_LAYER_SIGN_SPLIT;
    const MvmShape m = mvm_shape(op);
    lo.rec.in_features = uint32_t(m.rows);
    lo.rec.out_features = uint32_t(m.cols);
    // A dense layer on a flattened map: the ONNX weight columns are in C, H, W order, the SRAM
    // holds H, W, C: permute the rows instead of the data.
    const int src = op.inputs[0];
    const Shape mem = ctx_.bufs[size_t(ctx_.buf_of[size_t(src)])].shape;
    const bool permute = ctx_.flattened[size_t(src)] && mem.h * mem.w > 1;
    quantize_mvm_weights(ctx_, op, qi, mem, permute, lo);
    lo.plan = plan_by_op_[int(i)];
    lo.segment = lo.plan.front().segment;
    current_segment_ = lo.segment;
    if (op.depthwise()) lo.why = ctx_.dw_reason;
    ctx_.low.push_back(std::move(lo));
  }

  void max_pool(size_t i) {
    const Op& op = g_.ops[i];
    const TensorQuant& qi = ctx_.tq[size_t(op.inputs[0])];
    Lowered lo = base(i, AIMC_OP_MAXPOOL);
    lo.rec.out_zero = uint32_t(qi.zero);
    lo.rec.out_quant_scale = qi.scale;
    const std::string where = ctx_.op_label(i);
    if (op.output == g_.output)
      throw CompileError(where + ": a MaxPool cannot produce the network output (it does not requantize)");
    if (op.act != num::ActKind::none)
      throw CompileError(where + ": an activation (" + num::to_string(op.act) +
                         ") folded into a MaxPool; the chip's max pool does not requantize");
    // The pool keeps its input's codes: a folded clamp must not cut into their range.
    if (op.act_min > -qi.scale * float(qi.zero) + 0.5f * qi.scale ||
        op.act_max < qi.scale * float(ctx_.cmax - qi.zero) - 0.5f * qi.scale)
      throw CompileError(where + ": a clamp (Relu/Clip) folded into a MaxPool cuts into its input's range; the chip's "
                         "max pool does not requantize (put the activation before the pool)");
    push_digital(std::move(lo));
  }

  void avg_pool(size_t i) {
    const Op& op = g_.ops[i];
    Lowered lo = base(i, AIMC_OP_AVGPOOL);
    if (op.kind == OpKind::GlobalAvgPool) {
      const Shape in_s = g_.tensors[size_t(op.inputs[0])].shape;
      lo.rec.kh = uint32_t(in_s.h), lo.rec.kw = uint32_t(in_s.w);
      lo.rec.stride_h = lo.rec.stride_w = 1;
      lo.rec.pad_t = lo.rec.pad_l = lo.rec.pad_b = lo.rec.pad_r = 0;
    }
    if (op.count_include_pad) lo.rec.flags |= AIMC_LAYER_COUNT_PAD;
    push_digital(std::move(lo));
  }

  // An op of two maps: ADD (of one shape), MUL (the second whole, or one value per channel:
  // IN2_PER_CHANNEL).
  void two_inputs(size_t i, uint32_t kind) {
    const Op& op = g_.ops[i];
    Lowered lo = base(i, kind);
    lo.in2_buf = ctx_.buf_of[size_t(op.inputs[1])];
    const TensorQuant& q2 = ctx_.tq[size_t(op.inputs[1])];
    lo.rec.in2_zero = uint32_t(q2.zero);
    lo.rec.in2_scale = q2.scale;
    if (g_.tensors[size_t(op.inputs[1])].shape != g_.tensors[size_t(op.inputs[0])].shape)
      lo.rec.flags |= AIMC_LAYER_IN2_PER_CHANNEL;
    push_digital(std::move(lo));
  }

  // One copy op per input, each writing its channels at an offset into the output map.
  void concat(size_t i) {
    const Op& op = g_.ops[i];
    const Shape out_s = g_.tensors[size_t(op.output)].shape;
    uint32_t offset = 0;
    for (int t : op.inputs) {
      const Shape s = g_.tensors[size_t(t)].shape;
      Lowered lo = base(i, AIMC_OP_CONCAT);
      lo.in_buf = ctx_.buf_of[size_t(t)];
      lo.rec.in_h = uint32_t(s.h), lo.rec.in_w = uint32_t(s.w), lo.rec.in_c = uint32_t(s.c);
      lo.rec.in_features = uint32_t(s.size());
      lo.rec.in_zero = uint32_t(ctx_.tq[size_t(t)].zero);
      lo.rec.in_scale = ctx_.tq[size_t(t)].scale;
      lo.rec.out_c = uint32_t(s.c);
      lo.act_params = act_params(op, int(offset), s.c);
      lo.rec.out_c_offset = offset;
      lo.rec.out_pixel_channels = uint32_t(out_s.c);
      lo.rec.out_features = uint32_t(long(out_s.h) * out_s.w * s.c);
      offset += uint32_t(s.c);
      push_digital(std::move(lo));
    }
  }

  CompileContext& ctx_;
  const Graph& g_;
  std::map<int, std::vector<SlicePlan>> plan_by_op_;
  std::vector<int> consumers_;
  int current_segment_ = 0;
  int unit_rr_ = 0;  // digital ops take the tiles' digital units round robin
};

}  // namespace

void lower(CompileContext& ctx) {
  const Graph& g = ctx.g;
  Lowering lowering(ctx);
  for (size_t i = 0; i < g.ops.size(); ++i) lowering.op(i);
  const Shape out_mem = ctx.bufs[size_t(ctx.buf_of[size_t(g.output)])].shape;
  if (ctx.flattened[size_t(g.output)] && out_mem.h * out_mem.w > 1)
    throw CompileError("network '" + g.name + "': the output is a flattened feature map; end the network with a dense layer, "
                       "pooling or softmax");
  if (ctx.low.empty()) throw CompileError("network '" + g.name + "': nothing to execute (only Flatten ops)");
  if (ctx.buf_of[size_t(g.output)] == ctx.buf_of[size_t(g.input)])
    throw CompileError("network '" + g.name + "': the output is the input");
  ctx.in_buf = ctx.buf_of[size_t(g.input)];
  ctx.out_buf = ctx.buf_of[size_t(g.output)];
  ctx.bufs[size_t(ctx.out_buf)].i32 = true;
}

}  // namespace aimc::compiler::passes
