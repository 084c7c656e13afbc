// What a device kind is (no SystemC): the interface every cell technology implements, one class
// per kind in model/numerics/devices/, found through device_model(kind) (the table in
// device_registry.cpp, built from AIMC_DEVICE_KINDS in device_kind.h).
//
// A kind decides its parameters' validity, its erase behaviour, its read-time transforms (drift or
// charge loss, temperature) and which laws the program-and-verify machine runs for it. The machine
// (program_verify*.cpp) asks the kind once per call and reads plain structs in its loops: no
// virtual call per cell or per pulse. Units as in device.h (conductances normalized to g_max).
#pragma once

#include <algorithm>
#include <cmath>

#include <Eigen/Core>

#include "numerics/device.h"
#include "numerics/device_kind.h"

namespace aimc::num {

// How one program pulse moves a cell: the laws the program-and-verify machine implements, in its
// scalar and its AVX-512 kernel (program_verify_scalar.cpp, program_verify_avx512.cpp).
enum class PulseLaw {
  exact,     // one pulse writes the target exactly; no noise, no random draws (the ideal device)
  log_down,  // acts on x = ln g and only lowers g: aims to remove pulse_gain of ln(reading/target),
             // achieves aimed * max(0, 1 + pulse_noise z); a read below target - tol ends the cell
             // (overshoot: only an erase raises g). Records the aimed step as a Vt shift in mV.
  linear,    // bidirectional in g: moves pulse_gain (target - reading) + pulse_noise z, clamped to
             // [0, ceiling]. Records the aimed conductance change (normalized).
};

// A kind's fixed behaviour (no parameters).
struct DeviceTraits {
  PulseLaw pulse = PulseLaw::linear;
  // Erase puts cells in the HIGH state and pulses only lower g: programming starts from erased
  // sectors (the controller erases programming.erase_sector_rows at a time, CAPS_DEVICE.ERASE_ROWS)
  // and g_erased_ns must be at least g_max_ns. Otherwise erase is a whole-array RESET.
  bool erase_high = false;
  bool cycles_on_erase = false;    // an endurance cycle per erased cell
  bool cycles_on_program = false;  // an endurance cycle per programmed (pulsed) cell
  bool drift = false;              // a drift exponent nu per cell, drawn when it is programmed
};

// What program_verify needs from a kind beyond its traits, for one call.
struct ProgramLaw {
  double record_scale = 1.0;  // an aimed step -> the unit of CellRecord::pulse
  // traits.drift: nu ~ N(mu, sigma), mu and sigma linear in g between their g_min and g_max values
  double nu_at_gmin = 0, nu_at_gmax = 0, nu_sigma_at_gmin = 0, nu_sigma_at_gmax = 0;
};

// Conductance activation energy (eV) of a cell at normalized g: ea_min at g_min, ea_max at g_max,
// linear in ln g between, constant outside.
inline double activation_ev(double g, double g_min, double ea_min, double ea_max) {
  if (g <= g_min) return ea_min;
  if (g >= 1.0) return ea_max;
  return ea_min + (ea_max - ea_min) * (std::log(g) - std::log(g_min)) / (0.0 - std::log(g_min));
}

// The temperature transform of one cell at one die temperature (g at t_ref -> g at temp, and back),
// its constants computed once by the kind (DeviceModel::thermal_law). Per-cell code (programming)
// calls forward/inverse inline; the forms are the thermal laws the kinds share.
//   reference_power  g_T = g_ref (g / g_ref)^ratio, ratio = T_ref / T (kelvin); exact inverse.
//   activation       g_T = g exp(-c Ea(g)), c = (1/T - 1/T_ref) / k [1/eV], Ea = activation_ev().
//                    Ea is linear in u = ln g on the middle segment, so there ln g_T =
//                    u (1 - c slope) - c (ea_min - slope u_min): a closed-form inverse, unique
//                    while 1 - c slope > 0 (the kind's validate() keeps it so from -55 to 150 C).
struct ThermalLaw {
  enum class Form { identity, reference_power, activation };
  Form form = Form::identity;
  double g_ref = 1, ratio = 1;                                           // reference_power
  double c = 0, g_min = 0, ea_min = 0, ea_max = 0, u_min = 0, slope = 0;  // activation

  bool identity() const { return form == Form::identity; }

  double forward(double g) const {
    if (form == Form::identity) return g;
    if (g <= 0) return std::max(g, 0.0);
    if (form == Form::reference_power) return g_ref * std::exp(ratio * std::log(g / g_ref));
    return g * std::exp(-c * activation_ev(g, g_min, ea_min, ea_max));
  }

  // Where the activation map is not monotonic (outside the validated range) the preimage nearest
  // to g_t.
  double inverse(double g_t) const {
    if (form == Form::identity) return g_t;
    if (g_t <= 0) return std::max(g_t, 0.0);
    if (form == Form::reference_power) return g_ref * std::exp(std::log(g_t / g_ref) / ratio);
    const double y = std::log(g_t);
    const double u = (y + c * (ea_min - slope * u_min)) / (1.0 - c * slope);
    if (u < u_min) return g_t * std::exp(c * ea_min);  // below g_min: Ea = ea_min
    if (u > 0.0) return g_t * std::exp(c * ea_max);     // above g_max: Ea = ea_max
    return std::exp(u);
  }
};

class DeviceModel {
 public:
  virtual ~DeviceModel() = default;

  virtual DeviceKind kind() const = 0;
  const char* name() const { return device_kind_name(kind()); }  // the YAML spelling
  // One line for help texts, the register reference (AIMC_DEVICE_<NAME>) and the docs.
  virtual const char* summary() const = 0;
  virtual DeviceTraits traits() const = 0;

  // Checks the parameters only this kind reads; validate(DevicePhysics) checks the common ones
  // first. Throws std::invalid_argument naming the field (bad_device_field).
  virtual void validate(const DevicePhysics& p) const = 0;

  // The temperature transform at temp_c != p.t_ref_c (thermal_law_at() handles t_ref itself).
  virtual ThermalLaw thermal_law(const DevicePhysics& p, double temp_c) const = 0;

  // The per-call constants program_verify reads (programming at die temperature temp_c).
  virtual ProgramLaw program_law(const DevicePhysics& p, double temp_c) const = 0;

  // What a read sees of one side's programmed state at age_s and temp_c, before faults: drift or
  // charge loss, then temperature, on the whole array (out: rows x cols, normalized).
  virtual void read_transform(const Eigen::MatrixXf& g_prog, const Eigen::MatrixXf& nu,
                              const DevicePhysics& p, double age_s, double temp_c,
                              Eigen::MatrixXf& out) const = 0;
};

// The model of a registered kind. Throws std::invalid_argument for a value outside the enum.
const DeviceModel& device_model(DeviceKind kind);

// The temperature transform of p's kind at temp_c (identity at p.t_ref_c).
ThermalLaw thermal_law_at(const DevicePhysics& p, double temp_c);

// Throws std::invalid_argument("device physics: <field> <expected>, got <got>").
[[noreturn]] void bad_device_field(const char* field, const char* expected, double got);

inline double kelvin(double temp_c) { return temp_c + kZeroCelsiusK; }

// Each kind's file defines its device_model_<name>() (the registry's entries; a kind listed in
// AIMC_DEVICE_KINDS without its file is a link error naming the missing function).
#define AIMC_DEVICE_KIND_MODEL_DECL(name) const DeviceModel& device_model_##name();
AIMC_DEVICE_KINDS(AIMC_DEVICE_KIND_MODEL_DECL)
#undef AIMC_DEVICE_KIND_MODEL_DECL

}  // namespace aimc::num
