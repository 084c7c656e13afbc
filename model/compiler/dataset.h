// IDX data sets (MNIST / Fashion-MNIST format), gzipped or plain: images as pixels / 255 in
// [0, 1], one row per image, so they can be fed to Network::forward and to compile().
#pragma once

#include <Eigen/Dense>
#include <string>
#include <vector>

#include "errors.h"

namespace aimc::compiler {

struct Dataset {
  Eigen::MatrixXf images;   // n x (rows * cols), pixels / 255 in [0, 1]
  std::vector<int> labels;  // n
  int image_rows = 0, image_cols = 0;
};

// Reads an idx3-ubyte image file and an idx1-ubyte label file (each gzipped or plain; detected by
// content, not by name). limit < 0 reads all, otherwise the first `limit` images. Throws
// DatasetError naming the file for missing files, bad magic numbers, truncated data or a count
// mismatch between images and labels.
Dataset load_idx(const std::string& images_path, const std::string& labels_path, long limit = -1);

}  // namespace aimc::compiler
