// The ONNX importer (compiler/onnx_import.h) on any bytes: ModelError naming the file or node, or
// a graph it accepts. A protobuf CHECK (an abort) is a finding like any other.
#include "compiler/errors.h"
#include "compiler/onnx_import.h"
#include "fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = aimc::fuzz::as_file(data, size, ".onnx");
  try {
    (void)aimc::compiler::import_onnx(path);
  } catch (const aimc::compiler::ModelError&) {
  } catch (const std::exception& e) {
    aimc::fuzz::finding("fuzz_onnx", &e);
  } catch (...) {
    aimc::fuzz::finding("fuzz_onnx", nullptr);
  }
  return 0;
}
