// aimc: the aimc-vp command-line tool.
//   aimc run      simulate a model on a platform over a data set (the main job)
//   aimc compile  compile a model into a deployment image
//   aimc config   print the effective platform configuration
//   aimc serve    serve the chip on a local socket to firmware in another process
//   aimc fw run   run a cross-compiled RV32 firmware ELF on the core beside the chip
//   aimc sweep    run a design-space sweep file into tables (docs/sweeps.md)
//   aimc plot     plots of a sweep's tables (scripts/plot_sweep.py, docs/plots.md)
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <optional>
#include <string>

#include <CLI/CLI.hpp>
#include <systemc>

#include "config/platform_config.h"
#include "data_dir.h"
#include "fw_run_job.h"
#include "io/atomic_file.h"
#include "run_job.h"
#include "serve_job.h"
#include "sim/trace_writers.h"
#include "stop_request.h"
#include "sweep_job.h"

namespace {
const std::string kDefaultData = "/usr/share/datasets/fashion-mnist";

// The default of --platform/--model is the bundled file in the data folder (data_dir.h), shown
// as its real path; when the folder was not found, help says so and a run without the option is
// refused (need_bundled).
CLI::Option* bundled_default(CLI::Option* o, const std::string& path, const char* what) {
  if (path.empty())
    return o->default_str(std::string("the bundled ") + what +
                          ", but the data folder was not found: see the end of --help");
  return o->capture_default_str();
}
}  // namespace

namespace {

// " (reason)" for the errno of a failed write, "" when the library left none.
std::string why_not() {
  return errno ? std::string(" (") + std::strerror(errno) + ")" : std::string();
}

// What the command printed must reach standard output: a full disk or a closed file is an error
// naming it (exit 2), not a silent exit 0. Called after the command, when nothing more is printed.
int check_stdout(int rc) {
  errno = 0;
  std::cout.flush();
  const bool ok = static_cast<bool>(std::cout) && std::fflush(stdout) == 0 && !std::ferror(stdout);
  if (ok) return rc;
  std::cerr << "aimc: cannot write to standard output" << why_not() << "\n";
  return rc == 0 ? 2 : rc;
}

// The command line: per subcommand, a member function that declares its options and one that runs
// it (sc_main stays short).
struct Cli {
  explicit Cli(const aimc::app::DataDir& d)
      : data(d),
        default_platform(d.file(aimc::app::kDefaultPlatformRel)),
        default_model(d.file(aimc::app::kDefaultModelRel)) {}

  const aimc::app::DataDir& data;
  const std::string default_platform, default_model;  // "" when the data folder was not found
  std::string trace_help, trace_format_help;
  // aimc run
  CLI::App* run = nullptr;
  aimc::app::RunOptions opt;
  uint64_t seed = 0;
  bool no_progress = false;
  std::string at_text;
  double temp_c = 0;
  CLI::Option* seed_opt = nullptr;
  CLI::Option* temp_opt = nullptr;
  // aimc config
  CLI::App* cfg = nullptr;
  std::string cfg_platform;
  std::vector<std::string> cfg_overrides;
  // The die's temperature and age as `aimc serve` and `aimc fw run` take them.
  struct DieCli {
    CLI::Option* temp_opt = nullptr;
    double temp_c = 0;
    std::string at_text;
    // Into the job's options: temperature only when given, --at parsed (throws UserError).
    void apply(std::optional<double>& temp, double& at_s) const {
      if (*temp_opt) temp = temp_c;
      if (!at_text.empty()) at_s = aimc::app::parse_duration_s(at_text, "--at");
    }
  };
  // --temp-c, --at, --restore and --checkpoint of a subcommand where firmware programs the chip.
  static void die_options(CLI::App* app, DieCli& die, std::string& restore, std::string& checkpoint,
                          const std::string& restore_note, const std::string& checkpoint_what) {
    die.temp_opt = app->add_option("--temp-c", die.temp_c,
                                   "die temperature in C (default: tile.device.t_ref_c)")
                       ->check(CLI::Range(-273.15, 1000.0));
    app->add_option("--at", die.at_text,
                    "time added to the age of the cells the chip starts with (a restored chip's), "
                    "as for aimc run (e.g. 1h, 30d, 10y)");
    app->add_option("--restore", restore,
                    "start with the tiles a checkpoint holds (weights, age, calibration) instead of "
                    "an unprogrammed chip; " + restore_note + "; --at adds to the saved age")
        ->check(CLI::ExistingFile);
    app->add_option("--checkpoint", checkpoint,
                    checkpoint_what + " (conductances, age, trims) to this file (docs/checkpoint.md)");
  }
  // aimc serve
  CLI::App* serve = nullptr;
  aimc::app::ServeOptions sopt;
  DieCli serve_die;
  // aimc fw run
  CLI::App* fw = nullptr;
  CLI::App* fw_run = nullptr;
  aimc::app::FwRunOptions fopt;
  DieCli fw_die;
  int fw_gdb_port = 0;
  CLI::Option* fw_gdb_opt = nullptr;
  // aimc sweep, aimc plot
  CLI::App* sweep = nullptr;
  CLI::App* plot = nullptr;
  aimc::app::SweepOptions swopt;
  bool sweep_no_progress = false, sweep_no_cache = false;
  // aimc compile
  CLI::App* comp = nullptr;
  aimc::app::CompileJob cjob;
  std::string summary_path;

