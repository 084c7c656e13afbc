// Quantization pass: a scale and zero point for every tensor from the float activations on the
// calibration images (CompileOptions::activation_percentile), and the weight quantizers the
// lowering pass calls per op: cell levels of an MVM op (CompileOptions::weight_percentile) and
// 8-bit weights of a depthwise convolution in a digital unit.
#include <algorithm>
#include <cmath>

#include "numerics/ideal_mvm.h"
#include "passes/context.h"

namespace aimc::compiler::passes {
namespace {

// Calibration images used: at most calibration_vectors, and few enough that the largest op's
// im2col patches stay within calibration_patch_elements.
Eigen::Index calibration_images(const CompileContext& ctx) {
  long positions_max = 1;
  for (const Op& op : ctx.g.ops) {
    const Shape& o = ctx.g.tensors[size_t(op.output)].shape;
    long rows = op.kind == OpKind::Conv ? long(op.kh) * op.kw * std::max(1, op.cin_per_group()) * op.groups : 1;
    positions_max = std::max(positions_max, long(o.h) * o.w * rows);
  }
  return std::max<Eigen::Index>(
      1, std::min<Eigen::Index>({ctx.calibration_inputs.rows(), Eigen::Index(ctx.opt.calibration_vectors),
                                 Eigen::Index(ctx.opt.calibration_patch_elements / positions_max)}));
}

// The network input: the full range of the calibration inputs (and 0) on the DAC codes.
void quantize_input(CompileContext& ctx) {
  const Eigen::MatrixXf& x = ctx.cal;
  if (x.maxCoeff() <= 0.0f && x.minCoeff() >= 0.0f) throw CompileError("calibration inputs are all 0");
  const float lo = std::min(0.0f, x.minCoeff()), hi = std::max(0.0f, x.maxCoeff());
  TensorQuant& q = ctx.tq[size_t(ctx.g.input)];
  q.scale = (hi - lo) / float(ctx.cmax);
  q.zero = int(std::lround(-lo / q.scale));
  if (lo < 0.0f)
    ctx.warnings.push_back("calibration inputs have negative values (min " + std::to_string(lo) +
                           "): inputs are encoded with zero point " + std::to_string(q.zero));
}

// An op's output from the percentile of its float values, each side weighted by how much of the
// data is on that side, then narrowed by a folded clamp.
TensorQuant output_range(CompileContext& ctx, size_t i) {
  const Op& op = ctx.g.ops[i];
  const Eigen::MatrixXf& a = ctx.acts[size_t(op.output)];
  std::vector<double> pos, neg;
  pos.reserve(size_t(a.size()));
  for (Eigen::Index k = 0; k < a.size(); ++k) {
    const float v = a(k);
    if (v > 0) pos.push_back(v);
    else if (v < 0) neg.push_back(-double(v));
  }
  const double n = double(a.size());
  const double p = ctx.opt.activation_percentile;
  double hi = pos.empty() ? 0.0 : num::percentile(pos, 100.0 - (100.0 - p) * n / double(pos.size()));
  double lo = neg.empty() ? 0.0 : -num::percentile(neg, 100.0 - (100.0 - p) * n / double(neg.size()));
  if (op.act_min >= 0.0f) lo = 0.0;
  if (op.has_clamp() && std::isfinite(op.act_max)) hi = std::min(hi, double(op.act_max));
  if (hi - lo <= 0.0) {
    hi = 1.0;
    ctx.warnings.push_back(ctx.op_label(i) + ": its output is all zero on the calibration data");
  }
  TensorQuant q;
  q.scale = float((hi - lo) / ctx.cmax);
  q.zero = int(std::lround(-lo / double(q.scale)));
  return q;
}

std::vector<double> abs_values(const Eigen::MatrixXf& m) {
  std::vector<double> v(size_t(m.size()));
  for (Eigen::Index i = 0; i < m.size(); ++i) v[size_t(i)] = std::abs(double(m(i)));
  return v;
}

}  // namespace

void quantize_tensors(CompileContext& ctx) {
  const Graph& g = ctx.g;
  ctx.n_cal = calibration_images(ctx);
  ctx.cal = ctx.calibration_inputs.topRows(ctx.n_cal);
  ctx.acts = g.forward_all(ctx.cal);
  ctx.tq.assign(g.tensors.size(), TensorQuant{});
  quantize_input(ctx);
  for (size_t i = 0; i < g.ops.size(); ++i) {
    const Op& op = g.ops[i];
    const int t = op.output;
    if (op.kind == OpKind::MaxPool || op.kind == OpKind::Flatten) {
      ctx.tq[size_t(t)] = ctx.tq[size_t(op.inputs[0])];
      continue;
    }
    if (op.kind == OpKind::Softmax) {
      ctx.tq[size_t(t)] = {1.0f / float(ctx.cmax), 0};
      continue;
    }
    ctx.tq[size_t(t)] = output_range(ctx, i);
  }
}

namespace {

// The weight_percentile of |W| over `w` (a row of the op's weights, or all of them), else the
// largest |W|, else 1: never 0, so every weight has a level.
double weight_scale(const Eigen::MatrixXf& w, double percentile) {
  std::vector<double> v = abs_values(w);
  double ws = num::percentile(v, percentile);
  if (ws <= 0.0) ws = w.size() ? double(w.cwiseAbs().maxCoeff()) : 0.0;
  return ws > 0.0 ? ws : 1.0;
}

// Squared error of the op's weights on the levels with scale ws[o] for output o.
double level_error2(const Op& op, const std::vector<double>& ws, int bpc) {
  const int lm = num::cell_max_level(bpc);
  double e2 = 0.0;
  for (Eigen::Index o = 0; o < op.weight.rows(); ++o)
    for (Eigen::Index k = 0; k < op.weight.cols(); ++k) {
      const double w = op.weight(o, k), s = ws[size_t(o)];
      const double d = w - num::weight_level(float(w), s, bpc) * s / lm;
      e2 += d * d;
    }
  return e2;
}

}  // namespace

void quantize_mvm_weights(const CompileContext& ctx, const Op& op, const TensorQuant& qi, const Shape& mem,
                          bool permute, Lowered& lo) {
  const MvmShape m = mvm_shape(op);
  // One scale per output column, or the op's for all; automatic keeps per-tensor unless per-column
  // lowers the rms quantization error by kColumnScaleGain (CompileOptions::weight_scales).
  const double ws_op = weight_scale(op.weight, ctx.opt.weight_percentile);
  std::vector<double> ws(size_t(m.cols), ws_op);
  using W = CompileOptions::WeightScales;
  if (ctx.opt.weight_scales != W::per_tensor && m.cols > 1) {
    std::vector<double> per_col(size_t(m.cols));
    for (int o = 0; o < m.cols; ++o) per_col[size_t(o)] = weight_scale(op.weight.row(o), ctx.opt.weight_percentile);
    bool use = ctx.opt.weight_scales == W::per_column;
    if (!use) {
      const double e_tensor = level_error2(op, ws, ctx.bpc), e_col = level_error2(op, per_col, ctx.bpc);
      use = e_col < e_tensor * (1.0 - kColumnScaleGain) * (1.0 - kColumnScaleGain);  // rms error, squared
    }
    if (use) ws = per_col;
  }
  const double ws_max = *std::max_element(ws.begin(), ws.end());
  lo.w_scale = float(ws_max);
  lo.column_scales.clear();
  if (std::any_of(ws.begin(), ws.end(), [&](double s) { return s != ws_max; }) ||
      ctx.opt.weight_scales == W::per_column) {
    lo.rec.flags |= AIMC_LAYER_COLUMN_SCALES;
    for (double s : ws) lo.column_scales.push_back(float(s / ws_max));
  }
  lo.levels = Eigen::MatrixXi::Zero(m.rows, m.cols);
  std::vector<double> level_sum(size_t(m.cols), 0.0);
  for (int o = 0; o < m.cols; ++o) {
    const int grp = o / m.cols_per_group;
    for (int k = 0; k < m.rows_per_group; ++k) {
      int col = k;
      if (permute) {  // k indexes H, W, C memory; the weight column is C, H, W
        const int c = k % mem.c, p = k / mem.c;
        col = c * mem.h * mem.w + p;
      }
      const int lv = num::weight_level(op.weight(o, col), ws[size_t(o)], ctx.bpc);
      lo.levels(grp * m.rows_per_group + k, o) = lv;
      level_sum[size_t(o)] += lv;
    }
  }
  // Zero point: W (x_code - z) s = W x_code s - z s sum(W): the second term is a constant.
  lo.bias.resize(size_t(m.cols));
  for (int o = 0; o < m.cols; ++o)
    lo.bias[size_t(o)] =
        float(double(op.bias(o)) - double(qi.scale) * qi.zero * level_sum[size_t(o)] * ws[size_t(o)] / ctx.lmax);
}

void quantize_depthwise_weights(const Op& op, const TensorQuant& qi, Lowered& lo) {
  // 8-bit symmetric weights, per op: w_int = round(W / max|W| * 127).
  const float wmax = std::max(op.weight.cwiseAbs().maxCoeff(), 1e-30f);
  const int wq = (1 << (kDigitalWeightBits - 1)) - 1;
  lo.dw_weights.assign(size_t(op.kh * op.kw * op.out_channels()), 0.0f);
  for (int o = 0; o < op.out_channels(); ++o)
    for (int k = 0; k < op.kh * op.kw; ++k)
      lo.dw_weights[size_t(k * op.out_channels() + o)] = std::round(op.weight(o, k) / wmax * float(wq));
  lo.rec.acc_scale = float(double(qi.scale) * wmax / wq);
  lo.bias.assign(op.bias.data(), op.bias.data() + op.bias.size());
}

}  // namespace aimc::compiler::passes
