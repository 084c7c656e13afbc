#include <stdexcept>
#include <tuple>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "sim/bus.h"
#include "sim/sram.h"
#include "sim/trace_writers.h"
#include "sim_test_helpers.h"

using namespace aimc::sim;
using aimc::sim::testing::Driver;
using aimc::sim::testing::ps;
using aimc::sim::testing::RecordingTarget;
using sc_core::sc_time;
namespace config = aimc::config;

namespace {

// width 8 B, 200 MHz (5000 ps per cycle), 10 ns latency: 64 bytes hold the bus 10000 + 8 * 5000.
config::BusConfig bus_config() {
  config::BusConfig c;
  c.width_bytes = 8;
  c.clock_mhz = 200.0;
  c.latency_ns = 10.0;
  c.e_byte_pj = 0.43;
  c.p_static_uw = 10.0;
  return c;
}
constexpr uint64_t kOcc64 = 10000 + 8 * 5000;

struct Result {
  tlm::tlm_response_status status = tlm::TLM_INCOMPLETE_RESPONSE;
  uint64_t delay_ps = 0;
  uint64_t issued_ps = 0;
};

}  // namespace

TEST(SharedBus, OccupancyFromConfig) {
  EnergyLedger ledger;
  TraceSink trace;
  SharedBus bus("bus", bus_config(), ledger, trace);
  EXPECT_EQ(bus.occupancy_ps(64), kOcc64);
  EXPECT_EQ(bus.occupancy_ps(1), 10000u + 5000u);
  EXPECT_EQ(bus.occupancy_ps(9), 10000u + 2 * 5000u);
  EXPECT_EQ(bus.occupancy_ps(0), 10000u);
  EXPECT_DOUBLE_EQ(ledger.static_power_w(bus.ledger_component()), 10e-6);
}

TEST(SharedBus, ContentionDelaysTheSecondTransferByTheFirstsOccupancy) {
  EnergyLedger ledger;
  TraceSink trace;
  SharedBus bus("bus", bus_config(), ledger, trace);
  RecordingTarget mem("mem");
  bus.isock.bind(mem.sock);
  bus.map(0, 0x0, 0x10000, "mem");

  Result r[3];
  std::vector<uint8_t> buf(64);
  auto issue = [&](Driver& d, Result& out, uint64_t at_ps) {
    sc_core::wait(ps(at_ps) - sc_core::sc_time_stamp());
    sc_time delay = sc_core::SC_ZERO_TIME;
    out.issued_ps = to_ps(sc_core::sc_time_stamp());
    out.status = d.transact(tlm::TLM_WRITE_COMMAND, 0x100, buf.data(), 64, delay);
    out.delay_ps = to_ps(delay);
    sc_core::wait(delay);  // synchronise, as an LT initiator at the end of its quantum
  };
  Driver a("a", [&](Driver& d) { issue(d, r[0], 0); });
  Driver b("b", [&](Driver& d) { issue(d, r[1], 0); });
  Driver c("c", [&](Driver& d) { issue(d, r[2], 1000000); });  // long after the bus is free
  a.sock.bind(bus.tsock);
  b.sock.bind(bus.tsock);
  c.sock.bind(bus.tsock);
  sc_core::sc_start();

  for (const Result& x : r) EXPECT_EQ(x.status, tlm::TLM_OK_RESPONSE);
  // Whichever of a and b the kernel ran first holds the bus; the other waits exactly that long.
  const uint64_t first = std::min(r[0].delay_ps, r[1].delay_ps);
  const uint64_t second = std::max(r[0].delay_ps, r[1].delay_ps);
  EXPECT_EQ(first, kOcc64);
  EXPECT_EQ(second - first, kOcc64);
  EXPECT_EQ(r[2].delay_ps, kOcc64);  // not delayed
  EXPECT_EQ(bus.timeline().wait_ps(), kOcc64);
  EXPECT_EQ(bus.timeline().busy_ps(), 3 * kOcc64);
  EXPECT_EQ(bus.transfers(), 3u);
  ASSERT_EQ(mem.accesses.size(), 3u);
  // The target sees the delay up to the end of the bus occupancy.
  EXPECT_EQ(mem.accesses[1].delay_in_ps, 2 * kOcc64);
}

