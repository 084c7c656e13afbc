// Compiler tests: ONNX import (bundled model and refusals), IDX loader, tile mapping, the
// quantization arithmetic (re-derived here from the documented formulas, independently of
// numerics/ideal_mvm.h), and the deployment image (round trip and corrupted files).
#include <gtest/gtest.h>

#include "scratch.h"
#include <onnx/onnx_pb.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <iostream>
#include <limits>
#include <random>
#include <set>

#include "aimc_driver.h"
#include "../support/accepting_hal.h"
#include "aimc_regs.h"
#include "alloc_probe.h"
#include "compile.h"
#include "dataset.h"
#include "image.h"
#include "npy.h"
#include "onnx_import.h"
#include "source_dir.h"

namespace fs = std::filesystem;
using namespace aimc::compiler;
using aimc::config::PlatformConfig;

namespace {

using aimc::testing::source_dir;
std::string model_path() { return source_dir() + "/platforms/models/fashion_mnist_mlp.onnx"; }
const std::string kData = "/usr/share/datasets/fashion-mnist/";

fs::path scratch() { return aimc::testing::scratch("aimc_compiler_"); }

template <typename F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "<no exception>";
}

// ---- building small ONNX models with the protobuf API ----
struct OnnxBuilder {
  onnx::ModelProto model;
  onnx::GraphProto* g;
  OnnxBuilder(const std::vector<int64_t>& in_shape, const std::string& out) {
    model.set_ir_version(7);
    model.add_opset_import()->set_version(13);
    g = model.mutable_graph();
    g->set_name("test");
    auto* in = g->add_input();
    in->set_name("input");
    auto* tt = in->mutable_type()->mutable_tensor_type();
    tt->set_elem_type(onnx::TensorProto_DataType_FLOAT);
    for (size_t i = 0; i < in_shape.size(); ++i) {
      auto* d = tt->mutable_shape()->add_dim();
      if (i == 0) d->set_dim_param("N"); else d->set_dim_value(in_shape[i]);
    }
    g->add_output()->set_name(out);
  }
  onnx::NodeProto* node(const std::string& op, const std::string& name, std::vector<std::string> ins, const std::string& out) {
    auto* n = g->add_node();
    n->set_op_type(op);
    n->set_name(name);
    for (auto& i : ins) n->add_input(i);
    n->add_output(out);
    return n;
  }
  // raw_data or float_data, to exercise both.
  void init(const std::string& name, const std::vector<int64_t>& dims, const std::vector<float>& v, bool raw) {
    auto* t = g->add_initializer();
    t->set_name(name);
    t->set_data_type(onnx::TensorProto_DataType_FLOAT);
    for (auto d : dims) t->add_dims(d);
    if (raw) t->set_raw_data(std::string(reinterpret_cast<const char*>(v.data()), v.size() * 4));
    else for (float f : v) t->add_float_data(f);
  }
  void init_i64(const std::string& name, const std::vector<int64_t>& v) {
    auto* t = g->add_initializer();
    t->set_name(name);
    t->set_data_type(onnx::TensorProto_DataType_INT64);
    t->add_dims(int64_t(v.size()));
    for (auto x : v) t->add_int64_data(x);
  }
  std::string save(const fs::path& p) const {
    std::ofstream f(p, std::ios::binary);
    model.SerializeToOstream(&f);
    return p.string();
  }
};

void set_int_attr(onnx::NodeProto* n, const char* name, int64_t v) {
  auto* a = n->add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto_AttributeType_INT);
  a->set_i(v);
}

std::vector<float> iota_weights(size_t n, float scale) {
  std::vector<float> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = scale * float(int(i % 7) - 3);
  return v;
}

// The MLP chain a Graph of Flatten and dense (1x1) Conv ops stands for (the bundled model).
Network as_network(const Graph& g) {
  Network net;
  net.name = g.name;
  net.source = g.source;
  net.in_features = int(g.in_features());
  for (const Op& op : g.ops) {
    if (op.kind == OpKind::Flatten) continue;
    EXPECT_EQ(op.kind, OpKind::Conv);
    DenseLayer l;
    l.name = op.name;
    l.weight = op.weight;
    l.bias = op.bias;
    l.relu = op.act_min == 0.0f;
    net.layers.push_back(l);
  }
  return net;
}

Network random_network(const std::vector<int>& sizes, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  Network net;
  net.name = "random";
  net.in_features = sizes[0];
  for (size_t l = 0; l + 1 < sizes.size(); ++l) {
    DenseLayer layer;
    layer.name = "fc" + std::to_string(l);
    layer.weight.resize(sizes[l + 1], sizes[l]);
    for (Eigen::Index i = 0; i < layer.weight.size(); ++i) layer.weight(i) = nd(rng) / std::sqrt(float(sizes[l]));
    layer.bias.resize(sizes[l + 1]);
    for (Eigen::Index i = 0; i < layer.bias.size(); ++i) layer.bias(i) = 0.1f * nd(rng);
    layer.relu = l + 2 < sizes.size();
    net.layers.push_back(layer);
  }
  return net;
}

Eigen::MatrixXf random_inputs(int n, int features, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> ud(0.0f, 1.0f);
  Eigen::MatrixXf x(n, features);
  for (Eigen::Index i = 0; i < x.size(); ++i) x(i) = ud(rng);
  return x;
}

PlatformConfig default_cfg() {
  PlatformConfig cfg;  // 3x4 tiles of 400x400, 8-bit DAC/ADC/cells, g 1..1000 nS, 512 KiB SRAM
  cfg.name = "test-3x4";
  return cfg;
}

// The chip's arithmetic, written again from docs/deployment-image.md and aimc_image.h (not from
// numerics/ideal_mvm.h) for chains of MVM ops over all segments: codes (with the input zero point) ->
// per-slice currents (levels read at the block's tile_row / tile_col) -> ADC -> sum -> digital
// unit -> next codes (with the output zero point) / int32. The digital unit is float32
// arithmetic, as the chip's (numerics digital_unit, used by the sequencer and execute_ideal):
// y = acc * acc_scale + bias, clamp to [act_min, act_max], round(y / out_quant_scale) + out_zero.
Eigen::MatrixXi reference_run(const ImageView& img, const Eigen::MatrixXf& x, int adc_bits, double g_ratio) {
  const auto& p = img.first_program();
  const long cmax = (1L << p.dac_bits) - 1;
  const long A = (1L << (adc_bits - 1)) - 1;
  std::vector<std::vector<long>> codes(size_t(x.rows()), std::vector<long>(p.in_features));
  for (long v = 0; v < x.rows(); ++v)
    for (long i = 0; i < x.cols(); ++i)
      codes[v][i] = std::lround(std::min<double>(
          std::max<double>(std::round(x(v, i) / double(p.in_scale)) + double(p.in_zero), 0), cmax));
  std::vector<std::vector<long>> out;
  for (const SegmentView& seg : img.segments)
    for (const auto& layer : seg.layers) {
      if (layer.kind != AIMC_OP_MVM || layer.kh * layer.kw * layer.in_h * layer.in_w != 1) {
        ADD_FAILURE() << "reference_run handles chains of dense MVM ops only (kind " << layer.kind << ")";
        return {};
      }
      out.assign(size_t(x.rows()), std::vector<long>(layer.out_features, 0));
      for (long v = 0; v < x.rows(); ++v) {
        if (codes[v].size() != layer.in_features) {
          ADD_FAILURE() << "op reads " << layer.in_features << " codes, the previous op wrote " << codes[v].size();
          return {};
        }
        std::vector<long> acc(layer.out_features, 0);
        for (uint32_t k = layer.first_slice; k < layer.first_slice + layer.slice_count; ++k) {
          const auto& s = seg.slices[k];
          const auto& w = seg.tile_weights(s.tile);
          const long lm = (1L << w.hdr.bits_per_cell) - 1;
          for (uint32_t c = 0; c < s.col_count; ++c) {
            long dot = 0;  // sum code * level; the current is dot * (1 - g_min/g_max) / (Cmax (L-1))
            for (uint32_t r = 0; r < s.row_count; ++r)
              dot += codes[v][s.row_begin + r] * w.level(s.tile_row + r, s.tile_col + c);
            double i = double(dot) * (1.0 - g_ratio) / (double(cmax) * double(lm));
            double code = std::round(i / double(layer.adc_full_scale) * double(A));
            acc[s.col_begin + c] += long(std::min<double>(std::max<double>(code, -A), A));
          }
        }
        for (uint32_t j = 0; j < layer.out_features; ++j) {
          float y = float(acc[j]) * layer.acc_scale;
          if (layer.flags & AIMC_LAYER_COLUMN_SCALES) y = y * seg.bias[layer.bias_offset + layer.out_c + j];
          y = y + seg.bias[layer.bias_offset + j];
          float lo = layer.act_min;
          if (layer.flags & AIMC_LAYER_RELU) lo = std::max(lo, 0.0f);
          y = std::min(std::max(y, lo), layer.act_max);
          const float q = std::round(y / layer.out_quant_scale);
          out[v][j] = (layer.flags & AIMC_LAYER_OUTPUT_I32)
                          ? long(q)
                          : long(std::min<float>(std::max<float>(q + float(layer.out_zero), 0), float(cmax)));
        }
      }
      codes = out;
    }
  Eigen::MatrixXi r(x.rows(), img.last_program().out_features);
  for (long v = 0; v < x.rows(); ++v)
    for (uint32_t j = 0; j < img.last_program().out_features; ++j) r(v, j) = int(out[v][j]);
  return r;
}

int argmax(const Eigen::RowVectorXf& r) {
  Eigen::Index i;
  r.maxCoeff(&i);
  return int(i);
}


// aimc_load_image on a 12-tile, 2 MiB chip through a HAL that answers every access at once
// (interrupts pending, programming done, DMA buffers from the heap): what the driver makes of an
// image by itself.

int driver_load(const std::vector<uint8_t>& image) {
  aimc_dev_t dev;
  std::memset(&dev, 0, sizeof dev);
  dev.hal = {&aimc::test::accepting_hal::ops, nullptr};
  dev.version = 0x00010001u;
  dev.timeout_ns = 1000;
  dev.caps.tiles = 12;
  dev.caps.sram_bytes = 2u << 20;
  const int rc = aimc_load_image(&dev, image.data(), image.size());
  aimc_release(&dev);
  return rc;
}

}  // namespace

// ---------------------------------------------------------------- bundled model ----

TEST(OnnxImport, BundledModelShapesAndReferenceLogits) {
  Network net = as_network(import_onnx(model_path()));
  ASSERT_EQ(net.in_features, 784);
  ASSERT_EQ(net.layers.size(), 3u);
  EXPECT_EQ(net.layers[0].weight.rows(), 256);
  EXPECT_EQ(net.layers[1].weight.rows(), 128);
  EXPECT_EQ(net.layers[2].weight.rows(), 10);
  EXPECT_TRUE(net.layers[0].relu);
  EXPECT_TRUE(net.layers[1].relu);
  EXPECT_FALSE(net.layers[2].relu);
  EXPECT_EQ(net.macs_per_inference(), 784L * 256 + 256L * 128 + 128L * 10);

  std::ifstream f(source_dir() + "/platforms/models/fashion_mnist_mlp.ref.json");
  ASSERT_TRUE(f) << "reference file missing; run scripts/train_fmnist.py";
  nlohmann::json ref = nlohmann::json::parse(f);
  Dataset ds = load_idx(kData + "t10k-images-idx3-ubyte.gz", kData + "t10k-labels-idx1-ubyte.gz", 500);
  Eigen::MatrixXf logits = net.forward(ds.images);
  const auto& ref16 = ref["first16_logits"];
  ASSERT_EQ(ref16.size(), 16u);
  for (int v = 0; v < 16; ++v)
    for (int j = 0; j < 10; ++j) EXPECT_NEAR(logits(v, j), ref16[v][j].get<double>(), 1e-4) << "image " << v << " logit " << j;
  int correct = 0, same_pred = 0;
  for (int v = 0; v < 500; ++v) {
    correct += argmax(logits.row(v)) == ds.labels[v];
    same_pred += argmax(logits.row(v)) == ref["first500_predictions"][v].get<int>();
  }
  EXPECT_GE(same_pred, 499);
  EXPECT_NEAR(correct / 500.0, ref["first500_accuracy"].get<double>(), 0.01);
}

