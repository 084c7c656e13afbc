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
#include "chip/chip.h"
#include "compiler/compile.h"
#include "compiler/dataset.h"
#include "compiler/onnx_import.h"
#include "config/platform_config.h"
#include "sim/accounting.h"
#include "sim/energy_ledger.h"
#include "sim/trace.h"

namespace aimc::app {

namespace {

std::string file_in(const std::string& dir, const char* base) {
  for (const char* ext : {".gz", ""}) {
    const std::string p = dir + "/" + base + ext;
    if (std::filesystem::exists(p)) return p;
  }
  throw UserError("data set: no " + std::string(base) + "[.gz] in " + dir +
                  " (install the Debian package dataset-fashion-mnist, or pass --data DIR)");
}

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

}  // namespace

config::PlatformConfig load_platform_or_fail(const std::string& path,
                                             const std::vector<std::string>& overrides) {
  try {
    return config::load_platform(path, overrides);
  } catch (const config::ConfigError& e) {
    throw UserError(e.what());
  }
}

std::unique_ptr<sim::TraceSink> make_trace_sink(const std::string& path,
                                                sim::ChromeTraceWriter*& writer) {
  writer = nullptr;
  if (path.empty()) return std::make_unique<sim::TraceSink>();
  auto w = std::make_unique<sim::ChromeTraceWriter>(4'000'000);  // ~0.2 GB at most
  writer = w.get();
  return w;
}

nlohmann::json run_job(const RunOptions& opt) {
  const auto wall_start = std::chrono::steady_clock::now();
  // ---- Inputs: platform, model, data. ----
  std::vector<std::string> overrides = opt.overrides;
  if (opt.seed) overrides.push_back("simulation.seed=" + std::to_string(*opt.seed));
  const config::PlatformConfig cfg = load_platform_or_fail(opt.platform_path, overrides);
  compiler::Network net;
  try {
    net = compiler::import_onnx(opt.model_path);
  } catch (const compiler::ModelError& e) {
    throw UserError(e.what());
  }
  compiler::Dataset test, calib;
  try {
    test = compiler::load_idx(file_in(opt.data_dir, "t10k-images-idx3-ubyte"),
                              file_in(opt.data_dir, "t10k-labels-idx1-ubyte"), opt.limit);
    calib = compiler::load_idx(file_in(opt.data_dir, "train-images-idx3-ubyte"),
                               file_in(opt.data_dir, "train-labels-idx1-ubyte"), 512);
  } catch (const compiler::DatasetError& e) {
    throw UserError(e.what());
  }
  const long n = static_cast<long>(test.images.rows());
  if (n == 0) throw UserError("--limit: no images to run");
  if (test.images.cols() != net.in_features)
    throw UserError(opt.model_path + ": the model takes " + std::to_string(net.in_features) +
                    " inputs but the data set images have " + std::to_string(test.images.cols()));

  compiler::CompiledModel compiled;
  try {
    compiled = compiler::compile(net, cfg, calib.images);
  } catch (const compiler::CompileError& e) {
    throw UserError(e.what());
  }

  // ---- Software baseline. ----
  const Eigen::MatrixXf float_logits = net.forward(test.images);
  long float_correct = 0;
  for (long i = 0; i < n; ++i) float_correct += argmax_row(float_logits, i) == test.labels[i];

  // ---- The platform. ----
  sim::EnergyLedger ledger;
  sim::ChromeTraceWriter* writer = nullptr;
  std::unique_ptr<sim::TraceSink> trace = make_trace_sink(opt.trace_path, writer);
  chip::Chip chip(cfg, ledger, *trace);
  chip.host().set_trace_registers(opt.trace_registers);
  std::vector<std::string> layer_names;
  for (const auto& l : net.layers) layer_names.push_back(l.name);
  chip.sequencer().set_layer_names(layer_names);

  Eigen::MatrixXi outputs(n, static_cast<Eigen::Index>(net.layers.back().weight.rows()));
  int fw_status = AIMC_OK;
  std::string fw_step;
  uint64_t t_deploy_end_ps = 0, t_end_ps = 0;
  double single_chip_ns = 0, single_e2e_ns = 0;
  long commands = 0;
  aimc_dev_t dev{};
  Progress progress(n, opt.progress && !opt.quiet);

  chip.cpu().set_entry([&](aimc_hal_t hal) {
    fw_step = "init";
    if ((fw_status = aimc_init(&dev, hal)) != AIMC_OK) return;
    fw_step = "load image";
    if ((fw_status = aimc_load_image(&dev, compiled.image.data(), compiled.image.size())) !=
        AIMC_OK)
      return;
    chip.cpu().sync();
    t_deploy_end_ps = sim::to_ps(sc_core::sc_time_stamp());
    ledger.set_phase(sim::Phase::infer, t_deploy_end_ps);
    fw_step = "infer";
    // Row-major input codes, one image after another.
    Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> x = test.images;
    std::vector<uint8_t> codes(static_cast<size_t>(x.size()));
    if ((fw_status = aimc_quantize_inputs(&dev, x.data(), codes.size(), codes.data())) != AIMC_OK)
      return;
    const uint32_t out_f = dev.out_features;
    std::vector<int32_t> out(static_cast<size_t>(dev.max_batch) * out_f);
    for (long done = 0; done < n;) {
      // The first image runs alone: its command measures the latency of one inference on an
      // otherwise idle chip. The rest run in batches as large as the SRAM layout allows.
      const uint32_t batch =
          done == 0 ? 1u : static_cast<uint32_t>(std::min<long>(dev.max_batch, n - done));
      const uint64_t t_call = sim::to_ps(chip.cpu().local_time());
      if ((fw_status = aimc_infer(&dev, codes.data() + done * dev.in_features, batch,
                                  out.data())) != AIMC_OK)
        return;
      for (uint32_t v = 0; v < batch; ++v)
        for (uint32_t j = 0; j < out_f; ++j)
          outputs(done + v, j) = out[static_cast<size_t>(v) * out_f + j];
      if (done == 0) {
        single_chip_ns = static_cast<double>(dev.last_latency_ns);
        single_e2e_ns = (sim::to_ps(chip.cpu().local_time()) - t_call) / 1000.0;
      }
      ++commands;
      done += batch;
      progress.update(done);
    }
    chip.cpu().sync();
    t_end_ps = sim::to_ps(sc_core::sc_time_stamp());
  });

  sc_core::sc_start();
  progress.finish();
  if (!chip.cpu().finished())
    throw std::runtime_error("simulation ended before the firmware finished (" + fw_step + ")");
  if (fw_status != AIMC_OK) {
    std::ostringstream m;
    m << "firmware: " << fw_step << " failed: " << aimc_strerror(fw_status);
    if (fw_status == AIMC_E_DEVICE)
      m << " (chip error code " << dev.device_error << " at 0x" << std::hex << dev.device_error_addr
        << std::dec << "; see docs/registers.md)";
    throw std::runtime_error(m.str());
  }
  ledger.advance(t_end_ps);

  // ---- Results. ----
  long platform_correct = 0;
  for (long i = 0; i < n; ++i) {
    Eigen::Index best = 0;
    outputs.row(i).maxCoeff(&best);
    platform_correct += static_cast<int>(best) == test.labels[i];
  }
  const double infer_s = (t_end_ps - t_deploy_end_ps) * 1e-12;
  const double e_infer = ledger.phase_j(sim::Phase::infer);
  const double e_deploy = ledger.phase_j(sim::Phase::deploy);
  const double ops = 2.0 * static_cast<double>(compiled.macs_per_inference) * n;

  nlohmann::json r;
  r["platform"] = cfg.name;
  r["platform_file"] = opt.platform_path;
  r["model"] = opt.model_path;
  r["overrides"] = opt.overrides;
  r["seed"] = cfg.simulation.seed;
  r["images"] = n;
  r["accuracy"] = {{"float", static_cast<double>(float_correct) / n},
                   {"platform", static_cast<double>(platform_correct) / n}};
  r["latency_ns"] = {
      {"per_inference", single_chip_ns},
      {"per_inference_with_dma", single_e2e_ns},
      {"amortized_per_inference", infer_s * 1e9 / n},
  };
  r["time_ns"] = {{"deploy", t_deploy_end_ps / 1000.0},
                  {"infer", (t_end_ps - t_deploy_end_ps) / 1000.0},
                  {"total", t_end_ps / 1000.0}};
  nlohmann::json by_comp = nlohmann::json::object(), by_layer = nlohmann::json::object();
  for (int c = 0; c < ledger.component_count(); ++c)
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
  r["macs_per_inference"] = compiled.macs_per_inference;
  r["tiles_used"] = compiled.tiles_used;
  r["commands"] = commands;
  r["max_batch"] = dev.max_batch;
  uint64_t clipped = 0;
  for (chip::Tile* t : chip.tiles()) clipped += t->adc_clipped();
  r["adc_clipped_samples"] = clipped;
  r["bus"] = {{"bytes", chip.bus().bytes_moved()},
              {"transfers", chip.bus().transfers()},
              {"busy_ns", chip.bus().timeline().busy_ps() / 1000.0},
              {"wait_ns", chip.bus().timeline().wait_ps() / 1000.0}};
  r["compile"] = compiled.summary;
  r["wall_seconds"] =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  r["units"] = "latency_ns/time_ns in ns; energy_j in J (by_component and by_layer per inference, "
               "infer phase); tops in 1e12 ops/s (1 MAC = 2 ops); tops_per_w in 1e12 ops/J";

  // Output files: a file that cannot be written is reported (and makes the exit code non-zero),
  // but never costs the other outputs or the printed summary.
  auto ensure_parent = [](const std::string& path) {
    const auto parent = std::filesystem::path(path).parent_path();
    if (!parent.empty()) std::filesystem::create_directories(parent);
  };
  r["errors"] = nlohmann::json::array();
  if (writer) {
    try {
      ensure_parent(opt.trace_path);
      writer->write_file(opt.trace_path);
      r["trace_file"] = opt.trace_path;
      r["trace_events"] = writer->event_count();
      r["trace_dropped_events"] = writer->dropped_events();
    } catch (const std::exception& e) {
      r["errors"].push_back(std::string("--trace: ") + e.what());
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
  return r;
}

nlohmann::json compile_job(const CompileJob& job) {
  const config::PlatformConfig cfg = load_platform_or_fail(job.platform_path, job.overrides);
  compiler::CompiledModel cm;
  try {
    const compiler::Network net = compiler::import_onnx(job.model_path);
    const compiler::Dataset calib =
        compiler::load_idx(file_in(job.data_dir, "train-images-idx3-ubyte"),
                           file_in(job.data_dir, "train-labels-idx1-ubyte"), 512);
    cm = compiler::compile(net, cfg, calib.images);
  } catch (const compiler::ModelError& e) {
    throw UserError(e.what());
  } catch (const compiler::DatasetError& e) {
    throw UserError(e.what());
  } catch (const compiler::CompileError& e) {
    throw UserError(e.what());
  }
  const auto parent = std::filesystem::path(job.output_path).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent);
  try {
    compiler::write_file(job.output_path, cm.image);
  } catch (const std::exception& e) {
    throw UserError(std::string("-o: ") + e.what());
  }
  nlohmann::json r = cm.summary;
  r["image_file"] = job.output_path;
  r["image_bytes"] = cm.image.size();
  return r;
}

std::string format_summary(const nlohmann::json& r) {
  std::ostringstream o;
  o << std::fixed;
  const long n = r["images"].get<long>();
  const double e = r["energy_j"]["per_inference"].get<double>();
  o << "aimc run: " << r["model"].get<std::string>() << " on " << r["platform"].get<std::string>()
    << " (seed " << r["seed"].get<uint64_t>() << ")\n";
  o << std::setprecision(2);
  o << "  images run                 " << n << "\n";
  o << "  accuracy, float (software) " << 100.0 * r["accuracy"]["float"].get<double>() << " %\n";
  o << "  accuracy, platform         " << 100.0 * r["accuracy"]["platform"].get<double>() << " %\n";
  o << std::setprecision(1);
  o << "  latency per inference      " << r["latency_ns"]["per_inference"].get<double>()
    << " ns (one image alone: doorbell to result in SRAM; "
    << r["latency_ns"]["per_inference_with_dma"].get<double>() << " ns with DMA in/out)\n";
  o << "  time per inference         " << r["latency_ns"]["amortized_per_inference"].get<double>()
    << " ns (infer phase / images, batches of " << r["max_batch"].get<long>() << ")\n";
  o << std::setprecision(3);
  o << "  energy per inference       " << e * 1e9 << " nJ\n";
  for (const auto& [name, j] : r["energy_j"]["by_component"].items()) {
    const double v = j.get<double>();
    o << "    " << std::left << std::setw(23) << name << std::right << std::setw(12) << v * 1e9
      << " nJ  " << std::setw(5) << std::setprecision(1) << (e > 0 ? 100.0 * v / e : 0.0)
      << " %\n" << std::setprecision(3);
  }
  o << "  energy per layer\n";
  for (const auto& [name, j] : r["energy_j"]["by_layer"].items())
    o << "    " << std::left << std::setw(23) << name << std::right << std::setw(12)
      << j.get<double>() * 1e9 << " nJ\n";
  o << "  deploy (programming)       " << r["time_ns"]["deploy"].get<double>() / 1e6 << " ms, "
    << r["energy_j"]["deploy"].get<double>() * 1e6 << " uJ\n";
  o << std::setprecision(4);
  o << "  effective throughput       " << r["tops"].get<double>() << " TOPS\n";
  o << std::setprecision(2);
  o << "  efficiency                 " << r["tops_per_w"].get<double>() << " TOPS/W ("
    << r["tops_per_w_chip"].get<double>() << " TOPS/W without the host component)\n";
  o << "  report                     "
    << (r.contains("report_file") ? r["report_file"].get<std::string>() : "not written (--report FILE)")
    << "\n";
  o << "  trace                      "
    << (r.contains("trace_file") ? r["trace_file"].get<std::string>()
                                 : "not recorded (--trace FILE)")
    << "\n";
  o << std::setprecision(1) << "  wall time                  " << r["wall_seconds"].get<double>()
    << " s\n";
  return o.str();
}

}  // namespace aimc::app
