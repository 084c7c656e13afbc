// The digital side of the chip as pure functions on activation codes: the im2col gather that
// feeds the tiles, requantization with a zero point and an output clamp, and the ops the digital
// units execute (pooling, residual add, concatenation, softmax, depthwise convolution).
//
// The sequencer and the compiler's ideal executor both call these, so an ideal device gives the
// same codes on the platform as in the compiler, bit for bit.
//
// Maps are row-major matrices with one row per image holding the codes of an H x W x C map in
// H, W, C order (channels of a pixel contiguous, as in the activation SRAM). Codes are carried as
// float-valued integers. A code q of a tensor with (scale, zero) stands for scale * (q - zero).
#pragma once

#include <Eigen/Dense>
#include <cmath>
#include <limits>

#include "numerics/activation.h"

namespace aimc::num {

// std::round (halves away from zero, signed zeros and NaN kept), without the libm call that
// std::round and Eigen's round() make on x86-64: trunc is one instruction from SSE4.1 on (the
// build's x86-64-v2), and x - trunc(x) is exact in float (Sterbenz), so the result is std::round's
// bit for bit (tests/numerics/test_converters.cpp checks it). The quantizers round every code.
inline float round_half_away(float x) {
  const float t = std::trunc(x);
  return t + std::copysign(std::fabs(x - t) >= 0.5f ? 1.0f : 0.0f, x);
}

// Eigen functor form, for array expressions (x.unaryExpr(RoundHalfAway())).
struct RoundHalfAway {
  float operator()(float x) const { return round_half_away(x); }
};

using Maps = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

struct MapShape {
  int h = 1, w = 1, c = 1;
  long size() const { return long(h) * w * c; }
};

struct Window {
  int kh = 1, kw = 1, stride_h = 1, stride_w = 1;
  int pad_t = 0, pad_l = 0, pad_b = 0, pad_r = 0;
  int out_h(int h) const { return (h + pad_t + pad_b - kh) / stride_h + 1; }
  int out_w(int w) const { return (w + pad_l + pad_r - kw) / stride_w + 1; }
};

// Patches of every image: row (v * out_h + oy) * out_w + ox holds the kh x kw x C patch of output
// position (oy, ox) of image v in the order (group, ky, kx, channel in group), padding = pad_code.
// in: batch x in.size(). Result: (batch * out_h * out_w) x (kh * kw * in.c).
Maps im2col(const Maps& in, const MapShape& shape, const Window& w, int groups, float pad_code);

// Output quantization of a real value y: the activation f (none by default), then clamp f(y) to
// [act_min, act_max], then code = clamp(round(y / scale) + zero, 0, 2^bits - 1), or with int32 the
// value round(y / scale) saturated to the int32 range (zero ignored).
struct Requant {
  float scale = 1.0f;
  int zero = 0;
  int bits = 8;
  bool int32 = false;
  float act_min = -std::numeric_limits<float>::infinity();
  float act_max = std::numeric_limits<float>::infinity();
  Activation act = {};  // applied before the clamp (activation.h)
};
// In place on the n values at y; returns how many were clipped by the code range (not by the
// act clamp).
long requantize(float* y, long n, const Requant& q);

// Window max of codes (the output keeps the input's scale and zero). Pads never win.
Maps max_pool(const Maps& in, const MapShape& shape, const Window& w);
// Window mean of the values, over the in-map elements (or over kh * kw with count_pad).
// Output shape: out_h x out_w x C. Returns the requantized codes; *clipped counts clipping.
Maps avg_pool(const Maps& in, const MapShape& shape, const Window& w, bool count_pad, float in_scale,
              int in_zero, const Requant& out, long* clipped = nullptr);
// Elementwise a_scale * (a - a_zero) + b_scale * (b - b_zero), requantized; with channels > 0, b
// holds one value per channel of a's channel-last maps (1 x 1 x channels, broadcast over the pixels).
Maps add(const Maps& a, float a_scale, int a_zero, const Maps& b, float b_scale, int b_zero,
         const Requant& out, long* clipped = nullptr, int channels = 0);
// Elementwise a_scale * (a - a_zero) * b_scale * (b - b_zero), requantized. a is an H x W x C map
// (shape); b the same map, or with b_per_channel one value per channel (1 x 1 x C, broadcast over
// the pixels: a squeeze-excitation gate).
Maps mul(const Maps& a, float a_scale, int a_zero, const Maps& b, float b_scale, int b_zero, bool b_per_channel,
         const MapShape& shape, const Requant& out, long* clipped = nullptr);
// Requantizes codes of (in_scale, in_zero) to `out` (the copy a concatenation makes).
Maps requantize_codes(const Maps& in, float in_scale, int in_zero, const Requant& out,
                      long* clipped = nullptr);
// Softmax over the channels of each image's 1 x 1 x C map, requantized.
Maps softmax(const Maps& in, float in_scale, int in_zero, const Requant& out, long* clipped = nullptr);
// Depthwise convolution in the digital unit: acc[o] = sum over the window of w[(ky * kw + kx) * C + o]
// * (code - in_zero) (pads contribute 0); y = acc * acc_scale + bias[o], requantized.
// weights: kh * kw * C integers (as floats), bias: C floats.
Maps depthwise_conv(const Maps& in, const MapShape& shape, const Window& w, int in_zero, const float* weights,
                    float acc_scale, const float* bias, const Requant& out, long* clipped = nullptr);

}  // namespace aimc::num
