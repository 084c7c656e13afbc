// Calibration pass: the lowered ops run in order through the chip arithmetic (op_exec.h) on the
// calibration images, each op's input codes coming from the quantized ops before it, so that ADC
// full scales are chosen for the currents the chip will really see
// (CompileOptions::adc_percentile). Sets the ADC full scales and accumulator scales, the
// network output's scale, the bias table offsets, and the per-op statistics of META "layers".
#include <algorithm>
#include <cmath>

#include "numerics/converters.h"
#include "numerics/ideal_mvm.h"
#include "op_exec.h"
#include "passes/context.h"

namespace aimc::compiler::passes {
namespace {

nlohmann::json slice_json(const SlicePlan& p) {
  nlohmann::json j = {{"tile", p.tile}, {"rows", {p.row_begin, p.row_begin + p.row_count}},
                      {"cols", {p.col_begin, p.col_begin + p.col_count}}, {"reduce_tile", p.reduce_tile},
                      {"at", {p.tile_row, p.tile_col}}};
  if (p.replica != 0) j["replica"] = p.replica;
  return j;
}

// What one op's calibration found, for its META entry.
struct OpStats {
  long clipped = 0;
  double adc_sat = 0.0;
  nlohmann::json slices = nlohmann::json::array();
};

class Calibration {
 public:
  explicit Calibration(CompileContext& ctx) : ctx_(ctx) {
    const Eigen::MatrixXf x = chw_to_hwc(ctx.cal, ctx.g.in_shape());
    const TensorQuant& q = ctx.tq[size_t(ctx.g.input)];
    Eigen::MatrixXi c(x.rows(), x.cols());
    for (Eigen::Index k = 0; k < x.size(); ++k) c(k) = num::input_code(double(x(k)), q.scale, q.zero, ctx.cmax);
    run_[ctx.bufs[size_t(ctx.in_buf)].addr] = c.cast<float>();
    ctx.table_at.assign(ctx.low.size(), 0);
  }

  void op(size_t k) {
    Lowered& lo = ctx_.low[k];
    aimc_layer_t& r = lo.rec;
    ctx_.table_at[k] = uint32_t(ctx_.table.size());
    ctx_.table.insert(ctx_.table.end(), lo.bias.begin(), lo.bias.end());
    ctx_.table.insert(ctx_.table.end(), lo.column_scales.begin(), lo.column_scales.end());  // aimc_image.h
    ctx_.table.insert(ctx_.table.end(), lo.act_params.begin(), lo.act_params.end());
    const uint32_t dw_at = uint32_t(ctx_.table.size());
    ctx_.table.insert(ctx_.table.end(), lo.dw_weights.begin(), lo.dw_weights.end());
    r.bias_offset = ctx_.table_at[k];
    r.weight_offset = dw_at;
    OpStats st;
    const num::Maps y = r.kind == AIMC_OP_MVM ? mvm(lo, st) : digital(lo, st);
    exec::store(run_, r, y, ctx_.n_cal);
    if (r.flags & AIMC_LAYER_OUTPUT_I32) ctx_.last_y = y;
    ctx_.ops_json.push_back(op_json(k, y, st));
  }

 private:
  num::Maps mvm(Lowered& lo, OpStats& st) {
    aimc_layer_t& r = lo.rec;
    const Op& op = ctx_.g.ops[size_t(lo.ir_op)];
    std::vector<exec::SliceData> sd;
    for (const SlicePlan& p : lo.plan) {
      st.slices.push_back(slice_json(p));
      if (p.replica != 0) continue;  // a copy computes what the original does; listed, not recomputed
      exec::SliceData s;
      s.slice = aimc_slice_t{uint32_t(p.tile), uint32_t(p.row_begin), uint32_t(p.row_count), uint32_t(p.col_begin),
                             uint32_t(p.col_count), uint32_t(p.reduce_tile), uint32_t(p.tile_row), uint32_t(p.tile_col)};
      s.levels = lo.levels.block(p.row_begin, p.col_begin, p.row_count, p.col_count);
      sd.push_back(std::move(s));
    }
    const exec::MvmRun mr = exec::mvm_currents(r, sd, exec::load(run_, r.in_addr, ctx_.op_label(size_t(lo.ir_op))),
                                               ctx_.dac_bits, ctx_.bpc, ctx_.g_ratio, pair_mode());
    r.adc_full_scale = float(adc_full_scale(mr, size_t(lo.ir_op)));
    r.acc_scale = float(num::acc_scale(r.adc_full_scale, ctx_.adc_bits, ctx_.dac_bits, r.in_scale, lo.w_scale, ctx_.g_ratio));
    const float* bias = ctx_.table.data() + r.bias_offset;
    if (r.flags & AIMC_LAYER_OUTPUT_I32) {
      // Output scale from the calibration outputs: y before quantization, probed with scale 1.
      r.out_quant_scale = 1.0f;
      aimc_layer_t probe = r;
      probe.act_min = op.act_min, probe.act_max = op.act_max;
      const num::Maps yp =
          exec::mvm_finish(probe, sd, mr, bias, ctx_.dac_bits, ctx_.adc_bits, ctx_.n_cal, nullptr, nullptr);
      const double ymax = yp.cwiseAbs().maxCoeff();
      r.out_quant_scale = float(ymax > 0 ? ymax / double(1 << kOutputResolutionBits) : r.acc_scale);
      ctx_.out_scale = r.out_quant_scale;
    }
    exec::AdcRecord adc;
    num::Maps y = exec::mvm_finish(r, sd, mr, bias, ctx_.dac_bits, ctx_.adc_bits, ctx_.n_cal, &adc, &st.clipped);
    st.adc_sat = adc.conversions ? double(adc.saturated) / double(adc.conversions) : 0.0;
    return y;
  }

