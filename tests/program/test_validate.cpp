// The one layer-program validator (model/program/validate.h), on a small program built by hand:
// a dense 20 -> 10 layer cut into two row blocks on tiles 0 and 1, reduced on tile 0, then a
// softmax on tile 0's digital unit. Each test breaks one rule and checks the code, the argument
// (what the chip puts in ERR_ADDR) and the words. Plain C++: no SystemC, no compiler.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "program/validate.h"

namespace aimc::program {
namespace {

constexpr uint32_t kSram = 0x20000000u;

struct Fixture {
  aimc_program_hdr_t hdr{};
  std::vector<aimc_layer_t> layers;
  std::vector<aimc_slice_t> slices;
  std::vector<float> table;
  // Tiles 0 and 1 hold 10 x 10 blocks of levels (tile 1: 10 x 10 too); tile 2 exists, unprogrammed.
  std::vector<int16_t> levels0 = std::vector<int16_t>(100, 1), levels1 = std::vector<int16_t>(100, 2);
  bool with_levels = true;

  Fixture() {
    hdr.magic = AIMC_PROGRAM_MAGIC;
    hdr.in_features = 20;
    hdr.out_features = 10;
    hdr.in_addr = kSram;
    hdr.out_addr = kSram + 0x1000;
    hdr.in_scale = 0.5f;
    hdr.out_scale = 0.25f;
    hdr.dac_bits = 8;
    hdr.max_batch = 4;
    hdr.adc_bits = 8;
    hdr.bits_per_cell = 4;
    hdr.g_min_over_g_max = 0.125f;
    aimc_layer_t mvm{};
    mvm.kind = AIMC_OP_MVM;
    mvm.in_features = 20;
    mvm.out_features = 10;
    mvm.in_addr = kSram;
    mvm.in_stride = 20;
    mvm.out_addr = kSram + 0x800;
    mvm.out_stride = 10;
    mvm.first_slice = 0;
    mvm.slice_count = 2;
    mvm.adc_full_scale = 1.0f;
    mvm.acc_scale = 0.01f;
    mvm.out_quant_scale = 0.1f;
    mvm.in_h = mvm.in_w = mvm.out_h = mvm.out_w = 1;
    mvm.in_c = 20;
    mvm.out_c = mvm.out_pixel_channels = 10;
    mvm.kh = mvm.kw = mvm.stride_h = mvm.stride_w = 1;
    mvm.groups = 1;
    mvm.act_min = -std::numeric_limits<float>::infinity();
    mvm.act_max = std::numeric_limits<float>::infinity();
    aimc_layer_t sm = mvm;
    sm.kind = AIMC_OP_SOFTMAX;
    sm.in_features = sm.out_features = 10;
    sm.in_addr = kSram + 0x800;
    sm.in_stride = 10;
    sm.out_addr = hdr.out_addr;
    sm.out_stride = 40;
    sm.first_slice = sm.slice_count = 0;
    sm.in_c = 10;
    sm.in_scale = 0.1f;
    sm.out_quant_scale = hdr.out_scale;
    sm.flags = AIMC_LAYER_OUTPUT_I32;
    layers = {mvm, sm};
    slices = {{0, 0, 10, 0, 10, 0, 0, 0}, {1, 10, 10, 0, 10, 0, 0, 0}};
    table.assign(10, 0.5f);
  }

