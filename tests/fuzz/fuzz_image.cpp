// The deployment-image reader (compiler/image.h: header, sections, weight blocks, the layer program
// through program::check_program) on any bytes: ImageError, or an image it accepts.
#include <vector>

#include "compiler/errors.h"
#include "compiler/image.h"
#include "fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::vector<uint8_t> bytes(data, data + size);
  try {
    (void)aimc::compiler::parse_image(bytes);
  } catch (const aimc::compiler::ImageError&) {
  } catch (const std::exception& e) {
    aimc::fuzz::finding("fuzz_image", &e);
  } catch (...) {
    aimc::fuzz::finding("fuzz_image", nullptr);
  }
  return 0;
}