// ---------------------------------------------------------------- importer paths and refusals ----

TEST(OnnxImport, MatMulAddReshapeChainFolds) {
  // Reshape [N,1,2,3] -> [N,6], MatMul (float_data weights [6,4]), Add bias, Relu, Gemm transB=0 alpha/beta.
  // (Rank-3 inputs are refused since the Graph importer: inputs are [N, C, H, W] or [N, features].)
  OnnxBuilder b({1, 1, 2, 3}, "y");
  b.init_i64("shape", {-1, 6});
  auto w1 = iota_weights(24, 0.1f);
  b.init("W1", {6, 4}, w1, false);
  b.init("b1", {4}, {0.5f, -0.5f, 0.25f, 0.0f}, true);
  auto w2 = iota_weights(8, 0.2f);
  b.init("W2", {4, 2}, w2, true);
  b.init("b2", {1, 2}, {1.0f, 2.0f}, false);
  b.node("Reshape", "flat", {"input", "shape"}, "x0");
  b.node("MatMul", "mm", {"x0", "W1"}, "x1");
  b.node("Add", "bias", {"b1", "x1"}, "x2");  // bias first: the importer finds the data input
  b.node("Relu", "act", {"x2"}, "x3");
  auto* gemm = b.node("Gemm", "out", {"x3", "W2", "b2"}, "y");
  auto* a = gemm->add_attribute();
  a->set_name("alpha"), a->set_type(onnx::AttributeProto_AttributeType_FLOAT), a->set_f(2.0f);
  a = gemm->add_attribute();
  a->set_name("beta"), a->set_type(onnx::AttributeProto_AttributeType_FLOAT), a->set_f(0.5f);
  std::string path = b.save(scratch() / "chain.onnx");
  const Graph g = import_onnx(path);
  // A 1x2x3 map read as a vector: one Flatten op, then MatMul+Add+Relu folded into one dense Conv
  // and the Gemm as another.
  EXPECT_EQ(g.in_shape(), (Shape{1, 2, 3}));
  EXPECT_EQ(g.out_shape(), (Shape{2, 1, 1}));
  ASSERT_EQ(g.ops.size(), 3u);
  EXPECT_EQ(g.ops[0].kind, OpKind::Flatten);
  EXPECT_EQ(g.ops[1].kind, OpKind::Conv);
  EXPECT_EQ(g.ops[1].onnx_op, "MatMul");
  EXPECT_EQ(g.ops[1].folded.size(), 2u);  // the Add 'bias' and the Relu 'act'
  EXPECT_EQ(g.ops[1].act_min, 0.0f);
  EXPECT_EQ(g.ops[2].onnx_op, "Gemm");
  EXPECT_FALSE(g.ops[2].has_clamp());
  EXPECT_EQ(g.source_params, 24 + 4 + 8 + 2);
  Network net = as_network(g);
  ASSERT_EQ(net.in_features, 6);
  ASSERT_EQ(net.layers.size(), 2u);
  EXPECT_TRUE(net.layers[0].relu);
  EXPECT_FALSE(net.layers[1].relu);
  // Float reference by hand.
  Eigen::MatrixXf x = random_inputs(3, 6, 5);
  for (int v = 0; v < 3; ++v) {
    float h[4];
    for (int j = 0; j < 4; ++j) {
      float s = std::vector<float>{0.5f, -0.5f, 0.25f, 0.0f}[j];
      for (int i = 0; i < 6; ++i) s += x(v, i) * w1[i * 4 + j];
      h[j] = std::max(s, 0.0f);
    }
    Eigen::RowVectorXf y = net.forward(x.row(v));
    Eigen::RowVectorXf yg = g.forward(x.row(v));
    for (int k = 0; k < 2; ++k) {
      EXPECT_NEAR(yg(k), y(k), 1e-6);
      float s = 0.5f * (k == 0 ? 1.0f : 2.0f);
      for (int j = 0; j < 4; ++j) s += 2.0f * h[j] * w2[j * 2 + k];
      EXPECT_NEAR(y(k), s, 1e-5);
    }
  }
}

TEST(OnnxImport, RefusesUnsupportedOpNamingNodeAndFile) {
  // Conv is supported since the Graph importer, Tanh since issue 20; Softsign is not.
  OnnxBuilder b({1, 1, 28, 28}, "y");
  b.node("Flatten", "flat", {"input"}, "x0");
  b.node("Softsign", "soft1", {"x0"}, "y");
  std::string path = b.save(scratch() / "softsign.onnx");
  std::string msg = error_of([&] { import_onnx(path); });
  EXPECT_NE(msg.find(path), std::string::npos) << msg;
  EXPECT_NE(msg.find("node 1 'soft1' (Softsign): unsupported op"), std::string::npos) << msg;
  EXPECT_NE(msg.find("supported: Conv, Gemm, MatMul, Add, BatchNormalization, Relu"), std::string::npos) << msg;
  EXPECT_THROW(import_onnx(path), ModelError);
  // An op of another domain is refused naming the domain.
  OnnxBuilder d({1, 4}, "y");
  d.node("Relu", "ms_relu", {"input"}, "y")->set_domain("com.microsoft");
  const std::string dpath = d.save(scratch() / "domain.onnx");
  msg = error_of([&] { import_onnx(dpath); });
  EXPECT_NE(msg.find("node 0 'ms_relu' (Relu): op of domain 'com.microsoft' is not supported"), std::string::npos) << msg;
}

TEST(OnnxImport, RefusesBrokenAndMissingFiles) {
  fs::path dir = scratch();
  // Bytes that are not a protobuf (0xFF... is an invalid wire type/field).
  std::string junk = (dir / "junk.onnx").string();
  {
    std::ofstream f(junk, std::ios::binary);
    std::mt19937 rng(3);
    f.put(char(0xFF));
    for (int i = 0; i < 4000; ++i) f.put(char(rng() & 0xFF));
  }
  std::string msg = error_of([&] { import_onnx(junk); });
  EXPECT_NE(msg.find(junk), std::string::npos) << msg;
  EXPECT_THROW(import_onnx(junk), ModelError);

  std::string missing = (dir / "does_not_exist.onnx").string();
  msg = error_of([&] { import_onnx(missing); });
  EXPECT_NE(msg.find(missing), std::string::npos) << msg;
  EXPECT_NE(msg.find("cannot open"), std::string::npos) << msg;

  // A valid protobuf without an opset import, then with one but with an empty graph.
  onnx::ModelProto empty;
  empty.mutable_graph()->set_name("g");
  std::string ep = (dir / "empty.onnx").string();
  auto save = [&] {
    std::ofstream f(ep, std::ios::binary);
    empty.SerializeToOstream(&f);
  };
  save();
  msg = error_of([&] { import_onnx(ep); });
  EXPECT_NE(msg.find(ep + ": model imports no version of the default ONNX operator set"), std::string::npos) << msg;
  empty.set_ir_version(7);
  empty.add_opset_import()->set_version(13);
  save();
  msg = error_of([&] { import_onnx(ep); });
  EXPECT_NE(msg.find(ep + ": empty graph (no nodes)"), std::string::npos) << msg;
  EXPECT_THROW(import_onnx(ep), ModelError);
}

TEST(OnnxImport, RefusesShapeMismatchBetweenLayers) {
  OnnxBuilder b({1, 4}, "y");
  b.init("W1", {3, 4}, iota_weights(12, 0.1f), true);  // 4 -> 3 (transB)
  b.init("W2", {2, 5}, iota_weights(10, 0.1f), true);  // expects 5 inputs
  set_int_attr(b.node("Gemm", "fc1", {"input", "W1"}, "h"), "transB", 1);
  set_int_attr(b.node("Gemm", "fc2", {"h", "W2"}, "y"), "transB", 1);
  std::string path = b.save(scratch() / "mismatch.onnx");
  std::string msg = error_of([&] { import_onnx(path); });
  EXPECT_NE(msg.find(path), std::string::npos) << msg;
  EXPECT_NE(msg.find("node 1 'fc2' (Gemm)"), std::string::npos) << msg;
  EXPECT_NE(msg.find("shape mismatch"), std::string::npos) << msg;
  EXPECT_NE(msg.find("expects 5 inputs"), std::string::npos) << msg;
}

TEST(OnnxImport, RefusesNonFloatWeightsBranchesAndGemmWithoutFlatten) {
  fs::path dir = scratch();
  {
    OnnxBuilder b({1, 4}, "y");
    auto* t = b.g->add_initializer();
    t->set_name("W"), t->set_data_type(onnx::TensorProto_DataType_INT32);
    t->add_dims(4), t->add_dims(2);
    for (int i = 0; i < 8; ++i) t->add_int32_data(i);
    b.node("MatMul", "mm", {"input", "W"}, "y");
    std::string msg = error_of([&] { import_onnx(b.save(dir / "int.onnx")); });
    EXPECT_NE(msg.find("node 0 'mm' (MatMul): weight 'W' must be FLOAT"), std::string::npos) << msg;
  }
  {
    OnnxBuilder b({1, 4}, "y");
    b.init("W", {4, 4}, iota_weights(16, 0.1f), true);
    b.node("MatMul", "a", {"input", "W"}, "h");
    b.node("Relu", "r1", {"h"}, "y");
    b.node("Relu", "r2", {"h"}, "z");  // a branch that does not reach the output
    std::string msg = error_of([&] { import_onnx(b.save(dir / "branch.onnx")); });
    EXPECT_NE(msg.find("node 2 'r2' (Relu): is not used: none of its outputs reaches the graph output 'y'"),
              std::string::npos) << msg;
  }
  {
    // Branches that join are a graph now (no longer "not a chain"): h feeds two dense ops summed by an Add.
    OnnxBuilder b({1, 4}, "y");
    b.init("W", {4, 4}, iota_weights(16, 0.1f), true);
    b.init("Wa", {4, 3}, iota_weights(12, 0.2f), true);
    b.init("Wb", {4, 3}, iota_weights(12, -0.3f), true);
    b.node("MatMul", "a", {"input", "W"}, "h");
    b.node("Relu", "r", {"h"}, "hr");
    b.node("MatMul", "left", {"hr", "Wa"}, "l");
    b.node("MatMul", "right", {"hr", "Wb"}, "rr");
    b.node("Add", "join", {"l", "rr"}, "y");
    const Graph g = import_onnx(b.save(dir / "diamond.onnx"));
    ASSERT_EQ(g.ops.size(), 4u);
    auto op_named = [&](const std::string& name) -> const Op& {
      for (const Op& op : g.ops)
        if (op.name == name) return op;
      ADD_FAILURE() << "no op '" << name << "'";
      return g.ops.front();
    };
    const Op &a = op_named("a"), &left = op_named("left"), &right = op_named("right"), &join = op_named("join");
    EXPECT_EQ(a.act_min, 0.0f);  // the Relu folded into 'a'
    EXPECT_EQ(join.kind, OpKind::Add);
    EXPECT_EQ(join.output, g.output);
    EXPECT_EQ(join.inputs, (std::vector<int>{left.output, right.output}));  // the node's operand order
    EXPECT_EQ(left.inputs, (std::vector<int>{a.output}));
    EXPECT_EQ(right.inputs, (std::vector<int>{a.output}));
    const Eigen::MatrixXf x = random_inputs(2, 4, 9);
    const Eigen::MatrixXf h = (a.weight * x.transpose()).cwiseMax(0.0f);
    const Eigen::MatrixXf ref = ((left.weight + right.weight) * h).transpose();
    EXPECT_NEAR(left.weight(2, 1), 0.2f * float(int((1 * 3 + 2) % 7) - 3), 1e-6f);  // W[in, out] transposed
    EXPECT_TRUE(g.forward(x).isApprox(ref, 1e-5f));
  }
  {
    OnnxBuilder b({1, 1, 2, 2}, "y");
    b.init("W", {4, 2}, iota_weights(8, 0.1f), true);
    b.node("MatMul", "mm", {"input", "W"}, "y");
    std::string msg = error_of([&] { import_onnx(b.save(dir / "map.onnx")); });
    EXPECT_NE(msg.find("node 0 'mm' (MatMul): needs a 2-D input [N, features]"), std::string::npos) << msg;
    EXPECT_NE(msg.find("insert a Flatten"), std::string::npos) << msg;
  }
}

