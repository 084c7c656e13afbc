// Graph IR and ONNX importer tests (no SystemC): every op's float reference against a direct
// implementation written here from the ONNX definitions (nested loops, ONNX weight layout), the
// importer's folding (BatchNormalization, bias Add, Relu, Clip) against the unfused arithmetic,
// its refusals by message text, and a torch-exported CNN against torch's own outputs.
#include <gtest/gtest.h>

#include "scratch.h"
#include <onnx/onnx_pb.h>
#include <unistd.h>

#include <chrono>
#include <climits>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <algorithm>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <random>

#include "alloc_probe.h"
#include "graph.h"
#include "onnx_import.h"
#include "source_dir.h"

namespace fs = std::filesystem;
using namespace aimc::compiler;
namespace num = aimc::num;

namespace {

using aimc::testing::source_dir;

fs::path scratch() { return aimc::testing::scratch("aimc_graph_"); }

template <typename F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "<no exception>";
}

std::vector<float> random_vec(size_t n, unsigned seed, float lo = -1.0f, float hi = 1.0f) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> ud(lo, hi);
  std::vector<float> v(n);
  for (float& x : v) x = ud(rng);
  return v;
}

Eigen::MatrixXf random_batch(int batch, long features, unsigned seed) {
  const std::vector<float> v = random_vec(size_t(batch * features), seed);
  Eigen::MatrixXf x(batch, features);
  for (int b = 0; b < batch; ++b)
    for (long i = 0; i < features; ++i) x(b, i) = v[size_t(b * features + i)];
  return x;
}

// |a - b| <= tol * (1 + |b|), element by element.
void expect_close(const Eigen::MatrixXf& a, const Eigen::MatrixXf& b, float tol, const std::string& what) {
  ASSERT_EQ(a.rows(), b.rows()) << what;
  ASSERT_EQ(a.cols(), b.cols()) << what;
  int bad = 0;
  for (long r = 0; r < a.rows(); ++r)
    for (long c = 0; c < a.cols(); ++c)
      if (!(std::abs(a(r, c) - b(r, c)) <= tol * (1.0f + std::abs(b(r, c)))) && ++bad <= 5)
        ADD_FAILURE() << what << ": (" << r << ", " << c << ") " << a(r, c) << " vs " << b(r, c);
  EXPECT_EQ(bad, 0) << what;
}

// ---- direct implementations (ONNX semantics, ONNX weight layout [M][C/group][kh][kw]) ----
struct ConvSpec {
  int c, h, w, m, kh, kw, groups, sh, sw, pt, pl, pb, pr;
};

Eigen::MatrixXf naive_conv(const ConvSpec& s, const std::vector<float>& w, const std::vector<float>& bias,
                           const Eigen::MatrixXf& x) {
  const int oh = (s.h + s.pt + s.pb - s.kh) / s.sh + 1, ow = (s.w + s.pl + s.pr - s.kw) / s.sw + 1;
  const int cin_g = s.c / s.groups, cout_g = s.m / s.groups;
  Eigen::MatrixXf y(x.rows(), long(s.m) * oh * ow);
  for (long b = 0; b < x.rows(); ++b)
    for (int o = 0; o < s.m; ++o)
      for (int oy = 0; oy < oh; ++oy)
        for (int ox = 0; ox < ow; ++ox) {
          double acc = bias[size_t(o)];
          const int g = o / cout_g;
          for (int ci = 0; ci < cin_g; ++ci)
            for (int ky = 0; ky < s.kh; ++ky)
              for (int kx = 0; kx < s.kw; ++kx) {
                const int iy = oy * s.sh + ky - s.pt, ix = ox * s.sw + kx - s.pl;
                if (iy < 0 || iy >= s.h || ix < 0 || ix >= s.w) continue;
                const int c = g * cin_g + ci;
                acc += double(w[size_t(((o * cin_g + ci) * s.kh + ky) * s.kw + kx)]) *
                       x(b, (long(c) * s.h + iy) * s.w + ix);
              }
          y(b, (long(o) * oh + oy) * ow + ox) = float(acc);
        }
  return y;
}

// The header's packing: column (ky * kw + kx) * cin_g + ci.
Op conv_op(const ConvSpec& s, const std::vector<float>& w, const std::vector<float>& bias) {
  Op op;
  op.kind = OpKind::Conv;
  op.name = "conv";
  const int cin_g = s.c / s.groups;
  op.weight.resize(s.m, s.kh * s.kw * cin_g);
  for (int o = 0; o < s.m; ++o)
    for (int ci = 0; ci < cin_g; ++ci)
      for (int ky = 0; ky < s.kh; ++ky)
        for (int kx = 0; kx < s.kw; ++kx)
          op.weight(o, (ky * s.kw + kx) * cin_g + ci) = w[size_t(((o * cin_g + ci) * s.kh + ky) * s.kw + kx)];
  op.bias = Eigen::Map<const Eigen::VectorXf>(bias.data(), s.m);
  op.groups = s.groups;
  op.kh = s.kh, op.kw = s.kw, op.stride_h = s.sh, op.stride_w = s.sw;
  op.pad_t = s.pt, op.pad_l = s.pl, op.pad_b = s.pb, op.pad_r = s.pr;
  return op;
}

Eigen::MatrixXf naive_pool(bool max, bool include_pad, const Shape& is, int kh, int kw, int sh, int sw, int pt, int pl,
                           int pb, int pr, const Eigen::MatrixXf& x) {
  const int oh = (is.h + pt + pb - kh) / sh + 1, ow = (is.w + pl + pr - kw) / sw + 1;
  Eigen::MatrixXf y(x.rows(), long(is.c) * oh * ow);
  for (long b = 0; b < x.rows(); ++b)
    for (int c = 0; c < is.c; ++c)
      for (int oy = 0; oy < oh; ++oy)
        for (int ox = 0; ox < ow; ++ox) {
          double acc = max ? -1e30 : 0.0;
          int count = 0;
          for (int ky = 0; ky < kh; ++ky)
            for (int kx = 0; kx < kw; ++kx) {
              const int iy = oy * sh + ky - pt, ix = ox * sw + kx - pl;
              if (iy < 0 || iy >= is.h || ix < 0 || ix >= is.w) continue;
              const double v = x(b, (long(c) * is.h + iy) * is.w + ix);
              acc = max ? std::max(acc, v) : acc + v;
              ++count;
            }
          if (!max) acc /= include_pad ? kh * kw : count;
          y(b, (long(c) * oh + oy) * ow + ox) = float(acc);
        }
  return y;
}

Graph single_op_graph(const std::vector<Shape>& in_shapes, Op op) {
  Graph g;
  g.name = "t";
  for (size_t i = 0; i < in_shapes.size(); ++i) op.inputs.push_back(g.add_tensor("x" + std::to_string(i), in_shapes[i]));
  g.input = 0;
  g.output = g.ops[size_t(g.add_op(std::move(op)))].output;
  return g;
}

Eigen::MatrixXf run_op(const Graph& g, const std::vector<Eigen::MatrixXf>& ins) {
  std::vector<const Eigen::MatrixXf*> p;
  std::vector<Shape> shapes;
  for (size_t i = 0; i < ins.size(); ++i) {
    p.push_back(&ins[i]);
    shapes.push_back(g.tensors[size_t(g.ops[0].inputs[i])].shape);
  }
  return forward_op(g.ops[0], p, shapes, g.out_shape());
}

// ---- building ONNX models with the protobuf API ----
struct OnnxBuilder {
  onnx::ModelProto model;
  onnx::GraphProto* g;
  OnnxBuilder(const std::vector<int64_t>& in_shape, const std::string& out, int opset = 13) {
    model.set_ir_version(7);
    model.add_opset_import()->set_version(opset);
    g = model.mutable_graph();
    g->set_name("test");
    auto* in = g->add_input();
    in->set_name("input");
    auto* tt = in->mutable_type()->mutable_tensor_type();
    tt->set_elem_type(onnx::TensorProto_DataType_FLOAT);
    for (size_t i = 0; i < in_shape.size(); ++i) {
      auto* d = tt->mutable_shape()->add_dim();
      if (i == 0) d->set_dim_param("N");
      else d->set_dim_value(in_shape[i]);
    }
    g->add_output()->set_name(out);
  }
  onnx::NodeProto* node(const std::string& op, const std::string& name, std::vector<std::string> ins,
                        const std::string& out) {
    auto* n = g->add_node();
    n->set_op_type(op);
    n->set_name(name);
    for (auto& i : ins) n->add_input(i);
    n->add_output(out);
    return n;
  }
  void init(const std::string& name, const std::vector<int64_t>& dims, const std::vector<float>& v) {
    auto* t = g->add_initializer();
    t->set_name(name);
    t->set_data_type(onnx::TensorProto_DataType_FLOAT);
    for (auto d : dims) t->add_dims(d);
    t->set_raw_data(std::string(reinterpret_cast<const char*>(v.data()), v.size() * 4));
  }
  void init_i64(const std::string& name, const std::vector<int64_t>& v) {
    auto* t = g->add_initializer();
    t->set_name(name);
    t->set_data_type(onnx::TensorProto_DataType_INT64);
    t->add_dims(int64_t(v.size()));
    for (auto x : v) t->add_int64_data(x);
  }
  std::string save(const std::string& file) const {
    const fs::path p = scratch() / file;
    std::ofstream f(p, std::ios::binary);
    model.SerializeToOstream(&f);
    return p.string();
  }
};

void set_ints(onnx::NodeProto* n, const char* name, const std::vector<int64_t>& v) {
  auto* a = n->add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto_AttributeType_INTS);
  for (auto x : v) a->add_ints(x);
}
void set_int(onnx::NodeProto* n, const char* name, int64_t v) {
  auto* a = n->add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto_AttributeType_INT);
  a->set_i(v);
}
void set_float(onnx::NodeProto* n, const char* name, float v) {
  auto* a = n->add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto_AttributeType_FLOAT);
  a->set_f(v);
}

// A Conv node with weights "<name>.w" [m, c/g, k, k] and bias "<name>.b", pads all `pad`.
onnx::NodeProto* add_conv(OnnxBuilder& b, const std::string& name, const std::string& in, const std::string& out,
                          int c, int m, int k, int pad, int groups, unsigned seed, std::vector<float>* w = nullptr,
                          std::vector<float>* bias = nullptr) {
  const std::vector<float> wv = random_vec(size_t(m * (c / groups) * k * k), seed);
  const std::vector<float> bv = random_vec(size_t(m), seed + 1);
  b.init(name + ".w", {m, c / groups, k, k}, wv);
  b.init(name + ".b", {m}, bv);
  auto* n = b.node("Conv", name, {in, name + ".w", name + ".b"}, out);
  set_ints(n, "kernel_shape", {k, k});
  set_ints(n, "pads", {pad, pad, pad, pad});
  if (groups != 1) set_int(n, "group", groups);
  if (w) *w = wv;
  if (bias) *bias = bv;
  return n;
}

Eigen::MatrixXf relu(const Eigen::MatrixXf& x) { return x.cwiseMax(0.0f); }

}  // namespace

// ---------------------------------------------------------------- ops ----