// A transfer longer than max_burst_bytes is arbitrated burst by burst: its first burst takes the
// free slot before another master's booking, the rest follow that booking (a single grant would
// have waited for a gap as long as the whole transfer).
TEST(SharedBus, LongTransfersInterleaveBurstByBurst) {
  EnergyLedger ledger;
  TraceSink trace;
  config::BusConfig cfg = bus_config();
  cfg.max_burst_bytes = 64;
  SharedBus bus("bus", cfg, ledger, trace);
  EXPECT_EQ(bus.occupancy_ps(192), 3 * kOcc64);
  EXPECT_EQ(bus.occupancy_ps(100), kOcc64 + (10000u + 5 * 5000u));
  RecordingTarget mem("mem");
  bus.isock.bind(mem.sock);
  bus.map(0, 0x0, 0x1000, "mem");
  std::vector<uint8_t> buf(192);
  uint64_t short_delay = 0, long_delay = 0;
  Driver d("d", [&](Driver& self) {
    sc_time ahead = ps(kOcc64);  // books [kOcc64, 2 kOcc64)
    EXPECT_EQ(self.transact(tlm::TLM_WRITE_COMMAND, 0x0, buf.data(), 64, ahead), tlm::TLM_OK_RESPONSE);
    short_delay = to_ps(ahead);
    sc_time now = sc_core::SC_ZERO_TIME;  // three bursts arriving at 0
    EXPECT_EQ(self.transact(tlm::TLM_READ_COMMAND, 0x100, buf.data(), 192, now), tlm::TLM_OK_RESPONSE);
    long_delay = to_ps(now);
  });
  d.sock.bind(bus.tsock);
  sc_core::sc_start();
  EXPECT_EQ(short_delay, 2 * kOcc64);
  // Burst 1 in [0, kOcc64), bursts 2 and 3 after the other booking: [2, 4) kOcc64.
  EXPECT_EQ(long_delay, 4 * kOcc64);
  EXPECT_EQ(bus.timeline().busy_ps(), 4 * kOcc64);
  EXPECT_EQ(bus.transfers(), 2u);
  EXPECT_EQ(bus.bytes_moved(), 256u);
}

TEST(SharedBus, LocalTimeOffsetAndTargetLatencyAddUp) {
  EnergyLedger ledger;
  TraceSink trace;
  SharedBus bus("bus", bus_config(), ledger, trace);
  RecordingTarget mem("mem");
  mem.latency = ps(2000);
  bus.isock.bind(mem.sock);
  bus.map(0, 0x0, 0x1000, "mem");
  std::vector<uint64_t> delays;
  uint8_t buf[64] = {};
  Driver d("d", [&](Driver& self) {
    sc_time delay = ps(3000);  // initiator already ahead of simulated time
    EXPECT_EQ(self.transact(tlm::TLM_READ_COMMAND, 0, buf, 64, delay), tlm::TLM_OK_RESPONSE);
    delays.push_back(to_ps(delay));
    // Second transfer from the same decoupled initiator, still without waiting: it arrives when
    // the first one's data is back, after the bus became free.
    EXPECT_EQ(self.transact(tlm::TLM_READ_COMMAND, 0, buf, 8, delay), tlm::TLM_OK_RESPONSE);
    delays.push_back(to_ps(delay));
  });
  d.sock.bind(bus.tsock);
  sc_core::sc_start();
  ASSERT_EQ(delays.size(), 2u);
  EXPECT_EQ(delays[0], 3000 + kOcc64 + 2000);
  EXPECT_EQ(delays[1], delays[0] + (10000 + 5000) + 2000);
  EXPECT_EQ(bus.timeline().wait_ps(), 0u);
}

