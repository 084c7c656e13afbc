// The deployment-image reader (compiler/image.h: header, sections, weight blocks, the layer program
// through program::check_program) on any bytes: ImageError, or an image it accepts.
#include <vector>

#include "compiler/errors.h"
#include "compiler/image.h"
#include "fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::vector<uint8_t> bytes(data, data + size);
  aimc::fuzz::expect_only<aimc::compiler::ImageError>("fuzz_image",
                                                      [&] { (void)aimc::compiler::parse_image(bytes); });
  return 0;
}
