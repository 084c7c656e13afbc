// The importer walks the graph from its single input along the unique consumer of each tensor,
// so branches, unused nodes and multiple inputs/outputs are found and refused rather than
// silently dropped. Weights must be initializers (or Constant nodes): a weight computed at run
// time cannot be programmed into flash.
#include "onnx_import.h"

#include <onnx/onnx_pb.h>

#include <cstring>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <sstream>

namespace aimc::compiler {
namespace {

const char* kSupported = "supported: Gemm, MatMul, Add, Relu, Flatten, Reshape (Constant for weights and shapes)";

// A tensor known at compile time: float weights or int64 shapes.
struct ConstTensor {
  std::string name;
  std::vector<int64_t> dims;
  int32_t data_type = 0;
  std::vector<float> f;
  std::vector<int64_t> i64;
};

std::string type_name(int32_t t) {
  const auto* d = onnx::TensorProto_DataType_descriptor();
  const auto* v = d->FindValueByNumber(t);
  return v ? v->name() : "type " + std::to_string(t);
}

class Importer {
 public:
  explicit Importer(std::string path) : path_(std::move(path)) {}

  Network run() {
    onnx::ModelProto model = load();
    const onnx::GraphProto& g = model.graph();
    if (g.node_size() == 0) fail("empty graph (no nodes)");

    for (const auto& init : g.initializer()) consts_[init.name()] = to_const(init, nullptr);
    for (int n = 0; n < g.node_size(); ++n) {
      const auto& node = g.node(n);
      if (node.op_type() != "Constant") continue;
      if (node.output_size() != 1) node_fail(n, node, "Constant must have one output");
      const onnx::TensorProto* value = nullptr;
      for (const auto& a : node.attribute())
        if (a.name() == "value" && a.has_t()) value = &a.t();
      if (!value) node_fail(n, node, "Constant without a tensor 'value' attribute");
      consts_[node.output(0)] = to_const(*value, &node);
    }

    // The single data input (graph inputs that are initializers are weights, not data).
    std::vector<const onnx::ValueInfoProto*> inputs;
    for (const auto& in : g.input())
      if (!consts_.count(in.name())) inputs.push_back(&in);
    if (inputs.size() != 1)
      fail("graph has " + std::to_string(inputs.size()) + " data inputs; a chain of dense layers has exactly one");
    if (g.output_size() != 1)
      fail("graph has " + std::to_string(g.output_size()) + " outputs; a chain of dense layers has exactly one");

    Network net;
    // The file name says more than exporters' graph names ("torch_jit", "main_graph").
    net.name = stem(path_);
    net.source = path_;
    dims_ = input_dims(*inputs[0]);
    net.in_features = int(prod(dims_));

    // Map tensor -> consuming nodes (Constant nodes produce, never consume data).
    std::map<std::string, std::vector<int>> consumers;
    for (int n = 0; n < g.node_size(); ++n) {
      if (g.node(n).op_type() == "Constant") continue;
      for (const auto& in : g.node(n).input())
        if (!in.empty() && !consts_.count(in)) consumers[in].push_back(n);
    }

    std::string cur = inputs[0]->name();
    std::set<int> visited;
    const std::string& out_name = g.output(0).name();
    while (cur != out_name) {
      auto it = consumers.find(cur);
      if (it == consumers.end() || it->second.empty())
        fail("not a chain: tensor '" + cur + "' is not consumed by any node and is not the graph output '" + out_name + "'");
      if (it->second.size() > 1) {
        std::string list;
        for (int n : it->second) list += (list.empty() ? "" : ", ") + describe(n, g.node(n));
        fail("not a chain: tensor '" + cur + "' feeds " + std::to_string(it->second.size()) + " nodes (" + list + ")");
      }
      int n = it->second[0];
      if (!visited.insert(n).second) fail("not a chain: cycle through " + describe(n, g.node(n)));
      cur = apply(n, g.node(n), cur, net);
    }
    for (int n = 0; n < g.node_size(); ++n)
      if (g.node(n).op_type() != "Constant" && !visited.count(n))
        node_fail(n, g.node(n), "not a chain: node is not on the path from input '" + inputs[0]->name() +
                                    "' to output '" + out_name + "'");
    close_layer(net);
    if (net.layers.empty()) fail("graph has no Gemm or MatMul: nothing to map onto the tiles");
    net.validate();
    return net;
  }

