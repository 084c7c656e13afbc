// ONNX importer: reads a float MLP (a chain of Gemm | MatMul+Add, Relu, Flatten, Reshape) and
// folds it into dense layers. Anything the tiles cannot execute is refused with a ModelError that
// names the file, the node (index and name) and the op type.
#pragma once

#include <string>

#include "errors.h"
#include "graph.h"

namespace aimc::compiler {

Network import_onnx(const std::string& path);

}  // namespace aimc::compiler
