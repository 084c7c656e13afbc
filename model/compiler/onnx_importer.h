// The ONNX importer's internals (model/compiler only): the Importer class, shared by
// onnx_import.cpp (loading, constants, shapes and the walk over the nodes) and the node files (one
// member function per ONNX op kind, dispatched by Importer::apply in onnx_ops.cpp; nodes on
// constants in onnx_constants.cpp, element-wise ones in onnx_elementwise.cpp).
// The importer sorts the nodes topologically itself (so cycles and dangling inputs are found and
// named), refuses nodes whose outputs never reach the graph output, then walks the nodes once.
// Every activation value maps to a graph tensor plus its ONNX per-image dims: reshapes, flattens,
// squeezes and order-preserving transposes only change the dims (the data is stored in C, H, W
// order either way); a Flatten op is emitted only where a consumer needs a flat tensor of a map.
// Folding (BatchNormalization, bias Add, Relu, Clip) needs the folded node to be the only reader
// of the producer's output: otherwise another reader would see the value after the fold.
// Weights must be initializers or Constant nodes (a weight computed at run time cannot be
// programmed into flash); small integer shape computations (Shape, Gather, Unsqueeze, Concat,
// Cast, as torch exports for x.view(x.size(0), -1)) are evaluated here, with a batch of 1.
#pragma once

#include "onnx_import.h"

#include <onnx/onnx_pb.h>
#include <algorithm>
#include <array>
#include <climits>
#include <cmath>
#include <cstring>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <sstream>

namespace aimc::compiler::onnx_detail {

inline const char* kSupported =
    "supported: Conv, Gemm, MatMul, Add, BatchNormalization, Relu, Clip, Sigmoid, Tanh, LeakyRelu, PRelu, "
    "HardSigmoid, HardSwish, Elu, Gelu (and x * Sigmoid(x), the Erf form of GELU), Mul/Div/Sub by a constant, "
    "Add and Mul of two maps (or of a map and one value per channel), "
    "MaxPool, AveragePool, Conv/MaxPool/AveragePool on sequences [N, C, L], ReduceMean over the spatial axes, "
    "GlobalAveragePool, GlobalMaxPool, Concat, Softmax, Flatten, Reshape, Transpose (order-preserving), "
    "Squeeze, Unsqueeze, Pad (zeros, before Conv/AveragePool), Identity, Dropout; "
    "Constant, Shape, Gather, Cast on constants";

inline constexpr float kInf = std::numeric_limits<float>::infinity();

// The newest version of the default operator set the importer knows. Every op it supports was
// checked against the operator changelog up to here: the changes after opset 13 are types (int4,
// float8, bfloat16, ...) the importer refuses anyway, Reshape's allowzero (14) and Shape's
// start/end (15), which it reads, and Pad's axes input (18), Pad's wrap mode and AveragePool's
// dilations (19), which it refuses. A model of a newer opset may mean something else by an op.
inline constexpr int64_t kNewestOpset = 21;

// Zero padding of one side of a map, by a Pad node or a window's pads: far beyond what a network
// uses (a few pixels), small enough that window arithmetic on padded maps stays in int.
inline constexpr int64_t kMaxPad = 1024;

// Elements a node on constants may create (ConstantOfShape): shape computations and pads are a
// handful; a model asking for more is refused rather than allocating what it says.
inline constexpr int64_t kMaxFoldedElements = int64_t(1) << 20;

// The element count of `dims`, or nothing when a dimension is negative or the count does not fit
// in int64: a model's dims are untrusted, and an unchecked product of them is undefined behaviour.
inline std::optional<int64_t> element_count(const std::vector<int64_t>& dims) {
  int64_t c = 1;
  for (int64_t d : dims)
    if (d < 0 || __builtin_mul_overflow(c, d, &c)) return std::nullopt;
  return c;
}

// A tensor known at compile time: float weights or integer shapes.
struct ConstTensor {
  std::vector<int64_t> dims;
  bool is_float = true;
  std::vector<float> f;
  std::vector<int64_t> i64;
  // dims are checked where a tensor is made (to_const, the constant Reshape); -1 marks the
  // placeholder of an unsupported type (dims {-1}).
  int64_t count() const { return element_count(dims).value_or(-1); }
};

// An activation: the graph tensor holding it and its ONNX dims without the batch.
struct Value {
  int tensor = -1;
  std::vector<int64_t> dims;
  // True while every ONNX value between the producing op's output and this one had exactly one
  // reader, so that folding into that op changes nothing anyone else sees.
  bool exclusive = true;
  // Zero padding (top, left, bottom, right) of a Pad node, still to be applied by the consumer;
  // dims already include it.
  std::array<int, 4> pad{0, 0, 0, 0};
  // The Flatten / Reshape node that last changed dims: names the Flatten op if one is needed.
  std::string reshaped_by, reshaped_by_op;
  bool padded() const { return pad[0] || pad[1] || pad[2] || pad[3]; }
};

inline std::string type_name(int32_t t) {
  const auto* v = onnx::TensorProto_DataType_descriptor()->FindValueByNumber(t);
  return v ? v->name() : "type " + std::to_string(t);
}

inline std::string dims_str(const std::vector<int64_t>& d, bool with_batch) {
  std::string s = with_batch ? "[N" : "[";
  for (size_t i = 0; i < d.size(); ++i) s += (i || with_batch ? ", " : "") + std::to_string(d[i]);
  return s + "]";
}

class Importer {
 public:
  explicit Importer(std::string path) : path_(std::move(path)) {}