  void need_bundled(const std::string& path, const char* option) const {
    if (path.empty())
      throw aimc::app::UserError(std::string("no ") + option + " given, and " +
                                 data.not_found_message());
  }

  void add_run(CLI::App& app) {
    opt.platform_path = default_platform;
    opt.model_path = default_model;
    opt.data_dir = kDefaultData;
    opt.report_path = "out/report.json";
    // Trace formats come from the writers' registry (model/sim/trace_writers.h).
    std::string format_names;
    for (const auto* f : aimc::sim::trace_formats())
      format_names += (format_names.empty() ? "" : " | ") + f->name;
    trace_help =
        "record a trace of the run in this file (traces/README.md), in the format its extension "
        "names: " + aimc::sim::trace_format_list() + "; .json opens in ui.perfetto.dev, .vcd in GTKWave";
    trace_format_help =
        "with --trace: the trace's format whatever the file's extension: " + format_names;

    run = app.add_subcommand(
        "run",
        "Compile an ONNX model (MLP or CNN) for a platform, deploy it through the firmware driver "
        "(program-and-verify of every cell; weight reload when it does not fit), run it on the "
        "simulated chip over the Fashion-MNIST test set or your own inputs (--input), and report "
        "accuracy or agreement with the float model, latency, throughput, energy by component and "
        "layer, TOPS and TOPS/W; optionally a trace (--trace).");
    bundled_default(run->add_option("--platform", opt.platform_path, "platform YAML"),
                    default_platform, "membrain-3x4.yaml")
        ->check(CLI::ExistingFile);
    bundled_default(run->add_option("--model", opt.model_path,
                                    "ONNX model: Conv (grouped, depthwise), Gemm, MatMul(+Add), "
                                    "BatchNormalization (folded), Relu, Clip/Relu6, Sigmoid, Tanh, SiLU, "
                                    "GELU, LeakyRelu, PRelu, HardSigmoid, HardSwish, Elu, Mul/Div/Sub by a "
                                    "constant, Add/Mul of two maps, Conv1d on [N, C, L], ReduceMean, MaxPool, "
                                    "AveragePool, GlobalAveragePool, Add, Concat, Softmax, "
                                    "Flatten, Reshape, and Transpose/Squeeze/Unsqueeze that keep the element "
                                    "order; another op is refused naming the node (docs/compiler.md)"),
                    default_model, "fashion_mnist_mlp.onnx")
        ->check(CLI::ExistingFile);
    run->add_option("--data", opt.data_dir,
                    "folder with the Fashion-MNIST IDX files (gzipped or not)")
        ->capture_default_str()
        ->check(CLI::ExistingDirectory);
    run->add_option("--limit", opt.limit, "run only the first N test images or inputs (default: all 10,000; --input random: 100)")
        ->check(CLI::Range(1L, 1000000000L));
    seed_opt = run->add_option(
        "--seed", seed, "seed of every random stream (programming error, read noise); overrides "
                        "simulation.seed of the platform");
    run->add_option("--set", opt.overrides,
                    "override a platform parameter, KEY=VALUE with a dotted key, e.g. "
                    "--set tile.adc.bits=6 --set tile.device.type=ideal (repeatable; keys: "
                    "docs/platform-config.md)")
        ->take_all()
        ->allow_extra_args(false);
    run->add_option("--report", opt.report_path, "write the JSON report here ('' for none)")
        ->capture_default_str();
    run->add_option("--trace", opt.trace_path, trace_help + "; off by default");
    run->add_option("--trace-format", opt.trace_format, trace_format_help);
    run->add_flag("--trace-registers", opt.trace_registers,
                  "with --trace: also mark every firmware register access on the host track");
    run->add_option("--at", at_text,
                    "evaluate this long after programming: the chip is deployed, then the time "
                    "passes unsimulated (drift, charge loss). A duration: 1s, 30min, 1h, 7d, 10y "
                    "(units ms s min h d w y; default 0)");
    temp_opt = run->add_option(
        "--temp-c", temp_c,
        "die temperature during the wait and the inference, in C (default: tile.device.t_ref_c, "
        "the temperature at which the chip is programmed)");
    run->add_flag("--drift-comp", opt.drift_compensation,
                  "firmware drift compensation: a calibration read per tile right after "
                  "programming, again before inference, and a per-tile digital gain "
                  "(docs/device-physics.md)");
    run->add_option("--checkpoint", opt.checkpoint_path,
                    "at the end, save the programmed array state (conductances, age, trims) to "
                    "this file (docs/checkpoint.md)");
    run->add_option("--restore", opt.restore_path,
                    "start from a checkpoint instead of programming the chip; --at adds to the "
                    "saved age")
        ->check(CLI::ExistingFile);
    run->add_option("--export-programming", opt.export_programming_path,
                    "write the programming sequence (every cell's pulses and verify reads) as CSV "
                    "(docs/programming-sequence.md); large: ~130 B per cell");
    run->add_option("--input", opt.input,
                    "inputs instead of the Fashion-MNIST test set: 'random' (seeded, uniform in "
                    "[0, 1), --limit items, default 100) or FILE.npy (float32/float64/uint8, "
                    "N x features or N x C x H x W); no labels, so the report compares the platform "
                    "with the float model instead of reporting accuracy");
    run->add_option("--dump-outputs", opt.dump_outputs_path,
                    "write the platform's outputs (float32 N x outputs, the model's units) as .npy");
    run->add_option("--depthwise", opt.depthwise,
                    "depthwise convolutions: 'packed' (block-diagonal on the tiles), 'digital' (the "
                    "tiles' digital units, 8-bit weights) or 'automatic' (packed unless it needs more "
                    "weight loads); the report says which and why")
        ->default_val("automatic");
    run->add_flag("--replicate", opt.replicate,
                  "copy the busiest layers onto tiles the mapping leaves empty, while a tile rather than "
                  "the bus is the bottleneck, so that they share the work (more throughput for more "
                  "cells programmed); the report lists the copies");
    run->add_option("--compile-option", opt.compile_options, aimc::app::compile_option_help())
        ->type_name("KEY=VALUE");
    run->add_option("--compile-cache", opt.compile_cache_dir,
                    "keep compiled models in this folder and reuse one whose inputs are the same "
                    "(the model's bytes, what the compiler reads of the platform and options, the "
                    "calibration inputs, this executable); the report's cache.compile says hit or "
                    "miss (docs/sweeps.md)");
    run->add_option("--program-cache", opt.program_cache_dir,
                    "keep each program-and-verify outcome in this folder and reuse one whose inputs "
                    "are the same (the device, the programming parameters, the levels, the cells "
                    "before, the tile's random stream, this executable): the same results without "
                    "pulsing again; the report's cache.program counts hits and misses (docs/sweeps.md)");
    run->add_option("--program-cache-max-mb", opt.program_cache_max_mb,
                    "--program-cache stores no new entry once its folder holds this many MiB (a run "
                    "that reloads its weights writes an entry per reload); the report counts such "
                    "calls as cache.program.unstored")
        ->check(CLI::Range(0L, 1L << 30))
        ->capture_default_str();
    run->add_option("--batch", opt.batch,
                    "images per inference command, i.e. per weight load when the network needs "
                    "reload (0 = as many as the activation SRAM holds)")
        ->default_val(0);
    run->add_flag("--no-progress", no_progress, "no progress bar");
    run->add_flag("-q,--quiet", opt.quiet, "print only the report path");
  }

