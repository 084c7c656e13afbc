#include "numerics/activation.h"

#include <algorithm>
#include <cmath>

namespace aimc::num {

const char* to_string(ActKind k) {
  switch (k) {
    case ActKind::none: return "none";
    case ActKind::sigmoid: return "Sigmoid";
    case ActKind::tanh: return "Tanh";
    case ActKind::silu: return "SiLU";
    case ActKind::gelu_erf: return "GELU";
    case ActKind::gelu_tanh: return "GELU(tanh)";
    case ActKind::leaky_relu: return "LeakyRelu";
    case ActKind::prelu: return "PRelu";
    case ActKind::hard_sigmoid: return "HardSigmoid";
    case ActKind::hard_swish: return "HardSwish";
    case ActKind::elu: return "Elu";
  }
  return "unknown";
}

namespace {
// Both branches evaluate e^-|x|, which never overflows: 1 / (1 + e^-x) for x >= 0, e^x / (1 + e^x)
// below (the plain formula's e^-x overflows to inf for x < -88 and gives 0 correctly, but its
// rounding differs near 0 from the stable one's; one formula for every x keeps the error even).
float sigmoid_f(float x) {
  const float e = std::exp(-std::fabs(x));
  return x >= 0.0f ? 1.0f / (1.0f + e) : e / (1.0f + e);
}
}  // namespace

float activate(ActKind k, float x, float alpha, float beta) {
  switch (k) {
    case ActKind::none: return x;
    case ActKind::sigmoid: return sigmoid_f(x);
    case ActKind::tanh: return std::tanh(x);
    case ActKind::silu: return x * sigmoid_f(x);
    case ActKind::gelu_erf: return 0.5f * x * (1.0f + std::erf(x * 0.70710678f));
    case ActKind::gelu_tanh: return 0.5f * x * (1.0f + std::tanh(0.79788456f * (x + 0.044715f * x * x * x)));
    case ActKind::leaky_relu:
    case ActKind::prelu: return x >= 0.0f ? x : alpha * x;
    case ActKind::hard_sigmoid: return std::clamp(alpha * x + beta, 0.0f, 1.0f);
    case ActKind::hard_swish: return x * std::clamp(x / 6.0f + 0.5f, 0.0f, 1.0f);
    case ActKind::elu: return x >= 0.0f ? x : alpha * (std::exp(x) - 1.0f);
  }
  return x;
}

void apply_activation(float* y, long n, const Activation& a) {
  if (a.kind == ActKind::none) return;
  if (a.kind == ActKind::prelu) {
    const long stride = std::max(1L, a.channel_stride), ch = std::max(1L, a.channels);
    for (long i = 0; i < n; ++i) y[i] = activate(a.kind, y[i], a.slope[(i / stride) % ch], 0.0f);
    return;
  }
  for (long i = 0; i < n; ++i) y[i] = activate(a.kind, y[i], a.alpha, a.beta);
}

int activation_float_ops(ActKind k) {
  switch (k) {
    case ActKind::none: return 0;
    case ActKind::sigmoid: return 3;       // exp, add, divide
    case ActKind::tanh: return 1;
    case ActKind::silu: return 4;          // sigmoid, multiply
    case ActKind::gelu_erf: return 5;      // scale, erf, add, two multiplies
    case ActKind::gelu_tanh: return 8;     // cube (2), multiply-add (2), scale, tanh, add, multiply
    case ActKind::leaky_relu:
    case ActKind::prelu: return 2;         // compare, multiply
    case ActKind::hard_sigmoid: return 4;  // multiply, add, two compares
    case ActKind::hard_swish: return 5;    // hard sigmoid, multiply
    case ActKind::elu: return 3;           // compare, exp, multiply-subtract
  }
  return 0;
}

long activation_params(ActKind k, long channels) {
  switch (k) {
    case ActKind::leaky_relu:
    case ActKind::elu: return 1;
    case ActKind::hard_sigmoid: return 2;
    case ActKind::prelu: return channels;
    default: return 0;
  }
}

bool activation_monotone(ActKind k, float alpha) {
  switch (k) {
    case ActKind::none:
    case ActKind::sigmoid:
    case ActKind::tanh: return true;
    case ActKind::leaky_relu:
    case ActKind::hard_sigmoid:
    case ActKind::elu: return alpha >= 0.0f;
    default: return false;  // SiLU, GELU and HardSwish dip below 0; PReLU's slopes may be negative
  }
}

}  // namespace aimc::num