  Graph run() {
    const onnx::ModelProto model = load();
    const onnx::GraphProto& g = model.graph();
    graph_proto_ = &g;
    read_opset(model);
    if (g.node_size() == 0) fail("empty graph (no nodes)");

    for (const auto& init : g.initializer()) consts_[init.name()] = to_const(init, "initializer '" + init.name() + "'");
    std::vector<const onnx::ValueInfoProto*> inputs;
    for (const auto& in : g.input())
      if (!consts_.count(in.name())) inputs.push_back(&in);
    if (inputs.size() != 1)
      fail("graph has " + std::to_string(inputs.size()) + " data inputs; exactly one is supported");
    if (g.output_size() != 1)
      fail("graph has " + std::to_string(g.output_size()) + " outputs; exactly one is supported");
    const std::string& out_name = g.output(0).name();

    graph_.name = stem(path_);  // says more than exporters' graph names ("torch_jit", "main_graph")
    graph_.source = path_;
    graph_.source_params = 0;
    add_input(*inputs[0]);

    const std::vector<int> order = topological_order(g, inputs[0]->name());
    check_all_used(g, out_name);
    for (int n : order) {
      const onnx::NodeProto& node = g.node(n);
      if (node.op_type() == "Shape") continue;  // reads dims only, not data
      for (const auto& in : node.input())
        if (!in.empty()) ++consumers_[in], readers_[in].push_back(n);
    }
    ++consumers_[out_name];

    for (int n : order) apply(n, g.node(n));

    if (consts_.count(out_name)) fail("the graph output '" + out_name + "' is a constant");
    auto it = values_.find(out_name);
    if (it == values_.end()) fail("the graph output '" + out_name + "' is produced by no node");
    const Value& out = it->second;
    if (out.padded()) fail("the graph output '" + out_name + "' is the output of a Pad node");
    graph_.output = as_tensor(out, graph_shape(out.dims, [&](const std::string& m) { fail("graph output: " + m); }),
                              [&](const std::string& m) { fail("graph output '" + out_name + "': " + m); });
    graph_.tensors[size_t(graph_.output)].name = out_name;
    if (graph_.ops.empty()) fail("graph has no op to compute (only reshapes of the input)");
    try {
      graph_.validate();
    } catch (const std::invalid_argument& e) {
      fail(std::string("internal error, imported graph is inconsistent: ") + e.what());
    }
    return std::move(graph_);
  }