  ProgramView view() {
    hdr.layer_count = static_cast<uint32_t>(layers.size());
    hdr.slice_count = static_cast<uint32_t>(slices.size());
    hdr.bias_count = static_cast<uint32_t>(table.size());
    return {&hdr, layers.data(), slices.data(), table.data()};
  }
  TileLookup tiles() {
    return [this](uint32_t t, TileBlock& b) -> Problem {
      if (t > 2) return problem(AIMC_ERR_BAD_TILE, ArgKind::tile, t, "tile " + std::to_string(t) + " does not exist");
      if (t == 2) return problem(AIMC_ERR_NOT_PROGRAMMED, ArgKind::tile, t, "tile 2 holds no weights");
      b = {10, 10, with_levels ? (t == 0 ? levels0.data() : levels1.data()) : nullptr};
      return {};
    };
  }
  Machine machine(uint32_t batch = 2) const {
    Machine m;
    m.dac_bits = 8;
    m.adc_bits = 8;
    m.bits_per_cell = 4;
    m.g_min_over_g_max = 0.125f;
    m.sram_begin = kSram;
    m.sram_end = kSram + 0x2000;
    m.batch = batch;
    m.tile_count = 3;
    return m;
  }
  Problem check(const Machine* m = nullptr) { return check_program(view(), tiles(), m); }
};

void expect_problem(const Problem& p, uint32_t code, ArgKind kind, uint32_t arg, const std::string& words) {
  EXPECT_EQ(p.code, code) << p.message;
  EXPECT_EQ(static_cast<int>(p.arg_kind), static_cast<int>(kind)) << p.message;
  EXPECT_EQ(p.arg, arg) << p.message;
  EXPECT_NE(p.message.find(words), std::string::npos) << "expected '" << words << "' in: " << p.message;
}

TEST(Validate, TheHandBuiltProgramIsValidAloneAndOnTheMachine) {
  Fixture f;
  EXPECT_FALSE(f.check()) << f.check().message;
  const Machine m = f.machine();
  EXPECT_FALSE(f.check(&m)) << f.check(&m).message;
}

TEST(Validate, HeaderRules) {
  Fixture f;
  f.hdr.magic ^= 1;
  expect_problem(f.check(), AIMC_ERR_BAD_PROGRAM, ArgKind::program, 0, "bad program magic");
  f = Fixture();
  f.hdr.dac_bits = 9;
  expect_problem(f.check(), AIMC_ERR_BAD_PROGRAM, ArgKind::program, 0, "dac_bits 9 not in [1, 8]");
  f = Fixture();
  f.hdr.in_scale = std::nanf("");
  expect_problem(f.check(), AIMC_ERR_BAD_PROGRAM, ArgKind::program, 0, "in_scale/out_scale must be finite");
  f = Fixture();
  f.table[7] = std::numeric_limits<float>::infinity();
  expect_problem(f.check(), AIMC_ERR_BAD_PROGRAM, ArgKind::program, 0, "non-finite value in the table (entry 7)");
}

TEST(Validate, OpRulesNameTheOp) {
  Fixture f;
  f.layers[1].kind = 42;
  expect_problem(f.check(), AIMC_ERR_BAD_PROGRAM, ArgKind::op, 1, "op 1: unknown kind 42");
  f = Fixture();
  f.layers[0].acc_scale = -1.0f;
  expect_problem(f.check(), AIMC_ERR_BAD_PROGRAM, ArgKind::op, 0, "op 0: acc_scale must be finite and > 0");
  f = Fixture();
  f.layers[1].in_scale = std::numeric_limits<float>::infinity();
  expect_problem(f.check(), AIMC_ERR_BAD_PROGRAM, ArgKind::op, 1, "op 1: in_scale must be finite");
  f = Fixture();
  f.layers[0].out_c = f.layers[0].out_pixel_channels = 11;
  expect_problem(f.check(), AIMC_ERR_BAD_PROGRAM, ArgKind::op, 0, "out_features is not out_c");
  f = Fixture();
  f.layers[0].flags = AIMC_LAYER_OUTPUT_I32;
  f.layers[0].out_addr = f.hdr.out_addr;
  f.layers[0].out_quant_scale = f.hdr.out_scale;
  f.layers[0].out_stride = 40;
  expect_problem(f.check(), AIMC_ERR_BAD_PROGRAM, ArgKind::op, 0, "only the program's last op may have OUTPUT_I32");
  f = Fixture();
  f.layers[1].in_addr = f.hdr.out_addr + 8;  // the softmax would read what it writes
  expect_problem(f.check(), AIMC_ERR_BAD_PROGRAM, ArgKind::op, 1, "regions overlap at max_batch");
  f = Fixture();
  f.layers[0].bias_offset = 5;
  expect_problem(f.check(), AIMC_ERR_BAD_PROGRAM, ArgKind::op, 0, "bias range beyond the table");
}

TEST(Validate, SliceCoverageRules) {
  Fixture f;
  f.slices[1].row_begin = 9;  // rows 9..18 overlap slice 0's 0..9, row 19 uncovered
  expect_problem(f.check(), AIMC_ERR_BAD_PROGRAM, ArgKind::op, 0, "rows of its column block overlap or leave a gap");
  f = Fixture();
  f.slices[1].reduce_tile = 1;
  expect_problem(f.check(), AIMC_ERR_BAD_PROGRAM, ArgKind::op, 0,
                 "reduce_tile 1 is not the tile of the first row block of its columns");
  f = Fixture();
  f.slices[1].tile_row = 5;  // 10 rows from row 5 of a 10 x 10 block
  expect_problem(f.check(), AIMC_ERR_BAD_PROGRAM, ArgKind::tile, 1, "lies outside the 10x10 levels of tile 1");
  f = Fixture();
  f.slices[1].tile = 0;  // both blocks at (0, 0) of tile 0
  f.slices[1].reduce_tile = 0;
  expect_problem(f.check(), AIMC_ERR_BAD_PROGRAM, ArgKind::program, 0, "slices 0 and 1 overlap on tile 0");
  f = Fixture();
  f.slices.push_back(f.slices[0]);  // a third slice no op uses
  expect_problem(f.check(), AIMC_ERR_BAD_PROGRAM, ArgKind::program, 0, "slice 2 belongs to no op");
}

TEST(Validate, CopiesMustCutAndHoldTheSameWeights) {
  // Two copies: tiles 0+1 (copy 0) and, for copy 1, the same cut on tiles 1+0 at other rows.
  Fixture f;
  f.layers[0].replicas = 2;
  f.layers[0].slice_count = 4;
  f.slices = {{0, 0, 10, 0, 5, 0, 0, 0}, {1, 10, 10, 0, 5, 0, 0, 0},  // copy 0: columns 0..4 only
              {0, 0, 10, 0, 5, 0, 0, 5}, {1, 10, 10, 0, 5, 0, 0, 5}};
  f.layers[0].out_features = f.layers[0].out_c = f.layers[0].out_pixel_channels = 5;
  f.layers[1].in_c = f.layers[1].out_c = f.layers[1].out_pixel_channels = 5;
  f.layers[1].in_features = f.layers[1].out_features = 5;
  f.layers[0].out_stride = f.layers[1].in_stride = 5;
  f.layers[1].out_stride = 20;
  ASSERT_FALSE(f.check()) << f.check().message;
  f.levels0[7] = 3;  // copy 1's block on tile 0 starts at column 5: row 0, column 2 of the block
  expect_problem(f.check(), AIMC_ERR_BAD_PROGRAM, ArgKind::op, 0, "copy 1 holds other levels than copy 0 at row 0, column 2");
  f.with_levels = false;  // the chip holds conductances, not levels: the cut is all it can check
  EXPECT_FALSE(f.check()) << f.check().message;
  f.slices[2].col_count = 4;
  expect_problem(f.check(), AIMC_ERR_BAD_PROGRAM, ArgKind::op, 0, "copy 1 does not cut the matrix as copy 0");
}

TEST(Validate, MachineRules) {
  Fixture f;
  Machine m = f.machine();
  m.adc_bits = 6;
  expect_problem(f.check(&m), AIMC_ERR_BAD_PROGRAM, ArgKind::program, 0, "compiled for dac_bits 8, adc_bits 8");
  m = f.machine(0);
  expect_problem(f.check(&m), AIMC_ERR_BAD_BATCH, ArgKind::batch, 0, "batch 0 not in [1, max_batch = 4]");
  m = f.machine(5);
  expect_problem(f.check(&m), AIMC_ERR_BAD_BATCH, ArgKind::batch, 5, "batch 5");
  m = f.machine(4);
  m.sram_end = kSram + 0x1000 + 3 * 40 + 39;  // the softmax's 4th output ends one byte later
  expect_problem(f.check(&m), AIMC_ERR_BAD_PROGRAM, ArgKind::op, 1, "output map of the batch beyond the SRAM");
  m.sram_end += 1;
  EXPECT_FALSE(f.check(&m)) << f.check(&m).message;
  m.tile_count = 0;
  expect_problem(f.check(&m), AIMC_ERR_BAD_PROGRAM, ArgKind::op, 0, "unit 0 is not a tile of the chip (0 tiles)");
  m = f.machine();
  f.slices[1].tile = 2;  // exists, holds no weights
  expect_problem(f.check(&m), AIMC_ERR_NOT_PROGRAMMED, ArgKind::tile, 2, "op 0: slice 1: tile 2 holds no weights");
  f.slices[1].tile = 7;
  expect_problem(f.check(&m), AIMC_ERR_BAD_TILE, ArgKind::tile, 7, "op 0: slice 1: tile 7 does not exist");
}

// An MVM op quantized for bit-serial inputs carries BIT_SERIAL; its ADC ranges are those of one
// bit's partial sum, so it runs only on a bit-serial chip, and a bit-serial chip runs only such ops.
TEST(Validate, InputEncodingOfTheOpsMustBeTheChips) {
  Fixture f;
  Machine m = f.machine();
  f.layers[0].flags |= AIMC_LAYER_BIT_SERIAL;
  EXPECT_FALSE(f.check()) << f.check().message;  // alone: a valid program
  expect_problem(f.check(&m), AIMC_ERR_BAD_PROGRAM, ArgKind::op, 0, "quantized for bit-serial inputs");
  m.bit_serial = true;
  EXPECT_FALSE(f.check(&m)) << f.check(&m).message;
  f.layers[0].flags &= ~uint32_t(AIMC_LAYER_BIT_SERIAL);
  expect_problem(f.check(&m), AIMC_ERR_BAD_PROGRAM, ArgKind::op, 0, "the chip's input driver is bit_serial");
  f.layers[1].flags |= AIMC_LAYER_BIT_SERIAL;  // on the softmax: no MVM, no such flag
  expect_problem(f.check(), AIMC_ERR_BAD_PROGRAM, ArgKind::op, 1, "BIT_SERIAL on an op that is not an MVM");
}

// Sign-split reads likewise: SIGN_SPLIT ops on a chip with read_phases > 1, and never with BIT_SERIAL.
TEST(Validate, ReadPhasesOfTheOpsMustBeTheChips) {
  Fixture f;
  Machine m = f.machine();
  f.layers[0].flags |= AIMC_LAYER_SIGN_SPLIT;
  EXPECT_FALSE(f.check()) << f.check().message;
  expect_problem(f.check(&m), AIMC_ERR_BAD_PROGRAM, ArgKind::op, 0, "quantized for sign-split reads");
  m.sign_split = true;
  EXPECT_FALSE(f.check(&m)) << f.check(&m).message;
  f.layers[0].flags &= ~uint32_t(AIMC_LAYER_SIGN_SPLIT);
  expect_problem(f.check(&m), AIMC_ERR_BAD_PROGRAM, ArgKind::op, 0, "the chip's reads are sign-split");
  f.layers[0].flags |= AIMC_LAYER_SIGN_SPLIT | AIMC_LAYER_BIT_SERIAL;
  expect_problem(f.check(), AIMC_ERR_BAD_PROGRAM, ArgKind::op, 0, "SIGN_SPLIT with BIT_SERIAL");
}

}  // namespace
}  // namespace aimc::program

