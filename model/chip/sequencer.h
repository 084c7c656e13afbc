// The sequencer: executes a deployment image's op program (one segment) on a batch of images.
//
// On a doorbell it validates the program in its program memory against the platform (tiles,
// their programmed blocks, SRAM ranges, the batch), then executes it by the executor of each op's
// kind (chip/op_exec.h) in two passes:
//   numbers  op after op, each over the whole batch (ARCHITECTURE rule 1): the op's outputs and
//            the energy of computing them; the outputs are stored in SRAM untimed (debug
//            transport), where the next op reads its functional input the same way;
//   time     every image through every op, in chunks of output positions (op_mvm.cpp,
//            op_digital.cpp), as an in-order sequencer with a scoreboard issues them: image v's
//            op k goes once the (op, image) pairs it must follow are done (chip/map_hazards.h:
//            the ops that wrote its inputs, and earlier ops of other images whose maps share SRAM
//            bytes with its own, as the compiler's layout for op-after-op execution lets them),
//            and after image v - 1's op k. Its steps (bus reads, MVMs, partial sums, digital
//            runs, output writes) are booked in time order (sim/booking_queue.h): each shared
//            resource serves its requests first come, first served, older image first on a tie,
//            and is never left idle while a request waits.
// So images overlap: image v+1 enters an op's tiles while image v is in a later op (layer
// pipelining), as far as the interconnect and the SRAM layout allow, and a slower block can only
// delay what follows it. Booking the batch op after op (every image through op k before op k + 1,
// each resource's calendar filled in that order) made the schedule depend on the durations in
// ways a slower block could improve (more ADC sharing gave more throughput), and image after image
// (older images first on every calendar) left the bus idle in gaps no younger request fits
// (booking_queue.h). Transfers go through the interconnect (sim/interconnect.h) with their real
// source and destination (SRAM -> tile for patches, tile -> tile for partial sums, tile -> SRAM
// for outputs) and carry the real bytes; the interconnect and the SRAM charge their own energy and
// contention, once per transfer. Activation maps live in SRAM (H, W, C codes, see aimc_image.h).
// A command's energy is charged to the ledger phase that was current when it was started (deploy
// or infer).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <systemc>
#include <tlm>
#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/simple_target_socket.h>

#include "aimc_image.h"
#include "chip/engine.h"
#include "chip/gdpu.h"
#include "chip/op_exec.h"
#include "chip/local_memory.h"
#include "chip/tile.h"
#include "config/platform_config.h"
#include "sim/energy_ledger.h"
#include "sim/trace.h"

namespace aimc::chip {

class Sequencer : public sc_core::sc_module {
 public:
  tlm_utils::simple_target_socket<Sequencer> tsock;     // program memory
  tlm_utils::simple_initiator_socket<Sequencer> isock;  // to the interconnect

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
  // Whether the interconnect delivers one transfer to several tiles at the cost of one
  // (sim::Interconnect::multicast; the chip sets it): then MVM ops send an input chunk once to all
  // the tiles of its row block.
  void set_multicast(bool on) { multicast_ = on; }
  bool busy() const { return busy_; }
  // The global digital unit (null without one, gdpu.lanes 0).
  const Gdpu* gdpu() const { return gdpu_.get(); }
  // Starts an inference command at sc_time_stamp() + delay; false if one is running.
  bool start(uint32_t prog_addr, uint32_t batch, const sc_core::sc_time& delay);

  // The header of the program at prog_addr in program memory, if it has the program magic.
  bool program_header(uint32_t prog_addr, aimc_program_hdr_t& hdr) const;
  uint64_t last_latency_ps() const { return last_latency_ps_; }  // doorbell -> first output
  // SEQ_LATENCY_NS back to its reset value (CTRL.FULL_RESET; not while busy).
  void clear_latency() { last_latency_ps_ = 0; }
  uint64_t last_duration_ps() const { return last_duration_ps_; }
  uint64_t vectors_done() const { return vectors_done_; }
  uint64_t commands_done() const { return commands_done_; }
  // Why the last command was refused, in words ("op 3: slice 7: rows beyond in_features"); ""
  // when it was accepted. The error code and argument are in the host's ERROR_CODE/ERR_ADDR.
  const std::string& last_problem() const { return last_problem_; }

  // When one command runs, in simulated ps: its start (the doorbell), its batch's first output in
  // SRAM and its end (every map written).
  struct CommandTiming {
    uint32_t prog_addr = 0, batch = 0;
    uint64_t start_ps = 0, first_output_ps = 0, end_ps = 0;
  };
  // Called once per command the sequencer accepted and ran, as soon as its schedule is known (at
  // its start, before the sequencer waits for its end): for a front end that measures across
  // commands, e.g. the segments of one image. Off when empty.
  using CommandSink = std::function<void(const CommandTiming&)>;
  void set_command_sink(CommandSink sink) { command_sink_ = std::move(sink); }

 private:
  class Context;  // the executors' view of the sequencer (sequencer.cpp)
  struct Step;    // one op of the running command, its executor and outputs (sequencer.cpp)
  class Flow;     // issues the images' ops in order and books their steps (sequencer.cpp)

  void run();
  // Returns AIMC_ERR_NONE or an error code, with the offending address/argument in err_addr.
  uint32_t load_and_validate(uint32_t prog_addr, uint32_t batch, Program& p, uint32_t& err_addr);
  uint32_t execute(const Program& p, uint32_t batch, uint32_t& err_addr);
  // The numbers pass: every op's compute over the batch, outputs stored in SRAM untimed.
  uint32_t compute_all(ExecContext& ctx, const Program& p, std::vector<Step>& steps, uint32_t& err_addr);
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
  sim::Phase phase_ = sim::Phase::infer;
  uint64_t t_now_ps_ = 0;
  tlm::tlm_generic_payload gp_;
  bool multicast_ = false;
  std::unique_ptr<Gdpu> gdpu_;  // gdpu.lanes > 0
  std::string last_problem_;
  uint64_t last_latency_ps_ = 0, last_duration_ps_ = 0, vectors_done_ = 0, commands_done_ = 0;
  CommandSink command_sink_;
};

}  // namespace aimc::chip
