#include <vector>

#include <gtest/gtest.h>

#include "sim/sram.h"
#include "sim/trace_writers.h"
#include "sim_test_helpers.h"

using namespace aimc::sim;
using aimc::sim::testing::Driver;
using aimc::sim::testing::ps;
using sc_core::sc_time;
namespace config = aimc::config;

namespace {

config::SramConfig sram_config() {
  config::SramConfig c;
  c.size_kib = 1;  // 1024 bytes
  c.latency_ns = 2.0;
  c.e_read_byte_pj = 1.25;
  c.e_write_byte_pj = 2.5;
  c.p_static_uw_per_kib = 100.0;
  c.e_wire_bit_mm_pj = 0.0;  // the bank's energies only (the law: test_sram_cost.cpp)
  return c;
}

// One SRAM bound directly to one driver running `body`.
struct Bench {
  EnergyLedger ledger;
  TraceSink no_trace;
  Sram sram{"sram", sram_config(), ledger, no_trace};
  Driver driver;
  explicit Bench(std::function<void(Driver&)> body) : driver("driver", std::move(body)) {
    driver.sock.bind(sram.tsock);
  }
};

}  // namespace

TEST(Sram, WriteReadRoundTripWithLatencyAndEnergy) {
  std::vector<uint8_t> out(32), in(32, 0);
  for (int i = 0; i < 32; ++i) out[i] = static_cast<uint8_t>(i * 7);
  uint64_t d_write = 0, d_read = 0;
  Bench b([&](Driver& d) {
    sc_time delay = ps(500);
    EXPECT_EQ(d.transact(tlm::TLM_WRITE_COMMAND, 992, out.data(), 32, delay), tlm::TLM_OK_RESPONSE);
    d_write = to_ps(delay);
    delay = sc_core::SC_ZERO_TIME;
    EXPECT_EQ(d.transact(tlm::TLM_READ_COMMAND, 992, in.data(), 32, delay), tlm::TLM_OK_RESPONSE);
    d_read = to_ps(delay);
  });
  sc_core::sc_start();
  EXPECT_EQ(in, out);
  EXPECT_EQ(b.sram.data()[992 + 5], 35);
  EXPECT_EQ(d_write, 500u + 2000u);
  EXPECT_EQ(d_read, 2000u);
  EXPECT_EQ(b.sram.size_bytes(), 1024u);
  const int c = b.sram.ledger_component();
  EXPECT_DOUBLE_EQ(b.ledger.component_j(c), 32 * 2.5e-12 + 32 * 1.25e-12);
  EXPECT_EQ(b.ledger.event_count(c), 64u);
  EXPECT_EQ(b.sram.bytes_read(), 32u);
  EXPECT_EQ(b.sram.bytes_written(), 32u);
}

TEST(Sram, AccountingExtensionChoosesLayerAndPhase) {
  uint8_t buf[16] = {};
  EnergyLedger* ledger_ptr = nullptr;
  int fc3 = -1;
  Bench b([&](Driver& d) {
    sc_time delay = sc_core::SC_ZERO_TIME;
    Driver::Options opt;
    opt.accounting = Accounting(fc3, Phase::infer);
    d.transact(tlm::TLM_READ_COMMAND, 0, buf, 16, delay, opt);
    d.transact(tlm::TLM_WRITE_COMMAND, 0, buf, 16, delay);  // no extension: ledger phase (deploy)
  });
  ledger_ptr = &b.ledger;
  fc3 = ledger_ptr->layer("fc3");
  sc_core::sc_start();
  const int c = b.sram.ledger_component();
  EXPECT_DOUBLE_EQ(b.ledger.cell_j(c, fc3, Phase::infer), 16 * 1.25e-12);
  EXPECT_DOUBLE_EQ(b.ledger.cell_j(c, 0, Phase::deploy), 16 * 2.5e-12);
}