// ---------------------------------------------------------------- IDX loader ----

TEST(Dataset, LoadsFashionMnistTestSet) {
  Dataset ds = load_idx(kData + "t10k-images-idx3-ubyte.gz", kData + "t10k-labels-idx1-ubyte.gz");
  ASSERT_EQ(ds.images.rows(), 10000);
  ASSERT_EQ(ds.images.cols(), 784);
  ASSERT_EQ(ds.labels.size(), 10000u);
  EXPECT_GE(ds.images.minCoeff(), 0.0f);
  EXPECT_LE(ds.images.maxCoeff(), 1.0f);
  EXPECT_EQ(ds.images.maxCoeff(), 1.0f);
  std::vector<int> hist(10, 0);
  for (int l : ds.labels) {
    ASSERT_GE(l, 0);
    ASSERT_LE(l, 9);
    ++hist[l];
  }
  for (int c = 0; c < 10; ++c) EXPECT_EQ(hist[c], 1000) << "class " << c;  // the test set is balanced
  Dataset few = load_idx(kData + "t10k-images-idx3-ubyte.gz", kData + "t10k-labels-idx1-ubyte.gz", 7);
  EXPECT_EQ(few.images.rows(), 7);
  EXPECT_TRUE(few.images.isApprox(ds.images.topRows(7)));
}

TEST(Dataset, RefusesBadFiles) {
  fs::path dir = scratch();
  std::string lbl = kData + "t10k-labels-idx1-ubyte.gz";
  std::string bad_magic = (dir / "bad-magic").string();
  {
    std::ofstream f(bad_magic, std::ios::binary);
    const unsigned char hdr[] = {0, 0, 8, 1, 0, 0, 0, 1, 7};  // a label file given as images
    f.write(reinterpret_cast<const char*>(hdr), sizeof hdr);
  }
  std::string msg = error_of([&] { load_idx(bad_magic, lbl); });
  EXPECT_NE(msg.find(bad_magic), std::string::npos) << msg;
  EXPECT_NE(msg.find("magic"), std::string::npos) << msg;

  std::string truncated = (dir / "truncated").string();
  {
    std::ofstream f(truncated, std::ios::binary);
    const unsigned char hdr[] = {0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 28, 0, 0, 0, 28, 1, 2, 3};
    f.write(reinterpret_cast<const char*>(hdr), sizeof hdr);
  }
  msg = error_of([&] { load_idx(truncated, lbl); });
  EXPECT_NE(msg.find(truncated), std::string::npos) << msg;
  EXPECT_THROW(load_idx(truncated, lbl), DatasetError);

  msg = error_of([&] { load_idx(kData + "nope.gz", lbl); });
  EXPECT_NE(msg.find("nope.gz"), std::string::npos) << msg;
  // 60,000 training images with the 10,000 test labels.
  msg = error_of([&] { load_idx(kData + "train-images-idx3-ubyte.gz", lbl); });
  EXPECT_NE(msg.find("60000 images"), std::string::npos) << msg;
}

// ---------------------------------------------------------------- mapping ----

TEST(Mapping, BundledMlpOnFourTiles) {
  Network net = as_network(import_onnx(model_path()));
  auto plan = plan_mapping(net, default_cfg());
  ASSERT_EQ(plan.size(), 4u);
  // layer 0: 784 rows balanced 392 + 392 on tiles 0 and 1, reduced on tile 0.
  EXPECT_EQ(plan[0].layer, 0); EXPECT_EQ(plan[0].tile, 0); EXPECT_EQ(plan[0].row_begin, 0); EXPECT_EQ(plan[0].row_count, 392);
  EXPECT_EQ(plan[1].layer, 0); EXPECT_EQ(plan[1].tile, 1); EXPECT_EQ(plan[1].row_begin, 392); EXPECT_EQ(plan[1].row_count, 392);
  EXPECT_EQ(plan[0].col_count, 256); EXPECT_EQ(plan[1].col_count, 256);
  EXPECT_EQ(plan[0].reduce_tile, 0); EXPECT_EQ(plan[1].reduce_tile, 0);
  EXPECT_EQ(plan[2].layer, 1); EXPECT_EQ(plan[2].tile, 2); EXPECT_EQ(plan[2].row_count, 256); EXPECT_EQ(plan[2].col_count, 128);
  EXPECT_EQ(plan[3].layer, 2); EXPECT_EQ(plan[3].tile, 3); EXPECT_EQ(plan[3].row_count, 128); EXPECT_EQ(plan[3].col_count, 10);
  EXPECT_EQ(plan[2].reduce_tile, 2); EXPECT_EQ(plan[3].reduce_tile, 3);
}

