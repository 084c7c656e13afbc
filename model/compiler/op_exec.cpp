#include "op_exec.h"

#include <algorithm>
#include <stdexcept>

#include "numerics/converters.h"
#include "numerics/ideal_mvm.h"
#include "program/layer_fields.h"

namespace aimc::compiler::exec {
namespace {

num::Window window_of(const aimc_layer_t& L) {
  num::Window w;
  w.kh = int(L.kh), w.kw = int(L.kw), w.stride_h = int(L.stride_h), w.stride_w = int(L.stride_w);
  w.pad_t = int(L.pad_t), w.pad_l = int(L.pad_l), w.pad_b = int(L.pad_b), w.pad_r = int(L.pad_r);
  return w;
}

num::Requant requant_of(const aimc_layer_t& L, int dac_bits, const float* table) {
  num::Requant q;
  q.scale = L.out_quant_scale;
  q.zero = int(L.out_zero);
  q.bits = dac_bits;
  q.int32 = (L.flags & AIMC_LAYER_OUTPUT_I32) != 0;
  q.act_min = (L.flags & AIMC_LAYER_RELU) ? std::max(0.0f, L.act_min) : L.act_min;
  q.act_max = L.act_max;
  q.act = program::layer_activation(L, table);
  return q;
}

}  // namespace

void store(Buffers& bufs, const aimc_layer_t& L, const num::Maps& y, long batch) {
  const long pixels = long(L.out_h) * L.out_w;
  const long width = pixels * L.out_pixel_channels;
  num::Maps& dst = bufs[L.out_addr];
  if (dst.rows() != batch || dst.cols() != width) dst = num::Maps::Zero(batch, width);
  if (L.out_c_offset == 0 && L.out_pixel_channels == L.out_c) {
    dst = y;
    return;
  }
  for (long v = 0; v < batch; ++v)
    for (long p = 0; p < pixels; ++p)
      for (uint32_t c = 0; c < L.out_c; ++c) dst(v, p * L.out_pixel_channels + L.out_c_offset + c) = y(v, p * L.out_c + c);
}

const num::Maps& load(const Buffers& bufs, uint32_t addr, const std::string& what) {
  auto it = bufs.find(addr);
  if (it == bufs.end()) throw std::logic_error("aimc compiler bug: " + what + " reads a buffer nothing wrote");
  return it->second;
}

// The currents of the two sides of a slice's pairs (Crossbar::mvm_side with an ideal device): in
// half level steps h = (1 - g_ratio) / (2 (L-1)), a level l puts the g+ cell at g_ratio + n+ h and
// the g- cell at g_ratio + n- h, n+- = 2 max(+-l, 0) (unipolar) or (L-1) +- l (balanced; pair_targets
// in numerics/device.h), so i+- = (codes . n+-) h / Cmax + g_ratio sum(codes) / Cmax: integer dot
// products first, as slice_currents.
std::array<Eigen::MatrixXd, 2> side_currents(const Eigen::MatrixXi& codes, const Eigen::MatrixXi& levels,
                                             int dac_bits, int bpc, double g_ratio, num::PairMode pair) {
  const int lm = num::cell_max_level(bpc);
  const double cmax = num::dac_max_code(dac_bits);
  const double h = (1.0 - g_ratio) / (2.0 * lm) / cmax;
  const Eigen::VectorXd base = codes.cast<double>().rowwise().sum() * (g_ratio / cmax);
  std::array<Eigen::MatrixXd, 2> out;
  for (int side = 0; side < 2; ++side) {
    const int sign = side == 0 ? 1 : -1;
    const Eigen::MatrixXi n = levels.unaryExpr([&](int l) {
      return pair == num::PairMode::balanced ? lm + sign * l : 2 * std::max(sign * l, 0);
    });
    out[size_t(side)] = (codes.cast<double>() * n.cast<double>()) * h;
    out[size_t(side)].colwise() += base;
  }
  return out;
}

MvmRun mvm_currents(const aimc_layer_t& L, const std::vector<SliceData>& slices, const num::Maps& in, int dac_bits,
                    int bpc, double g_ratio, num::PairMode pair) {
  MvmRun r;
  r.patches = num::im2col(in, {int(L.in_h), int(L.in_w), int(L.in_c)}, window_of(L), int(L.groups), float(L.in_zero));
  const bool serial = (L.flags & AIMC_LAYER_BIT_SERIAL) != 0;
  for (const auto& s : slices) {
    const Eigen::MatrixXi codes = r.patches.middleCols(s.slice.row_begin, s.slice.row_count).cast<int>();
    if (L.flags & AIMC_LAYER_SIGN_SPLIT) {
      r.sides.push_back(side_currents(codes, s.levels, dac_bits, bpc, g_ratio, pair));
      continue;
    }
    if (!serial) {
      r.cur.push_back(num::slice_currents(codes, s.levels, dac_bits, bpc, g_ratio));
      continue;
    }
    // Bit k of every code, driven at full scale: the currents of a 1-bit DAC.
    auto& planes = r.planes.emplace_back();
    for (int k = 0; k < dac_bits; ++k)
      planes.push_back(num::slice_currents(codes.unaryExpr([k](int c) { return (c >> k) & 1; }), s.levels, 1, bpc,
                                           g_ratio));
  }
  return r;
}

num::Maps mvm_finish(const aimc_layer_t& L, const std::vector<SliceData>& slices, const MvmRun& r, const float* bias,
                     int dac_bits, int adc_bits, long batch, AdcRecord* adc, long* clipped) {
  const long rows = r.patches.rows();
  Eigen::MatrixXf acc = Eigen::MatrixXf::Zero(rows, L.out_features);
  long total_cols = 0;
  for (const auto& s : slices) total_cols += s.slice.col_count;
  if (adc) adc->codes.resize(rows, total_cols);
  const int a_max = num::adc_max_code(adc_bits);
  auto tally = [&](const Eigen::MatrixXi& a) {
    if (!adc) return;
    adc->conversions += long(a.size());
    adc->saturated += long((a.array().abs() >= a_max).count());
  };
  long at = 0;
  for (size_t k = 0; k < slices.size(); ++k) {
    const auto& sl = slices[k].slice;
    if (!r.sides.empty()) {  // two unipolar counts, subtracted as the tile does
      const Eigen::MatrixXi p = num::adc_counts(r.sides[k][0], L.adc_full_scale, adc_bits);
      const Eigen::MatrixXi n = num::adc_counts(r.sides[k][1], L.adc_full_scale, adc_bits);
      if (adc) {
        const int u = num::adc_max_count(adc_bits);
        adc->conversions += long(p.size() + n.size());
        adc->saturated += long((p.array() >= u).count() + (n.array() >= u).count());
        adc->codes.middleCols(at, sl.col_count) = p - n;
      }
      acc.middleCols(sl.col_begin, sl.col_count) += num::phase_difference(p, n, adc_bits);
    } else if (r.planes.empty()) {
      const Eigen::MatrixXi a = num::adc_codes(r.cur[k], L.adc_full_scale, adc_bits);
      acc.middleCols(sl.col_begin, sl.col_count) += a.cast<float>();
      tally(a);
      if (adc) adc->codes.middleCols(at, sl.col_count) = a;
    } else {  // one conversion per input bit, shifted and added as the tile does
      Eigen::MatrixXd sum;
      for (size_t b = 0; b < r.planes[k].size(); ++b) {
        const Eigen::MatrixXi a = num::adc_codes(r.planes[k][b], L.adc_full_scale, adc_bits);
        tally(a);
        num::shift_add(sum, a, int(b));
      }
      acc.middleCols(sl.col_begin, sl.col_count) += num::shift_add_result(sum, dac_bits);
      if (adc) adc->codes.middleCols(at, sl.col_count) = sum.cast<int>();
    }
    at += sl.col_count;
  }
  num::DigitalSpec ds{L.acc_scale, (L.flags & AIMC_LAYER_RELU) != 0, L.out_quant_scale, dac_bits,
                      (L.flags & AIMC_LAYER_OUTPUT_I32) != 0};
  ds.out_zero = int(L.out_zero);
  ds.act_min = L.act_min;
  ds.act_max = L.act_max;
  // The parameters of the activation follow the op's biases in the table (bias = table + bias_offset).
  if (bias) {
    ds.act = program::layer_activation(L, bias - L.bias_offset);
    ds.column_scale = program::layer_column_scales(L, bias - L.bias_offset);
  }
  Eigen::MatrixXf out;
  const long c = num::digital_unit(acc, bias, ds, out);
  if (clipped) *clipped += c;
  // (batch * positions) x out_c, position-major = batch x (positions * out_c) in H, W, C order.
  num::Maps y(batch, rows / batch * L.out_features);
  for (long i = 0; i < rows; ++i)
    for (long j = 0; j < out.cols(); ++j) y(i / (rows / batch), (i % (rows / batch)) * out.cols() + j) = out(i, j);
  return y;
}

num::Maps digital_op(const aimc_layer_t& L, const Buffers& bufs, const std::vector<float>& table, int dac_bits,
                     long* clipped) {
  const num::Maps& in = load(bufs, L.in_addr, "a digital op");
  const num::MapShape s{int(L.in_h), int(L.in_w), int(L.in_c)};
  const num::Requant q = requant_of(L, dac_bits, table.data());
  switch (L.kind) {
    case AIMC_OP_MAXPOOL: return num::max_pool(in, s, window_of(L));
    case AIMC_OP_AVGPOOL:
      return num::avg_pool(in, s, window_of(L), (L.flags & AIMC_LAYER_COUNT_PAD) != 0, L.in_scale, int(L.in_zero), q, clipped);
    case AIMC_OP_ADD:
      return num::add(in, L.in_scale, int(L.in_zero), load(bufs, L.in2_addr, "an add"), L.in2_scale, int(L.in2_zero), q,
                      clipped, (L.flags & AIMC_LAYER_IN2_PER_CHANNEL) ? int(L.in_c) : 0);
    case AIMC_OP_MUL:
      return num::mul(in, L.in_scale, int(L.in_zero), load(bufs, L.in2_addr, "a mul"), L.in2_scale, int(L.in2_zero),
                      (L.flags & AIMC_LAYER_IN2_PER_CHANNEL) != 0, s, q, clipped);
    case AIMC_OP_CONCAT:
    case AIMC_OP_ACT: return num::requantize_codes(in, L.in_scale, int(L.in_zero), q, clipped);
    case AIMC_OP_SOFTMAX: return num::softmax(in, L.in_scale, int(L.in_zero), q, clipped);
    case AIMC_OP_DWCONV:
      return num::depthwise_conv(in, s, window_of(L), int(L.in_zero), table.data() + L.weight_offset, L.acc_scale,
                                 table.data() + L.bias_offset, q, clipped);
    default: throw std::logic_error("aimc compiler bug: digital_op of kind " + std::to_string(L.kind));
  }
}

}  // namespace aimc::compiler::exec