TEST(GraphConv, MatchesDirectConvolution) {
  const std::vector<std::pair<const char*, ConvSpec>> cases = {
      {"3x3 stride 1 pad 1", {3, 7, 6, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1}},
      {"3x2 stride 2 asymmetric pads", {4, 9, 8, 6, 3, 2, 1, 2, 2, 0, 1, 2, 0}},
      {"grouped, 2 groups", {4, 6, 7, 6, 3, 3, 2, 1, 1, 1, 1, 1, 1}},
      {"depthwise stride 2", {5, 8, 8, 5, 3, 3, 5, 2, 2, 1, 1, 1, 1}},
      {"depthwise, multiplier 2", {3, 5, 5, 6, 3, 3, 3, 1, 1, 1, 1, 1, 1}},
      {"1x1 (pointwise path)", {8, 4, 5, 5, 1, 1, 1, 1, 1, 0, 0, 0, 0}},
      {"1x1 stride 2", {8, 5, 5, 3, 1, 1, 1, 2, 2, 0, 0, 0, 0}},
      {"1x1 grouped", {6, 3, 3, 4, 1, 1, 2, 1, 1, 0, 0, 0, 0}},
      {"5x5 larger than part of the map, pads 2", {2, 4, 3, 3, 5, 5, 1, 1, 1, 2, 2, 2, 2}},
  };
  unsigned seed = 100;
  for (const auto& [what, s] : cases) {
    const std::vector<float> w = random_vec(size_t(s.m * (s.c / s.groups) * s.kh * s.kw), ++seed);
    const std::vector<float> bias = random_vec(size_t(s.m), ++seed);
    const Graph g = single_op_graph({Shape{s.c, s.h, s.w}}, conv_op(s, w, bias));
    const Eigen::MatrixXf x = random_batch(3, g.in_features(), ++seed);
    const Eigen::MatrixXf ref = naive_conv(s, w, bias, x);
    EXPECT_EQ(g.out_shape().size(), ref.cols()) << what;
    expect_close(g.forward(x), ref, 1e-5f, what);
    // Two rows and one row per batch use the same per-image code path.
    expect_close(g.forward(x.topRows(1)), ref.topRows(1), 1e-5f, what);
  }
}

TEST(GraphConv, ClampAndShapesAndCounts) {
  const ConvSpec s{3, 8, 8, 4, 3, 3, 1, 2, 2, 1, 1, 1, 1};
  const std::vector<float> w = random_vec(4 * 3 * 9, 1), bias = random_vec(4, 2);
  Op op = conv_op(s, w, bias);
  op.act_min = 0.0f;
  op.act_max = 0.5f;
  const Graph g = single_op_graph({Shape{3, 8, 8}}, op);
  EXPECT_EQ(g.out_shape(), (Shape{4, 4, 4}));
  EXPECT_EQ(g.tensors[size_t(g.output)].name, "conv_out");
  EXPECT_EQ(to_string(g.out_shape()), "4x4x4");
  EXPECT_EQ(g.macs_per_inference(), 4L * 4 * 4 * 3 * 3 * 3);
  EXPECT_EQ(g.params(), 4L * 27 + 4);
  const Eigen::MatrixXf x = random_batch(2, g.in_features(), 3);
  expect_close(g.forward(x), naive_conv(s, w, bias, x).cwiseMax(0.0f).cwiseMin(0.5f), 1e-5f, "clamped conv");
  EXPECT_NO_THROW(g.validate());
}

TEST(GraphPool, MaxAndAverageIncludingBorderWindows) {
  const Shape is{3, 7, 6};
  struct Case {
    OpKind kind;
    bool include_pad;
    int kh, kw, sh, sw, pt, pl, pb, pr;
  };
  const std::vector<Case> cases = {
      {OpKind::MaxPool, false, 2, 2, 2, 2, 0, 0, 0, 0},  {OpKind::MaxPool, false, 3, 3, 2, 2, 1, 1, 1, 1},
      {OpKind::MaxPool, false, 3, 2, 1, 2, 0, 1, 2, 0},  {OpKind::AvgPool, false, 3, 3, 2, 2, 1, 1, 1, 1},
      {OpKind::AvgPool, true, 3, 3, 2, 2, 1, 1, 1, 1},   {OpKind::AvgPool, false, 2, 3, 1, 1, 1, 0, 0, 2},
      {OpKind::AvgPool, true, 2, 3, 1, 1, 1, 0, 0, 2},   {OpKind::AvgPool, false, 2, 2, 2, 2, 0, 0, 0, 0},
  };
  // Negative inputs make a -inf / zero padding mix-up visible in the max pools.
  const Eigen::MatrixXf x = random_batch(2, is.size(), 11).array() - 2.0f;
  for (const Case& c : cases) {
    Op op;
    op.kind = c.kind;
    op.name = "pool";
    op.count_include_pad = c.include_pad;
    op.kh = c.kh, op.kw = c.kw, op.stride_h = c.sh, op.stride_w = c.sw;
    op.pad_t = c.pt, op.pad_l = c.pl, op.pad_b = c.pb, op.pad_r = c.pr;
    const Graph g = single_op_graph({is}, op);
    const std::string what = std::string(to_string(c.kind)) + " " + std::to_string(c.kh) + "x" + std::to_string(c.kw) +
                             " pads " + std::to_string(c.pt) + std::to_string(c.pl) + std::to_string(c.pb) +
                             std::to_string(c.pr) + (c.include_pad ? " incl. pad" : "");
    expect_close(g.forward(x),
                 naive_pool(c.kind == OpKind::MaxPool, c.include_pad, is, c.kh, c.kw, c.sh, c.sw, c.pt, c.pl, c.pb, c.pr, x),
                 1e-6f, what);
  }
  // The two averaging rules differ at the border (else the test above could not tell them apart).
  Op a;
  a.kind = OpKind::AvgPool, a.name = "a", a.kh = a.kw = 3, a.pad_t = a.pad_l = a.pad_b = a.pad_r = 1;
  Op b = a;
  b.count_include_pad = true;
  const Eigen::MatrixXf ones = Eigen::MatrixXf::Ones(1, is.size());
  EXPECT_FLOAT_EQ(single_op_graph({is}, a).forward(ones)(0, 0), 1.0f);
  EXPECT_FLOAT_EQ(single_op_graph({is}, b).forward(ones)(0, 0), 4.0f / 9.0f);
}

TEST(GraphOps, GlobalAvgPoolAddConcatSoftmaxFlatten) {
  const Shape s{4, 3, 5};
  const Eigen::MatrixXf x = random_batch(3, s.size(), 21), y = random_batch(3, s.size(), 22);
  {
    Op op;
    op.kind = OpKind::GlobalAvgPool, op.name = "gap";
    const Graph g = single_op_graph({s}, op);
    EXPECT_EQ(g.out_shape(), (Shape{4, 1, 1}));
    Eigen::MatrixXf ref(3, 4);
    for (int b = 0; b < 3; ++b)
      for (int c = 0; c < 4; ++c) {
        double acc = 0;
        for (int i = 0; i < 15; ++i) acc += x(b, c * 15 + i);
        ref(b, c) = float(acc / 15);
      }
    expect_close(g.forward(x), ref, 1e-6f, "global average pool");
  }
  {
    Op op;
    op.kind = OpKind::Add, op.name = "add", op.act_min = 0.0f;
    const Graph g = single_op_graph({s, s}, op);
    expect_close(run_op(g, {x, y}), relu(x + y), 1e-6f, "add + relu");
  }
  {
    const Shape t{2, 3, 5};
    const Eigen::MatrixXf z = random_batch(3, t.size(), 23);
    Op op;
    op.kind = OpKind::Concat, op.name = "cat";
    const Graph g = single_op_graph({s, t, s}, op);
    EXPECT_EQ(g.out_shape(), (Shape{10, 3, 5}));
    // Direct: output channel c comes from the input holding it, element (c', h, w).
    Eigen::MatrixXf ref(3, g.out_shape().size());
    for (int b = 0; b < 3; ++b)
      for (int c = 0; c < 10; ++c)
        for (int i = 0; i < 15; ++i) {
          const Eigen::MatrixXf& src = c < 4 ? x : c < 6 ? z : x;
          const int cc = c < 4 ? c : c < 6 ? c - 4 : c - 6;
          ref(b, c * 15 + i) = src(b, cc * 15 + i);
        }
    expect_close(run_op(g, {x, z, x}), ref, 0.0f, "concat");
  }
  {
    Op op;
    op.kind = OpKind::Softmax, op.name = "softmax";
    const Graph g = single_op_graph({Shape{6, 1, 1}}, op);
    Eigen::MatrixXf v = random_batch(2, 6, 24) * 30.0f;
    v(1, 2) = 1000.0f;  // would overflow a softmax without the max subtraction
    Eigen::MatrixXf ref(2, 6);
    for (int b = 0; b < 2; ++b) {
      double m = v.row(b).maxCoeff(), sum = 0;
      for (int i = 0; i < 6; ++i) sum += std::exp(double(v(b, i)) - m);
      for (int i = 0; i < 6; ++i) ref(b, i) = float(std::exp(double(v(b, i)) - m) / sum);
    }
    expect_close(g.forward(v), ref, 1e-6f, "softmax");
  }
  {
    Op op;
    op.kind = OpKind::Flatten, op.name = "flat";
    const Graph g = single_op_graph({s}, op);
    EXPECT_EQ(g.out_shape(), (Shape{60, 1, 1}));
    expect_close(g.forward(x), x, 0.0f, "flatten");
  }
}

