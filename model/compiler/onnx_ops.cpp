// The ONNX op kinds the importer understands: one member function of Importer each, dispatched by
// Importer::apply (a new op: its function here or beside its kind, its declaration and one line in
// apply()). Nodes on constants are in onnx_constants.cpp, element-wise ones (arithmetic with
// constants or a second map, clamps, activations and torch's patterns of them) in
// onnx_elementwise.cpp; convolutions, dense layers, pools, concatenation, reshapes here.
#include "onnx_importer.h"

namespace aimc::compiler::onnx_detail {

void Importer::apply(int n, const onnx::NodeProto& node) {
  if (absorbed_.count(n)) return;  // part of a pattern (SiLU, HardSwish, GELU) found at an earlier node
  const std::string& op = node.op_type();
  if (!node.domain().empty() && node.domain() != "ai.onnx")
    node_fail(n, node, "op of domain '" + node.domain() + "' is not supported; " + kSupported);
  if (op == "Constant") return constant_node(n, node);
  if (node.output_size() < 1 || node.output(0).empty()) node_fail(n, node, "has no output");
  for (int i = 1; i < node.output_size(); ++i)
    if (!node.output(i).empty() && consumers(node.output(i)) > 0)
      node_fail(n, node, "output " + std::to_string(i) + " '" + node.output(i) +
                             "' is used; only the first output of a node is supported");

  bool all_const = true;
  for (const auto& in : node.input())
    if (!in.empty() && !consts_.count(in)) all_const = false;
  if (op == "Shape" || all_const) return fold_constant(n, node);

  if (op == "Conv") return conv(n, node);
  if (op == "Gemm" || op == "MatMul") return dense(n, node);
  if (op == "BatchNormalization") return batch_norm(n, node);
  if (op == "Add") return add(n, node);
  if (op == "Relu" || op == "Clip") return clamp(n, node);
  if (op == "Sigmoid" || op == "Tanh" || op == "LeakyRelu" || op == "PRelu" || op == "HardSigmoid" ||
      op == "HardSwish" || op == "Elu" || op == "Gelu")
    return act_node(n, node);
  if (op == "Mul" || op == "Div" || op == "Sub") return arithmetic(n, node);
  if (op == "MaxPool" || op == "AveragePool") return pool(n, node);
  if (op == "GlobalAveragePool" || op == "GlobalMaxPool" || op == "ReduceMean") return global_pool(n, node);
  if (op == "Concat") return concat(n, node);
  if (op == "Softmax") return softmax(n, node);
  if (op == "Flatten" || op == "Reshape" || op == "Squeeze" || op == "Unsqueeze" || op == "Transpose")
    return reshape(n, node);
  if (op == "Pad") return pad(n, node);
  if (op == "Identity" || op == "Dropout") return pass_through(n, node);
  node_fail(n, node, "unsupported op; " + std::string(kSupported));
}

// Window attributes shared by Conv and the pools: kernel, strides, pads (auto_pad resolved).
// `kernel` is the default kernel_shape (a Conv's weight; pools must give it).
// A 1-D window (Conv1d, MaxPool1d, AvgPool1d on a sequence [N, C, L]) is the 2-D window of a
// C x L x 1 map: its kernel, stride, dilation and pads along H, 1 and 0 along W.
void Importer::window(int n, const onnx::NodeProto& node, const Value& x, Op& op, std::vector<int64_t> kernel) {
  const bool seq = x.dims.size() == 2;
  if (x.dims.size() != 3 && !seq)
    node_fail(n, node, "needs a 4-D input [N, C, H, W] or a 3-D sequence [N, C, L] but gets " + dims_str(x.dims, true));
  const int64_t in_h = x.dims[1], in_w = seq ? 1 : x.dims[2];
  std::vector<int64_t> k = attr(node, "kernel_shape") ? attr_ints(node, "kernel_shape") : kernel;
  auto widen = [&](std::vector<int64_t>& v, int64_t fill) {  // a 1-D attribute on the H axis
    if (seq && v.size() == 1) v.push_back(fill);
  };
  widen(k, 1);
  if (k.size() != 2)
    node_fail(n, node, std::string("needs a ") + (seq ? "1-D" : "2-D") + " kernel_shape, got " +
                           std::to_string(seq ? k.size() - 1 : k.size()) + " values");
  // The window's numbers come from the file: each is bounded before it becomes an int.
  if (k[0] <= 0 || k[1] <= 0 || k[0] > INT_MAX || k[1] > INT_MAX)
    node_fail(n, node, "kernel_shape must be two positive values up to " + std::to_string(INT_MAX) + ", got " +
                           dims_str(k, false));
  op.kh = int(k[0]), op.kw = int(k[1]);
  std::vector<int64_t> s = attr_ints(node, "strides");
  if (s.empty()) s = {1, 1};
  widen(s, 1);
  if (s.size() != 2 || s[0] <= 0 || s[1] <= 0 || s[0] > INT_MAX || s[1] > INT_MAX)
    node_fail(n, node, "strides must be two positive values up to " + std::to_string(INT_MAX) + ", got " + dims_str(s, false));
  op.stride_h = int(s[0]), op.stride_w = int(s[1]);
  std::vector<int64_t> d = attr_ints(node, "dilations");
  for (int64_t v : d)
    if (v != 1) node_fail(n, node, "dilations other than 1 are not supported, got " + dims_str(d, false));
  if (attr_i(node, "ceil_mode", 0) != 0)
    node_fail(n, node, "ceil_mode=1 is not supported (export with ceil_mode=False)");
  const std::string auto_pad = attr_s(node, "auto_pad", "NOTSET");
  std::vector<int64_t> p = attr_ints(node, "pads");
  if (seq && p.size() == 2) p = {p[0], 0, p[1], 0};  // [begin, end] of L
  if (auto_pad == "NOTSET") {
    if (p.empty()) p = {0, 0, 0, 0};
    if (p.size() != 4) node_fail(n, node, "pads must have 4 values, got " + std::to_string(p.size()));
    for (int64_t v : p)
      if (v < 0) node_fail(n, node, "negative pads are not supported, got " + dims_str(p, false));
  } else if (auto_pad == "VALID") {
    p = {0, 0, 0, 0};
  } else if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
    auto same = [&](int64_t in, int64_t kernel, int64_t stride, int64_t& begin, int64_t& end) {
      const int64_t out = (in + stride - 1) / stride;
      const int64_t total = std::max<int64_t>((out - 1) * stride + kernel - in, 0);
      begin = auto_pad == "SAME_UPPER" ? total / 2 : total - total / 2;
      end = total - begin;
    };
    p.assign(4, 0);
    same(in_h, k[0], s[0], p[0], p[2]);
    same(in_w, k[1], s[1], p[1], p[3]);
  } else {
    node_fail(n, node, "auto_pad '" + auto_pad + "' is not supported");
  }
  for (int64_t v : p)
    if (v > kMaxPad)
      node_fail(n, node, "pads " + dims_str(p, false) + (auto_pad == "NOTSET" ? "" : " (from auto_pad " + auto_pad + ")") +
                             " must be between 0 and " + std::to_string(kMaxPad));
  op.pad_t = int(p[0]), op.pad_l = int(p[1]), op.pad_b = int(p[2]), op.pad_r = int(p[3]);
}