TEST(Mapping, LayerLargerThanChipIsRefused) {
  // A network larger than the chip is no longer refused: it is cut into segments (weight loads).
  // 2x3 tiles of 16x16: fc0 (40 -> 30) is 3 row x 2 column blocks of 14/13 x 15, one per tile
  // (the chip is full: no 15x10 block of fc1 fits in the 2-row / 1-column strips left), so fc1
  // (30 -> 10, 2 row blocks of 15 x 10) starts segment 1 on an empty chip.
  PlatformConfig cfg = default_cfg();
  cfg.name = "tiny-2x3";
  cfg.grid_rows = 2, cfg.grid_cols = 3;
  cfg.tile.array.rows = cfg.tile.array.cols = 16;
  Network net = random_network({40, 30, 10}, 2);
  auto plan = plan_mapping(net, cfg);
  ASSERT_EQ(plan.size(), 8u);
  std::set<int> seg0_tiles;
  for (int k = 0; k < 6; ++k) {
    EXPECT_EQ(plan[size_t(k)].layer, 0);
    EXPECT_EQ(plan[size_t(k)].segment, 0) << "slice " << k;
    seg0_tiles.insert(plan[size_t(k)].tile);
  }
  EXPECT_EQ(seg0_tiles.size(), 6u);  // every tile of the chip, one block each
  for (int k = 6; k < 8; ++k) {
    EXPECT_EQ(plan[size_t(k)].layer, 1);
    EXPECT_EQ(plan[size_t(k)].segment, 1) << "slice " << k;
    EXPECT_EQ(plan[size_t(k)].row_count, 15);
    EXPECT_EQ(plan[size_t(k)].col_count, 10);
  }
  EXPECT_EQ(plan[6].row_begin, 0);
  EXPECT_EQ(plan[7].row_begin, 15);
  EXPECT_NE(plan[6].tile, plan[7].tile);
  EXPECT_EQ(plan[7].reduce_tile, plan[6].tile);
  for (const auto& sp : plan) {  // every block inside its tile
    EXPECT_LE(sp.tile_row + sp.row_count, 16);
    EXPECT_LE(sp.tile_col + sp.col_count, 16);
    EXPECT_LT(sp.tile, 6);
  }

  // It compiles into two segments, each with its own program and the weights of its tiles, and
  // executes (across the weight load) as the formulas say.
  Eigen::MatrixXf x = random_inputs(32, 40, 3);
  CompiledModel m = compile(net, cfg, x);
  EXPECT_EQ(m.segments, 2);
  EXPECT_EQ(m.tiles_used, 6);
  ImageView img = parse_image(m.image);
  ASSERT_EQ(img.segments.size(), 2u);
  ASSERT_EQ(img.segments[0].layers.size(), 1u);
  ASSERT_EQ(img.segments[1].layers.size(), 1u);
  EXPECT_EQ(img.segments[0].slices.size(), 6u);
  EXPECT_EQ(img.segments[1].slices.size(), 2u);
  EXPECT_EQ(img.segments[0].weights.size(), 6u);
  EXPECT_EQ(img.segments[1].weights.size(), 2u);
  EXPECT_NE(img.segments[0].program_dest_addr, img.segments[1].program_dest_addr);
  EXPECT_EQ(img.segments[1].layers[0].in_addr, img.segments[0].layers[0].out_addr);  // activations stay in SRAM
  EXPECT_EQ(img.segments[0].layers[0].flags & AIMC_LAYER_OUTPUT_I32, 0u);
  EXPECT_EQ(img.segments[1].layers[0].flags & AIMC_LAYER_OUTPUT_I32, uint32_t(AIMC_LAYER_OUTPUT_I32));
  int programs = 0;
  for (const auto& sec : img.sections) {
    EXPECT_LE(sec.segment, 1u);
    if (sec.type == AIMC_SECTION_PROGRAM) {
      EXPECT_EQ(sec.segment, uint32_t(programs++));
    }
  }
  EXPECT_EQ(programs, 2);
  for (const auto& seg : img.segments)
    for (const auto& [tile, w] : seg.weights) {
      EXPECT_LE(w.hdr.rows, 16u) << "tile " << tile;
      EXPECT_LE(w.hdr.cols, 16u) << "tile " << tile;
    }
  const double g_ratio = cfg.tile.device.g_min_ns / cfg.tile.device.g_max_ns;
  IdealRun run = execute_ideal(img, x, cfg.tile.adc.bits, g_ratio);
  EXPECT_EQ(run.codes.size(), 2u);
  EXPECT_EQ(run.output, reference_run(img, x, cfg.tile.adc.bits, g_ratio));
  // And it tracks the float network like a network that fits.
  const Eigen::MatrixXf y = net.forward(x);
  EXPECT_LT((run.logits - y).norm() / y.norm(), 0.05);

  // One op that does not fit the whole chip is refused, naming the op: 4096 x 4096 is 11 x 11
  // blocks of up to 400 x 400 on 12 tiles.
  Network big = random_network({64, 4096, 10}, 1);
  big.layers[0].name = "huge";
  big.layers[0].weight = Eigen::MatrixXf::Zero(4096, 4096);
  big.in_features = 4096;
  big.layers[1].weight = Eigen::MatrixXf::Zero(10, 4096);
  std::string msg = error_of([&] { plan_mapping(big, default_cfg()); });
  EXPECT_NE(msg.find("op 0 'huge'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("needs 121 blocks of up to 400x400"), std::string::npos) << msg;
  EXPECT_NE(msg.find("more than the 12 tiles of platform 'test-3x4' hold at once; one op cannot be split across weight loads"),
            std::string::npos) << msg;
  EXPECT_THROW(compile(big, default_cfg(), random_inputs(4, 4096, 1)), CompileError);
  // The same with the first network on a 2x2 chip of 16x16 tiles: fc0's 6 blocks need 6 tiles.
  cfg.grid_rows = cfg.grid_cols = 2;
  cfg.name = "tiny-2x2";
  msg = error_of([&] { compile(net, cfg, x); });
  EXPECT_NE(msg.find("op 0 'fc0'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("needs 6 blocks of up to 16x16"), std::string::npos) << msg;
  EXPECT_NE(msg.find("more than the 4 tiles of platform 'tiny-2x2'"), std::string::npos) << msg;
}

TEST(Mapping, TinyArraysSplitInBothDirections) {
  PlatformConfig cfg = default_cfg();
  cfg.grid_rows = 4, cfg.grid_cols = 3;
  cfg.tile.array.rows = 16, cfg.tile.array.cols = 16;
  Network net = random_network({40, 30, 10}, 2);
  auto plan = plan_mapping(net, cfg);
  ASSERT_EQ(plan.size(), 8u);  // layer 0: 3 row x 2 col blocks; layer 1: 2 row blocks
  // Slices are in (column block, row block) order; blocks are placed largest first, each on an
  // empty tile while there is one: the 14-row blocks of both column blocks take tiles 0 and 1,
  // the 13-row blocks tiles 2..5. The reduce tile of a column block is its first row block's tile.
  const int rb[] = {0, 14, 27}, rc[] = {14, 13, 13};
  const int tile[2][3] = {{0, 2, 3}, {1, 4, 5}};
  for (int cb = 0; cb < 2; ++cb)
    for (int r = 0; r < 3; ++r) {
      const auto& s = plan[size_t(cb * 3 + r)];
      EXPECT_EQ(s.layer, 0);
      EXPECT_EQ(s.tile, tile[cb][r]) << "column block " << cb << " row block " << r;
      EXPECT_EQ(s.row_begin, rb[r]); EXPECT_EQ(s.row_count, rc[r]);
      EXPECT_EQ(s.col_begin, cb * 15); EXPECT_EQ(s.col_count, 15);
      EXPECT_EQ(s.reduce_tile, tile[cb][0]);
      EXPECT_EQ(s.tile_row, 0); EXPECT_EQ(s.tile_col, 0);
      EXPECT_EQ(s.segment, 0);
    }
  EXPECT_EQ(plan[6].layer, 1); EXPECT_EQ(plan[6].tile, 6); EXPECT_EQ(plan[7].tile, 7);
  EXPECT_EQ(plan[6].row_count, 15); EXPECT_EQ(plan[7].row_begin, 15); EXPECT_EQ(plan[7].reduce_tile, 6);
  EXPECT_EQ(plan[6].col_count, 10); EXPECT_EQ(plan[7].segment, 0);

  // Compile and execute: the library's ideal run equals the formulas written here.
  Eigen::MatrixXf x = random_inputs(64, 40, 3);
  CompiledModel m = compile(net, cfg, x);
  EXPECT_EQ(m.tiles_used, 8);
  EXPECT_EQ(m.segments, 1);
  ImageView img = parse_image(m.image);
  EXPECT_EQ(img.segments.size(), 1u);
  EXPECT_EQ(img.weights.size(), 8u);
  EXPECT_EQ(img.tile_weights(2).hdr.rows, 13u);  // a WEIGHTS section is the bounding box of its blocks
  EXPECT_EQ(img.tile_weights(5).hdr.cols, 15u);
  EXPECT_EQ(img.tile_weights(0).hdr.rows, 14u);
  EXPECT_EQ(img.tile_weights(7).hdr.rows, 15u);
  EXPECT_EQ(img.tile_weights(7).hdr.cols, 10u);
  IdealRun run = execute_ideal(img, x, cfg.tile.adc.bits, cfg.tile.device.g_min_ns / cfg.tile.device.g_max_ns);
  EXPECT_EQ(run.output, reference_run(img, x, cfg.tile.adc.bits, cfg.tile.device.g_min_ns / cfg.tile.device.g_max_ns));

  // Packing: 40 x 30 and 30 x 10 each fit one 64 x 64 array. With two tiles each op gets its
  // own; with one tile both share it at disjoint offsets, and the image reads fc1's levels there.
  PlatformConfig packed = cfg;
  packed.grid_rows = 1, packed.grid_cols = 2;
  packed.tile.array.rows = packed.tile.array.cols = 64;
  Network small = random_network({40, 30, 10}, 4);
  auto pp = plan_mapping(small, packed);
  ASSERT_EQ(pp.size(), 2u);  // 40 x 30 and 30 x 10 each fit one 64 x 64 block
  EXPECT_EQ(pp[0].tile, 0);
  EXPECT_EQ(pp[1].tile, 1);
  PlatformConfig one = packed;
  one.grid_cols = 1;
  auto p1 = plan_mapping(small, one);
  ASSERT_EQ(p1.size(), 2u);
  EXPECT_EQ(p1[0].tile, 0);
  EXPECT_EQ(p1[1].tile, 0);  // shares tile 0 with fc0, beside or below it
  EXPECT_EQ(p1[1].segment, 0);
  EXPECT_EQ(p1[0].tile_row, 0); EXPECT_EQ(p1[0].tile_col, 0);
  EXPECT_TRUE((p1[1].tile_row >= 40 && p1[1].tile_col + 10 <= 64) || (p1[1].tile_col >= 30 && p1[1].tile_row + 30 <= 64))
      << "fc1 block at (" << p1[1].tile_row << ", " << p1[1].tile_col << ")";
  Eigen::MatrixXf xs = random_inputs(16, 40, 5);
  ImageView si = parse_image(compile(small, one, xs).image);
  ASSERT_EQ(si.weights.size(), 1u);
  EXPECT_EQ(si.slices[1].tile_row, uint32_t(p1[1].tile_row));
  EXPECT_EQ(si.slices[1].tile_col, uint32_t(p1[1].tile_col));
  const double g_ratio = cfg.tile.device.g_min_ns / cfg.tile.device.g_max_ns;
  EXPECT_EQ(execute_ideal(si, xs, cfg.tile.adc.bits, g_ratio).output, reference_run(si, xs, cfg.tile.adc.bits, g_ratio));
}

// ---------------------------------------------------------------- quantization arithmetic ----

TEST(Quantization, SingleLayerWithinQuantizationBound) {
  // One layer, no clipping anywhere (percentiles 100), so the error is bounded by the four
  // rounding steps: input codes, cell levels, ADC, output.
  PlatformConfig cfg = default_cfg();
  Network net = random_network({50, 12}, 7);
  Eigen::MatrixXf x = random_inputs(200, 50, 8);
  CompileOptions opt;
  opt.activation_percentile = opt.adc_percentile = 100.0;
  CompiledModel m = compile(net, cfg, x, opt);
  ImageView img = parse_image(m.image);
  const double g_ratio = cfg.tile.device.g_min_ns / cfg.tile.device.g_max_ns;
  const int adc_bits = cfg.tile.adc.bits;
  Eigen::MatrixXi q = reference_run(img, x, adc_bits, g_ratio);
  EXPECT_EQ(execute_ideal(img, x, adc_bits, g_ratio).output, q);

  const auto& L = img.layers[0];
  const double cmax = 255, lm = 255, A = 127;
  const double in_scale = img.program.in_scale;
  const double w_scale = img.meta["layers"][0]["w_scale"].get<double>();
  EXPECT_NEAR(w_scale, net.layers[0].weight.cwiseAbs().maxCoeff(), 1e-6);
  EXPECT_NEAR(in_scale, 1.0 / 255 * x.maxCoeff(), 1e-9);
  // acc_scale = adc_full_scale / A * Cmax * in_scale * w_scale / (1 - g_min/g_max)
  EXPECT_NEAR(L.acc_scale, L.adc_full_scale / A * cmax * in_scale * w_scale / (1 - g_ratio), 1e-6 * L.acc_scale);
  Eigen::MatrixXf y = net.forward(x);
  const double out_scale = img.program.out_scale;
  for (int v = 0; v < x.rows(); ++v)
    for (int j = 0; j < 12; ++j) {
      double sum_w = 0, sum_x = 0;
      for (int i = 0; i < 50; ++i) sum_w += std::abs(net.layers[0].weight(j, i)), sum_x += x(v, i);
      const double bound = sum_w * in_scale / 2 + (sum_x + 50 * in_scale / 2) * w_scale / (2 * lm) +
                           L.slice_count * L.acc_scale / 2 + out_scale / 2;
      EXPECT_LE(std::abs(q(v, j) * out_scale - y(v, j)), bound) << "vector " << v << " output " << j;
    }
  // The ADC code of the largest calibration current is A (full scale at the 100th percentile).
  IdealRun run = execute_ideal(img, x, adc_bits, g_ratio);
  EXPECT_EQ(run.adc[0].cwiseAbs().maxCoeff(), 127);
}

TEST(Quantization, DeepRandomNetworkTracksFloat) {
  PlatformConfig cfg = default_cfg();
  cfg.tile.array.rows = cfg.tile.array.cols = 32;
  Network net = random_network({70, 48, 24, 6}, 11);
  Eigen::MatrixXf x = random_inputs(300, 70, 12);
  CompiledModel m = compile(net, cfg, x);
  ImageView img = parse_image(m.image);
  const double g_ratio = cfg.tile.device.g_min_ns / cfg.tile.device.g_max_ns;
  Eigen::MatrixXi q = reference_run(img, x, 8, g_ratio);
  EXPECT_EQ(execute_ideal(img, x, 8, g_ratio).output, q);
  Eigen::MatrixXf y = net.forward(x);
  Eigen::MatrixXf yq = q.cast<float>() * img.program.out_scale;
  const double range = y.cwiseAbs().maxCoeff();
  EXPECT_LT((yq - y).cwiseAbs().maxCoeff(), 0.10 * range) << "rel norm " << (yq - y).norm() / y.norm();
  EXPECT_LT((yq - y).norm() / y.norm(), 0.03);
  // A coarser chip (4-bit DAC/ADC, 3-bit cells) is measurably worse: the scales do what they say.
  PlatformConfig coarse = cfg;
  coarse.tile.dac.bits = 4, coarse.tile.adc.bits = 4, coarse.tile.device.bits_per_cell = 3;
  ImageView ci = parse_image(compile(net, coarse, x).image);
  Eigen::MatrixXf yc = reference_run(ci, x, 4, g_ratio).cast<float>() * ci.program.out_scale;
  EXPECT_GT((yc - y).norm(), 2 * (yq - y).norm());
  EXPECT_EQ(ci.program.dac_bits, 4u);
  EXPECT_LE(ci.tile_weights(0).levels[0], 7);
}

// Issue 20: per-column weight scales. A layer whose output columns have weights of very different
// sizes (column j scaled by 2^-j, as batch-norm folding makes them): per tensor, the small columns
// get a few levels; per column each uses the whole range, and the digital unit multiplies each
// output by its column's scale (COLUMN_SCALES, the scales after the biases in the table). The
// chip arithmetic (execute_ideal) is the independent reference's; the error falls; automatic picks
// per column here and per tensor for a layer whose columns are alike.
TEST(Quantization, PerColumnWeightScales) {
  PlatformConfig cfg = default_cfg();
  Network net = random_network({40, 8}, 21);
  for (int j = 0; j < 8; ++j) net.layers[0].weight.row(j) *= std::ldexp(1.0f, -j);
  Eigen::MatrixXf x = random_inputs(200, 40, 22);
  const double g_ratio = cfg.tile.device.g_min_ns / cfg.tile.device.g_max_ns;
  const Eigen::MatrixXf y = net.forward(x);
  auto error = [&](CompileOptions::WeightScales ws, bool* per_column) {
    CompileOptions opt;
    opt.weight_scales = ws;
    ImageView img = parse_image(compile(net, cfg, x, opt).image);
    const auto& L = img.layers[0];
    *per_column = (L.flags & AIMC_LAYER_COLUMN_SCALES) != 0;
    EXPECT_EQ(img.meta["layers"][0].value("weight_scales", "per_tensor"), *per_column ? "per_column" : "per_tensor");
    if (*per_column) {
      EXPECT_EQ(img.program.bias_count, 16u);  // 8 biases, 8 column scales
      for (int j = 0; j < 8; ++j)  // the largest column has scale 1, the others its fraction
        EXPECT_NEAR(img.segments[0].bias[L.bias_offset + 8 + j],
                    net.layers[0].weight.row(j).cwiseAbs().maxCoeff() / net.layers[0].weight.cwiseAbs().maxCoeff(), 1e-6);
    }
    const Eigen::MatrixXi q = reference_run(img, x, cfg.tile.adc.bits, g_ratio);
    EXPECT_EQ(execute_ideal(img, x, cfg.tile.adc.bits, g_ratio).output, q);
    // The error of the smallest columns, relative to their own size.
    const Eigen::MatrixXf yq = q.cast<float>() * img.program.out_scale;
    return double((yq - y).rightCols(4).norm() / y.rightCols(4).norm());
  };
  bool pc = true;
  const double e_tensor = error(CompileOptions::WeightScales::per_tensor, &pc);
  EXPECT_FALSE(pc);
  const double e_column = error(CompileOptions::WeightScales::per_column, &pc);
  EXPECT_TRUE(pc);
  EXPECT_LT(e_column, 0.5 * e_tensor) << "per tensor " << e_tensor << ", per column " << e_column;
  error(CompileOptions::WeightScales::automatic, &pc);
  EXPECT_TRUE(pc);
  // Columns alike (every weight +-1): per column changes nothing, so automatic keeps per tensor.
  Network alike = random_network({40, 8}, 23);
  alike.layers[0].weight = alike.layers[0].weight.array().sign().matrix();
  CompileOptions opt;
  opt.weight_scales = CompileOptions::WeightScales::automatic;
  EXPECT_EQ(parse_image(compile(alike, cfg, x, opt).image).layers[0].flags & AIMC_LAYER_COLUMN_SCALES, 0u);
}

TEST(Quantization, BundledModelKeepsAccuracy) {
  Network net = as_network(import_onnx(model_path()));
  Dataset train = load_idx(kData + "train-images-idx3-ubyte.gz", kData + "train-labels-idx1-ubyte.gz", 512);
  Dataset test = load_idx(kData + "t10k-images-idx3-ubyte.gz", kData + "t10k-labels-idx1-ubyte.gz", 1000);
  PlatformConfig cfg = default_cfg();
  CompiledModel m = compile(net, cfg, train.images);
  EXPECT_EQ(m.tiles_used, 4);
  ImageView img = parse_image(m.image);
  IdealRun run = execute_ideal(img, test.images, cfg.tile.adc.bits, cfg.tile.device.g_min_ns / cfg.tile.device.g_max_ns);
  Eigen::MatrixXf f = net.forward(test.images);
  int fc = 0, qc = 0;
  for (int v = 0; v < 1000; ++v) {
    fc += argmax(f.row(v)) == test.labels[v];
    qc += argmax(run.logits.row(v)) == test.labels[v];
  }
  std::cout << "float " << fc << "/1000, ideal 8-bit chip " << qc << "/1000\n";
  EXPECT_GE(qc, fc - 15) << "float " << fc << "/1000, ideal 8-bit chip " << qc << "/1000";
  // Logits keep >= 16 bits: the largest calibration logit is about 2^20 output units.
  EXPECT_GT(run.output.cwiseAbs().maxCoeff(), 1 << 16);
}

// ---------------------------------------------------------------- image ----

// A write that fails only when the stream's buffer is flushed (a small image on a full disk) is
// an error: the file is closed before its state is checked (it was checked before the close).
TEST(Image, WriteToAFullDiskIsAnError) {
  if (!fs::exists("/dev/full")) GTEST_SKIP() << "no /dev/full";
  std::string msg;
  try {
    write_file("/dev/full", std::vector<uint8_t>(100, 0xAB));
  } catch (const std::runtime_error& e) {
    msg = e.what();
  }
  EXPECT_NE(msg.find("cannot write /dev/full: write failed"), std::string::npos) << msg;
}

TEST(Image, RoundTripThroughFile) {
  Network net = as_network(import_onnx(model_path()));
  Dataset cal = load_idx(kData + "train-images-idx3-ubyte.gz", kData + "train-labels-idx1-ubyte.gz", 128);
  PlatformConfig cfg = default_cfg();
  CompiledModel m = compile(net, cfg, cal.images);
  fs::path p = scratch() / "m.aimg";
  write_file(p.string(), m.image);
  ImageView img = parse_image(read_file(p.string()));

  EXPECT_EQ(std::memcmp(img.header.magic, "AIMCIMG1", 8), 0);
  EXPECT_EQ(img.header.version, 2u);
  EXPECT_EQ(img.header.total_bytes, m.image.size());
  ASSERT_EQ(img.header.section_count, 6u);  // META, 4 x WEIGHTS, PROGRAM
  EXPECT_EQ(m.segments, 1);
  ASSERT_EQ(img.segments.size(), 1u);
  for (const auto& s : img.sections) EXPECT_EQ(s.segment, 0u);  // it fits: one segment
  EXPECT_EQ(img.program_payload.size(),
            sizeof(aimc_program_hdr_t) + 3 * sizeof(aimc_layer_t) + 4 * sizeof(aimc_slice_t) + (256 + 128 + 10) * sizeof(float));
  EXPECT_EQ(img.sections[5].size, img.program_payload.size());
  EXPECT_EQ(img.sections[0].type, uint32_t(AIMC_SECTION_META));
  EXPECT_EQ(img.sections[5].type, uint32_t(AIMC_SECTION_PROGRAM));
  EXPECT_EQ(img.program_dest_addr, AIMC_SEQ_MEM_BASE);
  for (int t = 0; t < 4; ++t) {
    EXPECT_EQ(img.sections[size_t(1 + t)].type, uint32_t(AIMC_SECTION_WEIGHTS));
    EXPECT_EQ(img.sections[size_t(1 + t)].tile, uint32_t(t));
    EXPECT_EQ(img.tile_weights(uint32_t(t)).dest_addr, AIMC_STAGING_BASE);
  }
  for (const auto& s : img.sections) EXPECT_EQ(s.offset % 8, 0u);

  const auto& p_hdr = img.program;
  EXPECT_EQ(p_hdr.layer_count, 3u);
  EXPECT_EQ(p_hdr.slice_count, 4u);
  EXPECT_EQ(p_hdr.bias_count, 256u + 128 + 10);
  EXPECT_EQ(p_hdr.in_features, 784u);
  EXPECT_EQ(p_hdr.out_features, 10u);
  EXPECT_EQ(p_hdr.in_addr, AIMC_SRAM_BASE);
  EXPECT_EQ(p_hdr.dac_bits, 8u);
  EXPECT_EQ(p_hdr.in_zero, 0u);  // pixels are >= 0: no zero point
  EXPECT_EQ(p_hdr.adc_bits, 8u);
  EXPECT_EQ(p_hdr.bits_per_cell, 8u);
  EXPECT_EQ(p_hdr.max_batch, uint32_t(m.max_batch));
  EXPECT_EQ(img.meta["max_batch"].get<int>(), m.max_batch);
  // 512 KiB over ping-pong buffers of 784 (input / layer-1 output) + 256 bytes per vector: the
  // buffers live at once are at most input + layer-0 output = 1040 bytes per image (layer 1's
  // output reuses the input's space, the int32 logits sit beside it), and max_batch is the
  // largest batch whose layout fits.
  EXPECT_EQ(m.max_batch, 504);
  EXPECT_FLOAT_EQ(p_hdr.in_scale, 1.0f / 255.0f);
  EXPECT_EQ(img.layers[0].in_stride, 784u);
  EXPECT_EQ(img.layers[0].out_stride, 256u);
  EXPECT_EQ(img.layers[2].out_stride, 40u);
  EXPECT_EQ(img.layers[2].out_addr, p_hdr.out_addr);
  EXPECT_EQ(img.layers[0].out_addr, img.layers[1].in_addr);
  EXPECT_EQ(img.layers[2].in_addr, img.layers[0].in_addr);  // ping-pong
  // Dense layers are 1x1 MVM ops; the ReLU of hidden layers is the clamp act_min = 0 (the RELU
  // flag is equivalent and optional), so their outputs need no zero point.
  for (int l = 0; l < 3; ++l) {
    const auto& L = img.layers[size_t(l)];
    EXPECT_EQ(L.kind, uint32_t(AIMC_OP_MVM)) << "layer " << l;
    EXPECT_EQ(L.in_h * L.in_w * L.out_h * L.out_w * L.kh * L.kw * L.groups, 1u) << "layer " << l;
    EXPECT_EQ(L.in_c, L.in_features) << "layer " << l;
    EXPECT_EQ(L.out_c, L.out_features) << "layer " << l;
    EXPECT_EQ(L.in_zero, 0u) << "layer " << l;
    EXPECT_EQ(L.out_zero, 0u) << "layer " << l;
    EXPECT_EQ(L.act_max, std::numeric_limits<float>::infinity()) << "layer " << l;
  }
  for (int l = 0; l < 2; ++l) {
    EXPECT_EQ(img.layers[size_t(l)].act_min, 0.0f) << "layer " << l;
    EXPECT_EQ(img.layers[size_t(l)].flags & ~uint32_t(AIMC_LAYER_RELU), 0u) << "layer " << l;
  }
  EXPECT_EQ(img.layers[2].act_min, -std::numeric_limits<float>::infinity());
  EXPECT_EQ(img.layers[2].flags, uint32_t(AIMC_LAYER_OUTPUT_I32));
  for (const auto& sl : img.slices) EXPECT_EQ(sl.tile_row + sl.tile_col, 0u);  // one block per tile, at (0, 0)
  EXPECT_EQ(img.layers[2].out_quant_scale, p_hdr.out_scale);
  EXPECT_EQ(img.layers[1].out_quant_scale, img.meta["layers"][2]["in_scale"].get<float>());
  // Weights: levels are round(W / w_scale * 255), W row-major per tile (row = input).
  for (int t = 0; t < 2; ++t) {
    const auto& w = img.tile_weights(uint32_t(t));
    EXPECT_EQ(w.hdr.rows, 392u); EXPECT_EQ(w.hdr.cols, 256u); EXPECT_EQ(w.hdr.bits_per_cell, 8u);
    const double ws = img.meta["layers"][0]["w_scale"].get<double>();
    for (uint32_t r = 0; r < w.hdr.rows; r += 37)
      for (uint32_t c = 0; c < w.hdr.cols; c += 11)
        EXPECT_EQ(w.level(r, c), int(std::round(net.layers[0].weight(c, t * 392 + r) / ws * 255)));
  }
  for (int j = 0; j < 128; ++j) EXPECT_EQ(img.bias[256 + size_t(j)], net.layers[1].bias(j));
  EXPECT_EQ(img.meta["tiles_used"].get<int>(), 4);
  EXPECT_EQ(img.meta["macs_per_inference"].get<long>(), 784L * 256 + 256 * 128 + 128 * 10);
  EXPECT_EQ(img.meta["platform"], "test-3x4");
  EXPECT_EQ(img.meta["quantized_for"]["adc_bits"].get<int>(), 8);
  // Deterministic: the same inputs give the same bytes.
  EXPECT_EQ(compile(net, cfg, cal.images).image, m.image);
}

TEST(Image, CorruptedImagesRefused) {
  Network net = random_network({20, 10, 4}, 4);
  std::vector<uint8_t> good = compile(net, default_cfg(), random_inputs(32, 20, 4)).image;
  ASSERT_NO_THROW(parse_image(good));
  auto expect_error = [](std::vector<uint8_t> bytes, const std::string& needle) {
    std::string msg;
    try {
      parse_image(bytes);
      msg = "<no exception>";
    } catch (const ImageError& e) {
      msg = e.what();
    }
    EXPECT_NE(msg.find(needle), std::string::npos) << "expected '" << needle << "' in: " << msg;
  };
  auto b = good;
  b[0] = 'X';
  expect_error(b, "bad magic");
  b = good;
  b[8] = 1;  // version 1 images (no segments, smaller records) are not read any more
  expect_error(b, "version 1 not supported (this reader knows 2)");
  b[8] = 3;
  expect_error(b, "version 3 not supported");
  b = good;
  b.resize(b.size() - 40);
  expect_error(b, "truncated");
  expect_error(std::vector<uint8_t>(good.begin(), good.begin() + 20), "truncated");
  // Section 1's size runs past the end (total_bytes still matches the file).
  b = good;
  uint64_t huge = good.size();
  std::memcpy(b.data() + 32 + 32 + 24, &huge, 8);
  expect_error(b, "out of the file");
  // Misaligned offset.
  b = good;
  uint64_t off;
  std::memcpy(&off, b.data() + 32 + 32 + 16, 8);
  off += 2;
  std::memcpy(b.data() + 32 + 32 + 16, &off, 8);
  expect_error(b, "not 8-byte aligned");
  // Program magic and a level outside +-(L-1).
  ImageView v = parse_image(good);
  const auto& ps = v.sections.back();
  b = good;
  b[ps.offset] ^= 0xFF;
  expect_error(b, "program magic");
  const auto& ws = v.sections[1];
  b = good;
  int16_t bad_level = 300;
  std::memcpy(b.data() + ws.offset + 16, &bad_level, 2);
  expect_error(b, "outside +-255");
  // A slice pointing at a tile without weights.
  b = good;
  const uint64_t slice0 = ps.offset + sizeof(aimc_program_hdr_t) + v.layers.size() * sizeof(aimc_layer_t);
  uint32_t tile = 9;
  std::memcpy(b.data() + slice0, &tile, 4);
  expect_error(b, "tile 9 has no WEIGHTS section in this segment");
  // Version 2 fields. A block placed (tile_row) beyond its tile's levels.
  ASSERT_EQ(v.slices.size(), 2u);
  ASSERT_NE(v.slices[0].tile, v.slices[1].tile);
  b = good;
  uint32_t row = 5;
  std::memcpy(b.data() + slice0 + offsetof(aimc_slice_t, tile_row), &row, 4);
  expect_error(b, "block at (5, 0) of 20x10 lies outside the 20x10 levels of tile " + std::to_string(v.slices[0].tile));
  // Two blocks on one tile that overlap: slice 1 (10 x 4) moved onto slice 0's tile at (0, 0).
  b = good;
  std::memcpy(b.data() + slice0 + sizeof(aimc_slice_t) + offsetof(aimc_slice_t, tile), &v.slices[0].tile, 4);
  std::memcpy(b.data() + slice0 + sizeof(aimc_slice_t) + offsetof(aimc_slice_t, reduce_tile), &v.slices[0].tile, 4);
  expect_error(b, "slices 0 and 1 overlap on tile " + std::to_string(v.slices[0].tile));
  // A WEIGHTS section of a segment without a PROGRAM, and a PROGRAM numbered past the segments.
  const size_t seg_field = offsetof(aimc_image_section_t, segment);
  b = good;
  uint32_t seg = 1;
  std::memcpy(b.data() + sizeof(aimc_image_header_t) + 1 * sizeof(aimc_image_section_t) + seg_field, &seg, 4);
  expect_error(b, "WEIGHTS section of segment 1, which has no PROGRAM");
  b = good;
  std::memcpy(b.data() + sizeof(aimc_image_header_t) + (v.sections.size() - 1) * sizeof(aimc_image_section_t) + seg_field, &seg, 4);
  expect_error(b, "PROGRAM sections must be numbered 0 .. segments - 1 without gaps");
  b = good;
  seg = AIMC_MAX_SEGMENTS;
  std::memcpy(b.data() + sizeof(aimc_image_header_t) + 1 * sizeof(aimc_image_section_t) + seg_field, &seg, 4);
  expect_error(b, "segment 64 beyond AIMC_MAX_SEGMENTS");
  // An unknown op kind, and an output zero point beyond the DAC codes.
  const uint64_t layer0 = ps.offset + sizeof(aimc_program_hdr_t);
  b = good;
  uint32_t kind = AIMC_OP_MUL + 1;
  std::memcpy(b.data() + layer0 + offsetof(aimc_layer_t, kind), &kind, 4);
  expect_error(b, "unknown kind 9");
  b = good;
  uint32_t zero = 256;
  std::memcpy(b.data() + layer0 + offsetof(aimc_layer_t, out_zero), &zero, 4);
  expect_error(b, "zero point beyond the DAC codes");
}

// A WEIGHTS header whose rows x cols levels, doubled, wrap to the section's size used to pass the
// size check; the reader then asked for 2^63 levels (std::length_error escaped, not an ImageError).
TEST(Image, WeightsWhoseLevelCountWrapsAreRefused) {
  Network net = random_network({20, 10, 4}, 4);
  const ImageView v = parse_image(compile(net, default_cfg(), random_inputs(32, 20, 4)).image);
  // 4294836226 x 2147549185 = 2^63 + 2 levels: 2 bytes each, 4 bytes modulo 2^64.
  const aimc_weights_hdr_t wh{4294836226u, 2147549185u, 8, 0};
  std::vector<uint8_t> payload;
  append_record(payload, wh);
  payload.resize(payload.size() + 4, 0);
  ImageBuilder b;
  b.add_section(AIMC_SECTION_WEIGHTS, 0, 0x01000000u, payload);
  b.add_section(AIMC_SECTION_PROGRAM, AIMC_TILE_NONE, v.program_dest_addr, v.program_payload);
  try {
    parse_image(b.build());
    ADD_FAILURE() << "accepted";
  } catch (const ImageError& e) {
    EXPECT_NE(std::string(e.what()).find("levels need"), std::string::npos) << e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "not an ImageError: " << e.what();
  }
  // The driver refuses it too (before, it DMA'd the 20 bytes and programmed tile 0 from them).
  EXPECT_EQ(driver_load(b.build()), AIMC_E_IMAGE);
}

// Format rules of docs/deployment-image.md that the reader enforced and the driver did not: the
// driver loaded these images (through a HAL that answers everything) where the reader refuses
// them. The driver's checks are now aimc_image_check, fuzzed against the reader (fuzz_image_driver).
TEST(Image, DriverRefusesWhatTheReaderRefusesForItsFormat) {
  Network net = random_network({20, 10, 4}, 4);
  const std::vector<uint8_t> good = compile(net, default_cfg(), random_inputs(32, 20, 4)).image;
  ASSERT_EQ(driver_load(good), AIMC_OK);
  const ImageView v = parse_image(good);
  ASSERT_EQ(v.sections[0].type, uint32_t(AIMC_SECTION_META));
  ASSERT_EQ(v.sections[1].type, uint32_t(AIMC_SECTION_WEIGHTS));
  const auto& ps = v.sections.back();
  ASSERT_EQ(ps.type, uint32_t(AIMC_SECTION_PROGRAM));
  auto entry = [](size_t i, size_t field) { return sizeof(aimc_image_header_t) + i * sizeof(aimc_image_section_t) + field; };
  auto both_refuse = [&](const std::vector<uint8_t>& bytes, const std::string& needle) {
    std::string msg = "<accepted>";
    try {
      parse_image(bytes);
    } catch (const ImageError& e) {
      msg = e.what();
    }
    EXPECT_NE(msg.find(needle), std::string::npos) << "reader: expected '" << needle << "' in: " << msg;
    EXPECT_EQ(driver_load(bytes), AIMC_E_IMAGE) << "the driver loaded an image the reader refuses: " << msg;
  };
  auto set32 = [](std::vector<uint8_t>& b, size_t at, uint32_t val) { std::memcpy(b.data() + at, &val, 4); };
  auto b = good;
  uint64_t off;
  std::memcpy(&off, b.data() + entry(1, offsetof(aimc_image_section_t, offset)), 8);
  off += 2;
  std::memcpy(b.data() + entry(1, offsetof(aimc_image_section_t, offset)), &off, 8);
  both_refuse(b, "not 8-byte aligned");
  b = good;  // WEIGHTS section 1 moved to segment 1, which has no PROGRAM
  set32(b, entry(1, offsetof(aimc_image_section_t, segment)), 1);
  both_refuse(b, "WEIGHTS section of segment 1, which has no PROGRAM");
  b = good;
  set32(b, entry(0, offsetof(aimc_image_section_t, tile)), 0);
  both_refuse(b, "tile must be AIMC_TILE_NONE");
  b = good;  // the program header promises one op more than the section holds
  set32(b, ps.offset + offsetof(aimc_program_hdr_t, layer_count), uint32_t(v.layers.size() + 1));
  both_refuse(b, "header counts");
  b = good;  // a weights header with one row more than its levels
  set32(b, v.sections[1].offset + offsetof(aimc_weights_hdr_t, rows), v.tile_weights(v.sections[1].tile).hdr.rows + 1);
  both_refuse(b, "levels need");
  b = good;  // section 2's payload starts inside section 1's
  std::memcpy(b.data() + entry(2, offsetof(aimc_image_section_t, offset)), &v.sections[1].offset, 8);
  both_refuse(b, "overlaps another section");
}

// ---------------------------------------------------------------- compile refusals ----

TEST(Compile, RefusesWhatDoesNotFit) {
  Network net = random_network({20, 10, 4}, 5);
  Eigen::MatrixXf x = random_inputs(16, 20, 5);
  PlatformConfig cfg = default_cfg();
  cfg.sram.size_kib = 1;
  EXPECT_NO_THROW(compile(net, cfg, x));
  Network wide = random_network({1000, 200, 4}, 5);
  cfg.grid_rows = 2, cfg.grid_cols = 2;
  std::string msg = error_of([&] { compile(wide, cfg, random_inputs(4, 1000, 5)); });
  EXPECT_NE(msg.find("activation SRAM"), std::string::npos) << msg;
  // Hidden layer without ReLU: negative activations cannot be DAC codes.
  Network no_relu = net;
  no_relu.layers[0].relu = false;
  msg = error_of([&] { compile(no_relu, default_cfg(), x); });
  EXPECT_NE(msg.find("no ReLU"), std::string::npos) << msg;
  // Calibration data of the wrong width.
  EXPECT_THROW(compile(net, default_cfg(), random_inputs(4, 21, 1)), CompileError);
  // Program memory (1 MiB): one dense layer of 1 input and 270,000 outputs has 1,080,000 bytes of
  // biases alone in its table. Its 1 x 400 blocks pack 400 to a tile, so the tiles are no limit,
  // and 2 MiB of SRAM hold its int32 output.
  Network big = random_network({1, 270000}, 6);
  PlatformConfig huge = default_cfg();
  huge.sram.size_kib = 2048;
  msg = error_of([&] { compile(big, huge, random_inputs(2, 1, 6)); });
  EXPECT_NE(msg.find("exceed the 1048576-byte sequencer program memory"), std::string::npos) << msg;
  EXPECT_NE(msg.find("270000 table floats"), std::string::npos) << msg;
  // A network larger than the chip is not refused: it runs in weight loads (segments), here the
  // wide network on 2x2 tiles of 500 x 100: fc0 (1000 x 200) is 2 x 2 blocks that fill all four
  // tiles, so fc1 (200 x 4) starts segment 1 after a reload.
  PlatformConfig small = default_cfg();
  small.grid_rows = small.grid_cols = 2;
  small.tile.array.rows = 500, small.tile.array.cols = 100;
  CompiledModel seg = compile(wide, small, random_inputs(8, 1000, 7));
  EXPECT_EQ(seg.segments, 2);
  ImageView sv = parse_image(seg.image);
  ASSERT_EQ(sv.segments.size(), 2u);
  EXPECT_EQ(sv.segments[0].slices.size(), 4u);  // 2 row x 2 column blocks of 500 x 100
  EXPECT_EQ(sv.segments[1].slices.size(), 1u);
  EXPECT_EQ(sv.meta["segments"].size(), 2u);
}

// ---- Placement and utilization ----------------------------------------------------------------

namespace aimc::compiler {
namespace {

// 784-256-128-10 on 400 x 400 tiles: layer 0 splits its 784 inputs in two balanced row blocks of
// 392 (tiles 0, 1), layers 1 and 2 take one tile each. Utilization = 2 * rows * cols / (2 * 400 *
// 400) per tile, computed here by hand.
TEST(Placement, UtilizationOfAKnownPlacement) {
  const Network net = random_network({784, 256, 128, 10}, 3);
  const PlatformConfig cfg = default_cfg();
  const nlohmann::json p = placement_summary(plan_mapping(net, cfg), to_graph(net), cfg);
  const double cells = 2.0 * 400 * 400;
  const double expect[] = {2.0 * 392 * 256 / cells, 2.0 * 392 * 256 / cells, 2.0 * 256 * 128 / cells,
                           2.0 * 128 * 10 / cells};
  ASSERT_EQ(p["tiles"].size(), 12u);
  for (int t = 0; t < 4; ++t) {
    EXPECT_DOUBLE_EQ(p["tiles"][t]["utilization"].get<double>(), expect[t]) << "tile " << t;
    EXPECT_EQ(p["tiles"][t]["blocks"].size(), 1u);
  }
  for (int t = 4; t < 12; ++t) EXPECT_EQ(p["tiles"][t]["cells_used"].get<long>(), 0) << "tile " << t;
  const double used = 2.0 * (392 * 256 * 2 + 256 * 128 + 128 * 10);
  EXPECT_DOUBLE_EQ(p["overall"].get<double>(), used / (12 * cells));
  EXPECT_DOUBLE_EQ(p["used_tiles"].get<double>(), used / (4 * cells));
  EXPECT_EQ(p["tiles"][1]["blocks"][0]["rows"], nlohmann::json({392, 784}));
  EXPECT_EQ(p["map"][0].get<std::string>(), "tile  0 ( 62.7 %): fc0 in [0, 392) x out [0, 256)");
  EXPECT_EQ(p["map"][11].get<std::string>(), "tile 11 (  0.0 %): empty");
  EXPECT_EQ(net.params(), 784L * 256 + 256 + 256L * 128 + 128 + 128L * 10 + 10);
}

// Biases in the array (CompileOptions::bias_in_array): the UCSB flash MLP 784-64-10 (reference-chips
// 1) on 101,780 cells = (784 + 1) x 64 x 2 + (64 + 1) x 10 x 2, one always-on row per column block.
// On 785 x 64 tiles each layer is one block with its bias row under it; on 400 x 400 tiles the
// 785 rows of layer 0 split 393 + 392, the first block holding 392 inputs and the bias row.
TEST(Placement, BiasInArrayReservesOneRowPerColumnBlockAndCountsItsCells) {
  const Network net = random_network({784, 64, 10}, 5);
  const Graph g = to_graph(net);
  PlatformConfig cfg = default_cfg();
  cfg.tile.array.rows = 785;
  cfg.tile.array.cols = 64;
  cfg.grid_rows = 1;
  cfg.grid_cols = 2;
  auto cells_used = [](const nlohmann::json& p) {
    long n = 0;
    for (const auto& t : p["tiles"]) n += t["cells_used"].get<long>();
    return n;
  };
  const nlohmann::json without = placement_summary(plan_mapping(g, cfg), g, cfg);
  EXPECT_EQ(cells_used(without), 2L * (784 * 64 + 64 * 10));  // 101,632: the bias in the digital unit
  const std::vector<SlicePlan> plan = plan_mapping(g, cfg, false, true);
  const nlohmann::json with = placement_summary(plan, g, cfg);
  EXPECT_EQ(cells_used(with), 101780L);
  ASSERT_EQ(plan.size(), 2u);
  EXPECT_EQ(plan[0].row_count, 784);
  EXPECT_EQ(plan[0].bias_rows, 1);
  EXPECT_EQ(with["tiles"][0]["utilization"].get<double>(), 1.0);  // 785 x 64: full
  EXPECT_EQ(with["tiles"][0]["blocks"][0]["bias_rows"], 1);
  // 65 x 10 of 785 x 64 pairs: 1.3 %.
  EXPECT_EQ(with["map"][1].get<std::string>(), "tile  1 (  1.3 %): fc1 in [0, 64) x out [0, 10) + 1 bias row");
  // Without the option the 784-row block would not fill the tile: 784 / 785.
  EXPECT_LT(without["tiles"][0]["utilization"].get<double>(), 1.0);

  // 400 x 400 tiles: 785 rows split 393 + 392; the bias row sits with the first block.
  const PlatformConfig big = default_cfg();
  const std::vector<SlicePlan> p2 = plan_mapping(g, big, false, true);
  ASSERT_EQ(p2.size(), 3u);
  EXPECT_EQ(p2[0].row_begin, 0);
  EXPECT_EQ(p2[0].row_count, 392);
  EXPECT_EQ(p2[0].bias_rows, 1);
  EXPECT_EQ(p2[1].row_begin, 392);
  EXPECT_EQ(p2[1].row_count, 392);
  EXPECT_EQ(p2[1].bias_rows, 0);
  EXPECT_EQ(cells_used(placement_summary(p2, g, big)), 101780L);

  // An op without a bias (all zeros) gets no row.
  Network nobias = net;
  for (auto& l : nobias.layers) l.bias.setZero();
  const Graph g0 = to_graph(nobias);
  EXPECT_EQ(cells_used(placement_summary(plan_mapping(g0, cfg, false, true), g0, cfg)), 2L * (784 * 64 + 64 * 10));
}

// ---- Replication ------------------------------------------------------------------------------

// conv 3x3 (3 -> 8 channels) on a 16x16 map, global average pool, dense 8 -> 4: the conv reads
// 256 positions per image, the dense layer one.
Graph conv_pool_dense() {
  Graph g;
  g.name = "conv_pool_dense";
  g.input = g.add_tensor("input", Shape{3, 16, 16});
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> u(-0.5f, 0.5f);
  Op c;
  c.kind = OpKind::Conv, c.name = "conv", c.onnx_op = "Conv";
  c.kh = c.kw = 3, c.stride_h = c.stride_w = 1, c.pad_t = c.pad_l = c.pad_b = c.pad_r = 1, c.groups = 1;
  c.weight = Eigen::MatrixXf::NullaryExpr(8, 27, [&] { return u(rng); });
  c.bias = Eigen::VectorXf::Zero(8);
  c.act_min = 0.0f;
  c.inputs = {g.input};
  const int t1 = g.ops[size_t(g.add_op(c))].output;
  Op gap;
  gap.kind = OpKind::GlobalAvgPool, gap.name = "gap", gap.onnx_op = "GlobalAveragePool";
  gap.inputs = {t1};
  const int t2 = g.ops[size_t(g.add_op(gap))].output;
  Op fc;
  fc.kind = OpKind::Conv, fc.name = "fc", fc.onnx_op = "Gemm";
  fc.weight = Eigen::MatrixXf::NullaryExpr(4, 8, [&] { return u(rng); });
  fc.bias = Eigen::VectorXf::Zero(4);
  fc.inputs = {t2};
  g.output = g.ops[size_t(g.add_op(fc))].output;
  g.validate();
  return g;
}

// The conv is the busiest op (256 positions against 1), so on a bus too wide to bind it takes
// every empty tile: 10 copies on a 12-tile chip, one block each at the tile's corner, reducing on
// their own tile.
TEST(Replication, BusiestOpTakesTheEmptyTiles) {
  const Graph g = conv_pool_dense();
  PlatformConfig cfg = default_cfg();
  cfg.bus.width_bytes = 1024;
  const std::vector<SlicePlan> base = plan_mapping(g, cfg);
  ASSERT_EQ(base.size(), 2u);
  const std::vector<SlicePlan> plan = replicate_for_throughput(base, g, cfg);
  ASSERT_EQ(plan.size(), 12u);
  std::set<int> tiles;
  int copies = 0;
  for (const SlicePlan& p : plan) {
    EXPECT_TRUE(tiles.insert(p.tile).second) << "tile " << p.tile << " holds two blocks";
    if (p.layer != 0) {
      EXPECT_EQ(p.replica, 0) << "the dense layer is not copied";
      continue;
    }
    EXPECT_EQ(p.replica, copies) << "copies in replica order, after the original";
    ++copies;
    EXPECT_EQ(p.row_count, 27);
    EXPECT_EQ(p.col_count, 8);
    EXPECT_EQ(p.reduce_tile, p.tile);
    if (p.replica > 0) {
      EXPECT_EQ(p.tile_row + p.tile_col, 0);
    }
  }
  EXPECT_EQ(copies, 11);
  EXPECT_EQ(tiles.size(), 12u);

  // On the default 8-byte bus, copies stop once the conv's tile is no slower per image than the
  // bus: bus bytes = patches 256 x 27 + 1 x 8, conv output 2048, pool in 2048 + out 8, dense out 4.
  const PlatformConfig narrow = default_cfg();
  const double bus_ns = (256.0 * 27 + 8 + 2048 + 2048 + 8 + 4) / (narrow.bus.width_bytes * narrow.bus.clock_mhz * 1e-3);
  const int adcs = (narrow.tile.array.cols + narrow.tile.adc.share - 1) / narrow.tile.adc.share;
  // The array read: the bit line (every row of the array) settles to half an ADC LSB, then t_read.
  const auto& a = narrow.tile.array;
  const double t_settle = (narrow.tile.adc.bits + 1) * std::log(2.0) * a.r_line_kohm * 1e3 *
                          (a.rows * a.cell_pitch_um * a.c_wire_ff_per_um * 1e-15) * 1e9;
  const double t_mvm = narrow.tile.dac.t_conv_ns + a.t_read_ns + t_settle + ((8 + adcs - 1) / adcs) * narrow.tile.adc.t_conv_ns;
  int k = 1;
  while (k < 11 && 256.0 / k * t_mvm > bus_ns) ++k;
  ASSERT_GT(k, 1) << "the test needs a conv slower than the bus";
  ASSERT_LT(k, 11) << "the test needs the bus to stop the copies";
  EXPECT_EQ(long(replicate_for_throughput(base, g, narrow).size()), 1L + k) << k << " copies of the conv and the dense block";

  // A chip with no empty tile: nothing to copy onto.
  PlatformConfig two = cfg;
  two.grid_rows = 1, two.grid_cols = 2;
  const auto p2 = plan_mapping(g, two);
  EXPECT_EQ(replicate_for_throughput(p2, g, two).size(), p2.size());
  // A busiest op of two blocks with one empty tile left: no copy either.
  PlatformConfig small = cfg;
  small.grid_rows = 1, small.grid_cols = 3;
  small.tile.array.rows = 16;  // the conv's 27 patch rows take two blocks
  const auto p3 = plan_mapping(g, small);
  ASSERT_EQ(p3.size(), 3u);
  EXPECT_EQ(replicate_for_throughput(p3, g, small).size(), 3u);
}

// Copies change where an op runs, not what it computes: the image with copies gives the golden
// model's outputs of the image without; its records carry the copy count; a copy whose levels
// differ from the original's is refused by the reader.
TEST(Replication, CompiledImageWithCopies) {
  const Graph g = conv_pool_dense();
  PlatformConfig cfg = default_cfg();
  cfg.bus.width_bytes = 1024;  // the bus does not bind: the conv takes every empty tile
  const Eigen::MatrixXf cal = random_inputs(16, int(g.in_features()), 8);
  CompileOptions with;
  with.replicate = true;
  const CompiledModel plain = compile(g, cfg, cal), copied = compile(g, cfg, cal, with);
  ASSERT_EQ(copied.summary["replication"].size(), 1u);
  EXPECT_EQ(copied.summary["replication"][0]["op"], "conv");
  EXPECT_EQ(copied.summary["replication"][0]["copies"], 11);
  EXPECT_TRUE(plain.summary["replication"].empty());
  const ImageView iv = parse_image(copied.image);
  ASSERT_EQ(iv.layers.size(), 3u);
  EXPECT_EQ(iv.layers[0].replicas, 11u);
  EXPECT_EQ(iv.layers[0].slice_count, 11u);
  EXPECT_LE(iv.layers[2].replicas, 1u);
  EXPECT_EQ(iv.weights.size(), 12u);
  const Eigen::MatrixXf x = random_inputs(5, int(g.in_features()), 9);
  const double ratio = cfg.tile.device.g_min_ns / cfg.tile.device.g_max_ns;
  const IdealRun a = execute_ideal(parse_image(plain.image), x, cfg.tile.adc.bits, ratio);
  const IdealRun b = execute_ideal(iv, x, cfg.tile.adc.bits, ratio);
  EXPECT_EQ(a.output, b.output);
  EXPECT_NE(copied.summary["placement"]["map"][11].get<std::string>().find("(copy "), std::string::npos);

  // Tamper with the first level of a copy's tile.
  std::vector<uint8_t> bad = copied.image;
  const aimc_slice_t& copy1 = iv.slices[1];
  bool done = false;
  for (const aimc_image_section_t& sec : iv.sections)
    if (sec.type == AIMC_SECTION_WEIGHTS && sec.tile == copy1.tile) {
      int16_t level = 0;
      const size_t at = size_t(sec.offset) + sizeof(aimc_weights_hdr_t);
      std::memcpy(&level, bad.data() + at, 2);
      level = level == 0 ? 1 : 0;
      std::memcpy(bad.data() + at, &level, 2);
      done = true;
    }
  ASSERT_TRUE(done);
  const std::string msg = error_of([&] { parse_image(bad); });
  EXPECT_NE(msg.find("copy 1 holds other levels than copy 0"), std::string::npos) << msg;
}

// ---- NumPy files ------------------------------------------------------------------------------

std::string temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() / (name + "-" + std::to_string(::getpid()) + ".npy")).string();
}

// A .npy file as numpy.save writes it: magic, version 1.0, header padded to 64 bytes, data.
void write_raw_npy(const std::string& path, const std::string& dict, const std::string& data) {
  std::string header = dict;
  const size_t unpadded = 10 + header.size() + 1;
  header.append((64 - unpadded % 64) % 64, ' ');
  header.push_back('\n');
  std::ofstream f(path, std::ios::binary);
  f.write("\x93NUMPY\x01\x00", 8);
  const char len[2] = {char(header.size() & 0xFF), char(header.size() >> 8)};
  f.write(len, 2);
  f << header << data;
}

TEST(Npy, RoundTripAndLayout) {
  const std::string path = temp_path("aimc-npy");
  Eigen::MatrixXf m(3, 4);
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 4; ++j) m(i, j) = float(10 * i + j) + 0.5f;
  write_npy(path, m);
  const NpyArray a = read_npy(path);
  EXPECT_EQ(a.shape, (std::vector<int64_t>{3, 4}));
  ASSERT_EQ(a.data.size(), 12u);
  EXPECT_EQ(a.data[1], 1.5f);   // C order: row 0, column 1
  EXPECT_EQ(a.data[4], 10.5f);  // row 1, column 0
  EXPECT_EQ(as_rows(a, path), m);
  std::filesystem::remove(path);
}

TEST(Npy, FourDimensionalFloat64AndUint8AreFlattenedPerItem) {
  const std::string path = temp_path("aimc-npy4");
  std::string data;
  for (int k = 0; k < 2 * 1 * 2 * 3; ++k) {
    const double v = k * 0.25;
    data.append(reinterpret_cast<const char*>(&v), 8);
  }
  write_raw_npy(path, "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 1, 2, 3), }", data);
  const Eigen::MatrixXf x = as_rows(read_npy(path), path);
  ASSERT_EQ(x.rows(), 2);
  ASSERT_EQ(x.cols(), 6);
  EXPECT_FLOAT_EQ(x(1, 0), 6 * 0.25f);
  EXPECT_FLOAT_EQ(x(1, 5), 11 * 0.25f);
  write_raw_npy(path, "{'descr': '|u1', 'fortran_order': False, 'shape': (1, 3), }", std::string("\x01\x02\xff", 3));
  const Eigen::MatrixXf u = as_rows(read_npy(path), path);
  EXPECT_FLOAT_EQ(u(0, 2), 255.0f);
  std::filesystem::remove(path);
}

TEST(Npy, BadFilesAreRefusedWithTheirName) {
  const std::string path = temp_path("aimc-npybad");
  const auto message = [&] {
    try {
      as_rows(read_npy(path), path);
    } catch (const NpyError& e) {
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  { std::ofstream(path) << "hello"; }
  EXPECT_NE(message().find("not a NumPy .npy file"), std::string::npos) << message();
  write_raw_npy(path, "{'descr': '<f4', 'fortran_order': True, 'shape': (1, 1), }", std::string(4, '\0'));
  EXPECT_NE(message().find("Fortran-order"), std::string::npos) << message();
  write_raw_npy(path, "{'descr': '<i8', 'fortran_order': False, 'shape': (1, 1), }", std::string(8, '\0'));
  EXPECT_NE(message().find("dtype '<i8'"), std::string::npos) << message();
  write_raw_npy(path, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", std::string(8, '\0'));
  EXPECT_NE(message().find("truncated"), std::string::npos) << message();
  write_raw_npy(path, "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", std::string(12, '\0'));
  EXPECT_NE(message().find("N items"), std::string::npos) << message();
  EXPECT_NE(message().find(path), std::string::npos);
  std::filesystem::remove(path);
}

// What reading `path` as N items says: the NpyError's message, "other exception: ..." for
// anything else (std::bad_alloc from the allocation probe), or "accepted".
std::string npy_error(const std::string& path) {
  try {
    as_rows(read_npy(path), path);
  } catch (const NpyError& e) {
    return e.what();
  } catch (const std::exception& e) {
    return std::string("other exception: ") + e.what();
  }
  return "accepted";
}

// A header is a promise the file may not keep: the file's size is checked against it before
// anything is allocated (a 128-byte file promising 1.5 G values allocated 6 GB, then noticed).
TEST(Npy, ShortFileIsRefusedBeforeAllocating) {
  const std::string path = temp_path("aimc-npyshort");
  write_raw_npy(path, "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 1500000000), }", "");
  ASSERT_EQ(std::filesystem::file_size(path), 128u);
  aimc::testing::reset_largest_allocation();
  const std::string msg = npy_error(path);
  EXPECT_LT(aimc::testing::largest_allocation(), size_t(1) << 20) << msg;
  EXPECT_EQ(msg.rfind(path + ": truncated", 0), 0u) << msg;
  EXPECT_NE(msg.find("promises 1500000000 values of <f4"), std::string::npos) << msg;
  EXPECT_NE(msg.find("holds 0 bytes of data"), std::string::npos) << msg;
  std::filesystem::remove(path);
}

// An empty array, or items of absurd size, are answered at once: a (0, 1, 100000, 1000000) array
// once hung (as a 0 x 10^11 matrix, which Eigen copies column by column).
TEST(Npy, EmptyAndAbsurdShapesAreAnsweredAtOnce) {
  const std::string path = temp_path("aimc-npyempty");
  const auto start = std::chrono::steady_clock::now();
  write_raw_npy(path, "{'descr': '<f4', 'fortran_order': False, 'shape': (0, 1, 100000, 1000000), }", "");
  std::string msg = npy_error(path);
  EXPECT_EQ(msg, path + ": the array (0, 1, 100000, 1000000) holds no items");
  write_raw_npy(path, "{'descr': '<f4', 'fortran_order': False, 'shape': (0, 784), }", "");
  const NpyArray empty = read_npy(path);  // a valid empty array reads; as inputs it is refused
  EXPECT_EQ(empty.shape, (std::vector<int64_t>{0, 784}));
  EXPECT_TRUE(empty.data.empty());
  EXPECT_EQ(npy_error(path), path + ": the array (0, 784) holds no items");
  write_raw_npy(path, "{'descr': '<f4', 'fortran_order': False, 'shape': (5, 0), }", "");
  EXPECT_EQ(npy_error(path), path + ": the items of the array (5, 0) hold no values");
  write_raw_npy(path, "{'descr': '|u1', 'fortran_order': False, 'shape': (1, 3000000000), }",
                std::string(64, '\0'));
  msg = npy_error(path);
  EXPECT_EQ(msg.rfind(path + ": truncated", 0), 0u) << msg;
  write_raw_npy(path, "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 1048576, 1048576, 2), }", "");
  msg = npy_error(path);
  EXPECT_NE(msg.find("shape (1, 1048576, 1048576, 2) is too large (more than 2^40 values)"), std::string::npos) << msg;
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(), 2.0);
  std::filesystem::remove(path);
}

// Every fault of the header is refused naming the file and what is wrong with it.
TEST(Npy, MalformedHeadersNameFileAndFault) {
  const std::string path = temp_path("aimc-npyhdr");
  const std::string f4 = "{'descr': '<f4', 'fortran_order': False, 'shape': ";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {f4 + "(3,,4), }", "bad shape (3,,4) in the .npy header: entry 2 is empty"},
      {f4 + "(,), }", "bad shape (,) in the .npy header: entry 1 is empty"},
      {f4 + "(1, -784), }", "entry 2 '-784' is not a non-negative integer"},
      {f4 + "(1, 78x4), }", "entry 2 '78x4' is not a non-negative integer"},
      {f4 + "(1, 3.5), }", "entry 2 '3.5' is not a non-negative integer"},
      {f4 + "(99999999999999999999, 1), }", "entry 1 '99999999999999999999' does not fit in 64 bits"},
      {f4 + "(4294967296, 4294967296, 4), }", "shape (4294967296, 4294967296, 4) is too large"},
      {f4 + "'', }", "bad shape '' in the .npy header: expected a tuple such as (3, 4)"},
      {f4 + "7, }", "bad shape 7 in the .npy header: expected a tuple"},
      {"{'descr': '<f4', 'fortran_order': Maybe, 'shape': (1, 1), }", "fortran_order is 'Maybe', expected True or False"},
      {"{'descr': '>f4', 'fortran_order': False, 'shape': (1, 1), }", "dtype '>f4' is not supported"},
      {"{'descr': '<f4', 'shape': (1, 1), }", ".npy header has no 'fortran_order'"},
  };
  for (const auto& [dict, want] : cases) {
    write_raw_npy(path, dict, std::string(4, '\0'));
    const std::string msg = npy_error(path);
    EXPECT_EQ(msg.rfind(path + ": ", 0), 0u) << dict << " -> " << msg;
    EXPECT_NE(msg.find(want), std::string::npos) << dict << " -> " << msg;
  }
  // Data beyond what the shape says (another array appended, or a wrong shape).
  write_raw_npy(path, f4 + "(1, 2), }", std::string(12, '\0'));
  std::string msg = npy_error(path);
  EXPECT_NE(msg.find(path + ": unexpected data after the array: the header promises 2 values"), std::string::npos) << msg;
  // A version 2 header length of 4 GB, and a version 1 header longer than the file.
  {
    std::ofstream f(path, std::ios::binary | std::ios::trunc);
    f.write("\x93NUMPY\x02\x00\xf0\xff\xff\xff{'descr'", 20);
  }
  msg = npy_error(path);
  EXPECT_NE(msg.find(path + ": .npy header length 4294967280 bytes exceeds the limit"), std::string::npos) << msg;
  {
    std::ofstream f(path, std::ios::binary | std::ios::trunc);
    f.write("\x93NUMPY\x01\x00\x00\x10{'descr'", 18);
  }
  msg = npy_error(path);
  EXPECT_NE(msg.find(path + ": truncated .npy file: the header length is 4096 bytes but the file has 18 bytes"),
            std::string::npos) << msg;
  std::filesystem::remove(path);
  // A folder is not a .npy file.
  const std::string dir = temp_path("aimc-npydir");
  std::filesystem::create_directories(dir);
  msg = npy_error(dir);
  EXPECT_EQ(msg, dir + ": cannot open: it is a folder, not a .npy file");
  std::filesystem::remove(dir);
}

}  // namespace
}  // namespace aimc::compiler
