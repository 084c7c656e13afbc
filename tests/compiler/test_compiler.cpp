// Compiler tests: ONNX import (bundled model and refusals), IDX loader, tile mapping, the
// quantization arithmetic (re-derived here from the documented formulas, independently of
// quant_math.h), and the deployment image (round trip and corrupted files).
#include <gtest/gtest.h>
#include <onnx/onnx_pb.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <iostream>
#include <random>

#include "address_map.h"
#include "compile.h"
#include "dataset.h"
#include "image.h"
#include "npy.h"
#include "onnx_import.h"

namespace fs = std::filesystem;
using namespace aimc::compiler;
using aimc::config::PlatformConfig;

namespace {

std::string source_dir() {
  if (const char* d = std::getenv("AIMC_SOURCE_DIR")) return d;
  return AIMC_SOURCE_DIR_FALLBACK;
}
std::string model_path() { return source_dir() + "/platforms/models/fashion_mnist_mlp.onnx"; }
const std::string kData = "/usr/share/datasets/fashion-mnist/";

// A private scratch folder per test (tests may run in parallel processes).
fs::path scratch() {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  fs::path p = fs::temp_directory_path() /
               ("aimc_compiler_" + std::string(info->test_suite_name()) + "_" + info->name() + "_" + std::to_string(getpid()));
  fs::create_directories(p);
  return p;
}

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

// The chip's arithmetic, written again from docs/deployment-image.md (not from quant_math.h):
// codes -> per-slice currents -> ADC -> sum -> scale + bias -> ReLU -> next codes / int32.
Eigen::MatrixXi reference_run(const ImageView& img, const Eigen::MatrixXf& x, int adc_bits, double g_ratio) {
  const auto& p = img.program;
  const long cmax = (1L << p.dac_bits) - 1;
  const long A = (1L << (adc_bits - 1)) - 1;
  std::vector<std::vector<long>> codes(size_t(x.rows()), std::vector<long>(p.in_features));
  for (long v = 0; v < x.rows(); ++v)
    for (long i = 0; i < x.cols(); ++i)
      codes[v][i] = std::lround(std::min<double>(std::max<double>(std::round(x(v, i) / double(p.in_scale)), 0), cmax));
  std::vector<std::vector<long>> out;
  for (const auto& layer : img.layers) {
    out.assign(size_t(x.rows()), std::vector<long>(layer.out_features, 0));
    for (long v = 0; v < x.rows(); ++v) {
      std::vector<long> acc(layer.out_features, 0);
      for (uint32_t k = layer.first_slice; k < layer.first_slice + layer.slice_count; ++k) {
        const auto& s = img.slices[k];
        const auto& w = img.tile_weights(s.tile);
        const long lm = (1L << w.hdr.bits_per_cell) - 1;
        for (uint32_t c = 0; c < s.col_count; ++c) {
          long dot = 0;  // sum code * level; the current is dot * (1 - g_min/g_max) / (Cmax (L-1))
          for (uint32_t r = 0; r < s.row_count; ++r) dot += codes[v][s.row_begin + r] * w.level(r, c);
          double i = double(dot) * (1.0 - g_ratio) / (double(cmax) * double(lm));
          double code = std::round(i / double(layer.adc_full_scale) * double(A));
          acc[s.col_begin + c] += long(std::min<double>(std::max<double>(code, -A), A));
        }
      }
      for (uint32_t j = 0; j < layer.out_features; ++j) {
        double y = double(acc[j]) * double(layer.acc_scale) + double(img.bias[layer.bias_offset + j]);
        if (layer.flags & AIMC_LAYER_RELU) y = std::max(y, 0.0);
        double q = std::round(y / double(layer.out_quant_scale));
        out[v][j] = (layer.flags & AIMC_LAYER_OUTPUT_I32) ? long(q) : long(std::min<double>(std::max<double>(q, 0), cmax));
      }
    }
    codes = out;
  }
  Eigen::MatrixXi r(x.rows(), p.out_features);
  for (long v = 0; v < x.rows(); ++v)
    for (uint32_t j = 0; j < p.out_features; ++j) r(v, j) = int(out[v][j]);
  return r;
}

int argmax(const Eigen::RowVectorXf& r) {
  Eigen::Index i;
  r.maxCoeff(&i);
  return int(i);
}

}  // namespace

// ---------------------------------------------------------------- bundled model ----

TEST(OnnxImport, BundledModelShapesAndReferenceLogits) {
  Network net = import_onnx(model_path());
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
  // Reshape [N,2,3] -> [N,6], MatMul (float_data weights [6,4]), Add bias, Relu, Gemm transB=0 alpha/beta.
  OnnxBuilder b({1, 2, 3}, "y");
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
  Network net = import_onnx(path);
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
    for (int k = 0; k < 2; ++k) {
      float s = 0.5f * (k == 0 ? 1.0f : 2.0f);
      for (int j = 0; j < 4; ++j) s += 2.0f * h[j] * w2[j * 2 + k];
      EXPECT_NEAR(y(k), s, 1e-5);
    }
  }
}

