// Helpers for platform-level tests: the shipped preset, the bundled model and data, and a chip
// that runs a firmware entry point. Every test that elaborates a chip runs in its own process.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <Eigen/Core>
#include <systemc>

#include <gtest/gtest.h>

#include "aimc_driver.h"
#include "aimc_regs.h"
#include "chip/chip.h"
#include "compiler/compile.h"
#include "compiler/dataset.h"
#include "compiler/onnx_import.h"
#include "config/platform_config.h"
#include "sim/energy_ledger.h"
#include "sim/trace.h"

namespace aimc::testing {

inline std::string source_dir() { return AIMC_SOURCE_DIR_DEFAULT; }
inline std::string preset_path() { return source_dir() + "/platforms/membrain-3x4.yaml"; }
inline std::string model_path() { return source_dir() + "/platforms/models/fashion_mnist_mlp.onnx"; }
inline std::string data_dir() { return "/usr/share/datasets/fashion-mnist"; }

inline config::PlatformConfig preset(const std::vector<std::string>& overrides = {}) {
  return config::load_platform(preset_path(), overrides);
}

inline compiler::Dataset test_images(long n) {
  return compiler::load_idx(data_dir() + "/t10k-images-idx3-ubyte.gz",
                            data_dir() + "/t10k-labels-idx1-ubyte.gz", n);
}
inline compiler::Dataset train_images(long n) {
  return compiler::load_idx(data_dir() + "/train-images-idx3-ubyte.gz",
                            data_dir() + "/train-labels-idx1-ubyte.gz", n);
}

// A chip with its ledger and (disabled) trace, ready to run a firmware entry point.
struct Bench {
  explicit Bench(const config::PlatformConfig& c)
      : cfg(c), trace(std::make_unique<sim::TraceSink>()), chip(cfg, ledger, *trace) {}
  void run(chip::FirmwareHost::Entry entry) {
    chip.cpu().set_entry(std::move(entry));
    sc_core::sc_start();
    chip.cpu().rethrow_failure();
  }
  uint64_t now_ps() { return sim::to_ps(sc_core::sc_time_stamp()); }

  config::PlatformConfig cfg;
  sim::EnergyLedger ledger;
  std::unique_ptr<sim::TraceSink> trace;
  chip::Chip chip;
};

// Register access from firmware, failing the test on a bus error.
inline uint32_t rd(aimc_hal_t hal, uint32_t off) {
  uint32_t v = 0xDEADBEEF;
  EXPECT_EQ(hal.ops->read32(hal.ctx, off, &v), AIMC_HAL_OK) << "read 0x" << std::hex << off;
  return v;
}
inline void wr(aimc_hal_t hal, uint32_t off, uint32_t v) {
  EXPECT_EQ(hal.ops->write32(hal.ctx, off, v), AIMC_HAL_OK) << "write 0x" << std::hex << off;
}
// Returns ERROR_CODE and clears it (and the error interrupt).
inline uint32_t take_error(aimc_hal_t hal) {
  const uint32_t e = rd(hal, AIMC_REG_ERROR_CODE);
  wr(hal, AIMC_REG_ERROR_CODE, 0xFFFFFFFFu);
  wr(hal, AIMC_REG_IRQ_STATUS, AIMC_IRQ_ERROR);
  return e;
}

// The bundled model compiled for a platform (256 training images calibrate it).
inline compiler::CompiledModel bundled(const config::PlatformConfig& cfg) {
  return compiler::compile(compiler::import_onnx(model_path()), cfg, train_images(256).images);
}

// Row-major copy of a batch, as the driver takes it.
inline std::vector<float> row_major(const Eigen::MatrixXf& m) {
  Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> r = m;
  return std::vector<float>(r.data(), r.data() + r.size());
}

}  // namespace aimc::testing