  void add_config(CLI::App& app) {
    cfg_platform = default_platform;
    cfg = app.add_subcommand(
        "config",
        "Print the effective platform configuration: every key, loadable again. A platform file may "
        "start with `base: OTHER.yaml` (relative to its folder): OTHER is read first and the file's "
        "keys are merged over it (sections key by key, values replace), bases may chain; --set "
        "overrides apply last. The output is the merged result, without `base:`.");
    bundled_default(cfg->add_option("--platform", cfg_platform, "platform YAML (may name a `base:` preset)"),
                    default_platform, "membrain-3x4.yaml");
    cfg->add_option("--set", cfg_overrides, "override a parameter, KEY=VALUE (repeatable)");
  }

  void add_serve(CLI::App& app) {
    sopt.platform_path = default_platform;
    serve = app.add_subcommand(
        "serve",
        "Serve the chip on a local socket to firmware in another process (a debugger, another "
        "language): registers, DMA and interrupts through the remote HAL "
        "(firmware_stubs/include/aimc_hal_remote.h, protocol in docs/remote-protocol.md).");
    serve->add_option("--listen", sopt.listen,
                      "unix:/path/to.sock or tcp:127.0.0.1:PORT (loopback only; port 0 picks one)")
        ->required();
    bundled_default(serve->add_option("--platform", sopt.platform_path, "platform YAML"),
                    default_platform, "membrain-3x4.yaml")
        ->check(CLI::ExistingFile);
    serve->add_option("--set", sopt.overrides, "override a platform parameter, KEY=VALUE (repeatable)");
    serve->add_option("--trace", sopt.trace_path, trace_help + ", written at the end");
    serve->add_option("--trace-format", sopt.trace_format, trace_format_help);
    serve->add_flag("--trace-registers", sopt.trace_registers,
                    "with --trace: also mark every register access on the host track");
    serve->add_flag("--once", sopt.once,
                    "serve one client, then end (default: until stopped, or a client's SHUTDOWN "
                    "with --allow-shutdown)");
    serve->add_flag("--allow-shutdown", sopt.allow_shutdown,
                    "let a client end the server with SHUTDOWN (refused otherwise)");
    serve->add_option("--frame-timeout", sopt.frame_timeout_s,
                      "seconds a client may take to send a request it began, or to take an answer, "
                      "before it is dropped")
        ->check(CLI::Range(0.001, 86400.0))
        ->capture_default_str();
    serve->add_option("--secret-file", sopt.secret_file,
                      "a file whose first line (1-56 bytes) every client must present in its HELLO "
                      "(the remote HAL sends the file named by $AIMC_REMOTE_SECRET_FILE)");
    serve->add_flag("--allow-any-address", sopt.allow_any_address,
                    "let --listen take an address that is not loopback (needs --secret-file)");
    serve->add_option("--idle-timeout", sopt.idle_timeout_s,
                      "seconds a client may send nothing before it is dropped (0: no limit)")
        ->check(CLI::Range(0.0, 1e7))
        ->capture_default_str();
    die_options(serve, serve_die, sopt.restore_path, sopt.checkpoint_path,
                "every session starts with its calibration; clients attach their image "
                "(aimc_attach_image) rather than program it",
                "when the server ends, save the array state the clients left");
    serve->add_flag("-v,--verbose", sopt.verbose, "log every request on stderr");
  }

