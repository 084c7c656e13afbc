// The caches of aimc run (docs/sweeps.md): compiled models kept by what decides them
// (--compile-cache) and program-and-verify outcomes kept by every input of the call
// (--program-cache, num::program_verify_memo). aimc sweep gives every run both, in DIR/cache/.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include <Eigen/Dense>

#include "compiler/compile.h"
#include "config/platform_config.h"
#include "numerics/program_memo.h"
#include "run_job.h"

namespace aimc::app::stages {

// Everything that decides a compiled model, hashed: the tool itself (its executable's bytes), the
// model's bytes, what the compiler reads of the platform and the options, and the calibration
// inputs (the training images by file, or the inputs given: their values).
std::string compile_cache_key(const RunOptions& opt, const config::PlatformConfig& cfg,
                              const compiler::CompileOptions& copt, const Eigen::MatrixXf& given_calibration);

// DIR/<key>.aimg (the image) and DIR/<key>.json (the rest of the compiled model), written
// atomically, image first: a key whose .json is there is whole.
class CompileCache {
 public:
  CompileCache(const std::string& dir, std::string key);
  const std::string& key() const { return key_; }
  // The compiled model stored under the key; false when there is none, or it is damaged or
  // another key's (the run then compiles).
  bool load(compiler::CompiledModel& out) const;
  // "" when stored, else why not (the run goes on: the cache only saves time).
  std::string store(const compiler::CompiledModel& c) const;

 private:
  std::string image_path() const;
  std::string meta_path() const;
  std::string dir_, key_;
};

// The programming cache's store: DIR/<executable>-<key>.pv, no new entry past max_bytes
// (run_caches.cpp).
std::unique_ptr<num::ProgramStore> make_folder_program_store(const std::string& dir, uint64_t max_bytes);

}  // namespace aimc::app::stages
