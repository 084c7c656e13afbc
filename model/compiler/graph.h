// Graph IR of the compiler: a chain of dense layers, which is what the tiles execute. The ONNX
// importer folds Gemm/MatMul/Add/Relu/Flatten/Reshape chains into it; forward() is the float
// reference every quantized result is compared with.
#pragma once

#include <Eigen/Dense>
#include <string>
#include <vector>

namespace aimc::compiler {

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
  std::string source;  // file it was imported from ("" if built in code)
  int in_features = 0;
  std::vector<DenseLayer> layers;

  int out_features() const { return layers.empty() ? in_features : layers.back().out_features(); }
  // Float reference: x is batch x in_features, the result batch x out_features.
  Eigen::MatrixXf forward(const Eigen::MatrixXf& x) const;
  // The float activations after every layer (index l = output of layer l).
  std::vector<Eigen::MatrixXf> forward_all(const Eigen::MatrixXf& x) const;
  long macs_per_inference() const;
  // Weights plus biases of every layer.
  long params() const;
  // Throws std::invalid_argument if shapes do not chain (in_features -> layer 0 -> layer 1 ...).
  void validate() const;
};

}  // namespace aimc::compiler
