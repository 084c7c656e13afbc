#include "summary.h"

#include <algorithm>
#include <iomanip>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

namespace aimc::app {

std::string format_duration(double s) {
  std::ostringstream o;
  o << std::setprecision(3);
  if (s < 60) o << s << " s";
  else if (s < 3600) o << s / 60 << " min";
  else if (s < 86400) o << s / 3600 << " h";
  else if (s < 365.25 * 86400) o << s / 86400 << " d";
  else o << s / (365.25 * 86400) << " y";
  return o.str();
}

namespace {

// Where the files went (the last lines of every summary).
void output_lines(std::ostringstream& o, const nlohmann::json& r) {
  o << "  report                     "
    << (r.contains("report_file") ? r["report_file"].get<std::string>() : "not written (--report FILE)")
    << "\n";
  o << "  trace                      "
    << (r.contains("trace_file") ? r["trace_file"].get<std::string>()
                                 : "not recorded (--trace FILE)")
    << "\n";
}

// "interrupted by SIGTERM during deploy": how a stopped run ended (README, "Stopping a run").
std::string stop_text(const nlohmann::json& r) {
  return "by " + r.value("interrupted_by", std::string("a signal")) + " during " +
         r.value("interrupted_during", std::string("the run"));
}

}  // namespace

std::string format_summary(const nlohmann::json& r) {
  std::ostringstream o;
  o << std::fixed;
  const long n = r["images"].get<long>();
  const bool interrupted = r.value("interrupted", false);
  if (interrupted && n == 0) {  // stopped before any image ran: no figures
    o << "aimc run: " << r["model"].get<std::string>() << " on " << r["platform"].get<std::string>()
      << " (seed " << r["seed"].get<uint64_t>() << ")\n";
    o << "  interrupted                " << stop_text(r) << ", before any image ran ("
      << r.value("images_requested", 0L) << " requested)\n";
    output_lines(o, r);
    return o.str();
  }
  const double e = r["energy_j"]["per_inference"].get<double>();
  o << "aimc run: " << r["model"].get<std::string>() << " on " << r["platform"].get<std::string>()
    << " (seed " << r["seed"].get<uint64_t>() << ")\n";
  o << std::setprecision(2);
  o << "  images run                 " << n << "\n";
  if (interrupted)
    o << "  interrupted                " << stop_text(r) << " after " << n << " of "
      << r.value("images_requested", 0L) << " images: the figures are those of the images that ran\n";
  if (r["accuracy"].is_object()) {
    o << "  accuracy, float (software) " << 100.0 * r["accuracy"]["float"].get<double>() << " %\n";
    o << "  accuracy, platform         " << 100.0 * r["accuracy"]["platform"].get<double>() << " %\n";
  } else {
    o << "  inputs                     " << r["input"].get<std::string>() << " (no labels)\n";
  }
  o << "  agreement with float       top-1 "
    << 100.0 * r["agreement_with_float"]["top1"].get<double>() << " %, output rms error "
    << 100.0 * r["agreement_with_float"]["output_rms_error_relative"].get<double>()
    << " % of the float outputs' rms\n";
  o << std::setprecision(1);
  const auto& lat = r["latency_ns"];
  o << "  latency per inference      " << lat["per_inference"].get<double>()
    << " ns (one image alone: doorbell to result in SRAM";
  if (lat.value("per_inference_reload", 0.0) > 0)
    o << ", of which " << lat["per_inference_reload"].get<double>()
      << " ns waiting for the weight reload between segments";
  o << "; " << lat["per_inference_with_dma"].get<double>() << " ns with DMA in/out)\n";
  o << "  time per inference         " << lat["amortized_per_inference"].get<double>()
    << " ns (infer phase / images; ";
  if (n > 1)
    o << "the first image alone, then batches of up to " << r["batch"].get<long>();
  else
    o << "one image";
  o << ", max_batch " << r["max_batch"].get<long>() << ")\n";
  if (r.contains("reload") && r["reload"]["weight_loads"].get<long>() > 0) {
    const auto& rl = r["reload"];
    o << std::setprecision(3) << "  weight reload              " << rl["weight_loads"].get<long>()
      << " loads of " << rl["segments"].get<long>() << " segments, " << rl["time_ns"].get<double>() / 1e6
      << " ms of reprogramming, " << rl["energy_j"].get<double>() * 1e6 << " uJ (static "
      << rl["energy_j_static"].get<double>() * 1e6 << " uJ)\n";
  }
  o << std::setprecision(3);
  o << "  energy per inference       " << e * 1e9 << " nJ";
  if (r["energy_j"].contains("static_per_inference"))
    o << " (static " << r["energy_j"]["static_per_inference"].get<double>() * 1e9 << " nJ, dynamic "
      << r["energy_j"]["dynamic_per_inference"].get<double>() * 1e9 << " nJ)";
  o << "\n";
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
  const auto& c = r["conditions"];
  o << std::setprecision(1);
  o << "  conditions                 " << format_duration(c["time_since_programming_s"].get<double>())
    << " after programming, " << c["temp_c"].get<double>() << " C (sensor "
    << std::setprecision(3) << c["temp_sensor_c"].get<double>() << " C), drift compensation "
    << (c["drift_compensation"].get<bool>()
            ? "on (" + std::to_string(c["drift_compensated_tiles"].get<long>()) + " tiles)"
            : std::string("off"))
    << "\n";
  const auto& d = r["deploy"];
  o << std::setprecision(3);
  if (d["restored_from_checkpoint"].get<bool>()) {
    o << "  deploy                     restored from " << c["restored_from"].get<std::string>()
      << " (no programming)\n";
  } else {
    o << "  deploy (programming)       " << r["time_ns"]["deploy"].get<double>() / 1e6 << " ms, "
      << r["energy_j"]["deploy"].get<double>() * 1e6 << " uJ; " << d["cells"].get<long>()
      << " cells, " << std::setprecision(2) << d["pulses_per_cell"].get<double>()
      << " pulses/cell, yield " << std::setprecision(3) << 100.0 * d["yield"].get<double>()
      << " % (" << d["unconverged_cells"].get<long>() << " cells outside tolerance)\n";
    if (d["weight_error"].contains("std"))
      o << "  programming error          std " << 100.0 * d["weight_error"]["std"].get<double>()
        << " % of g_max, max " << 100.0 * d["weight_error"]["max_abs"].get<double>() << " %\n";
  }
  if (r["weight_error_at_inference"].contains("std"))
    o << "  weight error at inference  std " << 100.0 * r["weight_error_at_inference"]["std"].get<double>()
      << " % of full scale, max " << 100.0 * r["weight_error_at_inference"]["max_abs"].get<double>()
      << " % (rms / rms weight " << 100.0 * r["weight_error_at_inference"]["relative_rms"].get<double>()
      << " %)\n";
  o << std::setprecision(4);
  const double ips = r["throughput_inferences_per_s"].get<double>();
  o << "  effective throughput       " << r["tops"].get<double>() << " TOPS (";
  if (ips >= 10)
    o << std::setprecision(0) << ips;
  else  // weight reload can make it slow: keep three significant digits
    o << std::defaultfloat << std::setprecision(3) << ips << std::fixed;
  o << " inferences/s; " << r["macs_per_inference"].get<long>() << " MACs per inference, "
    << r["params"].get<long>() << " parameters)\n";
  if (r.contains("bottleneck") && r["bottleneck"]["by_resource"].size() > 0) {
    // What limits the rate: the busiest resource over the infer phase, and the next one.
    const auto& by = r["bottleneck"]["by_resource"];
    o << std::setprecision(1) << "  bottleneck                 " << by[0]["resource"].get<std::string>() << ", busy "
      << 100.0 * by[0]["utilization"].get<double>() << " % of the infer phase";
    if (by.size() > 1)
      o << " (next: " << by[1]["resource"].get<std::string>() << " " << 100.0 * by[1]["utilization"].get<double>()
        << " %)";
    if (r["bottleneck"]["bound"] == "dependencies") o << "; none saturated: the ops' dependencies set the pace";
    o << "\n";
  }
  o << std::setprecision(1) << "  tile utilization           "
    << 100.0 * r["utilization"]["used_tiles"].get<double>() << " % of the used tiles' cells, "
    << 100.0 * r["utilization"]["overall"].get<double>() << " % of the chip's\n";
  int empty_tiles = 0;
  for (const auto& line : r["placement_map"]) {
    const std::string text = line.get<std::string>();
    if (text.size() >= 5 && text.compare(text.size() - 5, 5, "empty") == 0) ++empty_tiles;
    else o << "    " << text << "\n";
  }
  if (empty_tiles > 0) o << "    (" << empty_tiles << " tiles empty)\n";
  if (r.contains("replication") && r["replication"].is_array() && !r["replication"].empty()) {
    o << "  replication                ";
    for (size_t i = 0; i < r["replication"].size(); ++i)
      o << (i ? "; " : "") << r["replication"][i]["op"].get<std::string>() << " x"
        << r["replication"][i]["copies"].get<int>();
    o << " (copies share the positions)\n";
  }
  o << std::setprecision(2);
  o << "  efficiency                 " << r["tops_per_w"].get<double>() << " TOPS/W ("
    << r["tops_per_w_chip"].get<double>() << " TOPS/W without the host component)\n";
  if (r.contains("area_mm2")) {
    // Silicon: the blocks from the largest down, then the rates per area.
    const auto& a = r["area_mm2"];
    std::vector<std::pair<double, std::string>> blocks;
    for (const auto& [name, v] : a.items())
      if (name != "total" && v.get<double>() > 0) blocks.emplace_back(v.get<double>(), name);
    std::sort(blocks.rbegin(), blocks.rend());
    o << std::setprecision(3) << "  silicon area               " << a["total"].get<double>() << " mm2 (";
    for (size_t i = 0; i < blocks.size(); ++i) o << (i ? ", " : "") << blocks[i].second << " " << blocks[i].first;
    o << ")\n";
    o << "  peak                       " << r["peak_tops"].get<double>() << " TOPS (every tile busy), "
      << r["peak_tops_per_mm2"].get<double>() << " TOPS/mm2; achieved " << std::setprecision(4)
      << r["tops_per_mm2"].get<double>() << " TOPS/mm2, average power " << std::setprecision(3)
      << r["average_power_w"].get<double>() * 1e3 << " mW\n";
  }
  output_lines(o, r);
  o << std::setprecision(1) << "  wall time                  " << r["wall_seconds"].get<double>() << " s";
  if (r.contains("wall_seconds_by_phase")) {
    const auto& w = r["wall_seconds_by_phase"];
    o << std::setprecision(2) << " (prepare " << w["prepare"].get<double>() << " s, deploy " << w["deploy"].get<double>()
      << " s, infer " << w["infer"].get<double>() << " s";
    if (w["infer_programming"].get<double>() > 0)
      o << " of which " << w["infer_programming"].get<double>() << " s weight reload";
    o << ")";
  }
  o << "\n";
  return o.str();
}

}  // namespace aimc::app
