// Differential: the C driver's image checks (aimc_image_check, firmware_stubs/src/aimc_driver.c)
// against the C++ reader (compiler::parse_image) on the same bytes. The relation (docs/fuzzing.md):
//   A. what the reader accepts, the driver accepts, given a chip large enough (every tile index
//      below AIMC_TILE_NONE, unbounded SRAM): the driver's checks are all format checks the reader
//      makes too;
//   B. what the driver accepts (same chip), the reader accepts, or it refuses for one of the
//      checks the driver leaves to the chip (kContentChecks below: the META JSON, level values,
//      the program's ops, slices and tables);
//   C. aimc_load_image on a real-sized chip (12 tiles, 2 MiB SRAM) through a HAL that answers
//      every access: AIMC_E_IMAGE exactly when aimc_image_check refuses for that chip, else
//      AIMC_OK; under ASan this also walks the driver's loading of every image it accepts.
// A disagreement prints both verdicts and aborts (a finding).
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "aimc_driver.h"
#include "../support/accepting_hal.h"
#include "aimc_regs.h"
#include "compiler/errors.h"
#include "compiler/image.h"
#include "fuzz_common.h"

namespace {

// Reader refusals that are not the driver's business: the chip checks these when it loads or
// runs the image (the sequencer validates the program with the same function, program::
// check_program, on every doorbell). Any other refusal of an image the driver accepted is a
// disagreement on the format.
bool content_check(const std::string& msg) {
  // Refusals of a PROGRAM section that the driver makes as well (format, not content).
  static const char* const kProgramFormat[] = {"too small for a program header", "header counts",
                                               "tile must be AIMC_TILE_NONE", "beyond AIMC_MAX_SEGMENTS",
                                               "more than one PROGRAM section"};
  if (msg.find("(PROGRAM") != std::string::npos) {  // "section N (PROGRAM[ segment S]): ..."
    for (const char* f : kProgramFormat)
      if (msg.find(f) != std::string::npos) return false;
    return true;  // program::check_program: ops, slices, tables, the header fields it checks
  }
  static const char* const kContentChecks[] = {
      "not valid JSON",           // META is for tools; the driver does not read it
      "outside +-",               // a level beyond the cell's levels (WEIGHTS values)
      "is used by no slice",      // needs the program's slices
      "must have OUTPUT_I32",     // the program's ops
      "may have OUTPUT_I32",
  };
  for (const char* c : kContentChecks)
    if (msg.find(c) != std::string::npos) return true;
  return false;
}


constexpr uint32_t kChipTiles = 12;              // the 3x4 preset
constexpr uint32_t kChipSram = 2u << 20;         // its 2 MiB activation SRAM

[[noreturn]] void disagree(const char* relation, int driver_rc, bool reader_ok, const std::string& reader_msg) {
  std::fprintf(stderr, "fuzz_image_driver: the driver and the reader disagree (%s): driver %s (%d), reader %s%s\n",
               relation, driver_rc == AIMC_OK ? "accepts" : "refuses", driver_rc,
               reader_ok ? "accepts" : "refuses: ", reader_msg.c_str());
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::vector<uint8_t> bytes(data, data + size);
  bool reader_ok = false;
  std::string reader_msg;
  try {
    (void)aimc::compiler::parse_image(bytes);
    reader_ok = true;
  } catch (const aimc::compiler::ImageError& e) {
    reader_msg = e.what();
  } catch (const std::exception& e) {
    aimc::fuzz::finding("fuzz_image_driver", &e);
  } catch (...) {
    aimc::fuzz::finding("fuzz_image_driver", nullptr);
  }
  // The driver reads the image where it lies; an empty vector has no data pointer.
  const void* image = bytes.empty() ? static_cast<const void*>("") : bytes.data();
  const int large = aimc_image_check(image, size, AIMC_TILE_NONE, UINT64_MAX);
  if (reader_ok && large != AIMC_OK) disagree("A: the reader accepts", large, reader_ok, reader_msg);
  if (large == AIMC_OK && !reader_ok && !content_check(reader_msg))
    disagree("B: a format check only the reader makes", large, reader_ok, reader_msg);

  const int fits = aimc_image_check(image, size, kChipTiles, kChipSram);
  if (fits == AIMC_OK && large != AIMC_OK) disagree("a smaller chip accepts more", fits, reader_ok, reader_msg);
  aimc_dev_t dev;
  std::memset(&dev, 0, sizeof dev);
  dev.hal = {&aimc::test::accepting_hal::ops, nullptr};
  dev.version = 0x00010001u;
  dev.timeout_ns = 1000;
  dev.caps.tiles = kChipTiles;
  dev.caps.sram_bytes = kChipSram;
  const int loaded = aimc_load_image(&dev, image, size);
  if (loaded != (fits == AIMC_OK ? AIMC_OK : AIMC_E_IMAGE)) {
    std::fprintf(stderr, "fuzz_image_driver: aimc_load_image returned %d, aimc_image_check %d\n", loaded, fits);
    std::abort();
  }
  aimc_release(&dev);
  return 0;
}
