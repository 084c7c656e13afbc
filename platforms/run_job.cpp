#include "run_job.h"
#include "run_stages.h"
#include "run_caches.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <sstream>

#include <systemc>

#include "aimc_driver.h"
#include "chip/checkpoint.h"
#include "chip/chip.h"
#include "compiler/image.h"
#include "compiler/npy.h"
#include "compiler/compile.h"
#include "compiler/dataset.h"
#include "compiler/onnx_import.h"
#include "config/platform_config.h"
#include "io/atomic_file.h"
#include "numerics/device.h"
#include "numerics/device_model.h"
#include "numerics/rng.h"
#include "sim/accounting.h"
#include "sim/energy_ledger.h"
#include "sim/trace_writers.h"
#include "stop_request.h"

namespace aimc::app {

namespace fs = std::filesystem;

namespace stages {

class Progress {
 public:
  Progress(long total, bool enabled) : total_(total), enabled_(enabled && isatty(2)) {}
  void update(long done) {
    if (!enabled_) return;
    const double s = seconds();
    if (!shown_ && s < 2.0) return;  // runs shorter than 2 s show no bar
    const int width = 30;
    const int fill = total_ > 0 ? static_cast<int>(width * done / total_) : width;
    std::fprintf(stderr, "\r[%s%s] %ld/%ld images  %.1f s", std::string(fill, '#').c_str(),
                 std::string(width - fill, '.').c_str(), done, total_, s);
    shown_ = true;
  }
  void finish() {
    if (shown_) std::fprintf(stderr, "\n");
  }

 private:
  double seconds() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  }
  long total_;
  bool enabled_;
  bool shown_ = false;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

// What identifies a model's weights on the chip: a hash over every WEIGHTS section (tile, block
// size, levels), so a checkpoint is refused for another model but not for other periphery settings.
std::string weights_fingerprint(const compiler::ImageView& image) {
  std::string bytes;
  for (const auto& [tile, w] : image.weights) {
    bytes.append(reinterpret_cast<const char*>(&tile), sizeof tile);
    bytes.append(reinterpret_cast<const char*>(&w.hdr.rows), sizeof w.hdr.rows);
    bytes.append(reinterpret_cast<const char*>(&w.hdr.cols), sizeof w.hdr.cols);
    bytes.append(reinterpret_cast<const char*>(w.levels.data()), w.levels.size() * sizeof(int16_t));
  }
  std::ostringstream o;
  o << "weights fnv1a " << std::hex << num::fnv1a64(bytes) << " (" << std::dec
    << image.weights.size() << " tiles)";
  return o.str();
}


// --input random (seeded uniform [0, 1)) or --input FILE.npy, --limit rows of it.
Eigen::MatrixXf read_inputs(const RunOptions& opt, uint64_t seed, long features) {
  if (opt.input == "random") {
    const long n = opt.limit > 0 ? opt.limit : 100;
    num::Rng rng = num::RngStreams(seed).stream("input/random");
    Eigen::MatrixXf x(n, features);
    for (long i = 0; i < n; ++i)
      for (long j = 0; j < features; ++j) x(i, j) = static_cast<float>(rng.uniform());
    return x;
  }
  Eigen::MatrixXf x;
  try {
    x = compiler::as_rows(compiler::read_npy(opt.input), opt.input);
  } catch (const compiler::NpyError& e) {
    throw UserError(std::string("--input: ") + e.what());
  }
  if (x.cols() != features)
    throw UserError("--input: " + opt.input + " has " + std::to_string(x.cols()) +
                    " values per item, the model takes " + std::to_string(features) +
                    " (an N x C x H x W array is flattened per item in C order)");
  if (!x.allFinite()) throw UserError("--input: " + opt.input + " holds NaN or infinite values");
  if (opt.limit > 0 && x.rows() > opt.limit) x.conservativeResize(opt.limit, Eigen::NoChange);
  return x;
}


// Writes the programming sequence as CSV, one line per cell in programming order (see
// docs/programming-sequence.md), into a temporary file that finish() puts in place.
class SequenceExport {
 public:
  SequenceExport(const std::string& path, const config::PlatformConfig& cfg) : path_(path) {
    try {
      file_ = std::make_unique<io::AtomicFile>(path, io::Folders::create);
    } catch (const io::OutputError& e) {
      throw UserError(std::string("--export-programming: ") + e.what());
    }
    std::ostream& out = file_->stream();
    // log_down pulses (flash) are recorded as Vt shifts in mV, the others as conductance changes.
    vt_mv_ = num::device_model(cfg.tile.device.type).traits().pulse == num::PulseLaw::log_down;
    g_max_ns_ = cfg.tile.device.g_max_ns;
    out << "# aimc programming sequence, platform " << cfg.name << ", device "
        << config::to_string(cfg.tile.device.type) << "; pulse width " << cfg.programming.t_pulse_ns
        << " ns, verify read " << cfg.programming.t_verify_ns << " ns, " << cfg.programming.parallel_cells
        << " cells in parallel\n"
        << "# pulses: " << (vt_mv_ ? "aimed threshold-voltage shift per pulse, mV (> 0 raises Vt)"
                                   : "aimed conductance change per pulse, nS")
        << "; verify: every verify read, nS (the first before any pulse)\n"
        << "tile,row,col,side,target_ns,pulses,converged,pulse_values,verify_ns\n";
  }
  void add(int tile, const num::ProgramResult& r) {
    std::ostream& out = file_->stream();
    char buf[64];
    for (const num::CellRecord& c : r.records) {
      std::snprintf(buf, sizeof buf, "%.6g", c.target * g_max_ns_);
      out << tile << ',' << c.row << ',' << c.col << ',' << (c.negative ? "neg" : "pos") << ','
          << buf << ',' << c.pulse.size() << ',' << (c.converged ? 1 : 0) << ',';
      for (size_t i = 0; i < c.pulse.size(); ++i) {
        std::snprintf(buf, sizeof buf, "%.4g", vt_mv_ ? c.pulse[i] : c.pulse[i] * g_max_ns_);
        out << (i ? ";" : "") << buf;
      }
      out << ',';
      for (size_t i = 0; i < c.verify.size(); ++i) {
        std::snprintf(buf, sizeof buf, "%.5g", c.verify[i] * g_max_ns_);
        out << (i ? ";" : "") << buf;
      }
      out << '\n';
      ++cells_;
    }
  }
  // Closes the file and puts it in place: "" or the error, naming the path.
  std::string finish() {
    try {
      file_->commit();
    } catch (const io::OutputError& e) {
      return e.what();
    }
    return "";
  }
  long cells() const { return cells_; }