TEST(Sram, OutOfRangeIsAnAddressError) {
  uint8_t buf[8] = {};
  tlm::tlm_response_status past{}, crossing{}, huge{};
  uint64_t delay_ps = 1;
  Bench b([&](Driver& d) {
    sc_time delay = sc_core::SC_ZERO_TIME;
    past = d.transact(tlm::TLM_READ_COMMAND, 1024, buf, 1, delay);
    crossing = d.transact(tlm::TLM_WRITE_COMMAND, 1020, buf, 8, delay);
    huge = d.transact(tlm::TLM_READ_COMMAND, ~0ull - 2, buf, 8, delay);
    delay_ps = to_ps(delay);
  });
  sc_core::sc_start();
  EXPECT_EQ(past, tlm::TLM_ADDRESS_ERROR_RESPONSE);
  EXPECT_EQ(crossing, tlm::TLM_ADDRESS_ERROR_RESPONSE);
  EXPECT_EQ(huge, tlm::TLM_ADDRESS_ERROR_RESPONSE);
  EXPECT_EQ(delay_ps, 0u);
  EXPECT_EQ(b.ledger.total_j(), 0.0);
  EXPECT_EQ(b.sram.data()[1020], 0);
}

TEST(Sram, ByteEnablesAreRefused) {
  uint8_t buf[4] = {1, 2, 3, 4};
  uint8_t be[4] = {0xff, 0xff, 0xff, 0xff};
  tlm::tlm_response_status st{};
  Bench b([&](Driver& d) {
    sc_time delay = sc_core::SC_ZERO_TIME;
    Driver::Options opt;
    opt.byte_enables = be;
    opt.byte_enable_length = 4;
    st = d.transact(tlm::TLM_WRITE_COMMAND, 0, buf, 4, delay, opt);
  });
  sc_core::sc_start();
  EXPECT_EQ(st, tlm::TLM_BYTE_ENABLE_ERROR_RESPONSE);
  EXPECT_EQ(b.sram.data()[0], 0);
  EXPECT_EQ(b.ledger.total_j(), 0.0);
}

TEST(Sram, StreamingNarrowerThanLengthIsABurstError) {
  uint8_t buf[16] = {};
  tlm::tlm_response_status narrow{}, wide{};
  Bench b([&](Driver& d) {
    sc_time delay = sc_core::SC_ZERO_TIME;
    Driver::Options opt;
    opt.streaming_width = 4;
    narrow = d.transact(tlm::TLM_READ_COMMAND, 0, buf, 16, delay, opt);
    opt.streaming_width = 64;  // wider than the length: an ordinary burst
    wide = d.transact(tlm::TLM_READ_COMMAND, 0, buf, 16, delay, opt);
  });
  sc_core::sc_start();
  EXPECT_EQ(narrow, tlm::TLM_BURST_ERROR_RESPONSE);
  EXPECT_EQ(wide, tlm::TLM_OK_RESPONSE);
  EXPECT_DOUBLE_EQ(b.ledger.total_j(), 16 * 1.25e-12);
}

TEST(Sram, IgnoreCommandIsOkAndFree) {
  uint8_t buf[4] = {};
  tlm::tlm_response_status st{};
  Bench b([&](Driver& d) {
    sc_time delay = sc_core::SC_ZERO_TIME;
    st = d.transact(tlm::TLM_IGNORE_COMMAND, 0, buf, 4, delay);
  });
  sc_core::sc_start();
  EXPECT_EQ(st, tlm::TLM_OK_RESPONSE);
  EXPECT_EQ(b.ledger.total_j(), 0.0);
}

TEST(Sram, DebugTransportHasNoEnergyOrTime) {
  uint8_t w[8] = {9, 8, 7, 6, 5, 4, 3, 2}, r[8] = {};
  unsigned n_w = 0, n_r = 0, n_clip = 0, n_out = 1;
  Bench b([&](Driver& d) {
    n_w = d.debug(tlm::TLM_WRITE_COMMAND, 100, w, 8);
    n_r = d.debug(tlm::TLM_READ_COMMAND, 100, r, 8);
    n_clip = d.debug(tlm::TLM_READ_COMMAND, 1020, r, 8);
    n_out = d.debug(tlm::TLM_READ_COMMAND, 4096, r, 8);
  });
  sc_core::sc_start();
  EXPECT_EQ(n_w, 8u);
  EXPECT_EQ(n_r, 8u);
  EXPECT_EQ(n_clip, 4u);
  EXPECT_EQ(n_out, 0u);
  EXPECT_EQ(b.sram.data()[103], 6);
  EXPECT_EQ(b.ledger.total_j(), 0.0);
  EXPECT_EQ(sc_core::sc_time_stamp(), sc_core::SC_ZERO_TIME);
}

