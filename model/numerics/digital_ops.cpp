#include "numerics/digital_ops.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <vector>
#include <string>

namespace aimc::num {

namespace {
void check_shape(const Maps& in, const MapShape& s, const char* what) {
  if (in.cols() != s.size())
    throw std::invalid_argument(std::string(what) + ": input has " + std::to_string(in.cols()) +
                                " codes per image, the map " + std::to_string(s.h) + "x" + std::to_string(s.w) +
                                "x" + std::to_string(s.c) + " needs " + std::to_string(s.size()));
}
void check_window(const MapShape& s, const Window& w, const char* what) {
  if (w.kh < 1 || w.kw < 1 || w.stride_h < 1 || w.stride_w < 1 || w.pad_t < 0 || w.pad_l < 0 || w.pad_b < 0 ||
      w.pad_r < 0 || w.out_h(s.h) < 1 || w.out_w(s.w) < 1)
    throw std::invalid_argument(std::string(what) + ": window does not fit the map");
}
// Pooling: besides fitting, every window must hold an element of the map (pads below the window;
// the program validator refuses others), or its max would be -inf and its mean 0 / 0.
void check_pool_window(const MapShape& s, const Window& w, const char* what) {
  check_window(s, w, what);
  if (w.pad_t >= w.kh || w.pad_b >= w.kh || w.pad_l >= w.kw || w.pad_r >= w.kw)
    throw std::invalid_argument(std::string(what) + ": a pad is not below the window (a window would be empty)");
}
long finish(long clipped, long* out) {
  if (out) *out += clipped;
  return clipped;
}
}  // namespace

Maps im2col(const Maps& in, const MapShape& s, const Window& w, int groups, float pad_code) {
  check_shape(in, s, "im2col");
  check_window(s, w, "im2col");
  if (groups < 1 || s.c % groups != 0) throw std::invalid_argument("im2col: channels not divisible by groups");
  const int oh = w.out_h(s.h), ow = w.out_w(s.w), cg = s.c / groups;
  const long k_group = long(w.kh) * w.kw * cg;
  const long positions = long(oh) * ow;
  Maps out(in.rows() * positions, k_group * groups);
  for (Eigen::Index v = 0; v < in.rows(); ++v) {
    const float* img = in.row(v).data();
    for (int oy = 0; oy < oh; ++oy)
      for (int ox = 0; ox < ow; ++ox) {
        float* dst = out.row((v * oh + oy) * ow + ox).data();
        for (int ky = 0; ky < w.kh; ++ky) {
          const int y = oy * w.stride_h - w.pad_t + ky;
          for (int kx = 0; kx < w.kw; ++kx) {
            const int x = ox * w.stride_w - w.pad_l + kx;
            const bool inside = y >= 0 && y < s.h && x >= 0 && x < s.w;
            const float* px = inside ? img + (long(y) * s.w + x) * s.c : nullptr;
            const long k = long(ky) * w.kw + kx;
            if (groups == 1) {
              float* d = dst + k * cg;
              if (inside) std::copy(px, px + cg, d);
              else std::fill(d, d + cg, pad_code);
            } else {
              for (int g = 0; g < groups; ++g) {
                float* d = dst + g * k_group + k * cg;
                if (inside) std::copy(px + long(g) * cg, px + long(g + 1) * cg, d);
                else std::fill(d, d + cg, pad_code);
              }
            }
          }
        }
      }
  }
  return out;
}

long requantize(float* y, long n, const Requant& q) {
  if (!(q.scale > 0.0f) || !std::isfinite(q.scale))
    throw std::invalid_argument("requantize: scale must be finite and > 0");
  float lo, hi;
  if (q.int32) {
    // Largest floats within int32: -2^31 is exact; 2^31 - 128 is the float below 2^31.
    lo = -2147483648.0f;
    hi = 2147483520.0f;
  } else {
    if (q.bits < 1 || q.bits > 24) throw std::invalid_argument("requantize: bits must be in [1, 24]");
    lo = 0.0f;
    hi = float((1 << q.bits) - 1);
  }
  const float zero = q.int32 ? 0.0f : float(q.zero);
  apply_activation(y, n, q.act);
  long clipped = 0;
  for (long i = 0; i < n; ++i) {
    float v = std::clamp(y[i], q.act_min, q.act_max);
    v = round_half_away(v / q.scale) + zero;
    if (v < lo || v > hi) ++clipped;
    y[i] = std::clamp(v, lo, hi);
  }
  return clipped;
}

Maps max_pool(const Maps& in, const MapShape& s, const Window& w) {
  check_shape(in, s, "max_pool");
  check_pool_window(s, w, "max_pool");
  const int oh = w.out_h(s.h), ow = w.out_w(s.w);
  Maps out(in.rows(), long(oh) * ow * s.c);
  for (Eigen::Index v = 0; v < in.rows(); ++v) {
    const float* img = in.row(v).data();
    float* o = out.row(v).data();
    for (int oy = 0; oy < oh; ++oy)
      for (int ox = 0; ox < ow; ++ox) {
        float* d = o + (long(oy) * ow + ox) * s.c;
        std::fill(d, d + s.c, -std::numeric_limits<float>::infinity());
        for (int ky = 0; ky < w.kh; ++ky) {
          const int y = oy * w.stride_h - w.pad_t + ky;
          if (y < 0 || y >= s.h) continue;
          for (int kx = 0; kx < w.kw; ++kx) {
            const int x = ox * w.stride_w - w.pad_l + kx;
            if (x < 0 || x >= s.w) continue;
            const float* px = img + (long(y) * s.w + x) * s.c;
            for (int c = 0; c < s.c; ++c) d[c] = std::max(d[c], px[c]);
          }
        }
      }
  }
  return out;
}

Maps avg_pool(const Maps& in, const MapShape& s, const Window& w, bool count_pad, float in_scale, int in_zero,
              const Requant& q, long* clipped) {
  check_shape(in, s, "avg_pool");
  check_pool_window(s, w, "avg_pool");
  const int oh = w.out_h(s.h), ow = w.out_w(s.w);
  Maps out(in.rows(), long(oh) * ow * s.c);
  std::vector<double> acc(size_t(s.c));
  for (Eigen::Index v = 0; v < in.rows(); ++v) {
    const float* img = in.row(v).data();
    float* o = out.row(v).data();
    for (int oy = 0; oy < oh; ++oy)
      for (int ox = 0; ox < ow; ++ox) {
        std::fill(acc.begin(), acc.end(), 0.0);
        int n = 0;
        for (int ky = 0; ky < w.kh; ++ky) {
          const int y = oy * w.stride_h - w.pad_t + ky;
          if (y < 0 || y >= s.h) continue;
          for (int kx = 0; kx < w.kw; ++kx) {
            const int x = ox * w.stride_w - w.pad_l + kx;
            if (x < 0 || x >= s.w) continue;
            const float* px = img + (long(y) * s.w + x) * s.c;
            for (int c = 0; c < s.c; ++c) acc[size_t(c)] += double(px[c]) - in_zero;  // exact integers
            ++n;
          }
        }
        const int div = count_pad ? w.kh * w.kw : std::max(n, 1);
        float* d = o + (long(oy) * ow + ox) * s.c;
        for (int c = 0; c < s.c; ++c) d[c] = float(acc[size_t(c)] / div) * in_scale;
      }
  }
  finish(requantize(out.data(), long(out.size()), q), clipped);
  return out;
}

Maps add(const Maps& a, float a_scale, int a_zero, const Maps& b, float b_scale, int b_zero, const Requant& q,
         long* clipped, int channels) {
  if (channels > 0) {  // b: one value per channel, broadcast over the pixels
    if (a.rows() != b.rows() || b.cols() != channels || a.cols() % channels != 0)
      throw std::invalid_argument("add: the per-channel operand does not fit the map");
    Maps out(a.rows(), a.cols());
    for (Eigen::Index v = 0; v < a.rows(); ++v)
      for (Eigen::Index i = 0; i < a.cols(); ++i)
        out(v, i) = (a(v, i) - float(a_zero)) * a_scale + (b(v, i % channels) - float(b_zero)) * b_scale;
    finish(requantize(out.data(), long(out.size()), q), clipped);
    return out;
  }
  if (a.rows() != b.rows() || a.cols() != b.cols()) throw std::invalid_argument("add: operand shapes differ");
  Maps out = ((a.array() - float(a_zero)) * a_scale + (b.array() - float(b_zero)) * b_scale).matrix();
  finish(requantize(out.data(), long(out.size()), q), clipped);
  return out;
}

Maps mul(const Maps& a, float a_scale, int a_zero, const Maps& b, float b_scale, int b_zero, bool b_per_channel,
         const MapShape& s, const Requant& q, long* clipped) {
  check_shape(a, s, "mul");
  if (b.rows() != a.rows() || b.cols() != (b_per_channel ? long(s.c) : s.size()))
    throw std::invalid_argument("mul: the second input has " + std::to_string(b.cols()) + " codes per image, expected " +
                                std::to_string(b_per_channel ? long(s.c) : s.size()));
  Maps out(a.rows(), a.cols());
  for (Eigen::Index v = 0; v < a.rows(); ++v)
    for (Eigen::Index i = 0; i < a.cols(); ++i) {
      const float bv = b(v, b_per_channel ? i % s.c : i);
      out(v, i) = ((a(v, i) - float(a_zero)) * a_scale) * ((bv - float(b_zero)) * b_scale);
    }
  finish(requantize(out.data(), long(out.size()), q), clipped);
  return out;
}

Maps requantize_codes(const Maps& in, float in_scale, int in_zero, const Requant& q, long* clipped) {
  Maps out = ((in.array() - float(in_zero)) * in_scale).matrix();
  finish(requantize(out.data(), long(out.size()), q), clipped);
  return out;
}

Maps softmax(const Maps& in, float in_scale, int in_zero, const Requant& q, long* clipped) {
  Maps out(in.rows(), in.cols());
  for (Eigen::Index v = 0; v < in.rows(); ++v) {
    const float m = in.row(v).maxCoeff();
    double sum = 0.0;
    for (Eigen::Index c = 0; c < in.cols(); ++c) {
      const float e = std::exp((in(v, c) - m) * in_scale);
      out(v, c) = e;
      sum += e;
    }
    for (Eigen::Index c = 0; c < in.cols(); ++c) out(v, c) = float(out(v, c) / sum);
  }
  (void)in_zero;  // softmax is shift invariant: the zero point cancels
  finish(requantize(out.data(), long(out.size()), q), clipped);
  return out;
}

Maps depthwise_conv(const Maps& in, const MapShape& s, const Window& w, int in_zero, const float* weights,
                    float acc_scale, const float* bias, const Requant& q, long* clipped) {
  check_shape(in, s, "depthwise_conv");
  check_window(s, w, "depthwise_conv");
  const int oh = w.out_h(s.h), ow = w.out_w(s.w);
  Maps out(in.rows(), long(oh) * ow * s.c);
  std::vector<float> acc(size_t(s.c));
  for (Eigen::Index v = 0; v < in.rows(); ++v) {
    const float* img = in.row(v).data();
    float* o = out.row(v).data();
    for (int oy = 0; oy < oh; ++oy)
      for (int ox = 0; ox < ow; ++ox) {
        // Integer products and sums below 2^24 are exact in float (8-bit codes, 8-bit weights,
        // windows up to 256 taps), so the order of summation does not matter.
        std::fill(acc.begin(), acc.end(), 0.0f);
        for (int ky = 0; ky < w.kh; ++ky) {
          const int y = oy * w.stride_h - w.pad_t + ky;
          if (y < 0 || y >= s.h) continue;
          for (int kx = 0; kx < w.kw; ++kx) {
            const int x = ox * w.stride_w - w.pad_l + kx;
            if (x < 0 || x >= s.w) continue;
            const float* px = img + (long(y) * s.w + x) * s.c;
            const float* wk = weights + (long(ky) * w.kw + kx) * s.c;
            for (int c = 0; c < s.c; ++c) acc[size_t(c)] += (px[c] - float(in_zero)) * wk[c];
          }
        }
        float* d = o + (long(oy) * ow + ox) * s.c;
        for (int c = 0; c < s.c; ++c) d[c] = acc[size_t(c)] * acc_scale + (bias ? bias[c] : 0.0f);
      }
  }
  finish(requantize(out.data(), long(out.size()), q), clipped);
  return out;
}

}  // namespace aimc::num
