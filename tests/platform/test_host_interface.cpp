// The host interface answers misuse as hardware would: a TLM error response or a flagged, ignored
// access, an error code and an error interrupt; the simulation goes on.
#include <gtest/gtest.h>

#include <cstddef>
#include <cstring>
#include <sys/resource.h>
#include <limits>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "aimc_regs.h"
#include "harness.h"

namespace aimc::testing {
namespace {

struct Regs {
  aimc_hal_t hal;
  uint32_t rd(uint32_t off) {
    uint32_t v = 0xDEADBEEF;
    EXPECT_EQ(hal.ops->read32(hal.ctx, off, &v), AIMC_HAL_OK) << "read " << off;
    return v;
  }
  void wr(uint32_t off, uint32_t v) {
    EXPECT_EQ(hal.ops->write32(hal.ctx, off, v), AIMC_HAL_OK) << "write " << off;
  }
};

TEST(HostInterface, IdentityAndCapabilitiesComeFromTheConfig) {
  Bench b(preset({"grid.rows=2", "tile.adc.bits=6"}));
  b.run([&](aimc_hal_t hal) {
    Regs r{hal};
    EXPECT_EQ(r.rd(AIMC_REG_ID), AIMC_CHIP_ID);
    const uint32_t grid = r.rd(AIMC_REG_CAPS_GRID);
    EXPECT_EQ((grid & AIMC_CAPS_GRID_ROWS_MASK) >> AIMC_CAPS_GRID_ROWS_SHIFT, 2u);
    EXPECT_EQ((grid & AIMC_CAPS_GRID_TILES_MASK) >> AIMC_CAPS_GRID_TILES_SHIFT, 8u);
    EXPECT_EQ((r.rd(AIMC_REG_CAPS_BITS) & AIMC_CAPS_BITS_ADC_MASK) >> AIMC_CAPS_BITS_ADC_SHIFT, 6u);
    aimc_dev_t dev;
    EXPECT_EQ(aimc_init(&dev, hal), AIMC_OK);
    EXPECT_EQ(dev.caps.array_rows, 400u);
  });
  EXPECT_TRUE(b.chip.cpu().finished());
}

TEST(HostInterface, UnmappedAndMisalignedAccessesAreBusErrors) {
  Bench b(preset());
  b.run([&](aimc_hal_t hal) {
    Regs r{hal};
    r.wr(AIMC_REG_IRQ_ENABLE, AIMC_IRQ_ERROR);
    uint32_t v = 0;
    EXPECT_EQ(hal.ops->read32(hal.ctx, 0x0F00, &v), AIMC_HAL_BUS_ERROR);  // no register there
    EXPECT_EQ(r.rd(AIMC_REG_ERROR_CODE), AIMC_ERR_UNMAPPED);
    EXPECT_EQ(r.rd(AIMC_REG_ERROR_ADDR), 0x0F00u);
    EXPECT_NE(r.rd(AIMC_REG_IRQ_STATUS) & AIMC_IRQ_ERROR, 0u);
    EXPECT_NE(r.rd(AIMC_REG_STATUS) & AIMC_STATUS_ERROR_MASK, 0u);
    r.wr(AIMC_REG_ERROR_CODE, 0xFFFFFFFFu);  // W1C clears
    r.wr(AIMC_REG_IRQ_STATUS, AIMC_IRQ_ERROR);
    EXPECT_EQ(r.rd(AIMC_REG_ERROR_CODE), AIMC_ERR_NONE);
    EXPECT_EQ(hal.ops->write32(hal.ctx, AIMC_REG_IRQ_ENABLE + 2, 1), AIMC_HAL_BUS_ERROR);
    EXPECT_EQ(r.rd(AIMC_REG_ERROR_CODE), AIMC_ERR_ACCESS);
    EXPECT_EQ(hal.ops->read32(hal.ctx, 0x10000, &v), AIMC_HAL_BUS_ERROR);  // past the bank
  });
  EXPECT_TRUE(b.chip.cpu().finished());
}

TEST(HostInterface, WrongSizeByteEnablesAndBurstsGetTheMatchingTlmErrors) {
  Bench b(preset());
  std::vector<tlm::tlm_response_status> got;
  std::vector<uint32_t> codes;
  b.run([&](aimc_hal_t hal) {
    Regs r{hal};
    auto send = [&](unsigned len, unsigned streaming, unsigned char* be, unsigned be_len) {
      uint8_t data[8] = {0};
      tlm::tlm_generic_payload gp;
      gp.set_command(tlm::TLM_READ_COMMAND);
      gp.set_address(AIMC_REG_SCRATCH);
      gp.set_data_ptr(data);
      gp.set_data_length(len);
      gp.set_streaming_width(streaming);
      gp.set_byte_enable_ptr(be);
      gp.set_byte_enable_length(be_len);
      got.push_back(b.chip.cpu().raw_access(gp));
      codes.push_back(r.rd(AIMC_REG_ERROR_CODE));
      r.wr(AIMC_REG_ERROR_CODE, 0xFFFFFFFFu);
    };
    send(2, 2, nullptr, 0);  // a 16-bit access
    send(8, 8, nullptr, 0);  // a 64-bit access
    unsigned char be[4] = {0xFF, 0, 0xFF, 0};
    send(4, 4, be, 4);       // byte enables
    send(8, 4, nullptr, 0);  // a streaming burst
    send(4, 4, nullptr, 0);  // and a correct one still works
  });
  ASSERT_EQ(got.size(), 5u);
  EXPECT_EQ(got[0], tlm::TLM_COMMAND_ERROR_RESPONSE);
  EXPECT_EQ(got[1], tlm::TLM_COMMAND_ERROR_RESPONSE);
  EXPECT_EQ(got[2], tlm::TLM_BYTE_ENABLE_ERROR_RESPONSE);
  EXPECT_EQ(got[3], tlm::TLM_BURST_ERROR_RESPONSE);
  EXPECT_EQ(got[4], tlm::TLM_OK_RESPONSE);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(codes[i], AIMC_ERR_ACCESS) << i;
  EXPECT_EQ(codes[4], AIMC_ERR_NONE);
  EXPECT_TRUE(b.chip.cpu().finished());
}

TEST(HostInterface, ReadOnlyWriteIsIgnoredAndFlagged) {
  Bench b(preset());
  b.run([&](aimc_hal_t hal) {
    Regs r{hal};
    r.wr(AIMC_REG_ID, 0x12345678u);  // the access itself succeeds
    EXPECT_EQ(r.rd(AIMC_REG_ID), AIMC_CHIP_ID);
    EXPECT_EQ(r.rd(AIMC_REG_ERROR_CODE), AIMC_ERR_RO_WRITE);
    EXPECT_EQ(r.rd(AIMC_REG_ERROR_ADDR), static_cast<uint32_t>(AIMC_REG_ID));
  });
}

TEST(HostInterface, DmaOutsideMemoryFaultsAndWritesNothing) {
  Bench b(preset());
  std::vector<uint8_t> before(64), after(64);
  std::memcpy(before.data(), b.chip.sram().data() + b.chip.sram().size_bytes() - 64, 64);
  int rc = -99;
  aimc_dev_t dev;
  b.run([&](aimc_hal_t hal) {
    ASSERT_EQ(aimc_init(&dev, hal), AIMC_OK);
    aimc_dma_buf_t buf;
    ASSERT_EQ(hal.ops->dma_alloc(hal.ctx, 256, &buf), AIMC_HAL_OK);
    std::memset(buf.cpu, 0xAB, 256);
    // 256 bytes starting 64 bytes before the end of the SRAM: the tail is unmapped.
    const uint32_t addr = AIMC_SRAM_BASE + static_cast<uint32_t>(b.chip.sram().size_bytes()) - 64;
    rc = aimc_dma(&dev, &buf, 0, addr, 256, 0);
    Regs r{hal};
    EXPECT_EQ(r.rd(AIMC_REG_DMA_STATUS), AIMC_STATE_ERROR);
  });
  EXPECT_EQ(rc, AIMC_E_DEVICE);
  EXPECT_EQ(dev.device_error, AIMC_ERR_DMA_FAULT);
  std::memcpy(after.data(), b.chip.sram().data() + b.chip.sram().size_bytes() - 64, 64);
  EXPECT_EQ(before, after);  // nothing was written
}

TEST(HostInterface, CommandWhileBusyIsRejected) {
  Bench b(preset());
  b.run([&](aimc_hal_t hal) {
    aimc_dev_t dev;
    ASSERT_EQ(aimc_init(&dev, hal), AIMC_OK);
    aimc_dma_buf_t buf;
    ASSERT_EQ(hal.ops->dma_alloc(hal.ctx, 65536, &buf), AIMC_HAL_OK);
    Regs r{hal};
    r.wr(AIMC_REG_DMA_HOST_ADDR, buf.bus_addr);
    r.wr(AIMC_REG_DMA_DEV_ADDR, AIMC_SRAM_BASE);
    r.wr(AIMC_REG_DMA_LEN, 65536);
    r.wr(AIMC_REG_DMA_CTRL, 0);
    r.wr(AIMC_REG_DMA_START, 1);
    r.wr(AIMC_REG_DMA_START, 1);  // the first is still running
    EXPECT_NE(r.rd(AIMC_REG_STATUS) & AIMC_STATUS_DMA_BUSY_MASK, 0u);
    EXPECT_EQ(r.rd(AIMC_REG_ERROR_CODE), AIMC_ERR_BUSY);
    r.wr(AIMC_REG_ERROR_CODE, 0xFFFFFFFFu);
    r.wr(AIMC_REG_IRQ_STATUS, 0xFFFFFFFFu);
    EXPECT_EQ(aimc_wait_done(&dev, AIMC_IRQ_DMA_DONE), AIMC_OK);  // the first completes
    EXPECT_EQ(r.rd(AIMC_REG_DMA_STATUS), AIMC_STATE_DONE);
  });
  EXPECT_TRUE(b.chip.cpu().finished());
}

TEST(HostInterface, InferenceWithoutWeightsIsAnError) {
  Bench b(preset());
  b.run([&](aimc_hal_t hal) {
    aimc_dev_t dev;
    ASSERT_EQ(aimc_init(&dev, hal), AIMC_OK);
    EXPECT_EQ(aimc_infer(&dev, nullptr, 1, nullptr), AIMC_E_ARG);
    uint8_t codes[4] = {0};
    int32_t out[4];
    EXPECT_EQ(aimc_infer(&dev, codes, 1, out), AIMC_E_STATE);  // driver: no image loaded
    Regs r{hal};
    r.wr(AIMC_REG_SEQ_PROG_ADDR, AIMC_SEQ_MEM_BASE);  // the chip itself: no valid program
    r.wr(AIMC_REG_SEQ_BATCH, 1);
    r.wr(AIMC_REG_SEQ_START, 1);
    EXPECT_EQ(aimc_wait_done(&dev, AIMC_IRQ_INFER_DONE), AIMC_E_DEVICE);
    EXPECT_EQ(dev.device_error, AIMC_ERR_BAD_PROGRAM);
  });
  EXPECT_TRUE(b.chip.cpu().finished());
}

long peak_rss_kib() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss;
}

// A DMA length near 4 GiB is a fault, found without touching memory of that size (it used to
// allocate and zero-fill the length first: 3.8 GB in `aimc serve`). Both directions, and a range
// that starts in memory and ends beyond it.
TEST(HostInterface, HugeDmaLengthFaultsWithoutAllocatingIt) {
  Bench b(preset());
  const long before = peak_rss_kib();
  std::vector<uint32_t> errors;
  b.run([&](aimc_hal_t hal) {
    aimc_dev_t dev;
    ASSERT_EQ(aimc_init(&dev, hal), AIMC_OK);
    aimc_dma_buf_t buf;
    ASSERT_EQ(hal.ops->dma_alloc(hal.ctx, 4096, &buf), AIMC_HAL_OK);
    for (uint32_t dir : {0u, 1u}) {
      wr(hal, AIMC_REG_DMA_HOST_ADDR, buf.bus_addr);
      wr(hal, AIMC_REG_DMA_DEV_ADDR, AIMC_SRAM_BASE);
      wr(hal, AIMC_REG_DMA_LEN, 0xE0000000u);
      wr(hal, AIMC_REG_DMA_CTRL, dir);
      wr(hal, AIMC_REG_DMA_START, 1);
      aimc_wait_done(&dev, AIMC_IRQ_DMA_DONE);
      errors.push_back(dev.device_error);
      take_error(hal);
    }
  });
  EXPECT_EQ(errors, (std::vector<uint32_t>{AIMC_ERR_DMA_FAULT, AIMC_ERR_DMA_FAULT}));
  // The chip's own memories are a few MiB; 3.5 GiB would show as such.
  EXPECT_LT(peak_rss_kib() - before, 256 * 1024) << "peak RSS grew by " << (peak_rss_kib() - before) << " KiB";
}

// The driver refuses an image whose program header has an infinite or NaN input or output scale
// (an infinite in_scale passed its `> 0` check and quantized every input to the zero code).
TEST(HostInterface, DriverRefusesNonFiniteProgramScales) {
  Bench b(preset());
  const compiler::CompiledModel cm = bundled(b.cfg);
  aimc_image_header_t ih;
  std::memcpy(&ih, cm.image.data(), sizeof ih);
  size_t program_at = 0;
  for (uint32_t i = 0; i < ih.section_count; ++i) {
    aimc_image_section_t sec;
    std::memcpy(&sec, cm.image.data() + sizeof ih + i * sizeof sec, sizeof sec);
    if (sec.type == AIMC_SECTION_PROGRAM && sec.segment == 0) program_at = static_cast<size_t>(sec.offset);
  }
  ASSERT_NE(program_at, 0u);
  const float bad[] = {std::numeric_limits<float>::infinity(), std::numeric_limits<float>::quiet_NaN()};
  std::vector<int> rcs;
  b.run([&](aimc_hal_t hal) {
    aimc_dev_t dev;
    ASSERT_EQ(aimc_init(&dev, hal), AIMC_OK);
    rcs.push_back(aimc_load_image(&dev, cm.image.data(), cm.image.size()));  // the image as compiled
    // The tiles now hold its weights: attaching an edited copy reaches its program header.
    for (size_t field : {offsetof(aimc_program_hdr_t, in_scale), offsetof(aimc_program_hdr_t, out_scale)})
      for (float v : bad) {
        std::vector<uint8_t> image = cm.image;
        std::memcpy(image.data() + program_at + field, &v, sizeof v);
        ASSERT_EQ(aimc_init(&dev, hal), AIMC_OK);
        rcs.push_back(aimc_attach_image(&dev, image.data(), image.size()));
      }
    ASSERT_EQ(aimc_init(&dev, hal), AIMC_OK);
    rcs.push_back(aimc_attach_image(&dev, cm.image.data(), cm.image.size()));
  });
  EXPECT_EQ(rcs, (std::vector<int>{AIMC_OK, AIMC_E_IMAGE, AIMC_E_IMAGE, AIMC_E_IMAGE, AIMC_E_IMAGE, AIMC_OK}));
}

// A one-op program for the chip of `cfg`: a 2 x 1 max pooling of a 2 x 1 x 5 map in SRAM, output
// as int32. Needs no tiles, so it runs on a chip without weights.
std::vector<uint8_t> maxpool_program(const config::PlatformConfig& cfg, void (*edit)(aimc_layer_t&) = nullptr) {
  aimc_program_hdr_t h{};
  h.magic = AIMC_PROGRAM_MAGIC;
  h.layer_count = 1;
  h.in_features = 10;
  h.out_features = 5;
  h.in_addr = AIMC_SRAM_BASE;
  h.out_addr = AIMC_SRAM_BASE + 0x100;
  h.in_scale = h.out_scale = 0.5f;
  h.dac_bits = static_cast<uint32_t>(cfg.tile.dac.bits);
  h.max_batch = 1;
  h.adc_bits = static_cast<uint32_t>(cfg.tile.adc.bits);
  h.bits_per_cell = static_cast<uint32_t>(cfg.tile.device.bits_per_cell);
  h.g_min_over_g_max = static_cast<float>(cfg.tile.device.g_min_ns / cfg.tile.device.g_max_ns);
  aimc_layer_t l{};
  l.kind = AIMC_OP_MAXPOOL;
  l.flags = AIMC_LAYER_OUTPUT_I32;
  l.in_features = 10, l.out_features = 5;
  l.in_addr = h.in_addr, l.in_stride = 10;
  l.out_addr = h.out_addr, l.out_stride = 20;
  l.out_quant_scale = h.out_scale;
  l.in_h = 2, l.in_w = 1, l.in_c = 5;
  l.out_h = l.out_w = 1, l.out_c = l.out_pixel_channels = 5;
  l.kh = 2, l.kw = 1, l.stride_h = 2, l.stride_w = 1;
  l.act_min = -std::numeric_limits<float>::infinity();
  l.act_max = std::numeric_limits<float>::infinity();
  if (edit) edit(l);
  std::vector<uint8_t> bytes(sizeof h + sizeof l);
  std::memcpy(bytes.data(), &h, sizeof h);
  std::memcpy(bytes.data() + sizeof h, &l, sizeof l);
  return bytes;
}

// Copies `program` into the sequencer's memory and rings the doorbell for one image; returns what
// aimc_wait_done said.
int run_program(aimc_dev_t& dev, aimc_hal_t hal, const std::vector<uint8_t>& program) {
  aimc_dma_buf_t buf;
  EXPECT_EQ(hal.ops->dma_alloc(hal.ctx, program.size(), &buf), AIMC_HAL_OK);
  std::memcpy(buf.cpu, program.data(), program.size());
  EXPECT_EQ(aimc_dma(&dev, &buf, 0, AIMC_SEQ_MEM_BASE, static_cast<uint32_t>(program.size()), 0), AIMC_OK);
  hal.ops->dma_free(hal.ctx, &buf);
  wr(hal, AIMC_REG_SEQ_PROG_ADDR, AIMC_SEQ_MEM_BASE);
  wr(hal, AIMC_REG_SEQ_BATCH, 1);
  wr(hal, AIMC_REG_SEQ_START, 1);
  return aimc_wait_done(&dev, AIMC_IRQ_INFER_DONE);
}

// What a program the chip must refuse gave, and then a good MAXPOOL program on the same chip.
struct RefusedThenGood {
  int rc = -99, good_rc = -99;
  uint32_t error = 0;
  std::string problem;  // the sequencer's last_problem() after the refused one
};

RefusedThenGood run_refused_then_good(Bench& b, const std::vector<uint8_t>& bad) {
  RefusedThenGood r;
  b.run([&](aimc_hal_t hal) {
    aimc_dev_t dev;
    ASSERT_EQ(aimc_init(&dev, hal), AIMC_OK);
    r.rc = run_program(dev, hal, bad);
    r.error = dev.device_error;
    r.problem = b.chip.sequencer().last_problem();
    take_error(hal);
    r.good_rc = run_program(dev, hal, maxpool_program(b.cfg));
  });
  return r;
}

// Pads that wrap 32-bit arithmetic (0xFFFFFFFF + 1) with a stride that makes the output size come
// out right passed the sequencer's checks, and the numerics then threw inside the sequencer's
// SystemC thread, which ended the simulation (and `aimc serve` with its client). Now the program is
// refused with ERR_BAD_PROGRAM and the chip runs the next one.
TEST(HostInterface, MaxPoolWithWrappingPadsIsRefusedAndTheChipGoesOn) {
  Bench b(preset());
  const RefusedThenGood r = run_refused_then_good(b, maxpool_program(b.cfg, [](aimc_layer_t& l) {
    l.pad_t = 0xFFFFFFFFu, l.pad_b = 1, l.stride_h = 0x80000000u;
    l.out_h = 3, l.out_features = 15, l.out_stride = 60;
  }));
  EXPECT_EQ(r.rc, AIMC_E_DEVICE);
  EXPECT_EQ(r.error, AIMC_ERR_BAD_PROGRAM);
  EXPECT_NE(r.problem.find("stride_h = 2147483648 above the limit"), std::string::npos) << r.problem;
  EXPECT_EQ(r.good_rc, AIMC_OK);
  EXPECT_TRUE(b.chip.cpu().finished());
}

// An op's input stride far larger than its map (allowed: only the batch's regions must lie in
// SRAM) made the sequencer read, and allocate, stride * batch bytes: 2.4 GB for this ADD (found by
// the device fuzzer as an out-of-memory). Now it reads each image's map alone.
TEST(HostInterface, HugeInputStrideDoesNotAllocateIt) {
  Bench b(preset());
  const long before = peak_rss_kib();
  int rc = -99;
  b.run([&](aimc_hal_t hal) {
    aimc_dev_t dev;
    ASSERT_EQ(aimc_init(&dev, hal), AIMC_OK);
    std::vector<uint8_t> program = maxpool_program(b.cfg, [](aimc_layer_t& l) {
      l.kind = AIMC_OP_ADD;  // y = x1 + x2 on a 2 x 1 x 5 map, the second input 2.2 GiB apart
      l.out_h = 2, l.out_features = 10, l.out_stride = 40;
      l.kh = l.kw = l.stride_h = l.stride_w = 1;
      l.in_scale = l.in2_scale = 0.5f;
      l.in2_addr = AIMC_SRAM_BASE + 0x200, l.in2_stride = 0x8C8C8C8Cu;
    });
    rc = run_program(dev, hal, program);
  });
  EXPECT_EQ(rc, AIMC_OK);
  EXPECT_LT(peak_rss_kib() - before, 256 * 1024) << "peak RSS grew by " << (peak_rss_kib() - before) << " KiB";
}

// A program with the magic and no ops is refused (check_program: "no ops"); loading it copied
// its zero ops from a null pointer (undefined behaviour, reported by UndefinedBehaviorSanitizer:
// found by the device fuzzer; this test fails before the fix in a build with -fsanitize=undefined).
TEST(HostInterface, ProgramWithoutOpsIsRefused) {
  Bench b(preset());
  std::vector<uint8_t> program = maxpool_program(b.cfg);
  const uint32_t none = 0;
  std::memcpy(program.data() + offsetof(aimc_program_hdr_t, layer_count), &none, sizeof none);
  const RefusedThenGood r = run_refused_then_good(b, program);
  EXPECT_EQ(r.rc, AIMC_E_DEVICE);
  EXPECT_EQ(r.error, AIMC_ERR_BAD_PROGRAM);
  EXPECT_NE(r.problem.find("no ops"), std::string::npos) << r.problem;
  EXPECT_EQ(r.good_rc, AIMC_OK);
}

// Whatever throws inside a command (here the command's timing sink, standing in for any case the
// model does not handle) fails that command with an error code and the error interrupt; the
// simulation goes on and the next command runs.
TEST(HostInterface, AnExceptionInsideACommandFailsThatCommandOnly) {
  Bench b(preset());
  int calls = 0;
  b.chip.sequencer().set_command_sink([&](const chip::Sequencer::CommandTiming&) {
    if (++calls == 1) throw std::runtime_error("injected fault");
  });
  const RefusedThenGood r = run_refused_then_good(b, maxpool_program(b.cfg));
  EXPECT_EQ(r.rc, AIMC_E_DEVICE);
  EXPECT_EQ(r.error, AIMC_ERR_BAD_PROGRAM);
  EXPECT_NE(r.problem.find("injected fault"), std::string::npos) << r.problem;
  EXPECT_EQ(r.good_rc, AIMC_OK);
  EXPECT_EQ(calls, 2);
  EXPECT_TRUE(b.chip.cpu().finished());
}

// An exception from the firmware entry (host C++) stops the simulation and reaches the caller of
// sc_start, instead of unwinding through the SystemC kernel.
TEST(HostInterface, AnExceptionFromTheFirmwareReachesTheCaller) {
  Bench b(preset());
  EXPECT_THROW(b.run([&](aimc_hal_t) { throw std::runtime_error("firmware gave up"); }), std::runtime_error);
  EXPECT_FALSE(b.chip.cpu().finished());
}

// CTRL.FULL_RESET returns every register to its reset value, the result registers of the last
// programming and inference commands included, and restarts PERF_TIME_NS with the other counters
// (found by the device fuzzer, tests/fuzz: they kept the previous command's counts and the time
// since power-on, so an `aimc serve` client read the previous client's results and run time).
TEST(HostInterface, FullResetClearsTheLastCommandsResultsAndRestartsTime) {
  Bench b(preset());
  const std::vector<std::pair<const char*, uint32_t>> results = {
      {"PROG_CELLS", AIMC_REG_PROG_CELLS},         {"PROG_READ_PS", AIMC_REG_PROG_READ_PS},
      {"PROG_VERIFY_FAILS", AIMC_REG_PROG_VERIFY_FAILS}, {"PROG_PULSES", AIMC_REG_PROG_PULSES},
      {"PROG_UNCONVERGED", AIMC_REG_PROG_UNCONVERGED}, {"PROG_ITER_MAX", AIMC_REG_PROG_ITER_MAX},
      {"SEQ_LATENCY_NS", AIMC_REG_SEQ_LATENCY_NS}};
  std::vector<uint32_t> before, after;
  uint32_t time_before = 0, time_after = 0xFFFFFFFFu, time_hi_after = 0xFFFFFFFFu;
  b.run([&](aimc_hal_t hal) {
    aimc_dev_t dev;
    ASSERT_EQ(aimc_init(&dev, hal), AIMC_OK);
    // A 2 x 2 block programmed with one pulse per cell and no tolerance: pulses, unconverged cells.
    const aimc_weights_hdr_t w{2, 2, static_cast<uint32_t>(b.cfg.tile.device.bits_per_cell), 0};
    const int16_t levels[4] = {10, -10, 5, 0};
    aimc_dma_buf_t buf;
    ASSERT_EQ(hal.ops->dma_alloc(hal.ctx, sizeof w + sizeof levels, &buf), AIMC_HAL_OK);
    std::memcpy(buf.cpu, &w, sizeof w);
    std::memcpy(static_cast<uint8_t*>(buf.cpu) + sizeof w, levels, sizeof levels);
    ASSERT_EQ(aimc_dma(&dev, &buf, 0, AIMC_STAGING_BASE, sizeof w + sizeof levels, 0), AIMC_OK);
    wr(hal, AIMC_REG_PROG_MAX_ITER, 1);
    wr(hal, AIMC_REG_PROG_TOL_REL_PPM, 0);
    wr(hal, AIMC_REG_PROG_TOLERANCE_PPM, 0);
    wr(hal, AIMC_REG_PROG_TILE, 0);
    wr(hal, AIMC_REG_PROG_CMD, AIMC_PROG_PROGRAM);
    aimc_wait_done(&dev, AIMC_IRQ_PROG_DONE);
    wr(hal, AIMC_REG_PROG_CMD, AIMC_PROG_VERIFY);  // cells that fail: all, at no tolerance
    aimc_wait_done(&dev, AIMC_IRQ_PROG_DONE);
    wr(hal, AIMC_REG_PROG_CMD, AIMC_PROG_READ_CELL);  // cell (0, 0): one cell, its conductance
    aimc_wait_done(&dev, AIMC_IRQ_PROG_DONE);
    EXPECT_EQ(run_program(dev, hal, maxpool_program(b.cfg)), AIMC_OK);  // a latency
    for (const auto& r : results) before.push_back(rd(hal, r.second));
    time_before = rd(hal, AIMC_REG_PERF_TIME_NS_LO);  // the PROGRAM's sector erase alone: 18 ms
    wr(hal, AIMC_REG_CTRL, AIMC_CTRL_FULL_RESET_MASK);
    time_after = rd(hal, AIMC_REG_PERF_TIME_NS_LO);  // one register access later
    time_hi_after = rd(hal, AIMC_REG_PERF_TIME_NS_HI);
    for (const auto& r : results) after.push_back(rd(hal, r.second));
  });
  EXPECT_GT(time_before, 18'000'000u);
  EXPECT_LE(time_after, 1000u);
  EXPECT_EQ(time_hi_after, 0u);
  ASSERT_EQ(after.size(), results.size());
  for (size_t i = 0; i < results.size(); ++i) {
    EXPECT_NE(before[i], 0u) << results[i].first << " before the reset (the test sets every one)";
    EXPECT_EQ(after[i], 0u) << results[i].first << " after CTRL.FULL_RESET";
  }
}

}  // namespace
}  // namespace aimc::testing
