// Platform YAML -> PlatformConfig. One table of keys (kKeys below) drives loading, overrides,
// validation, the dump and describe_keys(), so the five cannot drift apart.
//
// Loading is three passes over that table:
//   1. the file and its `base:` chain are flattened into dotted keys, each file's over its base's
//      (yaml_source.cpp); unknown keys and wrong node kinds are refused there, with the file and
//      mark of the offending node;
//   2. "--set key=value" overrides replace flattened values (the override text becomes the origin);
//   3. each value is parsed into the struct, then ranges and cross-field rules are checked.
// Every value remembers where it came from, so any error can name file:line or the override.
#include "config/platform_config.h"

#include "numerics/device_model.h"

#include <yaml-cpp/yaml.h>

#include <charconv>
#include <cmath>
#include <limits>
#include <memory>
#include <sstream>

#include "config/yaml_source.h"

namespace aimc::config {
namespace {

using detail::fail;
using detail::Origin;
using detail::RawValue;
using detail::RawValues;

constexpr double kInf = std::numeric_limits<double>::infinity();

enum class Kind { integer, real, unsigned64, text, choice };

// One leaf key. Only the accessor matching `kind` is set; accessors are captureless lambdas so the
// table is plain data. A `choice` key is an enum: its value is the enumerator's index, spelled in
// YAML by to_string() of that enum (choice_name), so the names live in one place.
struct Key {
  const char* path;
  const char* unit;
  const char* meaning;
  Kind kind;
  double lo = 0, hi = kInf;           // closed for integers
  bool lo_open = false, hi_open = true;
  const char* note = nullptr;         // why the range is what it is, appended to "expected ..."
  bool required = false;
  int& (*int_ref)(PlatformConfig&) = nullptr;
  double& (*real_ref)(PlatformConfig&) = nullptr;
  uint64_t& (*u64_ref)(PlatformConfig&) = nullptr;
  std::string& (*text_ref)(PlatformConfig&) = nullptr;
  int choice_count = 0;                                 // enumerators 0 .. choice_count - 1
  const char* (*choice_name)(int) = nullptr;            // index -> YAML spelling
  int (*choice_get)(const PlatformConfig&) = nullptr;   // current index
  void (*choice_set)(PlatformConfig&, int) = nullptr;   // store an index
};

Key int_key(const char* path, const char* unit, const char* meaning, long long lo, long long hi,
            int& (*ref)(PlatformConfig&), const char* note = nullptr) {
  Key k{path, unit, meaning, Kind::integer};
  k.lo = static_cast<double>(lo);
  k.hi = static_cast<double>(hi);
  k.hi_open = false;
  k.note = note;
  k.int_ref = ref;
  return k;
}

// A real number in a range; lo_open/hi_open say whether the bound itself is excluded.
Key real_key(const char* path, const char* unit, const char* meaning, double lo, bool lo_open,
             double hi, bool hi_open, double& (*ref)(PlatformConfig&)) {
  Key k{path, unit, meaning, Kind::real};
  k.lo = lo;
  k.lo_open = lo_open;
  k.hi = hi;
  k.hi_open = hi_open;
  k.real_ref = ref;
  return k;
}
// Shorthands for the two common real ranges.
Key positive(const char* path, const char* unit, const char* meaning,
             double& (*ref)(PlatformConfig&)) {
  return real_key(path, unit, meaning, 0, true, kInf, true, ref);
}
Key non_negative(const char* path, const char* unit, const char* meaning,
                 double& (*ref)(PlatformConfig&)) {
  return real_key(path, unit, meaning, 0, false, kInf, true, ref);
}
// A fraction in [0, 1] (rates) or [0, 1) (relative sigmas and tolerances).
Key unit_interval(const char* path, const char* meaning, bool hi_open,
                  double& (*ref)(PlatformConfig&)) {
  return real_key(path, "-", meaning, 0, false, 1, hi_open, ref);
}

// An enum key of type E with `count` enumerators 0 .. count - 1, each spelled by to_string(E).
template <typename E>
Key choice_key(const char* path, const char* meaning, int count,
               int (*get)(const PlatformConfig&), void (*set)(PlatformConfig&, int)) {
  Key k{path, "-", meaning, Kind::choice};
  k.choice_count = count;
  k.choice_name = [](int i) { return to_string(static_cast<E>(i)); };
  k.choice_get = get;
  k.choice_set = set;
  return k;
}

#define REF(T, member) +[](PlatformConfig& c) -> T& { return c.member; }
#define CHOICE(E, count, path, meaning, member)                                      \
  choice_key<E>(                                                                     \
      path, meaning, count,                                                          \
      +[](const PlatformConfig& c) { return static_cast<int>(c.member); },           \
      +[](PlatformConfig& c, int v) { c.member = static_cast<E>(v); })

// Enumerator counts; to_string() must name each of 0 .. count - 1 (a test checks).
constexpr int kDeviceTypes = num::kDeviceKindCount;  // the registered device kinds
constexpr int kPairModes = 2;    // unipolar, balanced
constexpr int kWornModes = 2;    // stuck_low, stuck_high

// The meaning of a block-kind key: what it chooses and every registered kind (config/block_kinds.h).
// Kept for the life of the program (the key table points at it).
const char* kind_meaning(const char* what, const char* const* names, int count) {
  static std::vector<std::unique_ptr<std::string>> texts;
  std::string m = std::string(what) + ", one of:";
  for (int i = 0; i < count; ++i) m += std::string(i ? "," : "") + " " + names[i];
  texts.push_back(std::make_unique<std::string>(m + "; the laws: docs/chip-model.md"));
  return texts.back()->c_str();
}

// The meaning of tile.device.type: every registered kind with its summary (device_model.h).
const char* device_type_meaning() {
  static const std::string text = [] {
    std::string m = "cell model, one of:";
    for (int i = 0; i < num::kDeviceKindCount; ++i) {
      const num::DeviceModel& d = num::device_model(static_cast<num::DeviceKind>(i));
      m += std::string(i ? ";" : "") + " " + d.name() + " (" + d.summary() + ")";
    }
    return m + "; the physics of each: docs/device-physics.md";
  }();
  return text.c_str();
}

const std::vector<Key>& keys() {
  static const std::vector<Key> table = [] {
    std::vector<Key> t;
    Key name{"name", "-", "platform name, shown in reports", Kind::text};
    name.required = true;
    name.text_ref = REF(std::string, name);
    t.push_back(name);

    t.push_back(int_key("grid.rows", "tiles", "rows of tiles on the shared bus", 1, 64,
                        REF(int, grid_rows)));
    t.push_back(int_key("grid.cols", "tiles", "columns of tiles on the shared bus", 1, 64,
                        REF(int, grid_cols)));
    t[1].required = t[2].required = true;

    t.push_back(CHOICE(ArrayReadKind, kArrayReadKindCount, "tile.array.kind",
                       kind_meaning("array read cost model", kArrayReadKindNames, kArrayReadKindCount),
                       tile.array.kind));
    t.push_back(int_key("tile.array.rows", "rows", "word lines = inputs per tile", 1, 4096,
                        REF(int, tile.array.rows)));
    t.push_back(int_key("tile.array.cols", "columns",
                        "weight columns = outputs per tile (each a differential pair of bit lines)",
                        1, 1024, REF(int, tile.array.cols),
                        "the per-tile register window holds 1024 column trims"));
    t.push_back(real_key("tile.array.v_read_v", "V", "input voltage at full-scale DAC code", 0,
                         true, 10, false, REF(double, tile.array.v_read_v)));
    t.push_back(positive("tile.array.t_read_ns", "ns", "array settle/integration time per MVM",
                         REF(double, tile.array.t_read_ns)));
    t.push_back(non_negative("tile.array.cell_area_um2", "um^2",
                             "area of one cell (a weight is a differential pair: two cells)",
                             REF(double, tile.array.cell_area_um2)));
    t.push_back(non_negative("tile.array.cell_pitch_um", "um",
                             "cell pitch along a line: a bit line spans rows x pitch, a word line "
                             "cols x 2 cells x pitch",
                             REF(double, tile.array.cell_pitch_um)));
    t.push_back(non_negative("tile.array.c_wire_ff_per_um", "fF/um",
                             "capacitance of a word or bit line per length",
                             REF(double, tile.array.c_wire_ff_per_um)));
    t.push_back(non_negative("tile.array.r_line_kohm", "kOhm",
                             "resistance that charges a bit line (driver, sense side): the read "
                             "waits (adc.bits + 1) ln 2 R C_bl for it to settle",
                             REF(double, tile.array.r_line_kohm)));
    t.push_back(non_negative("tile.array.p_static_uw", "uW",
                             "static power of one array's sense path (sense amplifiers, "
                             "references) while its tile is active (IDLE and STANDBY: off)",
                             REF(double, tile.array.p_static_uw)));

    // A meaning starts with "flash:", "pcm, rram:", ... when only those device types use the key
    // (the docs and the preset tests read that prefix).
    t.push_back(CHOICE(DeviceType, kDeviceTypes, "tile.device.type", device_type_meaning(),
                       tile.device.type));
    t.push_back(int_key("tile.device.bits_per_cell", "bit",
                        "programmable levels per cell = 2^bits_per_cell", 1, 8,
                        REF(int, tile.device.bits_per_cell)));
    t.push_back(non_negative("tile.device.g_min_ns", "nS",
                             "lowest programmable conductance (level 0); below g_max_ns",
                             REF(double, tile.device.g_min_ns)));
    t.push_back(positive("tile.device.g_max_ns", "nS",
                         "highest programmable conductance (the normalization unit)",
                         REF(double, tile.device.g_max_ns)));
    t.push_back(unit_interval("tile.device.read_noise_rel",
                              "flash, pcm, rram: sigma of read noise per read, relative to the "
                              "cell conductance",
                              true, REF(double, tile.device.read_noise_rel)));
    t.push_back(CHOICE(PairMode, kPairModes, "tile.device.pair",
                       "how a signed level splits over the cell pair: unipolar (one cell carries "
                       "|level|, the other sits at g_min) or balanced (both around the mid "
                       "conductance, +- level/2; cells always conduct)",
                       tile.device.pair));
    t.push_back(real_key("tile.device.t_ref_c", "C",
                         "flash, pcm, rram: temperature at which conductance targets are defined "
                         "(programming, verify); drift and temperature effects are relative to it",
                         -55, false, 150, false, REF(double, tile.device.t_ref_c)));
    t.push_back(positive("tile.device.g_erased_ns", "nS",
                         "flash, pcm, rram: conductance right after an erase (flash: high, at least "
                         "g_max_ns; pcm, rram: the RESET state, low)",
                         REF(double, tile.device.g_erased_ns)));
    t.push_back(real_key("tile.device.pulse_gain", "-",
                         "flash, pcm, rram: fraction of the measured error one program pulse aims "
                         "to remove (flash: of the log-distance ln(g/g_target))",
                         0, true, 1, false, REF(double, tile.device.pulse_gain)));
    t.push_back(non_negative("tile.device.pulse_noise", "-",
                             "flash, pcm, rram: sigma of one pulse's outcome, relative to the "
                             "aimed step (flash) or to g_max (pcm, rram)",
                             REF(double, tile.device.pulse_noise)));
    t.push_back(real_key("tile.device.endurance_cycles", "cycles",
                         "flash, pcm, rram: program/erase cycles a cell survives (flash counts "
                         "erases, pcm/rram programming operations); then it behaves as `worn`",
                         1, false, kInf, true, REF(double, tile.device.endurance_cycles)));
    t.push_back(CHOICE(WornMode, kWornModes, "tile.device.worn",
                       "flash, pcm, rram: what a cell past its endurance does: stuck_low (reads "
                       "g_min) or stuck_high (reads g_max)",
                       tile.device.worn));
    t.push_back(real_key("tile.device.flash.slope_factor", "-",
                         "flash: sub-threshold slope factor n; Vt moves n kT/q per e-fold of "
                         "conductance",
                         1, false, 3, false, REF(double, tile.device.flash.slope_factor)));
    t.push_back(positive("tile.device.flash.g_ref_ns", "nS",
                         "flash: conductance of the gate-coupled reference cell, the "
                         "temperature-invariant point: g(T) = g_ref (g/g_ref)^(T_ref/T)",
                         REF(double, tile.device.flash.g_ref_ns)));
    t.push_back(non_negative("tile.device.flash.retention_mv_per_decade", "mV/decade",
                             "flash: threshold voltage a fully charged cell loses per decade of "
                             "effective time (Arrhenius-scaled to t_ref_c)",
                             REF(double, tile.device.flash.retention_mv_per_decade)));
    t.push_back(non_negative("tile.device.flash.retention_ea_ev", "eV",
                             "flash: activation energy of charge loss (how temperature "
                             "accelerates retention loss)",
                             REF(double, tile.device.flash.retention_ea_ev)));
    t.push_back(positive("tile.device.drift.t0_s", "s",
                         "pcm, rram: reference time of the drift law G(t) = G_prog "
                         "(max(t, t0)/t0)^-nu",
                         REF(double, tile.device.drift.t0_s)));
    t.push_back(non_negative("tile.device.drift.nu_at_gmax", "-",
                             "pcm, rram: mean drift exponent nu of a cell at g_max (linear in G "
                             "between the two ends)",
                             REF(double, tile.device.drift.nu_at_gmax)));
    t.push_back(non_negative("tile.device.drift.nu_at_gmin", "-",
                             "pcm, rram: mean drift exponent nu of a cell at g_min",
                             REF(double, tile.device.drift.nu_at_gmin)));
    t.push_back(non_negative("tile.device.drift.nu_sigma_at_gmax", "-",
                             "pcm, rram: cell-to-cell sigma of nu at g_max (drawn per cell at "
                             "programming, nu clipped at 0)",
                             REF(double, tile.device.drift.nu_sigma_at_gmax)));
    t.push_back(non_negative("tile.device.drift.nu_sigma_at_gmin", "-",
                             "pcm, rram: cell-to-cell sigma of nu at g_min",
                             REF(double, tile.device.drift.nu_sigma_at_gmin)));
    t.push_back(non_negative("tile.device.thermal.ea_at_gmax_ev", "eV",
                             "pcm, rram: conduction activation energy at g_max: "
                             "G(T) = G exp(-(Ea/k)(1/T - 1/T_ref))",
                             REF(double, tile.device.thermal.ea_at_gmax_ev)));
    t.push_back(non_negative("tile.device.thermal.ea_at_gmin_ev", "eV",
                             "pcm, rram: conduction activation energy at g_min (linear in G "
                             "between the two ends)",
                             REF(double, tile.device.thermal.ea_at_gmin_ev)));

    t.push_back(CHOICE(InputDriverKind, kInputDriverKindCount, "tile.dac.kind",
                       kind_meaning("input driver (input encoding) cost model", kInputDriverKindNames,
                                    kInputDriverKindCount), tile.dac.kind));
    t.push_back(int_key("tile.dac.bits", "bit", "input DAC resolution", 1, 8,
                        REF(int, tile.dac.bits), "activations are stored as bytes"));
    t.push_back(int_key("tile.dac.ref_bits", "bit",
                        "resolution of the DAC the next three keys describe (a published design); "
                        "the kind's law scales them to tile.dac.bits",
                        1, 8, REF(int, tile.dac.ref_bits)));
    t.push_back(positive("tile.dac.t_conv_ns", "ns",
                         "one conversion at ref_bits (all row DACs convert in parallel)",
                         REF(double, tile.dac.t_conv_ns)));
    t.push_back(non_negative("tile.dac.e_conv_pj", "pJ", "energy per conversion at ref_bits, per row driven",
                             REF(double, tile.dac.e_conv_pj)));
    t.push_back(non_negative("tile.dac.area_um2", "um^2", "area of one DAC (one per word line) at ref_bits",
                             REF(double, tile.dac.area_um2)));

    t.push_back(CHOICE(AdcKind, kAdcKindCount, "tile.adc.kind",
                       kind_meaning("ADC bank cost model", kAdcKindNames, kAdcKindCount), tile.adc.kind));
    t.push_back(int_key("tile.adc.bits", "bit", "output ADC resolution (signed: 2 bits at least)", 2, 16,
                        REF(int, tile.adc.bits)));
    t.push_back(int_key("tile.adc.share", "columns",
                        "columns served by one ADC; at most tile.array.cols", 1, 4096,
                        REF(int, tile.adc.share)));
    t.push_back(int_key("tile.adc.ref_bits", "bit",
                        "resolution of the converter the next four keys describe (a published "
                        "design); the kind's law scales them to tile.adc.bits",
                        2, 16, REF(int, tile.adc.ref_bits)));
    t.push_back(positive("tile.adc.t_conv_ns", "ns", "one conversion at ref_bits",
                         REF(double, tile.adc.t_conv_ns)));
    t.push_back(non_negative("tile.adc.e_conv_pj", "pJ", "energy per conversion at ref_bits",
                             REF(double, tile.adc.e_conv_pj)));
    t.push_back(non_negative("tile.adc.area_um2", "um^2", "area of one converter at ref_bits",
                             REF(double, tile.adc.area_um2)));
    t.push_back(non_negative("tile.adc.p_static_uw", "uW",
                             "static power of one converter at ref_bits while its tile is active "
                             "(bias, reference; IDLE and STANDBY: off)",
                             REF(double, tile.adc.p_static_uw)));
    t.push_back(non_negative("tile.adc.offset_sigma_lsb", "LSB",
                             "sigma of each column's static ADC offset before trimming (drawn "
                             "once per column; firmware cancels it with TILE_TRIM)",
                             REF(double, tile.adc.offset_sigma_lsb)));

    t.push_back(CHOICE(DigitalUnitKind, kDigitalUnitKindCount, "tile.digital.kind",
                       kind_meaning("digital unit cost model", kDigitalUnitKindNames, kDigitalUnitKindCount),
                       tile.digital.kind));
    t.push_back(positive("tile.digital.clock_mhz", "MHz", "digital unit clock",
                         REF(double, tile.digital.clock_mhz)));
    t.push_back(int_key("tile.digital.lanes", "outputs/cycle",
                        "outputs processed per cycle (bias, scale, ReLU, partial-sum add)", 1, 4096,
                        REF(int, tile.digital.lanes)));
    t.push_back(non_negative("tile.digital.e_op_pj", "pJ",
                             "energy per output element requantized (an MVM output, add, concat: add + multiply + compare)",
                             REF(double, tile.digital.e_op_pj)));
    t.push_back(non_negative("tile.digital.e_compare_pj", "pJ", "energy per compare (max pooling)",
                             REF(double, tile.digital.e_compare_pj)));
    t.push_back(non_negative("tile.digital.e_accumulate_pj", "pJ", "energy per accumulate (average pooling)",
                             REF(double, tile.digital.e_accumulate_pj)));
    t.push_back(non_negative("tile.digital.e_mac_pj", "pJ",
                             "energy per multiply-accumulate (a depthwise convolution in the digital unit)",
                             REF(double, tile.digital.e_mac_pj)));
    t.push_back(non_negative("tile.digital.e_float_op_pj", "pJ", "energy per floating-point operation (softmax)",
                             REF(double, tile.digital.e_float_op_pj)));
    t.push_back(non_negative("tile.digital.p_static_uw", "uW",
                             "leakage of one digital unit while its tile is ACTIVE (IDLE and STANDBY: off)",
                             REF(double, tile.digital.p_static_uw)));
    t.push_back(non_negative("tile.digital.lane_area_um2", "um^2",
                             "area of one lane (multiplier, adder, comparator, registers)",
                             REF(double, tile.digital.lane_area_um2)));

    t.push_back(non_negative("tile.p_static_active_uw", "uW",
                             "static power of one tile while the chip is active, besides its blocks' own "
                             "(tile.array.p_static_uw, tile.adc.p_static_uw)",
                             REF(double, tile.p_static_active_uw)));
    t.push_back(non_negative("tile.p_static_idle_uw", "uW",
                             "static power of one tile in the IDLE power state (STANDBY: none)",
                             REF(double, tile.p_static_idle_uw)));
    t.push_back(int_key("tile.input_buffer_bytes", "B",
                        "tile input buffer; holds at least one input vector (tile.array.rows B)", 1,
                        1 << 24, REF(int, tile.input_buffer_bytes)));
    t.push_back(int_key("tile.output_buffer_bytes", "B",
                        "tile output buffer; holds at least one output vector "
                        "(tile.array.cols x ceil(tile.adc.bits / 8) B)",
                        1, 1 << 24, REF(int, tile.output_buffer_bytes)));

    t.push_back(int_key("bus.width_bytes", "B", "bytes per bus cycle", 1, 1024,
                        REF(int, bus.width_bytes)));
    t.push_back(positive("bus.clock_mhz", "MHz",
                         "bus clock; bandwidth = width_bytes x clock_mhz x 1e6 B/s",
                         REF(double, bus.clock_mhz)));
    t.push_back(non_negative("bus.latency_ns", "ns",
                             "fixed latency of one burst (arbitration + address phase)",
                             REF(double, bus.latency_ns)));
    t.push_back(int_key("bus.max_burst_bytes", "B",
                        "longest burst; a longer transfer is arbitrated burst by burst, so other "
                        "masters interleave with it",
                        1, 1 << 24, REF(int, bus.max_burst_bytes)));
    t.push_back(non_negative("bus.e_byte_pj", "pJ/B",
                             "energy per byte moved on the bus, besides its wires (drivers, arbiter)",
                             REF(double, bus.e_byte_pj)));
    t.push_back(non_negative("bus.e_wire_bit_mm_pj", "pJ/(bit mm)",
                             "wire energy per bit and mm of bus driven; the shared bus drives its whole "
                             "length, from the floorplan of the tile grid (docs/chip-model.md, \"Interconnect\")",
                             REF(double, bus.e_wire_bit_mm_pj)));
    t.push_back(non_negative("bus.p_static_uw", "uW", "static power of the bus",
                             REF(double, bus.p_static_uw)));

    t.push_back(int_key("sram.size_kib", "KiB", "activation SRAM size", 1, 1 << 20,
                        REF(int, sram.size_kib)));
    t.push_back(non_negative("sram.latency_ns", "ns", "access latency per transfer",
                             REF(double, sram.latency_ns)));
    t.push_back(int_key("sram.bank_kib", "KiB", "one bank; an access reads or writes one bank", 1, 1 << 20,
                        REF(int, sram.bank_kib)));
    t.push_back(int_key("sram.ref_bank_kib", "KiB",
                        "the bank whose energies e_read_byte_pj and e_write_byte_pj are; a bank of "
                        "bank_kib costs sqrt(bank_kib / ref_bank_kib) times as much",
                        1, 1 << 20, REF(int, sram.ref_bank_kib)));
    t.push_back(non_negative("sram.e_read_byte_pj", "pJ/B", "energy per byte read from a bank of ref_bank_kib",
                             REF(double, sram.e_read_byte_pj)));
    t.push_back(non_negative("sram.e_write_byte_pj", "pJ/B", "energy per byte written to a bank of ref_bank_kib",
                             REF(double, sram.e_write_byte_pj)));
    t.push_back(non_negative("sram.e_wire_bit_mm_pj", "pJ/(bit mm)",
                             "wires from the SRAM's port to a bank, per bit and mm (the mean route is "
                             "half the side of the SRAM's area)",
                             REF(double, sram.e_wire_bit_mm_pj)));
    t.push_back(non_negative("sram.p_static_uw_per_kib", "uW/KiB", "leakage per KiB",
                             REF(double, sram.p_static_uw_per_kib)));
    t.push_back(non_negative("sram.area_um2_per_kib", "um^2/KiB", "silicon per KiB, periphery included",
                             REF(double, sram.area_um2_per_kib)));

    t.push_back(non_negative("host.reg_access_ns", "ns",
                             "latency of one register access from the host",
                             REF(double, host.reg_access_ns)));
    t.push_back(non_negative("host.e_reg_access_pj", "pJ", "energy of one register access",
                             REF(double, host.e_reg_access_pj)));
    t.push_back(positive("host.dma_bytes_per_ns", "B/ns",
                         "host link bandwidth seen by the DMA engine",
                         REF(double, host.dma_bytes_per_ns)));
    t.push_back(non_negative("host.dma_setup_ns", "ns", "DMA setup time per descriptor",
                             REF(double, host.dma_setup_ns)));
    t.push_back(non_negative("host.e_dma_byte_pj", "pJ/B", "energy per byte crossing the host link",
                             REF(double, host.e_dma_byte_pj)));
    t.push_back(non_negative("host.p_static_uw", "uW", "static power of the host interface",
                             REF(double, host.p_static_uw)));

    t.push_back(positive("programming.t_pulse_ns", "ns",
                         "one program pulse, applied to up to programming.parallel_cells cells at once",
                         REF(double, programming.t_pulse_ns)));
    t.push_back(non_negative("programming.e_pulse_pj", "pJ", "energy of one program pulse on one cell",
                             REF(double, programming.e_pulse_pj)));
    t.push_back(int_key("programming.parallel_cells", "cells",
                        "cells pulsed and verified at once (charge-pump / current limit)", 1,
                        1 << 24, REF(int, programming.parallel_cells)));
    t.push_back(positive("programming.t_verify_ns", "ns",
                         "one verify read of up to programming.parallel_cells cells",
                         REF(double, programming.t_verify_ns)));
    t.push_back(non_negative("programming.e_verify_cell_pj", "pJ",
                             "energy to verify-read one cell", REF(double, programming.e_verify_cell_pj)));
    t.push_back(int_key("programming.erase_sector_rows", "rows",
                        "flash: word lines per erase sector (the erase granularity)", 1, 4096,
                        REF(int, programming.erase_sector_rows)));
    t.push_back(positive("programming.t_erase_ns", "ns",
                         "time to erase one sector (flash) or to RESET one whole tile (ideal, pcm, rram)",
                         REF(double, programming.t_erase_ns)));
    t.push_back(non_negative("programming.e_erase_nj", "nJ",
                             "energy of one sector erase (flash) or of one tile RESET (ideal, pcm, rram)",
                             REF(double, programming.e_erase_nj)));
    t.push_back(int_key("programming.max_iterations", "pulses",
                        "program pulses per cell before it is given up (counted as unconverged)",
                        1, 1000, REF(int, programming.max_iterations)));
    t.push_back(unit_interval("programming.tolerance_rel",
                              "verify passes when |G - G_target| <= max(tolerance_rel x G_target, "
                              "tolerance_gmax_rel x g_max, half a verify LSB)",
                              true, REF(double, programming.tolerance_rel)));
    t.push_back(unit_interval("programming.tolerance_gmax_rel",
                              "verify tolerance relative to g_max (see programming.tolerance_rel)",
                              true, REF(double, programming.tolerance_gmax_rel)));
    t.push_back(int_key("programming.verify_bits", "bit",
                        "resolution of the verify read over [0, g_max]", 1, 24,
                        REF(int, programming.verify_bits)));

    t.push_back(unit_interval("faults.stuck_low_rate",
                              "fraction of cells stuck at g_min (drawn once per tile from the seed)",
                              false, REF(double, faults.stuck_low_rate)));
    t.push_back(unit_interval("faults.stuck_high_rate",
                              "fraction of cells stuck at g_max; stuck_low_rate + stuck_high_rate "
                              "<= 1",
                              false, REF(double, faults.stuck_high_rate)));
    t.push_back(unit_interval("faults.dead_column_rate",
                              "fraction of weight columns whose bit lines are open (read 0)", false,
                              REF(double, faults.dead_column_rate)));
    t.push_back(unit_interval("faults.adc_offset_rate",
                              "fraction of columns whose ADC has an offset fault", false,
                              REF(double, faults.adc_offset_rate)));
    t.push_back(non_negative("faults.adc_offset_lsb", "LSB",
                             "size of an ADC offset fault (sign drawn at random per faulty "
                             "column), added to the column's static offset",
                             REF(double, faults.adc_offset_lsb)));

    t.push_back(positive("simulation.quantum_ns", "ns", "TLM quantum keeper global quantum",
                         REF(double, simulation.quantum_ns)));
    Key seed{"simulation.seed", "-", "seed of every random stream (noise, programming error)",
             Kind::unsigned64};
    seed.u64_ref = REF(uint64_t, simulation.seed);
    t.push_back(seed);
    t.push_back(int_key("simulation.host_threads", "threads",
                        "host threads that program-and-verify runs on (groups of up to 16 rows x "
                        "512 pairs in parallel); wall time only: the results are the same bits for "
                        "any value",
                        1, 256, REF(int, simulation.host_threads)));
    return t;
  }();
  return table;
}

#undef CHOICE
#undef REF

std::string format_real(double v) {
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof buf, v);  // shortest text that reads back exactly
  std::string s(buf, res.ptr);
  if (s.find_first_of(".eE") == std::string::npos) s += ".0";  // reads as a real to people too
  return s;
}

std::string format_bound(double v) {
  return v == std::floor(v) && std::fabs(v) < 1e15 ? std::to_string(static_cast<long long>(v))
                                                   : format_real(v);
}

// What a key accepts, as it appears after "expected".
std::string expected_text(const Key& k) {
  std::string s;
  switch (k.kind) {
    case Kind::text: s = "a non-empty string"; break;
    case Kind::choice:
      s = "one of";
      for (int i = 0; i < k.choice_count; ++i) s += std::string(i ? ", " : " ") + k.choice_name(i);
      break;
    case Kind::unsigned64: s = "an unsigned integer"; break;
    case Kind::integer:
      s = "an integer in [" + format_bound(k.lo) + ", " + format_bound(k.hi) + "]";
      break;
    case Kind::real:
      if (std::isinf(k.hi)) {
        s = std::string("a number ") + (k.lo_open ? "> " : ">= ") + format_bound(k.lo);
      } else {
        s = std::string("a number in ") + (k.lo_open ? "(" : "[") + format_bound(k.lo) + ", " +
            format_bound(k.hi) + (k.hi_open ? ")" : "]");
      }
      break;
  }
  if (k.note) s += std::string(" (") + k.note + ")";
  return s;
}

std::string range_text(const Key& k) {
  std::string s = expected_text(k);
  return s.compare(0, 3, "an ") == 0 ? s.substr(3) : s.compare(0, 2, "a ") == 0 ? s.substr(2) : s;
}

// come later, so that code-built configs get the same checks.
bool parse_into(const Key& k, const std::string& text, PlatformConfig& cfg) {
  const char* b = text.data();
  const char* e = b + text.size();
  if (b != e && *b == '+' && k.kind != Kind::text && k.kind != Kind::choice) ++b;  // from_chars refuses '+'
  switch (k.kind) {
    case Kind::text:
      if (text.empty()) return false;
      k.text_ref(cfg) = text;
      return true;
    case Kind::choice:
      for (int i = 0; i < k.choice_count; ++i) {
        if (text == k.choice_name(i)) {
          k.choice_set(cfg, i);
          return true;
        }
      }
      return false;
    case Kind::integer: {
      long long v = 0;
      auto r = std::from_chars(b, e, v);
      if (r.ec != std::errc() || r.ptr != e || b == e) return false;
      if (v < k.lo || v > k.hi) return false;  // also keeps the int cast below safe
      k.int_ref(cfg) = static_cast<int>(v);
      return true;
    }
    case Kind::unsigned64: {
      unsigned long long v = 0;
      if (b != e && *b == '-') return false;
      auto r = std::from_chars(b, e, v);
      if (r.ec != std::errc() || r.ptr != e || b == e) return false;
      k.u64_ref(cfg) = v;
      return true;
    }
    case Kind::real: {
      double v = 0;
      auto r = std::from_chars(b, e, v, std::chars_format::general);
      if (r.ec != std::errc() || r.ptr != e || b == e || !std::isfinite(v)) return false;
      k.real_ref(cfg) = v;
      return true;
    }
  }
  return false;
}

std::string value_text(const Key& k, const PlatformConfig& cfg) {
  auto& c = const_cast<PlatformConfig&>(cfg);  // accessors are shared with the writers
  switch (k.kind) {
    case Kind::text: return k.text_ref(c);
    case Kind::choice: {
      const int i = k.choice_get(cfg);
      return i >= 0 && i < k.choice_count ? k.choice_name(i) : std::to_string(i);
    }
    case Kind::integer: return std::to_string(k.int_ref(c));
    case Kind::unsigned64: return std::to_string(k.u64_ref(c));
    case Kind::real: return format_real(k.real_ref(c));
  }
  return "";
}

bool in_range(const Key& k, const PlatformConfig& cfg) {
  auto& c = const_cast<PlatformConfig&>(cfg);
  switch (k.kind) {
    case Kind::text: return !k.text_ref(c).empty();
    case Kind::choice: {
      const int i = k.choice_get(cfg);  // a code-built config may hold a cast-out-of-range value
      return i >= 0 && i < k.choice_count;
    }
    case Kind::unsigned64: return true;
    case Kind::integer: {
      const int v = k.int_ref(c);
      return v >= k.lo && v <= k.hi;
    }
    case Kind::real: {
      const double v = k.real_ref(c);
      if (!std::isfinite(v)) return false;
      if (k.lo_open ? !(v > k.lo) : !(v >= k.lo)) return false;
      if (!std::isinf(k.hi) && (k.hi_open ? !(v < k.hi) : !(v <= k.hi))) return false;
      return true;
    }
  }
  return false;
}

// Looks up where each key's value came from; keys without an entry took the struct default.
struct Origins {
  std::string source;  // file name, or "config" for code-built configurations
  const RawValues* values = nullptr;
  Origin of(const std::string& key) const {
    if (values) {
      auto it = values->find(key);
      if (it != values->end()) return it->second.origin;
    }
    return Origin{source, true, ""};
  }
};

std::string got(const std::string& formatted, const Origin& o) {
  if (o.is_default) return ", got " + formatted + " (the default)";
  return ", got " + (o.text.empty() ? formatted : o.text);
}

// The value of another key, with where it came from, for cross-field messages.
std::string other(const std::string& key, const std::string& value, const Origins& origins) {
  const Origin o = origins.of(key);
  return key + " = " + value + (o.is_default ? " (the default)" : " (from " + o.where + ")");
}

void validate(const PlatformConfig& cfg, const Origins& origins) {
  for (const Key& k : keys()) {
    if (!in_range(k, cfg)) {
      const Origin o = origins.of(k.path);
      fail(o.where, k.path, "expected " + expected_text(k) + got(value_text(k, cfg), o));
    }
  }
  const auto& t = cfg.tile;
  if (!(t.device.g_min_ns < t.device.g_max_ns)) {
    const Origin o = origins.of("tile.device.g_min_ns");
    fail(o.where, "tile.device.g_min_ns",
         "expected a number below " +
             other("tile.device.g_max_ns", format_real(t.device.g_max_ns), origins) +
             got(format_real(t.device.g_min_ns), o));
  }
  if (t.adc.share > t.array.cols) {
    const Origin o = origins.of("tile.adc.share");
    fail(o.where, "tile.adc.share",
         "expected an integer in [1, " + std::to_string(t.array.cols) + "], at most " +
             other("tile.array.cols", std::to_string(t.array.cols), origins) +
             got(std::to_string(t.adc.share), o));
  }
  if (t.input_buffer_bytes < t.array.rows) {
    const Origin o = origins.of("tile.input_buffer_bytes");
    fail(o.where, "tile.input_buffer_bytes",
         "expected at least " + std::to_string(t.array.rows) + " B, one input vector of " +
             other("tile.array.rows", std::to_string(t.array.rows), origins) +
             got(std::to_string(t.input_buffer_bytes), o));
  }
  // A kind that erases to a high conductance programs only downward (flash), so every level must
  // lie below the erased state.
  const num::DeviceModel& kind = num::device_model(t.device.type);
  if (kind.traits().erase_high && t.device.g_erased_ns < t.device.g_max_ns) {
    const Origin o = origins.of("tile.device.g_erased_ns");
    fail(o.where, "tile.device.g_erased_ns",
         "expected a number >= " +
             other("tile.device.g_max_ns", format_real(t.device.g_max_ns), origins) + ", since " +
             kind.name() + " cells are only programmed downward from the erased state and " +
             other("tile.device.type", kind.name(), origins) +
             got(format_real(t.device.g_erased_ns), o));
  }
  // The two stuck-at faults are exclusive outcomes of one draw per cell.
  const auto& f = cfg.faults;
  if (f.stuck_low_rate + f.stuck_high_rate > 1) {
    const Origin o = origins.of("faults.stuck_high_rate");
    fail(o.where, "faults.stuck_high_rate",
         "expected a number in [0, " + format_real(1 - f.stuck_low_rate) + "], at most 1 - " +
             other("faults.stuck_low_rate", format_real(f.stuck_low_rate), origins) +
             got(format_real(f.stuck_high_rate), o));
  }
  const int out_bytes_per_col = (t.adc.bits + 7) / 8;
  if (t.output_buffer_bytes < t.array.cols * out_bytes_per_col) {
    const Origin o = origins.of("tile.output_buffer_bytes");
    fail(o.where, "tile.output_buffer_bytes",
         "expected at least " + std::to_string(t.array.cols * out_bytes_per_col) +
             " B, one output vector of " +
             other("tile.array.cols", std::to_string(t.array.cols), origins) + " x " +
             std::to_string(out_bytes_per_col) + " B for " +
             other("tile.adc.bits", std::to_string(t.adc.bits), origins) +
             got(std::to_string(t.output_buffer_bytes), o));
  }
}

// The key names as the file layer sees them (leaf paths and what each accepts).
const detail::KeyNames& key_names() {
  static const detail::KeyNames names = [] {
    std::vector<std::string> leaves;
    for (const Key& k : keys()) leaves.push_back(k.path);
    return detail::KeyNames(std::move(leaves), [](const std::string& path) {
      for (const Key& k : keys())
        if (path == k.path) return expected_text(k);
      return std::string("a value");
    });
  }();
  return names;
}

// `values` holds what the file and its bases set; overrides go over them, then every value is
// parsed and checked.
PlatformConfig build(detail::RawValues values, const std::string& file,
                     const std::vector<std::string>& overrides) {
  for (const std::string& ov : overrides) detail::apply_override(ov, key_names(), values);

  for (const Key& k : keys()) {
    if (k.required && !values.count(k.path))
      fail(file, "", std::string("missing required key '") + k.path + "' (" + k.meaning + ")");
  }

  PlatformConfig cfg;
  cfg.source_file = file;
  for (const Key& k : keys()) {
    auto it = values.find(k.path);
    if (it == values.end()) continue;
    const RawValue& rv = it->second;
    if (rv.is_null)
      fail(rv.origin.where, k.path, "expected " + expected_text(k) + ", got nothing");
    if (!parse_into(k, rv.text, cfg))
      fail(rv.origin.where, k.path, "expected " + expected_text(k) + ", got " + rv.text);
  }
  validate(cfg, Origins{file, &values});
  return cfg;
}

}  // namespace

