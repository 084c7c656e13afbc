#include "chip/sequencer.h"

#include <algorithm>
#include <array>
#include <cstdio>
#include <cmath>
#include <cstring>
#include <map>
#include <stdexcept>

#include "aimc_regs.h"
#include "chip/map_hazards.h"
#include "numerics/converters.h"
#include "program/validate.h"
#include "numerics/digital_ops.h"
#include "sim/accounting.h"
#include "sim/interconnect.h"
#include "sim/payload.h"

namespace aimc::chip {

namespace {
constexpr uint32_t kSeqMemBase = AIMC_SEQ_MEM_BASE;
constexpr uint32_t kSeqMemSize = AIMC_SEQ_MEM_SIZE;
constexpr uint32_t kSramBase = AIMC_SRAM_BASE;

}  // namespace

Sequencer::Sequencer(sc_core::sc_module_name name, const config::PlatformConfig& cfg,
                     std::vector<Tile*> tiles, sim::EnergyLedger& ledger, sim::TraceSink& trace)
    : sc_module(name),
      tsock("tsock"),
      isock("isock"),
      cfg_(cfg),
      tiles_(std::move(tiles)),
      ledger_(ledger),
      trace_(trace),
      track_(trace.track("sequencer")),
      c_digital_(ledger.component("digital")),
      mem_(kSeqMemSize) {
  for (size_t t = 0; t < tiles_.size(); ++t)
    digital_tracks_.push_back(trace.track("tile" + std::to_string(t) + ".digital"));
  if (cfg.gdpu.lanes > 0) gdpu_ = std::make_unique<Gdpu>(cfg, ledger, trace);
  tsock.register_b_transport(this, &Sequencer::b_transport);
  tsock.register_transport_dbg(this, &Sequencer::transport_dbg);
  gp_.set_extension(new sim::Accounting());  // owned by gp_
  gp_.set_extension(new sim::Route());       // owned by gp_
  SC_HAS_PROCESS(Sequencer);
  SC_THREAD(run);
  // The numerics kernel (Eigen GEMM) keeps blocking buffers on the stack.
  sc_core::sc_spawn_options();
  set_stack_size(64 * 1024 * 1024);
}

bool Sequencer::start(uint32_t prog_addr, uint32_t batch, const sc_core::sc_time& delay) {
  if (busy_) return false;
  busy_ = true;
  prog_addr_ = prog_addr;
  batch_ = batch;
  phase_ = ledger_.phase();  // the command's energy goes to the phase it was issued in
  start_event_.notify(delay);
  return true;
}

bool Sequencer::program_header(uint32_t prog_addr, aimc_program_hdr_t& hdr) const {
  if (prog_addr < kSeqMemBase || prog_addr - kSeqMemBase + sizeof hdr > mem_.size()) return false;
  std::memcpy(&hdr, mem_.data() + (prog_addr - kSeqMemBase), sizeof hdr);
  return hdr.magic == AIMC_PROGRAM_MAGIC;
}

int Sequencer::layer_id(size_t index) {
  const auto key = std::make_pair(prog_addr_, index);
  auto it = layer_ids_.find(key);
  if (it != layer_ids_.end()) return it->second;
  auto names = layer_names_.find(prog_addr_);
  std::string name;
  if (names != layer_names_.end() && index < names->second.size()) {
    name = names->second[index];
  } else {
    char buf[48];
    std::snprintf(buf, sizeof buf, "op%zu@0x%x", index, prog_addr_);
    name = buf;
  }
  const int id = ledger_.layer(name);
  layer_ids_[key] = id;
  return id;
}

void Sequencer::run() {
  for (;;) {
    sc_core::wait(start_event_);
    t_now_ps_ = sim::to_ps(sc_core::sc_time_stamp());
    uint32_t err_addr = 0;
    std::string failure;
    uint32_t err = run_guarded(
        "sequencer",
        [&] {
          Program p;
          uint32_t e = load_and_validate(prog_addr_, batch_, p, err_addr);
          return e == AIMC_ERR_NONE ? execute(p, batch_, err_addr) : e;
        },
        AIMC_ERR_BAD_PROGRAM, failure);
    if (!failure.empty()) {
      last_problem_ = "the command stopped: " + failure;
      err_addr = prog_addr_;
    }
    busy_ = false;
    if (listener_) listener_->engine_done(Engine::seq, err, err_addr);
  }
}

uint32_t Sequencer::load_and_validate(uint32_t prog_addr, uint32_t batch, Program& p,
                                      uint32_t& err_addr) {
  err_addr = prog_addr;
  last_problem_.clear();
  auto refuse = [&](const std::string& why) {
    last_problem_ = why;
    return AIMC_ERR_BAD_PROGRAM;
  };
  if (prog_addr < kSeqMemBase || prog_addr >= kSeqMemBase + kSeqMemSize)
    return refuse("program address outside the program memory");
  const size_t off = prog_addr - kSeqMemBase;
  const size_t avail = mem_.size() - off;
  if (avail < sizeof(aimc_program_hdr_t)) return refuse("no room for a program header at the program address");
  std::memcpy(&p.hdr, mem_.data() + off, sizeof p.hdr);
  const auto& h = p.hdr;
  // The counts are 32-bit: their sizes fit in 64 bits and are bounded by the program memory.
  const uint64_t need = sizeof(aimc_program_hdr_t) + uint64_t(h.layer_count) * sizeof(aimc_layer_t) +
                        uint64_t(h.slice_count) * sizeof(aimc_slice_t) + uint64_t(h.bias_count) * sizeof(float);
  if (h.magic == AIMC_PROGRAM_MAGIC && need > avail) return refuse("the program's counts run past the program memory");
  if (h.magic == AIMC_PROGRAM_MAGIC) {
    const uint8_t* q = mem_.data() + off + sizeof(aimc_program_hdr_t);
    p.layers.resize(h.layer_count);
    if (h.layer_count) std::memcpy(p.layers.data(), q, h.layer_count * sizeof(aimc_layer_t));
    q += h.layer_count * sizeof(aimc_layer_t);
    p.slices.resize(h.slice_count);
    if (h.slice_count) std::memcpy(p.slices.data(), q, h.slice_count * sizeof(aimc_slice_t));
    q += h.slice_count * sizeof(aimc_slice_t);
    p.bias.resize(h.bias_count);
    if (h.bias_count) std::memcpy(p.bias.data(), q, h.bias_count * sizeof(float));
  }
  // The one validator (program/validate.h), against this chip: its tiles as programmed now, its
  // converters and cells, its SRAM and this command's batch.
  program::Machine m;
  m.dac_bits = static_cast<uint32_t>(cfg_.tile.dac.bits);
  m.adc_bits = static_cast<uint32_t>(cfg_.tile.adc.bits);
  m.bits_per_cell = static_cast<uint32_t>(cfg_.tile.device.bits_per_cell);
  m.g_min_over_g_max = static_cast<float>(cfg_.tile.device.g_min_ns / cfg_.tile.device.g_max_ns);
  m.sram_begin = kSramBase;
  m.sram_end = kSramBase + static_cast<uint64_t>(cfg_.sram.size_kib) * 1024u;
  m.batch = batch;
  m.tile_count = static_cast<uint32_t>(tiles_.size());
  m.bit_serial = cfg_.tile.dac.kind == config::InputDriverKind::bit_serial;
  m.sign_split = cfg_.tile.array.read_phases > 1;
  const auto tiles = [this](uint32_t t, program::TileBlock& block) -> program::Problem {
    if (t >= tiles_.size())
      return program::problem(AIMC_ERR_BAD_TILE, program::ArgKind::tile, t,
                              "tile " + std::to_string(t) + " does not exist (" + std::to_string(tiles_.size()) +
                                  " tiles)");
    const Tile& T = *tiles_[t];
    if (!T.programmed())
      return program::problem(AIMC_ERR_NOT_PROGRAMMED, program::ArgKind::tile, t,
                              "tile " + std::to_string(t) + " holds no weights");
    block = {static_cast<uint32_t>(T.rows_used()), static_cast<uint32_t>(T.cols_used()), nullptr};
    return {};
  };
  const program::ProgramView view{&p.hdr, p.layers.data(), p.slices.data(), p.bias.data()};
  const program::Problem e = program::check_program(view, tiles, &m);
  if (!e) {
    err_addr = 0;
    return AIMC_ERR_NONE;
  }
  last_problem_ = e.message;
  err_addr = e.arg_kind == program::ArgKind::program ? prog_addr : e.arg;
  return e.code;
}

bool Sequencer::bus_access(tlm::tlm_command cmd, uint32_t addr, uint8_t* data, uint32_t len,
                           uint64_t earliest_ps, uint64_t& end_ps) {
  sim::set_plain(gp_, cmd, addr, data, len);
  sc_core::sc_time delay = sim::ps_to_time(earliest_ps - t_now_ps_);
  isock->b_transport(gp_, delay);
  end_ps = t_now_ps_ + sim::to_ps(delay);
  return gp_.is_response_ok();
}

bool Sequencer::bus_debug_read(uint32_t addr, uint8_t* data, uint32_t len) {
  tlm::tlm_generic_payload gp;
  sim::set_plain(gp, tlm::TLM_READ_COMMAND, addr, data, len);
  return isock->transport_dbg(gp) == len;
}

bool Sequencer::bus_debug_write(uint32_t addr, uint8_t* data, uint32_t len) {
  tlm::tlm_generic_payload gp;
  sim::set_plain(gp, tlm::TLM_WRITE_COMMAND, addr, data, len);
  return isock->transport_dbg(gp) == len;
}

// The sequencer's side of an op executor's context: transfers through its initiator socket.
class Sequencer::Context final : public ExecContext {
 public:
  Context(Sequencer& seq, const Program& p, uint32_t batch)
      : ExecContext(seq.cfg_, seq.tiles_, seq.ledger_, seq.trace_, seq.digital_tracks_, seq.c_digital_, p,
                    batch, seq.t_now_ps_, seq.phase_),
        seq_(seq) {}
  bool transfer_to(int layer_id, sim::Endpoint src, const sim::Endpoint* dsts, size_t ndst, tlm::tlm_command cmd,
                   uint32_t addr, uint8_t* data, uint32_t len, uint64_t earliest_ps, uint64_t& end_ps) override {
    sim::Accounting* acct = seq_.gp_.get_extension<sim::Accounting>();
    acct->layer = layer_id;
    acct->phase = seq_.phase_;
    acct->track = seq_.track_;
    sim::Route* route = seq_.gp_.get_extension<sim::Route>();
    route->src = src;
    route->dst = dsts[0];
    route->also.assign(dsts + 1, dsts + ndst);
    return seq_.bus_access(cmd, addr, data, len, earliest_ps, end_ps);
  }
  bool debug_read(uint32_t addr, uint8_t* data, uint32_t len) override {
    return seq_.bus_debug_read(addr, data, len);
  }
  bool debug_write(uint32_t addr, uint8_t* data, uint32_t len) override {
    return seq_.bus_debug_write(addr, data, len);
  }

