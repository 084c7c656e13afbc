// Golden-model pass: how well the ideal quantized pipeline (the calibration pass's outputs, the
// arithmetic execute_ideal replays) agrees with the float network on the calibration images.
#include <algorithm>
#include <cmath>
#include <iomanip>
#include <sstream>

#include "passes/context.h"

namespace aimc::compiler::passes {

void compare_golden(CompileContext& ctx) {
  const Eigen::MatrixXf q_logits = hwc_to_chw(Eigen::MatrixXf(ctx.last_y) * ctx.out_scale, ctx.g.out_shape());
  const Eigen::MatrixXf& f_logits = ctx.acts[size_t(ctx.g.output)];
  long agree = 0;
  for (Eigen::Index rr = 0; rr < ctx.n_cal; ++rr) {
    Eigen::Index a, b;
    q_logits.row(rr).maxCoeff(&a);
    f_logits.row(rr).maxCoeff(&b);
    agree += a == b;
  }
  ctx.agree = agree;
  ctx.max_err = (q_logits - f_logits).cwiseAbs().maxCoeff();
  // The user hears of a network that the quantization alone changes (issue 20): on the terminal,
  // not only in the report. Top-1 for a classifier, the rms error for any network.
  const double f_rms = std::sqrt(f_logits.squaredNorm() / double(std::max<Eigen::Index>(1, f_logits.size())));
  const double rms = std::sqrt((q_logits - f_logits).squaredNorm() / double(std::max<Eigen::Index>(1, f_logits.size())));
  const double top1 = double(agree) / double(std::max<Eigen::Index>(1, ctx.n_cal));
  const bool classifier = ctx.g.out_features() > 1;
  if ((classifier && top1 < kGoldenTop1Warn) || (f_rms > 0.0 && rms > kGoldenRmsWarn * f_rms)) {
    std::ostringstream w;
    w << std::fixed << std::setprecision(1) << "with ideal devices the quantized network ";
    if (classifier) w << "agrees with the float network on " << 100.0 * top1 << " % of the " << ctx.n_cal
                      << " calibration images (top-1) and ";
    w << "differs from it by " << 100.0 * rms / std::max(f_rms, 1e-30) << " % rms (warned below "
      << 100.0 * kGoldenTop1Warn << " % top-1 or above " << 100.0 * kGoldenRmsWarn
      << " % rms): the network is that sensitive to " << ctx.dac_bits
      << "-bit activations and the cell levels; per-column weight scales (--compile-option weight_scales="
         "automatic), another activation_percentile, or training with the chip's noise "
         "(docs/compiler.md) may help";
    ctx.warnings.push_back(w.str());
  }
}

}  // namespace aimc::compiler::passes
