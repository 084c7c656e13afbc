// The NVM programming controller. Commands (PROG_CMD, on tile PROG_TILE):
//   PROGRAM  the firmware DMAs a weight block (aimc_weights_hdr_t + int16 levels, aimc_image.h)
//            into the staging buffer; the controller checks it against the tile and writes every
//            cell of the used block to its target (basic path; program-and-verify physics come
//            later). cells = 2 * rows * cols (both cells of every pair),
//            time = ceil(cells / parallel_cells) * t_cell_ns, energy = cells * e_cell_pj
//   VERIFY   reads every cell of the staged block and counts those further than the tolerance
//            (PROG_TOLERANCE_PPM of g_max) from their target: time = ceil(cells / parallel_cells)
//            * t_verify_ns, energy = cells * e_verify_cell_pj
//   READ_CELL  one cell's conductance into PROG_READ_PS: t_verify_ns, e_verify_cell_pj
//   ERASE    every cell of the tile to G(0): t_erase_ns, e_erase_nj
// All energy goes to component "programming" in the ledger's current phase.
#pragma once

#include <cstdint>
#include <vector>

#include <systemc>
#include <tlm>
#include <tlm_utils/simple_target_socket.h>

#include "aimc_image.h"
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
  struct Command {
    uint32_t op = 0;  // AIMC_PROG_*
    uint32_t tile = 0;
    uint32_t row = 0, col = 0, side = 0;  // READ_CELL
    uint32_t tolerance_ppm = 10000;       // VERIFY
  };
  // Starts a command at sc_time_stamp() + delay. Returns false (and does nothing) if a command is
  // already running.
  bool start(const Command& cmd, const sc_core::sc_time& delay);
  uint32_t last_cells() const { return last_cells_; }
  uint32_t verify_fails() const { return verify_fails_; }
  uint32_t read_ps() const { return read_ps_; }
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
  Command cmd_;
  uint32_t last_cells_ = 0;
  uint32_t verify_fails_ = 0;
  uint32_t read_ps_ = 0;

  // PROGRAM or VERIFY on the staged block: returns an AIMC_ERR_* code and sets the command's
  // cells, duration and energy.
  uint32_t block_command(uint64_t& cells, uint64_t& dur_ps, double& e_j, uint32_t& err_addr);
  uint32_t count_verify_fails(const aimc_weights_hdr_t& hdr,
                              const std::vector<int16_t>& levels) const;
  // The staged block, checked against the tile (false: ERR_BAD_WEIGHTS).
  bool staged_block(aimc_weights_hdr_t& hdr, std::vector<int16_t>& levels) const;
};

}  // namespace aimc::chip
