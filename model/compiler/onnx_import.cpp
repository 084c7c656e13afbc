// Loading an ONNX file into the graph IR: see onnx_importer.h; the op kinds are in onnx_ops.cpp.
#include "onnx_importer.h"

namespace aimc::compiler {

Graph import_onnx(const std::string& path) { return onnx_detail::Importer(path).run(); }

}  // namespace aimc::compiler
