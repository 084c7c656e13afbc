// Element-wise activation functions of the digital units (Sigmoid, Tanh, SiLU, GELU, LeakyReLU,
// PReLU, HardSigmoid, HardSwish, Elu), applied to a real value y before the output clamp and the
// requantization (digital_ops.h, Requant::act).
//
// The digital unit evaluates them in single precision (docs/chip-model.md, "Activations"): exp,
// erf and tanh are one operation of a special-function unit each, as softmax's exp already is, so
// the function's value is that of the C library in float, and the only error the chip adds is the
// output code's rounding (half an LSB). The compiler's float reference (Graph::forward) calls the
// same functions, so calibration sees what the chip computes.
//
// The kinds are the image format's (aimc_image.h, enum aimc_act): the numbers are part of the
// format and never change.
#pragma once

#include <string>

namespace aimc::num {

enum class ActKind : unsigned {
  none = 0,
  sigmoid = 1,       // 1 / (1 + e^-x)
  tanh = 2,
  silu = 3,          // x * sigmoid(x) (Swish)
  gelu_erf = 4,      // x / 2 * (1 + erf(x / sqrt 2))
  gelu_tanh = 5,     // x / 2 * (1 + tanh(sqrt(2 / pi) * (x + 0.044715 x^3)))
  leaky_relu = 6,    // x >= 0 ? x : alpha x
  prelu = 7,         // x >= 0 ? x : slope[channel] x
  hard_sigmoid = 8,  // max(0, min(1, alpha x + beta))
  hard_swish = 9,    // x * max(0, min(1, x / 6 + 1 / 2))
  elu = 10,          // x >= 0 ? x : alpha (e^x - 1)
};
inline constexpr unsigned kActKinds = 11;  // kinds 0 .. kActKinds - 1 exist

const char* to_string(ActKind k);

// One activation as an op applies it: its kind, its scalar parameters and, for PReLU, one slope
// per channel. The channel of element i of a buffer is (i / channel_stride) % channels: 1 for maps
// stored channel-last (H, W, C), the rows of a column-major positions x channels block otherwise.
struct Activation {
  ActKind kind = ActKind::none;
  float alpha = 0.0f;  // leaky_relu, elu: the slope / scale; hard_sigmoid: the slope
  float beta = 0.0f;   // hard_sigmoid: the offset
  const float* slope = nullptr;  // prelu: `channels` slopes
  long channels = 1;
  long channel_stride = 1;
};

// f(x) for the kinds without a per-channel parameter (prelu: pass its channel's slope as alpha).
float activate(ActKind k, float x, float alpha, float beta);
// Applies a in place to the n values at y (element i is the buffer's element i, for PReLU's channel).
void apply_activation(float* y, long n, const Activation& a);

// Float operations of the digital unit per element (exp, erf and tanh count one each, as in
// softmax's cost): what the energy and time of an activation are charged by.
int activation_float_ops(ActKind k);
// Scalar parameters the image carries for the kind (after the op's biases in the table):
// leaky_relu, elu 1 (alpha); hard_sigmoid 2 (alpha, beta); prelu one per output channel; else 0.
long activation_params(ActKind k, long channels);
// True when f is non-decreasing (with these parameters), so that a clamp before f is a clamp after
// it: f(clamp(y, a, b)) = clamp(f(y), f(a), f(b)).
bool activation_monotone(ActKind k, float alpha);

}  // namespace aimc::num
