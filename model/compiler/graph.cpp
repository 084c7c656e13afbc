#include "graph.h"

#include <stdexcept>

namespace aimc::compiler {

void Network::validate() const {
  int features = in_features;
  for (size_t l = 0; l < layers.size(); ++l) {
    const DenseLayer& layer = layers[l];
    if (layer.in_features() != features)
      throw std::invalid_argument("network '" + name + "': layer " + std::to_string(l) + " '" +
                                  layer.name + "' takes " + std::to_string(layer.in_features()) +
                                  " inputs but receives " + std::to_string(features));
    if (layer.bias.size() != layer.out_features())
      throw std::invalid_argument("network '" + name + "': layer '" + layer.name + "' has " +
                                  std::to_string(layer.bias.size()) + " biases for " +
                                  std::to_string(layer.out_features()) + " outputs");
    features = layer.out_features();
  }
}

std::vector<Eigen::MatrixXf> Network::forward_all(const Eigen::MatrixXf& x) const {
  if (x.cols() != in_features)
    throw std::invalid_argument("network '" + name + "': input has " + std::to_string(x.cols()) +
                                " features, expected " + std::to_string(in_features));
  std::vector<Eigen::MatrixXf> outs;
  outs.reserve(layers.size());
  const Eigen::MatrixXf* cur = &x;
  for (const DenseLayer& layer : layers) {
    Eigen::MatrixXf y = (*cur) * layer.weight.transpose();
    y.rowwise() += layer.bias.transpose();
    if (layer.relu) y = y.cwiseMax(0.0f);
    outs.push_back(std::move(y));
    cur = &outs.back();
  }
  return outs;
}

Eigen::MatrixXf Network::forward(const Eigen::MatrixXf& x) const {
  if (layers.empty()) return x;
  return forward_all(x).back();
}

long Network::macs_per_inference() const {
  long macs = 0;
  for (const DenseLayer& layer : layers) macs += long(layer.in_features()) * layer.out_features();
  return macs;
}

long Network::params() const {
  long n = 0;
  for (const DenseLayer& layer : layers) n += long(layer.weight.size()) + long(layer.bias.size());
  return n;
}

}  // namespace aimc::compiler
