// The one validator of a layer program (the PROGRAM section of a deployment image, format fixed
// by firmware_stubs/include/aimc_image.h). Plain C++, no SystemC, no compiler: the compiler's image
// reader (compiler/image.cpp), the chip's sequencer (chip/sequencer.cpp, on every doorbell, for
// programs that firmware DMAs in) and the tests all call check_program, so a program the reader
// accepts is one the chip runs and the other way round.
//
// What is checked:
//   - the header: counts, converter and cell parameters in range, scales finite and > 0;
//   - every op: kind and flags known, shapes consistent (windows, strides, channel ranges),
//     scales and clamps usable (a NaN scale has no output code), zero points among the DAC codes,
//     table ranges inside the float table, only the last op writes 32-bit outputs;
//   - every MVM op's slices: per copy of the weights, each output column in exactly one column
//     block whose slices have disjoint rows covering the rows of its groups, reduced on the tile of
//     its first row block; each slice inside its tile's block and used by one op only; copies cut
//     the matrix as copy 0 (and hold its levels, when the levels are known); no two slices overlap
//     on a tile;
//   - the float table has no NaN or infinity;
//   - when a Machine is given (the chip that runs the program): converter bits, bits per cell and
//     g_min/g_max equal the chip's, MVM ops are BIT_SERIAL exactly when the chip's input driver is,
//     the batch is in [1, max_batch], and every activation region of the batch lies in SRAM.
// The first problem found is returned, with the chip's error code (aimc_regs.h), the register
// argument it reports (op index, tile index or batch) and a sentence naming op and slice.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "aimc_image.h"
#include "aimc_regs.h"

namespace aimc::program {

// Records of one program, as laid out in its PROGRAM section; the counts are the header's.
struct ProgramView {
  const aimc_program_hdr_t* hdr = nullptr;
  const aimc_layer_t* layers = nullptr;  // hdr->layer_count
  const aimc_slice_t* slices = nullptr;  // hdr->slice_count
  const float* table = nullptr;          // hdr->bias_count (biases, digital weights)
};

// What the argument of a Problem is (the chip reports it in its ERR_ADDR register).
enum class ArgKind { program, op, tile, batch };

struct Problem {
  uint32_t code = AIMC_ERR_NONE;  // AIMC_ERR_BAD_PROGRAM, _BAD_TILE, _NOT_PROGRAMMED, _BAD_BATCH
  ArgKind arg_kind = ArgKind::program;
  uint32_t arg = 0;
  std::string message;  // "op 3: slice 7: rows beyond in_features"
  explicit operator bool() const { return code != AIMC_ERR_NONE; }
};

// The block of levels a tile holds for this program: rows x cols, and the levels themselves
// (row-major, int16) when they are known (in an image; not on the chip, which holds conductances).
struct TileBlock {
  uint32_t rows = 0, cols = 0;
  const int16_t* levels = nullptr;
};

// Looks tile `tile` up: fills `block` and returns no problem, or returns why the tile cannot serve
// (no WEIGHTS section in the image; no such tile or not programmed on the chip).
using TileLookup = std::function<Problem(uint32_t tile, TileBlock& block)>;

// Bounds on an op's sizes, so that the numerics' int arithmetic (map sizes, window sums, element
// counts) cannot wrap: every map dimension, window size, stride and pad at most kMaxMapSize, every
// map at most kMaxMapElements elements. Far above any SRAM a preset has (docs/deployment-image.md).
inline constexpr uint32_t kMaxMapSize = 65536;
inline constexpr uint64_t kMaxMapElements = uint64_t(1) << 30;

// The chip that is to run the program now.
struct Machine {
  uint32_t dac_bits = 0, adc_bits = 0, bits_per_cell = 0;
  float g_min_over_g_max = 0.0f;
  uint64_t sram_begin = 0, sram_end = 0;  // [begin, end) of the activation SRAM
  uint32_t batch = 0;                     // images in this command
  uint32_t tile_count = 0;                // tiles of the chip (digital ops run on tile `unit`)
  bool bit_serial = false;                // its input driver reads one input bit at a time
  bool sign_split = false;                // its reads convert the pairs' sides apart (read_phases > 1)
};

// The first problem of `p` (on `machine`, when given), or a Problem that converts to false.
Problem check_program(const ProgramView& p, const TileLookup& tiles, const Machine* machine = nullptr);

// Helpers for building Problems (used by the lookups of the callers).
Problem bad_program(ArgKind kind, uint32_t arg, std::string message);
Problem problem(uint32_t code, ArgKind kind, uint32_t arg, std::string message);

}  // namespace aimc::program