TEST(SharedBus, UnmappedAddressIsAnAddressErrorWithoutEnergy) {
  EnergyLedger ledger;
  TraceSink trace;
  SharedBus bus("bus", bus_config(), ledger, trace);
  RecordingTarget mem("mem");
  bus.isock.bind(mem.sock);
  bus.map(0, 0x1000, 0x100, "mem");
  tlm::tlm_response_status below{}, above{}, crossing{};
  uint64_t delay_ps = 1;
  uint8_t buf[16] = {};
  Driver d("d", [&](Driver& self) {
    sc_time delay = sc_core::SC_ZERO_TIME;
    below = self.transact(tlm::TLM_READ_COMMAND, 0x0ff8, buf, 4, delay);
    above = self.transact(tlm::TLM_WRITE_COMMAND, 0x1100, buf, 4, delay);
    crossing = self.transact(tlm::TLM_WRITE_COMMAND, 0x10f8, buf, 16, delay);  // runs off the end
    delay_ps = to_ps(delay);
  });
  d.sock.bind(bus.tsock);
  sc_core::sc_start();
  EXPECT_EQ(below, tlm::TLM_ADDRESS_ERROR_RESPONSE);
  EXPECT_EQ(above, tlm::TLM_ADDRESS_ERROR_RESPONSE);
  EXPECT_EQ(crossing, tlm::TLM_ADDRESS_ERROR_RESPONSE);
  EXPECT_TRUE(mem.accesses.empty());
  EXPECT_EQ(ledger.total_j(), 0.0);
  EXPECT_EQ(ledger.event_count(bus.ledger_component()), 0u);
  EXPECT_EQ(bus.timeline().reservations(), 0u);
  EXPECT_EQ(delay_ps, 0u);
}

TEST(SharedBus, ForwardsRelativeAddressesAndRestoresThem) {
  EnergyLedger ledger;
  TraceSink trace;
  SharedBus bus("bus", bus_config(), ledger, trace);
  RecordingTarget t0("t0"), t1("t1");
  bus.isock.bind(t0.sock);
  bus.isock.bind(t1.sock);
  bus.map(1, 0x2000, 0x1000, "t1");
  bus.map(0, 0x1000, 0x100, "t0");
  uint64_t seen_after = 0;
  uint8_t buf[8] = {};
  Driver d("d", [&](Driver& self) {
    sc_time delay = sc_core::SC_ZERO_TIME;
    EXPECT_EQ(self.transact(tlm::TLM_WRITE_COMMAND, 0x2010, buf, 8, delay), tlm::TLM_OK_RESPONSE);
    seen_after = self.last_address;
    EXPECT_EQ(self.transact(tlm::TLM_READ_COMMAND, 0x10f8, buf, 8, delay), tlm::TLM_OK_RESPONSE);
    EXPECT_EQ(self.transact(tlm::TLM_READ_COMMAND, 0x2fff, buf, 1, delay), tlm::TLM_OK_RESPONSE);
  });
  d.sock.bind(bus.tsock);
  sc_core::sc_start();
  ASSERT_EQ(t1.accesses.size(), 2u);
  EXPECT_EQ(t1.accesses[0].address, 0x10u);
  EXPECT_EQ(t1.accesses[1].address, 0xfffu);
  ASSERT_EQ(t0.accesses.size(), 1u);
  EXPECT_EQ(t0.accesses[0].address, 0xf8u);
  EXPECT_EQ(seen_after, 0x2010u);
  ASSERT_NE(bus.decode(0x2abc), nullptr);
  EXPECT_EQ(bus.decode(0x2abc)->name, "t1");
  EXPECT_EQ(bus.decode(0x3000), nullptr);
}

TEST(SharedBus, OverlappingOrEmptyRegionsAreRefused) {
  EnergyLedger ledger;
  TraceSink trace;
  SharedBus bus("bus", bus_config(), ledger, trace);
  bus.map(0, 0x1000, 0x1000, "a");
  EXPECT_THROW(bus.map(1, 0x1800, 0x1000, "b"), std::invalid_argument);
  EXPECT_THROW(bus.map(1, 0x0800, 0x0801, "c"), std::invalid_argument);
  EXPECT_THROW(bus.map(1, 0x0000, 0x10000, "d"), std::invalid_argument);  // contains a
  EXPECT_THROW(bus.map(1, 0x1fff, 1, "e"), std::invalid_argument);
  EXPECT_THROW(bus.map(1, 0x3000, 0, "empty"), std::invalid_argument);
  EXPECT_THROW(bus.map(-1, 0x3000, 1, "neg"), std::invalid_argument);
  EXPECT_THROW(bus.map(1, ~0ull, 2, "wraps"), std::invalid_argument);
  EXPECT_NO_THROW(bus.map(1, 0x0800, 0x0800, "below"));  // adjacent is fine
  EXPECT_NO_THROW(bus.map(2, 0x2000, 0x10, "above"));
  EXPECT_NO_THROW(bus.map(3, ~0ull, 1, "last byte"));
  ASSERT_EQ(bus.regions().size(), 4u);
  EXPECT_EQ(bus.regions()[0].name, "below");
}

