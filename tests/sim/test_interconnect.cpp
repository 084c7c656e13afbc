// The interconnect interface (sim/interconnect.h): what the base class decides for every kind
// (endpoints of a transfer, energy only for answered transfers) and the registry of kinds.
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "config/platform_config.h"
#include "sim/interconnect_registry.h"
#include "sim_test_helpers.h"

using namespace aimc::sim;
using aimc::sim::testing::Driver;
using aimc::sim::testing::RecordingTarget;
using sc_core::sc_time;

namespace {

// A kind that records the endpoints it is asked to book and holds the medium 1 ns per byte,
// 1 pJ per byte: enough to see what the base class hands a kind.
class RecordingInterconnect final : public Interconnect {
 public:
  RecordingInterconnect(const sc_core::sc_module_name& name, EnergyLedger& ledger, TraceSink& trace)
      : Interconnect(name, ledger, trace, "noc") {}
  struct Booking {
    Endpoint src, dst;
    uint64_t bytes, arrival_ps;
  };
  std::vector<Booking> bookings;
  uint64_t occupancy_ps(const Endpoint&, const Endpoint&, uint64_t bytes) const override {
    return bytes * 1000;
  }
  InterconnectStats stats() const override { return {transfers(), bytes_moved(), 0, 0, {}, {}}; }
  const char* kind() const override { return "recording"; }
  double wire_mm(const Endpoint&, const Endpoint&) const override { return 0.0; }
  double area_um2() const override { return 0.0; }

 private:
  Grant book(const Endpoint& src, const Endpoint* dsts, size_t ndst, uint64_t bytes, uint64_t arrival_ps,
             uint64_t, Phase) override {
    EXPECT_EQ(ndst, 1u);  // not a multicast kind: the base class books one destination at a time
    bookings.push_back({src, dsts[0], bytes, arrival_ps});
    Grant g;
    g.start_ps = arrival_ps;
    g.end_ps = arrival_ps + bytes * 1000;
    g.energy_j = static_cast<double>(bytes) * 1e-12;
    g.busy_ps = bytes * 1000;
    return g;
  }
};

}  // namespace

TEST(Interconnect, EndpointsComeFromThePortsOrFromTheRoute) {
  EnergyLedger ledger;
  TraceSink trace;
  RecordingInterconnect noc("noc", ledger, trace);
  RecordingTarget sram("sram"), tile3("tile3");
  noc.isock.bind(sram.sock);
  noc.isock.bind(tile3.sock);
  noc.map(0, 0x1000, 0x100, "sram", Endpoint::sram());
  noc.map(1, 0x2000, 0x100, "tile3", Endpoint::tile(3));
  uint8_t buf[16] = {};
  Driver d("d", [&](Driver& self) {
    sc_time delay = sc_core::SC_ZERO_TIME;
    // No route: from the initiator's endpoint to the addressed region's.
    EXPECT_EQ(self.transact(tlm::TLM_WRITE_COMMAND, 0x2000, buf, 16, delay), tlm::TLM_OK_RESPONSE);
    // A route: a partial sum of tile 1 on its way to tile 3, moved by the sequencer.
    Driver::Options o;
    o.route = Route(Endpoint::tile(1), Endpoint::tile(3));
    EXPECT_EQ(self.transact(tlm::TLM_WRITE_COMMAND, 0x2010, buf, 8, delay, o), tlm::TLM_OK_RESPONSE);
    // A read of SRAM into tile 3 (im2col patches).
    o.route = Route(Endpoint::sram(), Endpoint::tile(3));
    EXPECT_EQ(self.transact(tlm::TLM_READ_COMMAND, 0x1000, buf, 4, delay, o), tlm::TLM_OK_RESPONSE);
    // Unmapped: no booking, no energy.
    EXPECT_EQ(self.transact(tlm::TLM_READ_COMMAND, 0x9000, buf, 4, delay), tlm::TLM_ADDRESS_ERROR_RESPONSE);
  });
  d.sock.bind(noc.tsock);
  noc.set_initiator_endpoint(0, Endpoint::host());
  sc_core::sc_start();
  ASSERT_EQ(noc.bookings.size(), 3u);
  EXPECT_EQ(noc.bookings[0].src, Endpoint::host());
  EXPECT_EQ(noc.bookings[0].dst, Endpoint::tile(3));
  EXPECT_EQ(noc.bookings[1].src, Endpoint::tile(1));
  EXPECT_EQ(noc.bookings[1].dst, Endpoint::tile(3));
  EXPECT_EQ(noc.bookings[2].src, Endpoint::sram());
  EXPECT_EQ(to_string(noc.bookings[2].dst), "tile3");
  // The kind's grant sets the initiator's time: 16 + 8 + 4 bytes at 1 ns each, back to back.
  EXPECT_EQ(noc.bookings[1].arrival_ps, 16000u);
  EXPECT_EQ(noc.bookings[2].arrival_ps, 24000u);
  EXPECT_DOUBLE_EQ(ledger.component_j(noc.ledger_component()), 28e-12);
  EXPECT_EQ(noc.stats().bytes, 28u);
  EXPECT_EQ(noc.stats().transfers, 3u);
}