  void add_compile(CLI::App& app) {
    cjob.platform_path = default_platform;
    cjob.model_path = default_model;
    cjob.data_dir = kDefaultData;
    cjob.output_path = "out/model.aimg";
    comp = app.add_subcommand(
        "compile",
        "Compile an ONNX model for a platform into a deployment image (docs/deployment-image.md), "
        "for firmware that loads it itself.");
    bundled_default(comp->add_option("--platform", cjob.platform_path, "platform YAML"),
                    default_platform, "membrain-3x4.yaml")
        ->check(CLI::ExistingFile);
    bundled_default(comp->add_option("--model", cjob.model_path, "ONNX model"), default_model,
                    "fashion_mnist_mlp.onnx")
        ->check(CLI::ExistingFile);
    comp->add_option("--data", cjob.data_dir,
                     "Fashion-MNIST folder; its first training images (compile option "
                     "calibration_vectors, default 512) calibrate the scales")
        ->capture_default_str()
        ->check(CLI::ExistingDirectory);
    comp->add_option("--set", cjob.overrides, "override a platform parameter, KEY=VALUE (repeatable)");
    comp->add_option("-o,--output", cjob.output_path, "deployment image to write")->capture_default_str();
    comp->add_option("--summary", summary_path, "also write the compiler's summary as JSON here");
    comp->add_option("--depthwise", cjob.depthwise, "as for aimc run: automatic, packed or digital")
        ->default_val("automatic");
    comp->add_flag("--replicate", cjob.replicate, "as for aimc run: copy the busiest layers onto empty tiles");
    comp->add_option("--compile-option", cjob.compile_options, aimc::app::compile_option_help())
        ->type_name("KEY=VALUE");
  }