TEST(Sram, DmiGrantedWithLatenciesAndInvalidatedWhenDisabled) {
  tlm::tlm_dmi dmi, denied;
  bool granted = false, granted_after = true, hint = false;
  uint8_t buf[4] = {};
  Sram* sram_ptr = nullptr;
  Bench b([&](Driver& d) {
    sc_time delay = sc_core::SC_ZERO_TIME;
    d.transact(tlm::TLM_READ_COMMAND, 0, buf, 4, delay);
    hint = d.last_dmi_allowed;
    granted = d.dmi(0, dmi);
    sram_ptr->set_dmi_enabled(false);
    granted_after = d.dmi(0, denied);
  });
  sram_ptr = &b.sram;
  sc_core::sc_start();
  EXPECT_TRUE(hint);
  ASSERT_TRUE(granted);
  EXPECT_EQ(dmi.get_dmi_ptr(), b.sram.data());
  EXPECT_EQ(dmi.get_start_address(), 0u);
  EXPECT_EQ(dmi.get_end_address(), 1023u);
  EXPECT_TRUE(dmi.is_read_write_allowed());
  EXPECT_EQ(dmi.get_read_latency(), ps(2000));
  EXPECT_EQ(dmi.get_write_latency(), ps(2000));
  EXPECT_FALSE(granted_after);
  ASSERT_EQ(b.driver.invalidations.size(), 1u);
  EXPECT_EQ(b.driver.invalidations[0].second, 1023u);
  // DMI users charge their own accesses.
  b.sram.account_dmi(tlm::TLM_WRITE_COMMAND, 10, Accounting(0, Phase::infer));
  EXPECT_DOUBLE_EQ(b.ledger.component_j(b.sram.ledger_component()), 4 * 1.25e-12 + 10 * 2.5e-12);
}

TEST(Sram, StaticPowerDeclared) {
  Bench b(nullptr);
  sc_core::sc_start(ps(1000000));
  const int c = b.sram.ledger_component();
  EXPECT_DOUBLE_EQ(b.ledger.static_power_w(c), 100e-6);
  b.ledger.advance(to_ps(sc_core::sc_time_stamp()));
  EXPECT_DOUBLE_EQ(b.ledger.component_j(c), 100e-6 * 1e-6);
}

// ---- STANDBY (sram.h, the top; docs/chip-model.md, "Power states")

// 36 KiB in banks of 8 KiB (the last one 4 KiB), 100 uW/KiB, a retained bank at 0.1 of that.
config::SramConfig banked_config(config::SramStandby mode) {
  config::SramConfig c = sram_config();
  c.size_kib = 36;
  c.bank_kib = 8;
  c.standby = mode;
  c.retention_leakage_rel = 0.1;
  return c;
}

struct BankedBench {
  EnergyLedger ledger;
  TraceSink no_trace;
  Sram sram;
  Driver driver;
  BankedBench(config::SramStandby mode, std::function<void(Driver&)> body)
      : sram("sram", banked_config(mode), ledger, no_trace), driver("driver", std::move(body)) {
    driver.sock.bind(sram.tsock);
  }
  uint64_t now() { return to_ps(sc_core::sc_time_stamp()); }
  // The SRAM's energy over one millisecond of simulated time from now (J).
  double over_one_ms() {
    ledger.advance(now());
    const double e0 = ledger.component_j(sram.ledger_component());
    sc_core::wait(sc_time(1, sc_core::SC_MS));
    ledger.advance(now());
    return ledger.component_j(sram.ledger_component()) - e0;
  }
};

