// The ONNX importer (compiler/onnx_import.h) on any bytes: ModelError naming the file or node, or
// a graph it accepts. A protobuf CHECK (an abort) is a finding like any other.
#include "compiler/errors.h"
#include "compiler/onnx_import.h"
#include "fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = aimc::fuzz::as_file(data, size, ".onnx");
  aimc::fuzz::expect_only<aimc::compiler::ModelError>("fuzz_onnx",
                                                      [&] { (void)aimc::compiler::import_onnx(path); });
  return 0;
}