TEST(SharedBus, RegionMappedToAnUnboundPortFailsElaboration) {
  EnergyLedger ledger;
  TraceSink trace;
  SharedBus bus("bus", bus_config(), ledger, trace);
  RecordingTarget mem("mem");
  bus.isock.bind(mem.sock);
  bus.map(0, 0x0, 0x100, "mem");
  bus.map(1, 0x100, 0x100, "ghost");
  Driver d("d", nullptr);
  d.sock.bind(bus.tsock);
  EXPECT_THROW(sc_core::sc_start(), sc_core::sc_report);
}

TEST(SharedBus, EnergyPerByteExactAndCharged) {
  EnergyLedger ledger;
  TraceSink trace;
  SharedBus bus("bus", bus_config(), ledger, trace);
  RecordingTarget mem("mem");
  bus.isock.bind(mem.sock);
  bus.map(0, 0x0, 0x10000, "mem");
  const int fc1 = ledger.layer("fc1");
  ledger.set_phase(Phase::infer, 0);
  std::vector<uint8_t> buf(1000);
  Driver d("d", [&](Driver& self) {
    sc_time delay = sc_core::SC_ZERO_TIME;
    Driver::Options deploy_fc1;
    deploy_fc1.accounting = Accounting(fc1, Phase::deploy);
    EXPECT_EQ(self.transact(tlm::TLM_WRITE_COMMAND, 0, buf.data(), 100, delay, deploy_fc1),
              tlm::TLM_OK_RESPONSE);
    // No extension: layer 0, the ledger's phase (infer).
    EXPECT_EQ(self.transact(tlm::TLM_READ_COMMAND, 0, buf.data(), 7, delay), tlm::TLM_OK_RESPONSE);
    // charge = false moves data and takes time but posts nothing.
    Driver::Options free_ride;
    free_ride.accounting = Accounting(fc1, Phase::infer, -1, false);
    EXPECT_EQ(self.transact(tlm::TLM_READ_COMMAND, 0, buf.data(), 1000, delay, free_ride),
              tlm::TLM_OK_RESPONSE);
  });
  d.sock.bind(bus.tsock);
  sc_core::sc_start();
  const int comp = bus.ledger_component();
  EXPECT_DOUBLE_EQ(ledger.cell_j(comp, fc1, Phase::deploy), 100 * 0.43e-12);
  EXPECT_DOUBLE_EQ(ledger.cell_j(comp, 0, Phase::infer), 7 * 0.43e-12);
  EXPECT_EQ(ledger.cell_j(comp, fc1, Phase::infer), 0.0);
  EXPECT_DOUBLE_EQ(ledger.component_j(comp), 107 * 0.43e-12);
  EXPECT_EQ(ledger.event_count(comp), 107u);
  EXPECT_EQ(bus.bytes_moved(), 1107u);
  EXPECT_EQ(bus.timeline().reservations(), 3u);
}

