// Graph IR of the compiler.
//
// Graph: a DAG of the ops the chip executes (convolutions and dense layers on the tiles, pooling,
// residual adds, concatenation, softmax in the digital units), in topological order. The ONNX
// importer folds BatchNormalization into the preceding convolution and Relu / Clip / Relu6 into
// the op before them; forward() is the float reference every quantized result is compared with.
//
// Tensors are per-image maps of C x H x W (ONNX's NCHW without N); a vector of n features is
// n x 1 x 1. Float activations are Eigen matrices with one row per image holding the map in
// C, H, W order (the order ONNX flattens in).
//
// Network: the older chain-of-dense-layers form, kept as a compact way to build MLPs in code
// (to_graph() turns it into a Graph).
#pragma once

#include <Eigen/Dense>

#include "numerics/activation.h"
#include <limits>
#include <string>
#include <vector>

namespace aimc::compiler {

struct Shape {
  int c = 0, h = 1, w = 1;
  long size() const { return long(c) * h * w; }
  bool operator==(const Shape& o) const { return c == o.c && h == o.h && w == o.w; }
  bool operator!=(const Shape& o) const { return !(*this == o); }
};
std::string to_string(const Shape& s);  // "CxHxW", e.g. "32x112x112"

struct Tensor {
  std::string name;  // the ONNX value name
  Shape shape;
};

enum class OpKind {
  // y[o, oy, ox] = bias[o] + sum over its group's inputs of weight * x, then the clamp. A dense
  // layer is a Conv with a 1x1 kernel on a 1x1 map (from Gemm / MatMul).
  Conv,
  MaxPool,
  AvgPool,        // border windows average their in-map elements (unless count_include_pad)
  GlobalAvgPool,  // C x H x W -> C x 1 x 1
  Add,            // elementwise sum of two maps of one shape (or the second C x 1 x 1, per channel), then the clamp
  Concat,         // along channels, inputs in order
  Softmax,        // over the channels of a C x 1 x 1 tensor
  Flatten,        // C x H x W -> (C*H*W) x 1 x 1, elements in C, H, W order (no arithmetic)
  Activation,     // element-wise act (below) of one map, where it cannot fold into the op before it
  Mul,            // elementwise product of two maps, the second of one shape or C x 1 x 1 (per
                  // channel, broadcast over the pixels: squeeze-excitation), then act and clamp
};
const char* to_string(OpKind k);

struct Op {
  OpKind kind = OpKind::Conv;
  std::string name;     // ONNX node name (or "<op_type>_<index>" if the node has none)
  std::string onnx_op;  // ONNX op_type of the node that produced it ("Conv", "Gemm", ...);
                        // folded nodes are listed in `folded`
  std::vector<std::string> folded;  // e.g. {"BatchNormalization 'bn1'", "Relu 'relu1'"}
  std::vector<int> inputs;          // tensor indices
  int output = -1;                  // tensor index

  // Conv: weight is out_channels x (kh * kw * in_channels / groups); column order (ky, kx, ci)
  // with ci the input channel within the group: column (ky * kw + kx) * cin_g + ci.
  Eigen::MatrixXf weight;
  Eigen::VectorXf bias;  // out_channels (zeros if the model had none)
  int groups = 1;
  // Conv and pools: window, stride and zero padding (top, left, bottom, right).
  int kh = 1, kw = 1, stride_h = 1, stride_w = 1;
  int pad_t = 0, pad_l = 0, pad_b = 0, pad_r = 0;
  // AvgPool: false (the default) divides a border window by its in-map elements only; true
  // (ONNX count_include_pad=1) divides every window by kh * kw, the padding counting as zeros.
  bool count_include_pad = false;

  // Output clamp folded from Relu (0, inf), Relu6 / Clip(0, 6) (0, 6), Clip(a, b) (a, b).
  // Any op kind may carry one (the importer folds a Relu into whatever op produced its input).
  float act_min = -std::numeric_limits<float>::infinity();
  float act_max = std::numeric_limits<float>::infinity();

