// NumPy .npy files (format versions 1.0-3.0), for model inputs and outputs of any shape: what a
// user's framework writes with numpy.save and reads with numpy.load. Only what inference needs:
// little-endian float32, float64 and uint8 arrays in C order are read (converted to float32);
// float32 arrays are written. A file is untrusted: its header is bounded (1 MiB), its shape must be
// a tuple of decimal entries of at most 2^40 values, and the file's size must be exactly what the
// header promises, all checked before the data is allocated.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <Eigen/Core>

#include "errors.h"

namespace aimc::compiler {

// A .npy file that cannot be read or written; the message names the file and the problem.
class NpyError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct NpyArray {
  std::vector<int64_t> shape;  // e.g. {N, C, H, W}; {} for a scalar
  std::vector<float> data;     // C order (row-major), product(shape) values
};

NpyArray read_npy(const std::string& path);

// The array as a matrix of shape[0] rows x product(shape[1:]) columns (row-major flattening of
// each item, which is how ONNX's Flatten sees an N x C x H x W tensor). Throws NpyError for a
// 0-d or 1-d array (say N x features), an array without items or with empty items, and items of
// more than INT_MAX values.
Eigen::MatrixXf as_rows(const NpyArray& a, const std::string& path);

// Writes `rows` (n x features) as a float32 array of shape {n, features}.
void write_npy(const std::string& path, const Eigen::MatrixXf& rows);

}  // namespace aimc::compiler
