// The stages of `aimc run` (run_job.cpp) and what passes between them: `prepare` fills Prepared
// (inputs, compiled model, float baseline), `simulate` fills Simulated (the chip's outputs, times
// and statistics), and `make_report` (run_report.cpp) turns both into the JSON report. Internal to
// aimc_app.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <Eigen/Dense>
#include <nlohmann/json.hpp>

#include "aimc_driver.h"
#include "chip/chip.h"
#include "compiler/compile.h"
#include "compiler/dataset.h"
#include "compiler/graph.h"
#include "compiler/image.h"
#include "run_job.h"
#include "session.h"

namespace aimc::app::stages {

class SequenceExport;  // --export-programming's writer (run_job.cpp)

inline int argmax_row(const Eigen::MatrixXf& m, Eigen::Index r) {
  Eigen::Index best = 0;
  m.row(r).maxCoeff(&best);
  return static_cast<int>(best);
}

// What `aimc run` has before the chip is built: the inputs, the compiled model and the float
// baseline. Filled in place (image_view points into compiled.image).
struct Prepared {
  double temp_c = 0;
  compiler::Graph net;
  compiler::Dataset test, calib;
  bool labelled = true;
  std::string input_desc;
  long n = 0;
  compiler::CompiledModel compiled;
  compiler::ImageView image_view;
  std::string model_fp;
  Eigen::MatrixXf float_logits;
  long float_correct = 0;
  // --compile-cache: the key, and whether the compiled model came from the cache ("hit"), was
  // compiled and stored ("miss"), or could not be stored ("miss (not stored: why)").
  std::string compile_cache_key, compile_cache_state;
};

using WallClock = std::chrono::steady_clock;

// What the simulation of deploy and inference gives: the outputs, times, the firmware's view.
struct Simulated {
  Eigen::MatrixXi outputs;
  chip::ChipStats deploy_stats, end_stats;  // the chip's statistics after deploy and at the end
  uint64_t t_deploy_end_ps = 0, t_end_ps = 0;
  uint32_t tiles_adjusted = 0;
  int32_t temp_sensor_mc = 0;
  double single_chip_ns = 0, single_e2e_ns = 0;
  // The first image's commands (one per segment) as the sequencer ran them, and the time between
  // them: what that image waited for while the tiles were reprogrammed (0 with one segment).
  std::vector<chip::Sequencer::CommandTiming> single_commands;
  bool recording_single = false;  // the sequencer's commands now are the first image's
  double single_reload_ns = 0;
  long commands = 0;
  long batch_used = 0;  // the most images one command of the run carried
  aimc_dev_t dev{};
  bool restored = false;
  nlohmann::json restored_header;
  std::unique_ptr<SequenceExport> sequence;
  // --program-cache: the store the tiles program through (it outlives their use of it).
  std::unique_ptr<num::ProgramStore> program_store;
  WallClock::time_point wall_prepared, wall_deploy_end, wall_sim_end;
  // A stop asked by SIGINT or SIGTERM (stop_request.h): the signal (0: none), the images whose
  // outputs came back before it (all of them when it came after the last command) and where the
  // run was when it stopped: "prepare" (no chip yet), "deploy" (programming not finished) or
  // "infer" (between two inference commands).
  int stop_signal = 0;
  long images_requested = 0, images_done = 0;
  std::string stopped_during;
  bool stopped() const { return stop_signal != 0 && images_done < images_requested; }
  bool deployed() const { return !stopped() || stopped_during == "infer"; }
};

// After a stop: keeps the first `images` inputs, float results and outputs, so that the report's
// figures are those of the images that ran.
void keep_first_images(Prepared& p, Simulated& s, long images);

// The report of the run (README, "The report"), and the platform's outputs in the float model's
// units (C, H, W order) in platform_logits.
nlohmann::json make_report(const RunOptions& opt, Session& session, const Prepared& p, const Simulated& s,
                           WallClock::time_point wall_start, Eigen::MatrixXf& platform_logits);
// The report of a run stopped before any image ran: what was asked, where it stopped, and no
// figures (README, "Stopping a run").
nlohmann::json make_stopped_report(const RunOptions& opt, Session& session, const Prepared& p,
                                   const Simulated& s, WallClock::time_point wall_start);

}  // namespace aimc::app::stages