// A transfer for several destinations (Route::also) on a kind without multicast: the base class
// books it once per destination, one after the other, and charges them all.
TEST(Interconnect, WithoutMulticastEachDestinationIsItsOwnTransfer) {
  EnergyLedger ledger;
  TraceSink trace;
  RecordingInterconnect noc("noc", ledger, trace);
  RecordingTarget sram("sram");
  noc.isock.bind(sram.sock);
  noc.map(0, 0x1000, 0x100, "sram", Endpoint::sram());
  uint8_t buf[16] = {};
  uint64_t delay_ps = 0;
  Driver d("d", [&](Driver& self) {
    sc_time delay = sc_core::SC_ZERO_TIME;
    Driver::Options o;
    o.route = Route(Endpoint::sram(), Endpoint::tile(1));
    o.route->also = {Endpoint::tile(2), Endpoint::tile(3)};
    EXPECT_EQ(self.transact(tlm::TLM_READ_COMMAND, 0x1000, buf, 16, delay, o), tlm::TLM_OK_RESPONSE);
    delay_ps = aimc::sim::to_ps(delay);
  });
  d.sock.bind(noc.tsock);
  sc_core::sc_start();
  ASSERT_EQ(noc.bookings.size(), 3u);
  EXPECT_EQ(noc.bookings[0].dst, Endpoint::tile(1));
  EXPECT_EQ(noc.bookings[1].dst, Endpoint::tile(2));
  EXPECT_EQ(noc.bookings[2].dst, Endpoint::tile(3));
  EXPECT_EQ(noc.bookings[1].arrival_ps, 16000u);  // after the first one
  EXPECT_EQ(noc.bookings[2].arrival_ps, 32000u);
  EXPECT_EQ(delay_ps, 48000u);
  EXPECT_DOUBLE_EQ(ledger.component_j(noc.ledger_component()), 48e-12);
  EXPECT_EQ(noc.stats().transfers, 1u);  // one transaction
}

// The base class books each transfer's medium time (the kind's Grant::busy_ps) to the phase the
// transfer is charged to: its Accounting's, else the default phase, else the ledger's.
TEST(Interconnect, BusyTimeGoesToTheTransfersPhase) {
  EnergyLedger ledger;
  TraceSink trace;
  RecordingInterconnect noc("noc", ledger, trace);
  RecordingTarget sram("sram");
  noc.isock.bind(sram.sock);
  noc.map(0, 0x1000, 0x100, "sram", Endpoint::sram());
  uint8_t buf[64] = {};
  Driver d("d", [&](Driver& self) {
    sc_time delay = sc_core::SC_ZERO_TIME;
    // No extension, ledger in deploy: deploy.
    EXPECT_EQ(self.transact(tlm::TLM_WRITE_COMMAND, 0x1000, buf, 16, delay), tlm::TLM_OK_RESPONSE);
    // An infer command's transfer while the ledger is still in deploy (the sequencer's extension).
    Driver::Options infer;
    infer.accounting = Accounting(EnergyLedger::kNoLayer, Phase::infer);
    EXPECT_EQ(self.transact(tlm::TLM_READ_COMMAND, 0x1000, buf, 64, delay, infer), tlm::TLM_OK_RESPONSE);
    // Held but not charged (charge = false): the medium time still counts, in its phase.
    infer.accounting->charge = false;
    EXPECT_EQ(self.transact(tlm::TLM_READ_COMMAND, 0x1000, buf, 8, delay, infer), tlm::TLM_OK_RESPONSE);
    // Unmapped: nothing booked.
    EXPECT_EQ(self.transact(tlm::TLM_READ_COMMAND, 0x9000, buf, 4, delay, infer), tlm::TLM_ADDRESS_ERROR_RESPONSE);
    // The ledger moves to infer: a transfer without extension follows it.
    ledger.set_phase(Phase::infer, 0);
    EXPECT_EQ(self.transact(tlm::TLM_WRITE_COMMAND, 0x1000, buf, 4, delay), tlm::TLM_OK_RESPONSE);
  });
  d.sock.bind(noc.tsock);
  sc_core::sc_start();
  const auto& by_phase = noc.busy_ps_by_phase();
  EXPECT_EQ(by_phase[static_cast<size_t>(Phase::deploy)], 16000u);
  EXPECT_EQ(by_phase[static_cast<size_t>(Phase::infer)], (64u + 8u + 4u) * 1000u);
}

TEST(Interconnect, RegistryBuildsTheSharedBusAndRefusesUnknownKinds) {
  EnergyLedger ledger;
  TraceSink trace;
  aimc::config::PlatformConfig cfg;
  ASSERT_FALSE(interconnect_kinds().empty());
  auto bus = make_interconnect("shared_bus", "bus", cfg, ledger, trace);
  ASSERT_NE(bus, nullptr);
  EXPECT_STREQ(bus->kind(), "shared_bus");
  // The shared bus ignores the route: one medium for all.
  EXPECT_EQ(bus->occupancy_ps(Endpoint::sram(), Endpoint::tile(0), 64),
            bus->occupancy_ps(Endpoint::tile(5), Endpoint::tile(0), 64));
  // Every kind the config spells (interconnect.kind) is built by the registry under that name.
  for (const char* name : aimc::config::kInterconnectKindNames) {
    auto ic = make_interconnect(name, (std::string(name) + "_x").c_str(), cfg, ledger, trace);
    ASSERT_NE(ic, nullptr) << name;
    EXPECT_STREQ(ic->kind(), name);
  }
  EXPECT_EQ(interconnect_kinds().size(), static_cast<size_t>(aimc::config::kInterconnectKindCount));
  try {
    make_interconnect("mesh9", "noc", cfg, ledger, trace);
    FAIL() << "an unknown kind was built";
  } catch (const std::invalid_argument& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("mesh9"), std::string::npos) << what;
    EXPECT_NE(what.find("shared_bus"), std::string::npos) << what;
  }
}
