// The .npy reader (compiler/npy.h) on any bytes: NpyError naming the file, or an array whose rows
// as_rows() gives or refuses with NpyError.
#include "compiler/npy.h"
#include "fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = aimc::fuzz::as_file(data, size, ".npy");
  try {
    const aimc::compiler::NpyArray a = aimc::compiler::read_npy(path);
    (void)aimc::compiler::as_rows(a, path);
  } catch (const aimc::compiler::NpyError&) {
  } catch (const std::exception& e) {
    aimc::fuzz::finding("fuzz_npy", &e);
  } catch (...) {
    aimc::fuzz::finding("fuzz_npy", nullptr);
  }
  return 0;
}