TEST(OnnxImport, RefusesUnsupportedOpNamingNodeAndFile) {
  OnnxBuilder b({1, 1, 28, 28}, "y");
  b.node("Flatten", "flat", {"input"}, "x0");
  b.node("Conv", "conv1", {"x0"}, "y");
  std::string path = b.save(scratch() / "conv.onnx");
  std::string msg = error_of([&] { import_onnx(path); });
  EXPECT_NE(msg.find(path), std::string::npos) << msg;
  EXPECT_NE(msg.find("node 1 'conv1' (Conv)"), std::string::npos) << msg;
  EXPECT_NE(msg.find("unsupported op"), std::string::npos) << msg;
  EXPECT_NE(msg.find("Gemm, MatMul, Add, Relu, Flatten, Reshape"), std::string::npos) << msg;
  EXPECT_THROW(import_onnx(path), ModelError);
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

  // A valid protobuf with an empty graph.
  onnx::ModelProto empty;
  empty.mutable_graph()->set_name("g");
  std::string ep = (dir / "empty.onnx").string();
  {
    std::ofstream f(ep, std::ios::binary);
    empty.SerializeToOstream(&f);
  }
  msg = error_of([&] { import_onnx(ep); });
  EXPECT_NE(msg.find("empty graph"), std::string::npos) << msg;
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
    EXPECT_NE(msg.find("node 0 'mm' (MatMul)"), std::string::npos) << msg;
    EXPECT_NE(msg.find("INT32"), std::string::npos) << msg;
  }
  {
    OnnxBuilder b({1, 4}, "y");
    b.init("W", {4, 4}, iota_weights(16, 0.1f), true);
    b.node("MatMul", "a", {"input", "W"}, "h");
    b.node("Relu", "r1", {"h"}, "y");
    b.node("Relu", "r2", {"h"}, "z");  // a branch
    std::string msg = error_of([&] { import_onnx(b.save(dir / "branch.onnx")); });
    EXPECT_NE(msg.find("not a chain"), std::string::npos) << msg;
  }
  {
    OnnxBuilder b({1, 2, 2}, "y");
    b.init("W", {4, 2}, iota_weights(8, 0.1f), true);
    b.node("MatMul", "mm", {"input", "W"}, "y");
    std::string msg = error_of([&] { import_onnx(b.save(dir / "rank3.onnx")); });
    EXPECT_NE(msg.find("Flatten"), std::string::npos) << msg;
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
  Network net = import_onnx(model_path());
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
  Network net = random_network({64, 4096, 10}, 1);
  net.layers[0].name = "huge";
  net.layers[0].weight = Eigen::MatrixXf::Zero(4096, 4096);
  net.in_features = 4096;
  net.layers[1].weight = Eigen::MatrixXf::Zero(10, 4096);
  std::string msg = error_of([&] { plan_mapping(net, default_cfg()); });
  EXPECT_NE(msg.find("'huge'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("needs 121 tiles"), std::string::npos) << msg;
  EXPECT_NE(msg.find("has 12 tiles"), std::string::npos) << msg;
  EXPECT_THROW(compile(net, default_cfg(), random_inputs(4, 4096, 1)), CompileError);
}

TEST(Mapping, TinyArraysSplitInBothDirections) {
  PlatformConfig cfg = default_cfg();
  cfg.grid_rows = 4, cfg.grid_cols = 3;
  cfg.tile.array.rows = 16, cfg.tile.array.cols = 16;
  Network net = random_network({40, 30, 10}, 2);
  auto plan = plan_mapping(net, cfg);
  ASSERT_EQ(plan.size(), 8u);  // layer 0: 3 row x 2 col blocks; layer 1: 2 row blocks
  const int rb[] = {0, 14, 27}, rc[] = {14, 13, 13};
  for (int cb = 0; cb < 2; ++cb)
    for (int r = 0; r < 3; ++r) {
      const auto& s = plan[size_t(cb * 3 + r)];
      EXPECT_EQ(s.tile, cb * 3 + r);
      EXPECT_EQ(s.row_begin, rb[r]); EXPECT_EQ(s.row_count, rc[r]);
      EXPECT_EQ(s.col_begin, cb * 15); EXPECT_EQ(s.col_count, 15);
      EXPECT_EQ(s.reduce_tile, cb * 3);
    }
  EXPECT_EQ(plan[6].row_count, 15); EXPECT_EQ(plan[7].row_begin, 15); EXPECT_EQ(plan[7].reduce_tile, 6);

  // Compile and execute: the library's ideal run equals the formulas written here.
  Eigen::MatrixXf x = random_inputs(64, 40, 3);
  CompiledModel m = compile(net, cfg, x);
  EXPECT_EQ(m.tiles_used, 8);
  ImageView img = parse_image(m.image);
  EXPECT_EQ(img.weights.size(), 8u);
  EXPECT_EQ(img.tile_weights(2).hdr.rows, 13u);
  EXPECT_EQ(img.tile_weights(5).hdr.cols, 15u);
  IdealRun run = execute_ideal(img, x, cfg.tile.adc.bits, cfg.tile.device.g_min_ns / cfg.tile.device.g_max_ns);
  EXPECT_EQ(run.output, reference_run(img, x, cfg.tile.adc.bits, cfg.tile.device.g_min_ns / cfg.tile.device.g_max_ns));
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

TEST(Quantization, BundledModelKeepsAccuracy) {
  Network net = import_onnx(model_path());
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

TEST(Image, RoundTripThroughFile) {
  Network net = import_onnx(model_path());
  Dataset cal = load_idx(kData + "train-images-idx3-ubyte.gz", kData + "train-labels-idx1-ubyte.gz", 128);
  PlatformConfig cfg = default_cfg();
  CompiledModel m = compile(net, cfg, cal.images);
  fs::path p = scratch() / "m.aimg";
  write_file(p.string(), m.image);
  ImageView img = parse_image(read_file(p.string()));

  EXPECT_EQ(std::memcmp(img.header.magic, "AIMCIMG1", 8), 0);
  EXPECT_EQ(img.header.version, 1u);
  EXPECT_EQ(img.header.total_bytes, m.image.size());
  ASSERT_EQ(img.header.section_count, 6u);  // META, 4 x WEIGHTS, PROGRAM
  EXPECT_EQ(img.sections[0].type, uint32_t(AIMC_SECTION_META));
  EXPECT_EQ(img.sections[5].type, uint32_t(AIMC_SECTION_PROGRAM));
  EXPECT_EQ(img.program_dest_addr, aimc::kProgramMemoryBase);
  for (int t = 0; t < 4; ++t) {
    EXPECT_EQ(img.sections[size_t(1 + t)].type, uint32_t(AIMC_SECTION_WEIGHTS));
    EXPECT_EQ(img.sections[size_t(1 + t)].tile, uint32_t(t));
    EXPECT_EQ(img.tile_weights(uint32_t(t)).dest_addr, aimc::kStagingBufferBase);
  }
  for (const auto& s : img.sections) EXPECT_EQ(s.offset % 8, 0u);

  const auto& p_hdr = img.program;
  EXPECT_EQ(p_hdr.layer_count, 3u);
  EXPECT_EQ(p_hdr.slice_count, 4u);
  EXPECT_EQ(p_hdr.bias_count, 256u + 128 + 10);
  EXPECT_EQ(p_hdr.in_features, 784u);
  EXPECT_EQ(p_hdr.out_features, 10u);
  EXPECT_EQ(p_hdr.in_addr, aimc::kActivationSramBase);
  EXPECT_EQ(p_hdr.dac_bits, 8u);
  EXPECT_EQ(p_hdr.max_batch, uint32_t(m.max_batch));
  EXPECT_EQ(img.meta["max_batch"].get<int>(), m.max_batch);
  // 512 KiB over ping-pong buffers of 784 (input / layer-1 output) + 256 bytes per vector.
  EXPECT_EQ(m.max_batch, 504);
  EXPECT_FLOAT_EQ(p_hdr.in_scale, 1.0f / 255.0f);
  EXPECT_EQ(img.layers[0].in_stride, 784u);
  EXPECT_EQ(img.layers[0].out_stride, 256u);
  EXPECT_EQ(img.layers[2].out_stride, 40u);
  EXPECT_EQ(img.layers[2].out_addr, p_hdr.out_addr);
  EXPECT_EQ(img.layers[0].out_addr, img.layers[1].in_addr);
  EXPECT_EQ(img.layers[2].in_addr, img.layers[0].in_addr);  // ping-pong
  EXPECT_EQ(img.layers[0].flags, uint32_t(AIMC_LAYER_RELU));
  EXPECT_EQ(img.layers[2].flags, uint32_t(AIMC_LAYER_OUTPUT_I32));
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
  b[8] = 2;  // version
  expect_error(b, "version 2");
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
  expect_error(b, "no WEIGHTS section");
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
  // Program memory: 40 layers of 400 outputs on 1x1 arrays would need too many tiles first, so
  // use many wide layers on a big grid: 16 layers x 1024 biases = 64 KiB of biases alone.
  std::vector<int> sizes(17, 1024);
  Network big = random_network(sizes, 6);
  PlatformConfig huge = default_cfg();
  huge.grid_rows = 40, huge.grid_cols = 40;
  huge.tile.array.rows = huge.tile.array.cols = 1024;
  huge.sram.size_kib = 64;
  msg = error_of([&] { compile(big, huge, random_inputs(2, 1024, 6)); });
  EXPECT_NE(msg.find("program memory"), std::string::npos) << msg;
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
  const nlohmann::json p = placement_summary(plan_mapping(net, cfg), net, cfg);
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

}  // namespace
}  // namespace aimc::compiler
