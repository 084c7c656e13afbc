// The report of `aimc run` from what was prepared and simulated: each section from the ledger and
// the chip's statistics snapshots (Chip::stats()), documented in README, "The report".
#include <algorithm>
#include <cmath>
#include <string>

#include "run_stages.h"
#include "sim/energy_ledger.h"
#include "stop_request.h"

namespace aimc::app::stages {

namespace {

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
  const sim::Floorplan& f = chip.floorplan();
  r["floorplan"] = {{"tile_pitch_mm", f.tile_pitch_mm},
                    {"grid_width_mm", f.width_mm()},
                    {"grid_height_mm", f.height_mm()},
                    {"bus_length_mm", chip.bus().wire_mm(sim::Endpoint::sram(), sim::Endpoint::tile(0))}};
  r["area_mm2"] = {{"dac", a.dac * mm2},         {"array", a.array * mm2}, {"adc", a.adc * mm2},
                   {"digital", a.digital * mm2}, {"sram", a.sram * mm2},   {"bus", a.bus * mm2},
                   {"local_mem", a.local_mem * mm2}, {"gdpu", a.gdpu * mm2},  {"total", total_mm2}};
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

// What limits the rate: every resource the infer phase keeps busy (the interconnect's links: the
// shared bus is one, "bus"; a mesh's are named "tile5->tile6"; each
// tile's array and digital unit, the programming controller reloading weights), its busy time over
// the phase (end minus deploy counters) as a fraction of the phase; the busiest is the bottleneck.
// It bounds the rate when it is busy most of the phase (kSaturated); below that, the resources wait
// on each other: the ops' dependencies (an image's chain of ops, the SRAM the compiler reuses) set
// the pace, and `bound` says so.
void add_bottleneck(nlohmann::json& r, const chip::Chip& chip, const Simulated& s) {
  const double phase_ps = static_cast<double>(s.t_end_ps - s.t_deploy_end_ps);
  std::vector<std::pair<double, std::string>> busy;  // (utilization, resource)
  auto take = [&](const std::string& name, uint64_t end, uint64_t deploy) {
    const double u = phase_ps > 0 && end > deploy ? static_cast<double>(end - deploy) / phase_ps : 0.0;
    if (u > 0) busy.emplace_back(u, name);
  };
  const size_t infer = static_cast<size_t>(sim::Phase::infer);
  nlohmann::json links = nlohmann::json::array();
  for (const sim::InterconnectStats::Link& l : s.end_stats.interconnect.links) {
    const uint64_t held = l.busy_ps_by_phase[infer];
    const double u = phase_ps > 0 ? static_cast<double>(held) / phase_ps : 0.0;
    if (u > 0) busy.emplace_back(u, l.name);
    links.push_back({{"link", l.name}, {"busy_ns", held / 1000.0}, {"utilization", u}});
  }
  take("programmer", s.end_stats.programming.busy_ps, s.deploy_stats.programming.busy_ps);
  take("gdpu", s.end_stats.gdpu_busy_ps, s.deploy_stats.gdpu_busy_ps);
  for (size_t t = 0; t < s.end_stats.tiles.size() && t < s.deploy_stats.tiles.size(); ++t) {
    const chip::TileStats& e = s.end_stats.tiles[t];
    const chip::TileStats& d = s.deploy_stats.tiles[t];
    take("tile " + std::to_string(t) + " array", e.analog_busy_ps, d.analog_busy_ps);
    take("tile " + std::to_string(t) + " digital", e.digital_busy_ps, d.digital_busy_ps);
    take("tile " + std::to_string(t) + " memory", e.local_memory_busy_ps, d.local_memory_busy_ps);
  }
  std::stable_sort(busy.begin(), busy.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  nlohmann::json by = nlohmann::json::array();
  for (const auto& [u, name] : busy) by.push_back({{"resource", name}, {"utilization", u}});
  r["interconnect"] = {{"kind", chip.bus().kind()}, {"links", links}};
  // Busy three quarters of the phase or more: the rest is the first image alone, the host's
  // transfers in and out and the tail of the batch, which no resource fills.
  constexpr double kSaturated = 0.75;
  const double top = busy.empty() ? 0.0 : busy.front().first;
  r["bottleneck"] = {{"resource", busy.empty() ? "none" : busy.front().second},
                     {"utilization", top},
                     {"bound", top >= kSaturated ? "resource" : "dependencies"},
                     {"by_resource", by}};
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

// A run stopped by SIGINT or SIGTERM before its last image (README, "Stopping a run"): marked,
// with how far it got; "images" is then the images that ran.
void add_stop(nlohmann::json& r, const Simulated& s) {
  r["interrupted"] = true;
  r["interrupted_by"] = signal_name(s.stop_signal);
  r["interrupted_during"] = s.stopped_during;
  r["images_requested"] = s.images_requested;
}

// The report's figures from what was prepared and simulated (each section documented in README,
// "The report"), and the platform's outputs in the float model's units. The chip's figures come
// from its statistics snapshots (s.deploy_stats, s.end_stats); weight_error_now reads the cells.
}  // namespace

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
  if (s.stopped()) add_stop(r, s);
  add_accuracy(r, p, s, platform_logits);
  add_performance(r, p, s, ledger);
  add_silicon(r, session.chip(), p, s, ledger);
  add_mapping(r, p.compiled);
  if (!p.compile_cache_state.empty())  // what came from the cache (--compile-cache)
    r["cache"] = {{"compile", p.compile_cache_state}, {"compile_key", p.compile_cache_key}};
  if (s.program_store) {
    // --program-cache: the program-and-verify calls whose outcome came from the cache (hits), that
    // programmed and stored theirs (misses), could not store it, or did not ask (bypassed:
    // --export-programming keeps every pulse, which the cache does not).
    chip::Tile::ProgramMemoCounts n;
    for (const chip::Tile* t : session.chip().tiles()) {
      n.hits += t->program_memo_counts().hits;
      n.misses += t->program_memo_counts().misses;
      n.unstored += t->program_memo_counts().unstored;
      n.bypassed += t->program_memo_counts().bypassed;
    }
    r["cache"]["program"] = {{"hits", n.hits}, {"misses", n.misses}, {"unstored", n.unstored}, {"bypassed", n.bypassed}};
  }
  r["reload"] = reload_report(p, s, ledger);
  r["commands"] = s.commands;
  r["batch"] = s.batch_used;
  r["max_batch"] = dev.max_batch;
  add_chip_counters(r, s.end_stats);
  add_bottleneck(r, session.chip(), s);
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

nlohmann::json make_stopped_report(const RunOptions& opt, Session& session, const Prepared& p,
                                   const Simulated& s, WallClock::time_point wall_start) {
  nlohmann::json r;
  r["platform"] = session.config().name;
  r["platform_file"] = opt.platform_path;
  r["model"] = opt.model_path;
  r["overrides"] = opt.overrides;
  r["seed"] = session.config().simulation.seed;
  r["images"] = 0;
  r["input"] = p.input_desc;
  add_stop(r, s);
  r["warnings"] = nlohmann::json::array();
  r["wall_seconds"] = std::chrono::duration<double>(WallClock::now() - wall_start).count();
  return r;
}

}  // namespace aimc::app::stages