 private:
  std::string path_;
  std::unique_ptr<io::AtomicFile> file_;
  bool vt_mv_ = false;  // pulses recorded in mV of Vt (else normalized conductance)
  double g_max_ns_ = 0;
  long cells_ = 0;
};


void prepare(const RunOptions& opt, const config::PlatformConfig& cfg, Prepared& p) {
  // Every output file can be written, before any work (the trace's path: Session). A path that
  // cannot be is refused now, not after the simulation.
  const std::pair<const std::string&, const char*> outputs[] = {
      {opt.report_path, "--report"},
      {opt.dump_outputs_path, "--dump-outputs"},
      {opt.checkpoint_path, "--checkpoint"},
      {opt.export_programming_path, "--export-programming"}};
  for (const auto& [path, option] : outputs) {
    try {
      io::check_writable(path, option);
    } catch (const io::OutputError& e) {
      throw UserError(e.what());
    }
  }
  p.temp_c = opt.temp_c.value_or(cfg.tile.device.t_ref_c);
  const double temp_c = p.temp_c;
  if (!(temp_c >= -55.0 && temp_c <= 150.0)) {
    std::ostringstream m;
    m << "--temp-c: expected a die temperature in [-55, 150] C, got " << temp_c;
    throw UserError(m.str());
  }
  if (!(opt.at_s >= 0.0) || !std::isfinite(opt.at_s))
    throw UserError("--at: the time since programming must be >= 0 s");
  compiler::Graph& net = p.net;
  try {
    net = compiler::import_onnx(opt.model_path);
  } catch (const compiler::ModelError& e) {
    throw UserError(e.what());
  }
  if (opt.batch < 0) throw UserError("--batch: expected 0 (as many as fit) or a positive number of images");
  const compiler::CompileOptions copt = make_compile_options(opt.depthwise, opt.replicate, opt.compile_options);
  // Inputs: the data set (with labels), seeded random inputs, or a .npy file (no labels).
  compiler::Dataset& test = p.test;
  compiler::Dataset& calib = p.calib;
  p.labelled = opt.input.empty();
  const bool labelled = p.labelled;
  std::string& input_desc = p.input_desc;
  if (labelled) {
    try {
      test = compiler::load_idx(idx_file(opt.data_dir, "t10k-images-idx3-ubyte"),
                                idx_file(opt.data_dir, "t10k-labels-idx1-ubyte"), opt.limit);
    } catch (const compiler::DatasetError& e) {
      throw UserError(e.what());
    }
    input_desc = "data set " + opt.data_dir;
  } else {
    test.images = read_inputs(opt, cfg.simulation.seed, net.in_features());
    // No training set: the inputs calibrate the scales themselves (the first calibration_vectors).
    calib.images = test.images.topRows(std::min<Eigen::Index>(copt.calibration_vectors, test.images.rows()));
    input_desc = opt.input == "random" ? "random (seeded, uniform in [0, 1))" : opt.input;
  }
  p.n = static_cast<long>(test.images.rows());
  const long n = p.n;
  if (n == 0) throw UserError("--limit: no inputs to run");
  if (test.images.cols() != net.in_features())
    throw UserError(opt.model_path + ": the model takes " + std::to_string(net.in_features()) + " inputs (" +
                    compiler::to_string(net.in_shape()) + ") but the data set images have " +
                    std::to_string(test.images.cols()) + "; pass --input random or --input FILE.npy");

  // The training images calibrate (the data set), unless the compiled model is in the cache.
  const auto load_calibration = [&] {
    if (!labelled) return;
    try {
      calib = compiler::load_idx(idx_file(opt.data_dir, "train-images-idx3-ubyte"),
                                 idx_file(opt.data_dir, "train-labels-idx1-ubyte"), copt.calibration_vectors);
    } catch (const compiler::DatasetError& e) {
      throw UserError(e.what());
    }
  };
  const auto compile_now = [&] {
    load_calibration();
    try {
      p.compiled = compiler::compile(net, cfg, calib.images, copt);
    } catch (const compiler::CompileError& e) {
      throw UserError(e.what());
    }
  };
  if (opt.compile_cache_dir.empty()) {
    compile_now();
  } else {
    CompileCache cache(opt.compile_cache_dir,
                       compile_cache_key(opt, cfg, copt, labelled ? Eigen::MatrixXf() : calib.images));
    p.compile_cache_key = cache.key();
    if (cache.load(p.compiled)) {
      p.compile_cache_state = "hit";
    } else {
      compile_now();
      const std::string error = cache.store(p.compiled);
      p.compile_cache_state = error.empty() ? "miss" : "miss (not stored: " + error + ")";
    }
  }

  p.image_view = compiler::parse_image(p.compiled.image);
  p.model_fp = weights_fingerprint(p.image_view);

  // ---- Software baseline. ----
  p.float_logits = net.forward(test.images);
  if (labelled)
    for (long i = 0; i < n; ++i) p.float_correct += argmax_row(p.float_logits, i) == test.labels[i];
}



// The firmware's HAL with a stop point: while armed (the deploy), a stop request (SIGINT,
// SIGTERM) ends the firmware at the next command boundary: once the chip signals a command done,
// the wait for it fails and the driver returns. The other operations pass through.
class StoppableHal {
 public:
  explicit StoppableHal(aimc_hal_t inner) : inner_(inner) {}
  aimc_hal_t hal() { return aimc_hal_t{&kOps, this}; }
  bool armed = false;
  bool stopped = false;  // the firmware was stopped here

