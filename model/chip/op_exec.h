// How the sequencer executes one op of a layer program: an executor per op kind, in two steps.
//   compute   the op's results for the whole batch, with the numerics kernels (ARCHITECTURE rule
//             1), and the energy they cost, posted to the ledger; the sequencer then stores them
//             in SRAM untimed (store_outputs), where the next op's compute reads them;
//   schedule  one image through the op, chunk by chunk: the steps it takes on the resources it
//             uses (tile calendars, the digital units, transfers through the interconnect), added
//             to the command's sim::BookingQueue, which books them in time order with every other
//             image's. The timed transfers carry the real bytes and pay the time and energy of
//             every move; the untimed store only makes the numbers available early.
// The sequencer (sequencer.h) validates the program, runs compute op after op over the batch,
// then issues each op's images in order (image v after image v - 1) as the SRAM scoreboard allows.
// An executor lives for the whole command, so what it keeps across images (an MVM slice's input
// buffer halves, which copy takes which chunk) is its own state.
// A new MVM-free op is one row in the table of op_digital.cpp plus its kernel in
// numerics/digital_ops; a new kind of analog op is a new executor registered in make_executor().
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include <systemc>
#include <tlm>

#include "aimc_image.h"
#include "aimc_regs.h"
#include "chip/gdpu.h"
#include "chip/local_plan.h"
#include "chip/tile.h"
#include "config/platform_config.h"
#include "numerics/converters.h"
#include "numerics/digital_ops.h"
#include "sim/booking_queue.h"
#include "sim/energy_ledger.h"
#include "sim/interconnect.h"
#include "sim/trace.h"

namespace aimc::chip {

struct OpStep;

// A layer program as read from program memory (validated by the sequencer before it runs).
struct Program {
  aimc_program_hdr_t hdr;
  std::vector<aimc_layer_t> layers;
  std::vector<aimc_slice_t> slices;
  std::vector<float> bias;
};

// What every executor may use while one inference command runs: the platform, the command, and
// the sequencer's transfers. Implemented by the sequencer.
class ExecContext {
 public:
  ExecContext(const config::PlatformConfig& cfg, std::vector<Tile*>& tiles, sim::EnergyLedger& ledger,
              sim::TraceSink& trace, const std::vector<int>& digital_tracks, int c_digital,
              const Program& program, uint32_t batch, uint64_t t_start_ps, sim::Phase phase)
      : cfg(cfg), tiles(tiles), ledger(ledger), trace(trace), digital_tracks(digital_tracks),
        c_digital(c_digital), program(program), batch(batch), t_start_ps(t_start_ps), phase(phase) {}
  virtual ~ExecContext() = default;

  const config::PlatformConfig& cfg;
  std::vector<Tile*>& tiles;
  sim::EnergyLedger& ledger;
  sim::TraceSink& trace;
  const std::vector<int>& digital_tracks;  // trace track of each tile's digital unit
  const int c_digital;                     // ledger component "digital"
  const Program& program;
  const uint32_t batch;
  const uint64_t t_start_ps;  // when the command started
  const sim::Phase phase;     // the command's phase (what its energy is charged to)

  // A timed transfer of `len` bytes at `addr` through the interconnect, on behalf of src -> dst,
  // not before earliest_ps, its energy charged to ledger layer layer_id (the op it moves data
  // for); end_ps = when it is done. False when the target refused it.
  bool transfer(int layer_id, sim::Endpoint src, sim::Endpoint dst, tlm::tlm_command cmd, uint32_t addr,
                uint8_t* data, uint32_t len, uint64_t earliest_ps, uint64_t& end_ps) {
    return transfer_to(layer_id, src, &dst, 1, cmd, addr, data, len, earliest_ps, end_ps);
  }
  // The same bytes to dsts[0 .. ndst) (ndst >= 1): one multicast transfer when the interconnect
  // has them (multicast), else one transfer per destination; end_ps = when every one has them.
  virtual bool transfer_to(int layer_id, sim::Endpoint src, const sim::Endpoint* dsts, size_t ndst,
                           tlm::tlm_command cmd, uint32_t addr, uint8_t* data, uint32_t len, uint64_t earliest_ps,
                           uint64_t& end_ps) = 0;
  // Whether the interconnect delivers one transfer to several tiles at the cost of one
  // (sim::Interconnect::multicast): then an op sends an input once to the tiles that share it.
  bool multicast = false;
  // Which maps skip the shared SRAM (chip/local_plan.h), one entry per op of the program (empty:
  // none), and the ledger component of the tiles' local memories.
  std::vector<LocalOp> local;
  int c_local_mem = -1;
  // The chip's global digital unit (gdpu.lanes > 0), where the digital ops run; null: on their
  // unit tile's digital unit.
  Gdpu* gdpu = nullptr;
  // An untimed read (debug transport: no time, no energy). False if not all bytes were read.
  virtual bool debug_read(uint32_t addr, uint8_t* data, uint32_t len) = 0;
  // An untimed write (debug transport: no time, no energy). False if not all bytes were written.
  virtual bool debug_write(uint32_t addr, uint8_t* data, uint32_t len) = 0;

