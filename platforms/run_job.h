// The main job of `aimc run`: compile an ONNX model for a platform, simulate the chip running it
// through the firmware driver over a data set, and report accuracy, latency and energy.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "compiler/compile_options.h"
#include "config/platform_config.h"
#include "session.h"
#include "summary.h"

namespace aimc::app {

struct RunOptions {
  std::string platform_path;
  std::string model_path;
  std::string data_dir;
  long limit = -1;                     // images; -1 = the whole test set
  std::optional<uint64_t> seed;        // overrides simulation.seed
  std::vector<std::string> overrides;  // --set key=value
  std::string report_path;             // "" = none
  std::string trace_path;              // "" = tracing off
  std::string trace_format;            // --trace-format; "" = by the file's extension
  bool trace_registers = false;
  bool progress = true;
  bool quiet = false;
  // Conditions of the inference (docs/device-physics.md): time since programming (seconds; the
  // chip is deployed, then this much time passes unsimulated), die temperature (C; default
  // tile.device.t_ref_c), and firmware drift compensation (aimc_drift_reference right after
  // deploy, aimc_drift_compensate before inference).
  double at_s = 0.0;
  std::optional<double> temp_c;
  bool drift_compensation = false;
  std::string checkpoint_path;         // save the array state here at the end ("" = no)
  std::string restore_path;            // start from this checkpoint instead of programming
  std::string export_programming_path; // write every pulse and verify read here (CSV)
  // Inputs other than the data set: "random" (seeded uniform [0, 1), --limit items, default 100)
  // or a .npy file (float32/float64/uint8, N x features or N x C x H x W); no labels then.
  std::string input;
  std::string dump_outputs_path;       // write the platform outputs (float, N x out) as .npy
  std::string depthwise = "automatic";  // depthwise convolutions: automatic | packed | digital
  bool replicate = false;               // copy busy ops onto empty tiles (compiler::CompileOptions::replicate)
  // --compile-option KEY=VALUE, applied in order after --depthwise/--replicate (docs/compiler.md).
  std::vector<std::string> compile_options;
  // Images per inference command (per weight load when the network needs reload); 0 = as many
  // as the activation SRAM holds. The first image always runs alone (it measures the latency).
  long batch = 0;
  // --compile-cache DIR: compiled models kept in DIR, keyed by what decides them (the model's
  // bytes, compiler::compile_inputs_text, the calibration inputs, the executable): a run whose key
  // is there loads the image instead of compiling (docs/sweeps.md, "The compile cache").
  std::string compile_cache_dir;
  std::string program_cache_dir;  // --program-cache: program-and-verify outcomes (docs/sweeps.md)
  long program_cache_max_mb = 4096;  // --program-cache-max-mb: no new entry once the folder holds this
};

// "1h", "30 min", "10y", "2.5d", "100ms", "0": seconds. Units: ms, s, min, h, d, w, y (365.25 d);
// a bare number is seconds. Throws UserError naming the option on anything else, a negative, or a
// duration beyond kMaxDurationYears (saying it is out of range, with the limit).
double parse_duration_s(const std::string& text, const std::string& option = "--at");
// The longest --at: far beyond any retention study (10 y), short enough that ages stay ordinary
// numbers in the device models and the report.
inline constexpr int kMaxDurationYears = 1000;


// The file `base` (gzipped or not) of an IDX data set in `dir`; UserError naming the folder and the
// package that provides Fashion-MNIST when neither is there.
std::string idx_file(const std::string& dir, const char* base);

// The compiler's options from --depthwise, --replicate and then every --compile-option KEY=VALUE;
// a bad one is a UserError naming the option, the key and the allowed values.
compiler::CompileOptions make_compile_options(const std::string& depthwise, bool replicate,
                                               const std::vector<std::string>& key_values);
// The --help text of --compile-option: what it does and every key with its range and default.
std::string compile_option_help();

// Runs the job in this process (one SystemC elaboration per process) and returns the report.
// Throws UserError for bad input and std::runtime_error if the firmware reports a failure.
nlohmann::json run_job(const RunOptions& options);

struct CompileJob {
  std::string platform_path;
  std::string model_path;
  std::string data_dir;                // calibration images come from the training set here
  std::vector<std::string> overrides;  // --set key=value
  std::string output_path;             // the deployment image
  std::string depthwise = "automatic";  // as RunOptions
  bool replicate = false;
  std::vector<std::string> compile_options;  // --compile-option KEY=VALUE
};
// Compiles a model for a platform and writes the deployment image; returns the compiler's
// summary (mapping, scales, sizes). Throws UserError for bad input.
nlohmann::json compile_job(const CompileJob& job);

}  // namespace aimc::app
