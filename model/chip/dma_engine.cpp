#include "chip/dma_engine.h"

#include <algorithm>

#include "aimc_regs.h"
#include "sim/accounting.h"
#include "sim/payload.h"

namespace aimc::chip {

using regs::Reg;

DmaEngine::DmaEngine(HostContext& ctx, EngineListener& listener, tlm::tlm_initiator_socket<>& bus,
                     tlm::tlm_initiator_socket<>& host)
    : ctx_(ctx), listener_(listener), bus_(bus), host_(host), buf_(kBeatBytes) {
  // DMA_HOST_ADDR, DMA_DEV_ADDR, DMA_LEN, DMA_CTRL and DMA_DESC_ADDR are plain storage that a
  // start reads; DMA_STATUS and DMA_DESC_DONE are set by the engine.
  ctx_.regs.on_write(Reg::DMA_START, [this](uint32_t v, RegAccess& a) { start(v, a); });
}

void DmaEngine::set_state(uint32_t state) { ctx_.regs.set(Reg::DMA_STATUS, state); }

void DmaEngine::start(uint32_t value, RegAccess& a) {
  if (!(value & 1u)) return;
  if (busy_) return a.refuse(AIMC_ERR_BUSY);
  busy_ = true;
  set_state(AIMC_STATE_BUSY);
  start_.notify(sim::ps_to_time(a.delay_ps));
}

bool DmaEngine::probe(tlm::tlm_initiator_socket<>& sock, uint32_t addr, uint64_t len) {
  // Debug reads of the range tell whether every byte is backed by memory, without time, energy or
  // side effects: nothing moves unless both ends are valid. They go in pieces of one scratch
  // buffer, last byte first (a length beyond the memory fails at once), so the memory a probe
  // takes does not grow with the length a register asked for.
  if (len == 0 || addr + len > 0x100000000ull) return false;
  uint8_t scratch[kProbeBytes];
  auto backed = [&](uint64_t a, uint64_t n) {
    tlm::tlm_generic_payload gp;
    sim::set_plain(gp, tlm::TLM_READ_COMMAND, a, scratch, static_cast<unsigned>(n));
    return sock->transport_dbg(gp) == n;
  };
  if (!backed(addr + len - 1, 1)) return false;
  for (uint64_t a = addr; a < addr + len; a += kProbeBytes)
    if (!backed(a, std::min<uint64_t>(kProbeBytes, addr + len - a))) return false;
  return true;
}

uint32_t DmaEngine::check_move(const Move& m, uint32_t& err_addr) {
  err_addr = m.host_addr;
  if (m.row_bytes == 0 || m.rows == 0) return AIMC_ERR_BAD_DESCRIPTOR;
  if (m.rows > 1 && (m.host_stride < m.row_bytes || m.dev_stride < m.row_bytes))
    return AIMC_ERR_BAD_DESCRIPTOR;  // rows would overlap
  const uint64_t host_span = static_cast<uint64_t>(m.rows - 1) * m.host_stride + m.row_bytes;
  const uint64_t dev_span = static_cast<uint64_t>(m.rows - 1) * m.dev_stride + m.row_bytes;
  if (m.host_addr + host_span > 0x100000000ull || m.dev_addr + dev_span > 0x100000000ull)
    return AIMC_ERR_BAD_DESCRIPTOR;  // wraps the 32-bit address space
  for (uint32_t r = 0; r < m.rows; ++r) {
    if (!probe(host_, m.host_addr + r * m.host_stride, m.row_bytes)) {
      err_addr = m.host_addr + r * m.host_stride;
      return AIMC_ERR_DMA_FAULT;
    }
    if (!probe(bus_, m.dev_addr + r * m.dev_stride, m.row_bytes)) {
      err_addr = m.dev_addr + r * m.dev_stride;
      return AIMC_ERR_DMA_FAULT;
    }
  }
  return AIMC_ERR_NONE;
}

uint32_t DmaEngine::do_move(const Move& m, uint64_t& t_ps, uint32_t& err_addr,
                            std::vector<uint8_t>& buf) {
  tlm::tlm_generic_payload gp;
  gp.set_extension(new sim::Accounting(sim::EnergyLedger::kNoLayer, ctx_.ledger.phase(), ctx_.track));
  auto& src = m.to_host ? bus_ : host_;
  auto& dst = m.to_host ? host_ : bus_;
  const uint64_t now = sim::to_ps(sc_core::sc_time_stamp());
  // Beats are read and written in a pipeline: the source side may read beat k+1 while the
  // destination side writes beat k.
  uint64_t read_at = t_ps, write_free = t_ps;
  for (uint32_t r = 0; r < m.rows; ++r) {
    const uint32_t src_row = (m.to_host ? m.dev_addr : m.host_addr) +
                             r * (m.to_host ? m.dev_stride : m.host_stride);
    const uint32_t dst_row = (m.to_host ? m.host_addr : m.dev_addr) +
                             r * (m.to_host ? m.host_stride : m.dev_stride);
    for (uint32_t done = 0; done < m.row_bytes;) {
      const uint32_t n = std::min<uint32_t>(static_cast<uint32_t>(buf.size()), m.row_bytes - done);
      for (int leg = 0; leg < 2; ++leg) {
        auto& sock = leg == 0 ? src : dst;
        const uint32_t a = (leg == 0 ? src_row : dst_row) + done;
        sim::set_plain(gp, leg == 0 ? tlm::TLM_READ_COMMAND : tlm::TLM_WRITE_COMMAND, a, buf.data(), n);
        const uint64_t at = leg == 0 ? read_at : std::max(read_at, write_free);
        sc_core::sc_time delay = sim::ps_to_time(at - now);
        sock->b_transport(gp, delay);
        if (!gp.is_response_ok()) {
          err_addr = a;
          t_ps = std::max(read_at, write_free);
          return AIMC_ERR_DMA_FAULT;
        }
        const uint64_t end = now + sim::to_ps(delay);
        if (leg == 0) read_at = end;
        else write_free = end;
      }
      done += n;
    }
  }
  t_ps = std::max(read_at, write_free);
  return AIMC_ERR_NONE;
}

bool DmaEngine::host_access(tlm::tlm_command cmd, uint32_t addr, void* data, uint32_t len,
                            uint64_t& t_ps) {
  tlm::tlm_generic_payload gp;
  gp.set_extension(new sim::Accounting(sim::EnergyLedger::kNoLayer, ctx_.ledger.phase(), ctx_.track));
  sim::set_plain(gp, cmd, addr, data, len);
  const uint64_t now = sim::to_ps(sc_core::sc_time_stamp());
  sc_core::sc_time delay = sim::ps_to_time(t_ps - now);
  host_->b_transport(gp, delay);
  t_ps = now + sim::to_ps(delay);
  return gp.is_response_ok();
}

bool DmaEngine::read_desc(uint32_t addr, aimc_dma_desc_t& d) {
  tlm::tlm_generic_payload gp;
  sim::set_plain(gp, tlm::TLM_READ_COMMAND, addr, &d, sizeof d);
  return host_->transport_dbg(gp) == sizeof d;
}

uint32_t DmaEngine::run_chain(uint32_t first, uint64_t& t_ps, uint32_t& err_addr, uint32_t& done) {
  // Check the whole chain first: nothing moves if any descriptor is malformed or out of range.
  std::vector<Move> moves;
  for (uint32_t a = first;;) {
    aimc_dma_desc_t d{};
    err_addr = a;
    if (a % 4 != 0 || moves.size() >= AIMC_DMA_MAX_CHAIN) return AIMC_ERR_BAD_DESCRIPTOR;
    if (!read_desc(a, d)) return AIMC_ERR_DMA_FAULT;
    if (d.flags & ~AIMC_DMA_DESC_DIR_TO_HOST) return AIMC_ERR_BAD_DESCRIPTOR;
    Move m;
    m.to_host = (d.flags & AIMC_DMA_DESC_DIR_TO_HOST) != 0;
    m.host_addr = d.host_addr;
    m.dev_addr = d.dev_addr;
    m.row_bytes = d.row_bytes;
    m.rows = d.rows;
    m.host_stride = d.host_stride;
    m.dev_stride = d.dev_stride;
    uint32_t e = check_move(m, err_addr);
    if (e != AIMC_ERR_NONE) {
      if (e == AIMC_ERR_BAD_DESCRIPTOR) err_addr = a;
      return e;
    }
    moves.push_back(m);
    if (d.next == 0) break;
    a = d.next;
  }
  // Then run it: each descriptor is fetched over the host link and set up, then moved.
  uint32_t a = first;
  for (const Move& m : moves) {
    aimc_dma_desc_t d{};
    if (!host_access(tlm::TLM_READ_COMMAND, a, &d, sizeof d, t_ps)) {
      err_addr = a;
      return AIMC_ERR_DMA_FAULT;
    }
    t_ps += sim::ns_to_ps(ctx_.cfg.host.dma_setup_ns);
    const uint32_t e = do_move(m, t_ps, err_addr, buf_);
    if (e != AIMC_ERR_NONE) return e;
    ++done;
    a = d.next;
  }
  return AIMC_ERR_NONE;
}

void DmaEngine::run() {
  HostRegisters& r = ctx_.regs;
  for (;;) {
    sc_core::wait(start_);
    const uint64_t t0 = sim::to_ps(sc_core::sc_time_stamp());
    const bool chain = (r.get(Reg::DMA_CTRL) & AIMC_DMA_CTRL_CHAIN_MASK) != 0;
    uint32_t error_addr = 0, done = 0, bytes = 0;
    uint64_t t = t0;
    std::string failure;
    const uint32_t error = run_guarded(
        "DMA engine",
        [&]() -> uint32_t {
          if (chain) return run_chain(r.get(Reg::DMA_DESC_ADDR), t, error_addr, done);
          Move m;
          m.to_host = (r.get(Reg::DMA_CTRL) & AIMC_DMA_CTRL_DIR_MASK) != 0;
          m.host_addr = r.get(Reg::DMA_HOST_ADDR);
          m.dev_addr = r.get(Reg::DMA_DEV_ADDR);
          m.row_bytes = r.get(Reg::DMA_LEN);
          bytes = m.row_bytes;
          // A zero length moves nothing and completes at once, as a memcpy of 0 bytes (no fault:
          // no address was touched). In a descriptor chain it is a malformed descriptor.
          if (m.row_bytes == 0) {
            done = 1;
            return uint32_t(AIMC_ERR_NONE);
          }
          uint32_t e = check_move(m, error_addr);
          if (e != AIMC_ERR_NONE) return e;
          t += sim::ns_to_ps(ctx_.cfg.host.dma_setup_ns);
          e = do_move(m, t, error_addr, buf_);
          done = e == AIMC_ERR_NONE ? 1 : 0;
          return e;
        },
        AIMC_ERR_DMA_FAULT, failure);
    r.set(Reg::DMA_DESC_DONE, done);
    if (ctx_.trace.enabled() && t > t0)
      ctx_.trace.span(ctx_.track,
                      chain ? "dma chain"
                      : (r.get(Reg::DMA_CTRL) & AIMC_DMA_CTRL_DIR_MASK) ? "dma chip->host"
                                                                        : "dma host->chip",
                      t0, t - t0,
                      {{"bytes", bytes}, {"descriptors", done},
                       {"host_link_energy_pj", bytes * ctx_.cfg.host.e_dma_byte_pj}});
    if (t > t0) sc_core::wait(sim::ps_to_time(t - t0));
    busy_ = false;
    listener_.engine_done(Engine::dma, error, error_addr);
  }
}

}  // namespace aimc::chip
