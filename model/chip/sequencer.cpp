#include "chip/sequencer.h"

#include <algorithm>
#include <array>
#include <cstdio>
#include <cmath>
#include <cstring>
#include <map>

#include "aimc_regs.h"
#include "compiler/program_rules.h"
#include "numerics/converters.h"
#include "numerics/digital_ops.h"
#include "sim/accounting.h"

namespace aimc::chip {

namespace {
constexpr uint32_t kSeqMemBase = AIMC_SEQ_MEM_BASE;
constexpr uint32_t kSeqMemSize = AIMC_SEQ_MEM_SIZE;
constexpr uint32_t kSramBase = AIMC_SRAM_BASE;

const char* kind_name(uint32_t kind) {
  switch (kind) {
    case AIMC_OP_MAXPOOL: return "maxpool";
    case AIMC_OP_AVGPOOL: return "avgpool";
    case AIMC_OP_ADD: return "add";
    case AIMC_OP_CONCAT: return "concat";
    case AIMC_OP_SOFTMAX: return "softmax";
    case AIMC_OP_DWCONV: return "dwconv";
    default: return "mvm";
  }
}
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
  if (h.magic != AIMC_PROGRAM_MAGIC || h.layer_count == 0 || h.layer_count > 4096 ||
      h.slice_count > 65536 || h.bias_count > (1u << 24))
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
  if (h.slice_count) std::memcpy(p.slices.data(), q, h.slice_count * sizeof(aimc_slice_t));
  q += h.slice_count * sizeof(aimc_slice_t);
  p.bias.resize(h.bias_count);
  if (h.bias_count) std::memcpy(p.bias.data(), q, h.bias_count * sizeof(float));
  // Numbers the arithmetic cannot turn into codes (a non-finite table value here, NaN, infinite
  // or non-positive scales per op below) are refused before anything runs, as the image reader
  // (compiler/image.cpp) refuses them: a NaN has no output code.
  if (program::first_non_finite(p.bias.data(), h.bias_count) != h.bias_count) return AIMC_ERR_BAD_PROGRAM;