 private:
  [[noreturn]] void fail(const std::string& msg) const { throw ModelError(path_ + ": " + msg); }
  static std::string describe(int n, const onnx::NodeProto& node) {
    return "node " + std::to_string(n) + " '" + node.name() + "' (" + node.op_type() + ")";
  }
  [[noreturn]] void node_fail(int n, const onnx::NodeProto& node, const std::string& msg) const {
    fail(describe(n, node) + ": " + msg);
  }
  static std::string stem(const std::string& p) {
    std::string base = p.substr(p.find_last_of('/') == std::string::npos ? 0 : p.find_last_of('/') + 1);
    return base.substr(0, base.find_last_of('.'));
  }

  onnx::ModelProto load() const {
    std::ifstream f(path_, std::ios::binary);
    if (!f) fail("cannot open file (" + std::string(std::strerror(errno)) + ")");
    std::ostringstream ss;
    ss << f.rdbuf();
    std::string bytes = ss.str();
    if (bytes.empty()) fail("file is empty: not a valid ONNX model");
    onnx::ModelProto model;
    if (!model.ParseFromString(bytes)) fail("not a valid ONNX protobuf (ModelProto parse failed)");
    if (!model.has_graph()) fail("not a valid ONNX model: no graph");
    return model;
  }

  ConstTensor to_const(const onnx::TensorProto& t, const onnx::NodeProto* from) const {
    ConstTensor c;
    c.name = t.name();
    c.data_type = t.data_type();
    c.dims.assign(t.dims().begin(), t.dims().end());
    if (t.data_location() == onnx::TensorProto_DataLocation_EXTERNAL)
      fail("initializer '" + t.name() + "' uses external data, which is not supported; save the model with weights inside");
    int64_t count = 1;
    for (int64_t d : c.dims) count *= d;
    if (c.data_type == onnx::TensorProto_DataType_FLOAT) {
      if (!t.raw_data().empty()) {
        if (int64_t(t.raw_data().size()) != count * 4)
          fail("initializer '" + t.name() + "': raw_data has " + std::to_string(t.raw_data().size()) +
               " bytes for " + std::to_string(count) + " floats");
        c.f.resize(count);
        // ONNX raw_data is little-endian; so is every host this runs on (checked in image.cpp).
        std::memcpy(c.f.data(), t.raw_data().data(), count * 4);
      } else {
        if (t.float_data_size() != count)
          fail("initializer '" + t.name() + "': float_data has " + std::to_string(t.float_data_size()) +
               " values for " + std::to_string(count));
        c.f.assign(t.float_data().begin(), t.float_data().end());
      }
    } else if (c.data_type == onnx::TensorProto_DataType_INT64) {
      if (!t.raw_data().empty()) {
        if (int64_t(t.raw_data().size()) != count * 8)
          fail("initializer '" + t.name() + "': raw_data size does not match its shape");
        c.i64.resize(count);
        std::memcpy(c.i64.data(), t.raw_data().data(), count * 8);
      } else {
        c.i64.assign(t.int64_data().begin(), t.int64_data().end());
      }
    }
    (void)from;
    return c;
  }

  std::vector<int64_t> input_dims(const onnx::ValueInfoProto& in) const {
    if (!in.type().has_tensor_type()) fail("input '" + in.name() + "' is not a tensor");
    const auto& tt = in.type().tensor_type();
    if (tt.elem_type() != onnx::TensorProto_DataType_FLOAT)
      fail("input '" + in.name() + "' has element type " + type_name(tt.elem_type()) + "; expected FLOAT");
    if (!tt.has_shape() || tt.shape().dim_size() < 2)
      fail("input '" + in.name() + "' needs a shape [N, features...] (batch first)");
    std::vector<int64_t> dims;  // without the batch dimension
    for (int d = 1; d < tt.shape().dim_size(); ++d) {
      const auto& dim = tt.shape().dim(d);
      if (!dim.has_dim_value() || dim.dim_value() <= 0)
        fail("input '" + in.name() + "': dimension " + std::to_string(d) + " must be a fixed positive size");
      dims.push_back(dim.dim_value());
    }
    return dims;
  }

