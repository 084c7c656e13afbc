// The golden model: an ideal (noise-free, exact) execution of a compiled image, what the platform
// must produce with an ideal device. Also the C, H, W <-> H, W, C transposes of the host side.
#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "compile.h"
#include "numerics/converters.h"
#include "numerics/ideal_mvm.h"
#include "op_exec.h"

namespace aimc::compiler {

Eigen::MatrixXf chw_to_hwc(const Eigen::MatrixXf& x, const Shape& s) {
  if (x.cols() != s.size()) throw std::invalid_argument("chw_to_hwc: " + std::to_string(x.cols()) + " values per row for a " + to_string(s) + " map");
  if (s.h * s.w == 1) return x;
  Eigen::MatrixXf out(x.rows(), x.cols());
  for (int c = 0; c < s.c; ++c)
    for (int p = 0; p < s.h * s.w; ++p) out.col(long(p) * s.c + c) = x.col(long(c) * s.h * s.w + p);
  return out;
}

Eigen::MatrixXf hwc_to_chw(const Eigen::MatrixXf& x, const Shape& s) {
  if (x.cols() != s.size()) throw std::invalid_argument("hwc_to_chw: " + std::to_string(x.cols()) + " values per row for a " + to_string(s) + " map");
  if (s.h * s.w == 1) return x;
  Eigen::MatrixXf out(x.rows(), x.cols());
  for (int c = 0; c < s.c; ++c)
    for (int p = 0; p < s.h * s.w; ++p) out.col(long(c) * s.h * s.w + p) = x.col(long(p) * s.c + c);
  return out;
}

namespace {

// The slices of the first copy of an MVM op with their levels read back from the tile weights:
// the other copies hold the same levels (replication).
std::vector<exec::SliceData> slices_of(const SegmentView& seg, const aimc_layer_t& L) {
  std::vector<exec::SliceData> slices;
  const uint32_t per_copy = L.slice_count / std::max(1u, L.replicas);
  for (uint32_t k = L.first_slice; k < L.first_slice + per_copy; ++k) {
    const aimc_slice_t& sl = seg.slices[k];
    const TileWeights& tw = seg.tile_weights(sl.tile);
    exec::SliceData sd{sl, Eigen::MatrixXi(sl.row_count, sl.col_count)};
    for (uint32_t r = 0; r < sl.row_count; ++r)
      for (uint32_t c = 0; c < sl.col_count; ++c) sd.levels(r, c) = tw.level(sl.tile_row + r, sl.tile_col + c);
    slices.push_back(std::move(sd));
  }
  return slices;
}

}  // namespace

IdealRun execute_ideal(const ImageView& image, const Eigen::MatrixXf& inputs, int adc_bits, double g_ratio,
                       num::PairMode pair) {
  const auto& p0 = image.first_program();
  const auto& pl = image.last_program();
  if (inputs.cols() != long(p0.in_features))
    throw std::invalid_argument("execute_ideal: inputs have " + std::to_string(inputs.cols()) + " features, image expects " +
                                std::to_string(p0.in_features));
  if (adc_bits < num::kAdcBitsMin || adc_bits > num::kAdcBitsMax)
    throw std::invalid_argument("execute_ideal: adc_bits must be in [" + std::to_string(num::kAdcBitsMin) + ", " +
                                std::to_string(num::kAdcBitsMax) + "]");
  const int dac_bits = int(p0.dac_bits);
  const int cmax = num::dac_max_code(dac_bits);
  // Shapes from META when present (an MLP image without them is a vector in and out).
  Shape in_shape{int(p0.in_features), 1, 1}, out_shape{int(pl.out_features), 1, 1};
  if (image.meta.is_object() && image.meta.contains("input") && image.meta["input"].contains("shape")) {
    const auto& a = image.meta["input"]["shape"];
    in_shape = {a[0].get<int>(), a[1].get<int>(), a[2].get<int>()};
    const auto& b = image.meta["output"]["shape"];
    out_shape = {b[0].get<int>(), b[1].get<int>(), b[2].get<int>()};
  }
  const long batch = inputs.rows();
  IdealRun result;
  exec::Buffers run;
  {
    const Eigen::MatrixXf x = chw_to_hwc(inputs, in_shape);
    num::Maps c(x.rows(), x.cols());
    for (Eigen::Index i = 0; i < x.rows(); ++i)
      for (Eigen::Index j = 0; j < x.cols(); ++j)
        c(i, j) = float(num::input_code(double(x(i, j)), p0.in_scale, int(p0.in_zero), cmax));
    run[p0.in_addr] = c;
  }
  for (const SegmentView& seg : image.segments) {
    for (const aimc_layer_t& L : seg.layers) {
      const num::Maps& in = exec::load(run, L.in_addr, "execute_ideal");
      result.codes.push_back(in.cast<int>());
      num::Maps y;
      if (L.kind == AIMC_OP_MVM) {
        const std::vector<exec::SliceData> slices = slices_of(seg, L);
        const exec::MvmRun mr =
            exec::mvm_currents(L, slices, in, dac_bits, int(seg.program.bits_per_cell), g_ratio, pair);
        exec::AdcRecord adc;
        y = exec::mvm_finish(L, slices, mr, seg.bias.data() + L.bias_offset, dac_bits, adc_bits, batch, &adc, nullptr);
        result.adc.push_back(std::move(adc.codes));
      } else {
        y = exec::digital_op(L, run, seg.bias, dac_bits, nullptr);
        result.adc.emplace_back();
      }
      exec::store(run, L, y, batch);
    }
  }
  const num::Maps& out = exec::load(run, pl.out_addr, "execute_ideal output");
  result.output = hwc_to_chw(Eigen::MatrixXf(out), out_shape).cast<int>();
  result.logits = result.output.cast<float>() * pl.out_scale;
  return result;
}

}  // namespace aimc::compiler
