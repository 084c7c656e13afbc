// The sequencer: executes a deployment image's op program (one segment) on a batch of images.
//
// On a doorbell it validates the program in its program memory against the platform (tiles,
// their programmed blocks, SRAM ranges, the batch), then runs the ops in program order, each over
// all images of the batch. Activation maps live in SRAM (H, W, C codes, see aimc_image.h).
//
// Numbers apart from time (ARCHITECTURE rule 1): for each op the sequencer first computes the
// batch's results with the numerics kernel (im2col patches, tile MVMs as one matrix product per
// slice, the digital unit, digital ops), then books the time of every image on the resources it
// uses, in chunks of output positions (as many patches as half the tile's input buffer holds, so
// that the next chunk loads while one computes):
//   input   bus read of the chunk's patches from SRAM (patch bytes: an im2col gather re-reads
//           overlapping windows); it may start once the image's op inputs are in SRAM and the
//           chunk two places earlier has started its MVMs
//   mvm     the tile's array (DAC, array, ADC): chunk x t_mvm (see tile.h)
//   psum    bus write of the slice's ADC codes (ceil(adc_bits/8) bytes each) to the reduce tile,
//           for row slices other than the one on the reduce tile
//   digital the reduce tile's digital unit: partial-sum add, bias, scale, clamp, requantize
//   output  bus write of the chunk's output codes to SRAM
// An MVM op with copies of its weights (replicas) sends chunk g of the batch (image after image)
// to copy g mod replicas: the copies work side by side on different tiles.
// Digital ops (pooling, add, concat, softmax, digital depthwise convolution) run on the digital
// unit of their `unit` tile: bus read of their share of the input, the unit's time for their
// element operations, bus write of the output. Every resource is a calendar (sim::Timeline), so
// images overlap: image v+1 enters an op's tiles while image v is in the next op, with the shared
// bus limiting how much (layer pipelining). Bus and SRAM charge their own energy and contention
// through their TLM transactions; output writes carry the real bytes. The functional input of an
// op is read from SRAM with debug transport (no time, no energy: the timed reads pay for it).
#pragma once

#include <cstdint>
#include <map>
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
  // Op names for energy attribution, in the order of the program at prog_addr (optional;
  // default "op<i>@<prog_addr>").
  void set_layer_names(uint32_t prog_addr, std::vector<std::string> names) {
    layer_names_[prog_addr] = std::move(names);
  }
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
  bool bus_debug_write(uint32_t addr, uint8_t* data, uint32_t len);
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
  std::map<uint32_t, std::vector<std::string>> layer_names_;
  std::map<std::pair<uint32_t, size_t>, int> layer_ids_;
  sc_core::sc_event start_event_;
  bool busy_ = false;
  uint32_t prog_addr_ = 0, batch_ = 0;
  uint64_t t_now_ps_ = 0;
  tlm::tlm_generic_payload gp_;
  uint64_t last_latency_ps_ = 0, last_duration_ps_ = 0, vectors_done_ = 0, commands_done_ = 0;
};

}  // namespace aimc::chip
