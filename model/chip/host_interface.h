// The host interface: the register bank firmware talks to (built from the one register table,
// chip/register_table.h: global registers and one window per tile), the DMA engine (single
// transfers and descriptor chains with 2D strides, a TLM initiator on the chip bus and on host
// memory), the command queue (a ring of inference commands in host memory, one doorbell per
// batch), the power states, the performance counters and the interrupt line.
//
// Misuse is answered as hardware would (CONVENTIONS practice 2); the simulation always goes on:
//   unmapped offset            -> TLM_ADDRESS_ERROR_RESPONSE, ERROR_CODE = UNMAPPED, IRQ ERROR
//   size != 4 or misaligned    -> TLM_COMMAND_ERROR_RESPONSE, ERROR_CODE = ACCESS, IRQ ERROR
//   byte enables / burst       -> TLM_BYTE_ENABLE_ / TLM_BURST_ERROR_RESPONSE, ERROR_CODE = ACCESS
//   write to a read-only reg   -> ignored, OK response, ERROR_CODE = RO_WRITE, IRQ ERROR
//   value out of range         -> ignored, OK response, ERROR_CODE = BAD_VALUE, IRQ ERROR
//   command while busy         -> rejected, ERROR_CODE = BUSY, IRQ ERROR
//   command in STANDBY         -> rejected, ERROR_CODE = POWER_STATE, IRQ ERROR
//   malformed DMA descriptor   -> nothing moved, DMA_STATUS = ERROR, ERROR_CODE = BAD_DESCRIPTOR
//   DMA outside memory         -> nothing moved, DMA_STATUS = ERROR, ERROR_CODE = DMA_FAULT
//   malformed queue entry      -> the queue stops at it, its status says why, ERROR_CODE = BAD_COMMAND
// ERROR_CODE keeps the first error until firmware clears it. Each register access adds
// host.reg_access_ns to the caller's delay and costs host.e_reg_access_pj (component "host");
// nothing here calls wait() on the caller's behalf.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include <systemc>
#include <tlm>
#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/simple_target_socket.h>

#include "aimc_hw.h"
#include "chip/engine.h"
#include "chip/nvm_programmer.h"
#include "chip/register_table.h"
#include "chip/sequencer.h"
#include "chip/tile.h"
#include "config/platform_config.h"
#include "sim/energy_ledger.h"
#include "sim/trace.h"

namespace aimc::chip {

class HostInterface : public sc_core::sc_module, public EngineListener {
 public:
  tlm_utils::simple_target_socket<HostInterface> regs;         // the register space
  tlm_utils::simple_initiator_socket<HostInterface> dma_bus;   // DMA engine -> chip bus
  tlm_utils::simple_initiator_socket<HostInterface> dma_host;  // DMA engine -> host memory

  HostInterface(sc_core::sc_module_name name, const config::PlatformConfig& cfg,
                sim::EnergyLedger& ledger, sim::TraceSink& trace, NvmProgrammer& programmer,
                Sequencer& sequencer, std::vector<Tile*> tiles);
  HostInterface(const HostInterface&) = delete;
  HostInterface& operator=(const HostInterface&) = delete;

  bool irq_level() const { return irq_level_; }
  const sc_core::sc_event& irq_raised() const { return irq_event_; }

  // Register value by name as firmware would read it (for tests); no time, no energy.
  uint32_t peek(const char* name) const;
  // Trace every firmware register access on the host track (off by default).
  void set_trace_registers(bool on) { trace_registers_ = on; }
  uint64_t register_accesses() const { return accesses_; }
  uint32_t power_state() const { return power_state_; }

  void engine_done(Engine engine, uint32_t error, uint32_t error_addr) override;
  // The die temperature the TEMP_MC sensor reports (the chip's environment sets it); raises IRQ
  // TEMP_ALARM when it rises above TEMP_ALARM_MC.
  void set_temperature(double temp_c);

 private:
  // One 2D transfer (a descriptor), already checked.
  struct Move {
    bool to_host = false;
    uint32_t host_addr = 0, dev_addr = 0, row_bytes = 0, rows = 1, host_stride = 0, dev_stride = 0;
  };