// The input tensor of a Conv / AveragePool, with a preceding Pad node's zeros added to its pads.
int Importer::padded_input(int n, const onnx::NodeProto& node, const Value& x, Op& op) {
  op.pad_t += x.pad[0], op.pad_l += x.pad[1], op.pad_b += x.pad[2], op.pad_r += x.pad[3];
  std::vector<int64_t> unpadded = x.dims;
  if (unpadded.size() > 2) {  // a Pad node pads maps only (a sequence's pads are its op's own)
    unpadded[1] -= x.pad[0] + x.pad[2];
    unpadded[2] -= x.pad[1] + x.pad[3];
  }
  return as_tensor(x, graph_shape(n, node, unpadded), [&](const std::string& m) { node_fail(n, node, m); });
}

void Importer::conv(int n, const onnx::NodeProto& node) {
  const Value& x = activation(n, node, 0);
  const ConstTensor& w0 = constant(n, node, 1, "weight", true);
  // A 1-D convolution of a sequence [N, C, L] (weight [M, C/group, k]): a k x 1 kernel on C x L x 1.
  const bool seq = x.dims.size() == 2 && w0.dims.size() == 3;
  ConstTensor w1d;
  if (seq) w1d = w0, w1d.dims.push_back(1);
  const ConstTensor& w = seq ? w1d : w0;
  if (w.dims.size() != 4)
    node_fail(n, node, "weight '" + node.input(1) + "' has shape " + dims_str(w0.dims, false) +
                           "; only 2-D convolutions ([M, C/group, kH, kW]) of maps [N, C, H, W] and 1-D ones "
                           "([M, C/group, k]) of sequences [N, C, L] are supported");
  // Every dim >= 1, so each product of them is at most the count of values the file holds.
  for (int64_t d : w.dims)
    if (d <= 0 || d > INT_MAX)
      node_fail(n, node, "weight '" + node.input(1) + "' has shape " + dims_str(w.dims, false) + ": an empty or huge dimension");
  Op op;
  op.kind = OpKind::Conv;
  window(n, node, x, op, {w.dims[2], w.dims[3]});
  const int64_t groups = attr_i(node, "group", 1);
  const int64_t m = w.dims[0], cin_g = w.dims[1], kh = w.dims[2], kw = w.dims[3];
  if (groups <= 0 || groups > x.dims[0])
    node_fail(n, node, "group=" + std::to_string(groups) + " must be between 1 and the " + std::to_string(x.dims[0]) +
                           " input channels");
  if (op.kh != kh || op.kw != kw)
    node_fail(n, node, "kernel_shape " + std::to_string(op.kh) + "x" + std::to_string(op.kw) +
                           " disagrees with the weight " + dims_str(w.dims, false));
  if (groups <= 0 || cin_g * groups != x.dims[0] || m % groups != 0)
    node_fail(n, node, "weight " + dims_str(w.dims, false) + " with group=" + std::to_string(groups) +
                           " does not fit the input " + dims_str(x.dims, true));
  op.groups = int(groups);
  op.weight.resize(m, kh * kw * cin_g);
  for (int64_t o = 0; o < m; ++o)
    for (int64_t ci = 0; ci < cin_g; ++ci)
      for (int64_t ky = 0; ky < kh; ++ky)
        for (int64_t kx = 0; kx < kw; ++kx)
          op.weight(o, (ky * kw + kx) * cin_g + ci) = w.f[size_t(((o * cin_g + ci) * kh + ky) * kw + kx)];
  op.bias = Eigen::VectorXf::Zero(m);
  graph_.source_params += w.count();
  if (has_input(node, 2)) {
    const std::vector<float> b = channel_vector(n, node, 2, "bias", m);
    op.bias = Eigen::Map<const Eigen::VectorXf>(b.data(), m);
    graph_.source_params += m;
  }
  op.inputs = {padded_input(n, node, x, op)};
  const Shape& in = graph_.tensors[size_t(op.inputs[0])].shape;
  const int64_t oh = (in.h + op.pad_t + op.pad_b - op.kh) / op.stride_h + 1;
  const int64_t ow = (in.w + op.pad_l + op.pad_r - op.kw) / op.stride_w + 1;
  emit(n, node, std::move(op), seq ? std::vector<int64_t>{m, oh} : std::vector<int64_t>{m, oh, ow});
}

