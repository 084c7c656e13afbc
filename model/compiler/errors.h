// Exceptions of the compiler. Each message names what it is about (file, node, layer, section)
// so that a user can act on it without a debugger.
#pragma once

#include <stdexcept>

namespace aimc::compiler {

// A model the importer refuses: missing/unreadable file, bad protobuf, unsupported op, shapes.
class ModelError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A network that cannot be compiled for a platform: too many tiles, SRAM or program memory too
// small, bad calibration data, unsupported quantization settings.
class CompileError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A deployment image that is malformed: bad magic/version, sections out of bounds, inconsistent
// program.
class ImageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// An IDX data set file that cannot be read.
class DatasetError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace aimc::compiler