  num::PairMode pair_mode() const {
    return ctx_.cfg.tile.device.pair == aimc::config::PairMode::balanced ? num::PairMode::balanced
                                                                          : num::PairMode::unipolar;
  }

  // The adc_percentile of |column current| over all slices and images (bit-serial: over the
  // currents of every input bit, each of which the ADC converts with the one full scale).
  double adc_full_scale(const exec::MvmRun& mr, size_t ir_op) {
    std::vector<double> currents;
    double i_max = 0.0;
    auto take = [&](const Eigen::MatrixXd& c) {
      for (Eigen::Index t = 0; t < c.size(); ++t) currents.push_back(std::abs(c(t)));
      if (c.size()) i_max = std::max(i_max, c.cwiseAbs().maxCoeff());
    };
    for (const auto& c : mr.cur) take(c);
    for (const auto& s : mr.sides)
      for (const auto& c : s) take(c);
    for (const auto& slice : mr.planes)
      for (const auto& c : slice) take(c);
    double fs = num::percentile(currents, ctx_.opt.adc_percentile);
    if (fs <= 0.0) fs = i_max;
    if (fs <= 0.0) {
      fs = 1.0 - ctx_.g_ratio;
      ctx_.warnings.push_back(ctx_.op_label(ir_op) + ": zero column current on all calibration data");
    }
    if (!mr.planes.empty()) {
      // A bit's partial sum is a whole number n of level steps u = (1 - g_min/g_max) / (L - 1),
      // and so is the percentile: code n A / m would sit exactly halfway between two codes for
      // many n (n = m / 2 ...), where the tile's float current rounds either way. A full scale of
      // m + 1/2 steps puts no n on a half code (4 n A is even, (2 x + 1)(2 m + 1) odd).
      const double u = (1.0 - ctx_.g_ratio) / ctx_.lmax;
      fs = (std::floor(fs / u) + 0.5) * u;
    }
    return fs;
  }

  num::Maps digital(Lowered& lo, OpStats& st) {
    aimc_layer_t& r = lo.rec;
    if (r.flags & AIMC_LAYER_OUTPUT_I32) {
      r.out_quant_scale = 1.0f;
      aimc_layer_t probe = r;
      probe.flags |= AIMC_LAYER_OUTPUT_I32;
      // y of a digital op is the dequantized result: probe with a tiny scale and rescale.
      const num::Maps yp = exec::digital_op(probe, run_, ctx_.table, ctx_.dac_bits, nullptr);
      const double ymax = yp.cwiseAbs().maxCoeff();
      r.out_quant_scale =
          float(ymax > 0 ? ymax / double(1 << kOutputResolutionBits) : 1.0 / (1 << kOutputResolutionBits));
      ctx_.out_scale = r.out_quant_scale;
    }
    return exec::digital_op(r, run_, ctx_.table, ctx_.dac_bits, &st.clipped);
  }

  nlohmann::json op_json(size_t k, const num::Maps& y, const OpStats& st) const {
    const Lowered& lo = ctx_.low[k];
    const aimc_layer_t& r = lo.rec;
    const Op& op = ctx_.g.ops[size_t(lo.ir_op)];
    nlohmann::json j = {{"index", k}, {"name", op.name}, {"onnx_op", op.onnx_op}, {"kind", r.kind}, {"segment", lo.segment},
                        {"in", {r.in_h, r.in_w, r.in_c}}, {"out", {r.out_h, r.out_w, r.out_c}},
                        {"in_scale", r.in_scale}, {"in_zero", r.in_zero}, {"out_quant_scale", r.out_quant_scale},
                        {"out_zero", r.out_zero}, {"in_addr", r.in_addr}, {"out_addr", r.out_addr},
                        {"calibration", {{"adc_saturated_fraction", st.adc_sat},
                                         {"output_clipped_fraction", y.size() ? double(st.clipped) / double(y.size()) : 0.0}}}};
    if (!op.folded.empty()) j["folded"] = op.folded;
    if (r.kind == AIMC_OP_MVM) {
      j["slices"] = st.slices;
      j["w_scale"] = lo.w_scale;
      if (r.flags & AIMC_LAYER_COLUMN_SCALES) j["weight_scales"] = "per_column";  // absent: per tensor
      j["adc_full_scale"] = r.adc_full_scale;
      j["acc_scale"] = r.acc_scale;
      j["macs"] = long(r.out_h) * r.out_w * long(op.kh) * op.kw * op.cin_per_group() * op.out_channels();
    }
    if (!lo.why.empty()) j["depthwise_mapping"] = {{"used", r.kind == AIMC_OP_DWCONV ? "digital" : "packed"}, {"why", lo.why}};
    return j;
  }

  CompileContext& ctx_;
  exec::Buffers run_;
};

}  // namespace

void calibrate(CompileContext& ctx) {
  Calibration calibration(ctx);
  for (size_t k = 0; k < ctx.low.size(); ++k) calibration.op(k);
}

}  // namespace aimc::compiler::passes