// Gemm (y = alpha * A * B' + beta * C) and MatMul (y = A * B), A the activation [N, K].
void Importer::dense(int n, const onnx::NodeProto& node) {
  const bool gemm = node.op_type() == "Gemm";
  if (!has_input(node, 0)) node_fail(n, node, "missing input 0 (the activation A)");
  if (!values_.count(node.input(0)))
    node_fail(n, node, "the activation must be the first operand (A); a constant A is not supported");
  const Value& a = activation(n, node, 0);
  if (a.dims.size() != 1)
    node_fail(n, node, "needs a 2-D input [N, features] but gets " + dims_str(a.dims, true) + "; insert a Flatten");
  const ConstTensor& b = constant(n, node, 1, "weight", true);
  if (b.dims.size() != 2) node_fail(n, node, "weight '" + node.input(1) + "' must be 2-D, got " + dims_str(b.dims, false));
  bool trans_b = false;
  float alpha = 1.0f, beta = 1.0f;
  if (gemm) {
    if (attr_i(node, "transA", 0) != 0) node_fail(n, node, "transA=1 is not supported (the activation must be [N, in])");
    trans_b = attr_i(node, "transB", 0) != 0;
    alpha = attr_f(node, "alpha", 1.0f);
    beta = attr_f(node, "beta", 1.0f);
  }
  const int64_t k = a.dims[0];
  const int64_t w_in = trans_b ? b.dims[1] : b.dims[0];
  const int64_t w_out = trans_b ? b.dims[0] : b.dims[1];
  if (w_in != k)
    node_fail(n, node, "shape mismatch: weight '" + node.input(1) + "' " + dims_str(b.dims, false) + " expects " +
                           std::to_string(w_in) + " inputs but the input has " + std::to_string(k));
  Op op;
  op.kind = OpKind::Conv;
  op.weight.resize(w_out, k);
  for (int64_t r = 0; r < b.dims[0]; ++r)
    for (int64_t c = 0; c < b.dims[1]; ++c) {
      const float v = alpha * b.f[size_t(r * b.dims[1] + c)];
      if (trans_b) op.weight(r, c) = v;
      else op.weight(c, r) = v;
    }
  op.bias = Eigen::VectorXf::Zero(w_out);
  graph_.source_params += b.count();
  if (gemm && has_input(node, 2)) {
    const ConstTensor& c = constant(n, node, 2, "bias C", true);
    const bool per_output = c.count() == w_out && (c.dims.size() == 1 || (c.dims.size() == 2 && c.dims[0] == 1));
    const bool scalar = c.count() == 1 && c.dims.size() <= 2;
    if (!per_output && !scalar)
      node_fail(n, node, "bias C '" + node.input(2) + "' has shape " + dims_str(c.dims, false) + ", expected [" +
                             std::to_string(w_out) + "] or a scalar");
    for (int64_t j = 0; j < w_out; ++j) op.bias(j) = beta * c.f[per_output ? size_t(j) : 0];
    graph_.source_params += c.count();
  }
  op.inputs = {as_tensor(n, node, a)};
  emit(n, node, std::move(op), {w_out});
}

