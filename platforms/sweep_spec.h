// A design-space sweep (`aimc sweep SPEC -o DIR`, docs/sweeps.md): the sweep file, and the runs it
// expands to. SystemC-free: the file is read and every point's platform loaded and validated
// before anything runs, so a bad key or value is refused naming the file, line and point.
#pragma once

#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace aimc::app {

struct SweepSpecError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// One value of a platform key at a design point, as --set takes it (KEY=VALUE).
using SweepSetting = std::pair<std::string, std::string>;

struct SweepSpec {
  std::string file;                       // the sweep file, as given
  std::string platform;                   // resolved path of the base platform
  std::vector<SweepSetting> set;          // applied to every point, before the point's own
  std::vector<std::string> models;        // resolved paths
  std::string data;                       // Fashion-MNIST folder ("" = aimc run's default)
  std::string input;                      // "random" or FILE.npy ("" = the test set)
  long limit = 0;                         // images per run (0 = aimc run's default)
  std::vector<std::string> run_options;   // more `aimc run` arguments, checked against a list
  std::vector<std::string> axes;          // the keys varied, in order of first appearance
  std::vector<std::vector<SweepSetting>> points;  // every design point (grid, list, random)
  std::vector<uint64_t> seeds;            // each point runs once per seed
  std::vector<std::string> collect;       // report figures (dotted paths; a trailing .* expands)
};

// Where the sweep file names a platform or model that is not a path (relative to the sweep
// file's folder, or absolute), it is looked up here: a bundled preset or model.
struct SweepLookup {
  std::string platforms_dir;  // <data>/platforms ("" = none)
  std::string models_dir;     // <data>/platforms/models
};

// The report figures collected when the file says nothing (docs/sweeps.md).
const std::vector<std::string>& default_sweep_figures();

// A point may also set run.at, run.temp_c, run.batch and run.depthwise: the `aimc run` options
// --at, --temp-c, --batch and --depthwise (a retention study sweeps run.at, a reload study
// run.batch); `set` takes platform keys only.
// Reads and checks a sweep file: YAML with `platform`, `set`, `models`, `data`, `input`, `limit`,
// `options`, `axes` (key: [values], crossed), `zip` (key: [values], varied together), `points`
// (a list of {key: value}), `random` ({count, seed, keys: {key: {int|uniform|log_uniform|choice:
// ...}}}), `seeds` (a list, or N for 1..N) and `collect`. Unknown fields, wrong types, empty
// axes, duplicate keys and a sweep of no point are refused naming the file and line. The design
// points are the grid of `axes` x `zip`, then `points`, then the `random` samples (seeded: the
// same file gives the same points).
SweepSpec read_sweep_spec(const std::string& path, const SweepLookup& lookup);

// One simulation of the sweep: a design point with a model and a seed.
struct SweepRun {
  size_t point = 0;                     // index into SweepSpec::points
  std::string model;                    // resolved model path
  uint64_t seed = 0;
  std::vector<std::string> overrides;   // KEY=VALUE: spec.set, then the point's
  std::vector<std::string> run_options; // the point's run.* keys as aimc run options (--batch 4, ...)
  std::map<std::string, std::string> axis_values;  // every axis key -> its effective value
  std::string id;                       // 12 hex digits: a hash of all that determines the run
};

// Expands the spec into its runs (points x models x seeds), loading and validating every point's
// platform (SweepSpecError naming the point and the key when one is refused), and gives each run
// its id: a hash of the effective platform, the model's bytes, the inputs, the options, the seed
// and `version` (so that a run is repeated when anything that decides it changed, and only then).
std::vector<SweepRun> expand_sweep(const SweepSpec& spec, const std::string& version);

}  // namespace aimc::app
