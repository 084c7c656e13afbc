// The host interface: the register bank firmware talks to (built from the one register table,
// chip/register_table.h), the DMA engine (a TLM initiator on the chip bus and on host memory) and
// the interrupt line. Misuse is answered as hardware would (CONVENTIONS practice 2):
//   unmapped offset            -> TLM_ADDRESS_ERROR_RESPONSE, ERROR_CODE = UNMAPPED, IRQ ERROR
//   size != 4 or misaligned    -> TLM_COMMAND_ERROR_RESPONSE, ERROR_CODE = ACCESS, IRQ ERROR
//   byte enables               -> TLM_BYTE_ENABLE_ERROR_RESPONSE
//   write to a read-only reg   -> ignored, OK response, ERROR_CODE = RO_WRITE, IRQ ERROR
//   command while busy         -> rejected, ERROR_CODE = BUSY, IRQ ERROR
//   DMA outside memory         -> nothing moved, DMA_STATUS = ERROR, ERROR_CODE = DMA_FAULT
// Each register access adds host.reg_access_ns to the caller's delay and costs
// host.e_reg_access_pj (component "host"); nothing here calls wait() on the caller's behalf.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <systemc>
#include <tlm>
#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/simple_target_socket.h>

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
  tlm_utils::simple_target_socket<HostInterface> regs;         // the register bank
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

  void engine_done(Engine engine, uint32_t error, uint32_t error_addr) override;

 private:
  void b_transport(tlm::tlm_generic_payload& gp, sc_core::sc_time& delay);
  unsigned int transport_dbg(tlm::tlm_generic_payload& gp);
  int index_of(uint64_t offset) const;
  uint32_t read_reg(int idx, const sc_core::sc_time& delay) const;
  void write_reg(int idx, uint32_t value, const sc_core::sc_time& delay);
  uint32_t& reg(const char* name);
  uint32_t reg(const char* name) const;
  void raise(uint32_t irq_bits);
  void record_error(uint32_t code, uint32_t addr);
  void update_irq();
  void dma_thread();
  bool dma_check(tlm_utils::simple_initiator_socket<HostInterface>& sock, uint32_t addr,
                 uint32_t len);

  config::PlatformConfig cfg_;
  sim::EnergyLedger& ledger_;
  sim::TraceSink& trace_;
  NvmProgrammer& programmer_;
  Sequencer& sequencer_;
  std::vector<Tile*> tiles_;
  int track_;
  int c_host_;
  std::vector<uint32_t> values_;  // one per entry of regs::kRegisters
  std::vector<int> by_word_;      // register index by offset / 4, -1 where none
  bool irq_level_ = false;
  sc_core::sc_event irq_event_;
  sc_core::sc_event dma_start_;
  bool dma_busy_ = false;
  bool trace_registers_ = false;
  uint64_t accesses_ = 0;
  std::vector<uint8_t> dma_buf_;
};

}  // namespace aimc::chip
