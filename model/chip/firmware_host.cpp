#include "chip/firmware_host.h"
#include "sim/payload.h"

namespace aimc::chip {


FirmwareHost::FirmwareHost(sc_core::sc_module_name name, double quantum_ns, HostInterface& host,
                           HostMemory& memory)
    : sc_module(name), isock("isock"), host_(host), memory_(memory) {
  tlm_utils::tlm_quantumkeeper::set_global_quantum(sc_core::sc_time(quantum_ns, sc_core::SC_NS));
  qk_.reset();
  SC_HAS_PROCESS(FirmwareHost);
  SC_THREAD(run);
  set_stack_size(16 * 1024 * 1024);  // firmware may keep buffers on its stack
}

aimc_hal_t FirmwareHost::hal() {
  static const aimc_hal_ops_t ops = {&FirmwareHost::op_read32, &FirmwareHost::op_write32,
                                     &FirmwareHost::op_dma_alloc, &FirmwareHost::op_dma_free,
                                     &FirmwareHost::op_dma_sync, &FirmwareHost::op_wait_irq};
  return aimc_hal_t{&ops, this};
}

void FirmwareHost::run() {
  // The entry is host C++ (the run and serve drivers, tests): an exception from it must not unwind
  // through the SystemC kernel; it stops the simulation and reaches whoever called sc_start
  // (rethrow_failure()).
  try {
    if (entry_) entry_(hal());
  } catch (const sc_core::sc_unwind_exception&) {
    throw;
  } catch (...) {
    failure_ = std::current_exception();
    sc_core::sc_stop();
    return;
  }
  qk_.sync();
  finished_ = true;
  // No sc_stop(): the engines wait on events only, so the simulation ends by itself once the
  // firmware is done and nothing is in flight (and sc_start can report a hang as unfinished).
}

int FirmwareHost::access(tlm::tlm_command cmd, uint32_t offset, uint32_t* value) {
  if (cmd == tlm::TLM_READ_COMMAND) qk_.sync();  // status must not be read from the past
  tlm::tlm_generic_payload gp;
  sim::set_plain(gp, cmd, offset, value, 4);
  sc_core::sc_time delay = qk_.get_local_time();
  isock->b_transport(gp, delay);
  qk_.set(delay);
  if (qk_.need_sync()) qk_.sync();
  return gp.is_response_ok() ? AIMC_HAL_OK : AIMC_HAL_BUS_ERROR;
}

tlm::tlm_response_status FirmwareHost::raw_access(tlm::tlm_generic_payload& gp) {
  sc_core::sc_time delay = qk_.get_local_time();
  gp.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
  isock->b_transport(gp, delay);
  qk_.set(delay);
  if (qk_.need_sync()) qk_.sync();
  return gp.get_response_status();
}

int FirmwareHost::op_read32(void* ctx, uint32_t offset, uint32_t* value) {
  return static_cast<FirmwareHost*>(ctx)->access(tlm::TLM_READ_COMMAND, offset, value);
}

int FirmwareHost::op_write32(void* ctx, uint32_t offset, uint32_t value) {
  return static_cast<FirmwareHost*>(ctx)->access(tlm::TLM_WRITE_COMMAND, offset, &value);
}

int FirmwareHost::op_dma_alloc(void* ctx, size_t size, aimc_dma_buf_t* buf) {
  auto* self = static_cast<FirmwareHost*>(ctx);
  // As the remote HAL: a buffer of no bytes, or beyond the 32-bit bus, is refused.
  if (!buf || size == 0 || size > 0xFFFFFFFFu) return AIMC_HAL_NO_MEMORY;
  auto addr = self->memory_.allocate(size);
  if (!addr) return AIMC_HAL_NO_MEMORY;
  buf->cpu = self->memory_.at(*addr);
  buf->bus_addr = *addr;
  buf->size = size;
  return AIMC_HAL_OK;
}

void FirmwareHost::op_dma_free(void* ctx, aimc_dma_buf_t* buf) {
  auto* self = static_cast<FirmwareHost*>(ctx);
  if (buf && buf->cpu) self->memory_.release(buf->bus_addr);
}

int FirmwareHost::op_dma_sync(void* ctx, aimc_dma_buf_t* buf, size_t offset, size_t len,
                              int dir) {
  // In process, host memory is shared with the chip: nothing to move. Still check what the remote
  // HAL checks (and an OS's DMA API would), so firmware bugs show here as they do there: a buffer
  // that is allocated now (not freed), the range inside it, a known direction.
  auto* self = static_cast<FirmwareHost*>(ctx);
  if (!buf || !buf->cpu || buf->cpu != self->memory_.at(buf->bus_addr) ||
      self->memory_.allocated(buf->bus_addr) < buf->size)
    return AIMC_HAL_BUS_ERROR;
  if (offset > buf->size || len > buf->size - offset) return AIMC_HAL_BUS_ERROR;
  if (dir != AIMC_DMA_TO_DEVICE && dir != AIMC_DMA_FROM_DEVICE) return AIMC_HAL_BUS_ERROR;
  return AIMC_HAL_OK;
}

int FirmwareHost::op_wait_irq(void* ctx, uint64_t timeout_ns) {
  auto* self = static_cast<FirmwareHost*>(ctx);
  self->qk_.sync();
  if (self->host_.irq_level()) return AIMC_HAL_OK;
  if (timeout_ns > AIMC_HAL_MAX_WAIT_NS) timeout_ns = AIMC_HAL_MAX_WAIT_NS;  // as the remote HAL
  sc_core::wait(sc_core::sc_time(static_cast<double>(timeout_ns), sc_core::SC_NS),
                self->host_.irq_raised());
  return self->host_.irq_level() ? AIMC_HAL_OK : AIMC_HAL_TIMEOUT;
}

}  // namespace aimc::chip