void Importer::batch_norm(int n, const onnx::NodeProto& node) {
  const Value& x = activation(n, node, 0);
  if (attr_i(node, "training_mode", 0) != 0)
    node_fail(n, node, "training_mode=1 is not supported (export the model in eval mode)");
  if (x.dims.empty()) node_fail(n, node, "needs an input with channels, got " + dims_str(x.dims, true));
  const int64_t c = x.dims[0];
  const std::vector<float> gamma = channel_vector(n, node, 1, "scale", c);
  const std::vector<float> beta = channel_vector(n, node, 2, "bias", c);
  const std::vector<float> mean = channel_vector(n, node, 3, "mean", c);
  const std::vector<float> var = channel_vector(n, node, 4, "variance", c);
  const float eps = attr_f(node, "epsilon", 1e-5f);
  graph_.source_bn_params += 4 * c;
  Eigen::VectorXf s(c), t(c);
  for (int64_t i = 0; i < c; ++i) {
    if (!(var[size_t(i)] + eps > 0.0f))
      node_fail(n, node, "variance + epsilon of channel " + std::to_string(i) + " is not positive");
    s(i) = float(double(gamma[size_t(i)]) / std::sqrt(double(var[size_t(i)]) + double(eps)));
    t(i) = beta[size_t(i)] - mean[size_t(i)] * s(i);
  }
  if (const int op = affine_target(node.input(0), x, c); op >= 0) {
    Op& o = graph_.ops[size_t(op)];
    o.weight = s.asDiagonal() * o.weight;
    o.bias = o.bias.cwiseProduct(s) + t;
    return folded_into(n, node, op, x);
  }
  depthwise_affine(n, node, x, s, t);
}