constexpr double kLeakWPerKib = 100e-6;  // sram_config()'s 100 uW/KiB

TEST(SramStandby, GateUnusedRetainsTheBanksWrittenAndGatesTheRest) {
  std::vector<uint8_t> out(16), back(16, 0), one = {0x5A};
  for (int i = 0; i < 16; ++i) out[i] = static_cast<uint8_t>(i + 1);
  double e_standby = -1, e_awake = -1, in_use_kib = -1;
  tlm::tlm_response_status in_standby = tlm::TLM_OK_RESPONSE;
  BankedBench* bp = nullptr;
  BankedBench b(config::SramStandby::gate_unused, [&](Driver& d) {
    sc_time delay = sc_core::SC_ZERO_TIME;
    // 8190 .. 8205 spans banks 0 and 1; 35 KiB is in bank 4 (4 KiB). Banks 2 and 3: never written.
    ASSERT_EQ(d.transact(tlm::TLM_WRITE_COMMAND, 8190, out.data(), 16, delay), tlm::TLM_OK_RESPONSE);
    ASSERT_EQ(d.transact(tlm::TLM_WRITE_COMMAND, 35 * 1024, one.data(), 1, delay), tlm::TLM_OK_RESPONSE);
    bp->sram.set_standby(true, bp->now());
    in_use_kib = bp->sram.in_use_kib();
    const double dynamic_before = bp->ledger.total_j() - bp->ledger.static_j();
    in_standby = d.transact(tlm::TLM_READ_COMMAND, 8190, back.data(), 16, delay);
    EXPECT_EQ(bp->ledger.total_j() - bp->ledger.static_j(), dynamic_before) << "a refused access costs nothing";
    e_standby = bp->over_one_ms();
    bp->sram.set_standby(false, bp->now());
    e_awake = bp->over_one_ms();
    ASSERT_EQ(d.transact(tlm::TLM_READ_COMMAND, 8190, back.data(), 16, delay), tlm::TLM_OK_RESPONSE);
  });
  bp = &b;
  sc_core::sc_start();
  EXPECT_EQ(in_use_kib, 8.0 + 8.0 + 4.0);
  EXPECT_TRUE(b.sram.bank_in_use(0) && b.sram.bank_in_use(1) && b.sram.bank_in_use(4));
  EXPECT_FALSE(b.sram.bank_in_use(2) || b.sram.bank_in_use(3));
  EXPECT_EQ(in_standby, tlm::TLM_COMMAND_ERROR_RESPONSE);
  // STANDBY: the banks in use at the retention leakage, the others nothing.
  EXPECT_NEAR(e_standby, 20.0 * kLeakWPerKib * 0.1 * 1e-3, 1e-12 * 2e-7);
  EXPECT_NEAR(e_awake, 36.0 * kLeakWPerKib * 1e-3, 1e-12 * 3.6e-6);
  EXPECT_EQ(back, out) << "retained banks keep their contents";
  EXPECT_EQ(b.sram.data()[35 * 1024], 0x5A);
}

TEST(SramStandby, RetainKeepsEveryBankAndItsContentsAtTheRetentionLeakage) {
  std::vector<uint8_t> out = {1, 2, 3, 4}, back(4, 0);
  double e_standby = -1;
  BankedBench* bp = nullptr;
  BankedBench b(config::SramStandby::retain, [&](Driver& d) {
    sc_time delay = sc_core::SC_ZERO_TIME;
    ASSERT_EQ(d.transact(tlm::TLM_WRITE_COMMAND, 20000, out.data(), 4, delay), tlm::TLM_OK_RESPONSE);
    bp->sram.set_standby(true, bp->now());
    e_standby = bp->over_one_ms();
    bp->sram.set_standby(false, bp->now());
    ASSERT_EQ(d.transact(tlm::TLM_READ_COMMAND, 20000, back.data(), 4, delay), tlm::TLM_OK_RESPONSE);
  });
  bp = &b;
  sc_core::sc_start();
  EXPECT_NEAR(e_standby, 36.0 * kLeakWPerKib * 0.1 * 1e-3, 1e-12 * 3.6e-7);
  EXPECT_EQ(back, out);
}

