// `aimc sweep SPEC -o DIR` (docs/sweeps.md): every run of a sweep file as its own `aimc run`
// process (one SystemC elaboration each) on a local pool of -j workers, resumable, and the results
// as tables: DIR/results.csv and results.jsonl (a row per run), DIR/summary.csv (a row per design
// point and model: mean, standard deviation and 95 % confidence interval over the seeds), and
// DIR/sweep.json (what the tables hold). Each run keeps its folder DIR/points/<id>/ (report.json,
// log.txt, cmd.txt, and done.json or failed.json).
#pragma once

#include <string>
#include <vector>

#include "sweep_spec.h"

namespace aimc::app {

struct SweepOptions {
  std::string spec_path;
  std::string out_dir;
  int jobs = 0;              // runs at once; 0 = the machine's cores
  bool dry_run = false;      // list the runs (and which are done) without running any
  bool progress = true;      // a progress line with the ETA on stderr (a line per run when not a tty)
  bool cache = true;         // share compiled models and programming outcomes between runs
                             // (DIR/cache/compile and DIR/cache/program: aimc run --compile-cache, --program-cache)
  std::string aimc_exe;      // the executable that runs each point ("" = this one)
  // --backend: "local" (a pool of -j processes) or "slurm" (a job array; the options below).
  std::string backend = "local";
  std::string slurm_partition, slurm_time, slurm_account;
  std::vector<std::string> slurm_args;  // more sbatch options, as given
  int slurm_chunk = 0;                  // runs per array task; 0 = 1, or more to stay within 1000 tasks
  int slurm_poll_ms = 2000;             // how often squeue is asked
  std::string version;       // the tool's version, part of every run's id
  SweepLookup lookup;        // bundled presets and models
};

// Runs the sweep and writes its tables. Returns the exit code: 0 when every run is ok, 1 when some
// failed (each failure is in the tables with its error; the others ran), 128 + the signal when
// SIGINT/SIGTERM stopped it (the runs under way are stopped, what finished is in the tables).
// Throws SweepSpecError for a bad sweep file, UserError for an output folder that cannot be made.
int sweep_job(const SweepOptions& options);

}  // namespace aimc::app