// y = s * x + t per channel, as a depthwise 1x1 Conv (a BatchNormalization or bias Add that
// cannot fold into its producer).
void Importer::depthwise_affine(int n, const onnx::NodeProto& node, const Value& x, const Eigen::VectorXf& s, const Eigen::VectorXf& t) {
  Op op;
  op.kind = OpKind::Conv;
  op.groups = int(s.size());
  op.weight = s;
  op.bias = t;
  op.inputs = {as_tensor(n, node, x)};
  if (graph_.tensors[size_t(op.inputs[0])].shape.c != s.size())
    node_fail(n, node, "channel count " + std::to_string(s.size()) + " does not match the input " +
                           to_string(graph_.tensors[size_t(op.inputs[0])].shape));
  emit(n, node, std::move(op), x.dims);
}

void Importer::pool(int n, const onnx::NodeProto& node) {
  const Value& x = activation(n, node, 0);
  const bool max = node.op_type() == "MaxPool";
  Op op;
  op.kind = max ? OpKind::MaxPool : OpKind::AvgPool;
  window(n, node, x, op, {});
  op.count_include_pad = !max && attr_i(node, "count_include_pad", 0) != 0;
  if (x.padded()) {
    if (max) node_fail(n, node, "a Pad node's zeros before a MaxPool are not supported (its padding is -inf)");
    // The Pad node's zeros are data to the pool: they count unless the pool adds padding of its own.
    if (!op.count_include_pad && (op.pad_t || op.pad_l || op.pad_b || op.pad_r))
      node_fail(n, node, "padded by both a Pad node and its own pads with count_include_pad=0: not representable");
    op.count_include_pad = true;
  }
  op.inputs = {padded_input(n, node, x, op)};
  const Shape& in = graph_.tensors[size_t(op.inputs[0])].shape;
  const int64_t oh = (in.h + op.pad_t + op.pad_b - op.kh) / op.stride_h + 1;
  const int64_t ow = (in.w + op.pad_l + op.pad_r - op.kw) / op.stride_w + 1;
  emit(n, node, std::move(op), x.dims.size() == 2 ? std::vector<int64_t>{x.dims[0], oh} : std::vector<int64_t>{x.dims[0], oh, ow});
}

