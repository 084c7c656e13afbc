// The .npy reader (compiler/npy.h) on any bytes: NpyError naming the file, or an array whose rows
// as_rows() gives or refuses with NpyError.
#include "compiler/npy.h"
#include "fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = aimc::fuzz::as_file(data, size, ".npy");
  aimc::fuzz::expect_only<aimc::compiler::NpyError>("fuzz_npy", [&] {
    (void)aimc::compiler::as_rows(aimc::compiler::read_npy(path), path);
  });
  return 0;
}