  // Element-wise activation applied to y before the clamp (numerics/activation.h): folded from
  // Sigmoid, Tanh, LeakyRelu, PRelu, HardSigmoid, HardSwish, Elu, x * Sigmoid(x) (SiLU) or the
  // Erf form of GELU into whatever op produced its input, or carried by an Activation op.
  num::ActKind act = num::ActKind::none;
  float act_alpha = 0.0f, act_beta = 0.0f;  // LeakyRelu / Elu alpha; HardSigmoid alpha and beta
  Eigen::VectorXf act_slope;                // PRelu: one slope per output channel

  bool has_clamp() const { return act_min > -std::numeric_limits<float>::infinity() ||
                                  act_max < std::numeric_limits<float>::infinity(); }
  // Conv helpers.
  int out_channels() const { return int(weight.rows()); }
  int cin_per_group() const { return groups > 0 && kh > 0 && kw > 0 ? int(weight.cols() / (long(kh) * kw)) : 0; }
  bool depthwise() const { return kind == OpKind::Conv && groups > 1 && cin_per_group() == 1; }
};

struct Graph {
  std::string name;
  std::string source;  // file it was imported from ("" if built in code)
  std::vector<Tensor> tensors;
  std::vector<Op> ops;  // topological order: an op's inputs are the graph input or earlier outputs
  int input = 0;        // tensor index of the (single) network input
  int output = 0;       // tensor index of the (single) network output
  // Parameter counts of the source model, before folding: weights and biases of its Conv, Gemm
  // and MatMul(+Add) nodes, and BatchNormalization's scale, bias, mean and variance. -1 if the
  // graph was built in code (params() is then the count).
  long source_params = -1;
  long source_bn_params = 0;

  const Shape& in_shape() const { return tensors[size_t(input)].shape; }
  const Shape& out_shape() const { return tensors[size_t(output)].shape; }
  long in_features() const { return in_shape().size(); }
  long out_features() const { return out_shape().size(); }

  // Builders: add a tensor, add an op (the output tensor's shape is inferred and checked;
  // throws std::invalid_argument with the op's name on a shape mismatch). Return the index.
  int add_tensor(const std::string& name, Shape shape);
  int add_op(Op op);  // op.output is set by add_op to a new tensor named `out_name`
  int add_op(Op op, const std::string& out_name);

  // Float reference: x is batch x in_features (C, H, W order), the result batch x out_features.
  Eigen::MatrixXf forward(const Eigen::MatrixXf& x) const;
  // Every tensor's activations (index = tensor index; the input is acts[input] = x).
  std::vector<Eigen::MatrixXf> forward_all(const Eigen::MatrixXf& x) const;
  // Multiply-accumulates of the Conv ops (dense included) per inference; pools, adds and
  // softmax are not MACs (the convention of MLPerf Tiny and of reference-chips.md section 8).
  long macs_per_inference() const;
  long params() const;  // Conv weights plus biases (BatchNorm folded in, so not counted apart)
  // Throws std::invalid_argument if indices, shapes, weights or the topological order are wrong.
  void validate() const;
  // Output shape of `op` given its input shapes (throws std::invalid_argument naming the op).
  Shape infer_shape(const Op& op) const;
};

// Float reference of one op (exposed for tests): inputs are batch x size matrices in C, H, W order.
Eigen::MatrixXf forward_op(const Op& op, const std::vector<const Eigen::MatrixXf*>& inputs,
                           const std::vector<Shape>& in_shapes, const Shape& out_shape);

// ---- MLP chain (compact builder for tests and the MLP examples) ----
struct DenseLayer {
  std::string name;
  Eigen::MatrixXf weight;  // out x in: y = weight * x + bias
  Eigen::VectorXf bias;    // out
  bool relu = false;

  int in_features() const { return static_cast<int>(weight.cols()); }
  int out_features() const { return static_cast<int>(weight.rows()); }
};

struct Network {
  std::string name;
  std::string source;
  int in_features = 0;
  std::vector<DenseLayer> layers;

  int out_features() const { return layers.empty() ? in_features : layers.back().out_features(); }
  Eigen::MatrixXf forward(const Eigen::MatrixXf& x) const;
  std::vector<Eigen::MatrixXf> forward_all(const Eigen::MatrixXf& x) const;
  long macs_per_inference() const;
  long params() const;
  void validate() const;
};

// The same network as a Graph: input "input" (in_features x 1 x 1), one Conv op per layer.
Graph to_graph(const Network& net);

}  // namespace aimc::compiler
