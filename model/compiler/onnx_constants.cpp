// Nodes the importer evaluates on constants (Constant, Shape, Gather, Cast, Concat, Reshape, Squeeze,
// Unsqueeze, Flatten, Identity, ConstantOfShape, Slice, Transpose): shape computations and the
// pads of torch's F.pad export, with a batch of the input's (1 when dynamic).
#include "onnx_importer.h"

namespace aimc::compiler::onnx_detail {

void Importer::constant_node(int n, const onnx::NodeProto& node) {
  if (node.output_size() != 1 || node.output(0).empty()) node_fail(n, node, "Constant must have one named output");
  // Exactly one value attribute (ONNX's rule): two would leave dims and values disagreeing.
  if (node.attribute_size() > 1)
    node_fail(n, node, "Constant has " + std::to_string(node.attribute_size()) + " attributes; exactly one value is allowed");
  ConstTensor c;
  bool found = false;
  for (const auto& a : node.attribute()) {
    found = true;
    if (a.name() == "value" && a.has_t()) c = to_const(a.t(), describe(n, node) + ": the tensor of attribute 'value'");
    else if (a.name() == "value_float") c.f = {a.f()};
    else if (a.name() == "value_floats") c.f.assign(a.floats().begin(), a.floats().end()), c.dims = {a.floats_size()};
    else if (a.name() == "value_int") c.is_float = false, c.i64 = {a.i()};
    else if (a.name() == "value_ints")
      c.is_float = false, c.i64.assign(a.ints().begin(), a.ints().end()), c.dims = {a.ints_size()};
    else node_fail(n, node, "Constant attribute '" + a.name() + "' is not supported");
  }
  if (!found) node_fail(n, node, "Constant without a value");
  consts_[node.output(0)] = c;
}

// The index of each element of a tensor of `dims` (row-major), one after the other.
namespace {
bool next_index(std::vector<int64_t>& idx, const std::vector<int64_t>& dims) {
  for (size_t k = dims.size(); k-- > 0;) {
    if (++idx[k] < dims[k]) return true;
    idx[k] = 0;
  }
  return false;
}
int64_t flat_index(const std::vector<int64_t>& idx, const std::vector<int64_t>& dims) {
  int64_t f = 0;
  for (size_t k = 0; k < dims.size(); ++k) f = f * dims[k] + idx[k];
  return f;
}
}  // namespace

// Slice of a constant (torch's export of F.pad reverses the pads with a step of -1): ONNX's rules
// for starts, ends (clamped to the axis), axes and steps (opset 10 on: inputs; before: attributes).
ConstTensor Importer::slice_constant(int n, const onnx::NodeProto& node, const ConstTensor& in) const {
  auto ints = [&](int i, const char* name) -> std::vector<int64_t> {
    if (opset_ < 10) return attr_ints(node, name);
    if (!has_input(node, i)) return {};
    const ConstTensor& t = constant(n, node, i, name, false);
    return t.i64;
  };
  const std::vector<int64_t> starts = ints(1, "starts"), ends = ints(2, "ends");
  std::vector<int64_t> axes = ints(3, "axes"), steps = ints(4, "steps");
  const int64_t r = int64_t(in.dims.size());
  if (starts.size() != ends.size() || (!axes.empty() && axes.size() != starts.size()) ||
      (!steps.empty() && steps.size() != starts.size()))
    node_fail(n, node, "starts, ends, axes and steps must have one entry per sliced axis");
  if (axes.empty())
    for (size_t i = 0; i < starts.size(); ++i) axes.push_back(int64_t(i));
  if (steps.empty()) steps.assign(starts.size(), 1);
  std::vector<int64_t> first(size_t(r), 0), step(size_t(r), 1), count = in.dims;
  std::vector<bool> seen(size_t(r), false);
  for (size_t i = 0; i < axes.size(); ++i) {
    int64_t a = axes[i] < 0 ? axes[i] + r : axes[i];
    if (a < 0 || a >= r || seen[size_t(a)]) node_fail(n, node, "axis " + std::to_string(axes[i]) + " out of range or repeated");
    seen[size_t(a)] = true;
    const int64_t d = in.dims[size_t(a)], st = steps[i];
    if (st == 0) node_fail(n, node, "a step of 0");
    auto norm = [&](int64_t v) { return v < 0 ? (v < -d ? -1 : v + d) : v; };  // -1: before the axis
    int64_t b = norm(starts[i]), e = norm(ends[i]);
    if (st > 0) {
      b = std::clamp<int64_t>(b, 0, d), e = std::clamp<int64_t>(e, 0, d);
      count[size_t(a)] = e > b ? (e - b + st - 1) / st : 0;
    } else {
      b = std::clamp<int64_t>(b, -1, d - 1), e = std::clamp<int64_t>(e, -1, d - 1);
      count[size_t(a)] = b > e ? (b - e - st - 1) / -st : 0;
    }
    first[size_t(a)] = b, step[size_t(a)] = st;
  }
  ConstTensor out;
  out.is_float = in.is_float;
  out.dims = count;
  if (element_count(count).value_or(0) == 0) return out;
  std::vector<int64_t> idx(size_t(r), 0), src(size_t(r), 0);
  do {
    for (size_t k = 0; k < size_t(r); ++k) src[k] = first[k] + idx[k] * step[k];
    const size_t f = size_t(flat_index(src, in.dims));
    if (in.is_float) out.f.push_back(in.f[f]);
    else out.i64.push_back(in.i64[f]);
  } while (next_index(idx, count));
  return out;
}

// Transpose of a constant by `perm` (default: the axes reversed).
ConstTensor Importer::transpose_constant(int n, const onnx::NodeProto& node, const ConstTensor& in) const {
  const int64_t r = int64_t(in.dims.size());
  std::vector<int64_t> perm = attr_ints(node, "perm");
  if (perm.empty())
    for (int64_t i = r - 1; i >= 0; --i) perm.push_back(i);
  std::vector<int64_t> sorted = perm;
  std::sort(sorted.begin(), sorted.end());
  for (int64_t i = 0; i < r; ++i)
    if (int64_t(sorted.size()) != r || sorted[size_t(i)] != i)
      node_fail(n, node, "perm " + dims_str(perm, false) + " is not a permutation of rank " + std::to_string(r));
  ConstTensor out;
  out.is_float = in.is_float;
  for (int64_t p : perm) out.dims.push_back(in.dims[size_t(p)]);
  if (in.count() <= 0) return out;
  std::vector<int64_t> idx(size_t(r), 0), src(size_t(r), 0);
  do {
    for (size_t k = 0; k < size_t(r); ++k) src[size_t(perm[k])] = idx[k];
    const size_t f = size_t(flat_index(src, in.dims));
    if (in.is_float) out.f.push_back(in.f[f]);
    else out.i64.push_back(in.i64[f]);
  } while (next_index(idx, out.dims));
  return out;
}

// Integer shape arithmetic and other nodes on constants only.
void Importer::fold_constant(int n, const onnx::NodeProto& node) {
  const std::string& op = node.op_type();
  auto const_in = [&](int i) -> const ConstTensor& {
    if (!has_input(node, i)) node_fail(n, node, "missing input " + std::to_string(i));
    auto it = consts_.find(node.input(i));
    if (it == consts_.end() || it->second.dims == std::vector<int64_t>{-1})
      node_fail(n, node, "input '" + node.input(i) + "' is not a FLOAT or INT64 constant");
    return it->second;
  };
  ConstTensor out;
  if (op == "Shape") {
    std::vector<int64_t> dims;
    if (!has_input(node, 0)) node_fail(n, node, "missing input 0");
    auto v = values_.find(node.input(0));
    if (v != values_.end()) {
      dims = v->second.dims;
      dims.insert(dims.begin(), batch_);  // the exported batch (1 when dynamic)
    } else {
      dims = const_in(0).dims;
    }
    int64_t start = attr_i(node, "start", 0), end = attr_i(node, "end", int64_t(dims.size()));
    const int64_t r = int64_t(dims.size());
    if (start < 0) start += r;
    if (end < 0) end += r;
    start = std::clamp<int64_t>(start, 0, r);
    end = std::clamp<int64_t>(end, start, r);
    out.is_float = false;
    out.i64.assign(dims.begin() + start, dims.begin() + end);
    out.dims = {int64_t(out.i64.size())};
  } else if (op == "Identity" || op == "Dropout") {
    out = const_in(0);
  } else if (op == "Cast") {
    const ConstTensor& in = const_in(0);
    const int64_t to = attr_i(node, "to", 0);
    out.dims = in.dims;
    if (to == onnx::TensorProto_DataType_FLOAT) {
      out.f = in.is_float ? in.f : std::vector<float>(in.i64.begin(), in.i64.end());
    } else if (to == onnx::TensorProto_DataType_INT64 || to == onnx::TensorProto_DataType_INT32) {
      out.is_float = false;
      // A float outside int64 (or NaN) has no integer value: converting it is undefined behaviour.
      if (in.is_float)
        for (float v : in.f) {
          if (!(v >= -9.2233720368547758e18f && v < 9.2233720368547758e18f)) {
            std::ostringstream m;
            m << "Cast of " << v << " to an integer type: out of range";
            node_fail(n, node, m.str());
          }
          out.i64.push_back(int64_t(v));
        }
      else out.i64 = in.i64;
    } else {
      node_fail(n, node, "Cast to " + type_name(int32_t(to)) + " on a constant is not supported");
    }
  } else if (op == "Gather") {
    const ConstTensor& data = const_in(0);
    const ConstTensor& idx = const_in(1);
    if (attr_i(node, "axis", 0) != 0 || data.dims.size() != 1 || idx.is_float)
      node_fail(n, node, "only Gather along axis 0 of a 1-D constant is supported");
    out.is_float = data.is_float;
    out.dims = idx.dims;
    for (int64_t i : idx.i64) {
      if (i < 0) i += data.dims[0];
      if (i < 0 || i >= data.dims[0]) node_fail(n, node, "index " + std::to_string(i) + " out of range");
      if (data.is_float) out.f.push_back(data.f[size_t(i)]);
      else out.i64.push_back(data.i64[size_t(i)]);
    }
  } else if (op == "Unsqueeze" || op == "Squeeze" || op == "Reshape" || op == "Flatten") {
    out = const_in(0);
    if (op == "Reshape") {
      std::vector<int64_t> s = const_in(1).i64;
      int infer = -1;
      for (size_t i = 0; i < s.size(); ++i) {
        if (s[i] == 0 && i < out.dims.size()) s[i] = out.dims[i];
        if (s[i] != -1) continue;
        if (infer >= 0) node_fail(n, node, "target shape " + dims_str(const_in(1).i64, false) + " has two inferred (-1) dimensions");
        infer = int(i), s[i] = 1;  // 1 while the others are counted
      }
      const std::optional<int64_t> known = element_count(s);
      if (infer >= 0 && known && *known > 0) s[size_t(infer)] = out.count() / *known;
      if (element_count(s) != out.count())
        node_fail(n, node, "cannot reshape a constant of " + dims_str(out.dims, false) + " to " +
                               dims_str(const_in(1).i64, false));
      out.dims = s;
    } else if (op == "Flatten") {
      out.dims = {out.count()};
    } else {
      std::vector<int64_t> axes = has_input(node, 1) ? const_in(1).i64 : attr_ints(node, "axes");
      if (op == "Squeeze") {
        std::vector<int64_t> d;
        for (size_t i = 0; i < out.dims.size(); ++i) {
          bool drop = axes.empty() ? out.dims[i] == 1
                                   : std::any_of(axes.begin(), axes.end(), [&](int64_t a) {
                                       return a == int64_t(i) || a + int64_t(out.dims.size()) == int64_t(i);
                                     });
          if (!drop) d.push_back(out.dims[i]);
        }
        out.dims = d;
      } else {
        const int64_t r = int64_t(out.dims.size() + axes.size());
        for (int64_t& a : axes) {
          a = a < 0 ? a + r : a;
          if (a < 0 || a >= r)
            node_fail(n, node, "axes " + dims_str(has_input(node, 1) ? const_in(1).i64 : attr_ints(node, "axes"), false) +
                                   " out of range for an output of rank " + std::to_string(r));
        }
        std::sort(axes.begin(), axes.end());
        for (int64_t a : axes) out.dims.insert(out.dims.begin() + std::min<int64_t>(a, int64_t(out.dims.size())), 1);
      }
    }
  } else if (op == "Concat") {
    out = const_in(0);
    if (out.dims.size() != 1) node_fail(n, node, "only Concat of 1-D constants is supported");
    for (int i = 1; i < node.input_size(); ++i) {
      const ConstTensor& c = const_in(i);
      if (c.dims.size() != 1 || c.is_float != out.is_float)
        node_fail(n, node, "only Concat of 1-D constants of one type is supported");
      out.f.insert(out.f.end(), c.f.begin(), c.f.end());
      out.i64.insert(out.i64.end(), c.i64.begin(), c.i64.end());
      out.dims[0] += c.dims[0];
    }
  } else if (op == "ConstantOfShape") {
    const ConstTensor& shape = const_in(0);
    if (shape.is_float || shape.dims.size() != 1) node_fail(n, node, "the shape must be a 1-D INT64 constant");
    const std::optional<int64_t> count = element_count(shape.i64);
    if (!count || *count > kMaxFoldedElements)
      node_fail(n, node, "shape " + dims_str(shape.i64, false) + " is not a small non-negative shape (at most " +
                             std::to_string(kMaxFoldedElements) + " elements are evaluated at compile time)");
    ConstTensor value;
    value.dims = {1}, value.f = {0.0f};  // ONNX's default: one float 0
    if (const auto* a = attr(node, "value"); a && a->has_t()) value = to_const(a->t(), describe(n, node) + ": its value");
    if (value.count() != 1) node_fail(n, node, "value must hold one element");
    out.is_float = value.is_float;
    out.dims = shape.i64;
    if (out.is_float) out.f.assign(size_t(*count), value.f[0]);
    else out.i64.assign(size_t(*count), value.i64[0]);
  } else if (op == "Slice") {
    out = slice_constant(n, node, const_in(0));
  } else if (op == "Transpose") {
    out = transpose_constant(n, node, const_in(0));
  } else {
    node_fail(n, node, "computes on constants only, which is not supported for " + op +
                           "; on constants the importer evaluates Shape, Gather, Cast, Concat, Reshape, Squeeze, "
                           "Unsqueeze, Flatten, Identity, ConstantOfShape, Slice, Transpose");
  }
  consts_[node.output(0)] = out;
}

}  // namespace aimc::compiler::onnx_detail
