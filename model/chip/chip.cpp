#include "chip/chip.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

#include "aimc_regs.h"
#include "sim/interconnect_registry.h"

namespace aimc::chip {

Chip::Chip(const config::PlatformConfig& cfg, sim::EnergyLedger& ledger, sim::TraceSink& trace,
           uint64_t host_memory_bytes, HostCpu host_cpu)
    : cfg_(cfg), ledger_(ledger), rng_(cfg.simulation.seed), temp_c_(cfg.tile.device.t_ref_c) {
  for (int t = 0; t < cfg.tile_count(); ++t)
    tiles_.push_back(std::make_unique<Tile>(("tile" + std::to_string(t)).c_str(), t, cfg, ledger,
                                            trace, rng_));
  // interconnect.kind, from the registry (sim/interconnect_registry.cpp).
  const char* module = cfg.interconnect == config::InterconnectKind::mesh    ? "noc"
                       : cfg.interconnect == config::InterconnectKind::links ? "links"
                                                                             : "bus";
  bus_ = sim::make_interconnect(config::to_string(cfg.interconnect), module, cfg, ledger, trace);
  double tile_um2 = 0;
  for (const Tile::BlockFigure& b : tiles_.front()->block_figures()) tile_um2 += b.area_um2;
  sim::Floorplan plan;
  plan.rows = cfg.grid_rows;
  plan.cols = cfg.grid_cols;
  plan.tile_pitch_mm = std::sqrt(tile_um2) * 1e-3;
  bus_->set_floorplan(plan);
  sram_ = std::make_unique<sim::Sram>("sram", cfg.sram, ledger, trace);
  programmer_ = std::make_unique<NvmProgrammer>("programmer", cfg, tiles(), ledger, trace);
  sequencer_ = std::make_unique<Sequencer>("sequencer", cfg, tiles(), ledger, trace);
  host_ = std::make_unique<HostInterface>("host", cfg, ledger, trace, *programmer_, *sequencer_,
                                          tiles());
  link_ = std::make_unique<HostLink>("host_link", cfg.host, ledger);
  if (host_cpu == HostCpu::in_process) {
    host_memory_ = std::make_unique<HostMemory>("host_memory", host_memory_bytes);
    cpu_ = std::make_unique<FirmwareHost>("cpu", cfg.simulation.quantum_ns, *host_, *host_memory_);
  }

  // Initiators on the bus.
  host_->dma_bus.bind(bus_->tsock);
  bus_->set_initiator_endpoint(0, sim::Endpoint::host());
  sequencer_->isock.bind(bus_->tsock);
  sequencer_->set_multicast(bus_->multicast());
  bus_->set_initiator_endpoint(1, {sim::Endpoint::Kind::sequencer, 0});
  // Targets on the bus, in port order.
  int port = 0;
  bus_->isock.bind(sequencer_->tsock);
  bus_->map(port++, AIMC_SEQ_MEM_BASE, AIMC_SEQ_MEM_SIZE, "seq_mem", {sim::Endpoint::Kind::sequencer, 0});
  bus_->isock.bind(programmer_->tsock);
  bus_->map(port++, AIMC_STAGING_BASE, programmer_->staging_bytes(), "staging",
            {sim::Endpoint::Kind::programmer, 0});
  bus_->isock.bind(sram_->tsock);
  bus_->map(port++, AIMC_SRAM_BASE, sram_->size_bytes(), "sram", sim::Endpoint::sram());
  for (auto& t : tiles_) {
    bus_->isock.bind(t->tsock);
    bus_->map(port++, AIMC_TILE_BASE + static_cast<uint64_t>(t->index()) * AIMC_TILE_STRIDE, t->window_bytes(),
              "tile" + std::to_string(t->index()), sim::Endpoint::tile(t->index()));
  }
  // Host side.
  host_->dma_host.bind(link_->tsock);
  if (cpu_) {  // else the platform around the chip binds register_socket() and dma_socket()
    link_->isock.bind(host_memory_->tsock);
    cpu_->isock.bind(host_->regs);
  }
  host_->set_bus_bytes_source([this] { return bus_->bytes_moved(); });
  host_->set_power_listener(
      [this](uint32_t state, uint64_t t_ps) { sram_->set_standby(state == AIMC_POWER_STANDBY, t_ps); });
  power_on();
}

HostMemory& Chip::host_memory() {
  if (!host_memory_) throw std::logic_error("Chip::host_memory: the chip was built for an external core");
  return *host_memory_;
}

FirmwareHost& Chip::cpu() {
  if (!cpu_) throw std::logic_error("Chip::cpu: the chip was built for an external core");
  return *cpu_;
}

std::vector<Tile*> Chip::tiles() {
  std::vector<Tile*> out;
  for (auto& t : tiles_) out.push_back(t.get());
  return out;
}

uint64_t ChipStats::adc_clipped() const {
  uint64_t n = 0;
  for (const TileStats& t : tiles) n += t.adc_clipped;
  return n;
}

double ChipStats::max_programmed_age_s() const {
  double age_s = 0;
  for (const TileStats& t : tiles)
    if (t.programmed) age_s = std::max(age_s, t.age_s);
  return age_s;
}

ChipStats Chip::stats() const {
  ChipStats s;
  s.programming = programmer_->stats();
  s.interconnect = bus_->stats();
  if (const Gdpu* g = sequencer_->gdpu()) s.gdpu_busy_ps = g->timeline().busy_ps();
  for (const auto& t : tiles_) s.tiles.push_back(t->stats());
  return s;
}

void Chip::set_environment(double temp_c, double elapsed_s) {
  temp_c_ = temp_c;
  for (auto& t : tiles_) t->set_conditions(temp_c, elapsed_s);
  host_->set_temperature(temp_c);
}

ChipArea Chip::area() const {
  ChipArea a;
  for (const auto& t : tiles_) {
    const auto b = t->block_figures();
    a.dac += b[0].area_um2;
    a.array += b[1].area_um2;
    a.adc += b[2].area_um2;
    a.digital += b[3].area_um2;
    if (b.size() > 4) a.local_mem += b[4].area_um2;
  }
  a.sram = sim::sram_cost(cfg_.sram).area_um2;
  a.bus = bus_->area_um2();
  if (const Gdpu* g = sequencer_->gdpu()) a.gdpu = g->area_um2();
  return a;
}

double Chip::peak_ops_per_s() const {
  double ops = 0;
  const double macs = static_cast<double>(cfg_.tile.array.rows) * cfg_.tile.array.cols;
  for (const auto& t : tiles_) {
    const uint64_t t_ps = t->t_mvm_ps(cfg_.tile.array.cols);
    if (t_ps > 0) ops += 2.0 * macs / (t_ps * 1e-12);
  }
  return ops;
}

void Chip::power_on() {
  const double uw = 1e-6;
  // The bus and the SRAM declare their own static power.
  ledger_.set_static_power(ledger_.component("tile_static"),
                           cfg_.tile_count() * cfg_.tile.p_static_active_uw * uw);
  ledger_.set_static_power(ledger_.component("host"), cfg_.host.p_static_uw * uw);
  set_block_static_power(ledger_, tiles(), true, ledger_.now_ps());
}

}  // namespace aimc::chip