  static int64_t prod(const std::vector<int64_t>& d) {
    int64_t p = 1;
    for (int64_t v : d) p *= v;
    return p;
  }

  // The weight operand of node n: must be a compile-time float tensor.
  const ConstTensor& weight_operand(int n, const onnx::NodeProto& node, const std::string& name, const char* role) const {
    auto it = consts_.find(name);
    if (it == consts_.end())
      node_fail(n, node, std::string(role) + " '" + name + "' is not an initializer or Constant; weights must be known at compile time");
    if (it->second.data_type != onnx::TensorProto_DataType_FLOAT)
      node_fail(n, node, std::string(role) + " '" + name + "' has type " + type_name(it->second.data_type) + "; only FLOAT weights are supported");
    return it->second;
  }

  // The data input of a node: `cur` must be exactly one of its inputs.
  void check_data_input(int n, const onnx::NodeProto& node, const std::string& cur, int expected_pos) const {
    int found = -1;
    for (int i = 0; i < node.input_size(); ++i)
      if (node.input(i) == cur) {
        if (found >= 0) node_fail(n, node, "uses tensor '" + cur + "' twice");
        found = i;
      }
    if (expected_pos >= 0 && found != expected_pos)
      node_fail(n, node, "the activation '" + cur + "' must be input " + std::to_string(expected_pos));
  }

  void require_flat(int n, const onnx::NodeProto& node) const {
    if (dims_.size() != 1)
      node_fail(n, node, "needs a 2-D input [N, features] but gets rank " + std::to_string(dims_.size() + 1) +
                             "; insert a Flatten");
  }

  static const onnx::AttributeProto* attr(const onnx::NodeProto& node, const char* name) {
    for (const auto& a : node.attribute())
      if (a.name() == name) return &a;
    return nullptr;
  }

  void close_layer(Network& net) {
    if (open_) net.layers.push_back(std::move(*open_));
    open_.reset();
  }

