#include "chip/sequencer.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>

#include "aimc_regs.h"
#include "numerics/converters.h"
#include "sim/accounting.h"

namespace aimc::chip {

namespace {
constexpr uint32_t kSeqMemBase = AIMC_SEQ_MEM_BASE;
constexpr uint32_t kSeqMemSize = AIMC_SEQ_MEM_SIZE;
constexpr uint32_t kSramBase = AIMC_SRAM_BASE;

// A column block of a layer: the slices that produce the same outputs, and where they reduce.
struct ColumnBlock {
  uint32_t col_begin = 0, col_count = 0;
  uint32_t reduce_tile = 0;
  std::vector<size_t> slices;  // indices into the program's slice table
};
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
  tsock.register_b_transport(this, &Sequencer::b_transport);
  tsock.register_transport_dbg(this, &Sequencer::transport_dbg);
  gp_.set_extension(new sim::Accounting());  // owned by gp_
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
  start_event_.notify(delay);
  return true;
}

bool Sequencer::program_header(uint32_t prog_addr, aimc_program_hdr_t& hdr) const {
  if (prog_addr < kSeqMemBase || prog_addr - kSeqMemBase + sizeof hdr > mem_.size()) return false;
  std::memcpy(&hdr, mem_.data() + (prog_addr - kSeqMemBase), sizeof hdr);
  return hdr.magic == AIMC_PROGRAM_MAGIC;
}

int Sequencer::layer_id(size_t index) {
  while (layer_ids_.size() <= index) {
    const size_t i = layer_ids_.size();
    const std::string name =
        i < layer_names_.size() ? layer_names_[i] : "layer" + std::to_string(i);
    layer_ids_.push_back(ledger_.layer(name));
  }
  return layer_ids_[index];
}

void Sequencer::run() {
  for (;;) {
    sc_core::wait(start_event_);
    t_now_ps_ = sim::to_ps(sc_core::sc_time_stamp());
    Program p;
    uint32_t err_addr = 0;
    uint32_t err = load_and_validate(prog_addr_, batch_, p, err_addr);
    if (err == AIMC_ERR_NONE) err = execute(p, batch_, err_addr);
    busy_ = false;
    if (listener_) listener_->engine_done(Engine::seq, err, err_addr);
  }
}

uint32_t Sequencer::load_and_validate(uint32_t prog_addr, uint32_t batch, Program& p,
                                      uint32_t& err_addr) {
  err_addr = prog_addr;
  if (prog_addr < kSeqMemBase || prog_addr >= kSeqMemBase + kSeqMemSize) return AIMC_ERR_BAD_PROGRAM;
  const size_t off = prog_addr - kSeqMemBase;
  const size_t avail = mem_.size() - off;
  if (avail < sizeof(aimc_program_hdr_t)) return AIMC_ERR_BAD_PROGRAM;
  std::memcpy(&p.hdr, mem_.data() + off, sizeof p.hdr);
  const auto& h = p.hdr;
  if (h.magic != AIMC_PROGRAM_MAGIC || h.layer_count == 0 || h.slice_count == 0 ||
      h.layer_count > 4096 || h.slice_count > 65536 || h.bias_count > (1u << 24))
    return AIMC_ERR_BAD_PROGRAM;
  const size_t need = sizeof(aimc_program_hdr_t) + h.layer_count * sizeof(aimc_layer_t) +
                      h.slice_count * sizeof(aimc_slice_t) + h.bias_count * sizeof(float);
  if (need > avail) return AIMC_ERR_BAD_PROGRAM;
  // The arithmetic of the program (acc_scale) assumed these; a mismatch would give wrong
  // numbers silently, so it is refused.
  const float g_ratio = static_cast<float>(cfg_.tile.device.g_min_ns / cfg_.tile.device.g_max_ns);
  if (h.dac_bits != static_cast<uint32_t>(cfg_.tile.dac.bits) ||
      h.adc_bits != static_cast<uint32_t>(cfg_.tile.adc.bits) ||
      h.bits_per_cell != static_cast<uint32_t>(cfg_.tile.device.bits_per_cell) ||
      h.g_min_over_g_max != g_ratio)
    return AIMC_ERR_BAD_PROGRAM;
  const uint8_t* q = mem_.data() + off + sizeof(aimc_program_hdr_t);
  p.layers.resize(h.layer_count);
  std::memcpy(p.layers.data(), q, h.layer_count * sizeof(aimc_layer_t));
  q += h.layer_count * sizeof(aimc_layer_t);
  p.slices.resize(h.slice_count);
  std::memcpy(p.slices.data(), q, h.slice_count * sizeof(aimc_slice_t));
  q += h.slice_count * sizeof(aimc_slice_t);
  p.bias.resize(h.bias_count);
  if (h.bias_count) std::memcpy(p.bias.data(), q, h.bias_count * sizeof(float));

  if (batch == 0 || batch > h.max_batch) {
    err_addr = batch;
    return AIMC_ERR_BAD_BATCH;
  }
  const uint64_t sram_end = kSramBase + static_cast<uint64_t>(cfg_.sram.size_kib) * 1024u;
  auto in_sram = [&](uint32_t addr, uint64_t stride, uint64_t elem_bytes) {
    return addr >= kSramBase && stride >= elem_bytes &&
           addr + stride * (batch - 1) + elem_bytes <= sram_end;
  };
  for (size_t li = 0; li < p.layers.size(); ++li) {
    const aimc_layer_t& L = p.layers[li];
    const bool last = li + 1 == p.layers.size();
    const bool i32 = (L.flags & AIMC_LAYER_OUTPUT_I32) != 0;
    err_addr = static_cast<uint32_t>(li);
    if (L.in_features == 0 || L.out_features == 0 || L.slice_count == 0 ||
        static_cast<uint64_t>(L.first_slice) + L.slice_count > p.slices.size() ||
        static_cast<uint64_t>(L.bias_offset) + L.out_features > p.bias.size() ||
        !(L.adc_full_scale > 0.0f) || !std::isfinite(L.acc_scale) ||
        !(L.out_quant_scale > 0.0f) || i32 != last)
      return AIMC_ERR_BAD_PROGRAM;
    if (li == 0 && L.in_features != h.in_features) return AIMC_ERR_BAD_PROGRAM;
    if (last && (L.out_features != h.out_features || L.out_addr != h.out_addr))
      return AIMC_ERR_BAD_PROGRAM;
    if (li > 0 && L.in_features != p.layers[li - 1].out_features) return AIMC_ERR_BAD_PROGRAM;
    if (!in_sram(L.in_addr, L.in_stride, L.in_features) ||
        !in_sram(L.out_addr, L.out_stride, static_cast<uint64_t>(L.out_features) * (i32 ? 4 : 1)))
      return AIMC_ERR_BAD_PROGRAM;
    // Every output column must be produced by row slices that cover every input exactly once.
    std::vector<uint32_t> rows_per_col(L.out_features, 0);
    for (uint32_t s = L.first_slice; s < L.first_slice + L.slice_count; ++s) {
      const aimc_slice_t& S = p.slices[s];
      if (S.tile >= tiles_.size() || S.reduce_tile >= tiles_.size()) {
        err_addr = S.tile;
        return AIMC_ERR_BAD_TILE;
      }
      if (S.row_count == 0 || S.col_count == 0 ||
          static_cast<uint64_t>(S.row_begin) + S.row_count > L.in_features ||
          static_cast<uint64_t>(S.col_begin) + S.col_count > L.out_features ||
          S.row_count > static_cast<uint32_t>(cfg_.tile.array.rows) ||
          S.col_count > static_cast<uint32_t>(cfg_.tile.array.cols))
        return AIMC_ERR_BAD_PROGRAM;
      const Tile& T = *tiles_[S.tile];
      if (!T.programmed()) {
        err_addr = S.tile;
        return AIMC_ERR_NOT_PROGRAMMED;
      }
      if (static_cast<uint32_t>(T.rows_used()) != S.row_count ||
          static_cast<uint32_t>(T.cols_used()) != S.col_count) {
        err_addr = S.tile;
        return AIMC_ERR_BAD_PROGRAM;
      }
      for (uint32_t c = S.col_begin; c < S.col_begin + S.col_count; ++c) rows_per_col[c] += S.row_count;
    }
    for (uint32_t c = 0; c < L.out_features; ++c)
      if (rows_per_col[c] != L.in_features) return AIMC_ERR_BAD_PROGRAM;
  }
  err_addr = 0;
  return AIMC_ERR_NONE;
}

bool Sequencer::bus_access(tlm::tlm_command cmd, uint32_t addr, uint8_t* data, uint32_t len,
                           uint64_t earliest_ps, uint64_t& end_ps) {
  gp_.set_command(cmd);
  gp_.set_address(addr);
  gp_.set_data_ptr(data);
  gp_.set_data_length(len);
  gp_.set_streaming_width(len);
  gp_.set_byte_enable_ptr(nullptr);
  gp_.set_dmi_allowed(false);
  gp_.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
  sc_core::sc_time delay = sim::ps_to_time(earliest_ps - t_now_ps_);
  isock->b_transport(gp_, delay);
  end_ps = t_now_ps_ + sim::to_ps(delay);
  return gp_.is_response_ok();
}

bool Sequencer::bus_debug_read(uint32_t addr, uint8_t* data, uint32_t len) {
  tlm::tlm_generic_payload gp;
  gp.set_command(tlm::TLM_READ_COMMAND);
  gp.set_address(addr);
  gp.set_data_ptr(data);
  gp.set_data_length(len);
  gp.set_streaming_width(len);
  return isock->transport_dbg(gp) == len;
}

uint32_t Sequencer::execute(const Program& p, uint32_t batch, uint32_t& err_addr) {
  std::vector<uint64_t> ready(batch, t_now_ps_);  // when each vector's layer input is in SRAM
  uint64_t first_output_ps = 0;
  sim::Accounting* acct = gp_.get_extension<sim::Accounting>();

  for (size_t li = 0; li < p.layers.size(); ++li) {
    const aimc_layer_t& L = p.layers[li];
    const int lid = layer_id(li);
    acct->layer = lid;
    acct->phase = sim::Phase::infer;
    acct->track = track_;
    const bool i32 = (L.flags & AIMC_LAYER_OUTPUT_I32) != 0;
    const uint32_t out_elem = i32 ? 4u : 1u;

    // ---- Functional: the layer's results for the whole batch. ----
    std::vector<uint8_t> in_bytes(static_cast<size_t>(L.in_stride) * batch);
    if (!bus_debug_read(L.in_addr, in_bytes.data(), static_cast<uint32_t>(in_bytes.size()))) {
      err_addr = L.in_addr;
      return AIMC_ERR_BAD_PROGRAM;
    }
    Eigen::MatrixXf codes(batch, L.in_features);
    for (uint32_t v = 0; v < batch; ++v)
      for (uint32_t i = 0; i < L.in_features; ++i)
        codes(v, i) = static_cast<float>(in_bytes[static_cast<size_t>(v) * L.in_stride + i]);

    std::map<uint32_t, ColumnBlock> blocks;  // by col_begin
    for (uint32_t s = L.first_slice; s < L.first_slice + L.slice_count; ++s) {
      const aimc_slice_t& S = p.slices[s];
      ColumnBlock& b = blocks[S.col_begin];
      b.col_begin = S.col_begin;
      b.col_count = S.col_count;
      b.reduce_tile = S.reduce_tile;
      b.slices.push_back(s);
    }
    Eigen::MatrixXf acc = Eigen::MatrixXf::Zero(batch, L.out_features);
    std::vector<Eigen::MatrixXf> slice_codes(p.slices.size());
    std::vector<double> array_pj_per_vector(p.slices.size(), 0.0);
    const int c_array = ledger_.component("array");
    for (uint32_t s = L.first_slice; s < L.first_slice + L.slice_count; ++s) {
      const aimc_slice_t& S = p.slices[s];
      const double array_before = ledger_.component_j(c_array);
      Eigen::MatrixXf in = codes.middleCols(S.row_begin, S.row_count);
      slice_codes[s] = tiles_[S.tile]->mvm(in, static_cast<int>(S.row_count),
                                           static_cast<int>(S.col_count), L.adc_full_scale, lid,
                                           sim::Phase::infer);
      acc.middleCols(S.col_begin, S.col_count) += slice_codes[s];
      array_pj_per_vector[s] = (ledger_.component_j(c_array) - array_before) * 1e12 / batch;
    }
    num::DigitalSpec ds{L.acc_scale, (L.flags & AIMC_LAYER_RELU) != 0, L.out_quant_scale,
                        static_cast<int>(p.hdr.dac_bits), i32};
    Eigen::MatrixXf out;
    num::digital_unit(acc, p.bias.data() + L.bias_offset, ds, out);
    for (const auto& [cb, b] : blocks) {
      const long ops = static_cast<long>(batch) * b.col_count * static_cast<long>(b.slices.size());
      ledger_.post(c_digital_, lid, sim::Phase::infer, tiles_[b.reduce_tile]->e_digital_j(ops),
                   static_cast<uint64_t>(ops));
    }

    // ---- Timing: every vector through the slices, the reduction and back to SRAM. ----
    const uint32_t psum_bytes = (static_cast<uint32_t>(cfg_.tile.adc.bits) + 7u) / 8u;
    std::vector<uint8_t> scratch(std::max<size_t>(L.in_features, 4u * L.out_features));
    std::vector<uint8_t> out_vec(static_cast<size_t>(L.out_features) * out_elem);
    // Ring of MVM start times per slice: a vector may enter the input buffer when the MVM of
    // the vector `depth` places earlier has started.
    struct SliceState {
      uint32_t depth;
      std::vector<uint64_t> mvm_start;
      uint64_t mvm_end = 0;
      uint64_t psum_end = 0;
    };
    std::vector<SliceState> st(p.slices.size());
    for (uint32_t s = L.first_slice; s < L.first_slice + L.slice_count; ++s) {
      const uint32_t depth = std::max<uint32_t>(
          1u, static_cast<uint32_t>(cfg_.tile.input_buffer_bytes) / p.slices[s].row_count);
      st[s].depth = depth;
      st[s].mvm_start.assign(depth, 0);
    }
    std::vector<uint64_t> next_ready(batch, 0);
    for (uint32_t v = 0; v < batch; ++v) {
      for (uint32_t s = L.first_slice; s < L.first_slice + L.slice_count; ++s) {
        const aimc_slice_t& S = p.slices[s];
        Tile& T = *tiles_[S.tile];
        SliceState& ss = st[s];
        const uint64_t slot_free = v >= ss.depth ? ss.mvm_start[v % ss.depth] : t_now_ps_;
        uint64_t in_end = 0;
        if (!bus_access(tlm::TLM_READ_COMMAND,
                        L.in_addr + v * L.in_stride + S.row_begin, scratch.data(), S.row_count,
                        std::max(ready[v], slot_free), in_end)) {
          err_addr = L.in_addr + v * L.in_stride + S.row_begin;
          return AIMC_ERR_BAD_PROGRAM;
        }
        const uint64_t t_mvm = T.t_mvm_ps(static_cast<int>(S.col_count));
        const uint64_t start = T.analog().reserve(in_end, t_mvm);
        ss.mvm_start[v % ss.depth] = start;
        ss.mvm_end = start + t_mvm;
        if (trace_.enabled()) {
          // The MVM and, nested in it, its three conversions. Array energy depends on the
          // vector's voltages and the cells, so the span shows the batch average.
          const double e_dac = T.e_dac_j(static_cast<int>(S.row_count)) * 1e12;
          const double e_adc = T.e_adc_j(static_cast<int>(S.col_count)) * 1e12;
          const double e_arr = array_pj_per_vector[s];
          const auto& tc = cfg_.tile;
          const uint64_t t_dac = sim::ns_to_ps(tc.dac.t_conv_ns);
          const uint64_t t_arr = sim::ns_to_ps(tc.array.t_read_ns);
          trace_.span(T.track(), "mvm", start, t_mvm,
                      {{"layer", static_cast<int>(li)}, {"vector", v},
                       {"rows", S.row_count}, {"cols", S.col_count},
                       {"energy_pj", e_dac + e_arr + e_adc}});
          trace_.span(T.track(), "dac", start, t_dac, {{"energy_pj", e_dac}});
          trace_.span(T.track(), "array", start + t_dac, t_arr,
                      {{"energy_pj_batch_mean", e_arr}});
          trace_.span(T.track(), "adc", start + t_dac + t_arr, t_mvm - t_dac - t_arr,
                      {{"energy_pj", e_adc}, {"conversions", S.col_count}});
        }
        ss.psum_end = ss.mvm_end;
        if (S.reduce_tile != S.tile) {
          // Partial sums travel as the slice's raw ADC codes, ceil(adc_bits / 8) bytes each,
          // little-endian two's complement: the reduce tile adds codes, not scaled values.
          for (uint32_t c = 0; c < S.col_count; ++c) {
            const int32_t val = static_cast<int32_t>(slice_codes[s](v, c));
            std::memcpy(scratch.data() + psum_bytes * c, &val, psum_bytes);
          }
          const Tile& R = *tiles_[S.reduce_tile];
          const uint32_t dst =
              AIMC_TILE_BASE + S.reduce_tile * AIMC_TILE_STRIDE + R.output_buffer_offset();
          if (!bus_access(tlm::TLM_WRITE_COMMAND, dst, scratch.data(), psum_bytes * S.col_count,
                          ss.mvm_end, ss.psum_end)) {
            err_addr = dst;
            return AIMC_ERR_BAD_PROGRAM;
          }
        }
      }
      uint64_t vec_done = 0;
      for (const auto& [cb, b] : blocks) {
        uint64_t arrive = 0;
        for (size_t s : b.slices) arrive = std::max(arrive, st[s].psum_end);
        Tile& R = *tiles_[b.reduce_tile];
        const long ops = static_cast<long>(b.col_count) * static_cast<long>(b.slices.size());
        const uint64_t t_dig = R.t_digital_ps(ops);
        const uint64_t dstart = R.digital().reserve(arrive, t_dig);
        if (trace_.enabled())
          trace_.span(digital_tracks_[b.reduce_tile], "digital", dstart, t_dig,
                      {{"layer", static_cast<int>(li)}, {"vector", v},
                       {"energy_pj", R.e_digital_j(ops) * 1e12}});
        for (uint32_t c = 0; c < b.col_count; ++c) {
          const float y = out(v, b.col_begin + c);
          if (i32) {
            const int32_t val = static_cast<int32_t>(y);
            std::memcpy(out_vec.data() + 4u * (b.col_begin + c), &val, 4);
          } else {
            out_vec[b.col_begin + c] = static_cast<uint8_t>(y);
          }
        }
        const uint32_t dst = L.out_addr + v * L.out_stride + b.col_begin * out_elem;
        uint64_t out_end = 0;
        if (!bus_access(tlm::TLM_WRITE_COMMAND, dst, out_vec.data() + b.col_begin * out_elem,
                        b.col_count * out_elem, dstart + t_dig, out_end)) {
          err_addr = dst;
          return AIMC_ERR_BAD_PROGRAM;
        }
        vec_done = std::max(vec_done, out_end);
      }
      next_ready[v] = vec_done;
    }
    ready.swap(next_ready);
    if (li + 1 == p.layers.size()) first_output_ps = ready[0];
  }

  const uint64_t t_end = *std::max_element(ready.begin(), ready.end());
  last_latency_ps_ = first_output_ps - t_now_ps_;
  last_duration_ps_ = t_end - t_now_ps_;
  vectors_done_ += batch;
  ++commands_done_;
  if (trace_.enabled())
    trace_.span(track_, "infer", t_now_ps_, t_end - t_now_ps_,
                {{"batch", batch}, {"first_output_ns", last_latency_ps_ / 1000.0}});
  sc_core::wait(sim::ps_to_time(t_end - t_now_ps_));
  for (Tile* t : tiles_) {
    t->analog().forget_before(t_end);
    t->digital().forget_before(t_end);
  }
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
