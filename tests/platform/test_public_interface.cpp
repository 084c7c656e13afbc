// The chip inside a platform of the user's own (docs/firmware.md, "Plugging the chip into your own
// platform"): a CPU model and a memory that bind only the chip's public interface (chip.h): the
// register socket, the DMA port, the interrupt signals. The same shape as the RV32 core's binding.
#include <cstring>
#include <stdexcept>
#include <vector>

#include <gtest/gtest.h>
#include <systemc>
#include <tlm>
#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/simple_target_socket.h>

#include "aimc_regs.h"
#include "harness.h"
#include "sim/payload.h"

namespace {

using namespace aimc;

// The user's memory: what the chip's DMA reads and writes (bus address = index). It answers debug
// transport too: the DMA engine checks a whole range that way before it moves a byte.
struct UserMemory : sc_core::sc_module {
  tlm_utils::simple_target_socket<UserMemory> tsock{"tsock"};
  std::vector<uint8_t> bytes;
  int accesses = 0;
  UserMemory(sc_core::sc_module_name n, size_t size) : sc_module(n), bytes(size, 0) {
    tsock.register_b_transport(this, &UserMemory::b_transport);
    tsock.register_transport_dbg(this, &UserMemory::debug);
  }
  unsigned int debug(tlm::tlm_generic_payload& gp) {
    const uint64_t a = gp.get_address();
    const unsigned len = gp.get_data_length();
    if (a > bytes.size() || len > bytes.size() - a) {
      gp.set_response_status(tlm::TLM_ADDRESS_ERROR_RESPONSE);
      return 0;
    }
    if (gp.is_write()) std::memcpy(bytes.data() + a, gp.get_data_ptr(), len);
    else std::memcpy(gp.get_data_ptr(), bytes.data() + a, len);
    gp.set_response_status(tlm::TLM_OK_RESPONSE);
    return len;
  }
  void b_transport(tlm::tlm_generic_payload& gp, sc_core::sc_time&) {
    ++accesses;
    debug(gp);
  }
};

// The user's CPU: plain TLM accesses and a wait on the interrupt signal.
struct UserCpu : sc_core::sc_module {
  tlm_utils::simple_initiator_socket<UserCpu> isock{"isock"};
  sc_core::sc_in<bool> irq{"irq"};
  sc_core::sc_in<bool> dma_done{"dma_done"};
  std::function<void(UserCpu&)> program;
  SC_HAS_PROCESS(UserCpu);
  explicit UserCpu(sc_core::sc_module_name n) : sc_module(n) { SC_THREAD(run); }
  void run() { program(*this); }
  uint32_t access(tlm::tlm_command cmd, uint32_t off, uint32_t v = 0) {
    tlm::tlm_generic_payload gp;
    aimc::sim::set_plain(gp, cmd, off, &v, 4);
    sc_core::sc_time delay = sc_core::SC_ZERO_TIME;
    isock->b_transport(gp, delay);
    wait(delay);
    EXPECT_TRUE(gp.is_response_ok()) << "access to 0x" << std::hex << off;
    return v;
  }
  uint32_t rd(uint32_t off) { return access(tlm::TLM_READ_COMMAND, off); }
  void wr(uint32_t off, uint32_t v) { access(tlm::TLM_WRITE_COMMAND, off, v); }
};

TEST(PublicInterface, AUsersOwnPlatformDrivesTheChip) {
  const config::PlatformConfig cfg = aimc::testing::preset();
  sim::EnergyLedger ledger;
  sim::TraceSink trace;
  chip::Chip chip(cfg, ledger, trace, 0, chip::HostCpu::external);
  EXPECT_THROW(chip.cpu(), std::logic_error);          // no in-process firmware host
  EXPECT_THROW(chip.host_memory(), std::logic_error);  // the platform brings its memory
  UserMemory mem("mem", 1 << 16);
  UserCpu cpu("cpu");
  cpu.isock.bind(chip.register_socket());
  chip.dma_socket().bind(mem.tsock);
  cpu.irq.bind(chip.irq());
  cpu.dma_done.bind(chip.irq_source(AIMC_IRQ_STATUS_DMA_DONE_SHIFT));

  uint32_t id = 0;
  bool irq_seen = false, source_seen = false, irq_low_after = false;
  for (int i = 0; i < 256; ++i) mem.bytes[0x100 + i] = static_cast<uint8_t>(i * 7 + 3);
  cpu.program = [&](UserCpu& c) {
    id = c.rd(AIMC_REG_ID);
    c.wr(AIMC_REG_IRQ_ENABLE, AIMC_IRQ_DMA_DONE);
    for (int dir = 0; dir < 2; ++dir) {  // host -> SRAM, then SRAM -> host at 0x400
      c.wr(AIMC_REG_DMA_HOST_ADDR, dir == 0 ? 0x100 : 0x400);
      c.wr(AIMC_REG_DMA_DEV_ADDR, AIMC_SRAM_BASE);
      c.wr(AIMC_REG_DMA_LEN, 256);
      c.wr(AIMC_REG_DMA_CTRL, dir == 0 ? 0u : AIMC_DMA_CTRL_DIR_MASK);
      c.wr(AIMC_REG_DMA_START, 1);
      if (!c.irq.read()) sc_core::wait(c.irq.value_changed_event());
      irq_seen = c.irq.read();
      source_seen = c.dma_done.read();
      c.wr(AIMC_REG_IRQ_STATUS, AIMC_IRQ_DMA_DONE);  // acknowledge
      sc_core::wait(sc_core::SC_ZERO_TIME);           // the signals follow a delta later
      sc_core::wait(sc_core::SC_ZERO_TIME);
      irq_low_after = !c.irq.read() && !c.dma_done.read();
    }
  };
  sc_core::sc_start();
  EXPECT_EQ(id, AIMC_CHIP_ID);
  EXPECT_TRUE(irq_seen);
  EXPECT_TRUE(source_seen);
  EXPECT_TRUE(irq_low_after);
  EXPECT_EQ(std::memcmp(mem.bytes.data() + 0x100, mem.bytes.data() + 0x400, 256), 0)
      << "the pattern did not come back through the SRAM";
  EXPECT_GT(mem.accesses, 0);
  // The link's cost is the chip's: 512 bytes crossed it, besides the register accesses.
  const double expected_j = (512 * cfg.host.e_dma_byte_pj +
                             static_cast<double>(chip.host().register_accesses()) * cfg.host.e_reg_access_pj) * 1e-12;
  EXPECT_NEAR(ledger.component_j(ledger.component("host")), expected_j, expected_j * 1e-9);
}

}  // namespace