const char* to_string(PairMode mode) {
  switch (mode) {
    case PairMode::unipolar: return "unipolar";
    case PairMode::balanced: return "balanced";
  }
  return "?";
}

const char* to_string(WornMode mode) {
  switch (mode) {
    case WornMode::stuck_low: return "stuck_low";
    case WornMode::stuck_high: return "stuck_high";
  }
  return "?";
}

const std::vector<KeyInfo>& describe_keys() {
  static const std::vector<KeyInfo> info = [] {
    std::vector<KeyInfo> out;
    for (const Key& k : keys()) out.push_back(KeyInfo{k.path, k.unit, range_text(k), k.meaning, k.required});
    return out;
  }();
  return info;
}

void validate_platform(const PlatformConfig& cfg) {
  validate(cfg, Origins{cfg.source_file.empty() ? "config" : cfg.source_file, nullptr});
}

PlatformConfig load_platform(const std::string& path, const std::vector<std::string>& overrides) {
  RawValues values;
  detail::read_platform_file(path, key_names(), values);
  return build(std::move(values), path, overrides);
}

PlatformConfig load_platform_from_string(const std::string& yaml_text, const std::string& name,
                                         const std::vector<std::string>& overrides) {
  RawValues values;
  detail::read_platform_text(yaml_text, name, key_names(), values);
  return build(std::move(values), name, overrides);
}

