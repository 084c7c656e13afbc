// The host interface: the register space firmware talks to, composed of units that each own their
// registers and attach their behaviour to one register bank (chip/register_bank.h) built from
// the one register table (chip/register_table.h):
//   DmaEngine      DMA_*    single transfers and descriptor chains (TLM initiator on both sides)
//   CommandQueue   CQ_*     a ring of inference commands in host memory, one doorbell per batch
//   ProgrammerPort PROG_*   commands to the NVM programming controller
//   SequencerPort  SEQ_*    inference doorbell of the sequencer
//   PerfCounters   PERF_*   performance counters
//   PowerControl   POWER_STATE
//   TileWindows    one window of registers per tile
// The host interface itself keeps the identity and capability registers, CTRL (soft reset),
// STATUS, the error and interrupt registers with the IRQ line, SCRATCH and the temperature
// sensor, and answers the units' common questions (who is busy, are we in STANDBY).
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

#include <cstdint>
#include <functional>
#include <vector>

#include <systemc>
#include <tlm>
#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/simple_target_socket.h>

#include "chip/command_queue.h"
#include "chip/dma_engine.h"
#include "chip/engine.h"
#include "chip/host_context.h"
#include "chip/nvm_programmer.h"
#include "chip/perf_counters.h"
#include "chip/power_control.h"
#include "chip/programmer_port.h"
#include "chip/sequencer.h"
#include "chip/sequencer_port.h"
#include "chip/tile.h"
#include "chip/tile_windows.h"
#include "config/platform_config.h"
#include "sim/energy_ledger.h"
#include "sim/trace.h"

namespace aimc::chip {

class HostInterface : public sc_core::sc_module, public EngineListener, private HostServices {
 public:
  tlm_utils::simple_target_socket<HostInterface> regs;         // the register space
  tlm_utils::simple_initiator_socket<HostInterface> dma_bus;   // DMA engine -> chip bus
  tlm_utils::simple_initiator_socket<HostInterface> dma_host;  // DMA engine -> host link
  // The interrupt outputs: `irq` is the chip's interrupt line (any enabled source pending);
  // irq_sources[n] is source n alone (IRQ_STATUS bit n while IRQ_ENABLE bit n is set), for an
  // interrupt controller with one input per source. Driven by one method process of this module,
  // a delta cycle after the registers change.
  sc_core::sc_signal<bool> irq;
  sc_core::sc_vector<sc_core::sc_signal<bool>> irq_sources;
  static constexpr int kIrqSources = 8;

  HostInterface(sc_core::sc_module_name name, const config::PlatformConfig& cfg,
                sim::EnergyLedger& ledger, sim::TraceSink& trace, NvmProgrammer& programmer,
                Sequencer& sequencer, std::vector<Tile*> tiles);
  HostInterface(const HostInterface&) = delete;
  HostInterface& operator=(const HostInterface&) = delete;

  bool irq_level() const { return irq_level_; }
  const sc_core::sc_event& irq_raised() const { return irq_event_; }

  // Register value by name as firmware would read it (for tests); no time, no energy. 0 for a
  // name that is no register.
  uint32_t peek(const char* name) const;
  // Trace every firmware register access on the host track (off by default).
  void set_trace_registers(bool on) { trace_registers_ = on; }
  uint64_t register_accesses() const { return accesses_; }
  uint32_t power_state() const { return power_.state(); }
  // CTRL.FULL_RESET (docs/registers.md): every register to its reset value, the tiles' register
  // windows included; the cells keep their weights. False (nothing done) while an engine is busy.
  // `aimc serve` calls it at the start of every client session.
  bool full_reset(uint64_t now_ps);
  bool busy() const { return any_busy(); }

  void engine_done(Engine engine, uint32_t error, uint32_t error_addr) override;
  // The die temperature the TEMP_MC sensor reports (the chip's environment sets it); raises IRQ
  // TEMP_ALARM when it rises above TEMP_ALARM_MC.
  void set_temperature(double temp_c);
  // Where PERF_BUS_BYTES reads from (the chip's bus); set at assembly.
  void set_bus_bytes_source(std::function<uint64_t()> f) { perf_.set_bus_bytes_source(std::move(f)); }
  // Told every POWER_STATE change (AIMC_POWER_*, at t_ps), for blocks outside the host interface
  // that follow it (the SRAM's banks in STANDBY); set at assembly.
  void set_power_listener(std::function<void(uint32_t state, uint64_t t_ps)> f) {
    power_.set_listener(std::move(f));
  }

 private:
  // HostServices, for the units.
  void raise(uint32_t irq_bits) override;
  void record_error(uint32_t code, uint32_t addr) override;
  bool dma_busy() const override { return dma_.busy(); }
  bool queue_busy() const override { return cq_.busy(); }
  bool standby() const override { return power_.standby(); }
  bool any_busy() const override;

  void b_transport(tlm::tlm_generic_payload& gp, sc_core::sc_time& delay);
  unsigned int transport_dbg(tlm::tlm_generic_payload& gp);
  void attach_registers();
  void soft_reset(uint32_t value, RegAccess& a);
  uint32_t status() const;
  void update_irq();
  void check_temperature_alarm();
  void drive_irq_outputs();
  void dma_thread() { dma_.run(); }
  void cq_thread() { cq_.run(); }

  config::PlatformConfig cfg_;
  sim::EnergyLedger& ledger_;
  sim::TraceSink& trace_;
  std::vector<Tile*> tiles_;
  int track_;
  int c_host_;
  HostRegisters bank_;
  HostContext ctx_;
  // The units, in this order: PowerControl and PerfCounters name their ledger components
  // (after "host"), which fixes the components' order in reports.
  PowerControl power_;
  PerfCounters perf_;
  DmaEngine dma_;
  ProgrammerPort prog_;
  SequencerPort seq_;
  CommandQueue cq_;
  TileWindows windows_;

  bool irq_level_ = false;
  sc_core::sc_event irq_event_;
  uint32_t irq_lines_ = 0;
  sc_core::sc_event irq_lines_event_;
  bool trace_registers_ = false;
  uint64_t accesses_ = 0;
  int32_t temp_mc_ = 25000;
  bool temp_alarm_armed_ = true;
};

}  // namespace aimc::chip
