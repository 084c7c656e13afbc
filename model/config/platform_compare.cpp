// Equality of platform configurations, setting by setting (the config tests compare a dump loaded
// back, and presets built on bases, with them). source_file is provenance, not a setting.
#include "config/platform_config.h"

namespace aimc::config {

bool operator==(const FlashConfig& a, const FlashConfig& b) {
  return a.slope_factor == b.slope_factor && a.g_ref_ns == b.g_ref_ns &&
         a.retention_mv_per_decade == b.retention_mv_per_decade &&
         a.retention_ea_ev == b.retention_ea_ev;
}
bool operator==(const DriftConfig& a, const DriftConfig& b) {
  return a.t0_s == b.t0_s && a.nu_at_gmax == b.nu_at_gmax && a.nu_at_gmin == b.nu_at_gmin &&
         a.nu_sigma_at_gmax == b.nu_sigma_at_gmax && a.nu_sigma_at_gmin == b.nu_sigma_at_gmin;
}
bool operator==(const ThermalConfig& a, const ThermalConfig& b) {
  return a.ea_at_gmax_ev == b.ea_at_gmax_ev && a.ea_at_gmin_ev == b.ea_at_gmin_ev;
}
bool operator==(const DeviceConfig& a, const DeviceConfig& b) {
  return a.type == b.type && a.bits_per_cell == b.bits_per_cell && a.g_min_ns == b.g_min_ns &&
         a.g_max_ns == b.g_max_ns && a.read_noise_rel == b.read_noise_rel && a.pair == b.pair &&
         a.t_ref_c == b.t_ref_c && a.g_erased_ns == b.g_erased_ns &&
         a.pulse_gain == b.pulse_gain && a.pulse_noise == b.pulse_noise &&
         a.endurance_cycles == b.endurance_cycles && a.worn == b.worn && a.flash == b.flash &&
         a.drift == b.drift && a.thermal == b.thermal;
}
bool operator==(const ArrayConfig& a, const ArrayConfig& b) {
  return a.kind == b.kind && a.rows == b.rows && a.cols == b.cols && a.v_read_v == b.v_read_v &&
         a.t_read_ns == b.t_read_ns && a.cell_area_um2 == b.cell_area_um2 && a.cell_pitch_um == b.cell_pitch_um &&
         a.c_wire_ff_per_um == b.c_wire_ff_per_um && a.r_line_kohm == b.r_line_kohm &&
         a.p_static_uw == b.p_static_uw && a.read_phases == b.read_phases && a.ir_drop == b.ir_drop &&
         a.r_wire_ohm_per_um == b.r_wire_ohm_per_um;
}
bool operator==(const DacConfig& a, const DacConfig& b) {
  return a.kind == b.kind && a.bits == b.bits && a.ref_bits == b.ref_bits && a.t_conv_ns == b.t_conv_ns &&
         a.e_conv_pj == b.e_conv_pj && a.area_um2 == b.area_um2 && a.t_lsb_ns == b.t_lsb_ns;
}
bool operator==(const AdcConfig& a, const AdcConfig& b) {
  return a.kind == b.kind && a.bits == b.bits && a.share == b.share && a.ref_bits == b.ref_bits &&
         a.t_conv_ns == b.t_conv_ns && a.e_conv_pj == b.e_conv_pj && a.area_um2 == b.area_um2 &&
         a.p_static_uw == b.p_static_uw && a.offset_sigma_lsb == b.offset_sigma_lsb;
}
bool operator==(const DigitalConfig& a, const DigitalConfig& b) {
  return a.kind == b.kind && a.clock_mhz == b.clock_mhz && a.lanes == b.lanes && a.e_op_pj == b.e_op_pj &&
         a.e_compare_pj == b.e_compare_pj && a.e_accumulate_pj == b.e_accumulate_pj && a.e_mac_pj == b.e_mac_pj &&
         a.e_float_op_pj == b.e_float_op_pj && a.p_static_uw == b.p_static_uw &&
         a.lane_area_um2 == b.lane_area_um2;
}
bool operator==(const TileConfig& a, const TileConfig& b) {
  return a.array == b.array && a.device == b.device && a.dac == b.dac && a.adc == b.adc &&
         a.digital == b.digital && a.p_static_active_uw == b.p_static_active_uw &&
         a.p_static_idle_uw == b.p_static_idle_uw &&
         a.input_buffer_bytes == b.input_buffer_bytes &&
         a.output_buffer_bytes == b.output_buffer_bytes && a.local_memory_kib == b.local_memory_kib &&
         a.local_memory_width_bytes == b.local_memory_width_bytes;
}
bool operator==(const BusConfig& a, const BusConfig& b) {
  return a.width_bytes == b.width_bytes && a.clock_mhz == b.clock_mhz &&
         a.latency_ns == b.latency_ns && a.max_burst_bytes == b.max_burst_bytes && a.e_byte_pj == b.e_byte_pj &&
         a.e_wire_bit_mm_pj == b.e_wire_bit_mm_pj &&
         a.p_static_uw == b.p_static_uw && a.wire_pitch_um == b.wire_pitch_um;
}
bool operator==(const MeshConfig& a, const MeshConfig& b) {
  return a.width_bytes == b.width_bytes && a.clock_mhz == b.clock_mhz && a.hop_cycles == b.hop_cycles &&
         a.max_packet_bytes == b.max_packet_bytes && a.e_bit_hop_pj == b.e_bit_hop_pj &&
         a.e_wire_bit_mm_pj == b.e_wire_bit_mm_pj && a.multicast == b.multicast &&
         a.p_static_uw_per_router == b.p_static_uw_per_router && a.router_area_um2 == b.router_area_um2;
}
bool operator==(const LinksConfig& a, const LinksConfig& b) {
  return a.gbit_per_s == b.gbit_per_s && a.latency_ns == b.latency_ns && a.max_packet_bytes == b.max_packet_bytes &&
         a.e_bit_pj == b.e_bit_pj && a.e_wire_bit_mm_pj == b.e_wire_bit_mm_pj && a.multicast == b.multicast &&
         a.p_static_uw_per_link == b.p_static_uw_per_link && a.area_um2_per_link == b.area_um2_per_link;
}
bool operator==(const GdpuConfig& a, const GdpuConfig& b) {
  return a.lanes == b.lanes && a.clock_mhz == b.clock_mhz;
}
bool operator==(const SramConfig& a, const SramConfig& b) {
  return a.size_kib == b.size_kib && a.latency_ns == b.latency_ns &&
         a.bank_kib == b.bank_kib && a.ref_bank_kib == b.ref_bank_kib &&
         a.e_read_byte_pj == b.e_read_byte_pj && a.e_write_byte_pj == b.e_write_byte_pj &&
         a.e_wire_bit_mm_pj == b.e_wire_bit_mm_pj && a.p_static_uw_per_kib == b.p_static_uw_per_kib &&
         a.area_um2_per_kib == b.area_um2_per_kib && a.standby == b.standby &&
         a.retention_leakage_rel == b.retention_leakage_rel;
}
bool operator==(const HostConfig& a, const HostConfig& b) {
  return a.reg_access_ns == b.reg_access_ns && a.e_reg_access_pj == b.e_reg_access_pj &&
         a.dma_bytes_per_ns == b.dma_bytes_per_ns && a.dma_setup_ns == b.dma_setup_ns &&
         a.e_dma_byte_pj == b.e_dma_byte_pj && a.p_static_uw == b.p_static_uw;
}
bool operator==(const ProgrammingConfig& a, const ProgrammingConfig& b) {
  return a.t_pulse_ns == b.t_pulse_ns && a.e_pulse_pj == b.e_pulse_pj &&
         a.parallel_cells == b.parallel_cells && a.t_verify_ns == b.t_verify_ns &&
         a.e_verify_cell_pj == b.e_verify_cell_pj &&
         a.erase_sector_rows == b.erase_sector_rows && a.t_erase_ns == b.t_erase_ns &&
         a.e_erase_nj == b.e_erase_nj && a.max_iterations == b.max_iterations &&
         a.tolerance_rel == b.tolerance_rel && a.tolerance_gmax_rel == b.tolerance_gmax_rel &&
         a.verify_bits == b.verify_bits;
}
bool operator==(const FaultConfig& a, const FaultConfig& b) {
  return a.stuck_low_rate == b.stuck_low_rate && a.stuck_high_rate == b.stuck_high_rate &&
         a.dead_column_rate == b.dead_column_rate && a.adc_offset_rate == b.adc_offset_rate &&
         a.adc_offset_lsb == b.adc_offset_lsb;
}
bool operator==(const SimulationConfig& a, const SimulationConfig& b) {
  return a.quantum_ns == b.quantum_ns && a.seed == b.seed && a.host_threads == b.host_threads;
}
bool operator==(const CpuConfig& a, const CpuConfig& b) {
  return a.clock_mhz == b.clock_mhz && a.cpi == b.cpi && a.rom_kib == b.rom_kib &&
         a.ram_kib == b.ram_kib && a.e_cycle_pj == b.e_cycle_pj && a.p_static_uw == b.p_static_uw &&
         a.quantum_ns == b.quantum_ns;
}
bool operator==(const PlatformConfig& a, const PlatformConfig& b) {
  return a.name == b.name && a.grid_rows == b.grid_rows && a.grid_cols == b.grid_cols &&
         a.tile == b.tile && a.interconnect == b.interconnect && a.bus == b.bus &&
         a.mesh == b.mesh && a.links == b.links && a.gdpu == b.gdpu && a.sram == b.sram && a.host == b.host &&
         a.programming == b.programming && a.faults == b.faults && a.cpu == b.cpu &&
         a.simulation == b.simulation;
}

const char* to_string(DeviceType type) { return num::device_kind_name(type); }

}  // namespace aimc::config