  // A timed read of `len` bytes of an image's map at `base` into the tile(s) `dst` (len may exceed
  // the map: an im2col gather re-reads overlapping windows; it is split into reads that stay
  // inside the map).
  bool timed_read(int layer_id, const sim::Endpoint* dsts, size_t ndst, uint32_t base, uint32_t map_bytes,
                  uint64_t len, uint64_t earliest_ps, uint64_t& end_ps);
  bool timed_read(int layer_id, sim::Endpoint dst, uint32_t base, uint32_t map_bytes, uint64_t len,
                  uint64_t earliest_ps, uint64_t& end_ps) {
    return timed_read(layer_id, &dst, 1, base, map_bytes, len, earliest_ps, end_ps);
  }
  // Op `op`'s timed read of input `which` (0, or 1 for an ADD's second) into the tiles dsts: from
  // their local memories when the plan has that input there (each tile's memory port, in
  // parallel), else timed_read from SRAM.
  bool read_input(const OpStep& op, int which, const sim::Endpoint* dsts, size_t ndst, uint32_t base,
                  uint64_t len, uint64_t earliest_ps, uint64_t& end_ps);
  // The batch's input maps at addr (one per image, `stride` bytes apart), as codes.
  bool read_maps(uint32_t addr, uint32_t stride, const num::MapShape& shape, num::Maps& m);

  std::vector<uint8_t> scratch;  // transfer payloads whose bytes do not matter (timing only)
};

// One op of the program, with what its fields mean decoded once.
struct OpStep {
  OpStep(const Program& p, size_t index, int layer_id);
  size_t index;            // in the program
  const aimc_layer_t& L;
  int layer_id;            // ledger layer
  bool i32;                // the op writes int32 outputs (the network's last op)
  uint32_t out_elem;       // bytes per output element
  num::MapShape in_shape;
  num::Window window;
  num::Requant requant;    // with the op's activation (channel-last maps)
  long act_ops = 0;        // float operations of the activation per output element
  uint32_t in_map_bytes;
  long positions;          // output pixels per image
};

// Writes image v's outputs of positions [q0, q0 + n) from `out` (batch x positions * out_c) to
// SRAM, from tile `src`, not before earliest_ps: contiguous unless the op writes a channel range
// of wider pixels (CONCAT), then one write per pixel.
bool write_output(ExecContext& ctx, const OpStep& op, const num::Maps& out, sim::Endpoint src,
                  uint32_t v, long q0, long n, uint64_t earliest_ps, uint64_t& end_ps);
// Stores every image's outputs from `out` in SRAM untimed (debug transport: no time, no energy),
// at the addresses write_output uses, so that the next op's compute can read them before any
// image is scheduled. False (err_addr set) when the target did not take them all.
bool store_outputs(ExecContext& ctx, const OpStep& op, const num::Maps& out, uint32_t& err_addr);

class OpExecutor {
 public:
  virtual ~OpExecutor() = default;
  // The op's outputs for the whole batch (batch x positions * out_c). AIMC_ERR_NONE or an error
  // code with the offending address in err_addr.
  virtual uint32_t compute(ExecContext& ctx, const OpStep& op, num::Maps& out, uint32_t& err_addr) = 0;
  // Adds image v's steps through the op to `q` (after compute; once per image, in image order):
  // none starts before inputs_ready_ps, when the image's inputs are in SRAM. Appends to `written`
  // the steps whose ends put the image's outputs in SRAM. The steps book the resources when q
  // runs; a step that fails sets err_addr and stops it (AIMC_ERR_BAD_PROGRAM).
  virtual void schedule(ExecContext& ctx, sim::BookingQueue& q, const OpStep& op, const num::Maps& out,
                        uint32_t v, uint64_t inputs_ready_ps, std::vector<sim::BookingQueue::Id>& written,
                        uint32_t& err_addr) = 0;
};

// The executor of an op kind (AIMC_OP_*), a new one per op of a command (it keeps what compute
// found, and what spans images, for schedule); nullptr for an unknown kind.
std::unique_ptr<OpExecutor> make_executor(uint32_t kind);
// The trace name of an op kind ("mvm", "maxpool", ...).
const char* op_kind_name(uint32_t kind);

}  // namespace aimc::chip
