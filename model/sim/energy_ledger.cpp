#include "sim/energy_ledger.h"

#include <cmath>
#include <stdexcept>

#include <nlohmann/json.hpp>

namespace aimc::sim {

namespace {

int find_or_add(std::vector<std::string>& names, std::string_view name, const char* what) {
  if (name.empty()) throw std::invalid_argument(std::string("EnergyLedger: empty ") + what + " name");
  for (size_t i = 0; i < names.size(); ++i) {
    if (names[i] == name) return static_cast<int>(i);
  }
  names.emplace_back(name);
  return static_cast<int>(names.size() - 1);
}

constexpr Phase kPhases[kPhaseCount] = {Phase::deploy, Phase::infer};

}  // namespace

const char* phase_name(Phase phase) {
  switch (phase) {
    case Phase::deploy: return "deploy";
    case Phase::infer: return "infer";
  }
  return "?";
}

void EnergyLedger::Sum::add(double x) {
  const double t = sum + x;
  if (std::fabs(sum) >= std::fabs(x)) {
    comp += (sum - t) + x;
  } else {
    comp += (x - t) + sum;
  }
  sum = t;
}

EnergyLedger::EnergyLedger() { layer_names_.emplace_back(kNoLayerName); }

int EnergyLedger::component(std::string_view name) {
  const int id = find_or_add(component_names_, name, "component");
  if (static_cast<size_t>(id) >= static_w_.size()) {
    static_w_.resize(id + 1, 0.0);
    cells_.resize(id + 1);
  }
  return id;
}

int EnergyLedger::layer(std::string_view name) { return find_or_add(layer_names_, name, "layer"); }

const std::string& EnergyLedger::component_name(int comp) const {
  check_comp(comp);
  return component_names_[comp];
}

const std::string& EnergyLedger::layer_name(int layer) const {
  check_layer(layer);
  return layer_names_[layer];
}

void EnergyLedger::check_comp(int comp) const {
  if (comp < 0 || comp >= component_count()) {
    throw std::invalid_argument("EnergyLedger: unknown component id " + std::to_string(comp));
  }
}

void EnergyLedger::check_layer(int layer) const {
  if (layer < 0 || layer >= layer_count()) {
    throw std::invalid_argument("EnergyLedger: unknown layer id " + std::to_string(layer));
  }
}

EnergyLedger::Cell& EnergyLedger::cell(int comp, int layer, Phase phase) {
  auto& row = cells_[comp];
  if (static_cast<size_t>(layer) >= row.size()) row.resize(layer + 1);
  return row[layer][static_cast<int>(phase)];
}

const EnergyLedger::Cell* EnergyLedger::find_cell(int comp, int layer, Phase phase) const {
  if (comp < 0 || static_cast<size_t>(comp) >= cells_.size()) return nullptr;
  const auto& row = cells_[comp];
  if (layer < 0 || static_cast<size_t>(layer) >= row.size()) return nullptr;
  return &row[layer][static_cast<int>(phase)];
}

void EnergyLedger::post(int comp, int layer, Phase phase, double joules, uint64_t count) {
  check_comp(comp);
  check_layer(layer);
  if (!(joules >= 0.0) || !std::isfinite(joules)) {
    throw std::invalid_argument("EnergyLedger: energy posted to '" + component_names_[comp] +
                                "' must be finite and >= 0, got " + std::to_string(joules));
  }
  Cell& c = cell(comp, layer, phase);
  c.dynamic_j.add(joules);
  c.count += count;
}

void EnergyLedger::set_static_power(int comp, double watts) {
  check_comp(comp);
  if (!(watts >= 0.0) || !std::isfinite(watts)) {
    throw std::invalid_argument("EnergyLedger: static power of '" + component_names_[comp] +
                                "' must be finite and >= 0, got " + std::to_string(watts));
  }
  static_w_[comp] = watts;
}

void EnergyLedger::set_static_power(int comp, double watts, uint64_t t_ps) {
  check_comp(comp);
  advance(t_ps);
  set_static_power(comp, watts);
}

double EnergyLedger::static_power_w(int comp) const {
  check_comp(comp);
  return static_w_[comp];
}

double EnergyLedger::static_power_total_w() const {
  double w = 0.0;
  for (double p : static_w_) w += p;
  return w;
}

void EnergyLedger::advance(uint64_t t_ps) {
  if (t_ps < now_ps_) {
    throw std::invalid_argument("EnergyLedger: time went backwards from " + std::to_string(now_ps_) +
                                " ps to " + std::to_string(t_ps) + " ps");
  }
  const uint64_t dt_ps = t_ps - now_ps_;
  if (dt_ps == 0) return;
  const double dt_s = static_cast<double>(dt_ps) * 1e-12;
  for (int comp = 0; comp < component_count(); ++comp) {
    if (static_w_[comp] > 0.0) cell(comp, kNoLayer, phase_).static_j.add(static_w_[comp] * dt_s);
  }
  now_ps_ = t_ps;
}

void EnergyLedger::set_phase(Phase phase, uint64_t t_ps) {
  advance(t_ps);
  phase_ = phase;
}

double EnergyLedger::total_j() const {
  Sum s;
  for (const auto& row : cells_)
    for (const auto& pc : row)
      for (const auto& c : pc) s.add(cell_total(c));
  return s.value();
}

double EnergyLedger::static_j() const {
  Sum s;
  for (const auto& row : cells_)
    for (const auto& pc : row)
      for (const auto& c : pc) s.add(c.static_j.value());
  return s.value();
}

double EnergyLedger::component_j(int comp) const {
  check_comp(comp);
  Sum s;
  for (const auto& pc : cells_[comp])
    for (const auto& c : pc) s.add(cell_total(c));
  return s.value();
}

double EnergyLedger::component_static_j(int comp) const {
  check_comp(comp);
  Sum s;
  for (const auto& pc : cells_[comp])
    for (const auto& c : pc) s.add(c.static_j.value());
  return s.value();
}

double EnergyLedger::component_phase_static_j(int comp, Phase phase) const {
  check_comp(comp);
  Sum s;
  for (const auto& pc : cells_[comp]) s.add(pc[static_cast<int>(phase)].static_j.value());
  return s.value();
}

double EnergyLedger::layer_j(int layer) const {
  check_layer(layer);
  Sum s;
  for (int comp = 0; comp < component_count(); ++comp)
    for (Phase p : kPhases)
      if (const Cell* c = find_cell(comp, layer, p)) s.add(cell_total(*c));
  return s.value();
}

double EnergyLedger::phase_j(Phase phase) const {
  Sum s;
  for (const auto& row : cells_)
    for (const auto& pc : row) s.add(cell_total(pc[static_cast<int>(phase)]));
  return s.value();
}

double EnergyLedger::component_phase_j(int comp, Phase phase) const {
  check_comp(comp);
  Sum s;
  for (const auto& pc : cells_[comp]) s.add(cell_total(pc[static_cast<int>(phase)]));
  return s.value();
}

double EnergyLedger::layer_phase_j(int layer, Phase phase) const {
  check_layer(layer);
  Sum s;
  for (int comp = 0; comp < component_count(); ++comp)
    if (const Cell* c = find_cell(comp, layer, phase)) s.add(cell_total(*c));
  return s.value();
}

double EnergyLedger::cell_j(int comp, int layer, Phase phase) const {
  check_comp(comp);
  check_layer(layer);
  const Cell* c = find_cell(comp, layer, phase);
  return c ? cell_total(*c) : 0.0;
}

uint64_t EnergyLedger::event_count(int comp) const {
  check_comp(comp);
  uint64_t n = 0;
  for (const auto& pc : cells_[comp])
    for (const auto& c : pc) n += c.count;
  return n;
}

uint64_t EnergyLedger::event_count(int comp, int layer, Phase phase) const {
  check_comp(comp);
  check_layer(layer);
  const Cell* c = find_cell(comp, layer, phase);
  return c ? c->count : 0;
}

nlohmann::json EnergyLedger::to_json() const {
  using nlohmann::json;
  json j = json::object();
  j["total_j"] = total_j();
  j["static_j"] = static_j();
  j["time_ps"] = now_ps_;
  j["phase"] = phase_name(phase_);
  json by_comp = json::object(), by_comp_phase = json::object(), static_by_comp = json::object(),
       counts = json::object();
  for (int comp = 0; comp < component_count(); ++comp) {
    const std::string& name = component_names_[comp];
    by_comp[name] = component_j(comp);
    json per_phase = json::object();
    for (Phase p : kPhases) per_phase[phase_name(p)] = component_phase_j(comp, p);
    by_comp_phase[name] = per_phase;
    static_by_comp[name] = component_static_j(comp);
    counts[name] = event_count(comp);
  }
  json by_layer = json::object(), by_layer_phase = json::object();
  for (int layer = 0; layer < layer_count(); ++layer) {
    const std::string& name = layer_names_[layer];
    by_layer[name] = layer_j(layer);
    json per_phase = json::object();
    for (Phase p : kPhases) per_phase[phase_name(p)] = layer_phase_j(layer, p);
    by_layer_phase[name] = per_phase;
  }
  json by_phase = json::object();
  for (Phase p : kPhases) by_phase[phase_name(p)] = phase_j(p);
  j["by_component"] = by_comp;
  j["by_layer"] = by_layer;
  j["by_phase"] = by_phase;
  j["by_component_phase"] = by_comp_phase;
  j["by_layer_phase"] = by_layer_phase;
  j["static_by_component_j"] = static_by_comp;
  j["event_counts"] = counts;
  return j;
}

}  // namespace aimc::sim