  void add_fw(CLI::App& app) {
    fopt.platform_path = default_platform;
    fw = app.add_subcommand("fw", "Firmware on the RV32 core beside the chip (docs/firmware.md)");
    fw->require_subcommand(1);
    fw_run = fw->add_subcommand(
        "run",
        "Run a cross-compiled RV32IMAC firmware ELF (aimc_add_firmware's <name>.rv32.elf) on the "
        "microcontroller core beside the chip: the chip's registers memory-mapped, its interrupts "
        "through a PLIC, a timer, a UART, semihosting for argv, stdio, host files and the exit "
        "code. Exits with the firmware's exit code.");
    fw_run->add_option("firmware", fopt.elf_path, "the firmware ELF")->required()->check(CLI::ExistingFile);
    fw_run->add_option("args", fopt.args,
                       "the firmware's arguments (argv[1..]; put -- before them when one starts with -)");
    bundled_default(fw_run->add_option("--platform", fopt.platform_path, "platform YAML"),
                    default_platform, "membrain-3x4.yaml")
        ->check(CLI::ExistingFile);
    fw_run->add_option("--set", fopt.overrides,
                       "override a platform parameter, KEY=VALUE (repeatable; the core's are cpu.*)")
        ->allow_extra_args(false);  // one KEY=VALUE per --set, so that `--set K=V -- args` works
    fw_run->add_option("--trace", fopt.trace_path, trace_help);
    fw_run->add_option("--trace-format", fopt.trace_format, trace_format_help);
    fw_run->add_flag("--trace-registers", fopt.trace_registers,
                     "with --trace: mark every register access on the host track");
    fw_run->add_option("--report", fopt.report_path,
                       "write a JSON report: exit code, time, the core's instructions, sleep and "
                       "accesses, the energy ledger");
    die_options(fw_run, fw_die, fopt.restore_path, fopt.checkpoint_path,
                "the firmware attaches its image rather than programming it (infer --attach)",
                "at the end, save the array state the firmware left");
    fw_gdb_opt = fw_run->add_option(
        "--gdb", fw_gdb_port,
        "serve GDB's remote protocol on 127.0.0.1:PORT (0: a free port, printed on stderr); the core "
        "waits for GDB before its first instruction, simulated time stands still while it is "
        "halted, and the firmware runs on when GDB detaches (docs/firmware.md, \"Debugging with GDB\")")
                     ->type_name("PORT")
                     ->check(CLI::Range(0, 65535));
    fw_run->add_option("--gdb-port-file", fopt.gdb_port_file,
                       "with --gdb: write the port to this file once listening (for scripts)")
        ->type_name("FILE");
    fw_run->add_flag("-q,--quiet", fopt.quiet, "no summary on stderr");
  }