std::map<std::string, std::string> platform_key_origins(const std::string& path,
                                                        const std::vector<std::string>& overrides) {
  RawValues values;
  detail::read_platform_file(path, key_names(), values);
  for (const std::string& ov : overrides) detail::apply_override(ov, key_names(), values);
  std::map<std::string, std::string> out;
  for (const auto& [key, value] : values) out[key] = value.origin.where;
  return out;
}

std::string dump_platform(const PlatformConfig& cfg) {
  YAML::Emitter out;
  out << YAML::Comment("effective configuration" +
                       (cfg.source_file.empty() ? std::string() : " (loaded from " + cfg.source_file + ")"));
  out << YAML::BeginMap;
  std::vector<std::string> open;  // sections currently open, outermost first
  for (const Key& k : keys()) {
    std::vector<std::string> parts;
    std::stringstream ss(k.path);
    for (std::string p; std::getline(ss, p, '.');) parts.push_back(p);
    const std::string leaf = parts.back();
    parts.pop_back();
    std::size_t common = 0;
    while (common < open.size() && common < parts.size() && open[common] == parts[common]) ++common;
    while (open.size() > common) {
      out << YAML::EndMap;
      open.pop_back();
    }
    for (std::size_t i = common; i < parts.size(); ++i) {
      out << YAML::Key << parts[i] << YAML::Value << YAML::BeginMap;
      open.push_back(parts[i]);
    }
    out << YAML::Key << leaf << YAML::Value;
    if (k.kind == Kind::text) out << YAML::DoubleQuoted;  // a name like "null" or "8" stays a name
    out << value_text(k, cfg);
  }
  while (!open.empty()) {
    out << YAML::EndMap;
    open.pop_back();
  }
  out << YAML::EndMap;
  return std::string(out.c_str()) + "\n";
}

}  // namespace aimc::config
