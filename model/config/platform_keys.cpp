// The table of platform keys: one row per YAML leaf key (platform_keys.h). Adding a key: its
// member in platform_config.h, its row here, its line in docs/platform-config.md, and in every
// preset with its source.
#include "config/platform_keys.h"

#include <memory>

#include "numerics/device_model.h"

namespace aimc::config::detail {
namespace {

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

// A yes/no key, spelled false or true: a choice of two.
const char* bool_name(int i) { return i ? "true" : "false"; }
#define SWITCH(path, meaning, member)                                                       \
  [] {                                                                                      \
    Key k{path, "-", meaning, Kind::choice};                                                \
    k.choice_count = 2;                                                                     \
    k.choice_name = bool_name;                                                              \
    k.choice_get = +[](const PlatformConfig& c) { return c.member ? 1 : 0; };               \
    k.choice_set = +[](PlatformConfig& c, int v) { c.member = v != 0; };                    \
    return k;                                                                               \
  }()

// Enumerator counts; to_string() must name each of 0 .. count - 1 (a test checks).
constexpr int kDeviceTypes = num::kDeviceKindCount;  // the registered device kinds
constexpr int kPairModes = 2;    // unipolar, balanced
constexpr int kWornModes = 2;    // stuck_low, stuck_high
constexpr int kSramStandbyModes = 4;  // powered, retain, gate_unused, gate_all

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

}  // namespace

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
    t.push_back(int_key("tile.array.read_phases", "phases",
                        "1: convert each pair's differential current; 2: the g+ and g- sides in "
                        "separate phases as unipolar counts, subtracted digitally; 4: also the "
                        "inputs' signs (HERMES 4-phase); 1, 2 or 4",
                        1, 4, REF(int, tile.array.read_phases)));
    t.push_back(SWITCH("tile.array.ir_drop",
                       "IR drop along the lines: each cell of the used block reads G / (1 + x), x "
                       "the wire resistance to its driver and sense end weighted by the currents "
                       "sharing it (docs/nonidealities.md); false: the cells see v at every row",
                       tile.array.ir_drop));
    t.push_back(non_negative("tile.array.r_wire_ohm_per_um", "Ohm/um",
                             "resistance of a word or bit line per length (with ir_drop; one cell "
                             "pitch is one segment)",
                             REF(double, tile.array.r_wire_ohm_per_um)));

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
    t.push_back(positive("tile.dac.t_lsb_ns", "ns",
                         "pwm: pulse length of one input code step (the read window is 2^bits steps)",
                         REF(double, tile.dac.t_lsb_ns)));

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
    t.push_back(non_negative("tile.digital.e_float_op_pj", "pJ", "energy per floating-point operation (softmax, activations)",
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
    t.push_back(int_key("tile.local_memory_kib", "KiB",
                        "activation memory of each tile's own (0: none, every map goes through the shared "
                        "SRAM); an op's outputs then go straight to the memories of the tiles of the ops "
                        "that read them, over the interconnect, and those ops read them there "
                        "(docs/chip-model.md, \"Local activation memory\"); its cost is the SRAM law "
                        "(sram.*) for a memory of this size",
                        0, 1 << 20, REF(int, tile.local_memory_kib)));
    t.push_back(int_key("tile.local_memory_width_bytes", "B",
                        "bytes the local activation memory's port moves per cycle of tile.digital.clock_mhz",
                        1, 4096, REF(int, tile.local_memory_width_bytes)));

    t.push_back(CHOICE(InterconnectKind, kInterconnectKindCount, "interconnect.kind",
                       "what links the tiles, SRAM, host interface and programming controller: "
                       "shared_bus (one bus, bus.*), mesh (a 2D mesh network on chip with XY "
                       "routing, mesh.*) or links (point-to-point links between neighbouring tiles, "
                       "relayed by the tiles, links.*); docs/chip-model.md, \"Interconnect\"",
                       interconnect));
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
    t.push_back(non_negative("bus.wire_pitch_um", "um",
                             "track pitch of a routing channel of the bus's own (8 x width_bytes data "
                             "and 32 address wires along its length); 0: the wires route over the "
                             "blocks and take no area",
                             REF(double, bus.wire_pitch_um)));

    t.push_back(int_key("mesh.width_bytes", "B", "bytes a link carries per cycle (one flit)", 1, 1024,
                        REF(int, mesh.width_bytes)));
    t.push_back(positive("mesh.clock_mhz", "MHz", "router and link clock; a link's bandwidth = "
                         "width_bytes x clock_mhz x 1e6 B/s",
                         REF(double, mesh.clock_mhz)));
    t.push_back(int_key("mesh.hop_cycles", "cycles",
                        "router pipeline: cycles a packet's head takes per router it crosses", 1, 1024,
                        REF(int, mesh.hop_cycles)));
    t.push_back(int_key("mesh.max_packet_bytes", "B",
                        "longest packet (its payload; each packet adds one head flit); a longer "
                        "transfer is cut into packets, booked one after the other",
                        1, 1 << 24, REF(int, mesh.max_packet_bytes)));
    t.push_back(non_negative("mesh.e_bit_hop_pj", "pJ/bit",
                             "energy per bit and router crossed (buffers, crossbar, link driver); a "
                             "transfer over h links crosses h + 1 routers",
                             REF(double, mesh.e_bit_hop_pj)));
    t.push_back(non_negative("mesh.e_wire_bit_mm_pj", "pJ/(bit mm)",
                             "wire energy per bit and mm of link; a link spans one tile pitch",
                             REF(double, mesh.e_wire_bit_mm_pj)));
    t.push_back(SWITCH("mesh.multicast",
                       "true: an input vector meant for several tiles travels once along the XY tree "
                       "that reaches them all (each link of the tree once); false: once per tile",
                       mesh.multicast));
    t.push_back(non_negative("mesh.p_static_uw_per_router", "uW", "static power of one router",
                             REF(double, mesh.p_static_uw_per_router)));
    t.push_back(non_negative("mesh.router_area_um2", "um^2", "die area of one router (the links route over the tiles)",
                             REF(double, mesh.router_area_um2)));

    t.push_back(positive("links.gbit_per_s", "Gbit/s", "bandwidth of one link, each way",
                         REF(double, links.gbit_per_s)));
    t.push_back(non_negative("links.latency_ns", "ns",
                             "latency of one link crossed (serializer, deserializer), besides the bits",
                             REF(double, links.latency_ns)));
    t.push_back(int_key("links.max_packet_bytes", "B",
                        "longest packet; a tile receives a packet whole before relaying it (store and "
                        "forward), and a longer transfer is cut into packets",
                        1, 1 << 24, REF(int, links.max_packet_bytes)));
    t.push_back(non_negative("links.e_bit_pj", "pJ/bit", "energy per bit and link crossed (serializer, driver, receiver)",
                             REF(double, links.e_bit_pj)));
    t.push_back(non_negative("links.e_wire_bit_mm_pj", "pJ/(bit mm)",
                             "wire energy per bit and mm of link; a link spans one tile pitch",
                             REF(double, links.e_wire_bit_mm_pj)));
    t.push_back(SWITCH("links.multicast",
                       "true: a relaying tile forwards one packet to several neighbours, so an input "
                       "for several tiles crosses each link of its XY tree once; false: once per tile",
                       links.multicast));
    t.push_back(non_negative("links.p_static_uw_per_link", "uW", "static power of one link (both ends)",
                             REF(double, links.p_static_uw_per_link)));
    t.push_back(non_negative("links.area_um2_per_link", "um^2", "die area of one link's two ends (the wires route over the tiles)",
                             REF(double, links.area_um2_per_link)));

    t.push_back(int_key("gdpu.lanes", "-",
                        "lanes of the chip's global digital processing unit beside the SRAM (0: none); "
                        "with lanes, the digital ops (pooling, add, concat, softmax, digital depthwise) "
                        "run there instead of on a tile's digital unit, with the tiles' logic "
                        "(tile.digital.*: energies, leakage and area per lane)",
                        0, 4096, REF(int, gdpu.lanes)));
    t.push_back(positive("gdpu.clock_mhz", "MHz", "clock of the global digital processing unit",
                         REF(double, gdpu.clock_mhz)));
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
    t.push_back(CHOICE(SramStandby, kSramStandbyModes, "sram.standby",
                       "what the banks do in STANDBY: powered (full leakage, contents kept), retain (every "
                       "bank at retention_leakage_rel), gate_unused (banks never written since they "
                       "were last gated leak nothing, the others are retained), gate_all (nothing "
                       "leaks, contents lost: zeros after wake-up); other than powered, accesses in STANDBY "
                       "are refused",
                       sram.standby));
    t.push_back(unit_interval("sram.retention_leakage_rel",
                              "leakage of a bank at its retention voltage, relative to its active "
                              "leakage (sram.standby retain and gate_unused)",
                              false, REF(double, sram.retention_leakage_rel)));

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

    t.push_back(positive("cpu.clock_mhz", "MHz",
                         "clock of the RV32 core beside the chip (aimc fw run)",
                         REF(double, cpu.clock_mhz)));
    t.push_back(positive("cpu.cpi", "cycles", "the core's average cycles per instruction",
                         REF(double, cpu.cpi)));
    t.push_back(int_key("cpu.rom_kib", "KiB",
                        "the core's ROM at 0x2000_0000 (the firmware ELF's code and read-only data)",
                        4, 512 * 1024, REF(int, cpu.rom_kib)));
    t.push_back(int_key("cpu.ram_kib", "KiB",
                        "the core's RAM at 0x8000_0000 (data, heap, stack, DMA buffers; the chip's "
                        "DMA sees it from bus address 0)",
                        4, 1024 * 1024, REF(int, cpu.ram_kib)));
    t.push_back(non_negative("cpu.e_cycle_pj", "pJ",
                             "energy of one active cycle of the core (clock-gated in wfi: none)",
                             REF(double, cpu.e_cycle_pj)));
    t.push_back(non_negative("cpu.p_static_uw", "uW", "leakage of the core, asleep or not",
                             REF(double, cpu.p_static_uw)));
    t.push_back(positive("cpu.quantum_ns", "ns",
                         "how far the core's time may run ahead of SystemC's between "
                         "synchronisations (its quantum keeper; chip register reads and wfi "
                         "synchronise at once)",
                         REF(double, cpu.quantum_ns)));

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

}  // namespace aimc::config::detail