 private:
  using Fail = std::function<void(const std::string&)>;

  // ---- errors ----
  [[noreturn]] void fail(const std::string& msg) const { throw ModelError(path_ + ": " + msg); }
  static std::string describe(int n, const onnx::NodeProto& node) {
    return "node " + std::to_string(n) + " '" + node.name() + "' (" + node.op_type() + ")";
  }
  [[noreturn]] void node_fail(int n, const onnx::NodeProto& node, const std::string& msg) const {
    fail(describe(n, node) + ": " + msg);
  }
  static std::string stem(const std::string& p) {
    const size_t slash = p.find_last_of('/');
    std::string base = p.substr(slash == std::string::npos ? 0 : slash + 1);
    return base.substr(0, base.find_last_of('.'));
  }

  // ---- loading ----
  onnx::ModelProto load() const {
    std::ifstream f(path_, std::ios::binary);
    if (!f) fail("cannot open file (" + std::string(std::strerror(errno)) + ")");
    std::ostringstream ss;
    ss << f.rdbuf();
    const std::string bytes = ss.str();
    if (bytes.empty()) fail("file is empty: not a valid ONNX model");
    onnx::ModelProto model;
    if (!model.ParseFromString(bytes)) fail("not a valid ONNX protobuf (ModelProto parse failed)");
    if (!model.has_graph()) fail("not a valid ONNX model: no graph");
    return model;
  }

  void read_opset(const onnx::ModelProto& model) {
    for (const auto& o : model.opset_import())
      if (o.domain().empty() || o.domain() == "ai.onnx") opset_ = o.version();
    if (opset_ <= 0) fail("model imports no version of the default ONNX operator set (opset_import)");
    if (opset_ > kNewestOpset)
      fail("model imports opset " + std::to_string(opset_) + " of the default ONNX operator set; the importer knows opsets up to " +
           std::to_string(kNewestOpset) + " (export with opset_version=" + std::to_string(kNewestOpset) + " or lower)");
  }

  // A tensor's values, checked against its dims before anything is allocated. `what` names it in
  // messages: "initializer 'w'" or "node 3 'c' (Constant): the tensor of attribute 'value'".
  ConstTensor to_const(const onnx::TensorProto& t, const std::string& what) const {
    ConstTensor c;
    c.dims.assign(t.dims().begin(), t.dims().end());
    if (t.data_location() == onnx::TensorProto_DataLocation_EXTERNAL)
      fail(what + " uses external data, which is not supported; save the model with weights inside");
    const std::optional<int64_t> checked_count = element_count(c.dims);
    if (!checked_count)
      fail(what + " has dims " + dims_str(c.dims, false) +
           ": a dimension is negative or the element count does not fit in 64 bits");
    const int64_t count = *checked_count;
    const std::string& raw = t.raw_data();
    auto raw_size_ok = [&](size_t bytes_each) {
      if (raw.size() % bytes_each != 0 || raw.size() / bytes_each != uint64_t(count))
        fail(what + ": raw_data has " + std::to_string(raw.size()) + " bytes for " +
             std::to_string(count) + " " + type_name(t.data_type()) + " values of dims " + dims_str(c.dims, false));
    };
    // ONNX raw_data is little-endian; so is every host this runs on (checked in image.cpp).
    switch (t.data_type()) {
      case onnx::TensorProto_DataType_FLOAT:
        if (!raw.empty()) {
          raw_size_ok(4);
          c.f.resize(size_t(count));
          std::memcpy(c.f.data(), raw.data(), size_t(count) * 4);
        } else {
          if (t.float_data_size() != count)
            fail(what + ": float_data has " + std::to_string(t.float_data_size()) +
                 " values for " + std::to_string(count) + " (dims " + dims_str(c.dims, false) + ")");
          c.f.assign(t.float_data().begin(), t.float_data().end());
        }
        return c;
      case onnx::TensorProto_DataType_INT64:
        c.is_float = false;
        if (!raw.empty()) {
          raw_size_ok(8);
          c.i64.resize(size_t(count));
          std::memcpy(c.i64.data(), raw.data(), size_t(count) * 8);
        } else {
          c.i64.assign(t.int64_data().begin(), t.int64_data().end());
        }
        break;
      case onnx::TensorProto_DataType_BOOL:
        c.is_float = false;
        if (!raw.empty()) {
          raw_size_ok(1);
          for (char b : raw) c.i64.push_back(b != 0);
        } else {
          c.i64.assign(t.int32_data().begin(), t.int32_data().end());
        }
        break;
      case onnx::TensorProto_DataType_INT32:
        c.is_float = false;
        if (!raw.empty()) {
          raw_size_ok(4);
          std::vector<int32_t> v(static_cast<size_t>(count));
          std::memcpy(v.data(), raw.data(), size_t(count) * 4);
          c.i64.assign(v.begin(), v.end());
        } else {
          c.i64.assign(t.int32_data().begin(), t.int32_data().end());
        }
        break;
      default:
        // Other types are stored without values: any use of them as weights or shapes is refused.
        c.is_float = false;
        c.dims = {-1};
        return c;
    }
    if (int64_t(c.i64.size()) != count)
      fail(what + " has " + std::to_string(c.i64.size()) + " values for " +
           std::to_string(count) + " (dims " + dims_str(c.dims, false) + ")");
    return c;
  }

