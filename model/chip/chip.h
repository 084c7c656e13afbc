// The chip assembled from a platform configuration: tiles, the shared bus, the activation SRAM,
// the NVM programming controller, the sequencer and the host interface, plus the host side
// (host memory and the CPU that runs firmware). One Chip per process (one SystemC elaboration).
//
// Bus address map (constants from the register table, AIMC_* in aimc_regs.h):
//   SEQ_MEM_BASE   sequencer program memory      STAGING_BASE  programming staging buffer
//   SRAM_BASE      activation SRAM               TILE_BASE + t * TILE_STRIDE  tile t local memory
// Bus initiators: the DMA engine and the sequencer. The register bank is reached by the host only.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "chip/firmware_host.h"
#include "chip/host_interface.h"
#include "chip/host_link.h"
#include "chip/host_memory.h"
#include "chip/nvm_programmer.h"
#include "chip/sequencer.h"
#include "chip/tile.h"
#include "config/platform_config.h"
#include "numerics/rng.h"
#include "sim/interconnect.h"
#include "sim/energy_ledger.h"
#include "sim/sram.h"
#include "sim/trace.h"

namespace aimc::chip {

// One snapshot of every module's own statistics (Chip::stats()), what the report is made of.
// Counters are totals since elaboration; ProgrammingStats::since gives those of a phase.
struct ChipStats {
  ProgrammingStats programming;         // the NVM programming controller
  sim::InterconnectStats interconnect;  // the interconnect (shared bus or mesh)
  uint64_t gdpu_busy_ps = 0;            // time the global digital unit was booked (0 without one)
  std::vector<TileStats> tiles;         // one per tile, by index
  // ADC samples clipped, over every tile.
  uint64_t adc_clipped() const;
  // Seconds since the oldest PROGRAM of a tile that holds weights (0 if none does).
  double max_programmed_age_s() const;
};

// Silicon area of the chip by block, in um^2: the tiles' blocks summed over tiles (each block's
// law, chip/blocks/), the activation SRAM (sram.area_um2_per_kib), the interconnect's own
// (Interconnect::area_um2: a shared bus's routing channel, none when it routes over the blocks).
struct ChipArea {
  double dac = 0, array = 0, adc = 0, digital = 0, sram = 0, bus = 0, local_mem = 0, gdpu = 0;
  double total() const { return dac + array + adc + digital + sram + bus + local_mem + gdpu; }
};

// Who drives the chip: the in-process firmware host (cpu(): C firmware behind the function-pointer
// HAL, with the chip's own host memory for its DMA buffers), or a platform outside the chip that
// binds the chip's public interface below (the RV32 core of `aimc fw run`, model/cpu/, or a user's
// own sc_main: docs/firmware.md, "Plugging the chip into your own platform").
enum class HostCpu { in_process, external };

class Chip {
 public:
  // host_memory_bytes: size of the host memory that in-process firmware's DMA buffers come from
  // (not used with HostCpu::external: the platform brings its memory).
  Chip(const config::PlatformConfig& cfg, sim::EnergyLedger& ledger, sim::TraceSink& trace,
       uint64_t host_memory_bytes = 64ull << 20, HostCpu host_cpu = HostCpu::in_process);
  Chip(const Chip&) = delete;
  Chip& operator=(const Chip&) = delete;

  const config::PlatformConfig& config() const { return cfg_; }

  // ---- The public interface (what a platform around the chip binds) ----
  // The register space (AIMC_REGS_SIZE bytes, offsets of aimc_regs.h): bind one initiator. 32-bit
  // accesses; an access the chip cannot take is answered with a TLM error response.
  tlm_utils::simple_target_socket<HostInterface>& register_socket() { return host_->regs; }
  // The DMA port into host memory: bus addresses of DMA_HOST_ADDR, descriptors and command-queue
  // entries, from 0. Bind it to the host's memory (HostCpu::external; in process the chip binds it
  // to its own host memory). Link time and energy are the chip's (host.dma_*).
  tlm_utils::simple_initiator_socket<HostLink>& dma_socket() { return link_->isock; }
  // The interrupt line, and each interrupt source alone (kIrqSources of them, bit n of IRQ_STATUS).
  const sc_core::sc_signal<bool>& irq() const { return host_->irq; }
  const sc_core::sc_signal<bool>& irq_source(int n) const { return host_->irq_sources.at(static_cast<size_t>(n)); }
  static constexpr int kIrqSources = HostInterface::kIrqSources;
  std::vector<Tile*> tiles();
  ChipArea area() const;
  // The tile grid with each tile a square of its blocks' area (what the interconnect's wires span).
  const sim::Floorplan& floorplan() const { return bus_->floorplan(); }
  // Peak operations per second (1 MAC = 2 ops): every tile busy with MVMs over its whole array
  // back to back, each at its own rate (rows x cols MACs per DAC + array + ADC time).
  double peak_ops_per_s() const;
  const Tile& tile(int index) const { return *tiles_.at(static_cast<size_t>(index)); }
  sim::Interconnect& bus() { return *bus_; }
  const sim::Interconnect& bus() const { return *bus_; }
  sim::Sram& sram() { return *sram_; }
  NvmProgrammer& programmer() { return *programmer_; }
  Sequencer& sequencer() { return *sequencer_; }
  HostInterface& host() { return *host_; }
  // In process only (std::logic_error otherwise): the host memory of the firmware's DMA buffers.
  HostMemory& host_memory();
  const HostLink& host_link() const { return *link_; }
  // The in-process firmware host; std::logic_error when the chip was built for an external core.
  FirmwareHost& cpu();
  bool has_cpu() const { return cpu_ != nullptr; }

  // The environment, as a thermal chamber and a calendar would set it: the die temperature (C)
  // from now on, and `elapsed_s` seconds that pass without being simulated (the chip sits
  // unpowered or idle; aimc run --at): every tile's cells age by that much. The chip starts at
  // tile.device.t_ref_c with no age.
  void set_environment(double temp_c, double elapsed_s = 0.0);
  double temperature_c() const { return temp_c_; }

  // Declares the static power of every block (the chip is active from time 0).
  void power_on();

  // Every module's statistics now (tile ages at the current simulated time).
  ChipStats stats() const;

 private:
  config::PlatformConfig cfg_;
  sim::EnergyLedger& ledger_;
  num::RngStreams rng_;
  double temp_c_;
  std::vector<std::unique_ptr<Tile>> tiles_;
  std::unique_ptr<sim::Interconnect> bus_;
  std::unique_ptr<sim::Sram> sram_;
  std::unique_ptr<NvmProgrammer> programmer_;
  std::unique_ptr<Sequencer> sequencer_;
  std::unique_ptr<HostInterface> host_;
  std::unique_ptr<HostLink> link_;
  std::unique_ptr<HostMemory> host_memory_;
  std::unique_ptr<FirmwareHost> cpu_;
};

}  // namespace aimc::chip
