// ONNX importer: reads a float CNN or MLP (Conv, Gemm, MatMul, pools, residual Add, Concat,
// Softmax and the reshapes between them) into a Graph. BatchNormalization and bias Adds fold into
// the producing convolution, Relu / Clip into the clamp of the producing op. Anything the chip
// cannot execute is refused with a ModelError naming the file, the node (index, name, op type)
// and the reason; so is what a malformed file holds: a missing input, dims whose product does not
// fit or that disagree with the data, absurd attributes (pads beyond 1024, kernels and strides
// beyond INT_MAX), an opset newer than the importer knows (21).
#pragma once

#include <string>

#include "errors.h"
#include "graph.h"

namespace aimc::compiler {

// Graph.name is the file's stem, Graph.source the path, tensor names the ONNX value names.
Graph import_onnx(const std::string& path);

}  // namespace aimc::compiler