  if (batch == 0 || batch > h.max_batch) {
    err_addr = batch;
    return AIMC_ERR_BAD_BATCH;
  }
  const uint64_t sram_end = kSramBase + static_cast<uint64_t>(cfg_.sram.size_kib) * 1024u;
  auto in_sram = [&](uint32_t addr, uint64_t stride, uint64_t elem_bytes) {
    return addr >= kSramBase && stride >= elem_bytes &&
           addr + stride * (batch - 1) + elem_bytes <= sram_end;
  };
  const uint32_t code_max = (1u << h.dac_bits) - 1;
  for (size_t li = 0; li < p.layers.size(); ++li) {
    const aimc_layer_t& L = p.layers[li];
    const bool i32 = (L.flags & AIMC_LAYER_OUTPUT_I32) != 0;
    err_addr = static_cast<uint32_t>(li);
    const uint64_t in_elems = static_cast<uint64_t>(L.in_h) * L.in_w * L.in_c;
    const uint64_t out_elems = static_cast<uint64_t>(L.out_h) * L.out_w * L.out_pixel_channels;
    if (L.kind > AIMC_OP_DWCONV || !L.in_h || !L.in_w || !L.in_c || !L.out_h || !L.out_w || !L.out_c ||
        L.out_c_offset + static_cast<uint64_t>(L.out_c) > L.out_pixel_channels ||
        program::layer_number_problem(L) != nullptr || L.in_zero > code_max ||
        L.out_zero > code_max || L.in2_zero > code_max || L.unit >= tiles_.size())
      return AIMC_ERR_BAD_PROGRAM;
    if (i32 && L.out_addr != h.out_addr) return AIMC_ERR_BAD_PROGRAM;
    if (!in_sram(L.in_addr, L.in_stride, in_elems) ||
        !in_sram(L.out_addr, L.out_stride, out_elems * (i32 ? 4 : 1)))
      return AIMC_ERR_BAD_PROGRAM;
    if (L.kind == AIMC_OP_ADD && !in_sram(L.in2_addr, L.in2_stride, in_elems)) return AIMC_ERR_BAD_PROGRAM;
    const bool windowed = L.kind == AIMC_OP_MVM || L.kind == AIMC_OP_MAXPOOL ||
                          L.kind == AIMC_OP_AVGPOOL || L.kind == AIMC_OP_DWCONV;
    if (windowed) {
      if (!L.kh || !L.kw || !L.stride_h || !L.stride_w ||
          static_cast<uint64_t>(L.in_h) + L.pad_t + L.pad_b < L.kh ||
          static_cast<uint64_t>(L.in_w) + L.pad_l + L.pad_r < L.kw ||
          (L.in_h + L.pad_t + L.pad_b - L.kh) / L.stride_h + 1 != L.out_h ||
          (L.in_w + L.pad_l + L.pad_r - L.kw) / L.stride_w + 1 != L.out_w)
        return AIMC_ERR_BAD_PROGRAM;
    } else if (L.out_h != L.in_h || L.out_w != L.in_w) {
      return AIMC_ERR_BAD_PROGRAM;
    }
    if (L.kind == AIMC_OP_DWCONV &&
        (L.groups != L.in_c || L.out_c != L.in_c ||
         L.bias_offset + static_cast<uint64_t>(L.out_c) > p.bias.size() ||
         L.weight_offset + static_cast<uint64_t>(L.kh) * L.kw * L.out_c > p.bias.size()))
      return AIMC_ERR_BAD_PROGRAM;
    if (L.kind != AIMC_OP_MVM) {
      if (L.slice_count != 0 || L.replicas > 1) return AIMC_ERR_BAD_PROGRAM;
      if (L.kind != AIMC_OP_CONCAT && L.kind != AIMC_OP_DWCONV && L.out_c != L.in_c) return AIMC_ERR_BAD_PROGRAM;
      if (L.kind == AIMC_OP_CONCAT && L.out_c != L.in_c) return AIMC_ERR_BAD_PROGRAM;
      if (L.kind == AIMC_OP_SOFTMAX && (L.in_h != 1 || L.in_w != 1)) return AIMC_ERR_BAD_PROGRAM;
      continue;
    }
    if (!L.groups || L.in_c % L.groups || L.out_c % L.groups ||
        L.in_features != static_cast<uint64_t>(L.kh) * L.kw * L.in_c || L.out_features != L.out_c ||
        L.slice_count == 0 || static_cast<uint64_t>(L.first_slice) + L.slice_count > p.slices.size() ||
        L.bias_offset + static_cast<uint64_t>(L.out_c) > p.bias.size())
      return AIMC_ERR_BAD_PROGRAM;
    // Per copy of the weights: every output column in exactly one column block whose slices
    // cover the rows of its groups.
    const uint32_t copies = std::max(1u, L.replicas);
    if (L.slice_count % copies != 0) return AIMC_ERR_BAD_PROGRAM;
    const uint32_t rows_g = L.in_features / L.groups, cols_g = L.out_c / L.groups;
    for (uint32_t copy = 0; copy < copies; ++copy) {
      const uint32_t first = L.first_slice + copy * (L.slice_count / copies);
      std::vector<uint32_t> cover(L.out_features, 0);
      std::map<uint32_t, std::pair<uint32_t, uint32_t>> row_span;  // col_begin -> (first row, rows)
      for (uint32_t s = first; s < first + L.slice_count / copies; ++s) {
        const aimc_slice_t& S = p.slices[s];
        if (S.tile >= tiles_.size() || S.reduce_tile >= tiles_.size()) {
          err_addr = S.tile;
          return AIMC_ERR_BAD_TILE;
        }
        if (S.row_count == 0 || S.col_count == 0 ||
            static_cast<uint64_t>(S.row_begin) + S.row_count > L.in_features ||
            static_cast<uint64_t>(S.col_begin) + S.col_count > L.out_features)
          return AIMC_ERR_BAD_PROGRAM;
        const Tile& T = *tiles_[S.tile];
        if (!T.programmed()) {
          err_addr = S.tile;
          return AIMC_ERR_NOT_PROGRAMMED;
        }
        if (static_cast<uint64_t>(S.tile_row) + S.row_count > static_cast<uint32_t>(T.rows_used()) ||
            static_cast<uint64_t>(S.tile_col) + S.col_count > static_cast<uint32_t>(T.cols_used())) {
          err_addr = S.tile;
          return AIMC_ERR_BAD_PROGRAM;
        }
        auto& span = row_span[S.col_begin];
        if (span.second == 0 || S.row_begin < span.first) span.first = S.row_begin;
        span.second += S.row_count;
        if (S.row_begin == span.first || span.second == S.row_count)
          for (uint32_t c = S.col_begin; c < S.col_begin + S.col_count; ++c) ++cover[c];
      }
      for (const auto& [cb, span] : row_span) {
        const uint32_t g0 = cb / cols_g;
        if (span.first > g0 * rows_g || span.first + span.second < (g0 + 1) * rows_g) return AIMC_ERR_BAD_PROGRAM;
      }
      for (uint32_t c = 0; c < L.out_features; ++c)
        if (cover[c] == 0) return AIMC_ERR_BAD_PROGRAM;
    }
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

bool Sequencer::bus_debug_write(uint32_t addr, uint8_t* data, uint32_t len) {
  tlm::tlm_generic_payload gp;
  gp.set_command(tlm::TLM_WRITE_COMMAND);
  gp.set_address(addr);
  gp.set_data_ptr(data);
  gp.set_data_length(len);
  gp.set_streaming_width(len);
  return isock->transport_dbg(gp) == len;
}

uint32_t Sequencer::execute(const Program& p, uint32_t batch, uint32_t& err_addr) {
  sim::Accounting* acct = gp_.get_extension<sim::Accounting>();
  // When each image's map at an address is complete in SRAM (written by this command); maps
  // written before the command (the input, earlier segments) are ready at the start.
  std::map<uint32_t, std::vector<uint64_t>> ready;
  auto ready_at = [&](uint32_t addr) -> const std::vector<uint64_t>& {
    auto it = ready.find(addr);
    if (it == ready.end()) it = ready.emplace(addr, std::vector<uint64_t>(batch, t_now_ps_)).first;
    return it->second;
  };
  const uint32_t psum_bytes = (static_cast<uint32_t>(cfg_.tile.adc.bits) + 7u) / 8u;
  std::vector<uint8_t> scratch;
  auto fail = [&](uint32_t addr) {
    err_addr = addr;
    return AIMC_ERR_BAD_PROGRAM;
  };
  // A timed read of `len` bytes of the image's map at base (len may exceed the map: an im2col
  // gather reads overlapping windows; it is split into reads that stay inside the map).
  auto timed_read = [&](uint32_t base, uint32_t map_bytes, uint64_t len, uint64_t earliest,
                        uint64_t& end) -> bool {
    end = earliest;
    while (len > 0) {
      const uint32_t n = static_cast<uint32_t>(std::min<uint64_t>(len, map_bytes));
      if (scratch.size() < n) scratch.resize(n);
      uint64_t e = 0;
      if (!bus_access(tlm::TLM_READ_COMMAND, base, scratch.data(), n, end, e)) return false;
      end = e;
      len -= n;
    }
    return true;
  };

  for (size_t li = 0; li < p.layers.size(); ++li) {
    const aimc_layer_t& L = p.layers[li];
    const int lid = layer_id(li);
    acct->layer = lid;
    acct->phase = sim::Phase::infer;
    acct->track = track_;
    const bool i32 = (L.flags & AIMC_LAYER_OUTPUT_I32) != 0;
    const uint32_t out_elem = i32 ? 4u : 1u;
    const num::MapShape in_shape{static_cast<int>(L.in_h), static_cast<int>(L.in_w), static_cast<int>(L.in_c)};
    num::Window win;
    win.kh = static_cast<int>(L.kh), win.kw = static_cast<int>(L.kw);
    win.stride_h = static_cast<int>(L.stride_h), win.stride_w = static_cast<int>(L.stride_w);
    win.pad_t = static_cast<int>(L.pad_t), win.pad_l = static_cast<int>(L.pad_l);
    win.pad_b = static_cast<int>(L.pad_b), win.pad_r = static_cast<int>(L.pad_r);
    num::Requant rq;
    rq.scale = L.out_quant_scale;
    rq.zero = static_cast<int>(L.out_zero);
    rq.bits = static_cast<int>(p.hdr.dac_bits);
    rq.int32 = i32;
    rq.act_min = (L.flags & AIMC_LAYER_RELU) ? std::max(0.0f, L.act_min) : L.act_min;
    rq.act_max = L.act_max;
    const uint32_t in_map_bytes = static_cast<uint32_t>(in_shape.size());
    const long positions = static_cast<long>(L.out_h) * L.out_w;

    // ---- Functional: the op's results for the whole batch. ----
    auto read_maps = [&](uint32_t addr, uint32_t stride, num::Maps& m) {
      std::vector<uint8_t> bytes(static_cast<size_t>(stride) * batch);
      if (!bus_debug_read(addr, bytes.data(), static_cast<uint32_t>(bytes.size()))) return false;
      m.resize(batch, in_shape.size());
      for (uint32_t v = 0; v < batch; ++v)
        for (long i = 0; i < in_shape.size(); ++i)
          m(v, i) = static_cast<float>(bytes[static_cast<size_t>(v) * stride + static_cast<size_t>(i)]);
      return true;
    };
    num::Maps in;
    if (!read_maps(L.in_addr, L.in_stride, in)) return fail(L.in_addr);
    num::Maps out;  // batch x positions * out_c
    std::vector<double> array_pj_per_position(p.slices.size(), 0.0);
    struct Block {
      uint32_t col_begin = 0, col_count = 0, reduce_tile = 0;
      std::vector<size_t> slices;
    };
    std::map<std::pair<uint32_t, uint32_t>, Block> blocks;  // (copy, col_begin) -> column block
    // MVM: chunks of output positions (as many patches as half the input buffer holds); with
    // copies of the weights (replicas), chunk g of the batch (image after image) runs on copy
    // g mod replicas.
    const uint32_t copies = L.kind == AIMC_OP_MVM ? std::max(1u, L.replicas) : 1u;
    const uint32_t per_copy = L.slice_count / copies;
    uint32_t max_rows = 1;
    for (uint32_t s = L.first_slice; s < L.first_slice + L.slice_count; ++s)
      max_rows = std::max(max_rows, p.slices[s].row_count);
    const long chunk = std::max<long>(1, static_cast<long>(cfg_.tile.input_buffer_bytes) / 2 / max_rows);
    const long chunks_per_image = (positions + chunk - 1) / chunk;
    auto copy_of = [&](uint32_t v, long q) {
      return static_cast<uint32_t>((static_cast<long>(v) * chunks_per_image + q / chunk) % copies);
    };
    long digital_ops_per_position = 0;  // digital ops: element operations per output pixel
    if (L.kind == AIMC_OP_MVM) {
      const num::Maps patches = num::im2col(in, in_shape, win, static_cast<int>(L.groups),
                                            static_cast<float>(L.in_zero));
      Eigen::MatrixXf acc = Eigen::MatrixXf::Zero(patches.rows(), L.out_features);
      const int c_array = ledger_.component("array");
      // The patch rows (image v, position q: row v * positions + q) each copy computes.
      std::vector<std::vector<Eigen::Index>> rows_of(copies);
      for (uint32_t v = 0; v < batch; ++v)
        for (long q = 0; q < positions; ++q) rows_of[copy_of(v, q)].push_back(static_cast<Eigen::Index>(v) * positions + q);
      for (uint32_t copy = 0; copy < copies; ++copy) {
        const auto& rows = rows_of[copy];
        if (rows.empty()) continue;
        num::Maps mine;  // this copy's patches (all of them without copies)
        if (copies > 1) {
          mine.resize(static_cast<Eigen::Index>(rows.size()), patches.cols());
          for (size_t i = 0; i < rows.size(); ++i) mine.row(static_cast<Eigen::Index>(i)) = patches.row(rows[i]);
        }
        const num::Maps& px = copies > 1 ? mine : patches;
        for (uint32_t s = L.first_slice + copy * per_copy; s < L.first_slice + (copy + 1) * per_copy; ++s) {
          const aimc_slice_t& S = p.slices[s];
          Block& b = blocks[{copy, S.col_begin}];
          b.col_begin = S.col_begin;
          b.col_count = S.col_count;
          b.reduce_tile = S.reduce_tile;
          b.slices.push_back(s);
          const double array_before = ledger_.component_j(c_array);
          const Eigen::MatrixXf x = px.middleCols(S.row_begin, S.row_count);
          const Eigen::MatrixXf y = tiles_[S.tile]->mvm(
              x, static_cast<int>(S.row_count), static_cast<int>(S.col_count), L.adc_full_scale, lid,
              sim::Phase::infer, static_cast<int>(S.tile_row), static_cast<int>(S.tile_col));
          if (copies > 1) {
            for (size_t i = 0; i < rows.size(); ++i)
              acc.row(rows[i]).segment(S.col_begin, S.col_count) += y.row(static_cast<Eigen::Index>(i));
          } else {
            acc.middleCols(S.col_begin, S.col_count) += y;
          }
          array_pj_per_position[s] =
              (ledger_.component_j(c_array) - array_before) * 1e12 / static_cast<double>(px.rows());
        }
      }
      num::DigitalSpec ds{L.acc_scale, (L.flags & AIMC_LAYER_RELU) != 0, L.out_quant_scale,
                          static_cast<int>(p.hdr.dac_bits), i32};
      ds.out_zero = static_cast<int>(L.out_zero);
      ds.act_min = L.act_min;
      ds.act_max = L.act_max;
      Eigen::MatrixXf o;
      num::digital_unit(acc, p.bias.data() + L.bias_offset, ds, o);
      out.resize(batch, positions * L.out_c);
      for (uint32_t v = 0; v < batch; ++v)
        for (long q = 0; q < positions; ++q)
          for (uint32_t c = 0; c < L.out_c; ++c) out(v, q * L.out_c + c) = o(v * positions + q, c);
      for (const auto& [key, b] : blocks) {
        const long ops = static_cast<long>(rows_of[key.first].size()) * b.col_count * static_cast<long>(b.slices.size());
        ledger_.post(c_digital_, lid, sim::Phase::infer, tiles_[b.reduce_tile]->e_digital_j(ops),
                     static_cast<uint64_t>(ops));
      }
    } else {
      switch (L.kind) {
        case AIMC_OP_MAXPOOL:
          out = num::max_pool(in, in_shape, win);
          digital_ops_per_position = static_cast<long>(L.out_c) * L.kh * L.kw;
          break;
        case AIMC_OP_AVGPOOL:
          out = num::avg_pool(in, in_shape, win, (L.flags & AIMC_LAYER_COUNT_PAD) != 0, L.in_scale,
                              static_cast<int>(L.in_zero), rq);
          digital_ops_per_position = static_cast<long>(L.out_c) * (L.kh * L.kw + 1);
          break;
        case AIMC_OP_ADD: {
          num::Maps in2;
          if (!read_maps(L.in2_addr, L.in2_stride, in2)) return fail(L.in2_addr);
          out = num::add(in, L.in_scale, static_cast<int>(L.in_zero), in2, L.in2_scale,
                         static_cast<int>(L.in2_zero), rq);
          digital_ops_per_position = static_cast<long>(L.out_c) * 3;  // two rescales and an add
          break;
        }
        case AIMC_OP_CONCAT:
          out = num::requantize_codes(in, L.in_scale, static_cast<int>(L.in_zero), rq);
          digital_ops_per_position = static_cast<long>(L.out_c);
          break;
        case AIMC_OP_SOFTMAX:
          out = num::softmax(in, L.in_scale, static_cast<int>(L.in_zero), rq);
          digital_ops_per_position = static_cast<long>(L.out_c) * 4;  // exp, sum, divide, requantize
          break;
        case AIMC_OP_DWCONV:
          out = num::depthwise_conv(in, in_shape, win, static_cast<int>(L.in_zero),
                                    p.bias.data() + L.weight_offset, L.acc_scale,
                                    p.bias.data() + L.bias_offset, rq);
          digital_ops_per_position = static_cast<long>(L.out_c) * (L.kh * L.kw + 1);
          break;
        default: return fail(static_cast<uint32_t>(li));
      }
      const long ops = static_cast<long>(batch) * positions * digital_ops_per_position;
      ledger_.post(c_digital_, lid, sim::Phase::infer, tiles_[L.unit]->e_digital_j(ops),
                   static_cast<uint64_t>(ops));
    }

    // Output bytes of image v, positions [q0, q0 + n): contiguous unless the op writes a channel
    // range of wider pixels (CONCAT), then one write per pixel.
    std::vector<uint8_t> out_bytes;
    auto write_output = [&](uint32_t v, long q0, long n, uint64_t earliest, uint64_t& end) -> bool {
      end = earliest;
      const bool contiguous = L.out_c_offset == 0 && L.out_pixel_channels == L.out_c;
      const long pix_bytes = static_cast<long>(L.out_c) * out_elem;
      out_bytes.resize(static_cast<size_t>(n * pix_bytes));
      for (long q = 0; q < n; ++q)
        for (uint32_t c = 0; c < L.out_c; ++c) {
          const float y = out(v, (q0 + q) * L.out_c + c);
          if (i32) {
            const int32_t val = static_cast<int32_t>(y);
            std::memcpy(out_bytes.data() + (q * L.out_c + c) * 4, &val, 4);
          } else {
            out_bytes[static_cast<size_t>(q * L.out_c + c)] = static_cast<uint8_t>(y);
          }
        }
      const uint32_t base = L.out_addr + v * L.out_stride;
      if (contiguous) {
        return bus_access(tlm::TLM_WRITE_COMMAND, base + static_cast<uint32_t>(q0 * pix_bytes),
                          out_bytes.data(), static_cast<uint32_t>(n * pix_bytes), earliest, end);
      }
      for (long q = 0; q < n; ++q) {
        uint64_t e = 0;
        const uint32_t addr = base + static_cast<uint32_t>(((q0 + q) * L.out_pixel_channels + L.out_c_offset) * out_elem);
        if (!bus_access(tlm::TLM_WRITE_COMMAND, addr, out_bytes.data() + q * pix_bytes,
                        static_cast<uint32_t>(pix_bytes), earliest, e))
          return false;
        end = std::max(end, e);
      }
      return true;
    };

    // ---- Timing: every image through the op, chunk by chunk. ----
    const std::vector<uint64_t> in_ready = ready_at(L.in_addr);
    const std::vector<uint64_t> in2_ready =
        L.kind == AIMC_OP_ADD ? ready_at(L.in2_addr) : std::vector<uint64_t>(batch, t_now_ps_);
    std::vector<uint64_t> done(batch, t_now_ps_);
    if (L.kind == AIMC_OP_MVM) {
      const auto& tc = cfg_.tile;
      // Per slice: the MVM start of its last two chunks, and how many chunks it has taken.
      std::map<size_t, std::array<uint64_t, 2>> slot;
      std::map<size_t, long> taken;
      for (uint32_t v = 0; v < batch; ++v) {
        const uint64_t earliest = std::max(in_ready[v], in2_ready[v]);
        for (long q0 = 0; q0 < positions; q0 += chunk) {
          const long n = std::min(chunk, positions - q0);
          const uint32_t copy = copy_of(v, q0);
          std::map<size_t, uint64_t> psum_end;
          for (uint32_t s = L.first_slice + copy * per_copy; s < L.first_slice + (copy + 1) * per_copy; ++s) {
            const aimc_slice_t& S = p.slices[s];
            Tile& T = *tiles_[S.tile];
            auto& ring = slot.try_emplace(s, std::array<uint64_t, 2>{t_now_ps_, t_now_ps_}).first->second;
            const long k = taken[s]++;
            uint64_t in_end = 0;
            if (!timed_read(L.in_addr + v * L.in_stride, in_map_bytes,
                            static_cast<uint64_t>(n) * S.row_count, std::max(earliest, ring[k % 2]), in_end))
              return fail(L.in_addr + v * L.in_stride);
            const uint64_t t_mvm = T.t_mvm_ps(static_cast<int>(S.col_count));
            const uint64_t start = T.analog().reserve(in_end, t_mvm * static_cast<uint64_t>(n));
            ring[k % 2] = start;
            const uint64_t mvm_end = start + t_mvm * static_cast<uint64_t>(n);
            if (trace_.enabled()) {
              const double e_dac = T.e_dac_j(static_cast<int>(S.row_count)) * 1e12;
              const double e_adc = T.e_adc_j(static_cast<int>(S.col_count)) * 1e12;
              const double e_arr = array_pj_per_position[s];
              const uint64_t t_dac = sim::ns_to_ps(tc.dac.t_conv_ns);
              const uint64_t t_arr = sim::ns_to_ps(tc.array.t_read_ns);
              trace_.span(T.track(), "mvm", start, t_mvm * static_cast<uint64_t>(n),
                          {{"layer", static_cast<int>(li)}, {"vector", v}, {"positions", n},
                           {"first_position", q0}, {"rows", S.row_count}, {"cols", S.col_count},
                           {"energy_pj", n * (e_dac + e_arr + e_adc)}});
              if (n == 1) {  // the conversions of a single MVM
                trace_.span(T.track(), "dac", start, t_dac, {{"energy_pj", e_dac}});
                trace_.span(T.track(), "array", start + t_dac, t_arr, {{"energy_pj_batch_mean", e_arr}});
                trace_.span(T.track(), "adc", start + t_dac + t_arr, t_mvm - t_dac - t_arr,
                            {{"energy_pj", e_adc}, {"conversions", S.col_count}});
              }
            }
            uint64_t pend = mvm_end;
            if (S.reduce_tile != S.tile) {
              // Partial sums travel as the slice's raw ADC codes, ceil(adc_bits / 8) bytes each;
              // the reduce tile adds codes, not scaled values. Timing only: the functional sum
              // was formed above.
              const Tile& R = *tiles_[S.reduce_tile];
              const uint32_t dst = AIMC_TILE_BASE + S.reduce_tile * AIMC_TILE_STRIDE + R.output_buffer_offset();
              const uint64_t total = static_cast<uint64_t>(n) * S.col_count * psum_bytes;
              const uint64_t piece_max = std::max<uint64_t>(psum_bytes, static_cast<uint64_t>(cfg_.tile.output_buffer_bytes));
              uint64_t left = total, t = mvm_end;
              while (left > 0) {
                const uint32_t len = static_cast<uint32_t>(std::min(left, piece_max));
                if (scratch.size() < len) scratch.resize(len);
                std::fill(scratch.begin(), scratch.begin() + len, 0);
                uint64_t e = 0;
                if (!bus_access(tlm::TLM_WRITE_COMMAND, dst, scratch.data(), len, t, e)) return fail(dst);
                t = e;
                left -= len;
              }
              pend = t;
            }
            psum_end[s] = pend;
          }
          uint64_t dig_end = 0;
          for (const auto& [key, b] : blocks) {
            if (key.first != copy) continue;
            uint64_t arrive = 0;
            for (size_t s : b.slices) arrive = std::max(arrive, psum_end[s]);
            Tile& R = *tiles_[b.reduce_tile];
            const long ops = n * static_cast<long>(b.col_count) * static_cast<long>(b.slices.size());
            const uint64_t t_dig = R.t_digital_ps(ops);
            const uint64_t dstart = R.digital().reserve(arrive, t_dig);
            if (trace_.enabled())
              trace_.span(digital_tracks_[b.reduce_tile], "digital", dstart, t_dig,
                          {{"layer", static_cast<int>(li)}, {"vector", v}, {"positions", n},
                           {"energy_pj", R.e_digital_j(ops) * 1e12}});
            dig_end = std::max(dig_end, dstart + t_dig);
          }
          uint64_t out_end = 0;
          if (!write_output(v, q0, n, dig_end, out_end)) return fail(L.out_addr + v * L.out_stride);
          done[v] = std::max(done[v], out_end);
        }
      }
    } else {
      Tile& U = *tiles_[L.unit];
      const long pix_out_bytes = static_cast<long>(L.out_c) * out_elem;
      const long chunk = std::max<long>(1, static_cast<long>(cfg_.tile.output_buffer_bytes) / pix_out_bytes);
      for (uint32_t v = 0; v < batch; ++v) {
        const uint64_t earliest = std::max(in_ready[v], in2_ready[v]);
        for (long q0 = 0; q0 < positions; q0 += chunk) {
          const long n = std::min(chunk, positions - q0);
          // The chunk's share of the input map (windows overlap; the share is what is new).
          const uint64_t in_len = std::max<uint64_t>(1, static_cast<uint64_t>(in_map_bytes) * n / positions);
          uint64_t in_end = 0;
          if (!timed_read(L.in_addr + v * L.in_stride, in_map_bytes, in_len, earliest, in_end))
            return fail(L.in_addr);
          if (L.kind == AIMC_OP_ADD) {
            uint64_t e2 = 0;
            if (!timed_read(L.in2_addr + v * L.in2_stride, in_map_bytes, in_len, earliest, e2))
              return fail(L.in2_addr);
            in_end = std::max(in_end, e2);
          }
          const long ops = n * digital_ops_per_position;
          const uint64_t t_dig = U.t_digital_ps(ops);
          const uint64_t dstart = U.digital().reserve(in_end, t_dig);
          if (trace_.enabled())
            trace_.span(digital_tracks_[L.unit], kind_name(L.kind), dstart, t_dig,
                        {{"layer", static_cast<int>(li)}, {"vector", v}, {"positions", n},
                         {"energy_pj", U.e_digital_j(ops) * 1e12}});
          uint64_t out_end = 0;
          if (!write_output(v, q0, n, dstart + t_dig, out_end)) return fail(L.out_addr + v * L.out_stride);
          done[v] = std::max(done[v], out_end);
        }
      }
    }
    auto& r = ready[L.out_addr];
    if (r.size() != batch) r.assign(batch, t_now_ps_);
    for (uint32_t v = 0; v < batch; ++v) r[v] = std::max(r[v], done[v]);
  }

  uint64_t t_end = t_now_ps_;
  for (const auto& [addr, r] : ready) t_end = std::max(t_end, *std::max_element(r.begin(), r.end()));
  const auto out_it = ready.find(p.hdr.out_addr);
  const uint64_t first_output_ps = out_it != ready.end() ? out_it->second[0] : t_end;
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
