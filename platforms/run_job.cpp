#include "run_job.h"

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
#include "numerics/device.h"
#include "numerics/device_model.h"
#include "numerics/rng.h"
#include "sim/accounting.h"
#include "sim/energy_ledger.h"
#include "sim/trace_writers.h"

namespace aimc::app {

namespace {

int argmax_row(const Eigen::MatrixXf& m, Eigen::Index r) {
  Eigen::Index best = 0;
  m.row(r).maxCoeff(&best);
  return static_cast<int>(best);
}

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

// Weight error of every programmed pair as the network sees it now: gain * (g+ - g-) - level *
// level_step, with the tile's digital gain (drift compensation) and the conductances a read sees,
// in fractions of the full-scale weight (1 - g_min/g_max), over the tiles that `segment` of the
// image uses (with weight reload, the segment the tiles hold now).
nlohmann::json weight_error_now(const chip::Chip& chip, const compiler::ImageView& image, size_t segment) {
  double sum = 0, sum_sq = 0, max_abs = 0, w_sq = 0;
  long n = 0;
  for (const auto& [tile_index, w] : image.segments.at(segment).weights) {
    const chip::Tile& t = chip.tile(static_cast<int>(tile_index));
    const num::DeviceSpec& spec = t.physics().cell;
    const double step = num::level_step(spec);
    const double full = 1.0 - spec.g_min_ns / spec.g_max_ns;
    const auto& gp = t.crossbar().g_pos();
    const auto& gn = t.crossbar().g_neg();
    const double gain = t.gain_q16() / 65536.0;  // the digital drift-compensation gain
    for (uint32_t r = 0; r < w.hdr.rows; ++r)
      for (uint32_t c = 0; c < w.hdr.cols; ++c) {
        const double target = w.level(r, c) * step;
        const double e = (gain * (static_cast<double>(gp(r, c)) - gn(r, c)) - target) / full;
        sum += e;
        sum_sq += e * e;
        w_sq += (target / full) * (target / full);
        max_abs = std::max(max_abs, std::fabs(e));
        ++n;
      }
  }
  if (n == 0) return nlohmann::json::object();
  const double mean = sum / n;
  return {{"unit", "mean, std, max_abs: fractions of the full-scale weight (g_max - g_min); "
                   "relative_rms: rms error / rms target weight"},
          {"pairs", n},
          {"mean", mean},
          {"std", std::sqrt(std::max(0.0, sum_sq / n - mean * mean))},
          {"max_abs", max_abs},
          {"relative_rms", w_sq > 0 ? std::sqrt(sum_sq / w_sq) : 0.0}};
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

// The deploy section of the report, from the programming controller's totals and the ledger.
nlohmann::json deploy_report(const chip::ProgrammingStats& st, const sim::EnergyLedger& ledger,
                             uint64_t t_deploy_ps, bool restored) {
  nlohmann::json d;
  d["restored_from_checkpoint"] = restored;
  d["time_ns"] = t_deploy_ps / 1000.0;
  d["energy_j"] = ledger.phase_j(sim::Phase::deploy);
  nlohmann::json by_comp = nlohmann::json::object();
  for (int c = 0; c < ledger.component_count(); ++c) {
    const double j = ledger.component_phase_j(c, sim::Phase::deploy);
    if (j > 0) by_comp[ledger.component_name(c)] = j;
  }
  d["energy_j_by_component"] = by_comp;
  d["programming_time_ns"] = st.busy_ps / 1000.0;
  d["program_commands"] = st.program_commands;
  d["cells"] = st.cells;
  d["pulses"] = st.pulses;
  d["verify_reads"] = st.verify_reads;
  d["erase_operations"] = st.erase_operations;
  d["unconverged_cells"] = st.unconverged;
  d["yield"] = st.cells > 0 ? 1.0 - static_cast<double>(st.unconverged) / st.cells : 1.0;
  d["pulses_per_cell"] = st.cells > 0 ? static_cast<double>(st.pulses) / st.cells : 0.0;
  d["iteration_histogram"] = st.iteration_histogram;
  nlohmann::json err;
  err["unit"] = "fraction of g_max (programmed conductance - target, at programming)";
  if (st.cells > 0) {
    const double mean = st.error_sum / st.cells;
    err["mean"] = mean;
    err["std"] = std::sqrt(std::max(0.0, st.error_sum_sq / st.cells - mean * mean));
    err["max_abs"] = st.error_max_abs;
  }
  std::vector<double> edges;
  for (int b = 0; b <= chip::ProgrammingStats::kErrorBins; ++b)
    edges.push_back(-chip::ProgrammingStats::kErrorRange + b * chip::ProgrammingStats::kErrorBinWidth);
  const auto& h = st.error_histogram;
  err["histogram"] = {{"bin_edges", edges},
                      {"counts", std::vector<long>(h.begin() + 1, h.end() - 1)},
                      {"below", h.front()},
                      {"above", h.back()}};
  d["weight_error"] = err;
  nlohmann::json tiles = nlohmann::json::array();
  for (const auto& t : st.by_tile)
    tiles.push_back({{"tile", t.tile}, {"cells", t.cells}, {"pulses", t.pulses},
                     {"unconverged", t.unconverged}, {"max_pulses", t.max_pulses},
                     {"time_ns", t.time_ps / 1000.0}});
  d["by_command"] = tiles;
  return d;
}

// Writes the programming sequence as CSV, one line per cell in programming order (see
// docs/programming-sequence.md).
class SequenceExport {
 public:
  SequenceExport(const std::string& path, const config::PlatformConfig& cfg) : path_(path) {
    const auto parent = std::filesystem::path(path).parent_path();
    if (!parent.empty()) std::filesystem::create_directories(parent);
    f_.open(path);
    if (!f_) throw UserError("--export-programming: cannot write " + path);
    // log_down pulses (flash) are recorded as Vt shifts in mV, the others as conductance changes.
    vt_mv_ = num::device_model(cfg.tile.device.type).traits().pulse == num::PulseLaw::log_down;
    g_max_ns_ = cfg.tile.device.g_max_ns;
    f_ << "# aimc programming sequence, platform " << cfg.name << ", device "
       << config::to_string(cfg.tile.device.type) << "; pulse width " << cfg.programming.t_pulse_ns
       << " ns, verify read " << cfg.programming.t_verify_ns << " ns, " << cfg.programming.parallel_cells
       << " cells in parallel\n"
       << "# pulses: " << (vt_mv_ ? "aimed threshold-voltage shift per pulse, mV (> 0 raises Vt)"
                                  : "aimed conductance change per pulse, nS")
       << "; verify: every verify read, nS (the first before any pulse)\n"
       << "tile,row,col,side,target_ns,pulses,converged,pulse_values,verify_ns\n";
  }
  void add(int tile, const num::ProgramResult& r) {
    char buf[64];
    for (const num::CellRecord& c : r.records) {
      std::snprintf(buf, sizeof buf, "%.6g", c.target * g_max_ns_);
      f_ << tile << ',' << c.row << ',' << c.col << ',' << (c.negative ? "neg" : "pos") << ','
         << buf << ',' << c.pulse.size() << ',' << (c.converged ? 1 : 0) << ',';
      for (size_t i = 0; i < c.pulse.size(); ++i) {
        std::snprintf(buf, sizeof buf, "%.4g", vt_mv_ ? c.pulse[i] : c.pulse[i] * g_max_ns_);
        f_ << (i ? ";" : "") << buf;
      }
      f_ << ',';
      for (size_t i = 0; i < c.verify.size(); ++i) {
        std::snprintf(buf, sizeof buf, "%.5g", c.verify[i] * g_max_ns_);
        f_ << (i ? ";" : "") << buf;
      }
      f_ << '\n';
      ++cells_;
    }
  }
  // Closes the file; false if anything failed to write.
  bool finish() {
    f_.close();
    return static_cast<bool>(f_);
  }
  long cells() const { return cells_; }

 private:
  std::string path_;
  std::ofstream f_;
  bool vt_mv_ = false;  // pulses recorded in mV of Vt (else normalized conductance)
  double g_max_ns_ = 0;
  long cells_ = 0;
};

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
};

void prepare(const RunOptions& opt, const config::PlatformConfig& cfg, Prepared& p) {
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
      calib = compiler::load_idx(idx_file(opt.data_dir, "train-images-idx3-ubyte"),
                                 idx_file(opt.data_dir, "train-labels-idx1-ubyte"), copt.calibration_vectors);
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

  try {
    p.compiled = compiler::compile(net, cfg, calib.images, copt);
  } catch (const compiler::CompileError& e) {
    throw UserError(e.what());
  }

  p.image_view = compiler::parse_image(p.compiled.image);
  p.model_fp = weights_fingerprint(p.image_view);

  // ---- Software baseline. ----
  p.float_logits = net.forward(test.images);
  if (labelled)
    for (long i = 0; i < n; ++i) p.float_correct += argmax_row(p.float_logits, i) == test.labels[i];
}

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
  WallClock::time_point wall_prepared, wall_deploy_end, wall_sim_end;
};

// Builds the chip, restores or deploys the model through the firmware driver, waits the time
// --at asks for and runs the inferences; throws when the firmware fails.
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

