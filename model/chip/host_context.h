// What the host interface's units (DmaEngine, CommandQueue, TileWindows, PerfCounters,
// PowerControl, ProgrammerPort, SequencerPort) share: the register bank they attach their
// registers to, the chip they command, and the host interface itself for what concerns them all
// (the interrupt and error registers, and who is busy before a command may start).
#pragma once

#include <cstdint>
#include <vector>

#include "chip/register_bank.h"
#include "chip/register_table.h"
#include "config/platform_config.h"
#include "sim/energy_ledger.h"
#include "sim/trace.h"

namespace aimc::chip {

class NvmProgrammer;
class Sequencer;
class Tile;

using HostRegisters = RegisterBank<regs::Reg, regs::TileReg>;

// Implemented by the host interface, which composes the units and answers for all of them.
class HostServices {
 public:
  virtual ~HostServices() = default;
  virtual void raise(uint32_t irq_bits) = 0;                    // IRQ_STATUS |= bits
  virtual void record_error(uint32_t code, uint32_t addr) = 0;  // first error kept, IRQ ERROR
  virtual bool dma_busy() const = 0;
  virtual bool queue_busy() const = 0;
  virtual bool standby() const = 0;  // POWER_STATE is STANDBY: commands are refused
  virtual bool any_busy() const = 0;  // DMA, programmer, sequencer or queue
};

struct HostContext {
  const config::PlatformConfig& cfg;
  sim::EnergyLedger& ledger;
  sim::TraceSink& trace;
  int track;  // the host's trace track
  HostRegisters& regs;
  HostServices& host;
  NvmProgrammer& programmer;
  Sequencer& sequencer;
  const std::vector<Tile*>& tiles;
};

}  // namespace aimc::chip
