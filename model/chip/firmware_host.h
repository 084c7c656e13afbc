// The host CPU that runs firmware against the chip: an SC_THREAD that calls the firmware's entry
// point with an aimc_hal_t implemented on a TLM initiator socket (register accesses), on host
// memory (DMA buffers) and on the host interface's interrupt line.
//
// Timing: register accesses are loosely timed with a quantum keeper (simulation.quantum_ns):
// writes only advance the firmware's local time; reads first synchronize, so status a firmware
// polls is never stale; wait_irq synchronizes and then waits for the line.
#pragma once

#include <cstdint>
#include <exception>
#include <functional>

#include <systemc>
#include <tlm>
#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/tlm_quantumkeeper.h>

#include "aimc_hal.h"
#include "chip/host_interface.h"
#include "chip/host_memory.h"

namespace aimc::chip {

class FirmwareHost : public sc_core::sc_module {
 public:
  using Entry = std::function<void(aimc_hal_t hal)>;

  tlm_utils::simple_initiator_socket<FirmwareHost> isock;  // to the register bank

  FirmwareHost(sc_core::sc_module_name name, double quantum_ns, HostInterface& host,
               HostMemory& memory);
  FirmwareHost(const FirmwareHost&) = delete;
  FirmwareHost& operator=(const FirmwareHost&) = delete;

  // The firmware to run; the simulation stops when it returns.
  void set_entry(Entry entry) { entry_ = std::move(entry); }
  bool finished() const { return finished_; }
  // After sc_start returned: rethrows what the firmware entry threw, if it threw.
  void rethrow_failure() const {
    if (failure_) std::rethrow_exception(failure_);
  }
  aimc_hal_t hal();
  // Local time of the firmware (sc_time_stamp + quantum keeper offset), for harness bookkeeping.
  sc_core::sc_time local_time() const { return qk_.get_current_time(); }
  void sync() { qk_.sync(); }
  // Sends a payload as built by the caller to the register bank, with the firmware's local time:
  // for tests of accesses the HAL cannot make (other sizes, byte enables, bursts).
  tlm::tlm_response_status raw_access(tlm::tlm_generic_payload& gp);

 private:
  void run();
  int access(tlm::tlm_command cmd, uint32_t offset, uint32_t* value);
  static int op_read32(void* ctx, uint32_t offset, uint32_t* value);
  static int op_write32(void* ctx, uint32_t offset, uint32_t value);
  static int op_dma_alloc(void* ctx, size_t size, aimc_dma_buf_t* buf);
  static void op_dma_free(void* ctx, aimc_dma_buf_t* buf);
  static int op_dma_sync(void* ctx, aimc_dma_buf_t* buf, size_t offset, size_t len, int dir);
  static int op_wait_irq(void* ctx, uint64_t timeout_ns);

  HostInterface& host_;
  HostMemory& memory_;
  tlm_utils::tlm_quantumkeeper qk_;
  Entry entry_;
  bool finished_ = false;
  std::exception_ptr failure_;
};

}  // namespace aimc::chip
