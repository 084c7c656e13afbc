// Element-wise nodes: Add, Mul, Div and Sub (with a constant, or of two maps: of one shape, or one
// value per channel), Relu / Clip (the output clamp) and the activations with torch's patterns of
// them (x * Sigmoid(x), x * HardSigmoid(x), the Erf chain of GELU); each folds into the op before
// it where that op can carry it.
#include "onnx_importer.h"

namespace aimc::compiler::onnx_detail {

void Importer::add(int n, const onnx::NodeProto& node) {
  if (node.input_size() != 2) node_fail(n, node, "Add needs two inputs");
  const bool c0 = consts_.count(node.input(0)) > 0, c1 = consts_.count(node.input(1)) > 0;
  if (!c0 && !c1) return two_maps(n, node, OpKind::Add);
  // Activation plus a constant: a bias, broadcast per channel or over everything.
  const int xi = c0 ? 1 : 0;
  const Value& x = activation(n, node, xi);
  const Eigen::VectorXf bias = channel_constant(n, node, 1 - xi, x, "adds");
  const int64_t channels = bias.size();
  if (const int op = affine_target(node.input(xi), x, channels); op >= 0) {
    Op& o = graph_.ops[size_t(op)];
    o.bias += bias;
    // A bias of the source model's Conv / Gemm / MatMul, written as a separate Add.
    if (o.onnx_op == "Conv" || o.onnx_op == "Gemm" || o.onnx_op == "MatMul")
      graph_.source_params += consts_.at(node.input(1 - xi)).count();
    return folded_into(n, node, op, x);
  }
  depthwise_affine(n, node, x, Eigen::VectorXf::Ones(channels), bias);
}

// A constant operand broadcast against activation x: per channel or one value for all, as a vector
// of x's channels; anything else (a per-pixel constant) is refused naming `verb` ("adds", ...).
Eigen::VectorXf Importer::channel_constant(int n, const onnx::NodeProto& node, int ci, const Value& x,
                                           const char* verb) const {
  const ConstTensor& c = constant(n, node, ci, "constant operand", true);
  std::vector<int64_t> full = x.dims;
  full.insert(full.begin(), 1);
  bool ok = c.dims.size() <= full.size() && c.count() >= 1;
  int64_t per_channel = 1;
  for (size_t i = 0; ok && i < c.dims.size(); ++i) {
    const size_t axis = full.size() - c.dims.size() + i;  // broadcasting aligns the last dims
    const int64_t d = c.dims[i];
    if (axis == 1 && d == full[1]) per_channel = d;
    else if (d != 1) ok = false;
  }
  if (!ok)
    node_fail(n, node, std::string(verb) + " a constant of shape " + dims_str(c.dims, false) + " and " +
                           dims_str(x.dims, true) + "; only a per-channel or scalar constant is supported");
  const int64_t channels = x.dims.empty() ? 1 : x.dims[0];
  Eigen::VectorXf v(channels);
  for (int64_t j = 0; j < channels; ++j) v(j) = c.f[per_channel > 1 ? size_t(j) : 0];
  return v;
}

// Add or Mul of two activations: of one shape, or one of them a value per channel of the other
// ([C], [C, 1] or [C, 1, 1]: a squeeze-excitation gate), which becomes the second input.
void Importer::two_maps(int n, const onnx::NodeProto& node, OpKind kind) {
  const Value* a = &activation(n, node, 0);
  const Value* b = &activation(n, node, 1);
  auto per_channel_of = [](const Value& g, const Value& x) {  // g holds one value per channel of x
    if (x.dims.empty() || g.dims.empty() || g.dims[0] != x.dims[0] || g.dims.size() > x.dims.size()) return false;
    return std::all_of(g.dims.begin() + 1, g.dims.end(), [](int64_t d) { return d == 1; });
  };
  if (a->dims != b->dims) {
    if (per_channel_of(*a, *b)) std::swap(a, b);
    else if (!per_channel_of(*b, *a))
      node_fail(n, node, std::string(kind == OpKind::Add ? "adds " : "multiplies ") + dims_str(a->dims, true) +
                             " and " + dims_str(b->dims, true) +
                             "; only maps of one shape, or a map and one value per channel of it, are supported");
  }
  if (a->padded() || b->padded()) node_fail(n, node, "the output of a Pad node can only feed a Conv or an AveragePool");
  Op op;
  op.kind = kind;
  op.inputs = {as_tensor(n, node, *a), as_tensor(n, node, *b)};  // a per-channel operand is C x 1 x 1
  const std::vector<int64_t> dims = a->dims;
  emit(n, node, std::move(op), dims);
}

// Mul, Div and Sub with a constant operand: y = s x + t per channel (input normalisation, a scale
// after a layer), folded into the Conv before it when it is the only reader, else a depthwise 1x1
// convolution. Mul of an activation by a gate of itself is SiLU / HardSwish (act_node); the Erf
// form of GELU that torch exports starts with a Div (gelu_chain).
void Importer::arithmetic(int n, const onnx::NodeProto& node) {
  const std::string& op = node.op_type();
  if (node.input_size() != 2) node_fail(n, node, op + " needs two inputs");
  if (op == "Div" && gelu_chain(n, node)) return;
  const bool c0 = consts_.count(node.input(0)) > 0, c1 = consts_.count(node.input(1)) > 0;
  if (!c0 && !c1 && op == "Mul") return two_maps(n, node, OpKind::Mul);
  if (!c0 && !c1)
    node_fail(n, node, op + " of two activations is not supported (only with a constant operand)");
  if (op == "Div" && c0) node_fail(n, node, "a constant divided by an activation is not supported");
  const int xi = c0 ? 1 : 0;
  const Value& x = activation(n, node, xi);
  const Eigen::VectorXf c = channel_constant(n, node, 1 - xi, x, op == "Mul" ? "multiplies" : op == "Div" ? "divides" : "subtracts");
  const long channels = c.size();
  Eigen::VectorXf s = Eigen::VectorXf::Ones(channels), t = Eigen::VectorXf::Zero(channels);
  if (op == "Mul") s = c;
  else if (op == "Div") {
    if ((c.array() == 0.0f).any()) node_fail(n, node, "divides by a constant that has a zero");
    s = c.cwiseInverse();
  } else if (xi == 0) {  // x - c
    t = -c;
  } else {  // c - x
    s = -s, t = c;
  }
  if (!s.allFinite() || !t.allFinite()) node_fail(n, node, "the constant gives a non-finite scale or offset");
  if (const int target = affine_target(node.input(xi), x, channels); target >= 0) {
    Op& o = graph_.ops[size_t(target)];
    o.weight = s.asDiagonal() * o.weight;
    o.bias = s.cwiseProduct(o.bias) + t;
    return folded_into(n, node, target, x);
  }
  depthwise_affine(n, node, x, s, t);
}

void Importer::clamp(int n, const onnx::NodeProto& node) {
  const Value& x = activation(n, node, 0);
  float lo = 0.0f, hi = kInf;
  if (node.op_type() == "Clip") {
    lo = -kInf;
    if (opset_ < 11) {
      lo = attr_f(node, "min", -kInf);
      hi = attr_f(node, "max", kInf);
    } else {
      auto bound = [&](int i, float dflt) {
        if (!has_input(node, i)) return dflt;
        const ConstTensor& t = constant(n, node, i, i == 1 ? "min" : "max", true);
        if (t.count() != 1) node_fail(n, node, "Clip bounds must be scalars");
        return t.f[0];
      };
      lo = bound(1, -kInf);
      hi = bound(2, kInf);
    }
    if (!(lo <= hi)) node_fail(n, node, "min " + std::to_string(lo) + " exceeds max " + std::to_string(hi));
  }
  if (x.padded()) node_fail(n, node, "the output of a Pad node can only feed a Conv or an AveragePool");
  std::string why;
  const int op = fold_target(node.input(0), x, why);
  if (op < 0)
    node_fail(n, node, "cannot be folded into the op before it: " + why +
                           " (the chip applies Relu / Clip as the output clamp of the producing op)");
  Op& o = graph_.ops[size_t(op)];
  o.act_min = std::max(o.act_min, lo);
  o.act_max = std::min(o.act_max, hi);
  if (!(o.act_min <= o.act_max))
    node_fail(n, node, "the combined clamp of '" + o.name + "' is empty");
  folded_into(n, node, op, x);
}

// ---- activations ----

// The node that reads `value` when exactly one does (and the value is not a graph output), or -1.
int Importer::only_reader(const std::string& value) const {
  auto it = readers_.find(value);
  if (it == readers_.end() || it->second.size() != 1 || consumers(value) != 1) return -1;
  return it->second.front();
}

// Node n (Sigmoid or HardSigmoid of x) is the gate of x * gate(x) when its only reader is a Mul of
// x and its output, and x has no third reader: the Mul's index, or -1.
int Importer::gate_mul(const onnx::NodeProto& node) const {
  const int m = only_reader(node.output(0));
  if (m < 0) return -1;
  const onnx::NodeProto& mul = graph_proto_->node(m);
  if (mul.op_type() != "Mul" || mul.input_size() != 2) return -1;
  const std::string& x = node.input(0);
  const bool pair = (mul.input(0) == x && mul.input(1) == node.output(0)) ||
                    (mul.input(1) == x && mul.input(0) == node.output(0));
  return pair && consumers(x) == 2 ? m : -1;
}

// torch's export of GELU (approximate='none') at its first node: Div(x, sqrt 2) -> Erf -> Add(1)
// -> Mul(x, .) -> Mul(., 0.5) (either operand order), each read only by the next, x read only by
// the Div and the first Mul. Folds the chain as one GELU and returns true, or returns false.
bool Importer::gelu_chain(int n, const onnx::NodeProto& div) {
  auto scalar = [&](const std::string& name, float want) {
    // The chain's constants may be Constant nodes that come later in the order: read them now.
    if (!consts_.count(name))
      if (auto p = producer_node_.find(name); p != producer_node_.end() && graph_proto_->node(p->second).op_type() == "Constant")
        constant_node(p->second, graph_proto_->node(p->second));
    auto it = consts_.find(name);
    return it != consts_.end() && it->second.is_float && it->second.count() == 1 &&
           std::fabs(it->second.f[0] - want) <= 1e-4f * std::fabs(want);
  };
  auto other = [](const onnx::NodeProto& nd, const std::string& in) -> std::string {
    if (nd.input_size() != 2) return {};
    return nd.input(0) == in ? nd.input(1) : nd.input(1) == in ? nd.input(0) : std::string();
  };
  const std::string& x = div.input(0);
  if (!values_.count(x) || !scalar(div.input(1), std::sqrt(2.0f)) || consumers(x) != 2) return false;
  const int erf = only_reader(div.output(0));
  if (erf < 0 || graph_proto_->node(erf).op_type() != "Erf") return false;
  const int add1 = only_reader(graph_proto_->node(erf).output(0));
  if (add1 < 0 || graph_proto_->node(add1).op_type() != "Add" ||
      !scalar(other(graph_proto_->node(add1), graph_proto_->node(erf).output(0)), 1.0f))
    return false;
  const int mul_x = only_reader(graph_proto_->node(add1).output(0));
  if (mul_x < 0 || graph_proto_->node(mul_x).op_type() != "Mul" ||
      other(graph_proto_->node(mul_x), graph_proto_->node(add1).output(0)) != x)
    return false;
  const int half = only_reader(graph_proto_->node(mul_x).output(0));
  if (half < 0 || graph_proto_->node(half).op_type() != "Mul" ||
      !scalar(other(graph_proto_->node(half), graph_proto_->node(mul_x).output(0)), 0.5f))
    return false;
  absorbed_.insert({erf, add1, mul_x, half});
  Activation a;
  a.kind = num::ActKind::gelu_erf;
  apply_act(n, div, a, graph_proto_->node(half).output(0), 2, "GELU (Div, Erf, Add, Mul, Mul)");
  return true;
}

void Importer::act_node(int n, const onnx::NodeProto& node) {
  const std::string& op = node.op_type();
  Activation a;
  std::string out = node.output(0), what = op;
  int readers = 1;
  if (op == "Sigmoid") a.kind = num::ActKind::sigmoid;
  else if (op == "Tanh") a.kind = num::ActKind::tanh;
  else if (op == "HardSwish") a.kind = num::ActKind::hard_swish;
  else if (op == "LeakyRelu") a.kind = num::ActKind::leaky_relu, a.alpha = attr_f(node, "alpha", 0.01f);
  else if (op == "Elu") a.kind = num::ActKind::elu, a.alpha = attr_f(node, "alpha", 1.0f);
  else if (op == "HardSigmoid") {
    a.kind = num::ActKind::hard_sigmoid;
    a.alpha = attr_f(node, "alpha", 0.2f), a.beta = attr_f(node, "beta", 0.5f);
  } else if (op == "Gelu") {
    const std::string approx = attr_s(node, "approximate", "none");
    if (approx != "none" && approx != "tanh") node_fail(n, node, "approximate '" + approx + "' is not 'none' or 'tanh'");
    a.kind = approx == "tanh" ? num::ActKind::gelu_tanh : num::ActKind::gelu_erf;
  } else if (op == "PRelu") {
    a.kind = num::ActKind::prelu;
    if (node.input_size() != 2) node_fail(n, node, "PRelu needs two inputs (x, slope)");
    a.slope = channel_constant(n, node, 1, activation(n, node, 0), "applies the slope");
  }
  if (!std::isfinite(a.alpha) || !std::isfinite(a.beta) || !a.slope.allFinite())
    node_fail(n, node, "a parameter is not finite");
  // x * Sigmoid(x) is SiLU; x * HardSigmoid(x) with HardSwish's constants (torch before opset 14).
  const bool hswish_gate = a.kind == num::ActKind::hard_sigmoid && std::fabs(a.alpha - 1.0f / 6.0f) < 1e-6f &&
                           std::fabs(a.beta - 0.5f) < 1e-6f;
  if (a.kind == num::ActKind::sigmoid || hswish_gate) {
    if (const int m = gate_mul(node); m >= 0) {
      absorbed_.insert(m);
      out = graph_proto_->node(m).output(0);
      readers = 2;
      what = op + " and Mul";
      a.kind = a.kind == num::ActKind::sigmoid ? num::ActKind::silu : num::ActKind::hard_swish;
      a.alpha = a.beta = 0.0f;
    }
  }
  apply_act(n, node, a, out, readers, what);
}

// Applies activation a to input 0 of node n; `out` is the ONNX value that holds the result (the
// last node of a pattern), `readers` how many of the pattern's nodes read the input. Folds into
// the op before it when that op requantizes its output, has no activation yet, and either has no
// clamp or f is monotone (a clamp before f is then a clamp after it); else an Activation op.
void Importer::apply_act(int n, const onnx::NodeProto& node, const Activation& a, const std::string& out,
                         int readers, const std::string& what) {
  const Value& x = activation(n, node, 0);
  if (x.padded()) node_fail(n, node, "the output of a Pad node can only feed a Conv or an AveragePool");
  const int64_t channels = x.dims.empty() ? 1 : x.dims[0];
  std::string why;
  int target = fold_target(node.input(0), x, why, readers);
  if (target >= 0) {
    const Op& o = graph_.ops[size_t(target)];
    const bool requantizes = o.kind == OpKind::Conv || o.kind == OpKind::Add || o.kind == OpKind::Mul ||
                             o.kind == OpKind::AvgPool || o.kind == OpKind::GlobalAvgPool || o.kind == OpKind::Concat;
    const Shape s = graph_.tensors[size_t(x.tensor)].shape;
    if (!requantizes || o.act != num::ActKind::none || s.c != channels ||
        (o.has_clamp() && !num::activation_monotone(a.kind, a.alpha)))
      target = -1;
  }
  auto set = [&](Op& o) {
    o.act = a.kind, o.act_alpha = a.alpha, o.act_beta = a.beta;
    if (a.kind == num::ActKind::prelu) o.act_slope = a.slope;
  };
  Value v = x;
  if (target >= 0) {
    Op& o = graph_.ops[size_t(target)];
    // The clamp was before f: with f monotone it is the clamp of f(y) to [f(lo), f(hi)].
    auto f = [&](float b) { return std::isfinite(b) ? num::activate(a.kind, b, a.alpha, a.beta) : b; };
    o.act_min = f(o.act_min), o.act_max = f(o.act_max);
    set(o);
    o.folded.push_back(what + " '" + node_name(n, node) + "'");
    graph_.tensors[size_t(o.output)].name = out;
    v.exclusive = true;
    values_[out] = v;
    return;
  }
  Op op;
  op.kind = OpKind::Activation;
  set(op);
  op.inputs = {as_tensor(n, node, x)};
  op.name = unique_name(node_name(n, node));
  op.onnx_op = what;
  Value r;
  r.tensor = push_op(std::move(op), out, [&](const std::string& m) { node_fail(n, node, m); });
  r.dims = x.dims;
  values_[out] = r;
}

}  // namespace aimc::compiler::onnx_detail
