// The NVM programming controller, basic path: the firmware DMAs a weight block (aimc_weights_hdr_t
// followed by int16 levels, see aimc_image.h) into the staging buffer and writes PROG_TILE and
// PROG_START; the controller checks the block against the tile and writes every cell of the used
// block to its target. Program-and-verify physics come later; this path costs, per command:
//   cells = 2 * rows * cols                                   (both cells of every pair)
//   time  = ceil(cells / programming.parallel_cells) * programming.t_cell_ns
//   energy = cells * programming.e_cell_pj                    (component "programming")
#pragma once

#include <cstdint>
#include <vector>

#include <systemc>
#include <tlm>
#include <tlm_utils/simple_target_socket.h>

#include "chip/engine.h"
#include "chip/local_memory.h"
#include "chip/tile.h"
#include "config/platform_config.h"
#include "sim/energy_ledger.h"
#include "sim/trace.h"

namespace aimc::chip {

class NvmProgrammer : public sc_core::sc_module {
 public:
  tlm_utils::simple_target_socket<NvmProgrammer> tsock;  // the staging buffer

  NvmProgrammer(sc_core::sc_module_name name, const config::PlatformConfig& cfg,
                std::vector<Tile*> tiles, sim::EnergyLedger& ledger, sim::TraceSink& trace);
  NvmProgrammer(const NvmProgrammer&) = delete;
  NvmProgrammer& operator=(const NvmProgrammer&) = delete;

  void set_listener(EngineListener* l) { listener_ = l; }
  bool busy() const { return busy_; }
  // Starts a programming command at sc_time_stamp() + delay. Returns false (and does nothing) if
  // a command is already running.
  bool start(uint32_t tile, const sc_core::sc_time& delay);
  uint32_t last_cells() const { return last_cells_; }
  uint64_t staging_bytes() const { return staging_.size(); }

 private:
  void run();
  void b_transport(tlm::tlm_generic_payload& gp, sc_core::sc_time& delay);
  unsigned int transport_dbg(tlm::tlm_generic_payload& gp);

  config::PlatformConfig cfg_;
  std::vector<Tile*> tiles_;
  sim::EnergyLedger& ledger_;
  sim::TraceSink& trace_;
  int track_;
  int c_prog_;
  EngineListener* listener_ = nullptr;
  LocalMemory staging_;
  sc_core::sc_event start_event_;
  bool busy_ = false;
  uint32_t tile_ = 0;
  uint32_t last_cells_ = 0;
};

}  // namespace aimc::chip