  void add_input(const onnx::ValueInfoProto& in) {
    if (!in.type().has_tensor_type()) fail("input '" + in.name() + "' is not a tensor");
    const auto& tt = in.type().tensor_type();
    if (tt.elem_type() != onnx::TensorProto_DataType_FLOAT)
      fail("input '" + in.name() + "' has element type " + type_name(tt.elem_type()) + "; expected FLOAT");
    if (!tt.has_shape()) fail("input '" + in.name() + "' has no shape; expected [N, C, H, W], [N, C, L] or [N, features]");
    const int rank = tt.shape().dim_size();
    if (rank < 2 || rank > 4)
      fail("input '" + in.name() + "' has rank " + std::to_string(rank) +
           "; supported are [N, C, H, W] (images), [N, C, L] (sequences: channels, then time) and [N, features] (vectors)");
    // A fixed batch (an export without dynamic axes) is the batch of the shape computations and
    // Reshape targets; the chip runs any number of images either way.
    const auto& batch = tt.shape().dim(0);
    if (batch.has_dim_value() && (batch.dim_value() < 1 || batch.dim_value() > INT_MAX))
      fail("input '" + in.name() + "' has a batch dimension of " + std::to_string(batch.dim_value()));
    batch_ = batch.has_dim_value() ? batch.dim_value() : 1;
    Value v;
    for (int d = 1; d < rank; ++d) {
      const auto& dim = tt.shape().dim(d);
      if (!dim.has_dim_value() || dim.dim_value() <= 0 || dim.dim_value() > INT_MAX)
        fail("input '" + in.name() + "': dimension " + std::to_string(d) + " must be a fixed positive size");
      v.dims.push_back(dim.dim_value());
    }
    v.exclusive = false;  // no op to fold into
    graph_.input = v.tensor = graph_.add_tensor(in.name(), graph_shape(v.dims, [&](const std::string& m) { fail(m); }));
    producer_.push_back(-1);
    values_[in.name()] = v;
  }