void Importer::global_pool(int n, const onnx::NodeProto& node) {
  const Value& x = activation(n, node, 0);
  if (x.dims.size() != 3 && x.dims.size() != 2)
    node_fail(n, node, "needs a 4-D input [N, C, H, W] or a 3-D sequence [N, C, L] but gets " + dims_str(x.dims, true));
  std::vector<int64_t> out(x.dims.size(), 1);
  out[0] = x.dims[0];
  // ReduceMean over every spatial axis (H and W, or L) is a global average pool too.
  if (node.op_type() == "ReduceMean") {
    std::vector<int64_t> axes = opset_ >= 18 && has_input(node, 1) ? constant(n, node, 1, "axes", false).i64
                                                                     : attr_ints(node, "axes");
    const int64_t rank = int64_t(x.dims.size()) + 1;
    for (int64_t& a : axes) a = a < 0 ? a + rank : a;
    std::sort(axes.begin(), axes.end());
    std::vector<int64_t> spatial;
    for (int64_t a = 2; a < rank; ++a) spatial.push_back(a);
    if (axes != spatial)
      node_fail(n, node, "only a mean over every spatial axis (" + dims_str(spatial, false) + " of " +
                             dims_str(x.dims, true) + ") is supported, got axes " + dims_str(axes, false));
    if (attr_i(node, "keepdims", 1) == 0) out = {x.dims[0]};
  }
  Op op;
  if (node.op_type() != "GlobalMaxPool") {
    op.kind = OpKind::GlobalAvgPool;
  } else {  // a max over the whole map is a MaxPool with the map as its window
    op.kind = OpKind::MaxPool;
    op.kh = int(x.dims[1]), op.kw = x.dims.size() == 3 ? int(x.dims[2]) : 1;
  }
  op.inputs = {as_tensor(n, node, x)};
  emit(n, node, std::move(op), out);
}

void Importer::concat(int n, const onnx::NodeProto& node) {
  const Value& first = activation(n, node, 0);
  if (first.dims.empty())
    node_fail(n, node, "input 0 is " + dims_str(first.dims, true) + ": there is no channel axis to concatenate along");
  const int64_t rank = int64_t(first.dims.size()) + 1;
  int64_t axis = attr_i(node, "axis", 1);
  if (axis < 0) axis += rank;
  if (axis != 1)
    node_fail(n, node, "only concatenation along the channel / feature axis 1 is supported, got axis " +
                           std::to_string(attr_i(node, "axis", 1)) + " on " + dims_str(first.dims, true));
  Op op;
  op.kind = OpKind::Concat;
  std::vector<int64_t> dims = first.dims;
  dims[0] = 0;
  for (int i = 0; i < node.input_size(); ++i) {
    const Value& v = activation(n, node, i);
    std::vector<int64_t> a = v.dims, b = first.dims;
    if (a.size() != b.size() || !std::equal(a.begin() + 1, a.end(), b.begin() + 1))
      node_fail(n, node, "input " + std::to_string(i) + " is " + dims_str(a, true) + " but input 0 is " +
                             dims_str(b, true) + "; all dims but the channels must agree");
    dims[0] += v.dims[0];
    op.inputs.push_back(as_tensor(n, node, v));
  }
  emit(n, node, std::move(op), dims);
}

void Importer::softmax(int n, const onnx::NodeProto& node) {
  const Value& x = activation(n, node, 0);
  const int64_t rank = int64_t(x.dims.size()) + 1;
  const int64_t given = attr_i(node, "axis", opset_ < 13 ? 1 : -1);
  const int64_t axis = given < 0 ? given + rank : given;
  bool rest_ones = !x.dims.empty();
  for (size_t i = 1; i < x.dims.size(); ++i) rest_ones = rest_ones && x.dims[i] == 1;
  // Before opset 13 the axis splits [N, rest] and normalizes over all of rest.
  if (axis != 1 || !rest_ones)
    node_fail(n, node, "only a softmax over the channels of [N, C] or [N, C, 1, 1] is supported, got axis " +
                           std::to_string(given) + " on " + dims_str(x.dims, true));
  Op op;
  op.kind = OpKind::Softmax;
  op.inputs = {as_tensor(n, node, x)};
  emit(n, node, std::move(op), x.dims);
}