TEST(SramStandby, GateAllLeaksNothingAndLosesTheContents) {
  std::vector<uint8_t> out = {7, 7, 7, 7}, back = {9, 9, 9, 9};
  double e_standby = -1;
  bool dmi_before = false, dmi_in_standby = true;
  size_t invalidations = 0;
  BankedBench* bp = nullptr;
  BankedBench b(config::SramStandby::gate_all, [&](Driver& d) {
    sc_time delay = sc_core::SC_ZERO_TIME;
    tlm::tlm_dmi dmi;
    ASSERT_EQ(d.transact(tlm::TLM_WRITE_COMMAND, 100, out.data(), 4, delay), tlm::TLM_OK_RESPONSE);
    dmi_before = d.dmi(0, dmi);
    bp->sram.set_standby(true, bp->now());
    invalidations = d.invalidations.size();
    dmi_in_standby = d.dmi(0, dmi);
    e_standby = bp->over_one_ms();
    bp->sram.set_standby(false, bp->now());
    ASSERT_EQ(d.transact(tlm::TLM_READ_COMMAND, 100, back.data(), 4, delay), tlm::TLM_OK_RESPONSE);
  });
  bp = &b;
  sc_core::sc_start();
  EXPECT_EQ(e_standby, 0.0);
  EXPECT_EQ(back, std::vector<uint8_t>(4, 0)) << "a gated bank comes back at the reset value";
  EXPECT_EQ(b.sram.in_use_kib(), 0.0);
  EXPECT_TRUE(dmi_before);
  EXPECT_EQ(invalidations, 1u) << "pointers into gated banks are withdrawn";
  EXPECT_FALSE(dmi_in_standby);
}

TEST(SramStandby, PoweredKeepsFullLeakageAndAccess) {
  uint8_t buf[4] = {1, 2, 3, 4};
  double e_standby = -1;
  tlm::tlm_response_status in_standby = tlm::TLM_INCOMPLETE_RESPONSE;
  BankedBench* bp = nullptr;
  BankedBench b(config::SramStandby::powered, [&](Driver& d) {
    sc_time delay = sc_core::SC_ZERO_TIME;
    bp->sram.set_standby(true, bp->now());
    in_standby = d.transact(tlm::TLM_WRITE_COMMAND, 0, buf, 4, delay);
    bp->ledger.advance(bp->now());
    e_standby = bp->over_one_ms();
    bp->sram.set_standby(false, bp->now());
  });
  bp = &b;
  sc_core::sc_start();
  EXPECT_EQ(in_standby, tlm::TLM_OK_RESPONSE);
  EXPECT_NEAR(e_standby, 36.0 * kLeakWPerKib * 1e-3, 1e-12 * 3.6e-6);
}

TEST(Sram, TraceSpanPerAccess) {
  EnergyLedger ledger;
  TraceStore trace;
  Sram sram("sram", sram_config(), ledger, trace);
  uint8_t buf[8] = {};
  Driver d("d", [&](Driver& self) {
    sc_time delay = ps(3000);
    self.transact(tlm::TLM_WRITE_COMMAND, 8, buf, 8, delay);
  });
  d.sock.bind(sram.tsock);
  sc_core::sc_start();
  EXPECT_EQ(trace.event_count(), 1u);
  const std::string text = find_trace_format("chrome")->make()->to_string(trace);
  EXPECT_NE(text.find("\"ts\":0.003,\"dur\":0.002,\"name\":\"wr\""), std::string::npos) << text;
}

TEST(Sram, BadConfigRefused) {
  EnergyLedger ledger;
  TraceSink trace;
  config::SramConfig c = sram_config();
  c.size_kib = 0;
  EXPECT_THROW(Sram("bad", c, ledger, trace), std::invalid_argument);
  c = sram_config();
  c.retention_leakage_rel = 1.5;
  EXPECT_THROW(Sram("bad_retention", c, ledger, trace), std::invalid_argument);
}