namespace aimc::program {
namespace {

// The fixture's softmax turned into a 2 x 1 max pooling of the MVM's 10 outputs (as 2 x 1 x 5).
Fixture with_maxpool() {
  Fixture f;
  aimc_layer_t& p = f.layers[1];
  p.kind = AIMC_OP_MAXPOOL;
  p.in_h = 2, p.in_w = 1, p.in_c = 5;
  p.out_h = p.out_w = 1, p.out_c = p.out_pixel_channels = 5;
  p.kh = 2, p.kw = 1, p.stride_h = 2, p.stride_w = 1;
  p.out_features = 5;
  f.hdr.out_features = 5;
  return f;
}

// Pads that wrap 32-bit arithmetic (0xFFFFFFFF + 1 = 0) with a stride that makes the 64-bit output
// size come out right: the numerics take such a window as pad -1 and stride INT_MIN.
TEST(Validate, WindowFieldsThatOverflowTheNumericsAreRefused) {
  Fixture f = with_maxpool();
  EXPECT_FALSE(f.check()) << f.check().message;
  aimc_layer_t& p = f.layers[1];
  p.pad_t = 0xFFFFFFFFu, p.pad_b = 1, p.stride_h = 0x80000000u;
  p.out_h = 3;  // (2 + 2^32 - 2) / 2^31 + 1
  p.out_features = 15;
  f.hdr.out_features = 15;
  p.out_stride = 60;
  expect_problem(f.check(), AIMC_ERR_BAD_PROGRAM, ArgKind::op, 1, "op 1: stride_h = 2147483648 above the limit of 65536");
  p.stride_h = 2;
  p.out_h = 1;
  expect_problem(f.check(), AIMC_ERR_BAD_PROGRAM, ArgKind::op, 1, "op 1: pad_t = 4294967295 above the limit");
  f = with_maxpool();
  f.layers[1].in_c = 70000;
  expect_problem(f.check(), AIMC_ERR_BAD_PROGRAM, ArgKind::op, 1, "in_c = 70000 above the limit");
  f = with_maxpool();
  f.layers[1].out_pixel_channels = 60000, f.layers[1].out_h = 60000, f.layers[1].out_w = 60000;
  expect_problem(f.check(), AIMC_ERR_BAD_PROGRAM, ArgKind::op, 1, "a map of more than 1073741824 elements");
}

// A pooling window wholly in the padding (a pad not below the window) holds no element: its max
// would be -inf, which no code represents (the device fuzzer's finding: such a program reached
// the output store). Pads below the window pass.
TEST(Validate, PoolingPadsMustBeBelowTheWindow) {
  for (const uint32_t kind : {uint32_t(AIMC_OP_MAXPOOL), uint32_t(AIMC_OP_AVGPOOL)}) {
    Fixture f = with_maxpool();
    aimc_layer_t& p = f.layers[1];
    p.kind = kind;
    if (kind == AIMC_OP_AVGPOOL) p.in_scale = 1.0f;
    p.pad_t = 1;  // below kh = 2: (2 + 1 - 2) / 2 + 1 = 1 row out
    EXPECT_FALSE(f.check()) << f.check().message;
    p.pad_t = 2;  // = kh: the first window is all padding; (2 + 2 - 2) / 2 + 1 = 2 rows out
    p.out_h = 2;
    p.out_features = 10;
    f.hdr.out_features = 10;
    p.out_stride = 40;
    expect_problem(f.check(), AIMC_ERR_BAD_PROGRAM, ArgKind::op, 1,
                   "op 1: pads (t 2, l 0, b 0, r 0) not below the 2x1 pooling window");
  }
}

// A clamp to +inf (or -inf) leaves no finite value: every output would be an infinity, which no
// code represents.
TEST(Validate, ClampsThatLeaveNoFiniteValueAreRefused) {
  const float inf = std::numeric_limits<float>::infinity();
  Fixture f;
  f.layers[0].act_min = f.layers[0].act_max = inf;
  expect_problem(f.check(), AIMC_ERR_BAD_PROGRAM, ArgKind::op, 0, "act_min must be below +inf");
  f = Fixture();
  f.layers[0].act_min = f.layers[0].act_max = -inf;
  expect_problem(f.check(), AIMC_ERR_BAD_PROGRAM, ArgKind::op, 0, "act_max above -inf");
  f = Fixture();
  f.layers[0].act_min = -inf, f.layers[0].act_max = 6.0f;  // one side open: a ReLU6-like clamp
  EXPECT_FALSE(f.check()) << f.check().message;
}


// Issue 20: an op's activation (flags bits 8-11) must be a known one, on an op that requantizes,
// with its parameters inside the table (after the MVM's 10 biases here); an ACT op must have one.
TEST(Validate, ActivationsAndTheirParameters) {
  auto act = [](aimc_layer_t& l, uint32_t a) { l.flags = (l.flags & ~uint32_t(AIMC_LAYER_ACT_MASK)) | (a << AIMC_LAYER_ACT_SHIFT); };
  Fixture f;
  act(f.layers[0], AIMC_ACT_SIGMOID);
  EXPECT_FALSE(f.check()) << f.check().message;
  act(f.layers[0], AIMC_ACT_COUNT);
  expect_problem(f.check(), AIMC_ERR_BAD_PROGRAM, ArgKind::op, 0, "op 0: unknown activation 11");
  act(f.layers[0], AIMC_ACT_LEAKY_RELU);  // alpha at bias_offset + out_c = 10: beyond a table of 10
  expect_problem(f.check(), AIMC_ERR_BAD_PROGRAM, ArgKind::op, 0,
                 "op 0: parameters of its activation (LeakyRelu) beyond the table");
  f.table.push_back(0.1f);
  EXPECT_FALSE(f.check()) << f.check().message;
  act(f.layers[0], AIMC_ACT_PRELU);  // one slope per output channel: 10 more floats
  EXPECT_TRUE(f.check());
  f.table.resize(20, 0.25f);
  EXPECT_FALSE(f.check()) << f.check().message;
  f.table.back() = std::numeric_limits<float>::quiet_NaN();  // the table holds no NaN
  EXPECT_TRUE(f.check());

  Fixture m = with_maxpool();
  act(m.layers[1], AIMC_ACT_TANH);
  expect_problem(m.check(), AIMC_ERR_BAD_PROGRAM, ArgKind::op, 1, "op 1: an activation on a MAXPOOL");

  Fixture a;  // the softmax op becomes an ACT op: it needs an activation, then it is fine
  a.layers[1].kind = AIMC_OP_ACT;
  expect_problem(a.check(), AIMC_ERR_BAD_PROGRAM, ArgKind::op, 1, "op 1: an ACT op without an activation");
  act(a.layers[1], AIMC_ACT_HARD_SIGMOID);  // alpha and beta at bias_offset 0 (not an MVM)
  EXPECT_FALSE(a.check()) << a.check().message;
  a.layers[1].bias_offset = 9;  // 9 + 2 > 10
  expect_problem(a.check(), AIMC_ERR_BAD_PROGRAM, ArgKind::op, 1, "beyond the table");
  a.layers[1].kind = AIMC_OP_MUL + 1;
  expect_problem(a.check(), AIMC_ERR_BAD_PROGRAM, ArgKind::op, 1, "unknown kind 9");

  // MUL: a second input of the whole map, or one value per channel (IN2_PER_CHANNEL, MUL only).
  Fixture mu;
  aimc_layer_t& l = mu.layers[1];
  l.kind = AIMC_OP_MUL;
  l.in2_addr = kSram + 0x1800, l.in2_stride = 10, l.in2_scale = 0.5f;
  const Machine m2 = mu.machine();
  EXPECT_FALSE(mu.check(&m2)) << mu.check(&m2).message;
  l.in2_stride = 9;
  expect_problem(mu.check(), AIMC_ERR_BAD_PROGRAM, ArgKind::op, 1, "in2_stride smaller than the second input map");
  l.in2_stride = 10, l.in2_scale = 0.0f;
  expect_problem(mu.check(), AIMC_ERR_BAD_PROGRAM, ArgKind::op, 1, "in2_scale must be finite and > 0");
  l.in2_scale = 0.5f, l.in2_addr = kSram + 0x2000 - 5;  // the batch's second input beyond the SRAM
  expect_problem(mu.check(&m2), AIMC_ERR_BAD_PROGRAM, ArgKind::op, 1, "second input map of the batch beyond the SRAM");
  mu.layers[0].flags |= AIMC_LAYER_IN2_PER_CHANNEL;
  expect_problem(mu.check(), AIMC_ERR_BAD_PROGRAM, ArgKind::op, 0, "IN2_PER_CHANNEL on an op that is not an ADD or a MUL");
  mu.layers[0].flags &= ~uint32_t(AIMC_LAYER_IN2_PER_CHANNEL);
  l.in2_addr = kSram + 0x1800, l.in2_stride = 3, l.flags |= AIMC_LAYER_IN2_PER_CHANNEL;  // 1 x 1 x in_c = 10 bytes
  expect_problem(mu.check(), AIMC_ERR_BAD_PROGRAM, ArgKind::op, 1, "in2_stride smaller than the second input map");
  l.in2_stride = 10, l.kind = AIMC_OP_ADD;  // a per-channel addend
  EXPECT_FALSE(mu.check(&m2)) << mu.check(&m2).message;

  // Per-column weight scales: MVM ops only, out_c of them after the biases; an activation's
  // parameters come after them.
  Fixture c;
  c.layers[0].flags |= AIMC_LAYER_COLUMN_SCALES;
  expect_problem(c.check(), AIMC_ERR_BAD_PROGRAM, ArgKind::op, 0, "op 0: column scales beyond the table");
  c.table.resize(20, 1.0f);
  EXPECT_FALSE(c.check()) << c.check().message;
  act(c.layers[0], AIMC_ACT_ELU);  // alpha at 10 + 10 = 20: beyond
  expect_problem(c.check(), AIMC_ERR_BAD_PROGRAM, ArgKind::op, 0, "beyond the table");
  c.table.push_back(1.0f);
  EXPECT_FALSE(c.check()) << c.check().message;
  c.layers[1].flags |= AIMC_LAYER_COLUMN_SCALES;
  expect_problem(c.check(), AIMC_ERR_BAD_PROGRAM, ArgKind::op, 1, "op 1: COLUMN_SCALES on an op that is not an MVM");
}

}  // namespace
}  // namespace aimc::program