// Flatten, Reshape, Squeeze, Unsqueeze, Transpose: new dims over the same data.
void Importer::reshape(int n, const onnx::NodeProto& node) {
  const std::string& op = node.op_type();
  const Value& x = activation(n, node, 0);
  if (x.padded()) node_fail(n, node, "the output of a Pad node can only feed a Conv or an AveragePool");
  const std::vector<int64_t>& d = x.dims;
  const int64_t rank = int64_t(d.size()) + 1;
  const std::optional<int64_t> size = element_count(d);  // bounded by graph_shape
  if (!size) node_fail(n, node, "input dims " + dims_str(d, true) + " have too many elements");
  std::vector<int64_t> out;
  if (op == "Flatten") {
    int64_t axis = attr_i(node, "axis", 1);
    if (axis < 0) axis += rank;
    if (axis != 1)
      node_fail(n, node, "only axis=1 (keep the batch dimension) is supported, got " + std::to_string(attr_i(node, "axis", 1)));
    out = {*size};
  } else if (op == "Reshape") {
    std::vector<int64_t> s;
    if (has_input(node, 1)) s = constant(n, node, 1, "shape", false).i64;
    else if (attr(node, "shape")) s = attr_ints(node, "shape");
    else node_fail(n, node, "Reshape needs a shape");
    const std::string given = dims_str(s, false);
    if (s.empty() || !(s[0] == 0 || s[0] == -1 || s[0] == 1 || s[0] == batch_))
      node_fail(n, node, "the first dimension of the target shape " + given + " must keep the batch (0, -1, 1" +
                             (batch_ > 1 ? " or the input's batch " + std::to_string(batch_) : std::string()) + ")");
    const bool allow_zero = attr_i(node, "allowzero", 0) != 0;
    int infer = s[0] == -1 ? 0 : -1;
    int64_t known = 1;
    for (size_t i = 1; i < s.size(); ++i) {
      if (s[i] == 0 && !allow_zero) {
        if (i - 1 >= d.size()) node_fail(n, node, "target shape " + given + " copies a dimension the input lacks");
        s[i] = d[i - 1];
      }
      if (s[i] == -1) {
        if (infer >= 0) node_fail(n, node, "target shape " + given + " has two inferred (-1) dimensions");
        infer = int(i);
      } else if (s[i] <= 0) {
        node_fail(n, node, "target shape " + given + " has an empty or negative dimension");
      } else if (__builtin_mul_overflow(known, s[i], &known)) {
        node_fail(n, node, "target shape " + given + " has more elements than fit in 64 bits");
      }
    }
    if (infer > 0) s[size_t(infer)] = known > 0 && *size % known == 0 ? *size / known : -1;
    out.assign(s.begin() + 1, s.end());
    if (element_count(out) != size || std::any_of(out.begin(), out.end(), [](int64_t v) { return v <= 0; }))
      node_fail(n, node, "cannot reshape " + dims_str(d, true) + " to " + given + " keeping the batch");
  } else if (op == "Squeeze" || op == "Unsqueeze") {
    std::vector<int64_t> axes = has_input(node, 1) ? constant(n, node, 1, "axes", false).i64 : attr_ints(node, "axes");
    const int64_t out_rank = op == "Squeeze" ? rank : rank + int64_t(axes.size());
    for (int64_t& a : axes) {
      if (a < 0) a += out_rank;
      if (a == 0) node_fail(n, node, op + " of the batch axis 0 is not supported");
      if (a < 0 || a >= out_rank) node_fail(n, node, "axis out of range");
    }
    if (op == "Squeeze") {
      for (size_t i = 0; i < d.size(); ++i) {
        const bool listed = std::count(axes.begin(), axes.end(), int64_t(i) + 1) > 0;
        if (listed && d[i] != 1)
          node_fail(n, node, "squeezes axis " + std::to_string(i + 1) + " of size " + std::to_string(d[i]));
        if (!(listed || (axes.empty() && d[i] == 1))) out.push_back(d[i]);
      }
    } else {
      std::sort(axes.begin(), axes.end());
      out = d;
      for (int64_t a : axes) out.insert(out.begin() + std::min<int64_t>(a - 1, int64_t(out.size())), 1);
    }
  } else {  // Transpose: fine if the batch stays first and the dims larger than 1 keep their order
    std::vector<int64_t> perm = attr_ints(node, "perm");
    if (perm.empty())
      for (int64_t i = rank - 1; i >= 0; --i) perm.push_back(i);
    if (int64_t(perm.size()) != rank) node_fail(n, node, "perm has " + std::to_string(perm.size()) + " entries for rank " + std::to_string(rank));
    std::vector<int64_t> sorted = perm;
    std::sort(sorted.begin(), sorted.end());
    for (int64_t i = 0; i < rank; ++i)
      if (sorted[size_t(i)] != i) node_fail(n, node, "perm " + dims_str(perm, false) + " is not a permutation");
    int64_t last = 0;
    bool ok = perm[0] == 0;
    for (size_t i = 1; ok && i < perm.size(); ++i) {
      if (perm[i] < 1 || perm[i] >= rank) ok = false;
      else if (d[size_t(perm[i] - 1)] != 1) {
        ok = perm[i] > last;
        last = perm[i];
      }
      if (ok) out.push_back(d[size_t(perm[i] - 1)]);
    }
    if (!ok)
      node_fail(n, node, "perm " + dims_str(perm, false) + " on " + dims_str(d, true) +
                             " changes the order of the elements; only moving size-1 axes is supported");
  }
  alias(n, node, x, out, true);
}