 private:
  Sequencer& seq_;
};

// One op of the running command: what its compute found, kept for its schedule.
struct Sequencer::Step {
  OpStep op;
  std::unique_ptr<OpExecutor> exec;
  num::Maps out;  // batch x positions * out_c
};

uint32_t Sequencer::compute_all(ExecContext& ctx, const Program& p, std::vector<Step>& steps,
                                uint32_t& err_addr) {
  steps.reserve(p.layers.size());  // no reallocation: the schedule's steps keep references
  for (size_t li = 0; li < p.layers.size(); ++li) {
    std::unique_ptr<OpExecutor> exec = make_executor(p.layers[li].kind);
    if (!exec) {
      err_addr = static_cast<uint32_t>(li);
      return AIMC_ERR_BAD_PROGRAM;
    }
    steps.push_back({OpStep(p, li, layer_id(li)), std::move(exec), num::Maps()});
    Step& st = steps.back();
    uint32_t err = st.exec->compute(ctx, st.op, st.out, err_addr);
    if (err != AIMC_ERR_NONE) return err;
    // The next op's compute reads these from SRAM; the timed writes of the schedule write the
    // same bytes again and pay for the move.
    if (!store_outputs(ctx, st.op, st.out, err_addr)) return AIMC_ERR_BAD_PROGRAM;
  }
  return AIMC_ERR_NONE;
}

// The time pass: the images' steps through the ops, issued as an in-order sequencer with a
// scoreboard issues them, and booked by a sim::BookingQueue in time order. Image v's op k is
// issued once every (op, image) pair it must follow is done (chip/map_hazards.h: the ops that
// write its inputs for image v, and the earlier ops of any image whose maps share SRAM bytes with
// its own), and not before image v - 1's op k was issued (each op takes its images in order, so an
// executor's state across images, like a slice's input buffer, sees them in order). It is done
// when its outputs are in SRAM.
class Sequencer::Flow {
 public:
  Flow(ExecContext& ctx, std::vector<Step>& steps, const Program& p, uint32_t batch, uint64_t t0,
       std::map<uint32_t, std::vector<uint64_t>>& ready, uint32_t& err_addr)
      : ctx_(ctx), steps_(steps), batch_(batch), t0_(t0), ready_(ready), err_addr_(err_addr),
        waiting_(size_t(batch) * steps.size(), 0), after_ps_(size_t(batch) * steps.size(), t0),
        followers_(size_t(batch) * steps.size()), next_(steps.size(), 0), issued_ps_(steps.size(), t0) {
    const MapHazards hazards(p.layers, batch);
    for (uint32_t v = 0; v < batch; ++v)
      for (size_t k = 0; k < steps.size(); ++k)
        for (const OpImage& before : hazards.before(static_cast<uint32_t>(k), v)) {
          ++waiting_[at(v, k)];
          followers_[at(before.image, before.op)].push_back({static_cast<uint32_t>(k), v});
        }
  }

