// The sequencer: executes the deployment image's layer program on a batch of input vectors.
//
// On a doorbell it validates the program in its program memory against the platform (tiles,
// array sizes, SRAM ranges, the batch), then runs the layers in order. Within a layer, the slices
// placed on different tiles run at once; vectors stream through each tile one after another.
//
// Numbers apart from time (ARCHITECTURE rule 1): for each layer the sequencer first computes the
// batch's results with the numerics kernel (tile MVMs as one matrix-matrix product per slice, then
// the digital unit), then books the time of every vector on the resources it uses:
//   input   bus read of the slice's inputs from SRAM; it may start once the vector's previous
//           layer output is in SRAM and the tile's input buffer has room (the buffer holds
//           floor(input_buffer_bytes / rows) vectors; a slot frees when its MVM starts)
//   mvm     the tile's array (DAC, array, ADC): t_mvm (see tile.h)
//   psum    bus write of the slice's ADC codes (ceil(adc_bits/8) bytes each) to the reduce tile,
//           for row slices other than the first
//   digital the reduce tile's digital unit: partial-sum add, bias, scale, ReLU, requantize
//   output  bus write of the output codes to SRAM
// Bus and SRAM charge their own energy and contention through their TLM transactions; the
// input reads and output writes carry the real bytes. The functional input of a layer is read
// from SRAM with debug transport (no time, no energy: the timed input reads above pay for it).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <systemc>
#include <tlm>
#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/simple_target_socket.h>

#include "aimc_image.h"
#include "chip/engine.h"
#include "chip/local_memory.h"
#include "chip/tile.h"
#include "config/platform_config.h"
#include "sim/energy_ledger.h"
#include "sim/trace.h"

namespace aimc::chip {

class Sequencer : public sc_core::sc_module {
 public:
  tlm_utils::simple_target_socket<Sequencer> tsock;     // program memory
  tlm_utils::simple_initiator_socket<Sequencer> isock;  // to the shared bus

  Sequencer(sc_core::sc_module_name name, const config::PlatformConfig& cfg,
            std::vector<Tile*> tiles, sim::EnergyLedger& ledger, sim::TraceSink& trace);
  Sequencer(const Sequencer&) = delete;
  Sequencer& operator=(const Sequencer&) = delete;

  void set_listener(EngineListener* l) { listener_ = l; }
  // Layer names for energy attribution, in program order (optional; default "layer<i>").
  void set_layer_names(std::vector<std::string> names) { layer_names_ = std::move(names); }
  bool busy() const { return busy_; }
  // Starts an inference command at sc_time_stamp() + delay; false if one is running.
  bool start(uint32_t prog_addr, uint32_t batch, const sc_core::sc_time& delay);

  // The header of the program at prog_addr in program memory, if it has the program magic.
  bool program_header(uint32_t prog_addr, aimc_program_hdr_t& hdr) const;
  uint64_t last_latency_ps() const { return last_latency_ps_; }  // doorbell -> first output
  uint64_t last_duration_ps() const { return last_duration_ps_; }
  uint64_t vectors_done() const { return vectors_done_; }
  uint64_t commands_done() const { return commands_done_; }

 private:
  struct Program {
    aimc_program_hdr_t hdr;
    std::vector<aimc_layer_t> layers;
    std::vector<aimc_slice_t> slices;
    std::vector<float> bias;
  };

  void run();
  // Returns AIMC_ERR_NONE or an error code, with the offending address/argument in err_addr.
  uint32_t load_and_validate(uint32_t prog_addr, uint32_t batch, Program& p, uint32_t& err_addr);
  uint32_t execute(const Program& p, uint32_t batch, uint32_t& err_addr);
  bool bus_access(tlm::tlm_command cmd, uint32_t addr, uint8_t* data, uint32_t len,
                  uint64_t earliest_ps, uint64_t& end_ps);
  bool bus_debug_read(uint32_t addr, uint8_t* data, uint32_t len);
  int layer_id(size_t index);

  void b_transport(tlm::tlm_generic_payload& gp, sc_core::sc_time& delay);
  unsigned int transport_dbg(tlm::tlm_generic_payload& gp);

  config::PlatformConfig cfg_;
  std::vector<Tile*> tiles_;
  sim::EnergyLedger& ledger_;
  sim::TraceSink& trace_;
  int track_;
  std::vector<int> digital_tracks_;
  int c_digital_;
  EngineListener* listener_ = nullptr;
  LocalMemory mem_;
  std::vector<std::string> layer_names_;
  std::vector<int> layer_ids_;
  sc_core::sc_event start_event_;
  bool busy_ = false;
  uint32_t prog_addr_ = 0, batch_ = 0;
  uint64_t t_now_ps_ = 0;
  tlm::tlm_generic_payload gp_;
  uint64_t last_latency_ps_ = 0, last_duration_ps_ = 0, vectors_done_ = 0, commands_done_ = 0;
};

}  // namespace aimc::chip