 private:
  static StoppableHal& self(void* ctx) { return *static_cast<StoppableHal*>(ctx); }
  static int read32(void* c, uint32_t offset, uint32_t* value) {
    return self(c).inner_.ops->read32(self(c).inner_.ctx, offset, value);
  }
  static int write32(void* c, uint32_t offset, uint32_t value) {
    return self(c).inner_.ops->write32(self(c).inner_.ctx, offset, value);
  }
  static int dma_alloc(void* c, size_t size, aimc_dma_buf_t* buf) {
    return self(c).inner_.ops->dma_alloc(self(c).inner_.ctx, size, buf);
  }
  static void dma_free(void* c, aimc_dma_buf_t* buf) { self(c).inner_.ops->dma_free(self(c).inner_.ctx, buf); }
  static int dma_sync(void* c, aimc_dma_buf_t* buf, size_t offset, size_t len, int direction) {
    return self(c).inner_.ops->dma_sync(self(c).inner_.ctx, buf, offset, len, direction);
  }
  static int wait_irq(void* c, uint64_t timeout_ns) {
    StoppableHal& h = self(c);
    const int rc = h.inner_.ops->wait_irq(h.inner_.ctx, timeout_ns);
    if (rc != AIMC_HAL_OK || !h.armed || stop_requested() == 0) return rc;
    h.stopped = true;
    return AIMC_HAL_BUS_ERROR;
  }
  static constexpr aimc_hal_ops_t kOps{&read32, &write32, &dma_alloc, &dma_free, &dma_sync, &wait_irq};
  aimc_hal_t inner_;
};

// Builds the chip, restores or deploys the model through the firmware driver, waits the time
// --at asks for and runs the inferences; throws when the firmware fails. A stop request (SIGINT,
// SIGTERM) ends it at the next command boundary, with what ran so far (out.stop_signal).
void simulate(const RunOptions& opt, Session& session, const Prepared& p, Simulated& out) {
  const config::PlatformConfig& cfg = session.config();
  const compiler::Graph& net = p.net;
  const compiler::Dataset& test = p.test;
  const compiler::CompiledModel& compiled = p.compiled;
  const compiler::ImageView& image_view = p.image_view;
  const long n = p.n;
  const double temp_c = p.temp_c;
  // ---- The platform. ----
  out.wall_prepared = WallClock::now();  // inputs, import, compile, float baseline done
  out.wall_deploy_end = out.wall_sim_end = out.wall_prepared;
  out.images_requested = n;
  if ((out.stop_signal = stop_requested()) != 0) {  // stopped while preparing: no chip
    out.stopped_during = "prepare";
    return;
  }
  WallClock::time_point& wall_deploy_end = out.wall_deploy_end;
  sim::EnergyLedger& ledger = session.ledger();
  chip::Chip& chip = session.build_chip();
  {
    // Energy by op: each segment's program numbers its ops from 0.
    std::vector<std::vector<std::string>> names(image_view.segments.size());
    for (const auto& op : compiled.summary["layers"])
      names[op["segment"].get<size_t>()].push_back(op["name"].get<std::string>());
    for (size_t s = 0; s < names.size(); ++s)
      chip.sequencer().set_layer_names(image_view.segments[s].program_dest_addr, names[s]);
  }
  if (!opt.program_cache_dir.empty()) {
    out.program_store =
        make_folder_program_store(opt.program_cache_dir, static_cast<uint64_t>(opt.program_cache_max_mb) << 20);
    for (chip::Tile* t : chip.tiles()) t->set_program_store(out.program_store.get());
  }
  out.restored = !opt.restore_path.empty();
  const bool restored = out.restored;
  if (restored) {
    try {
      out.restored_header = chip::restore_checkpoint(opt.restore_path, chip, p.model_fp);
    } catch (const chip::CheckpointError& e) {
      throw UserError(std::string("--restore: ") + e.what());
    }
  }
  std::unique_ptr<SequenceExport>& sequence = out.sequence;
  if (!opt.export_programming_path.empty()) {
    if (restored)
      throw UserError("--export-programming: nothing is programmed when the chip is restored "
                      "from a checkpoint (--restore)");
    sequence = std::make_unique<SequenceExport>(opt.export_programming_path, cfg);
    chip.programmer().set_record_sink(
        [&sequence](int tile, const num::ProgramResult& r) { sequence->add(tile, r); });
  }

  out.outputs.resize(n, static_cast<Eigen::Index>(net.out_features()));
  Eigen::MatrixXi& outputs = out.outputs;
  chip::ChipStats& deploy_stats = out.deploy_stats;
  int fw_status = AIMC_OK;
  std::string fw_step;
  uint64_t& t_deploy_end_ps = out.t_deploy_end_ps;
  uint64_t& t_end_ps = out.t_end_ps;
  uint32_t& tiles_adjusted = out.tiles_adjusted;
  int32_t& temp_sensor_mc = out.temp_sensor_mc;
  double& single_chip_ns = out.single_chip_ns;
  double& single_e2e_ns = out.single_e2e_ns;
  long& commands = out.commands;
  aimc_dev_t& dev = out.dev;
  Progress progress(n, opt.progress && !opt.quiet);
  chip.sequencer().set_command_sink([&out](const chip::Sequencer::CommandTiming& c) {
    if (out.recording_single) out.single_commands.push_back(c);
  });

  std::optional<StoppableHal> stoppable;
  session.run([&](aimc_hal_t chip_hal) {
    stoppable.emplace(chip_hal);
    stoppable->armed = true;  // the deploy: stop between programming commands
    const aimc_hal_t hal = stoppable->hal();
    fw_step = "init";
    if ((fw_status = aimc_init(&dev, hal)) != AIMC_OK) return;
    fw_step = restored ? "attach image (tiles restored from the checkpoint)" : "load image";
    fw_status = restored ? aimc_attach_image(&dev, compiled.image.data(), compiled.image.size())
                         : aimc_load_image(&dev, compiled.image.data(), compiled.image.size());
    if (fw_status != AIMC_OK) return;
    if (opt.drift_compensation && !restored) {
      fw_step = "drift reference";
      if ((fw_status = aimc_drift_reference(&dev)) != AIMC_OK) return;
    }
    stoppable->armed = false;  // the inferences stop between commands, below
    chip.cpu().sync();
    wall_deploy_end = WallClock::now();
    t_deploy_end_ps = sim::to_ps(sc_core::sc_time_stamp());
    deploy_stats = chip.stats();
    ledger.set_phase(sim::Phase::infer, t_deploy_end_ps);
    // Time passes (unsimulated) and the die reaches its temperature; then the firmware may
    // compensate the drift before it runs inference.
    chip.set_environment(temp_c, opt.at_s);
    if (opt.drift_compensation) {
      fw_step = "drift compensation";
      if ((fw_status = aimc_drift_compensate(&dev, &tiles_adjusted)) != AIMC_OK) return;
    }
    fw_step = "read temperature";
    if ((fw_status = aimc_read_temperature(&dev, &temp_sensor_mc)) != AIMC_OK) return;
    fw_step = "infer";
    // Row-major input codes, one image after another, each in the chip's H, W, C order.
    Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> x =
        compiler::chw_to_hwc(test.images, net.in_shape());
    std::vector<uint8_t> codes(static_cast<size_t>(x.size()));
    if ((fw_status = aimc_quantize_inputs(&dev, x.data(), codes.size(), codes.data())) != AIMC_OK)
      return;
    const uint32_t out_f = dev.out_features;
    std::vector<int32_t> result(static_cast<size_t>(dev.max_batch) * out_f);
    long done = 0;
    while (done < n) {
      if (stop_requested() != 0) {
        out.stopped_during = "infer";
        break;
      }
      // The first image runs alone: its command measures the latency of one inference on an
      // otherwise idle chip. The rest run in batches as large as the SRAM layout allows.
      const long cap = opt.batch > 0 ? std::min<long>(opt.batch, dev.max_batch) : dev.max_batch;
      const uint32_t batch = done == 0 ? 1u : static_cast<uint32_t>(std::min<long>(cap, n - done));
      const uint64_t t_call = sim::to_ps(chip.cpu().local_time());
      out.recording_single = done == 0;
      fw_status = aimc_infer(&dev, codes.data() + done * dev.in_features, batch, result.data());
      out.recording_single = false;
      if (fw_status != AIMC_OK) return;
      for (uint32_t v = 0; v < batch; ++v)
        for (uint32_t j = 0; j < out_f; ++j)
          outputs(done + v, j) = result[static_cast<size_t>(v) * out_f + j];
      if (done == 0) {
        single_chip_ns = static_cast<double>(dev.last_latency_ns);
        single_e2e_ns = (sim::to_ps(chip.cpu().local_time()) - t_call) / 1000.0;
        // With segments, the image waits between them: from one segment's output in SRAM to
        // the next segment's doorbell the firmware reprograms the tiles (load_segment: weight
        // DMA, PROGRAM, interrupt) and starts the next command.
        const auto& cmds = out.single_commands;
        uint64_t wait_ps = 0;
        for (size_t i = 1; i < cmds.size(); ++i) wait_ps += cmds[i].start_ps - cmds[i - 1].first_output_ps;
        out.single_reload_ns = wait_ps / 1000.0;
      }
      out.batch_used = std::max<long>(out.batch_used, batch);
      ++commands;
      done += batch;
      out.images_done = done;
      progress.update(done);
    }
    chip.cpu().sync();
    t_end_ps = sim::to_ps(sc_core::sc_time_stamp());
  });

  chip.sequencer().set_command_sink({});
  out.wall_sim_end = WallClock::now();
  progress.finish();
  if (!chip.cpu().finished())
    throw std::runtime_error("simulation ended before the firmware finished (" + fw_step + ")");
  out.stop_signal = stop_requested();
  if (stoppable && stoppable->stopped) {  // during the deploy, which the firmware left unfinished
    out.stopped_during = "deploy";
    out.images_done = 0;
    out.wall_deploy_end = out.wall_sim_end;
    return;
  }
  if (fw_status != AIMC_OK) {
    std::ostringstream m;
    m << "firmware: " << fw_step << " failed: " << aimc_strerror(fw_status);
    if (fw_status == AIMC_E_DEVICE)
      m << " (chip error code " << dev.device_error << " at 0x" << std::hex << dev.device_error_addr
        << std::dec << "; see docs/registers.md)";
    if (!chip.sequencer().last_problem().empty())
      m << "; the sequencer refused the program: " << chip.sequencer().last_problem();
    throw std::runtime_error(m.str());
  }
  ledger.advance(t_end_ps);
  out.end_stats = chip.stats();
}










void keep_first_images(Prepared& p, Simulated& s, long images) {
  p.n = images;
  p.test.images.conservativeResize(images, Eigen::NoChange);
  if (p.labelled) p.test.labels.resize(static_cast<size_t>(images));
  p.float_logits.conservativeResize(images, Eigen::NoChange);
  p.float_correct = 0;
  if (p.labelled)
    for (long i = 0; i < images; ++i) p.float_correct += argmax_row(p.float_logits, i) == p.test.labels[i];
  s.outputs.conservativeResize(images, Eigen::NoChange);
}

// Output files, each written whole or not at all (io/atomic_file.h): a file that cannot be written
// is reported in r["errors"] (and makes the exit code non-zero), but never costs the other outputs
// or the printed summary. After a stop, the outputs hold what ran; those that need more (the
// outputs of no image, the checkpoint of a chip not programmed) are left out with a warning.
void write_outputs(const RunOptions& opt, Session& session, const Prepared& p, Simulated& s,
                   const Eigen::MatrixXf& platform_logits, nlohmann::json& r) {
  sim::TraceRecording& trace = session.trace();
  std::unique_ptr<SequenceExport>& sequence = s.sequence;
  const std::string& model_fp = p.model_fp;
  auto ensure_parent = [](const std::string& path) {
    const auto parent = std::filesystem::path(path).parent_path();
    if (!parent.empty()) std::filesystem::create_directories(parent);
  };
  r["errors"] = nlohmann::json::array();
  if (trace.on()) {
    const std::string error = session.write_trace();
    if (error.empty()) {
      r["trace_file"] = opt.trace_path;
      r["trace_events"] = trace.store()->event_count();
      r["trace_dropped_events"] = trace.store()->dropped_events();
    } else {
      r["errors"].push_back(error);
    }
  }
  if (!opt.dump_outputs_path.empty() && s.images_done == 0) {
    r["warnings"].push_back("--dump-outputs: not written: the run stopped before any image ran");
  } else if (!opt.dump_outputs_path.empty()) {
    try {
      ensure_parent(opt.dump_outputs_path);
      compiler::write_npy(opt.dump_outputs_path, platform_logits);
      r["outputs_file"] = opt.dump_outputs_path;
    } catch (const std::exception& e) {
      r["errors"].push_back(std::string("--dump-outputs: ") + e.what());
    }
  }
  if (sequence) {
    r["programming_sequence_file"] = opt.export_programming_path;
    r["programming_sequence_cells"] = sequence->cells();
    const std::string error = sequence->finish();
    if (!error.empty()) r["errors"].push_back("--export-programming: " + error);
  }
  if (!opt.checkpoint_path.empty() && !s.deployed()) {
    r["warnings"].push_back("--checkpoint: not saved: the run stopped before the chip was programmed");
  } else if (!opt.checkpoint_path.empty()) {
    try {
      ensure_parent(opt.checkpoint_path);
      chip::save_checkpoint(opt.checkpoint_path, session.chip(), model_fp);
      r["checkpoint_file"] = opt.checkpoint_path;
    } catch (const std::exception& e) {
      r["errors"].push_back(std::string("--checkpoint: ") + e.what());
    }
  }
  if (!opt.report_path.empty()) {
    try {
      io::write_file_atomically(opt.report_path, r.dump(2) + "\n", io::Folders::create);
      r["report_file"] = opt.report_path;
    } catch (const std::exception& e) {
      r["errors"].push_back(std::string("--report: ") + e.what());
    }
  }
}

}  // namespace stages

double parse_duration_s(const std::string& text, const std::string& option) {
  const auto fail = [&] {
    return UserError(option + ": expected a duration such as 1h, 30min, 10y or 2.5d (units ms, s, "
                              "min, h, d, w, y; a bare number is seconds), got '" + text + "'");
  };
  const auto out_of_range = [&] {
    return UserError(option + ": '" + text + "' is out of range: at most " + std::to_string(kMaxDurationYears) +
                     " y (" + std::to_string(static_cast<long long>(kMaxDurationYears * 365.25 * 86400.0)) +
                     " s) after programming");
  };
  // strtod rather than stod: a number beyond double (1e400) reads as infinity and is out of range
  // like 1e308y, instead of an exception; one below (1e-400) reads as about 0.
  char* end = nullptr;
  const double value = std::strtod(text.c_str(), &end);
  if (end == text.c_str()) throw fail();
  const size_t pos = static_cast<size_t>(end - text.c_str());
  std::string unit = text.substr(pos);
  unit.erase(0, unit.find_first_not_of(' '));
  static const std::pair<const char*, double> kUnits[] = {
      {"", 1.0},          {"s", 1.0},         {"ms", 1e-3},          {"min", 60.0},
      {"h", 3600.0},      {"d", 86400.0},     {"w", 7 * 86400.0},    {"y", 365.25 * 86400.0}};
  for (const auto& [name, factor] : kUnits)
    if (unit == name) {
      if (std::isnan(value) || value < 0)
        throw UserError(option + ": the duration must be >= 0, got '" + text + "'");
      if (!(value * factor <= kMaxDurationYears * 365.25 * 86400.0)) throw out_of_range();
      return value * factor;
    }
  throw fail();
}

nlohmann::json run_job(const RunOptions& opt) {
  using namespace stages;
  const auto wall_start = WallClock::now();
  // Platform (the session refuses a bad trace format first), model, data, compile, float baseline.
  std::vector<std::string> overrides = opt.overrides;
  if (opt.seed) overrides.push_back("simulation.seed=" + std::to_string(*opt.seed));
  Session session({opt.platform_path, overrides, opt.trace_path, opt.trace_format, opt.trace_registers});
  Prepared prepared;
  prepare(opt, session.config(), prepared);
  Simulated simulated;
  simulate(opt, session, prepared, simulated);
  Eigen::MatrixXf platform_logits;
  nlohmann::json r;
  if (simulated.stopped()) {  // SIGINT or SIGTERM: the report and the trace of what ran
    session.set_trace_metadata("stopped", std::string(signal_name(simulated.stop_signal)) + " after " +
                                              std::to_string(simulated.images_done) + " of " +
                                              std::to_string(simulated.images_requested) + " images");
    if (simulated.images_done > 0) keep_first_images(prepared, simulated, simulated.images_done);
  }
  if (simulated.stopped() && simulated.images_done == 0)
    r = make_stopped_report(opt, session, prepared, simulated, wall_start);
  else
    r = make_report(opt, session, prepared, simulated, wall_start, platform_logits);
  write_outputs(opt, session, prepared, simulated, platform_logits, r);
  return r;
}

}  // namespace aimc::app
