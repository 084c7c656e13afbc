// my_chip: a user's own simulation on the installed aimc package (find_package(aimc)).
// Elaborates the chip of an installed preset with ideal devices (so that the result is exact),
// compiles the bundled MLP for it, runs a batch of inputs through the firmware driver on the
// chip's host CPU, and checks every output against the compiler's golden model.
//
//   my_chip [PRESET [N]]   PRESET: a file in the installed presets folder (membrain-3x4.yaml)
//                          N: inputs to run (8)
// Exit code 0 when the chip computed what the golden model says, 1 otherwise.
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <random>
#include <string>
#include <vector>

#include <Eigen/Core>
#include <systemc>

#include "aimc_driver.h"
#include "chip/chip.h"
#include "compiler/compile.h"
#include "compiler/image.h"
#include "compiler/onnx_import.h"
#include "config/platform_config.h"
#include "sim/accounting.h"
#include "sim/energy_ledger.h"
#include "sim/trace.h"

int sc_main(int argc, char** argv) {
  const std::string preset =
      std::string(AIMC_PRESETS_DIR) + "/" + (argc > 1 ? argv[1] : "membrain-3x4.yaml");
  const long n = argc > 2 ? std::atol(argv[2]) : 8;
  if (n < 1 || n > 10000) {
    std::cerr << "my_chip: N must be in [1, 10000]\n";
    return 2;
  }
  try {
    const aimc::config::PlatformConfig cfg =
        aimc::config::load_platform(preset, {"tile.device.type=ideal"});
    const aimc::compiler::Graph net =
        aimc::compiler::import_onnx(std::string(AIMC_MODELS_DIR) + "/fashion_mnist_mlp.onnx");

    // Inputs like Fashion-MNIST pixels: seeded, uniform in [0, 1). They also calibrate the scales.
    std::mt19937 gen(1);
    std::uniform_real_distribution<float> pixel(0.0f, 1.0f);
    Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> x(n, net.in_features());
    for (Eigen::Index i = 0; i < x.size(); ++i) x.data()[i] = pixel(gen);
    const aimc::compiler::CompiledModel cm = aimc::compiler::compile(net, cfg, x);
    const aimc::compiler::IdealRun golden = aimc::compiler::execute_ideal(
        aimc::compiler::parse_image(cm.image), x, cfg.tile.adc.bits,
        cfg.tile.device.g_min_ns / cfg.tile.device.g_max_ns);
    const long outs = golden.output.cols();

    // The chip, its energy ledger and a (disabled) trace sink; they outlive the simulation.
    aimc::sim::EnergyLedger ledger;
    aimc::sim::TraceSink trace;
    aimc::chip::Chip chip(cfg, ledger, trace);

    // The firmware: the driver, through the HAL of the chip's host CPU.
    std::vector<int32_t> out(size_t(n * outs));
    int rc = -1;
    chip.cpu().set_entry([&](aimc_hal_t hal) {
      aimc_dev_t dev;
      if ((rc = aimc_init(&dev, hal)) != AIMC_OK) return;
      if ((rc = aimc_load_image(&dev, cm.image.data(), cm.image.size())) == AIMC_OK) {
        std::vector<uint8_t> codes(size_t(x.size()));
        rc = aimc_quantize_inputs(&dev, x.data(), size_t(x.size()), codes.data());
        if (rc == AIMC_OK) rc = aimc_infer(&dev, codes.data(), uint32_t(n), out.data());
      }
      aimc_release(&dev);
    });
    sc_core::sc_start();  // ends when the firmware returns
    const uint64_t t_ps = aimc::sim::to_ps(sc_core::sc_time_stamp());
    ledger.advance(t_ps);  // static power up to now
    if (rc != AIMC_OK) {
      std::cerr << "my_chip: driver: " << aimc_strerror(rc) << "\n";
      return 1;
    }

    // The chip's digital unit rounds in float32, the golden model in double: one output LSB.
    long max_diff = 0;
    for (long v = 0; v < n; ++v)
      for (long j = 0; j < outs; ++j)
        max_diff = std::max(max_diff, std::labs(long(out[size_t(v * outs + j)]) -
                                                long(golden.output(v, j))));
    std::cout.setf(std::ios::fixed);
    std::cout.precision(1);
    std::cout << "my_chip: " << cfg.name << ", " << n << " inputs x " << outs
              << " outputs; largest difference from the golden model " << max_diff
              << " LSB; simulated " << t_ps / 1e6 << " us, " << ledger.total_j() * 1e6
              << " uJ (programming included)\n";
    if (max_diff > 1) {
      std::cerr << "my_chip: FAIL: the chip's outputs differ from the golden model\n";
      return 1;
    }
    std::cout << "my_chip: inference ok\n";
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "my_chip: " << e.what() << "\n";
    return 1;
  }
}