  void add_sweep(CLI::App& app) {
    sweep = app.add_subcommand(
        "sweep",
        "Run a design-space sweep (docs/sweeps.md): every point of a sweep file (axes over platform "
        "keys, listed or random points, models, seeds) as its own `aimc run` on a local pool, "
        "resumable, into tables: DIR/results.csv (a row per run), DIR/summary.csv (mean, std and "
        "95 % confidence interval over the seeds), DIR/results.jsonl and DIR/sweep.json.");
    sweep->add_option("spec", swopt.spec_path, "the sweep file (YAML)")->required()->check(CLI::ExistingFile);
    sweep->add_option("-o,--output", swopt.out_dir,
                      "the results folder; a run whose results are already there is not run again")
        ->required();
    sweep->add_option("-j,--jobs", swopt.jobs, "runs at once (default: the machine's cores)")
        ->check(CLI::Range(1, 1024));
    sweep->add_flag("--dry-run", swopt.dry_run, "list the runs, and which are done, without running any");
    sweep->add_flag("--no-progress", sweep_no_progress, "no progress line");
    sweep->add_option("--backend", swopt.backend,
                      "local: a pool of -j processes here; slurm: a Slurm job array (sbatch), this "
                      "process waits for it; DIR must be on a filesystem the nodes share (docs/sweeps.md)")
        ->check(CLI::IsMember({"local", "slurm"}))
        ->capture_default_str();
    sweep->add_option("--partition", swopt.slurm_partition, "with --backend slurm: sbatch --partition");
    sweep->add_option("--time", swopt.slurm_time, "with --backend slurm: each array task's time limit (sbatch --time, e.g. 1:00:00)");
    sweep->add_option("--account", swopt.slurm_account, "with --backend slurm: sbatch --account");
    sweep->add_option("--chunk", swopt.slurm_chunk,
                      "with --backend slurm: runs per array task, run one after the other (default 1, "
                      "or as many as keep the array within 1000 tasks)")
        ->check(CLI::Range(1, 1000000));
    sweep->add_option("--slurm-arg", swopt.slurm_args,
                      "with --backend slurm: one more sbatch option, e.g. --slurm-arg=--mem=4G (repeatable)")
        ->allow_extra_args(false);
    sweep->add_option("--poll-ms", swopt.slurm_poll_ms, "with --backend slurm: how often squeue is asked (ms)")
        ->check(CLI::Range(50, 600000))
        ->capture_default_str();
    sweep->add_flag("--no-cache", sweep_no_cache,
                    "compile and program every run itself (default: runs that compile the same share "
                    "DIR/cache/compile, program-and-verify calls with the same inputs share "
                    "DIR/cache/program; the tables are the same either way)");
  }

  void add_plot(CLI::App& app) {
    plot = app.add_subcommand(
        "plot",
        "Plots of a sweep's results folder (docs/plots.md): aimc plot DIR [--kind line|energy|pareto|all] "
        "[--x AXIS] [--y FIGURE] [--by AXIS] [--where KEY=VALUE] [-o OUT]; every argument goes to "
        "scripts/plot_sweep.py (matplotlib, Debian's python3): aimc plot --help lists them.");
    plot->prefix_command();
    plot->set_help_flag();  // --help goes to the script, which knows its options
  }

  int run_plot(const std::vector<std::string>& args) {
    const std::string script = data.found() ? data.file("scripts/plot_sweep.py") : std::string();
    if (script.empty() || ::access(script.c_str(), R_OK) != 0)
      throw aimc::app::UserError("aimc plot: scripts/plot_sweep.py not found in the data folder (" +
                                 (data.found() ? data.path : data.not_found_message()) + ")");
    // Debian's python has matplotlib; another python3 first on PATH may not.
    const std::string python = ::access("/usr/bin/python3", X_OK) == 0 ? "/usr/bin/python3" : "python3";
    std::vector<std::string> argv = {python, script};
    argv.insert(argv.end(), args.begin(), args.end());
    std::vector<char*> c;
    for (auto& a : argv) c.push_back(a.data());
    c.push_back(nullptr);
    std::cout.flush();
    ::execvp(python.c_str(), c.data());
    throw aimc::app::UserError("aimc plot: cannot run " + python + ": " + std::strerror(errno));
  }