  // Kahn's algorithm over the value names; refuses dangling inputs, duplicate producers, cycles.
  std::vector<int> topological_order(const onnx::GraphProto& g, const std::string& input) {
    std::map<std::string, int> producer;
    for (int n = 0; n < g.node_size(); ++n)
      for (const auto& o : g.node(n).output()) {
        if (o.empty()) continue;
        if (consts_.count(o) || o == input)
          node_fail(n, g.node(n), "output '" + o + "' overwrites an initializer or the graph input");
        if (!producer.emplace(o, n).second)
          node_fail(n, g.node(n), "output '" + o + "' is also produced by " + describe(producer[o], g.node(producer[o])));
      }
    std::vector<int> pending(size_t(g.node_size()), 0);
    std::map<std::string, std::vector<int>> readers;
    for (int n = 0; n < g.node_size(); ++n)
      for (const auto& in : g.node(n).input()) {
        if (in.empty() || consts_.count(in) || in == input) continue;
        if (!producer.count(in))
          node_fail(n, g.node(n), "input '" + in + "' is not produced by any node, initializer or graph input");
        ++pending[size_t(n)];
        readers[in].push_back(n);
      }
    producer_node_ = producer;
    std::vector<int> order, ready;
    for (int n = g.node_size() - 1; n >= 0; --n)
      if (pending[size_t(n)] == 0) ready.push_back(n);
    while (!ready.empty()) {
      const int n = ready.back();
      ready.pop_back();
      order.push_back(n);
      for (const auto& o : g.node(n).output())
        for (int r : readers[o])
          if (--pending[size_t(r)] == 0) ready.push_back(r);
    }
    if (int(order.size()) != g.node_size())
      for (int n = 0; n < g.node_size(); ++n)
        if (pending[size_t(n)] > 0) node_fail(n, g.node(n), "is part of a cycle (the graph must be acyclic)");
    return order;
  }

  // Every node but a Constant must contribute to the output: a dropped branch is a bug in the model.
  void check_all_used(const onnx::GraphProto& g, const std::string& out_name) {
    std::set<int> used;
    std::vector<std::string> todo{out_name};
    while (!todo.empty()) {
      const std::string v = todo.back();
      todo.pop_back();
      auto it = producer_node_.find(v);
      if (it == producer_node_.end() || !used.insert(it->second).second) continue;
      for (const auto& in : g.node(it->second).input())
        if (!in.empty()) todo.push_back(in);
    }
    for (int n = 0; n < g.node_size(); ++n)
      if (!used.count(n) && g.node(n).op_type() != "Constant")
        node_fail(n, g.node(n), "is not used: none of its outputs reaches the graph output '" + out_name + "'");
  }

  // ---- attributes and operands ----
  static const onnx::AttributeProto* attr(const onnx::NodeProto& node, const char* name) {
    for (const auto& a : node.attribute())
      if (a.name() == name) return &a;
    return nullptr;
  }
  static int64_t attr_i(const onnx::NodeProto& node, const char* name, int64_t dflt) {
    const auto* a = attr(node, name);
    return a ? a->i() : dflt;
  }
  static float attr_f(const onnx::NodeProto& node, const char* name, float dflt) {
    const auto* a = attr(node, name);
    return a ? a->f() : dflt;
  }
  static std::vector<int64_t> attr_ints(const onnx::NodeProto& node, const char* name) {
    const auto* a = attr(node, name);
    return a ? std::vector<int64_t>(a->ints().begin(), a->ints().end()) : std::vector<int64_t>{};
  }
  static std::string attr_s(const onnx::NodeProto& node, const char* name, const std::string& dflt) {
    const auto* a = attr(node, name);
    return a ? a->s() : dflt;
  }

  bool has_input(const onnx::NodeProto& node, int i) const { return node.input_size() > i && !node.input(i).empty(); }

  const Value& activation(int n, const onnx::NodeProto& node, int i) const {
    if (!has_input(node, i)) node_fail(n, node, "missing input " + std::to_string(i));
    auto it = values_.find(node.input(i));
    if (it == values_.end())
      node_fail(n, node, "input " + std::to_string(i) + " '" + node.input(i) +
                             "' must be an activation (computed from the network input), not a constant");
    return it->second;
  }

