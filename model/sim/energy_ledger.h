// The one energy ledger (ARCHITECTURE rule 3): every joule of a run is posted here, attributed to a
// component, a layer and a phase. Plain C++ (no SystemC) so it is testable without sc_start.
// Time is integer picoseconds, energy is joules (double), power is watts.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace aimc::sim {

enum class Phase : int { deploy = 0, infer = 1 };
inline constexpr int kPhaseCount = 2;
const char* phase_name(Phase phase);

// Components are categories of hardware ("dac", "array", "adc", "digital", "bus", "sram", "host",
// "programming"); layers are network layers by name, id 0 = "(none)" for energy no layer caused
// (static power, input DMA, ...). Dynamic events are posted with post(); static power is declared
// per component with set_static_power() and integrated by advance() into (component, layer 0,
// current phase). Misuse (negative energy or power, unknown ids, time going backwards) is a model
// bug and throws std::invalid_argument.
class EnergyLedger {
 public:
  static constexpr int kNoLayer = 0;
  static constexpr const char* kNoLayerName = "(none)";

  EnergyLedger();

  // Find-or-create. Ids are dense, in creation order.
  int component(std::string_view name);
  int layer(std::string_view name);
  const std::string& component_name(int comp) const;
  const std::string& layer_name(int layer) const;
  int component_count() const { return static_cast<int>(component_names_.size()); }
  int layer_count() const { return static_cast<int>(layer_names_.size()); }

  // A dynamic energy event of `count` occurrences (conversions, bytes, ...) costing `joules` in all.
  void post(int comp, int layer, Phase phase, double joules, uint64_t count = 1);

  // Static power of a component from now on (the power state it is in). The two-argument form takes
  // effect at the ledger's current time (the last advance); the three-argument form first integrates
  // up to t_ps, so a power-state change at t_ps is attributed exactly.
  void set_static_power(int comp, double watts);
  void set_static_power(int comp, double watts, uint64_t t_ps);
  double static_power_w(int comp) const;
  // The sum over every component: the chip's static power in its present power state.
  double static_power_total_w() const;

  // Integrates all static power from now_ps() to t_ps into the current phase. t_ps >= now_ps().
  void advance(uint64_t t_ps);
  // Integrates up to t_ps, then switches the phase that static power and defaults are charged to.
  void set_phase(Phase phase, uint64_t t_ps);
  Phase phase() const { return phase_; }
  uint64_t now_ps() const { return now_ps_; }

  // Queries (joules). Every breakdown sums to total_j() up to rounding.
  double total_j() const;
  double static_j() const;  // the part of total_j() that came from static power
  double component_j(int comp) const;
  double layer_j(int layer) const;
  double phase_j(Phase phase) const;
  double component_phase_j(int comp, Phase phase) const;
  double layer_phase_j(int layer, Phase phase) const;
  double cell_j(int comp, int layer, Phase phase) const;
  double component_static_j(int comp) const;
  double component_phase_static_j(int comp, Phase phase) const;  // the static part of component_phase_j
  // Event counts of dynamic posts (the `count` arguments summed).
  uint64_t event_count(int comp) const;
  uint64_t event_count(int comp, int layer, Phase phase) const;

  // {"total_j", "static_j", "time_ps", "by_component": {name: J}, "by_layer": {name: J},
  //  "by_phase": {phase: J}, "by_component_phase": {name: {phase: J}},
  //  "by_layer_phase": {name: {phase: J}}, "static_by_component_j": {name: J},
  //  "event_counts": {name: n}}. Components and layers appear even when zero.
  nlohmann::json to_json() const;

 private:
  // Neumaier-compensated sum, so long runs of tiny events do not lose energy.
  struct Sum {
    double sum = 0.0;
    double comp = 0.0;
    void add(double x);
    double value() const { return sum + comp; }
  };
  struct Cell {
    Sum dynamic_j;
    Sum static_j;
    uint64_t count = 0;
  };
  using PhaseCells = std::array<Cell, kPhaseCount>;

  void check_comp(int comp) const;
  void check_layer(int layer) const;
  Cell& cell(int comp, int layer, Phase phase);
  const Cell* find_cell(int comp, int layer, Phase phase) const;
  static double cell_total(const Cell& c) { return c.dynamic_j.value() + c.static_j.value(); }

  std::vector<std::string> component_names_;
  std::vector<std::string> layer_names_;
  std::vector<double> static_w_;                 // per component
  std::vector<std::vector<PhaseCells>> cells_;   // [comp][layer], grown on demand
  Phase phase_ = Phase::deploy;
  uint64_t now_ps_ = 0;
};

}  // namespace aimc::sim
