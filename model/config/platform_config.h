// Typed platform configuration: what a platform YAML (platforms/*.yaml) becomes after loading and
// validation. Units are in the field names (ns, pj, uw, ...). Every field has a default here only
// so that structs can be built in tests; the shipped presets set every value their device type
// uses and cite its source (keys, units, ranges and which device uses what: docs/platform-config.md).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "config/block_kinds.h"
#include "numerics/device_kind.h"

namespace aimc::config {

// Thrown for any configuration problem. what() names the file, line (when known), the dotted key
// path and what was expected, e.g.
//   platforms/x.yaml:12: tile.adc.bits: expected an integer in [1, 16], got 40
class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The device kinds (tile.device.type): the one list in numerics/device_kind.h.
using DeviceType = num::DeviceKind;
enum class PairMode { unipolar, balanced };     // how a signed level splits over the pair
enum class WornMode { stuck_low, stuck_high };  // what a cell past its endurance does
// What the SRAM's banks do in STANDBY (docs/chip-model.md, "Power states"): stay powered (full
// leakage), all drop to the retention voltage, gate the banks that hold nothing (never written since
// they were last gated) and retain the rest, or gate all (contents lost, zeros after wake-up).
enum class SramStandby { powered, retain, gate_unused, gate_all };

// Split-gate floating-gate flash read in sub-threshold, gate-coupled (docs/device-physics.md).
struct FlashConfig {
  double slope_factor = 1.5;              // n of the sub-threshold slope
  double g_ref_ns = 1360.0;               // peripheral reference cell: temperature-invariant point (nS)
  double retention_mv_per_decade = 0.15;  // Vt lost per decade of effective time, full charge (mV)
  double retention_ea_ev = 1.1;           // activation energy of charge loss (eV)
};

// Conductance drift of PCM/RRAM: G(t) = G_prog (max(t, t0)/t0)^-nu, nu per cell.
struct DriftConfig {
  double t0_s = 300.0;
  double nu_at_gmax = 0.02, nu_at_gmin = 0.1;             // mean nu at the ends of the range
  double nu_sigma_at_gmax = 0.005, nu_sigma_at_gmin = 0.04;  // its spread
};

// Temperature dependence of PCM/RRAM conductance: G(T) = G exp(-(Ea/k)(1/T - 1/T_ref)).
struct ThermalConfig {
  double ea_at_gmax_ev = 0.05, ea_at_gmin_ev = 0.3;
};

struct DeviceConfig {
  DeviceType type = DeviceType::flash;
  int bits_per_cell = 8;          // programmable levels per cell = 2^bits_per_cell
  double g_min_ns = 1.0;          // lowest programmable conductance (nS): level 0
  double g_max_ns = 1000.0;       // highest programmable conductance (nS)
  double read_noise_rel = 0.005;  // sigma of read noise per read, relative to the cell conductance
  PairMode pair = PairMode::unipolar;
  double t_ref_c = 25.0;          // temperature at which conductance targets are defined (C)
  double g_erased_ns = 2000.0;    // conductance after an erase (nS): flash high, pcm/rram low
  double pulse_gain = 0.5;        // fraction of the measured error one program pulse aims to remove
  double pulse_noise = 0.2;       // pulse outcome sigma: flash relative to the step, pcm/rram of g_max
  double endurance_cycles = 1e5;  // program/erase cycles a cell survives
  WornMode worn = WornMode::stuck_low;
  FlashConfig flash;
  DriftConfig drift;
  ThermalConfig thermal;
};

struct ArrayConfig {
  ArrayReadKind kind = ArrayReadKind::ohmic;  // the read's cost model (block_kinds.h)
  int rows = 400;  // word lines = inputs per tile
  int cols = 400;  // weight columns = outputs per tile; each is a differential pair of bit lines
  double v_read_v = 1.0;      // input voltage at full-scale DAC code (V)
  double t_read_ns = 100.0;   // array settle/integration time per MVM (ns)
  double cell_area_um2 = 0.33;  // one cell (a weight is a differential pair: two cells)
  // The lines (docs/chip-model.md, "Block kinds"): a bit line spans every row, a word line both
  // cells of every column.
  double cell_pitch_um = 0.574;    // cell pitch along a line (um)
  double c_wire_ff_per_um = 0.2;   // line capacitance per length (fF/um)
  double r_line_kohm = 5.0;        // resistance that charges a line: driver or sense side (kOhm)
  double p_static_uw = 0.0;        // static power of the array's sense path while the tile is active (uW)
  // Phases of a read: 1 converts the pairs' differential current; 2 the g+ and g- sides apart
  // (unipolar counts, subtracted); 4 also the inputs' signs (IBM HERMES's 4-phase mode,
  // reference-chips 3a). 1, 2 or 4; more than 1 needs one-shot inputs (not bit_serial).
  int read_phases = 1;
  // IR drop along the lines (numerics/ir_drop.h; docs/nonidealities.md): off by default.
  bool ir_drop = false;
  double r_wire_ohm_per_um = 1.43;  // resistance of a word or bit line per length (ohm/um; 65 nm Cu, NeuroSim)
};

struct DacConfig {
  InputDriverKind kind = InputDriverKind::voltage;  // the input encoding's cost model (block_kinds.h)
  int bits = 8;
  // One DAC at ref_bits (a published design); the kind's law scales the figures to `bits`.
  int ref_bits = 8;
  double t_conv_ns = 1.0;   // one conversion at ref_bits (all row DACs convert in parallel)
  double e_conv_pj = 0.5;   // energy per conversion at ref_bits, per row driven
  double area_um2 = 1.33;   // area of one DAC (one per word line) at ref_bits
  double t_lsb_ns = 1.0;    // pwm: pulse length of one input code step (reference-chips 3a, HERMES 1 ns/LSB)
};

struct AdcConfig {
  AdcKind kind = AdcKind::sar;  // the ADC bank's cost model (block_kinds.h; laws in docs/chip-model.md)
  int bits = 8;
  int share = 8;            // columns served by one ADC (conversions per ADC per MVM = ceil(cols_used / n_adc))
  // One converter of the kind at ref_bits (a published design); the kind's law scales them to `bits`.
  int ref_bits = 8;
  double t_conv_ns = 10.0;  // one conversion at ref_bits
  double e_conv_pj = 1.67;  // energy per conversion at ref_bits
  double area_um2 = 1200.0; // area of one converter at ref_bits
  double p_static_uw = 0.0; // static power of one converter at ref_bits while the tile is active
  double offset_sigma_lsb = 0.0;  // sigma of each column's static offset (LSB), before trimming
};

struct DigitalConfig {
  DigitalUnitKind kind = DigitalUnitKind::lanes;  // the digital unit's cost model (block_kinds.h)
  double clock_mhz = 200.0;   // digital unit clock
  int lanes = 8;              // outputs processed per cycle (bias, scale, ReLU, partial-sum add)
  double e_op_pj = 0.3;       // energy per output element requantized (one add + one multiply + compare)
  double e_compare_pj = 0.03;   // energy per compare (max pooling)
  double e_accumulate_pj = 0.1; // energy per accumulate (average pooling)
  double e_mac_pj = 0.3;        // energy per multiply-accumulate (digital depthwise convolution)
  double e_float_op_pj = 2.3;   // energy per floating-point operation (softmax, activations)
  double p_static_uw = 0.0;     // leakage of the unit while its tile is active
  double lane_area_um2 = 1200.0;  // area of one lane (multiplier, adder, comparator, registers)
};

struct TileConfig {
  ArrayConfig array;
  DeviceConfig device;
  DacConfig dac;
  AdcConfig adc;
  DigitalConfig digital;
  double p_static_active_uw = 50.0;  // static power of one tile while the chip is active, besides its blocks' own (uW)
  double p_static_idle_uw = 10.0;    // static power of one tile in the IDLE power state (uW)
  int input_buffer_bytes = 1024;
  int output_buffer_bytes = 2048;
  // Activation memory of the tile's own (0: none, every map lives in the shared SRAM): an op's
  // outputs go straight to the memories of the tiles that read them (docs/chip-model.md).
  int local_memory_kib = 0;
  int local_memory_width_bytes = 8;  // bytes its port moves per cycle of tile.digital.clock_mhz
};

struct BusConfig {
  int width_bytes = 8;         // bytes per bus cycle
  double clock_mhz = 200.0;    // bus clock; bandwidth = width_bytes * clock_mhz * 1e6 B/s
  double latency_ns = 10.0;    // fixed latency of one burst (arbitration + address phase)
  int max_burst_bytes = 2048;  // longest burst; longer transfers are arbitrated burst by burst
  double e_wire_bit_mm_pj = 0.1;  // wire energy per bit and mm of bus driven
  double e_byte_pj = 0.43;     // energy per byte moved
  double p_static_uw = 10.0;
  // Track pitch of a routing channel of its own for the bus's wires (8 x width_bytes data + 32
  // address); 0: they route over the blocks in upper metal and take no die area of their own.
  double wire_pitch_um = 0.0;
};

// The 2D mesh network on chip (interconnect.kind mesh; sim/mesh.h): a router per tile, links to
// the four neighbours, the SRAM, host interface and programming controller on a port router at
// the grid's foot.
struct MeshConfig {
  int width_bytes = 32;            // bytes a link carries per cycle (one flit)
  double clock_mhz = 200.0;        // router and link clock
  int hop_cycles = 2;              // router pipeline: cycles a packet's head spends per hop
  int max_packet_bytes = 256;      // longest packet; a longer transfer is cut into packets
  double e_bit_hop_pj = 0.081;     // router traversal (buffers, crossbar, link driver), per bit
  double e_wire_bit_mm_pj = 0.1;   // wire energy per bit and mm of link
  bool multicast = true;           // one packet delivered to several tiles along an XY tree
  double p_static_uw_per_router = 5.0;  // leakage of one router
  double router_area_um2 = 30000.0;     // die area of one router
};

// Point-to-point links between neighbouring tiles (interconnect.kind links; sim/links.h): no
// routers; a tile relays what is not for it, store and forward.
struct LinksConfig {
  double gbit_per_s = 3.2;         // one link's bandwidth, each way
  double latency_ns = 2.5;         // per link crossed (serializer, deserializer), besides the bits
  int max_packet_bytes = 256;      // longest packet a tile receives whole before relaying it
  double e_bit_pj = 0.1;           // per bit and link crossed (serializer, driver, receiver)
  double e_wire_bit_mm_pj = 0.1;   // wire energy per bit and mm of link
  bool multicast = true;           // a relaying tile forwards one packet to several neighbours
  double p_static_uw_per_link = 10.0;  // leakage of one link (both ends)
  double area_um2_per_link = 1000.0;   // die area of one link's two ends
};

// The chip's global digital processing unit (HERMES's GDPU, reference-chips 3a): digital ops
// (pooling, add, concat, softmax, digital depthwise) run there instead of on a tile's digital
// unit. Its logic is the tiles' (tile.digital.*: kind, energies, leakage and area per lane).
struct GdpuConfig {
  int lanes = 0;             // 0: none, digital ops run on their tile's digital unit
  double clock_mhz = 200.0;  // its clock
};

struct SramConfig {
  int size_kib = 512;
  double latency_ns = 2.0;       // access latency per transfer
  int bank_kib = 8;              // one bank (an access reads one bank)
  int ref_bank_kib = 8;          // the bank the next two energies are of
  double e_read_byte_pj = 1.25;  // energy per byte read from a bank of ref_bank_kib
  double e_write_byte_pj = 1.25; // energy per byte written to a bank of ref_bank_kib
  double e_wire_bit_mm_pj = 0.1; // wires from the port to a bank, per bit and mm
  double p_static_uw_per_kib = 0.390625;  // leakage per KiB
  double area_um2_per_kib = 6550.0;   // silicon per KiB, periphery included
  SramStandby standby = SramStandby::powered;  // the banks in STANDBY
  double retention_leakage_rel = 0.1;     // a retained bank's leakage / its active leakage
};

struct HostConfig {
  double reg_access_ns = 20.0;   // latency of one register access from the host
  double e_reg_access_pj = 1.0;
  double dma_bytes_per_ns = 1.0; // host link bandwidth seen by the DMA engine
  double dma_setup_ns = 100.0;   // per descriptor
  double e_dma_byte_pj = 10.0;   // energy per byte crossing the host link
  double p_static_uw = 50.0;
};

struct ProgrammingConfig {
  double t_pulse_ns = 10000.0;    // one program pulse (applied to up to parallel_cells cells at once)
  double e_pulse_pj = 1000.0;     // energy of one pulse on one cell
  int parallel_cells = 64;        // cells pulsed and verified at once (charge-pump / current limit)
  double t_verify_ns = 1000.0;    // one verify read of up to parallel_cells cells
  double e_verify_cell_pj = 10.0; // energy to verify-read one cell
  int erase_sector_rows = 40;     // flash: word lines per erase sector (erase granularity)
  double t_erase_ns = 18e6;       // erase one sector (flash) / RESET one tile (pcm, rram)
  double e_erase_nj = 1000.0;     // energy of one sector erase (flash) / one tile RESET (pcm, rram)
  int max_iterations = 20;        // pulses per cell before it is given up (reported as unconverged)
  double tolerance_rel = 0.01;    // verify passes when |G - G_target| <= max(tolerance_rel * G_target,
  double tolerance_gmax_rel = 0;  //   tolerance_gmax_rel * g_max, half a verify LSB)
  int verify_bits = 12;           // resolution of the verify read over [0, g_max]
};

// Manufacturing faults, drawn once per tile from the seed (stream "faults/tile<N>").
struct FaultConfig {
  double stuck_low_rate = 0;      // fraction of cells stuck at g_min
  double stuck_high_rate = 0;     // fraction of cells stuck at g_max
  double dead_column_rate = 0;    // fraction of weight columns with open bit lines (read 0)
  double adc_offset_rate = 0;     // fraction of columns whose ADC has an offset fault
  double adc_offset_lsb = 0;      // size of that offset (LSB; sign drawn at random)
};

// The RV32IMAC microcontroller core beside the chip (`aimc fw run`, model/cpu/; memory map in
// firmware_stubs/include/aimc_rv32.h). Read only when a firmware ELF runs on the core.
struct CpuConfig {
  double clock_mhz = 100.0;   // core clock
  double cpi = 1.0;           // cycles per instruction (average; every instruction alike)
  int rom_kib = 1024;         // flash/ROM at AIMC_RV_ROM_BASE: the ELF's code and read-only data
  int ram_kib = 65536;        // RAM at AIMC_RV_RAM_BASE: data, heap, stack, DMA buffers
  double e_cycle_pj = 33.4;   // energy per active cycle (core, memories, peripherals)
  double p_static_uw = 0.0015;// leakage, asleep or not
  double quantum_ns = 10000.0;// how far the core may run ahead of SystemC time between synchronisations
};

struct SimulationConfig {
  double quantum_ns = 1000.0;   // TLM quantum keeper global quantum
  uint64_t seed = 1;
  int host_threads = 1;         // host threads for program-and-verify (same results for any value)
};

struct PlatformConfig {
  std::string name = "unnamed";
  std::string source_file;      // path the config was loaded from ("" if built in code)
  int grid_rows = 3;
  int grid_cols = 4;
  int tile_count() const { return grid_rows * grid_cols; }
  TileConfig tile;
  InterconnectKind interconnect = InterconnectKind::shared_bus;  // which of bus / mesh links the blocks
  BusConfig bus;
  MeshConfig mesh;
  LinksConfig links;
  GdpuConfig gdpu;
  SramConfig sram;
  HostConfig host;
  ProgrammingConfig programming;
  FaultConfig faults;
  CpuConfig cpu;
  SimulationConfig simulation;
};

// Equality of settings. source_file is provenance, not a setting, and is not compared, so a
// configuration equals its own dump loaded back (the round-trip test relies on this).
bool operator==(const FlashConfig& a, const FlashConfig& b);
bool operator==(const DriftConfig& a, const DriftConfig& b);
bool operator==(const ThermalConfig& a, const ThermalConfig& b);
bool operator==(const DeviceConfig& a, const DeviceConfig& b);
bool operator==(const ArrayConfig& a, const ArrayConfig& b);
bool operator==(const DacConfig& a, const DacConfig& b);
bool operator==(const AdcConfig& a, const AdcConfig& b);
bool operator==(const DigitalConfig& a, const DigitalConfig& b);
bool operator==(const TileConfig& a, const TileConfig& b);
bool operator==(const BusConfig& a, const BusConfig& b);
bool operator==(const MeshConfig& a, const MeshConfig& b);
bool operator==(const LinksConfig& a, const LinksConfig& b);
bool operator==(const GdpuConfig& a, const GdpuConfig& b);
bool operator==(const SramConfig& a, const SramConfig& b);
bool operator==(const HostConfig& a, const HostConfig& b);
bool operator==(const ProgrammingConfig& a, const ProgrammingConfig& b);
bool operator==(const FaultConfig& a, const FaultConfig& b);
bool operator==(const SimulationConfig& a, const SimulationConfig& b);
bool operator==(const CpuConfig& a, const CpuConfig& b);
bool operator==(const PlatformConfig& a, const PlatformConfig& b);
inline bool operator!=(const PlatformConfig& a, const PlatformConfig& b) { return !(a == b); }

// The spellings used in YAML: the device kind's name (num::device_kind_name: "ideal", "flash",
// ...); "unipolar" / "balanced"; "stuck_low" / "stuck_high".
const char* to_string(DeviceType type);
const char* to_string(PairMode mode);
const char* to_string(WornMode mode);
const char* to_string(SramStandby mode);

// One settable key, for --help, the documentation and tests.
struct KeyInfo {
  std::string key;      // dotted path, e.g. "tile.adc.bits"
  std::string unit;     // "ns", "pJ", "bit", ... or "-" when dimensionless
  std::string range;    // valid values, e.g. "integer in [1, 16]"
  std::string meaning;  // one line
  bool required = false;  // must be present in the file (or given by an override)
};
// Every leaf key the loader accepts, in file order.
const std::vector<KeyInfo>& describe_keys();

// Checks the ranges and cross-field rules the loader applies, for a configuration built in code.
// Throws ConfigError naming the key ("<source_file or 'config'>: tile.adc.share: expected ...").
void validate_platform(const PlatformConfig& cfg);

// Loads a platform YAML, applies overrides ("tile.adc.bits=6"), validates, and returns the result.
// Unknown keys, wrong types and out-of-range values throw ConfigError naming file, line and key.
// A top-level `base: OTHER.yaml` (relative to the file's folder, or absolute) loads OTHER first
// and lays this file's keys over it: sections merge key by key, a value replaces the base's;
// bases chain. A missing base or a cycle is refused naming the `base:` line; an error in a base
// names the base file and line. Overrides apply last, over the merged result.
PlatformConfig load_platform(const std::string& path,
                             const std::vector<std::string>& overrides = {});
// Same, from YAML text (name is used in messages in place of a file path, and a relative `base:`
// is resolved against the folder of name, or the working directory when name has none).
PlatformConfig load_platform_from_string(const std::string& yaml_text, const std::string& name,
                                         const std::vector<std::string>& overrides = {});
// Where each key that the file (with its base chain) or an override sets came from: "file:line"
// or "--set key=value". A key not in the result takes its struct default. No range checks.
std::map<std::string, std::string> platform_key_origins(const std::string& path,
                                                        const std::vector<std::string>& overrides = {});
// The effective configuration as YAML, loadable again with load_platform_from_string.
std::string dump_platform(const PlatformConfig& cfg);

}  // namespace aimc::config