  bool run() {
    for (uint32_t v = 0; v < batch_; ++v)
      for (size_t k = 0; k < steps_.size(); ++k) try_issue(v, k);
    if (!q_.run()) return false;
    for (uint32_t n : next_)
      if (n != batch_) throw std::logic_error("sequencer: an op was never issued for every image");
    return true;
  }

 private:
  size_t at(uint32_t v, size_t k) const { return size_t(v) * steps_.size() + k; }

  // Issues image v's op k if nothing it must follow is pending and the op's previous images were
  // issued, then the op's next images that were waiting only for that.
  void try_issue(uint32_t v, size_t k) {
    for (; v < batch_ && v == next_[k] && waiting_[at(v, k)] == 0; ++v) {
      issue(v, k);
      ++next_[k];
    }
  }

  void issue(uint32_t v, size_t k) {
    Step& st = steps_[k];
    // In order: not before the previous image's issue.
    const uint64_t inputs_ready = std::max(issued_ps_[k], after_ps_[at(v, k)]);
    issued_ps_[k] = inputs_ready;
    std::vector<sim::BookingQueue::Id> written;
    st.exec->schedule(ctx_, q_, st.op, st.out, v, inputs_ready, written, err_addr_);
    const auto done = q_.add(v, inputs_ready, [this, v, k](uint64_t r, uint64_t& s, uint64_t& e) {
      s = e = r;
      finish(v, k, r);
      return true;
    });
    for (auto w : written) q_.after_end(w, done);
  }