// The bus's wires: every transfer drives the whole comb over the tile grid (sim/floorplan.h), so a
// byte costs more on a bus that spans more, or larger, tiles.
TEST(SharedBus, WireEnergyGrowsWithTheGridTheBusSpans) {
  EnergyLedger ledger;
  TraceSink trace;
  config::BusConfig c = bus_config();
  c.e_wire_bit_mm_pj = 0.1;
  SharedBus bus("bus", c, ledger, trace);
  RecordingTarget mem("mem");
  bus.isock.bind(mem.sock);
  bus.map(0, 0x0, 0x10000, "mem");
  Floorplan plan;
  plan.rows = 3;
  plan.cols = 4;
  plan.tile_pitch_mm = 0.5;
  bus.set_floorplan(plan);
  // Trunk 3 x 0.5 mm, three branches of 4 x 0.5 mm: 7.5 mm; 0.43 pJ + 8 bits x 0.1 pJ x 7.5 mm.
  EXPECT_DOUBLE_EQ(plan.comb_bus_mm(), 7.5);
  EXPECT_DOUBLE_EQ(bus.wire_mm(Endpoint::sram(), Endpoint::tile(5)), 7.5);
  EXPECT_NEAR(bus.e_byte_j(), (0.43 + 8 * 0.1 * 7.5) * 1e-12, 1e-24);
  std::vector<uint8_t> buf(100);
  Driver d("d", [&](Driver& self) {
    sc_time delay = sc_core::SC_ZERO_TIME;
    EXPECT_EQ(self.transact(tlm::TLM_WRITE_COMMAND, 0, buf.data(), 100, delay), tlm::TLM_OK_RESPONSE);
  });
  d.sock.bind(bus.tsock);
  sc_core::sc_start();
  EXPECT_NEAR(ledger.component_j(bus.ledger_component()), 100 * (0.43 + 6.0) * 1e-12, 1e-21);
  // More tiles, larger tiles: more wire per byte; no floorplan (pitch 0): the logic's 0.43 pJ only.
  double prev = 0;
  for (const auto& [rows, cols, pitch] : {std::tuple{1, 2, 0.4}, {3, 4, 0.4}, {3, 4, 0.8}, {8, 8, 0.8}}) {
    Floorplan f;
    f.rows = rows;
    f.cols = cols;
    f.tile_pitch_mm = pitch;
    bus.set_floorplan(f);
    EXPECT_GT(bus.e_byte_j(), prev) << rows << "x" << cols << " tiles of " << pitch << " mm";
    prev = bus.e_byte_j();
  }
  bus.set_floorplan(Floorplan{});
  EXPECT_DOUBLE_EQ(bus.e_byte_j(), 0.43e-12);
}

// The bus's own area: none while its wires route over the blocks (pitch 0); with a routing
// channel, (8 x width + 32 address) wires at the pitch along the comb, growing with the grid.
TEST(SharedBus, AreaIsItsRoutingChannelAlongTheComb) {
  EnergyLedger ledger;
  TraceSink trace;
  config::BusConfig c = bus_config();
  c.width_bytes = 8;
  Floorplan plan;
  plan.rows = 3;
  plan.cols = 4;
  plan.tile_pitch_mm = 0.5;  // comb 7.5 mm
  SharedBus over("over", c, ledger, trace);
  over.set_floorplan(plan);
  EXPECT_EQ(over.area_um2(), 0.0);
  c.wire_pitch_um = 0.2;
  SharedBus channel("channel", c, ledger, trace);
  channel.set_floorplan(plan);
  EXPECT_NEAR(channel.area_um2(), 96 * 0.2 * 7500.0, 1e-6);  // 0.144 mm^2
  plan.rows = 6;  // twice the rows: twice the branches and the trunk
  channel.set_floorplan(plan);
  EXPECT_NEAR(channel.area_um2(), 2 * 96 * 0.2 * 7500.0, 1e-6);
}

// The bus's busy time, split by the phase each transfer was charged to: the bursts' occupancy
// (not the waits between them), and the parts add up to busy_ps.
TEST(SharedBus, BusyTimeByPhaseAddsUpToBusyTime) {
  EnergyLedger ledger;
  TraceSink trace;
  config::BusConfig cfg = bus_config();
  cfg.max_burst_bytes = 64;
  SharedBus bus("bus", cfg, ledger, trace);
  RecordingTarget mem("mem");
  bus.isock.bind(mem.sock);
  bus.map(0, 0x0, 0x1000, "mem");
  std::vector<uint8_t> buf(192);
  Driver d("d", [&](Driver& self) {
    sc_time ahead = ps(kOcc64);  // deploy (the ledger's phase), books [kOcc64, 2 kOcc64)
    EXPECT_EQ(self.transact(tlm::TLM_WRITE_COMMAND, 0x0, buf.data(), 64, ahead), tlm::TLM_OK_RESPONSE);
    Driver::Options infer;
    infer.accounting = Accounting(EnergyLedger::kNoLayer, Phase::infer);
    sc_time now = sc_core::SC_ZERO_TIME;  // three bursts around the first booking
    EXPECT_EQ(self.transact(tlm::TLM_READ_COMMAND, 0x100, buf.data(), 192, now, infer), tlm::TLM_OK_RESPONSE);
  });
  d.sock.bind(bus.tsock);
  sc_core::sc_start();
  const InterconnectStats st = bus.stats();
  EXPECT_EQ(st.busy_ps_by_phase[static_cast<size_t>(Phase::deploy)], kOcc64);
  EXPECT_EQ(st.busy_ps_by_phase[static_cast<size_t>(Phase::infer)], 3 * kOcc64);
  EXPECT_EQ(st.busy_ps_by_phase[0] + st.busy_ps_by_phase[1], st.busy_ps);
}