void Importer::pad(int n, const onnx::NodeProto& node) {
  const Value& x = activation(n, node, 0);
  if (attr_s(node, "mode", "constant") != "constant")
    node_fail(n, node, "only mode 'constant' (zero padding) is supported");
  std::vector<int64_t> p = opset_ < 11 ? attr_ints(node, "pads") : constant(n, node, 1, "pads", false).i64;
  float value = attr_f(node, "value", 0.0f);
  if (opset_ >= 11 && has_input(node, 2)) {
    const ConstTensor& v = constant(n, node, 2, "constant_value", true);
    if (v.count() != 1) node_fail(n, node, "constant_value must be a scalar");
    value = v.f[0];
  }
  if (has_input(node, 3)) node_fail(n, node, "the axes input is not supported");
  if (value != 0.0f) node_fail(n, node, "only zero padding is supported, got " + std::to_string(value));
  if (x.dims.size() != 3 || p.size() != 8 || p[0] || p[1] || p[4] || p[5])
    node_fail(n, node, "only padding of H and W of [N, C, H, W] is supported, got pads " + dims_str(p, false));
  for (int64_t v : p)
    if (v < 0 || v > kMaxPad)
      node_fail(n, node, "pads must be between 0 and " + std::to_string(kMaxPad) + ", got " + dims_str(p, false));
  Value v = x;
  v.exclusive = x.exclusive && consumers(node.input(0)) == 1;
  v.pad[0] += int(p[2]), v.pad[1] += int(p[3]), v.pad[2] += int(p[6]), v.pad[3] += int(p[7]);
  v.dims[1] += p[2] + p[6];
  v.dims[2] += p[3] + p[7];
  // Pad nodes in a row add up: the padded map must still be one the graph can hold.
  graph_shape(n, node, v.dims);
  values_[node.output(0)] = v;
}

void Importer::pass_through(int n, const onnx::NodeProto& node) {
  const Value& x = activation(n, node, 0);
  if (node.op_type() == "Dropout" && has_input(node, 2)) {
    auto it = consts_.find(node.input(2));
    const bool training = it == consts_.end() || (it->second.is_float ? it->second.f.empty() || it->second.f[0] != 0.0f
                                                                     : it->second.i64.empty() || it->second.i64[0] != 0);
    if (training) node_fail(n, node, "Dropout in training mode (training_mode is true or not a constant)");
  }
  alias(n, node, x, x.dims, false);
}

}  // namespace aimc::compiler::onnx_detail