  const ConstTensor& constant(int n, const onnx::NodeProto& node, int i, const char* role, bool want_float) const {
    if (!has_input(node, i)) node_fail(n, node, std::string("missing ") + role + " (input " + std::to_string(i) + ")");
    auto it = consts_.find(node.input(i));
    if (it == consts_.end())
      node_fail(n, node, std::string(role) + " '" + node.input(i) +
                             "' is not an initializer or Constant; weights and shapes must be known at compile time");
    if (it->second.dims == std::vector<int64_t>{-1} || it->second.is_float != want_float)
      node_fail(n, node, std::string(role) + " '" + node.input(i) + "' must be " + (want_float ? "FLOAT" : "INT64"));
    return it->second;
  }

  // A per-channel vector: dims [C] (or with leading 1s / a scalar broadcast if allowed).
  std::vector<float> channel_vector(int n, const onnx::NodeProto& node, int i, const char* role, int64_t c) const {
    const ConstTensor& t = constant(n, node, i, role, true);
    if (t.dims.size() != 1 || t.dims[0] != c)
      node_fail(n, node, std::string(role) + " '" + node.input(i) + "' has shape " + dims_str(t.dims, false) +
                             ", expected [" + std::to_string(c) + "]");
    return t.f;
  }

  int consumers(const std::string& v) const {
    auto it = consumers_.find(v);
    return it == consumers_.end() ? 0 : it->second;
  }

  // ---- shapes and tensors ----
  // The graph shape of per-image dims: [F] -> F x 1 x 1, [C, H, W] -> C x H x W, trailing 1s dropped.
  static Shape graph_shape(const std::vector<int64_t>& dims, const Fail& on_fail) {
    std::array<int64_t, 3> s{1, 1, 1};
    for (size_t i = 0; i < dims.size(); ++i) {
      if (i < 3) s[i] = dims[i];
      else if (dims[i] != 1)
        on_fail("per-image shape " + dims_str(dims, true) + " has more than 3 dimensions larger than 1");
    }
    for (int64_t v : s)
      if (v <= 0 || v > INT_MAX) on_fail("per-image shape " + dims_str(dims, true) + " has an empty or huge dimension");
    // Sizes downstream are products of these (Shape::size(), layer features): bounded here.
    const std::optional<int64_t> elements = element_count({s[0], s[1], s[2]});
    if (!elements || *elements > INT_MAX)
      on_fail("per-image shape " + dims_str(dims, true) + " has more than " + std::to_string(INT_MAX) + " elements");
    return Shape{int(s[0]), int(s[1]), int(s[2])};
  }
  Shape graph_shape(int n, const onnx::NodeProto& node, const std::vector<int64_t>& dims) const {
    return graph_shape(dims, [&](const std::string& m) { node_fail(n, node, m); });
  }

  // The tensor of `v` with graph shape `want`: the tensor itself, or (a map read as a vector) a
  // Flatten of it; anything else would need data movement the graph cannot express.
  int as_tensor(const Value& v, const Shape& want, const Fail& on_fail) {
    const Shape have = graph_.tensors[size_t(v.tensor)].shape;
    if (have == want) return v.tensor;
    if (want.size() != have.size() || want.h != 1 || want.w != 1)
      on_fail("the tensor '" + graph_.tensors[size_t(v.tensor)].name + "' (" + to_string(have) +
              ") would have to be regrouped as " + to_string(want) +
              "; only flattening a map into a vector is supported");
    auto it = flat_of_.find(v.tensor);
    if (it != flat_of_.end()) return it->second;
    Op op;
    op.kind = OpKind::Flatten;
    op.name = unique_name(v.reshaped_by.empty() ? graph_.tensors[size_t(v.tensor)].name + "_flatten" : v.reshaped_by);
    op.onnx_op = v.reshaped_by_op.empty() ? "Flatten" : v.reshaped_by_op;
    op.inputs = {v.tensor};
    const int t = push_op(std::move(op), graph_.tensors[size_t(v.tensor)].name + "_flat", on_fail);
    flat_of_[v.tensor] = t;
    return t;
  }
  int as_tensor(int n, const onnx::NodeProto& node, const Value& v) {
    if (v.padded()) node_fail(n, node, "the output of a Pad node can only feed a Conv or an AveragePool");
    return as_tensor(v, graph_shape(n, node, v.dims), [&](const std::string& m) { node_fail(n, node, m); });
  }