TEST(SharedBus, DefaultPhaseSetterOverridesLedgerPhase) {
  EnergyLedger ledger;
  TraceSink trace;
  SharedBus bus("bus", bus_config(), ledger, trace);
  RecordingTarget mem("mem");
  bus.isock.bind(mem.sock);
  bus.map(0, 0x0, 0x100, "mem");
  bus.set_default_phase(Phase::infer);  // ledger is still in deploy
  uint8_t buf[10] = {};
  Driver d("d", [&](Driver& self) {
    sc_time delay = sc_core::SC_ZERO_TIME;
    self.transact(tlm::TLM_WRITE_COMMAND, 0, buf, 10, delay);
  });
  d.sock.bind(bus.tsock);
  sc_core::sc_start();
  EXPECT_DOUBLE_EQ(ledger.component_phase_j(bus.ledger_component(), Phase::infer), 10 * 0.43e-12);
  EXPECT_EQ(ledger.component_phase_j(bus.ledger_component(), Phase::deploy), 0.0);
}

TEST(SharedBus, DebugTransportForwardsWithoutTimeOrEnergy) {
  EnergyLedger ledger;
  TraceSink trace;
  SharedBus bus("bus", bus_config(), ledger, trace);
  RecordingTarget mem("mem");
  bus.isock.bind(mem.sock);
  bus.map(0, 0x4000, 0x100, "mem");
  unsigned n_ok = 0, n_clipped = 0, n_unmapped = 1;
  uint8_t buf[64] = {};
  Driver d("d", [&](Driver& self) {
    n_ok = self.debug(tlm::TLM_READ_COMMAND, 0x4010, buf, 16);
    n_clipped = self.debug(tlm::TLM_READ_COMMAND, 0x40f0, buf, 64);
    n_unmapped = self.debug(tlm::TLM_READ_COMMAND, 0x10, buf, 4);
  });
  d.sock.bind(bus.tsock);
  sc_core::sc_start();
  EXPECT_EQ(n_ok, 16u);
  EXPECT_EQ(n_clipped, 16u);
  EXPECT_EQ(n_unmapped, 0u);
  ASSERT_EQ(mem.debug_accesses.size(), 2u);
  EXPECT_EQ(mem.debug_accesses[0].address, 0x10u);
  EXPECT_EQ(mem.debug_accesses[1].length, 16u);
  EXPECT_EQ(ledger.total_j(), 0.0);
  EXPECT_EQ(bus.timeline().reservations(), 0u);
  EXPECT_EQ(sc_core::sc_time_stamp(), sc_core::SC_ZERO_TIME);
}

TEST(SharedBus, DmiIsDeniedThroughTheBus) {
  EnergyLedger ledger;
  TraceSink trace;
  SharedBus bus("bus", bus_config(), ledger, trace);
  RecordingTarget mem("mem");
  mem.grant_dmi_hint = true;
  bus.isock.bind(mem.sock);
  bus.map(0, 0x0, 0x100, "mem");
  bool granted = true, hint = true;
  tlm::tlm_dmi dmi;
  uint8_t buf[4] = {};
  Driver d("d", [&](Driver& self) {
    granted = self.dmi(0x10, dmi);
    sc_time delay = sc_core::SC_ZERO_TIME;
    self.transact(tlm::TLM_READ_COMMAND, 0x10, buf, 4, delay);
    hint = self.last_dmi_allowed;
  });
  d.sock.bind(bus.tsock);
  sc_core::sc_start();
  EXPECT_FALSE(granted);
  EXPECT_FALSE(hint);
  EXPECT_EQ(dmi.get_granted_access(), tlm::tlm_dmi::DMI_ACCESS_NONE);
}

