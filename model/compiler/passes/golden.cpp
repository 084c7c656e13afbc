// Golden-model pass: how well the ideal quantized pipeline (the calibration pass's outputs, the
// arithmetic execute_ideal replays) agrees with the float network on the calibration images.
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
}

}  // namespace aimc::compiler::passes