TEST(GraphShapes, MismatchesNameTheNetworkAndOp) {
  const ConvSpec s{4, 5, 5, 6, 3, 3, 2, 1, 1, 1, 1, 1, 1};
  Op conv = conv_op(s, random_vec(6 * 2 * 9, 1), random_vec(6, 2));
  conv.name = "conv7";
  std::string msg = error_of([&] { single_op_graph({Shape{3, 5, 5}}, conv); });
  EXPECT_NE(msg.find("network 't'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("op 'conv7' (Conv)"), std::string::npos) << msg;
  EXPECT_NE(msg.find("input channels"), std::string::npos) << msg;
  conv.bias.resize(5);
  msg = error_of([&] { single_op_graph({Shape{4, 5, 5}}, conv); });
  EXPECT_NE(msg.find("5 biases for 6 output channels"), std::string::npos) << msg;

  Op add;
  add.kind = OpKind::Add, add.name = "res";
  msg = error_of([&] { single_op_graph({Shape{4, 5, 5}, Shape{4, 5, 4}}, add); });
  EXPECT_NE(msg.find("op 'res' (Add)"), std::string::npos) << msg;
  EXPECT_NE(msg.find("4x5x5 and 4x5x4"), std::string::npos) << msg;

  Op cat;
  cat.kind = OpKind::Concat, cat.name = "cat";
  msg = error_of([&] { single_op_graph({Shape{4, 5, 5}, Shape{4, 4, 5}}, cat); });
  EXPECT_NE(msg.find("equal height and width"), std::string::npos) << msg;

  Op sm;
  sm.kind = OpKind::Softmax, sm.name = "sm";
  msg = error_of([&] { single_op_graph({Shape{4, 2, 1}}, sm); });
  EXPECT_NE(msg.find("C x 1 x 1"), std::string::npos) << msg;

  Op pool;
  pool.kind = OpKind::MaxPool, pool.name = "mp", pool.kh = pool.kw = 2, pool.pad_t = 2;
  msg = error_of([&] { single_op_graph({Shape{4, 5, 5}}, pool); });
  EXPECT_NE(msg.find("padding must be smaller"), std::string::npos) << msg;
  EXPECT_THROW(single_op_graph({Shape{4, 5, 5}}, pool), std::invalid_argument);
}

// Shapes near INT_MAX: sums and products of ints are taken in long, and results that would not fit
// an int are refused by name (they wrapped around before: undefined behaviour, then a confusing
// message or a negative shape).
TEST(GraphShapes, SizesBeyondIntAreRefusedNotWrapped) {
  Op pool;
  pool.kind = OpKind::MaxPool, pool.name = "wide", pool.kh = 1, pool.kw = 2, pool.pad_l = pool.pad_r = 1;
  std::string msg = error_of([&] { single_op_graph({Shape{1, 1, INT_MAX}}, pool); });
  EXPECT_NE(msg.find("op 'wide' (MaxPool): the padded input (1 x 2147483649) is larger than 2147483647"),
            std::string::npos) << msg;
  Op cat;
  cat.kind = OpKind::Concat, cat.name = "cat";
  msg = error_of([&] { single_op_graph({Shape{INT_MAX / 2 + 1, 1, 1}, Shape{INT_MAX / 2 + 1, 1, 1}}, cat); });
  EXPECT_NE(msg.find("op 'cat' (Concat): 2147483648 channels in all, more than 2147483647"), std::string::npos) << msg;
  Op flat;
  flat.kind = OpKind::Flatten, flat.name = "flat";
  msg = error_of([&] { single_op_graph({Shape{65536, 65536, 1}}, flat); });
  EXPECT_NE(msg.find("op 'flat' (Flatten): flattens 65536x65536x1, more than 2147483647 values"), std::string::npos)
      << msg;
}

TEST(GraphShapes, ValidateCatchesOrderAndShapeErrors) {
  const ConvSpec s{2, 4, 4, 3, 3, 3, 1, 1, 1, 1, 1, 1, 1};
  Graph g = single_op_graph({Shape{2, 4, 4}}, conv_op(s, random_vec(54, 1), random_vec(3, 2)));
  Op relu_conv = conv_op(ConvSpec{3, 4, 4, 3, 1, 1, 1, 1, 1, 0, 0, 0, 0}, random_vec(9, 3), random_vec(3, 4));
  relu_conv.name = "second";
  relu_conv.inputs = {g.output};
  g.output = g.ops[size_t(g.add_op(relu_conv))].output;
  EXPECT_NO_THROW(g.validate());
  Graph swapped = g;
  std::swap(swapped.ops[0], swapped.ops[1]);
  std::string msg = error_of([&] { swapped.validate(); });
  EXPECT_NE(msg.find("topological order"), std::string::npos) << msg;
  Graph bad_shape = g;
  bad_shape.tensors[size_t(g.output)].shape = Shape{3, 4, 5};
  msg = error_of([&] { bad_shape.validate(); });
  EXPECT_NE(msg.find("op 'second' (Conv)"), std::string::npos) << msg;
  EXPECT_THROW(g.forward(Eigen::MatrixXf::Zero(1, 31)), std::invalid_argument);
}

TEST(GraphNetwork, ToGraphMatchesTheDenseChain) {
  Network net;
  net.name = "mlp";
  net.in_features = 7;
  for (int l = 0; l < 3; ++l) {
    DenseLayer layer;
    layer.name = "fc" + std::to_string(l);
    const int in = l == 0 ? 7 : 5, out = l == 2 ? 3 : 5;
    layer.weight = Eigen::Map<const Eigen::MatrixXf>(random_vec(size_t(in * out), unsigned(10 + l)).data(), out, in);
    layer.bias = Eigen::Map<const Eigen::VectorXf>(random_vec(size_t(out), unsigned(20 + l)).data(), out);
    layer.relu = l < 2;
    net.layers.push_back(layer);
  }
  const Graph g = to_graph(net);
  ASSERT_EQ(g.ops.size(), 3u);
  EXPECT_EQ(g.tensors[size_t(g.input)].name, "input");
  EXPECT_EQ(g.in_shape(), (Shape{7, 1, 1}));
  EXPECT_EQ(g.ops[1].onnx_op, "Gemm");
  EXPECT_EQ(g.ops[1].act_min, 0.0f);
  EXPECT_FALSE(g.ops[2].has_clamp());
  EXPECT_EQ(g.tensors[size_t(g.output)].name, "fc2_out");
  EXPECT_EQ(g.macs_per_inference(), net.macs_per_inference());
  EXPECT_EQ(g.params(), net.params());
  EXPECT_EQ(g.source_params, -1);
  const Eigen::MatrixXf x = random_batch(4, 7, 30);
  expect_close(g.forward(x), net.forward(x), 1e-6f, "to_graph");
}

// MobileNet-v1 1.0 at 224 px, weights random: its 569 M MACs must run fast enough to be the
// float reference of every compile (the budget is generous for slow CI machines).
TEST(GraphConv, MobileNetSizedForwardGivesFiniteScores) {
  Graph g;
  g.name = "mobilenet_v1_shape";
  g.input = g.add_tensor("image", Shape{3, 224, 224});
  int cur = g.input, c = 3;
  unsigned seed = 1;
  auto conv = [&](int m, int k, int stride, int groups) {
    const ConvSpec s{c, 0, 0, m, k, k, groups, stride, stride, k / 2, k / 2, k / 2, k / 2};
    seed += 2;
    Op op = conv_op(s, random_vec(size_t(m * (c / groups) * k * k), seed, -0.1f, 0.1f), random_vec(size_t(m), seed + 1));
    op.name = "conv" + std::to_string(g.ops.size());
    op.act_min = 0.0f, op.act_max = 6.0f;
    op.inputs = {cur};
    cur = g.ops[size_t(g.add_op(op))].output;
    c = m;
  };
  conv(32, 3, 2, 1);
  const int plan[13][2] = {{64, 1}, {128, 2}, {128, 1}, {256, 2}, {256, 1}, {512, 2}, {512, 1},
                           {512, 1}, {512, 1}, {512, 1}, {512, 1}, {1024, 2}, {1024, 1}};
  for (const auto& [m, stride] : plan) {
    conv(c, 3, stride, c);
    conv(m, 1, 1, 1);
  }
  Op gap;
  gap.kind = OpKind::GlobalAvgPool, gap.name = "gap", gap.inputs = {cur};
  cur = g.ops[size_t(g.add_op(gap))].output;
  conv(1000, 1, 1, 1);
  g.output = cur;
  g.validate();
  EXPECT_NEAR(double(g.macs_per_inference()), 569e6, 5e6);
  const Eigen::MatrixXf x = random_batch(1, g.in_features(), 5);
  const auto t0 = std::chrono::steady_clock::now();
  const Eigen::MatrixXf y = g.forward(x);
  const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  std::cout << "MobileNet-v1 224 float forward, one image: " << ms << " ms\n";
  EXPECT_EQ(y.cols(), 1000);
  EXPECT_TRUE(y.allFinite());
  // No time limit here: speed is measured by the benchmarks (bench/), as ratios against a
  // baseline in the same script, never by a timed unit test (sanitizer builds are 10x slower).
}

// ---------------------------------------------------------------- importer ----

TEST(OnnxGraphImport, ConvBatchNormReluFoldIntoOneConv) {
  OnnxBuilder b({1, 3, 6, 5}, "y");
  std::vector<float> w, bias;
  add_conv(b, "conv1", "input", "c1", 3, 4, 3, 1, 1, 40, &w, &bias);
  const std::vector<float> gamma = random_vec(4, 41, 0.5f, 1.5f), beta = random_vec(4, 42),
                           mean = random_vec(4, 43), var = random_vec(4, 44, 0.5f, 2.0f);
  b.init("g", {4}, gamma), b.init("be", {4}, beta), b.init("mu", {4}, mean), b.init("var", {4}, var);
  set_float(b.node("BatchNormalization", "bn1", {"c1", "g", "be", "mu", "var"}, "n1"), "epsilon", 1e-3f);
  b.node("Relu", "relu1", {"n1"}, "y");
  const Graph g = import_onnx(b.save("cbr.onnx"));
  EXPECT_EQ(g.name, "cbr");
  ASSERT_EQ(g.ops.size(), 1u);
  const Op& op = g.ops[0];
  EXPECT_EQ(op.kind, OpKind::Conv);
  EXPECT_EQ(op.name, "conv1");
  EXPECT_EQ(op.onnx_op, "Conv");
  EXPECT_EQ(op.folded, (std::vector<std::string>{"BatchNormalization 'bn1'", "Relu 'relu1'"}));
  EXPECT_EQ(op.act_min, 0.0f);
  EXPECT_EQ(g.tensors[size_t(g.output)].name, "y");
  EXPECT_EQ(g.source_params, 4 * 3 * 9 + 4);
  EXPECT_EQ(g.source_bn_params, 16);
  EXPECT_EQ(g.params(), 4 * 3 * 9 + 4);

  const ConvSpec s{3, 6, 5, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1};
  const Eigen::MatrixXf x = random_batch(3, g.in_features(), 45);
  Eigen::MatrixXf ref = naive_conv(s, w, bias, x);
  for (int c = 0; c < 4; ++c)
    ref.middleCols(c * 30, 30) = ((ref.middleCols(c * 30, 30).array() - mean[size_t(c)]) /
                                  std::sqrt(var[size_t(c)] + 1e-3f) * gamma[size_t(c)] + beta[size_t(c)]).matrix();
  expect_close(g.forward(x), relu(ref), 1e-5f, "conv + bn + relu");
}

TEST(OnnxGraphImport, FlattenGemmSoftmax) {
  OnnxBuilder b({1, 2, 4, 4}, "p");
  std::vector<float> w, bias;
  add_conv(b, "conv", "input", "c", 2, 3, 3, 0, 1, 50, &w, &bias);  // 3 x 2 x 2
  b.node("Flatten", "flat", {"c"}, "f");
  const std::vector<float> fw = random_vec(5 * 12, 51), fb = random_vec(5, 52);
  b.init("fc.w", {5, 12}, fw), b.init("fc.b", {5}, fb);
  auto* gemm = b.node("Gemm", "fc", {"f", "fc.w", "fc.b"}, "logits");
  set_int(gemm, "transB", 1);
  set_float(gemm, "alpha", 0.5f);
  b.node("Softmax", "sm", {"logits"}, "p");
  const Graph g = import_onnx(b.save("fgs.onnx"));
  ASSERT_EQ(g.ops.size(), 4u);
  EXPECT_EQ(g.ops[1].kind, OpKind::Flatten);
  EXPECT_EQ(g.ops[1].name, "flat");
  EXPECT_EQ(g.ops[2].onnx_op, "Gemm");
  EXPECT_EQ(g.ops[2].weight.rows(), 5);
  EXPECT_EQ(g.ops[3].kind, OpKind::Softmax);
  EXPECT_EQ(g.out_shape(), (Shape{5, 1, 1}));
  EXPECT_EQ(g.source_params, 3 * 2 * 9 + 3 + 60 + 5);

  const Eigen::MatrixXf x = random_batch(2, 32, 53);
  const Eigen::MatrixXf c = naive_conv(ConvSpec{2, 4, 4, 3, 3, 3, 1, 1, 1, 0, 0, 0, 0}, w, bias, x);
  Eigen::MatrixXf ref(2, 5);
  for (int r = 0; r < 2; ++r) {
    double sum = 0;
    for (int o = 0; o < 5; ++o) {
      double acc = fb[size_t(o)];
      for (int i = 0; i < 12; ++i) acc += 0.5 * fw[size_t(o * 12 + i)] * c(r, i);
      ref(r, o) = float(std::exp(acc));
      sum += std::exp(acc);
    }
    ref.row(r) /= float(sum);
  }
  expect_close(g.forward(x), ref, 1e-5f, "flatten + gemm + softmax");
}

TEST(OnnxGraphImport, ClipFromInputsAndFromAttributes) {
  for (int opset : {13, 6}) {
    OnnxBuilder b({1, 4}, "y", opset);
    b.init("w", {4, 3}, random_vec(12, 60));
    b.node("MatMul", "mm", {"input", "w"}, "m");
    b.init("bias", {3}, {0.5f, -0.5f, 2.0f});
    b.node("Add", "add_bias", {"m", "bias"}, "a");
    if (opset >= 11) {
      b.init("lo", {}, {0.0f}), b.init("hi", {}, {6.0f});
      b.node("Clip", "relu6", {"a", "lo", "hi"}, "y");
    } else {
      auto* n = b.node("Clip", "relu6", {"a"}, "y");
      set_float(n, "min", 0.0f);
      set_float(n, "max", 6.0f);
    }
    const Graph g = import_onnx(b.save("clip" + std::to_string(opset) + ".onnx"));
    ASSERT_EQ(g.ops.size(), 1u) << opset;
    EXPECT_EQ(g.ops[0].onnx_op, "MatMul");
    EXPECT_EQ(g.ops[0].folded, (std::vector<std::string>{"Add 'add_bias'", "Clip 'relu6'"}));
    EXPECT_EQ(g.ops[0].act_min, 0.0f);
    EXPECT_EQ(g.ops[0].act_max, 6.0f);
    EXPECT_FLOAT_EQ(g.ops[0].bias(2), 2.0f);
    EXPECT_EQ(g.source_params, 12 + 3);
    Eigen::MatrixXf x(2, 4);
    x << 10, 10, 10, 10, -10, -10, -10, -10;
    const Eigen::MatrixXf y = g.forward(x);
    EXPECT_LE(y.maxCoeff(), 6.0f);
    EXPECT_GE(y.minCoeff(), 0.0f);
  }
}

TEST(OnnxGraphImport, ResidualAddWithRelu) {
  OnnxBuilder b({1, 4, 5, 5}, "y");
  std::vector<float> w1, b1, w2, b2;
  add_conv(b, "conv1", "input", "c1", 4, 4, 3, 1, 1, 70, &w1, &b1);
  b.node("Relu", "relu1", {"c1"}, "r1");
  add_conv(b, "conv2", "r1", "c2", 4, 4, 3, 1, 1, 72, &w2, &b2);
  b.node("Add", "res", {"c2", "r1"}, "s");
  b.node("Relu", "relu2", {"s"}, "y");
  const Graph g = import_onnx(b.save("res.onnx"));
  ASSERT_EQ(g.ops.size(), 3u);
  EXPECT_EQ(g.ops[0].act_min, 0.0f);
  EXPECT_EQ(g.ops[2].kind, OpKind::Add);
  EXPECT_EQ(g.ops[2].folded, (std::vector<std::string>{"Relu 'relu2'"}));
  EXPECT_EQ(g.ops[2].act_min, 0.0f);
  EXPECT_EQ(g.ops[2].inputs, (std::vector<int>{g.ops[1].output, g.ops[0].output}));
  const ConvSpec s{4, 5, 5, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1};
  const Eigen::MatrixXf x = random_batch(2, 100, 73);
  const Eigen::MatrixXf r1 = relu(naive_conv(s, w1, b1, x));
  expect_close(g.forward(x), relu(naive_conv(s, w2, b2, r1) + r1), 1e-5f, "residual");

  // A Relu on a value that the residual path also reads cannot fold: the Add would see it.
  OnnxBuilder bad({1, 4, 5, 5}, "y");
  add_conv(bad, "conv1", "input", "c1", 4, 4, 3, 1, 1, 70);
  bad.node("Relu", "relu1", {"c1"}, "r1");
  bad.node("Add", "res", {"c1", "r1"}, "y");
  const std::string path = bad.save("bad_relu.onnx");
  const std::string msg = error_of([&] { import_onnx(path); });
  EXPECT_NE(msg.find("node 1 'relu1' (Relu)"), std::string::npos) << msg;
  EXPECT_NE(msg.find("cannot be folded"), std::string::npos) << msg;
  EXPECT_NE(msg.find("also read by other nodes"), std::string::npos) << msg;
}

TEST(OnnxGraphImport, ConcatOfTwoBranches) {
  OnnxBuilder b({1, 3, 4, 4}, "y");
  std::vector<float> w1, b1, w2, b2;
  add_conv(b, "a", "input", "ca", 3, 2, 1, 0, 1, 80, &w1, &b1);
  add_conv(b, "b", "input", "cb", 3, 5, 3, 1, 1, 82, &w2, &b2);
  set_int(b.node("Concat", "cat", {"cb", "ca"}, "y"), "axis", 1);
  const Graph g = import_onnx(b.save("cat.onnx"));
  ASSERT_EQ(g.ops.size(), 3u);
  EXPECT_EQ(g.out_shape(), (Shape{7, 4, 4}));
  const Eigen::MatrixXf x = random_batch(2, 48, 84);
  Eigen::MatrixXf ref(2, 7 * 16);
  ref << naive_conv(ConvSpec{3, 4, 4, 5, 3, 3, 1, 1, 1, 1, 1, 1, 1}, w2, b2, x),
      naive_conv(ConvSpec{3, 4, 4, 2, 1, 1, 1, 1, 1, 0, 0, 0, 0}, w1, b1, x);
  expect_close(g.forward(x), ref, 1e-5f, "concat");
}

TEST(OnnxGraphImport, PoolsAndPadding) {
  OnnxBuilder b({1, 2, 9, 8}, "y");
  auto* mp = b.node("MaxPool", "mp", {"input"}, "m");
  set_ints(mp, "kernel_shape", {3, 3});
  set_ints(mp, "strides", {2, 2});
  set_ints(mp, "pads", {1, 1, 1, 1});
  auto* ap = b.node("AveragePool", "ap", {"m"}, "a");
  set_ints(ap, "kernel_shape", {2, 2});
  auto pad_node = b.node("AveragePool", "ap2", {"a"}, "a2");
  set_ints(pad_node, "kernel_shape", {3, 3});
  set_ints(pad_node, "pads", {1, 1, 1, 1});
  set_int(pad_node, "count_include_pad", 1);
  auto* same = b.node("AveragePool", "ap3", {"a2"}, "a3");
  set_ints(same, "kernel_shape", {2, 2});
  same->add_attribute()->set_name("auto_pad");
  same->mutable_attribute(1)->set_type(onnx::AttributeProto_AttributeType_STRING);
  same->mutable_attribute(1)->set_s("SAME_UPPER");
  b.node("GlobalAveragePool", "gap", {"a3"}, "y");
  const Graph g = import_onnx(b.save("pools.onnx"));
  ASSERT_EQ(g.ops.size(), 5u);
  EXPECT_EQ(g.tensors[size_t(g.ops[0].output)].shape, (Shape{2, 5, 4}));
  EXPECT_EQ(g.tensors[size_t(g.ops[1].output)].shape, (Shape{2, 4, 3}));
  EXPECT_FALSE(g.ops[1].count_include_pad);
  EXPECT_TRUE(g.ops[2].count_include_pad);
  EXPECT_EQ(g.ops[3].pad_b, 1);  // SAME_UPPER puts the odd padding at the end
  EXPECT_EQ(g.ops[3].pad_t, 0);
  EXPECT_EQ(g.out_shape(), (Shape{2, 1, 1}));

  const Eigen::MatrixXf x = random_batch(2, 144, 90);
  Eigen::MatrixXf t = naive_pool(true, false, Shape{2, 9, 8}, 3, 3, 2, 2, 1, 1, 1, 1, x);
  t = naive_pool(false, false, Shape{2, 5, 4}, 2, 2, 1, 1, 0, 0, 0, 0, t);
  t = naive_pool(false, true, Shape{2, 4, 3}, 3, 3, 1, 1, 1, 1, 1, 1, t);
  t = naive_pool(false, false, Shape{2, 4, 3}, 2, 2, 1, 1, 0, 0, 1, 1, t);
  t = naive_pool(false, false, Shape{2, 4, 3}, 4, 3, 1, 1, 0, 0, 0, 0, t);  // global average
  expect_close(g.forward(x), t, 1e-5f, "pool chain");
}

TEST(OnnxGraphImport, PadNodeFoldsIntoConv) {
  OnnxBuilder b({1, 2, 5, 5}, "y");
  b.init_i64("pads", {0, 0, 1, 0, 0, 0, 2, 1});
  b.node("Pad", "pad", {"input", "pads"}, "p");
  std::vector<float> w, bias;
  add_conv(b, "conv", "p", "y", 2, 3, 3, 0, 1, 95, &w, &bias);
  const Graph g = import_onnx(b.save("pad.onnx"));
  ASSERT_EQ(g.ops.size(), 1u);
  EXPECT_EQ(g.ops[0].pad_t, 1);
  EXPECT_EQ(g.ops[0].pad_b, 2);
  EXPECT_EQ(g.ops[0].pad_r, 1);
  const Eigen::MatrixXf x = random_batch(2, 50, 96);
  expect_close(g.forward(x), naive_conv(ConvSpec{2, 5, 5, 3, 3, 3, 1, 1, 1, 1, 0, 2, 1}, w, bias, x), 1e-5f, "pad");
}

TEST(OnnxGraphImport, BatchNormAfterReluBecomesDepthwiseConv) {
  OnnxBuilder b({1, 3, 4, 4}, "y");
  std::vector<float> w, bias;
  add_conv(b, "conv", "input", "c", 3, 2, 1, 0, 1, 100, &w, &bias);
  b.node("Relu", "relu", {"c"}, "r");
  b.init("g", {2}, {2.0f, 0.5f}), b.init("be", {2}, {1.0f, -1.0f});
  b.init("mu", {2}, {0.25f, 0.0f}), b.init("var", {2}, {1.0f, 4.0f});
  set_float(b.node("BatchNormalization", "bn", {"r", "g", "be", "mu", "var"}, "y"), "epsilon", 0.0f);
  const Graph g = import_onnx(b.save("bn_dw.onnx"));
  ASSERT_EQ(g.ops.size(), 2u);
  EXPECT_TRUE(g.ops[1].depthwise());
  EXPECT_EQ(g.ops[1].onnx_op, "BatchNormalization");
  EXPECT_EQ(g.source_bn_params, 8);
  const Eigen::MatrixXf x = random_batch(1, 48, 101);
  Eigen::MatrixXf ref = relu(naive_conv(ConvSpec{3, 4, 4, 2, 1, 1, 1, 1, 1, 0, 0, 0, 0}, w, bias, x));
  ref.leftCols(16) = ((ref.leftCols(16).array() - 0.25f) * 2.0f + 1.0f).matrix();
  ref.rightCols(16) = (ref.rightCols(16).array() * 0.25f - 1.0f).matrix();
  expect_close(g.forward(x), ref, 1e-6f, "bn as depthwise conv");
}

TEST(OnnxGraphImport, GlobalMaxPoolAndUnfoldableBiasAdd) {
  OnnxBuilder b({1, 2, 3, 4}, "y");
  b.node("GlobalMaxPool", "gmp", {"input"}, "m");
  b.node("Relu", "relu", {"m"}, "r");
  b.init("bias", {1, 2, 1, 1}, {0.5f, -2.0f});
  b.node("Add", "shift", {"bias", "r"}, "y");  // after the clamp: cannot fold into the pool
  const Graph g = import_onnx(b.save("gmp.onnx"));
  ASSERT_EQ(g.ops.size(), 2u);
  EXPECT_EQ(g.ops[0].kind, OpKind::MaxPool);
  EXPECT_EQ(g.ops[0].act_min, 0.0f);
  EXPECT_TRUE(g.ops[1].depthwise());
  EXPECT_EQ(g.ops[1].onnx_op, "Add");
  EXPECT_EQ(g.out_shape(), (Shape{2, 1, 1}));
  const Eigen::MatrixXf x = random_batch(2, 24, 105);
  Eigen::MatrixXf ref(2, 2);
  for (int r = 0; r < 2; ++r) {
    ref(r, 0) = std::max(x.row(r).leftCols(12).maxCoeff(), 0.0f) + 0.5f;
    ref(r, 1) = std::max(x.row(r).rightCols(12).maxCoeff(), 0.0f) - 2.0f;
  }
  expect_close(g.forward(x), ref, 1e-6f, "global max pool + relu + bias");
}

TEST(OnnxGraphImport, ReshapeSqueezeTransposeKeepOrder) {
  OnnxBuilder b({1, 4, 1, 1}, "y");
  b.init_i64("axes", {2, 3});
  b.node("Squeeze", "sq", {"input", "axes"}, "s");           // [N, 4]
  b.init_i64("ax1", {1});
  b.node("Unsqueeze", "unsq", {"s", "ax1"}, "u");            // [N, 1, 4]
  set_ints(b.node("Transpose", "tr", {"u"}, "t"), "perm", {0, 2, 1});  // [N, 4, 1]
  b.init_i64("shape", {-1, 4});
  b.node("Reshape", "rs", {"t", "shape"}, "r");             // [N, 4]
  b.init("w", {4, 2}, random_vec(8, 110));
  b.node("Identity", "w_alias", {"w"}, "w2");  // torch's way of sharing equal initializers
  b.node("MatMul", "mm", {"r", "w2"}, "y");
  const Graph g = import_onnx(b.save("shapes.onnx"));
  ASSERT_EQ(g.ops.size(), 1u);
  EXPECT_EQ(g.ops[0].inputs[0], g.input);

  // A real transpose (moving channels behind the width) is refused.
  OnnxBuilder bad({1, 3, 2, 2}, "y");
  set_ints(bad.node("Transpose", "nhwc", {"input"}, "t"), "perm", {0, 2, 3, 1});
  bad.node("Flatten", "f", {"t"}, "y");
  const std::string path = bad.save("transpose.onnx");
  const std::string msg = error_of([&] { import_onnx(path); });
  EXPECT_NE(msg.find("node 0 'nhwc' (Transpose)"), std::string::npos) << msg;
  EXPECT_NE(msg.find("changes the order"), std::string::npos) << msg;
}

TEST(OnnxGraphImport, RefusesUnsupportedOpsNamingThem) {
  OnnxBuilder b({1, 3, 4, 4}, "y");
  add_conv(b, "conv", "input", "c", 3, 2, 1, 0, 1, 120);
  b.node("Softplus", "soft7", {"c"}, "y");
  const std::string path = b.save("softplus.onnx");
  const std::string msg = error_of([&] { import_onnx(path); });
  EXPECT_NE(msg.find(path), std::string::npos) << msg;
  EXPECT_NE(msg.find("node 1 'soft7' (Softplus)"), std::string::npos) << msg;
  EXPECT_NE(msg.find("unsupported op"), std::string::npos) << msg;
  EXPECT_NE(msg.find("supported: Conv, Gemm"), std::string::npos) << msg;
  EXPECT_THROW(import_onnx(path), ModelError);

  OnnxBuilder l({1, 4}, "y");
  l.node("LSTM", "lstm", {"input"}, "y");
  const std::string lpath = l.save("lstm.onnx");
  EXPECT_NE(error_of([&] { import_onnx(lpath); }).find("'lstm' (LSTM): unsupported op"), std::string::npos);
}

TEST(OnnxGraphImport, RefusesDilatedConvAndOtherMisfits) {
  auto refused = [](OnnxBuilder& b, const std::string& file) {
    const std::string path = b.save(file);
    std::string msg;
    try {
      import_onnx(path);
      msg = "<no exception>";
    } catch (const ModelError& e) {
      msg = e.what();
    }
    return msg;
  };
  {
    OnnxBuilder b({1, 3, 8, 8}, "y");
    set_ints(add_conv(b, "dil", "input", "y", 3, 2, 3, 2, 1, 130), "dilations", {2, 2});
    const std::string msg = refused(b, "dilated.onnx");
    EXPECT_NE(msg.find("node 0 'dil' (Conv)"), std::string::npos) << msg;
    EXPECT_NE(msg.find("dilations other than 1"), std::string::npos) << msg;
  }
  {
    OnnxBuilder b({1, 3, 8, 8, 2}, "y");  // rank 5 (rank 3 is a sequence [N, C, L] since issue 20)
    b.node("Relu", "r", {"input"}, "y");
    EXPECT_NE(refused(b, "rank5.onnx").find("has rank 5; supported are [N, C, H, W]"), std::string::npos);
  }
  {
    OnnxBuilder b({1, 3, 8, 8}, "y");
    set_int(add_conv(b, "c", "input", "y", 3, 2, 3, 1, 1, 131), "ceil_mode", 0);
    auto* p = b.node("MaxPool", "unused_pool", {"input"}, "z");
    set_ints(p, "kernel_shape", {2, 2});
    const std::string msg = refused(b, "unused.onnx");
    EXPECT_NE(msg.find("'unused_pool' (MaxPool): is not used"), std::string::npos) << msg;
  }
  {
    OnnxBuilder b({1, 3, 8, 8}, "y");
    auto* p = b.node("AveragePool", "ceil", {"input"}, "y");
    set_ints(p, "kernel_shape", {3, 3});
    set_int(p, "ceil_mode", 1);
    EXPECT_NE(refused(b, "ceil.onnx").find("ceil_mode=1 is not supported"), std::string::npos);
  }
  {
    OnnxBuilder b({1, 3, 8, 8}, "y");
    b.node("Relu", "a", {"y"}, "x1");  // a cycle: y -> a -> x1 -> b -> y
    b.node("Add", "b", {"x1", "input"}, "y");
    EXPECT_NE(refused(b, "cycle.onnx").find("cycle"), std::string::npos);
  }
  {
    OnnxBuilder b({1, 3, 2, 2}, "y");
    b.g->add_output()->set_name("input");
    b.node("Relu", "r", {"input"}, "y");
    EXPECT_NE(refused(b, "two_outputs.onnx").find("2 outputs"), std::string::npos);
  }
  {
    OnnxBuilder b({1, 3, 2, 2}, "y");
    b.node("Relu", "r", {"input"}, "y");
    EXPECT_NE(refused(b, "relu_on_input.onnx").find("is the network input"), std::string::npos);
  }
  {
    OnnxBuilder b({1, 12}, "y");
    b.init_i64("shape", {0, 3, 2, 2});
    b.node("Reshape", "unflatten", {"input", "shape"}, "r");
    auto* p = b.node("MaxPool", "mp", {"r"}, "y");
    set_ints(p, "kernel_shape", {2, 2});
    const std::string msg = refused(b, "unflatten.onnx");
    EXPECT_NE(msg.find("'mp' (MaxPool)"), std::string::npos) << msg;
    EXPECT_NE(msg.find("regrouped"), std::string::npos) << msg;
  }
  {
    OnnxBuilder b({1, 2, 3, 3}, "y");
    b.init("full", {2, 3, 3}, random_vec(18, 140));
    b.node("Add", "addmap", {"input", "full"}, "y");
    EXPECT_NE(refused(b, "addmap.onnx").find("only a per-channel or scalar constant"), std::string::npos);
  }
}

// Dims come from the file: their products are checked (an unchecked int64 product of them is
// undefined behaviour, found by UBSan) and a model whose counts overflow is refused by name.
TEST(OnnxGraphImport, RefusesDimsWhoseProductOverflows) {
  auto refused = [](OnnxBuilder& b, const std::string& file) {
    const std::string path = b.save(file);
    try {
      import_onnx(path);
    } catch (const ModelError& e) {
      return std::string(e.what());
    }
    return std::string("<no exception>");
  };
  const int64_t two32 = int64_t(1) << 32, two62 = int64_t(1) << 62;
  {
    OnnxBuilder b({1, 4}, "y");
    b.init("huge.w", {two32, two32}, {});  // 2^64 elements
    b.node("Gemm", "fc", {"input", "huge.w"}, "y");
    const std::string msg = refused(b, "huge_initializer.onnx");
    EXPECT_NE(msg.find("initializer 'huge.w' has dims [4294967296, 4294967296]"), std::string::npos) << msg;
    EXPECT_NE(msg.find("does not fit in 64 bits"), std::string::npos) << msg;
  }
  {
    OnnxBuilder b({1, INT_MAX, INT_MAX, INT_MAX}, "y");  // each dim fits an int, the map does not
    b.node("Relu", "r", {"input"}, "y");
    const std::string msg = refused(b, "huge_input.onnx");
    EXPECT_NE(msg.find("more than 2147483647 elements"), std::string::npos) << msg;
  }
  {
    OnnxBuilder b({1, 4}, "y");
    b.init("c", {4}, {1, 2, 3, 4});
    b.init_i64("cshape", {-1, two62, 4});  // 2^64 without the inferred dimension
    b.node("Reshape", "reshape_const", {"c", "cshape"}, "rc");
    b.node("Add", "add", {"input", "rc"}, "y");
    const std::string msg = refused(b, "huge_const_reshape.onnx");
    EXPECT_NE(msg.find("'reshape_const' (Reshape)"), std::string::npos) << msg;
    EXPECT_NE(msg.find("cannot reshape a constant of [4]"), std::string::npos) << msg;
  }
  {
    OnnxBuilder b({1, 12}, "y");
    b.init_i64("shape", {1, two62, 8});
    b.node("Reshape", "reshape_input", {"input", "shape"}, "y");
    const std::string msg = refused(b, "huge_reshape.onnx");
    EXPECT_NE(msg.find("'reshape_input' (Reshape)"), std::string::npos) << msg;
    EXPECT_NE(msg.find("more elements than fit in 64 bits"), std::string::npos) << msg;
  }
}

// What importing the model of `b` (saved as `file`) says: the ModelError's message, "other
// exception: ..." for anything else (std::bad_alloc from the allocation probe), or "accepted".
std::string import_error(OnnxBuilder& b, const std::string& file) {
  const std::string path = b.save(file);
  try {
    import_onnx(path);
  } catch (const ModelError& e) {
    return e.what();
  } catch (const std::exception& e) {
    return std::string("other exception: ") + e.what();
  }
  return "accepted";
}

// Repeated protobuf fields are indexed only after their size is checked: a Reshape of a constant
// with only its data input (no shape) reached a protobuf CHECK, which ended the process.
TEST(OnnxGraphImport, MissingInputsAreNamedNotCrashed) {
  {
    OnnxBuilder b({1, 4}, "y");
    b.init("c", {4}, {1, 2, 3, 4});
    b.node("Reshape", "fold_reshape", {"c"}, "rc");
    b.node("Add", "add", {"input", "rc"}, "y");
    const std::string msg = import_error(b, "reshape_one_input.onnx");
    EXPECT_NE(msg.find("reshape_one_input.onnx: node 0 'fold_reshape' (Reshape): missing input 1"), std::string::npos)
        << msg;
  }
  {
    OnnxBuilder b({1, 4}, "y");
    b.node("Shape", "shape0", {}, "sh");
    b.node("Reshape", "r", {"input", "sh"}, "y");
    const std::string msg = import_error(b, "shape_no_input.onnx");
    EXPECT_NE(msg.find("node 0 'shape0' (Shape): missing input 0"), std::string::npos) << msg;
  }
  {
    OnnxBuilder b({1, 4}, "y");
    b.node("Identity", "nothing", {}, "k");
    b.node("Add", "add", {"input", "k"}, "y");
    const std::string msg = import_error(b, "identity_no_input.onnx");
    EXPECT_NE(msg.find("node 0 'nothing' (Identity): missing input 0"), std::string::npos) << msg;
  }
  {
    OnnxBuilder b({1, 4}, "y");
    b.init("c", {4}, {1, 2, 3, 4});
    b.node("Unsqueeze", "unsq", {"c", ""}, "u");  // opset 13 takes the axes as input 1
    b.node("Add", "add", {"input", "u"}, "y");
    const std::string msg = import_error(b, "unsqueeze_no_axes.onnx");
    EXPECT_EQ(msg, "accepted");  // no axes: nothing to insert, the constant stays [4]
  }
}

// A model of an opset newer than the importer knows may mean something else by an op: refused,
// naming the model and the opset. The bundled models are opset 13.
TEST(OnnxGraphImport, RefusesOpsetsNewerThanItKnows) {
  for (int opset : {13, 21, 22, 999}) {
    OnnxBuilder b({1, 4}, "y", opset);
    b.init("w", {4, 3}, random_vec(12, 150));
    b.node("Gemm", "fc", {"input", "w"}, "y");
    const std::string file = "opset" + std::to_string(opset) + ".onnx";
    const std::string msg = import_error(b, file);
    if (opset <= 21) {
      EXPECT_EQ(msg, "accepted") << opset;
    } else {
      EXPECT_NE(msg.find(file + ": model imports opset " + std::to_string(opset) +
                         " of the default ONNX operator set; the importer knows opsets up to 21"),
                std::string::npos) << msg;
    }
  }
}

// Window attributes are bounded before they become ints: negative or huge kernels, strides,
// pads and groups are refused naming the node (huge pads were truncated to small ones, huge
// strides overflowed the SAME padding arithmetic, a huge group overflowed a product).
TEST(OnnxGraphImport, RefusesAbsurdWindowAttributes) {
  const int64_t two32 = int64_t(1) << 32, two62 = int64_t(1) << 62;
  auto pool = [&](const std::string& name, const std::function<void(onnx::NodeProto*)>& set) {
    OnnxBuilder b({1, 1, 4, 4}, "y");
    auto* p = b.node("MaxPool", name, {"input"}, "y");
    set_ints(p, "kernel_shape", {2, 2});
    set(p);
    return import_error(b, name + ".onnx");
  };
  std::string msg = pool("hugepads", [&](onnx::NodeProto* p) { set_ints(p, "pads", {0, two32 + 1, 0, two32 + 1}); });
  EXPECT_NE(msg.find("node 0 'hugepads' (MaxPool): pads [0, 4294967297, 0, 4294967297] must be between 0 and 1024"),
            std::string::npos) << msg;
  msg = pool("negpads", [&](onnx::NodeProto* p) { set_ints(p, "pads", {0, -1, 0, 0}); });
  EXPECT_NE(msg.find("'negpads' (MaxPool): negative pads are not supported, got [0, -1, 0, 0]"), std::string::npos) << msg;
  msg = pool("hugestrides", [&](onnx::NodeProto* p) {
    set_ints(p, "strides", {two62, two62});
    auto* a = p->add_attribute();
    a->set_name("auto_pad");
    a->set_type(onnx::AttributeProto_AttributeType_STRING);
    a->set_s("SAME_UPPER");
  });
  EXPECT_NE(msg.find("'hugestrides' (MaxPool): strides must be two positive values up to 2147483647, got [" +
                     std::to_string(two62) + ", " + std::to_string(two62) + "]"),
            std::string::npos) << msg;
  {
    OnnxBuilder b({1, 1, 4, 4}, "y");
    set_ints(b.node("AveragePool", "hugekernel", {"input"}, "y"), "kernel_shape", {two32 + 2, 2});
    msg = import_error(b, "hugekernel.onnx");
    EXPECT_NE(msg.find("'hugekernel' (AveragePool): kernel_shape must be two positive values up to 2147483647, got [4294967298, 2]"),
              std::string::npos) << msg;
  }
  {
    OnnxBuilder b({1, 1, 4, 4}, "y");
    set_ints(b.node("AveragePool", "negkernel", {"input"}, "y"), "kernel_shape", {-2, 2});
    msg = import_error(b, "negkernel.onnx");
    EXPECT_NE(msg.find("'negkernel' (AveragePool): kernel_shape must be two positive values"), std::string::npos) << msg;
  }
  {
    OnnxBuilder b({1, 2, 4, 4}, "y");
    b.init("w", {2, 1, 1, 1}, {1, 2});
    set_int(b.node("Conv", "hugegroup", {"input", "w"}, "y"), "group", two62);
    msg = import_error(b, "hugegroup.onnx");
    EXPECT_NE(msg.find("'hugegroup' (Conv): group=" + std::to_string(two62) + " must be between 1 and the 2 input channels"),
              std::string::npos) << msg;
  }
  {
    // 2^40 output channels of an empty kernel hold no values, so the file is small; the bias of
    // 2^40 floats was allocated before the empty kernel was noticed.
    OnnxBuilder b({1, 1, 4, 4}, "y");
    b.init("wz", {int64_t(1) << 40, 1, 0, 3}, {});
    b.node("Conv", "zeroweight", {"input", "wz"}, "y");
    aimc::testing::reset_largest_allocation();
    msg = import_error(b, "zeroweight.onnx");
    EXPECT_NE(msg.find("'zeroweight' (Conv): weight 'wz' has shape [1099511627776, 1, 0, 3]: an empty or huge dimension"),
              std::string::npos) << msg;
    EXPECT_LT(aimc::testing::largest_allocation(), size_t(1) << 24);
  }
}

// Constants are consistent (dims and values agree) before anything indexes them, and what cannot
// be computed is refused naming the node.
TEST(OnnxGraphImport, RefusesInconsistentConstants) {
  {
    OnnxBuilder b({1, 4}, "y");
    auto* c = b.node("Constant", "twovalues", {}, "k");
    auto* f = c->add_attribute();
    f->set_name("value_floats"), f->set_type(onnx::AttributeProto_AttributeType_FLOATS);
    for (int i = 0; i < 8; ++i) f->add_floats(1.0f);
    set_int(c, "value_int", 7);
    c->clear_input();
    b.init_i64("idx", {5});
    b.node("Gather", "gather", {"k", "idx"}, "g");
    b.node("Add", "add", {"input", "g"}, "y");
    const std::string msg = import_error(b, "two_values.onnx");
    EXPECT_NE(msg.find("node 0 'twovalues' (Constant): Constant has 2 attributes; exactly one value is allowed"),
              std::string::npos) << msg;
  }
  {
    OnnxBuilder b({1, 4}, "y");
    auto* c = b.node("Constant", "short", {}, "k");
    auto* a = c->add_attribute();
    a->set_name("value"), a->set_type(onnx::AttributeProto_AttributeType_TENSOR);
    a->mutable_t()->set_data_type(onnx::TensorProto_DataType_FLOAT);
    a->mutable_t()->add_dims(4);
    a->mutable_t()->set_raw_data(std::string(8, '\0'));  // 2 floats for dims [4]
    b.node("Add", "add", {"input", "k"}, "y");
    const std::string msg = import_error(b, "short_constant.onnx");
    EXPECT_NE(msg.find("node 0 'short' (Constant): the tensor of attribute 'value': raw_data has 8 bytes for 4 FLOAT values of dims [4]"),
              std::string::npos) << msg;
  }
  {
    OnnxBuilder b({1, 4}, "y");
    b.init("big", {1}, {1e30f});
    set_int(b.node("Cast", "cast_big", {"big"}, "bi"), "to", onnx::TensorProto_DataType_INT64);
    set_int(b.node("Cast", "back", {"bi"}, "bf"), "to", onnx::TensorProto_DataType_FLOAT);
    b.node("Add", "add", {"input", "bf"}, "y");
    const std::string msg = import_error(b, "cast_big.onnx");
    EXPECT_NE(msg.find("node 0 'cast_big' (Cast): Cast of 1e+30 to an integer type: out of range"),
              std::string::npos) << msg;
  }
  {
    OnnxBuilder b({1, 4}, "y");
    b.init("u", {4}, {1, 2, 3, 4});
    b.init_i64("ax", {-100});
    b.node("Unsqueeze", "unsq", {"u", "ax"}, "uu");
    b.node("Add", "add", {"input", "uu"}, "y");
    const std::string msg = import_error(b, "unsqueeze_axis.onnx");
    EXPECT_NE(msg.find("node 0 'unsq' (Unsqueeze): axes [-100] out of range for an output of rank 2"), std::string::npos)
        << msg;
  }
  {
    OnnxBuilder b({1, 1}, "y");  // [N, 1] squeezed to [N]: no channel axis left
    b.node("Squeeze", "sq", {"input"}, "s");
    set_int(b.node("Concat", "cat", {"s", "s"}, "y"), "axis", 1);
    const std::string msg = import_error(b, "concat_rank1.onnx");
    EXPECT_NE(msg.find("node 1 'cat' (Concat): input 0 is [N]: there is no channel axis to concatenate along"),
              std::string::npos) << msg;
  }
}

TEST(OnnxGraphImport, RefusesMissingAndBrokenFiles) {
  const std::string missing = (scratch() / "nope.onnx").string();
  std::string msg = error_of([&] { import_onnx(missing); });
  EXPECT_NE(msg.find(missing + ": cannot open file"), std::string::npos) << msg;
  const std::string junk = (scratch() / "junk.onnx").string();
  std::ofstream(junk) << "this is not a protobuf";
  msg = error_of([&] { import_onnx(junk); });
  EXPECT_NE(msg.find("not a valid ONNX"), std::string::npos) << msg;
  EXPECT_THROW(import_onnx(junk), ModelError);
}

// A CNN exported by torch 1.13 (tests/compiler/data/make_small_cnn.py): BN folds, Relu6 as
// Relu + Clip, the Shape/Gather/Concat/Reshape flatten, against torch's outputs.
TEST(OnnxGraphImport, TorchExportedCnnMatchesTorch) {
  const std::string dir = source_dir() + "/tests/compiler/data/";
  const Graph g = import_onnx(dir + "small_cnn.onnx");
  std::ifstream f(dir + "small_cnn.ref.json");
  ASSERT_TRUE(f.good());
  const nlohmann::json ref = nlohmann::json::parse(f);
  EXPECT_EQ(g.in_shape(), (Shape{3, 12, 12}));
  EXPECT_EQ(g.tensors[size_t(g.input)].name, "image");
  EXPECT_EQ(g.tensors[size_t(g.output)].name, "logits");
  int bn_folded = 0, convs = 0;
  for (const Op& op : g.ops) {
    convs += op.kind == OpKind::Conv;
    for (const std::string& s : op.folded) bn_folded += s.rfind("BatchNormalization", 0) == 0;
  }
  EXPECT_EQ(bn_folded, 4);  // bn1, bn_dw, bn_pw into convolutions, bn_fc into fc1
  EXPECT_EQ(convs, 6);      // conv1, dw, pw, side, fc1, fc2
  EXPECT_EQ(g.source_bn_params, 4L * (8 + 8 + 8 + 16));
  const int batch = ref["input_shape"][0].get<int>();
  const long features = long(ref["input"].size()) / batch;
  ASSERT_EQ(features, g.in_features());
  Eigen::MatrixXf x(batch, features);
  for (int b = 0; b < batch; ++b)
    for (long i = 0; i < features; ++i) x(b, i) = ref["input"][size_t(b * features + i)].get<float>();
  const Eigen::MatrixXf y = g.forward(x);
  Eigen::MatrixXf want(batch, y.cols());
  ASSERT_EQ(long(ref["output"].size()), batch * y.cols());
  for (int b = 0; b < batch; ++b)
    for (long j = 0; j < y.cols(); ++j) want(b, j) = ref["output"][size_t(b * y.cols() + j)].get<float>();
  expect_close(y, want, 1e-4f, "torch reference");
}

// Issue 20: every activation the importer knows, as torch 1.13 exports it at opsets 11, 13 and 17
// with a dynamic batch, and at 13 with a fixed batch (tests/compiler/data/make_act_net.py): the
// patterns (SiLU = Sigmoid * x, HardSwish = HardSigmoid * x before opset 14, GELU's Erf chain)
// fold into the op before them, the LeakyRelu after a MaxPool becomes an Activation op, and the
// float reference gives torch's outputs.
TEST(OnnxGraphImport, TorchExportedActivationsMatchTorch) {
  const std::string dir = source_dir() + "/tests/compiler/data/";
  std::ifstream f(dir + "act_net.ref.json");
  ASSERT_TRUE(f.good());
  const nlohmann::json ref = nlohmann::json::parse(f);
  const int batch = ref["input_shape"][0].get<int>();
  const long features = long(ref["input"].size()) / batch;
  Eigen::MatrixXf x(batch, features);
  for (int b = 0; b < batch; ++b)
    for (long i = 0; i < features; ++i) x(b, i) = ref["input"][size_t(b * features + i)].get<float>();
  const long outs = long(ref["output"].size()) / batch;
  Eigen::MatrixXf want(batch, outs);
  for (int b = 0; b < batch; ++b)
    for (long j = 0; j < outs; ++j) want(b, j) = ref["output"][size_t(b * outs + j)].get<float>();

  for (const char* file : {"act_net_o11.onnx", "act_net_o13.onnx", "act_net_o17.onnx", "act_net_o13_b2.onnx"}) {
    SCOPED_TRACE(file);
    const Graph g = import_onnx(dir + file);
    std::map<num::ActKind, int> acts;
    int standalone = 0;
    std::string folded;
    for (const Op& op : g.ops) {
      if (op.act != num::ActKind::none) ++acts[op.act];
      if (op.kind == OpKind::Activation) {
        ++standalone;
        EXPECT_EQ(op.act, num::ActKind::leaky_relu);  // after a MaxPool: no op to fold into
        EXPECT_FLOAT_EQ(op.act_alpha, 0.1f);
      }
      for (const std::string& s : op.folded) folded += s + "; ";
    }
    for (num::ActKind k : {num::ActKind::silu, num::ActKind::hard_swish, num::ActKind::prelu, num::ActKind::gelu_erf,
                           num::ActKind::tanh, num::ActKind::leaky_relu, num::ActKind::elu, num::ActKind::hard_sigmoid})
      EXPECT_EQ(acts[k], 1) << num::to_string(k) << " in " << folded;
    EXPECT_EQ(acts[num::ActKind::sigmoid], 2) << folded;  // the gate's, and the one after a Relu
    // The squeeze-excitation product: a Mul op whose second input is one value per channel.
    int gates = 0, shifts = 0;
    for (const Op& op : g.ops) {
      if (op.kind == OpKind::Mul && g.tensors[size_t(op.inputs[1])].shape == (Shape{12, 1, 1})) ++gates;
      if (op.kind == OpKind::Add && g.tensors[size_t(op.inputs[1])].shape == (Shape{12, 1, 1})) ++shifts;
    }
    EXPECT_EQ(gates, 1);
    EXPECT_EQ(shifts, 1);  // and the Add of one value per channel
    EXPECT_EQ(standalone, 1);
    EXPECT_NE(folded.find("Sigmoid and Mul"), std::string::npos) << folded;
    EXPECT_NE(folded.find("GELU (Div, Erf, Add, Mul, Mul)"), std::string::npos) << folded;
    // Relu then Sigmoid on conv4: the clamp [0, inf) moved after f is [sigmoid(0), inf) = [0.5, inf).
    for (const Op& op : g.ops)
      if (op.act == num::ActKind::sigmoid && op.has_clamp()) { EXPECT_FLOAT_EQ(op.act_min, 0.5f); }
    expect_close(g.forward(x), want, 2e-5f, "torch reference");
  }
}

// Each activation against its formula, at points on both sides of 0, in the tails and at 0.
TEST(Activations, MatchTheirFormulas) {
  const double pts[] = {-30.0, -6.0, -3.0, -1.0, -0.25, 0.0, 0.25, 1.0, 3.0, 6.0, 30.0};
  auto sig = [](double v) { return 1.0 / (1.0 + std::exp(-v)); };
  for (double v : pts) {
    const float xf = float(v);
    EXPECT_NEAR(num::activate(num::ActKind::sigmoid, xf, 0, 0), sig(v), 1e-7) << v;
    EXPECT_NEAR(num::activate(num::ActKind::tanh, xf, 0, 0), std::tanh(v), 1e-7) << v;
    EXPECT_NEAR(num::activate(num::ActKind::silu, xf, 0, 0), v * sig(v), 1e-6 * std::max(1.0, std::fabs(v))) << v;
    EXPECT_NEAR(num::activate(num::ActKind::gelu_erf, xf, 0, 0), 0.5 * v * (1.0 + std::erf(v / std::sqrt(2.0))),
                1e-6 * std::max(1.0, std::fabs(v))) << v;
    EXPECT_NEAR(num::activate(num::ActKind::gelu_tanh, xf, 0, 0),
                0.5 * v * (1.0 + std::tanh(std::sqrt(2.0 / M_PI) * (v + 0.044715 * v * v * v))),
                1e-6 * std::max(1.0, std::fabs(v))) << v;
    EXPECT_NEAR(num::activate(num::ActKind::leaky_relu, xf, 0.1f, 0), v >= 0 ? v : 0.1 * v, 1e-6 * std::fabs(v)) << v;
    EXPECT_NEAR(num::activate(num::ActKind::prelu, xf, -0.2f, 0), v >= 0 ? v : -0.2 * v, 1e-6 * std::fabs(v)) << v;
    EXPECT_NEAR(num::activate(num::ActKind::hard_sigmoid, xf, 0.2f, 0.5f), std::clamp(0.2 * v + 0.5, 0.0, 1.0), 1e-7) << v;
    EXPECT_NEAR(num::activate(num::ActKind::hard_swish, xf, 0, 0), v * std::clamp(v / 6.0 + 0.5, 0.0, 1.0),
                1e-6 * std::max(1.0, std::fabs(v))) << v;
    EXPECT_NEAR(num::activate(num::ActKind::elu, xf, 0.7f, 0), v >= 0 ? v : 0.7 * (std::exp(v) - 1.0), 1e-6) << v;
  }
  // The stable sigmoid neither overflows nor loses the tail: e^-88 is a normal float.
  EXPECT_GT(num::activate(num::ActKind::sigmoid, -88.0f, 0, 0), 0.0f);
  EXPECT_EQ(num::activate(num::ActKind::sigmoid, -1000.0f, 0, 0), 0.0f);
  EXPECT_EQ(num::activate(num::ActKind::sigmoid, 1000.0f, 0, 0), 1.0f);
  // Monotone kinds: a clamp moves through them; the dipping ones refuse.
  EXPECT_TRUE(num::activation_monotone(num::ActKind::sigmoid, 0));
  EXPECT_TRUE(num::activation_monotone(num::ActKind::leaky_relu, 0.1f));
  EXPECT_FALSE(num::activation_monotone(num::ActKind::leaky_relu, -0.1f));
  EXPECT_FALSE(num::activation_monotone(num::ActKind::silu, 0));
  EXPECT_FALSE(num::activation_monotone(num::ActKind::gelu_erf, 0));
  EXPECT_FALSE(num::activation_monotone(num::ActKind::prelu, 0.1f));
  // PReLU's slope per channel: channel-last (stride 1) and column-major (stride = rows) layouts.
  const float slopes[2] = {0.5f, -1.0f};
  num::Activation a;
  a.kind = num::ActKind::prelu, a.slope = slopes, a.channels = 2, a.channel_stride = 1;
  float hwc[4] = {-2, -2, -2, 3};
  num::apply_activation(hwc, 4, a);
  EXPECT_EQ(hwc[0], -1.0f);
  EXPECT_EQ(hwc[1], 2.0f);
  EXPECT_EQ(hwc[2], -1.0f);
  EXPECT_EQ(hwc[3], 3.0f);
  a.channel_stride = 2;
  float cm[4] = {-2, -2, -2, -2};
  num::apply_activation(cm, 4, a);
  EXPECT_EQ(cm[1], -1.0f);
  EXPECT_EQ(cm[2], 2.0f);
}

// What cannot be imported is refused naming the node and the reason, with no advice that does
// not help; what can fold does, and the rest becomes an Activation op.
TEST(OnnxGraphImport, ActivationsFoldOrStandAlone) {
  {  // Sigmoid on the network input: no op before it, an Activation op.
    OnnxBuilder b({1, 3, 4, 4}, "y");
    b.node("Sigmoid", "sig", {"input"}, "s");
    add_conv(b, "conv", "s", "y", 3, 2, 1, 0, 1, 121);
    const Graph g = import_onnx(b.save("sig_input.onnx"));
    ASSERT_EQ(g.ops.size(), 2u);
    EXPECT_EQ(g.ops[0].kind, OpKind::Activation);
    EXPECT_EQ(g.ops[0].act, num::ActKind::sigmoid);
  }
  {  // SiLU after Relu: not monotone, so not folded past the clamp; an Activation op instead.
    OnnxBuilder b({1, 3, 4, 4}, "y");
    add_conv(b, "conv", "input", "c", 3, 2, 1, 0, 1, 122);
    b.node("Relu", "relu", {"c"}, "r");
    b.node("Sigmoid", "sig", {"r"}, "s");
    b.node("Mul", "mul", {"r", "s"}, "y");
    const Graph g = import_onnx(b.save("silu_after_relu.onnx"));
    ASSERT_EQ(g.ops.size(), 2u);
    EXPECT_EQ(g.ops[0].act, num::ActKind::none);
    EXPECT_EQ(g.ops[0].act_min, 0.0f);
    EXPECT_EQ(g.ops[1].kind, OpKind::Activation);
    EXPECT_EQ(g.ops[1].act, num::ActKind::silu);
    EXPECT_EQ(g.tensors[size_t(g.output)].name, "y");
  }
  {  // A Sigmoid gating another map (not its own input) is a Sigmoid folded into its conv, then
     // a Mul of two maps of one shape; a map and a gate of another shape are refused, naming them.
    OnnxBuilder b({1, 3, 4, 4}, "y");
    add_conv(b, "conv", "input", "c", 3, 2, 1, 0, 1, 123);
    add_conv(b, "conv2", "input", "d", 3, 2, 1, 0, 1, 124);
    b.node("Sigmoid", "sig", {"c"}, "s");
    b.node("Mul", "gate", {"d", "s"}, "y");
    const Graph g = import_onnx(b.save("gate_other.onnx"));
    ASSERT_EQ(g.ops.size(), 3u);
    EXPECT_EQ(g.ops[0].act, num::ActKind::sigmoid);
    EXPECT_EQ(g.ops[2].kind, OpKind::Mul);
    const Eigen::MatrixXf x = Eigen::MatrixXf::Random(2, 48);
    std::vector<Eigen::MatrixXf> a = g.forward_all(x);
    const Eigen::MatrixXf want = a[size_t(g.ops[0].output)].cwiseProduct(a[size_t(g.ops[1].output)]);
    expect_close(a[size_t(g.output)], want, 1e-6f, "x * gate");

    OnnxBuilder m({1, 3, 4, 4}, "y");
    add_conv(m, "conv", "input", "c", 3, 2, 1, 0, 1, 123);
    add_conv(m, "conv2", "input", "d", 3, 2, 2, 0, 1, 124);  // 2 x 3 x 3
    m.node("Mul", "odd", {"c", "d"}, "y");
    const std::string msg = error_of([&] { import_onnx(m.save("mul_shapes.onnx")); });
    EXPECT_NE(msg.find("'odd' (Mul): multiplies [N, 2, 4, 4] and [N, 2, 3, 3]; only maps of one shape"),
              std::string::npos) << msg;
  }
  {  // PRelu's slopes must be per channel or one value.
    OnnxBuilder b({1, 3, 4, 4}, "y");
    add_conv(b, "conv", "input", "c", 3, 2, 1, 0, 1, 125);
    b.init("slope", {2, 4, 4}, std::vector<float>(32, 0.1f));
    b.node("PRelu", "pr", {"c", "slope"}, "y");
    const std::string msg = error_of([&] { import_onnx(b.save("prelu_pixel.onnx")); });
    EXPECT_NE(msg.find("'pr' (PRelu): applies the slope a constant of shape [2, 4, 4]"), std::string::npos) << msg;
  }
  {  // Two activations in a row: the second is an Activation op after the first folded.
    OnnxBuilder b({1, 3, 4, 4}, "y");
    add_conv(b, "conv", "input", "c", 3, 2, 1, 0, 1, 126);
    b.node("Tanh", "t", {"c"}, "t1");
    set_float(b.node("Elu", "e", {"t1"}, "y"), "alpha", 0.5f);
    const Graph g = import_onnx(b.save("two_acts.onnx"));
    ASSERT_EQ(g.ops.size(), 2u);
    EXPECT_EQ(g.ops[0].act, num::ActKind::tanh);
    EXPECT_EQ(g.ops[1].act, num::ActKind::elu);
    EXPECT_FLOAT_EQ(g.ops[1].act_alpha, 0.5f);
    Eigen::MatrixXf x = Eigen::MatrixXf::Random(2, 48);
    Op bare = g.ops[0];
    bare.act = num::ActKind::none;
    const Eigen::MatrixXf y0 = forward_op(bare, {&x}, {g.in_shape()}, g.tensors[size_t(g.ops[0].output)].shape);
    const Eigen::MatrixXf y = g.forward(x);
    for (Eigen::Index i = 0; i < y.size(); ++i) {
      const float t = std::tanh(y0(i));
      EXPECT_NEAR(y(i), t >= 0 ? t : 0.5f * (std::exp(t) - 1.0f), 1e-6f);
    }
  }
}

// Nodes on constants that torch's export of F.pad uses (ConstantOfShape, Slice with a negative
// step, Transpose) are evaluated; a ConstantOfShape that asks for more than the importer evaluates
// is refused, not allocated.
TEST(OnnxGraphImport, ConstantOfShapeSliceAndTransposeOnConstants) {
  {
    OnnxBuilder b({1, 3, 4, 4}, "y");
    b.init_i64("huge", {int64_t(1) << 40});
    b.node("ConstantOfShape", "cos", {"huge"}, "z");
    b.node("Reshape", "r", {"input", "z"}, "y");
    const std::string msg = error_of([&] { import_onnx(b.save("cos_huge.onnx")); });
    EXPECT_NE(msg.find("'cos' (ConstantOfShape): shape [1099511627776] is not a small non-negative shape"),
              std::string::npos) << msg;
  }
  {  // pads (t, l, b, r) = (1, 0, 0, 2) written as torch does: [l, r, t, b] reversed pairwise.
    OnnxBuilder b({1, 3, 4, 4}, "y");
    b.init_i64("four", {4});
    b.node("ConstantOfShape", "zeros", {"four"}, "z");  // float 0s: Concat needs one type
    b.init("lrtb", {4}, {0.0f, 2.0f, 1.0f, 0.0f});
    b.node("Concat", "cat", {"lrtb", "z"}, "p8");
    set_int(b.model.mutable_graph()->mutable_node(1), "axis", 0);
    b.init_i64("shape2", {-1, 2});
    b.node("Reshape", "r2", {"p8", "shape2"}, "p42");
    b.init_i64("st", {-1}), b.init_i64("en", {-9223372036854775807LL}), b.init_i64("ax", {0}), b.init_i64("sp", {-1});
    b.node("Slice", "rev", {"p42", "st", "en", "ax", "sp"}, "rv");
    b.node("Transpose", "tr", {"rv"}, "t24");
    b.init_i64("flat", {-1});
    b.node("Reshape", "r1", {"t24", "flat"}, "pf");
    set_int(b.node("Cast", "cast", {"pf"}, "pads"), "to", onnx::TensorProto_DataType_INT64);
    b.node("Pad", "pad", {"input", "pads"}, "padded");
    add_conv(b, "conv", "padded", "y", 3, 2, 3, 0, 1, 127);
    const Graph g = import_onnx(b.save("torch_pad.onnx"));
    ASSERT_EQ(g.ops.size(), 1u);
    EXPECT_EQ(g.ops[0].pad_t, 1);
    EXPECT_EQ(g.ops[0].pad_l, 0);
    EXPECT_EQ(g.ops[0].pad_b, 0);
    EXPECT_EQ(g.ops[0].pad_r, 2);
  }
}

// Issue 20: sequences [N, C, L] (channels, then time) are C x L x 1 maps: Conv1d is a k x 1
// kernel, MaxPool1d a k x 1 window, ReduceMean over the time axis a global average pool. The
// float reference against a direct 1-D convolution; a mean over the channels is refused.
TEST(OnnxGraphImport, SequencesConv1dPoolAndReduceMean) {
  const int C = 4, L = 10, M = 3, K = 3;
  OnnxBuilder b({1, C, L}, "y");
  const std::vector<float> w = random_vec(size_t(M * C * K), 131), bias = random_vec(size_t(M), 132);
  b.init("w", {M, C, K}, w);
  b.init("b", {M}, bias);
  auto* conv = b.node("Conv", "conv1d", {"input", "w", "b"}, "c");
  set_ints(conv, "pads", {1, 1});
  set_ints(conv, "kernel_shape", {K});
  auto* pool = b.node("MaxPool", "pool1d", {"c"}, "p");
  set_ints(pool, "kernel_shape", {2});
  set_ints(pool, "strides", {2});
  auto* mean = b.node("ReduceMean", "mean_t", {"p"}, "y");
  set_ints(mean, "axes", {-1});
  set_int(mean, "keepdims", 0);
  const Graph g = import_onnx(b.save("conv1d.onnx"));
  ASSERT_EQ(g.ops.size(), 3u);
  EXPECT_EQ(g.ops[0].kh, K);
  EXPECT_EQ(g.ops[0].kw, 1);
  EXPECT_EQ(g.ops[0].pad_t, 1);
  EXPECT_EQ(g.ops[0].pad_l, 0);
  EXPECT_EQ(g.ops[2].kind, OpKind::GlobalAvgPool);
  EXPECT_EQ(g.out_shape(), (Shape{M, 1, 1}));
  Eigen::MatrixXf x = Eigen::MatrixXf::Random(2, C * L);
  const Eigen::MatrixXf y = g.forward(x);
  for (int v = 0; v < 2; ++v)
    for (int o = 0; o < M; ++o) {
      double sum = 0;
      for (int t0 = 0; t0 < L; t0 += 2) {  // max over pairs of the conv output, then the mean
        double best = -1e30;
        for (int t = t0; t < t0 + 2; ++t) {
          double acc = bias[size_t(o)];
          for (int c = 0; c < C; ++c)
            for (int k = 0; k < K; ++k) {
              const int ti = t + k - 1;
              if (ti >= 0 && ti < L) acc += w[size_t((o * C + c) * K + k)] * x(v, c * L + ti);
            }
          best = std::max(best, acc);
        }
        sum += best;
      }
      EXPECT_NEAR(y(v, o), sum / (L / 2), 1e-5) << v << " " << o;
    }
  OnnxBuilder r({1, C, L}, "y");
  set_ints(r.node("ReduceMean", "mean_c", {"input"}, "y"), "axes", {1});
  const std::string msg = error_of([&] { import_onnx(r.save("mean_channels.onnx")); });
  EXPECT_NE(msg.find("'mean_c' (ReduceMean): only a mean over every spatial axis ([2] of [N, 4, 10])"),
            std::string::npos) << msg;
}