TEST(SharedBus, TraceSpanPerTransfer) {
  EnergyLedger ledger;
  TraceStore trace;
  SharedBus bus("bus", bus_config(), ledger, trace);
  RecordingTarget mem("mem");
  bus.isock.bind(mem.sock);
  bus.map(0, 0x0, 0x1000, "sram");
  const int fc2 = ledger.layer("fc2");
  uint8_t buf[64] = {};
  Driver d("d", [&](Driver& self) {
    sc_core::wait(ps(5000));
    sc_time delay = ps(1000);
    Driver::Options opt;
    opt.accounting = Accounting(fc2, Phase::infer);
    self.transact(tlm::TLM_WRITE_COMMAND, 0x40, buf, 64, delay, opt);
    self.transact(tlm::TLM_READ_COMMAND, 0x9000, buf, 4, delay);  // unmapped: an instant
  });
  d.sock.bind(bus.tsock);
  sc_core::sc_start();
  const nlohmann::json doc = nlohmann::json::parse(find_trace_format("chrome")->make()->to_string(trace));
  int spans = 0, instants = 0;
  for (const auto& e : doc.at("traceEvents")) {
    if (e.at("ph") == "X") {
      ++spans;
      EXPECT_EQ(e.at("name"), "wr sram");
      EXPECT_EQ(e.at("tid"), bus.trace_track() + 1);
      EXPECT_DOUBLE_EQ(e.at("ts").get<double>(), 0.006);          // 5000 + 1000 ps
      EXPECT_DOUBLE_EQ(e.at("dur").get<double>(), kOcc64 * 1e-6);
      EXPECT_EQ(e.at("args").at("bytes"), 64);
      EXPECT_DOUBLE_EQ(e.at("args").at("energy_pj").get<double>(), 64 * 0.43);
      EXPECT_EQ(e.at("args").at("layer"), "fc2");
    }
    if (e.at("ph") == "i") {
      ++instants;
      EXPECT_EQ(e.at("name"), "decode error");
    }
  }
  EXPECT_EQ(spans, 1);
  EXPECT_EQ(instants, 1);
}

TEST(SharedBus, EndToEndWithSram) {
  EnergyLedger ledger;
  TraceSink trace;
  SharedBus bus("bus", bus_config(), ledger, trace);
  config::SramConfig sc;
  sc.size_kib = 4;
  sc.latency_ns = 2.0;
  sc.e_wire_bit_mm_pj = 0.0;  // the bank's 1.25 pJ/B only (the wire term: test_sram_cost.cpp)
  Sram sram("sram", sc, ledger, trace);
  bus.isock.bind(sram.tsock);
  bus.map(0, 0x8000'0000, sram.size_bytes(), "sram");
  std::vector<uint8_t> out(64), in(64);
  for (int i = 0; i < 64; ++i) out[i] = static_cast<uint8_t>(3 * i + 1);
  uint64_t d_write = 0, d_read = 0;
  Driver d("d", [&](Driver& self) {
    sc_time delay = sc_core::SC_ZERO_TIME;
    EXPECT_EQ(self.transact(tlm::TLM_WRITE_COMMAND, 0x8000'0100, out.data(), 64, delay),
              tlm::TLM_OK_RESPONSE);
    d_write = to_ps(delay);
    sc_core::wait(delay);
    delay = sc_core::SC_ZERO_TIME;
    EXPECT_EQ(self.transact(tlm::TLM_READ_COMMAND, 0x8000'0100, in.data(), 64, delay),
              tlm::TLM_OK_RESPONSE);
    d_read = to_ps(delay);
    // The SRAM's own range errors come back through the bus unchanged.
    delay = sc_core::SC_ZERO_TIME;
    uint8_t be[4] = {0xff, 0, 0xff, 0};
    Driver::Options with_be;
    with_be.byte_enables = be;
    with_be.byte_enable_length = 4;
    EXPECT_EQ(self.transact(tlm::TLM_WRITE_COMMAND, 0x8000'0000, out.data(), 4, delay, with_be),
              tlm::TLM_BYTE_ENABLE_ERROR_RESPONSE);
  });
  d.sock.bind(bus.tsock);
  sc_core::sc_start();
  EXPECT_EQ(in, out);
  EXPECT_EQ(sram.data()[0x100], 1);
  EXPECT_EQ(d_write, kOcc64 + 2000);
  EXPECT_EQ(d_read, kOcc64 + 2000);
  EXPECT_DOUBLE_EQ(ledger.component_j(bus.ledger_component()), 128 * 0.43e-12);
  EXPECT_DOUBLE_EQ(ledger.component_j(sram.ledger_component()), 128 * 1.25e-12);
  EXPECT_EQ(bus.bytes_moved(), 128u);  // the refused write moved nothing
}