  int run_sweep() {
    swopt.progress = !sweep_no_progress;
    swopt.cache = !sweep_no_cache;
    if (swopt.backend != "slurm" && (!swopt.slurm_partition.empty() || !swopt.slurm_time.empty() ||
                                     !swopt.slurm_account.empty() || swopt.slurm_chunk || !swopt.slurm_args.empty()))
      throw aimc::app::UserError("--partition, --time, --account, --chunk and --slurm-arg need --backend slurm");
    swopt.version = "aimc-vp 0.1.0";
    if (data.found()) {
      swopt.lookup.platforms_dir = data.file("platforms");
      swopt.lookup.models_dir = data.file("platforms/models");
    }
    // SIGINT/SIGTERM: the runs under way stop at a command boundary, what finished goes into the
    // tables, exit 128 + the signal; running again resumes.
    aimc::app::install_stop_handlers();
    try {
      return aimc::app::sweep_job(swopt);
    } catch (const aimc::app::SweepSpecError& e) {
      throw aimc::app::UserError(e.what());
    }
  }

  int run_fw() {
    need_bundled(fopt.platform_path, "--platform");
    fw_die.apply(fopt.temp_c, fopt.at_s);
    if (*fw_gdb_opt) fopt.gdb_port = fw_gdb_port;
    return aimc::app::fw_run_job(fopt);
  }

  int run_compile() {
    need_bundled(cjob.platform_path, "--platform");
    need_bundled(cjob.model_path, "--model");
    try {
      aimc::io::check_writable(summary_path, "--summary");
    } catch (const aimc::io::OutputError& e) {
      throw aimc::app::UserError(e.what());
    }
    const auto r = aimc::app::compile_job(cjob);
    std::cout << "aimc compile: " << cjob.model_path << " for " << cjob.platform_path << "\n"
              << "  image        " << r["image_file"].get<std::string>() << " ("
              << r["image_bytes"].get<uint64_t>() << " bytes)\n"
              << "  tiles used   " << r.value("tiles_used", 0) << "\n"
              << "  max batch    " << r.value("max_batch", 0) << " vectors\n"
              << "  MACs         " << r.value("macs_per_inference", 0L) << " per inference\n";
    print_compile_warnings(r);
    if (!summary_path.empty()) {
      try {
        aimc::io::write_file_atomically(summary_path, r.dump(2) + "\n", aimc::io::Folders::create);
      } catch (const aimc::io::OutputError& e) {
        throw aimc::app::UserError(std::string("--summary: ") + e.what());
      }
    }
    return 0;
  }

  // The compiler's warnings (the compile summary's `warnings`: inputs with a zero point, an op
  // whose output is all zero, a network the quantization alone changes) on the terminal.
  static void print_compile_warnings(const nlohmann::json& summary) {
    if (!summary.contains("warnings")) return;
    for (const auto& w : summary["warnings"])
      if (w.is_string()) std::cerr << "aimc: compile warning: " << w.get<std::string>() << "\n";
  }

  int run_config() {
    need_bundled(cfg_platform, "--platform");
    const auto c = aimc::config::load_platform(cfg_platform, cfg_overrides);
    std::cout << aimc::config::dump_platform(c);
    return 0;
  }