  std::string unique_name(const std::string& base) {
    std::string name = base;
    for (int k = 2; !op_names_.insert(name).second; ++k) name = base + "_" + std::to_string(k);
    return name;
  }

  int push_op(Op op, const std::string& out_name, const Fail& on_fail) {
    try {
      const int i = graph_.add_op(std::move(op), out_name);
      const int t = graph_.ops[size_t(i)].output;
      producer_.resize(graph_.tensors.size(), -1);
      producer_[size_t(t)] = i;
      return t;
    } catch (const std::invalid_argument& e) {
      on_fail(e.what());
    }
    return -1;
  }

  // Adds `op` for node n; its output is the node's output 0 with per-image dims `dims`.
  void emit(int n, const onnx::NodeProto& node, Op op, std::vector<int64_t> dims) {
    op.name = unique_name(node_name(n, node));
    op.onnx_op = node.op_type();
    Value v;
    v.tensor = push_op(std::move(op), node.output(0), [&](const std::string& m) { node_fail(n, node, m); });
    v.dims = std::move(dims);
    const Shape s = graph_.tensors[size_t(v.tensor)].shape;
    if (graph_shape(n, node, v.dims) != s)
      node_fail(n, node, "internal error: output dims " + dims_str(v.dims, true) + " disagree with " + to_string(s));
    values_[node.output(0)] = v;
  }

  static std::string node_name(int n, const onnx::NodeProto& node) {
    return node.name().empty() ? node.op_type() + "_" + std::to_string(n) : node.name();
  }

  // Output 0 of node n is input 0's data under new dims.
  void alias(int n, const onnx::NodeProto& node, const Value& in, std::vector<int64_t> dims, bool reshape) {
    Value v = in;
    v.exclusive = in.exclusive && consumers(node.input(0)) == 1;
    v.dims = std::move(dims);
    if (reshape) {
      v.reshaped_by = node_name(n, node);
      v.reshaped_by_op = node.op_type();
    }
    values_[node.output(0)] = v;
  }

  // The op that `v` can be folded into (its producer, read by nobody else), or -1 with `why`.
  // readers: how many nodes of the pattern being folded read in_name (x * Sigmoid(x) reads x twice).
  int fold_target(const std::string& in_name, const Value& v, std::string& why, int readers = 1) const {
    const int op = producer_[size_t(v.tensor)];
    if (op < 0) {
      why = "its input '" + in_name + "' is the network input, not the output of an op";
      return -1;
    }
    if (!v.exclusive || consumers(in_name) != readers) {
      why = "its input '" + in_name + "' (output of '" + graph_.ops[size_t(op)].name +
            "') is also read by other nodes or is a graph output, which would see the value after the fold";
      return -1;
    }
    return op;
  }

  // Records the fold of node n into op `op`: output 0 of n is the op's output.
  void folded_into(int n, const onnx::NodeProto& node, int op, const Value& in) {
    Op& o = graph_.ops[size_t(op)];
    o.folded.push_back(node.op_type() + " '" + node_name(n, node) + "'");
    graph_.tensors[size_t(o.output)].name = node.output(0);
    Value v = in;
    v.exclusive = true;
    values_[node.output(0)] = v;
  }