  void b_transport(tlm::tlm_generic_payload& gp, sc_core::sc_time& delay);
  unsigned int transport_dbg(tlm::tlm_generic_payload& gp);
  int index_of(uint64_t offset) const;
  uint32_t read_reg(int idx, const sc_core::sc_time& delay) const;
  void write_reg(int idx, uint32_t value, const sc_core::sc_time& delay);
  // Tile windows: false if `offset` is not a tile register; sets `name` for traces.
  bool tile_access(uint64_t offset, bool is_read, uint32_t& value, sc_core::sc_time& delay,
                   std::string& name);
  uint32_t& reg(const char* name);
  uint32_t reg(const char* name) const;
  void raise(uint32_t irq_bits);
  void record_error(uint32_t code, uint32_t addr);
  void update_irq();
  bool any_busy() const;
  void set_power_state(uint32_t state, const sc_core::sc_time& delay);
  uint64_t adc_clips_now() const;
  void check_temperature_alarm();

  // DMA engine.
  void dma_thread();
  bool probe(tlm_utils::simple_initiator_socket<HostInterface>& sock, uint32_t addr, uint64_t len);
  // Checks a move: AIMC_ERR_NONE, BAD_DESCRIPTOR (malformed) or DMA_FAULT (outside memory).
  uint32_t check_move(const Move& m, uint32_t& err_addr);
  // Moves the bytes from time `t_ps` on (timed transactions); returns the end time via t_ps.
  uint32_t do_move(const Move& m, uint64_t& t_ps, uint32_t& err_addr, std::vector<uint8_t>& buf);
  bool read_desc(uint32_t addr, aimc_dma_desc_t& d);
  uint32_t run_chain(uint32_t first, uint64_t& t_ps, uint32_t& err_addr, uint32_t& done);
  // Timed access to host memory from the chip (descriptor fetches, queue entries).
  bool host_access(tlm::tlm_command cmd, uint32_t addr, void* data, uint32_t len, uint64_t& t_ps);

  // Command queue.
  void cq_thread();
  uint32_t cq_run_entry(uint32_t index, uint64_t& t_ps, aimc_cmd_t& cmd);

  // Performance counters (relative to the last PERF_CTRL reset).
  uint64_t mvms_now() const;
  uint64_t conversions_now() const;
  double dynamic_j_now() const;

  config::PlatformConfig cfg_;
  sim::EnergyLedger& ledger_;
  sim::TraceSink& trace_;
  NvmProgrammer& programmer_;
  Sequencer& sequencer_;
  std::vector<Tile*> tiles_;
  int track_;
  int c_host_, c_tile_static_, c_dac_, c_adc_;
  std::vector<uint32_t> values_;  // one per entry of regs::kRegisters
  std::vector<int> by_word_;      // register index by offset / 4, -1 where none
  bool irq_level_ = false;
  sc_core::sc_event irq_event_;
  sc_core::sc_event dma_start_;
  bool dma_busy_ = false;
  bool trace_registers_ = false;
  uint64_t accesses_ = 0;
  std::vector<uint8_t> dma_buf_, cq_buf_;
  uint32_t power_state_ = 0;
  int32_t temp_mc_ = 25000;
  bool temp_alarm_armed_ = true;
  uint32_t last_prog_op_ = 0;
  uint64_t clips_at_start_ = 0;
  // Command queue state.
  sc_core::sc_event cq_kick_, cq_seq_done_;
  bool cq_busy_ = false, cq_waiting_seq_ = false;
  uint32_t cq_seq_error_ = 0, cq_seq_error_addr_ = 0;
  // Performance counter baselines.
  uint64_t base_time_ps_ = 0, base_mvms_ = 0, base_conversions_ = 0, base_bus_bytes_ = 0;
  double base_energy_j_ = 0.0;
  std::function<uint64_t()> bus_bytes_;

 public:
  // Where PERF_BUS_BYTES reads from (the chip's bus); set at assembly.
  void set_bus_bytes_source(std::function<uint64_t()> f) { bus_bytes_ = std::move(f); }
};

}  // namespace aimc::chip