  int run_run() {
    need_bundled(opt.platform_path, "--platform");
    need_bundled(opt.model_path, "--model");
    if (*seed_opt) opt.seed = seed;
    if (*temp_opt) opt.temp_c = temp_c;
    if (!at_text.empty()) opt.at_s = aimc::app::parse_duration_s(at_text, "--at");
    opt.progress = !no_progress;
    // SIGINT/SIGTERM: stop at the next command boundary, write the outputs of what ran, and exit
    // with 128 + the signal (README, "Stopping a run"); a second signal kills.
    aimc::app::install_stop_handlers();
    const auto report = aimc::app::run_job(opt);
    if (opt.quiet) {
      std::cout << (report.contains("report_file") ? report["report_file"].get<std::string>() : "")
                << "\n";
    } else {
      std::cout << aimc::app::format_summary(report);
    }
    if (report.contains("compile")) print_compile_warnings(report["compile"]);
    for (const auto& w : report["warnings"]) std::cerr << "aimc: warning: " << w.get<std::string>() << "\n";
    for (const auto& e : report["errors"]) std::cerr << "aimc: " << e.get<std::string>() << "\n";
    if (const int signo = aimc::app::stop_requested()) {
      std::cerr << "aimc: stopped by " << aimc::app::signal_name(signo)
                << (report.value("interrupted", false)
                        ? " after " + std::to_string(report["images"].get<long>()) + " of " +
                              std::to_string(report["images_requested"].get<long>()) + " images"
                        : std::string(" after the last image"))
                << "\n";
      return 128 + signo;
    }
    return report["errors"].empty() ? 0 : 2;
  }

  int dispatch() {
    try {
      if (*comp) return run_compile();
      if (*serve) {
        need_bundled(sopt.platform_path, "--platform");
        serve_die.apply(sopt.temp_c, sopt.at_s);
        // SIGINT/SIGTERM: stop serving at the next request boundary, write the summary, the
        // checkpoint and the trace, exit with 128 + the signal; a second signal kills.
        aimc::app::install_stop_handlers();
        return aimc::app::serve_job(sopt);
      }
      if (*cfg) return run_config();
      if (*fw) return run_fw();
      if (*sweep) return run_sweep();
      if (*plot) return run_plot(plot->remaining());
      return run_run();
    } catch (const aimc::config::ConfigError& e) {
      std::cerr << "aimc: " << e.what() << "\n";
      return 2;
    } catch (const aimc::app::UserError& e) {
      std::cerr << "aimc: " << e.what() << "\n";
      return 2;
    } catch (const aimc::io::OutputError& e) {  // an output path refused before anything ran
      std::cerr << "aimc: " << e.what() << "\n";
      return 2;
    } catch (const std::exception& e) {
      std::cerr << "aimc: error: " << e.what() << "\n";
      return 1;
    }
  }
};

}  // namespace

int sc_main(int argc, char** argv) {
  const aimc::app::DataDir data = aimc::app::locate_data_dir(argc > 0 ? argv[0] : nullptr);
  CLI::App app{"aimc-vp: a SystemC/TLM-2.0 virtual platform of an analog in-memory-compute chip"};
  app.footer(aimc::app::describe_data_dir(data));  // subcommands made after this inherit it
  app.require_subcommand(1);
  app.set_version_flag("--version", "aimc-vp 0.1.0");
  Cli cli(data);
  cli.add_run(app);
  cli.add_config(app);
  cli.add_serve(app);
  cli.add_fw(app);
  cli.add_sweep(app);
  cli.add_plot(app);
  if (argc > 1 && argv[1][0] != '-' && std::string(argv[1]) != "run" &&
      std::string(argv[1]) != "config" && std::string(argv[1]) != "compile" &&
      std::string(argv[1]) != "serve" && std::string(argv[1]) != "fw" && std::string(argv[1]) != "sweep" &&
      std::string(argv[1]) != "plot") {
    std::cerr << "aimc: unknown command '" << argv[1]
              << "' (commands: run, compile, config, serve, fw, sweep, plot; see aimc --help)\n";
    return 2;
  }
  cli.add_compile(app);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);  // --help, --version
    // A bad option is the user's to fix: say so like every other refusal, exit 2.
    std::cerr << "aimc: " << e.what() << " (see aimc --help, or aimc run --help)\n";
    return 2;
  }
  return check_stdout(cli.dispatch());
}

// Our own entry point, so that SystemC's banner can be silenced before the kernel starts (it is
// printed before sc_main runs); SC_COPYRIGHT_MESSAGE set by the user still wins.
int main(int argc, char** argv) {
  setenv("SC_COPYRIGHT_MESSAGE", "DISABLE", 0);
  return sc_core::sc_elab_and_sim(argc, argv);
}