  // A Conv producer without a clamp whose output channels are the channels of `v` (so that a
  // per-channel affine map folds into its weights and bias), or -1.
  int affine_target(const std::string& in_name, const Value& v, int64_t channels) const {
    std::string why;
    const int op = fold_target(in_name, v, why);
    if (op < 0 || v.padded()) return -1;
    const Op& o = graph_.ops[size_t(op)];
    const Shape s = graph_.tensors[size_t(v.tensor)].shape;
    const Shape want = graph_shape(v.dims, [](const std::string&) {});
    if (o.kind != OpKind::Conv || o.has_clamp() || o.act != num::ActKind::none || s != want || s.c != channels)
      return -1;
    return op;
  }

  // ---- the nodes (onnx_ops.cpp, onnx_constants.cpp, onnx_elementwise.cpp) ----
  void apply(int n, const onnx::NodeProto& node);
  void constant_node(int n, const onnx::NodeProto& node);
  void fold_constant(int n, const onnx::NodeProto& node);
  ConstTensor slice_constant(int n, const onnx::NodeProto& node, const ConstTensor& in) const;
  ConstTensor transpose_constant(int n, const onnx::NodeProto& node, const ConstTensor& in) const;
  void window(int n, const onnx::NodeProto& node, const Value& x, Op& op, std::vector<int64_t> kernel);
  int padded_input(int n, const onnx::NodeProto& node, const Value& x, Op& op);
  void conv(int n, const onnx::NodeProto& node);
  void dense(int n, const onnx::NodeProto& node);
  void batch_norm(int n, const onnx::NodeProto& node);
  void depthwise_affine(int n, const onnx::NodeProto& node, const Value& x, const Eigen::VectorXf& s, const Eigen::VectorXf& t);
  void add(int n, const onnx::NodeProto& node);
  void clamp(int n, const onnx::NodeProto& node);
  void pool(int n, const onnx::NodeProto& node);
  void global_pool(int n, const onnx::NodeProto& node);
  void concat(int n, const onnx::NodeProto& node);
  void softmax(int n, const onnx::NodeProto& node);
  Eigen::VectorXf channel_constant(int n, const onnx::NodeProto& node, int ci, const Value& x, const char* verb) const;
  void arithmetic(int n, const onnx::NodeProto& node);
  void two_maps(int n, const onnx::NodeProto& node, OpKind kind);
  // An activation to apply: kind, scalar parameters, PRelu's slopes per channel.
  struct Activation {
    num::ActKind kind = num::ActKind::none;
    float alpha = 0.0f, beta = 0.0f;
    Eigen::VectorXf slope;
  };
  int only_reader(const std::string& value) const;
  int gate_mul(const onnx::NodeProto& node) const;
  bool gelu_chain(int n, const onnx::NodeProto& div);
  void act_node(int n, const onnx::NodeProto& node);
  void apply_act(int n, const onnx::NodeProto& node, const Activation& a, const std::string& out, int readers,
                 const std::string& what);
  void reshape(int n, const onnx::NodeProto& node);
  void pad(int n, const onnx::NodeProto& node);
  void pass_through(int n, const onnx::NodeProto& node);

  std::string path_;
  const onnx::GraphProto* graph_proto_ = nullptr;
  std::map<std::string, std::vector<int>> readers_;  // ONNX value -> the nodes that read it
  std::set<int> absorbed_;                           // nodes folded into a pattern at an earlier node
  int64_t opset_ = 0;
  int64_t batch_ = 1;  // the input's fixed batch, or 1 when it is dynamic
  Graph graph_;
  std::map<std::string, ConstTensor> consts_;
  std::map<std::string, Value> values_;
  std::map<std::string, int> consumers_;      // readers of each ONNX value (+1 for the graph output)
  std::map<std::string, int> producer_node_;  // ONNX value -> node index
  std::vector<int> producer_;                 // graph tensor -> op index (-1: the input)
  std::map<int, int> flat_of_;                // graph tensor -> its Flatten
  std::set<std::string> op_names_;
};

}  // namespace aimc::compiler::onnx_detail
