// Float reference of the graph IR. Convolutions run as im2col + one Eigen GEMM per image and group
// (a 1x1, stride-1, unpadded convolution multiplies the input map in place), which keeps a
// MobileNet-sized network well under a second per image; pools, adds and softmax are plain loops.
#include "graph.h"

#include <algorithm>
#include <climits>
#include <cmath>
#include <stdexcept>

namespace aimc::compiler {
namespace {

using RowMatrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
constexpr float kInf = std::numeric_limits<float>::infinity();

std::string describe(const Op& op) { return "op '" + op.name + "' (" + to_string(op.kind) + ")"; }

[[noreturn]] void op_fail(const std::string& graph, const Op& op, const std::string& msg) {
  throw std::invalid_argument("network '" + graph + "': " + describe(op) + ": " + msg);
}

// Output size of a window sliding over `in` elements (floor mode, as ONNX with ceil_mode = 0).
// In long: `in` and the pads are ints each, their sum need not be (infer_shape bounds it).
int window_out(int in, int k, int stride, int pad_begin, int pad_end) {
  return int((long(in) + pad_begin + pad_end - k) / stride + 1);
}

// The op's activation on y (batch x C*H*W, channel-major): PRelu's channel of column j is j / (H W).
void apply_act(const Op& op, const Shape& out, Eigen::MatrixXf& y) {
  if (op.act == num::ActKind::none) return;
  const long plane = std::max(1L, long(out.h) * out.w);
  for (Eigen::Index j = 0; j < y.cols(); ++j) {
    const float alpha = op.act == num::ActKind::prelu ? op.act_slope(j / plane) : op.act_alpha;
    for (Eigen::Index b = 0; b < y.rows(); ++b) y(b, j) = num::activate(op.act, y(b, j), alpha, op.act_beta);
  }
}

void apply_clamp(const Op& op, Eigen::MatrixXf& y) {
  if (op.act_min > -kInf) y = y.cwiseMax(op.act_min);
  if (op.act_max < kInf) y = y.cwiseMin(op.act_max);
}

// One image of a convolution: `in` is the C x H x W map, `out` the O x OH x OW map (contiguous).
void conv_image(const Op& op, const float* in, const Shape& is, const Shape& os, float* out,
                std::vector<float>& col) {
  const int cin_g = op.cin_per_group();
  const int cout_g = op.out_channels() / op.groups;
  const long in_plane = long(is.h) * is.w;
  const long positions = long(os.h) * os.w;
  const long k = long(op.kh) * op.kw * cin_g;
  const bool pointwise = op.kh == 1 && op.kw == 1 && op.stride_h == 1 && op.stride_w == 1 &&
                         op.pad_t == 0 && op.pad_l == 0 && op.pad_b == 0 && op.pad_r == 0;
  Eigen::Map<RowMatrix> y(out, op.out_channels(), positions);
  for (int g = 0; g < op.groups; ++g) {
    const float* x = in + long(g) * cin_g * in_plane;
    const float* cols = x;  // a pointwise convolution reads the map as its K x P matrix
    if (!pointwise) {
      col.resize(size_t(k * positions));
      // Row (ky, kx, ci) of the K x P matrix holds x[ci, oy*sh + ky - pt, ox*sw + kx - pl].
      for (int ky = 0; ky < op.kh; ++ky)
        for (int kx = 0; kx < op.kw; ++kx)
          for (int ci = 0; ci < cin_g; ++ci) {
            float* row = col.data() + ((long(ky) * op.kw + kx) * cin_g + ci) * positions;
            const float* plane = x + ci * in_plane;
            for (int oy = 0; oy < os.h; ++oy) {
              float* dst = row + long(oy) * os.w;
              const int iy = oy * op.stride_h + ky - op.pad_t;
              if (iy < 0 || iy >= is.h) {
                std::fill(dst, dst + os.w, 0.0f);
                continue;
              }
              const float* src = plane + long(iy) * is.w;
              for (int ox = 0; ox < os.w; ++ox) {
                const int ix = ox * op.stride_w + kx - op.pad_l;
                dst[ox] = (ix >= 0 && ix < is.w) ? src[ix] : 0.0f;
              }
            }
          }
      cols = col.data();
    }
    Eigen::Map<const RowMatrix> xm(cols, k, positions);
    y.middleRows(long(g) * cout_g, cout_g).noalias() = op.weight.middleRows(long(g) * cout_g, cout_g) * xm;
  }
  y.colwise() += op.bias;
}

void pool_image(const Op& op, const float* in, const Shape& is, const Shape& os, float* out) {
  const bool max = op.kind == OpKind::MaxPool;
  for (int c = 0; c < is.c; ++c) {
    const float* plane = in + long(c) * is.h * is.w;
    for (int oy = 0; oy < os.h; ++oy) {
      const int y0 = oy * op.stride_h - op.pad_t;
      const int ylo = std::max(y0, 0), yhi = std::min(y0 + op.kh, is.h);
      for (int ox = 0; ox < os.w; ++ox) {
        const int x0 = ox * op.stride_w - op.pad_l;
        const int xlo = std::max(x0, 0), xhi = std::min(x0 + op.kw, is.w);
        float acc = max ? -kInf : 0.0f;
        for (int iy = ylo; iy < yhi; ++iy)
          for (int ix = xlo; ix < xhi; ++ix) {
            const float v = plane[long(iy) * is.w + ix];
            acc = max ? std::max(acc, v) : acc + v;
          }
        if (!max) {
          const long count = op.count_include_pad ? long(op.kh) * op.kw : long(yhi - ylo) * (xhi - xlo);
          acc = count > 0 ? acc / float(count) : 0.0f;
        }
        out[(long(c) * os.h + oy) * os.w + ox] = acc;
      }
    }
  }
}

}  // namespace

std::string to_string(const Shape& s) {
  return std::to_string(s.c) + "x" + std::to_string(s.h) + "x" + std::to_string(s.w);
}

const char* to_string(OpKind k) {
  switch (k) {
    case OpKind::Conv: return "Conv";
    case OpKind::MaxPool: return "MaxPool";
    case OpKind::AvgPool: return "AvgPool";
    case OpKind::GlobalAvgPool: return "GlobalAvgPool";
    case OpKind::Add: return "Add";
    case OpKind::Concat: return "Concat";
    case OpKind::Softmax: return "Softmax";
    case OpKind::Flatten: return "Flatten";
    case OpKind::Activation: return "Activation";
    case OpKind::Mul: return "Mul";
  }
  return "?";
}

// ---- Graph ----

int Graph::add_tensor(const std::string& tensor_name, Shape shape) {
  if (shape.c <= 0 || shape.h <= 0 || shape.w <= 0)
    throw std::invalid_argument("network '" + name + "': tensor '" + tensor_name + "' has empty shape " +
                                to_string(shape));
  tensors.push_back(Tensor{tensor_name, shape});
  return int(tensors.size()) - 1;
}

int Graph::add_op(Op op) {
  const std::string out_name = op.name + "_out";
  return add_op(std::move(op), out_name);
}

int Graph::add_op(Op op, const std::string& out_name) {
  const Shape out = infer_shape(op);
  op.output = add_tensor(out_name, out);
  ops.push_back(std::move(op));
  return int(ops.size()) - 1;
}

Shape Graph::infer_shape(const Op& op) const {
  auto fail = [&](const std::string& msg) { op_fail(name, op, msg); };
  const size_t want = op.kind == OpKind::Add || op.kind == OpKind::Mul ? 2 : 1;
  if (op.kind == OpKind::Concat ? op.inputs.empty() : op.inputs.size() != want)
    fail("takes " + std::string(op.kind == OpKind::Concat ? "at least 1" : std::to_string(want)) +
         " input(s), has " + std::to_string(op.inputs.size()));
  std::vector<Shape> in;
  for (int t : op.inputs) {
    if (t < 0 || size_t(t) >= tensors.size())
      fail("input tensor index " + std::to_string(t) + " out of range (graph has " +
           std::to_string(tensors.size()) + " tensors)");
    in.push_back(tensors[size_t(t)].shape);
  }
  if (!(op.act_min <= op.act_max))
    fail("clamp minimum " + std::to_string(op.act_min) + " exceeds maximum " + std::to_string(op.act_max));
  const Shape& x = in[0];
  auto check_window = [&](bool pool) {
    if (op.kh <= 0 || op.kw <= 0 || op.stride_h <= 0 || op.stride_w <= 0)
      fail("kernel " + std::to_string(op.kh) + "x" + std::to_string(op.kw) + " and stride " +
           std::to_string(op.stride_h) + "x" + std::to_string(op.stride_w) + " must be positive");
    if (op.pad_t < 0 || op.pad_l < 0 || op.pad_b < 0 || op.pad_r < 0) fail("negative padding");
    // Positions in the padded map are ints in conv_image / pool_image.
    const long padded_h = long(x.h) + op.pad_t + op.pad_b, padded_w = long(x.w) + op.pad_l + op.pad_r;
    if (padded_h > INT_MAX || padded_w > INT_MAX)
      fail("the padded input (" + std::to_string(padded_h) + " x " + std::to_string(padded_w) + ") is larger than " +
           std::to_string(INT_MAX) + " in a dimension");
    // A pool window entirely in the padding would have no element to take the max or mean of.
    if (pool && (op.pad_t >= op.kh || op.pad_b >= op.kh || op.pad_l >= op.kw || op.pad_r >= op.kw))
      fail("padding must be smaller than the " + std::to_string(op.kh) + "x" + std::to_string(op.kw) + " window");
    if (padded_h < op.kh || padded_w < op.kw)
      fail("window " + std::to_string(op.kh) + "x" + std::to_string(op.kw) + " is larger than the padded input " +
           to_string(x));
  };
  switch (op.kind) {
    case OpKind::Conv: {
      if (op.groups <= 0) fail("groups must be positive, got " + std::to_string(op.groups));
      check_window(false);
      if (op.weight.rows() == 0 || op.weight.cols() == 0) fail("empty weight");
      if (op.weight.cols() % (long(op.kh) * op.kw) != 0)
        fail("weight has " + std::to_string(op.weight.cols()) + " columns, not a multiple of the " +
             std::to_string(op.kh) + "x" + std::to_string(op.kw) + " kernel");
      if (long(op.cin_per_group()) * op.groups != x.c)
        fail("weight expects " + std::to_string(op.cin_per_group()) + " input channels per group x " +
             std::to_string(op.groups) + " groups but the input " + to_string(x) + " has " + std::to_string(x.c));
      if (op.out_channels() % op.groups != 0)
        fail(std::to_string(op.out_channels()) + " output channels do not divide into " + std::to_string(op.groups) +
             " groups");
      if (op.bias.size() != op.out_channels())
        fail(std::to_string(op.bias.size()) + " biases for " + std::to_string(op.out_channels()) + " output channels");
      return Shape{op.out_channels(), window_out(x.h, op.kh, op.stride_h, op.pad_t, op.pad_b),
                   window_out(x.w, op.kw, op.stride_w, op.pad_l, op.pad_r)};
    }
    case OpKind::MaxPool:
    case OpKind::AvgPool:
      check_window(true);
      return Shape{x.c, window_out(x.h, op.kh, op.stride_h, op.pad_t, op.pad_b),
                   window_out(x.w, op.kw, op.stride_w, op.pad_l, op.pad_r)};
    case OpKind::GlobalAvgPool: return Shape{x.c, 1, 1};
    case OpKind::Add:
      if (in[1] != in[0] && in[1] != Shape{x.c, 1, 1})
        fail("input shapes differ: " + to_string(in[0]) + " and " + to_string(in[1]) + " (the second may also be " +
             to_string(Shape{x.c, 1, 1}) + ": one value per channel)");
      return x;
    case OpKind::Concat: {
      long channels = 0;
      for (size_t i = 0; i < in.size(); ++i) {
        if (in[i].h != x.h || in[i].w != x.w)
          fail("input " + std::to_string(i) + " is " + to_string(in[i]) + " but input 0 is " + to_string(x) +
               "; concatenation along channels needs equal height and width");
        channels += in[i].c;
      }
      if (channels > INT_MAX) fail(std::to_string(channels) + " channels in all, more than " + std::to_string(INT_MAX));
      return Shape{int(channels), x.h, x.w};
    }
    case OpKind::Softmax:
      if (x.h != 1 || x.w != 1) fail("needs a C x 1 x 1 input, got " + to_string(x));
      return x;
    case OpKind::Activation: return x;
    case OpKind::Mul:
      if (in[1] != in[0] && in[1] != Shape{x.c, 1, 1})
        fail("multiplies " + to_string(in[0]) + " by " + to_string(in[1]) + "; the second must be the same shape or " +
             to_string(Shape{x.c, 1, 1}) + " (one value per channel)");
      return x;
    case OpKind::Flatten:
      if (x.size() > INT_MAX) fail("flattens " + to_string(x) + ", more than " + std::to_string(INT_MAX) + " values");
      return Shape{int(x.size()), 1, 1};
  }
  op_fail(name, op, "unknown op kind");
}

void Graph::validate() const {
  auto fail = [&](const std::string& msg) { throw std::invalid_argument("network '" + name + "': " + msg); };
  const int n = int(tensors.size());
  if (input < 0 || input >= n) fail("input tensor index " + std::to_string(input) + " out of range");
  if (output < 0 || output >= n) fail("output tensor index " + std::to_string(output) + " out of range");
  std::vector<bool> ready(size_t(n), false);
  ready[size_t(input)] = true;
  for (const Op& op : ops) {
    for (int t : op.inputs)
      if (t >= 0 && t < n && !ready[size_t(t)])
        op_fail(name, op, "reads tensor '" + tensors[size_t(t)].name +
                              "' before any earlier op produced it (ops must be in topological order)");
    if (op.output < 0 || op.output >= n) op_fail(name, op, "output tensor index out of range");
    if (ready[size_t(op.output)])
      op_fail(name, op, "writes tensor '" + tensors[size_t(op.output)].name + "', which already has a producer");
    const Shape s = infer_shape(op);
    if (s != tensors[size_t(op.output)].shape)
      op_fail(name, op, "output tensor '" + tensors[size_t(op.output)].name + "' is " +
                            to_string(tensors[size_t(op.output)].shape) + " but the op produces " + to_string(s));
    ready[size_t(op.output)] = true;
  }
  if (!ready[size_t(output)]) fail("output tensor '" + tensors[size_t(output)].name + "' is not produced by any op");
}

std::vector<Eigen::MatrixXf> Graph::forward_all(const Eigen::MatrixXf& x) const {
  if (x.cols() != in_features())
    throw std::invalid_argument("network '" + name + "': input has " + std::to_string(x.cols()) +
                                " features, expected " + std::to_string(in_features()) + " (" +
                                to_string(in_shape()) + ")");
  std::vector<Eigen::MatrixXf> acts(tensors.size());
  acts[size_t(input)] = x;
  for (const Op& op : ops) {
    std::vector<const Eigen::MatrixXf*> ins;
    std::vector<Shape> shapes;
    for (int t : op.inputs) {
      ins.push_back(&acts[size_t(t)]);
      shapes.push_back(tensors[size_t(t)].shape);
    }
    acts[size_t(op.output)] = forward_op(op, ins, shapes, tensors[size_t(op.output)].shape);
  }
  return acts;
}

Eigen::MatrixXf Graph::forward(const Eigen::MatrixXf& x) const {
  if (x.cols() != in_features())
    throw std::invalid_argument("network '" + name + "': input has " + std::to_string(x.cols()) +
                                " features, expected " + std::to_string(in_features()) + " (" +
                                to_string(in_shape()) + ")");
  // Like forward_all, but each activation is released after its last reader.
  std::vector<size_t> last_use(tensors.size(), 0);
  for (size_t i = 0; i < ops.size(); ++i)
    for (int t : ops[i].inputs) last_use[size_t(t)] = i;
  std::vector<Eigen::MatrixXf> acts(tensors.size());
  acts[size_t(input)] = x;
  for (size_t i = 0; i < ops.size(); ++i) {
    const Op& op = ops[i];
    std::vector<const Eigen::MatrixXf*> ins;
    std::vector<Shape> shapes;
    for (int t : op.inputs) {
      ins.push_back(&acts[size_t(t)]);
      shapes.push_back(tensors[size_t(t)].shape);
    }
    acts[size_t(op.output)] = forward_op(op, ins, shapes, tensors[size_t(op.output)].shape);
    for (int t : op.inputs)
      if (last_use[size_t(t)] == i && t != output) acts[size_t(t)] = Eigen::MatrixXf();
  }
  return std::move(acts[size_t(output)]);
}

Eigen::MatrixXf forward_op(const Op& op, const std::vector<const Eigen::MatrixXf*>& inputs,
                           const std::vector<Shape>& in_shapes, const Shape& out_shape) {
  auto fail = [&](const std::string& msg) { throw std::invalid_argument(describe(op) + ": " + msg); };
  if (inputs.empty() || inputs.size() != in_shapes.size())
    fail(std::to_string(inputs.size()) + " inputs with " + std::to_string(in_shapes.size()) + " shapes");
  const long batch = inputs[0]->rows();
  for (size_t i = 0; i < inputs.size(); ++i)
    if (inputs[i]->cols() != in_shapes[i].size() || inputs[i]->rows() != batch)
      fail("input " + std::to_string(i) + " is " + std::to_string(inputs[i]->rows()) + " x " +
           std::to_string(inputs[i]->cols()) + ", expected " + std::to_string(batch) + " x " +
           std::to_string(in_shapes[i].size()) + " (" + to_string(in_shapes[i]) + ")");
  const Shape& is = in_shapes[0];
  Eigen::MatrixXf y(batch, out_shape.size());
  switch (op.kind) {
    case OpKind::Conv:
    case OpKind::MaxPool:
    case OpKind::AvgPool: {
      if (op.kind == OpKind::Conv && (long(op.cin_per_group()) * op.groups != is.c || op.bias.size() != op.out_channels()))
        fail("weight " + std::to_string(op.weight.rows()) + "x" + std::to_string(op.weight.cols()) +
             " does not fit input " + to_string(is));
      Eigen::VectorXf in_img(is.size()), out_img(out_shape.size());
      std::vector<float> col;
      for (long b = 0; b < batch; ++b) {
        in_img = inputs[0]->row(b).transpose();
        if (op.kind == OpKind::Conv) conv_image(op, in_img.data(), is, out_shape, out_img.data(), col);
        else pool_image(op, in_img.data(), is, out_shape, out_img.data());
        y.row(b) = out_img.transpose();
      }
      break;
    }
    case OpKind::GlobalAvgPool: {
      const long plane = long(is.h) * is.w;
      for (int c = 0; c < is.c; ++c)
        y.col(c) = inputs[0]->middleCols(long(c) * plane, plane).rowwise().mean();
      break;
    }
    case OpKind::Add:
    case OpKind::Mul: {
      const bool add = op.kind == OpKind::Add;
      const long plane = long(is.h) * is.w;
      if (inputs[1]->cols() == inputs[0]->cols()) {
        y = add ? Eigen::MatrixXf(*inputs[0] + *inputs[1]) : Eigen::MatrixXf(inputs[0]->cwiseProduct(*inputs[1]));
      } else {  // one value per channel; channel-major maps: channel c is the columns [c * plane, (c + 1) * plane)
        for (int c = 0; c < is.c; ++c) {
          const auto a = inputs[0]->middleCols(long(c) * plane, plane).array();
          const auto b = inputs[1]->col(c).array();
          if (add) y.middleCols(long(c) * plane, plane) = (a.colwise() + b).matrix();
          else y.middleCols(long(c) * plane, plane) = (a.colwise() * b).matrix();
        }
      }
      break;
    }
    case OpKind::Concat: {
      long at = 0;
      // Channel-major maps of equal H x W concatenate along channels by concatenating rows.
      for (const Eigen::MatrixXf* in : inputs) {
        y.middleCols(at, in->cols()) = *in;
        at += in->cols();
      }
      break;
    }
    case OpKind::Softmax: {
      const Eigen::VectorXf row_max = inputs[0]->rowwise().maxCoeff();
      y = (inputs[0]->colwise() - row_max).array().exp().matrix();
      const Eigen::VectorXf sums = y.rowwise().sum();
      y.array().colwise() /= sums.array();
      break;
    }
    case OpKind::Flatten:
    case OpKind::Activation: y = *inputs[0]; break;
  }
  if (op.act == num::ActKind::prelu && op.act_slope.size() != out_shape.c)
    fail("PRelu has " + std::to_string(op.act_slope.size()) + " slopes for " + std::to_string(out_shape.c) + " channels");
  apply_act(op, out_shape, y);
  apply_clamp(op, y);
  return y;
}

long Graph::macs_per_inference() const {
  long macs = 0;
  for (const Op& op : ops) {
    if (op.kind != OpKind::Conv) continue;
    const Shape& o = tensors[size_t(op.output)].shape;
    macs += long(o.h) * o.w * op.out_channels() * op.kh * op.kw * op.cin_per_group();
  }
  return macs;
}

long Graph::params() const {
  long n = 0;
  for (const Op& op : ops)
    if (op.kind == OpKind::Conv) n += long(op.weight.size()) + long(op.bias.size());
  return n;
}

// ---- Network ----

void Network::validate() const {
  int features = in_features;
  for (size_t l = 0; l < layers.size(); ++l) {
    const DenseLayer& layer = layers[l];
    if (layer.in_features() != features)
      throw std::invalid_argument("network '" + name + "': layer " + std::to_string(l) + " '" +
                                  layer.name + "' takes " + std::to_string(layer.in_features()) +
                                  " inputs but receives " + std::to_string(features));
    if (layer.bias.size() != layer.out_features())
      throw std::invalid_argument("network '" + name + "': layer '" + layer.name + "' has " +
                                  std::to_string(layer.bias.size()) + " biases for " +
                                  std::to_string(layer.out_features()) + " outputs");
    features = layer.out_features();
  }
}

std::vector<Eigen::MatrixXf> Network::forward_all(const Eigen::MatrixXf& x) const {
  if (x.cols() != in_features)
    throw std::invalid_argument("network '" + name + "': input has " + std::to_string(x.cols()) +
                                " features, expected " + std::to_string(in_features));
  std::vector<Eigen::MatrixXf> outs;
  outs.reserve(layers.size());
  const Eigen::MatrixXf* cur = &x;
  for (const DenseLayer& layer : layers) {
    Eigen::MatrixXf y = (*cur) * layer.weight.transpose();
    y.rowwise() += layer.bias.transpose();
    if (layer.relu) y = y.cwiseMax(0.0f);
    outs.push_back(std::move(y));
    cur = &outs.back();
  }
  return outs;
}

Eigen::MatrixXf Network::forward(const Eigen::MatrixXf& x) const {
  if (layers.empty()) return x;
  return forward_all(x).back();
}

long Network::macs_per_inference() const {
  long macs = 0;
  for (const DenseLayer& layer : layers) macs += long(layer.in_features()) * layer.out_features();
  return macs;
}

long Network::params() const {
  long n = 0;
  for (const DenseLayer& layer : layers) n += long(layer.weight.size()) + long(layer.bias.size());
  return n;
}

Graph to_graph(const Network& net) {
  net.validate();
  Graph g;
  g.name = net.name;
  g.source = net.source;
  g.input = g.add_tensor("input", Shape{net.in_features, 1, 1});
  int cur = g.input;
  for (const DenseLayer& layer : net.layers) {
    Op op;
    op.kind = OpKind::Conv;
    op.name = layer.name;
    op.onnx_op = "Gemm";
    op.inputs = {cur};
    op.weight = layer.weight;  // a 1x1 kernel's columns are the input channels
    op.bias = layer.bias;
    if (layer.relu) op.act_min = 0.0f;
    cur = g.ops[size_t(g.add_op(std::move(op)))].output;
  }
  g.output = cur;
  return g;
}

}  // namespace aimc::compiler