  session.run([&](aimc_hal_t hal) {
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
    for (long done = 0; done < n;) {
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

// The platform's outputs in the float model's units (C, H, W order) into platform_logits, and
// how they compare with the labels and the float reference: r["accuracy"],
// r["agreement_with_float"].
void add_accuracy(nlohmann::json& r, const Prepared& p, const Simulated& s, Eigen::MatrixXf& platform_logits) {
  const Eigen::MatrixXf& float_logits = p.float_logits;
  const long n = p.n;
  platform_logits = compiler::hwc_to_chw(Eigen::MatrixXf(s.outputs.cast<float>() * s.dev.out_scale),
                                         p.net.out_shape());
  long platform_correct = 0, agree = 0;
  for (long i = 0; i < n; ++i) {
    const int best = argmax_row(platform_logits, i);
    if (p.labelled) platform_correct += best == p.test.labels[i];
    agree += best == argmax_row(float_logits, i);
  }
  const double ref_rms = std::sqrt(float_logits.squaredNorm() / std::max<double>(1.0, float_logits.size()));
  const double err_rms =
      std::sqrt((platform_logits - float_logits).squaredNorm() / std::max<double>(1.0, float_logits.size()));
  if (p.labelled)
    r["accuracy"] = {{"float", static_cast<double>(p.float_correct) / n},
                     {"platform", static_cast<double>(platform_correct) / n}};
  else
    r["accuracy"] = nullptr;  // no labels: compare with the float outputs instead
  r["agreement_with_float"] = {{"top1", static_cast<double>(agree) / n},
                               {"output_rms_error_relative", ref_rms > 0 ? err_rms / ref_rms : 0.0}};
}

// Latency, time, energy and throughput of the inferences, from the simulated times and the ledger.
void add_performance(nlohmann::json& r, const Prepared& p, const Simulated& s, sim::EnergyLedger& ledger) {
  const long n = p.n;
  const uint64_t t_deploy_end_ps = s.t_deploy_end_ps, t_end_ps = s.t_end_ps;
  const double infer_s = (t_end_ps - t_deploy_end_ps) * 1e-12;
  const double e_infer = ledger.phase_j(sim::Phase::infer);
  const double e_deploy = ledger.phase_j(sim::Phase::deploy);
  const double ops = 2.0 * static_cast<double>(p.compiled.macs_per_inference) * n;
  // One image alone, from its first segment's doorbell to its output in SRAM: the compute (the
  // sequencer's latency of each segment) plus, with weight reload, the reprogramming between the
  // segments that the image waits for (docs/chip-model.md, "Latency figures in the report").
  r["latency_ns"] = {
      {"per_inference", s.single_chip_ns + s.single_reload_ns},
      {"per_inference_compute", s.single_chip_ns},
      {"per_inference_reload", s.single_reload_ns},
      {"per_inference_with_dma", s.single_e2e_ns},
      {"amortized_per_inference", infer_s * 1e9 / n},
  };
  r["time_ns"] = {{"deploy", t_deploy_end_ps / 1000.0},
                  {"infer", (t_end_ps - t_deploy_end_ps) / 1000.0},
                  {"total", t_end_ps / 1000.0}};
  nlohmann::json by_comp = nlohmann::json::object(), by_layer = nlohmann::json::object();
  for (int c = 0; c < ledger.component_count(); ++c)
    if (ledger.component_phase_j(c, sim::Phase::infer) > 0)
      by_comp[ledger.component_name(c)] = ledger.component_phase_j(c, sim::Phase::infer) / n;
  for (int l = 0; l < ledger.layer_count(); ++l)
    by_layer[ledger.layer_name(l)] = ledger.layer_phase_j(l, sim::Phase::infer) / n;
  r["energy_j"] = {{"per_inference", e_infer / n},
                   {"by_component", by_comp},
                   {"by_layer", by_layer},
                   {"infer", e_infer},
                   {"deploy", e_deploy},
                   {"total", ledger.total_j()},
                   {"ledger", ledger.to_json()}};
  r["tops"] = infer_s > 0 ? ops / infer_s / 1e12 : 0.0;
  r["tops_per_w"] = e_infer > 0 ? ops / e_infer / 1e12 : 0.0;
  // The same without the host component (host link, DMA, register accesses): what the chip
  // itself spends, for comparison with published chip figures that stop at the chip boundary.
  const double e_host = ledger.component_phase_j(ledger.component("host"), sim::Phase::infer);
  r["tops_per_w_chip"] = e_infer - e_host > 0 ? ops / (e_infer - e_host) / 1e12 : 0.0;
  r["throughput_inferences_per_s"] = infer_s > 0 ? n / infer_s : 0.0;
}

// Silicon: the chip's area by block, its peak rate, throughput and power per area, and the
// inference energy split into static (leakage integrated over time) and dynamic (events) per
// component.
void add_silicon(nlohmann::json& r, const chip::Chip& chip, const Prepared& p, const Simulated& s,
                 sim::EnergyLedger& ledger) {
  const chip::ChipArea a = chip.area();
  const double mm2 = 1e-6;  // per um^2
  const double total_mm2 = a.total() * mm2;
  r["area_mm2"] = {{"dac", a.dac * mm2},         {"array", a.array * mm2}, {"adc", a.adc * mm2},
                   {"digital", a.digital * mm2}, {"sram", a.sram * mm2},   {"total", total_mm2}};
  const double peak_tops = chip.peak_ops_per_s() / 1e12;
  r["peak_tops"] = peak_tops;
  r["peak_tops_per_mm2"] = total_mm2 > 0 ? peak_tops / total_mm2 : 0.0;
  r["tops_per_mm2"] = total_mm2 > 0 ? r["tops"].get<double>() / total_mm2 : 0.0;
  const double infer_s = (s.t_end_ps - s.t_deploy_end_ps) * 1e-12;
  const double e_infer = ledger.phase_j(sim::Phase::infer);
  r["average_power_w"] = infer_s > 0 ? e_infer / infer_s : 0.0;
  nlohmann::json split = nlohmann::json::object();
  double e_static = 0;
  for (int c = 0; c < ledger.component_count(); ++c) {
    const double total = ledger.component_phase_j(c, sim::Phase::infer);
    if (total <= 0) continue;
    const double st = ledger.component_phase_static_j(c, sim::Phase::infer);
    e_static += st;
    split[ledger.component_name(c)] = {{"static", st / p.n}, {"dynamic", (total - st) / p.n}};
  }
  r["energy_j"]["by_component_static_dynamic"] = split;
  r["energy_j"]["static_per_inference"] = e_static / p.n;
  r["energy_j"]["dynamic_per_inference"] = (e_infer - e_static) / p.n;
}

// What the compiler made of the model: size, placement, depthwise, replication, its summary.
void add_mapping(nlohmann::json& r, const compiler::CompiledModel& compiled) {
  r["macs_per_inference"] = compiled.macs_per_inference;
  r["params"] = compiled.params;
  const auto& pl = compiled.summary["placement"];
  nlohmann::json by_tile = nlohmann::json::array();
  for (const auto& t : pl["tiles"])
    by_tile.push_back({{"tile", t["tile"]}, {"cells_used", t["cells_used"]}, {"cells", t["cells"]},
                       {"utilization", t["utilization"]}});
  r["utilization"] = {{"overall", pl["overall"]}, {"used_tiles", pl["used_tiles"]}, {"by_tile", by_tile}};
  r["placement_map"] = pl["map"];
  r["depthwise"] = compiled.summary["depthwise"];
  r["replication"] = compiled.summary["replication"];
  r["tiles_used"] = compiled.tiles_used;
  r["compile"] = compiled.summary;
}

// Weight reload: programming during the infer phase (the image has several segments), from the
// programming controller's totals since the deploy snapshot and the ledger's infer phase.
nlohmann::json reload_report(const Prepared& p, const Simulated& s, sim::EnergyLedger& ledger) {
  const chip::ProgrammingStats st = s.end_stats.programming.since(s.deploy_stats.programming);
  const long n = p.n;
  const aimc_dev_t& dev = s.dev;
  double e_dynamic = 0;
  for (const char* c : {"prog_erase", "prog_pulse", "prog_verify"})
    e_dynamic += ledger.component_phase_j(ledger.component(c), sim::Phase::infer);
  // The chip's static power over the reprogramming time (time_ns): the controller's own figure,
  // exact (ProgrammingStats::static_j; the ledger integrates static power per phase, not per
  // command, so it cannot give it).
  const double e_static = st.static_j;
  const double e_reload = e_dynamic + e_static;
  return {{"segments", p.compiled.segments},
          {"weight_loads", dev.reloads},
          {"images_per_weight_load", dev.reloads > 0 ? static_cast<double>(n) / dev.reloads : 0.0},
          {"time_ns", st.busy_ps / 1000.0},
          {"energy_j", e_reload},
          {"energy_j_dynamic", e_dynamic},
          {"energy_j_static", e_static},
          {"energy_j_per_inference", e_reload / n},
          {"cells_programmed", st.cells},
          {"pulses", st.pulses},
          {"unconverged", static_cast<long>(dev.reload_unconverged)}};
}

// The chip's own counters at the end of the run: ADC clipping and the bus.
void add_chip_counters(nlohmann::json& r, const chip::ChipStats& st) {
  r["adc_clipped_samples"] = st.adc_clipped();
  const auto& by_phase = st.interconnect.busy_ps_by_phase;
  r["bus"] = {{"bytes", st.interconnect.bytes},
              {"transfers", st.interconnect.transfers},
              {"busy_ns", st.interconnect.busy_ps / 1000.0},
              {"busy_ns_by_phase",
               {{sim::phase_name(sim::Phase::deploy), by_phase[static_cast<size_t>(sim::Phase::deploy)] / 1000.0},
                {sim::phase_name(sim::Phase::infer), by_phase[static_cast<size_t>(sim::Phase::infer)] / 1000.0}}},
              {"wait_ns", st.interconnect.wait_ps / 1000.0}};
}

// The conditions the inferences ran in (age, temperature, drift compensation, checkpoint) and
// the warnings about them.
void add_conditions(nlohmann::json& r, const RunOptions& opt, const config::PlatformConfig& cfg,
                    const Prepared& p, const Simulated& s) {
  const bool restored = s.restored;
  r["conditions"] = {
      {"time_since_programming_s", s.end_stats.max_programmed_age_s()},
      {"at_s", opt.at_s},
      {"temp_c", p.temp_c},
      {"temp_sensor_c", s.temp_sensor_mc / 1000.0},
      {"drift_compensation", opt.drift_compensation},
      {"drift_compensated_tiles", s.tiles_adjusted},
      {"restored_from", restored ? opt.restore_path : std::string()}};
  if (restored && s.restored_header.value("seed", cfg.simulation.seed) != cfg.simulation.seed)
    r["conditions"]["note"] = "the checkpoint was saved with seed " +
                              std::to_string(s.restored_header.value("seed", uint64_t{0})) +
                              "; ADC offsets and read noise come from this run's seed";
  r["warnings"] = nlohmann::json::array();
  if (opt.drift_compensation && s.tiles_adjusted == 0)
    r["warnings"].push_back(
        "--drift-comp: no tile had a calibration reference (CAL_REF = 0), so nothing was "
        "compensated; a checkpoint keeps the reference only if the programming run used "
        "--drift-comp");
}

// Where the wall time went: preparing (platform, model import, compile, float baseline),
// building the chip and simulating the deploy (load + programming), simulating the inferences
// (weight reloads included), and the results (before the output files are written).
void add_wall_clock(nlohmann::json& r, const Simulated& s, WallClock::time_point wall_start) {
  r["wall_seconds"] =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  auto secs = [](WallClock::time_point a, WallClock::time_point b) { return std::chrono::duration<double>(b - a).count(); };
  r["wall_seconds_by_phase"] = {
      {"prepare", secs(wall_start, s.wall_prepared)},
      {"deploy", secs(s.wall_prepared, s.wall_deploy_end)},
      {"infer", secs(s.wall_deploy_end, s.wall_sim_end)},
      {"results", secs(s.wall_sim_end, WallClock::now())},
      // parts of deploy and infer: computing the programming commands
      // (program-and-verify of every cell; in infer, weight reloads)
      {"deploy_programming", s.deploy_stats.programming.host_seconds},
      {"infer_programming", s.end_stats.programming.since(s.deploy_stats.programming).host_seconds}};
}

// The report's figures from what was prepared and simulated (each section documented in README,
// "The report"), and the platform's outputs in the float model's units. The chip's figures come
// from its statistics snapshots (s.deploy_stats, s.end_stats); weight_error_now reads the cells.
nlohmann::json make_report(const RunOptions& opt, Session& session, const Prepared& p, const Simulated& s,
                           WallClock::time_point wall_start, Eigen::MatrixXf& platform_logits) {
  const config::PlatformConfig& cfg = session.config();
  sim::EnergyLedger& ledger = session.ledger();
  const aimc_dev_t& dev = s.dev;
  nlohmann::json r;
  r["platform"] = cfg.name;
  r["platform_file"] = opt.platform_path;
  r["model"] = opt.model_path;
  r["overrides"] = opt.overrides;
  r["seed"] = cfg.simulation.seed;
  r["images"] = p.n;
  r["input"] = p.input_desc;
  add_accuracy(r, p, s, platform_logits);
  add_performance(r, p, s, ledger);
  add_silicon(r, session.chip(), p, s, ledger);
  add_mapping(r, p.compiled);
  r["reload"] = reload_report(p, s, ledger);
  r["commands"] = s.commands;
  r["batch"] = s.batch_used;
  r["max_batch"] = dev.max_batch;
  add_chip_counters(r, s.end_stats);
  add_conditions(r, opt, cfg, p, s);
  r["deploy"] = deploy_report(s.deploy_stats.programming, ledger, s.t_deploy_end_ps, s.restored);
  r["weight_error_at_inference"] = weight_error_now(
      session.chip(), p.image_view, dev.resident_segment > 0 ? size_t(dev.resident_segment) : 0);
  if (p.image_view.segments.size() > 1)
    r["weight_error_at_inference"]["segment"] = std::max(0, dev.resident_segment);
  add_wall_clock(r, s, wall_start);
  r["units"] = "latency_ns/time_ns in ns; energy_j in J (by_component, by_layer and "
               "by_component_static_dynamic per inference, infer phase); tops, peak_tops in 1e12 ops/s "
               "(1 MAC = 2 ops); tops_per_w in 1e12 ops/J; area_mm2 in mm^2; tops_per_mm2 in 1e12 "
               "ops/s/mm^2; average_power_w in W";
  return r;
}

// Output files: a file that cannot be written is reported in r["errors"] (and makes the exit code
// non-zero), but never costs the other outputs or the printed summary.
void write_outputs(const RunOptions& opt, Session& session, const Prepared& p, Simulated& s,
                   const Eigen::MatrixXf& platform_logits, nlohmann::json& r) {
  sim::TraceRecording& trace = session.trace();
  chip::Chip& chip = session.chip();
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
  if (!opt.dump_outputs_path.empty()) {
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
    if (!sequence->finish())
      r["errors"].push_back("--export-programming: cannot write " + opt.export_programming_path);
  }
  if (!opt.checkpoint_path.empty()) {
    try {
      ensure_parent(opt.checkpoint_path);
      chip::save_checkpoint(opt.checkpoint_path, chip, model_fp);
      r["checkpoint_file"] = opt.checkpoint_path;
    } catch (const std::exception& e) {
      r["errors"].push_back(std::string("--checkpoint: ") + e.what());
    }
  }
  if (!opt.report_path.empty()) {
    try {
      ensure_parent(opt.report_path);
      std::ofstream f(opt.report_path);
      f << r.dump(2) << "\n";
      f.close();
      if (!f) throw std::runtime_error("cannot write " + opt.report_path);
      r["report_file"] = opt.report_path;
    } catch (const std::exception& e) {
      r["errors"].push_back(std::string("--report: ") + e.what());
    }
  }
}

}  // namespace

double parse_duration_s(const std::string& text, const std::string& option) {
  const auto fail = [&] {
    return UserError(option + ": expected a duration such as 1h, 30min, 10y or 2.5d (units ms, s, "
                              "min, h, d, w, y; a bare number is seconds), got '" + text + "'");
  };
  size_t pos = 0;
  double value = 0;
  try {
    value = std::stod(text, &pos);
  } catch (const std::exception&) {
    throw fail();
  }
  std::string unit = text.substr(pos);
  unit.erase(0, unit.find_first_not_of(' '));
  static const std::pair<const char*, double> kUnits[] = {
      {"", 1.0},          {"s", 1.0},         {"ms", 1e-3},          {"min", 60.0},
      {"h", 3600.0},      {"d", 86400.0},     {"w", 7 * 86400.0},    {"y", 365.25 * 86400.0}};
  for (const auto& [name, factor] : kUnits)
    if (unit == name) {
      if (!std::isfinite(value) || value < 0)
        throw UserError(option + ": the duration must be >= 0, got '" + text + "'");
      return value * factor;
    }
  throw fail();
}

nlohmann::json run_job(const RunOptions& opt) {
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
  nlohmann::json r = make_report(opt, session, prepared, simulated, wall_start, platform_logits);
  write_outputs(opt, session, prepared, simulated, platform_logits, r);
  return r;
}

}  // namespace aimc::app