  void finish(uint32_t v, size_t k, uint64_t t) {
    std::vector<uint64_t>& r = ready_[steps_[k].op.L.out_addr];
    if (r.size() != batch_) r.assign(batch_, t0_);
    r[v] = std::max(r[v], t);
    for (const OpImage& f : followers_[at(v, k)]) {
      const size_t i = at(f.image, f.op);
      after_ps_[i] = std::max(after_ps_[i], t);
      if (--waiting_[i] == 0) try_issue(f.image, f.op);
    }
  }

  ExecContext& ctx_;
  std::vector<Step>& steps_;
  const uint32_t batch_;
  const uint64_t t0_;
  std::map<uint32_t, std::vector<uint64_t>>& ready_;
  uint32_t& err_addr_;
  sim::BookingQueue q_;
  // Per (image, op): pairs it must still wait for, when the last of them was done, the pairs that
  // wait for it.
  std::vector<uint32_t> waiting_;
  std::vector<uint64_t> after_ps_;
  std::vector<std::vector<OpImage>> followers_;
  std::vector<uint32_t> next_;       // per op: the next image to issue
  std::vector<uint64_t> issued_ps_;  // per op: when its last issued image was issued
};

uint32_t Sequencer::execute(const Program& p, uint32_t batch, uint32_t& err_addr) {
  Context ctx(*this, p, batch);
  ctx.multicast = multicast_;
  ctx.gdpu = gdpu_.get();
  if (cfg_.tile.local_memory_kib > 0) {
    ctx.local = plan_local_memory(p.layers, p.slices, p.hdr.out_addr, batch,
                                  static_cast<uint64_t>(cfg_.tile.local_memory_kib) * 1024, gdpu_ == nullptr);
    ctx.c_local_mem = ledger_.component("local_mem");
  }
  std::vector<Step> steps;
  uint32_t err = compute_all(ctx, p, steps, err_addr);
  if (err != AIMC_ERR_NONE) return err;
  // When each image's map at an address is complete in SRAM (written by this command).
  std::map<uint32_t, std::vector<uint64_t>> ready;
  Flow flow(ctx, steps, p, batch, t_now_ps_, ready, err_addr);
  if (!flow.run()) return AIMC_ERR_BAD_PROGRAM;

  uint64_t t_end = t_now_ps_;
  for (const auto& [addr, r] : ready) t_end = std::max(t_end, *std::max_element(r.begin(), r.end()));
  const auto out_it = ready.find(p.hdr.out_addr);
  const uint64_t first_output_ps = out_it != ready.end() ? out_it->second[0] : t_end;
  last_latency_ps_ = first_output_ps - t_now_ps_;
  last_duration_ps_ = t_end - t_now_ps_;
  vectors_done_ += batch;
  ++commands_done_;
  if (command_sink_) command_sink_({prog_addr_, batch, t_now_ps_, first_output_ps, t_end});
  if (trace_.enabled())
    trace_.span(track_, "infer", t_now_ps_, t_end - t_now_ps_,
                {{"batch", batch}, {"first_output_ns", last_latency_ps_ / 1000.0}});
  sc_core::wait(sim::ps_to_time(t_end - t_now_ps_));
  for (Tile* t : tiles_) {
    t->analog().forget_before(t_end);
    t->digital().forget_before(t_end);
    t->local_memory_port().forget_before(t_end);
  }
  if (gdpu_) gdpu_->timeline().forget_before(t_end);
  return AIMC_ERR_NONE;
}

void Sequencer::b_transport(tlm::tlm_generic_payload& gp, sc_core::sc_time& delay) {
  if (busy_ && gp.is_write()) {  // the program must not change under a running command
    gp.set_response_status(tlm::TLM_COMMAND_ERROR_RESPONSE);
    return;
  }
  mem_.access(gp);
}

unsigned int Sequencer::transport_dbg(tlm::tlm_generic_payload& gp) { return mem_.debug(gp); }

}  // namespace aimc::chip