  std::string apply(int n, const onnx::NodeProto& node, const std::string& cur, Network& net) {
    const std::string& op = node.op_type();
    if (node.output_size() != 1) node_fail(n, node, "expected exactly one output");
    if (op == "Gemm" || op == "MatMul") {
      check_data_input(n, node, cur, 0);
      require_flat(n, node);
      const int64_t in = dims_[0];
      if (node.input_size() < 2) node_fail(n, node, "missing weight input");
      const ConstTensor& b = weight_operand(n, node, node.input(1), "weight");
      if (b.dims.size() != 2) node_fail(n, node, "weight '" + b.name + "' must be 2-D");
      bool trans_b = false;
      float alpha = 1.0f, beta = 1.0f;
      if (op == "Gemm") {
        if (const auto* a = attr(node, "transA"); a && a->i() != 0)
          node_fail(n, node, "transA=1 is not supported (the activation must be [N, in])");
        if (const auto* a = attr(node, "transB")) trans_b = a->i() != 0;
        if (const auto* a = attr(node, "alpha")) alpha = a->f();
        if (const auto* a = attr(node, "beta")) beta = a->f();
      }
      const int64_t w_in = trans_b ? b.dims[1] : b.dims[0];
      const int64_t w_out = trans_b ? b.dims[0] : b.dims[1];
      if (w_in != in)
        node_fail(n, node, "shape mismatch: weight '" + b.name + "' expects " + std::to_string(w_in) +
                               " inputs but the previous layer produces " + std::to_string(in));
      close_layer(net);
      DenseLayer layer;
      layer.name = node.name().empty() ? op + "_" + std::to_string(n) : node.name();
      layer.weight.resize(w_out, in);
      for (int64_t r = 0; r < b.dims[0]; ++r)
        for (int64_t c = 0; c < b.dims[1]; ++c) {
          float v = alpha * b.f[r * b.dims[1] + c];
          if (trans_b) layer.weight(r, c) = v; else layer.weight(c, r) = v;
        }
      layer.bias = Eigen::VectorXf::Zero(w_out);
      open_ = std::move(layer);
      dims_ = {w_out};
      if (op == "Gemm" && node.input_size() >= 3 && !node.input(2).empty()) add_bias(n, node, node.input(2), beta);
      return node.output(0);
    }
    if (op == "Add") {
      check_data_input(n, node, cur, -1);
      if (node.input_size() != 2) node_fail(n, node, "Add needs two inputs");
      if (!open_ || open_->relu)
        node_fail(n, node, "Add can only be folded as the bias of a preceding Gemm/MatMul (before its Relu)");
      const std::string& other = node.input(0) == cur ? node.input(1) : node.input(0);
      add_bias(n, node, other, 1.0f);
      return node.output(0);
    }
    if (op == "Relu") {
      check_data_input(n, node, cur, 0);
      if (!open_) node_fail(n, node, "Relu must follow a Gemm/MatMul (the ReLU is applied by the digital unit of a layer)");
      open_->relu = true;  // Relu twice is Relu once.
      return node.output(0);
    }
    if (op == "Flatten") {
      check_data_input(n, node, cur, 0);
      int64_t axis = 1;
      if (const auto* a = attr(node, "axis")) axis = a->i();
      const int64_t rank = int64_t(dims_.size()) + 1;
      if (axis < 0) axis += rank;
      if (axis != 1) node_fail(n, node, "only axis=1 (keep the batch dimension) is supported, got " + std::to_string(axis));
      dims_ = {prod(dims_)};
      return node.output(0);
    }
    if (op == "Reshape") {
      check_data_input(n, node, cur, 0);
      if (node.input_size() != 2) node_fail(n, node, "Reshape needs a shape input");
      auto it = consts_.find(node.input(1));
      if (it == consts_.end() || it->second.data_type != onnx::TensorProto_DataType_INT64)
        node_fail(n, node, "the shape '" + node.input(1) + "' must be a constant INT64 tensor");
      const auto& s = it->second.i64;
      const int64_t features = prod(dims_);
      // Only [N, features]: the batch stays first, everything else is flattened.
      bool ok = s.size() == 2 && (s[1] == features || s[1] == -1 || (s[1] == 0 && dims_.size() == 1)) &&
                (s[0] == 0 || s[0] == -1 || s[0] > 0) && !(s[0] == -1 && s[1] == -1);
      if (!ok) {
        std::string shape;
        for (int64_t v : s) shape += (shape.empty() ? "" : ",") + std::to_string(v);
        node_fail(n, node, "only a reshape to [N, " + std::to_string(features) + "] is supported, got [" + shape + "]");
      }
      dims_ = {features};
      return node.output(0);
    }
    node_fail(n, node, "unsupported op; " + std::string(kSupported));
  }

  void add_bias(int n, const onnx::NodeProto& node, const std::string& name, float scale) {
    const ConstTensor& c = weight_operand(n, node, name, "bias");
    const int64_t out = open_->out_features();
    const int64_t count = prod(c.dims);
    // Accept [out], [1, out] and a scalar (broadcast); anything else would change the shape.
    bool per_output = count == out && (c.dims.size() == 1 || (c.dims.size() == 2 && c.dims[0] == 1));
    bool scalar = count == 1 && c.dims.size() <= 2;
    if (!per_output && !scalar) {
      std::string shape;
      for (int64_t v : c.dims) shape += (shape.empty() ? "" : ",") + std::to_string(v);
      node_fail(n, node, "shape mismatch: bias '" + name + "' has shape [" + shape + "], expected [" + std::to_string(out) + "]");
    }
    for (int64_t j = 0; j < out; ++j) open_->bias(j) += scale * c.f[per_output ? j : 0];
  }

  std::string path_;
  std::map<std::string, ConstTensor> consts_;
  std::vector<int64_t> dims_;  // current activation shape without batch
  std::optional<DenseLayer> open_;
};

}  // namespace

Network import_onnx(const std::string& path) { return Importer(path).run(); }

}  // namespace aimc::compiler
