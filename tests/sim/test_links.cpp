// Point-to-point links between neighbouring tiles (sim/links.h): store and forward through the
// tiles, contention per link, multicast relayed along the XY tree, energy per link crossed.
#include <vector>

#include <gtest/gtest.h>

#include "sim/links.h"
#include "grid_test_rig.h"
#include "sim_test_helpers.h"

using namespace aimc::sim;
using aimc::sim::testing::Driver;
using aimc::sim::testing::RecordingTarget;
using sc_core::sc_time;
namespace config = aimc::config;

namespace {

// 8 Gbit/s: one byte per ns; a 64-byte packet holds a link 64000 ps and has crossed it 1000 ps later.
config::LinksConfig links_config() {
  config::LinksConfig c;
  c.gbit_per_s = 8.0;
  c.latency_ns = 1.0;
  c.max_packet_bytes = 64;
  c.e_bit_pj = 0.1;
  c.e_wire_bit_mm_pj = 0.0;
  c.p_static_uw_per_link = 2.0;
  c.area_um2_per_link = 10.0;
  return c;
}
constexpr uint64_t kHold64 = 64000, kLat = 1000;

// The 2 x 2 grid of grid_test_rig.h with this kind.
struct LinksRig : aimc::sim::testing::GridRig<Links, config::LinksConfig> {
  explicit LinksRig(config::LinksConfig c = links_config()) : GridRig("links", c) {}
  Links& links = ic;
};
using aimc::sim::testing::send;

}  // namespace

TEST(Links, APacketIsRelayedWholeFromLinkToLink) {
  LinksRig r;
  EXPECT_STREQ(r.links.kind(), "links");
  // SRAM (port) -> tile 0: port->tile2, then tile 2 relays it on tile2->tile0.
  EXPECT_EQ(r.links.occupancy_ps(Endpoint::sram(), Endpoint::tile(0), 64), 2 * (kHold64 + kLat));
  // Two packets: the second follows the first one link behind.
  EXPECT_EQ(r.links.occupancy_ps(Endpoint::sram(), Endpoint::tile(0), 128), 3 * kHold64 + 2 * kLat);
  EXPECT_EQ(r.links.occupancy_ps(Endpoint::host(), Endpoint::sram(), 128), 0u);  // no link between them
  // 2 x 2 grid: 4 neighbour pairs and the port's: 5 links.
  EXPECT_DOUBLE_EQ(r.links.area_um2(), 5 * 10.0);
  EXPECT_DOUBLE_EQ(r.ledger.static_power_w(r.links.ledger_component()), 5 * 2e-6);
  uint64_t one = 0, two = 0;
  Driver d("d", [&](Driver& self) {
    one = send(self, Endpoint::sram(), {Endpoint::tile(0)}, 64);
    two = send(self, Endpoint::sram(), {Endpoint::tile(0)}, 128);
  });
  d.sock.bind(r.links.tsock);
  sc_core::sc_start();
  EXPECT_EQ(one, 2 * (kHold64 + kLat));
  // Issued at 0 too, behind the first transfer on port->tile2 (free from 64000) and tile2->tile0
  // (free from 129000): packet 1 crosses them at [64000, 128000) and [129000, 193000), packet 2 at
  // [128000, 192000) and [193000, 257000).
  EXPECT_EQ(two, 257000u + kLat);
  EXPECT_NEAR(r.ledger.component_j(r.links.ledger_component()), (512 + 1024) * 2 * 0.1e-12, 1e-18);
}

TEST(Links, AMulticastIsRelayedAlongTheTree) {
  LinksRig r;
  uint64_t took = 0;
  Driver d("d", [&](Driver& self) {
    took = send(self, Endpoint::sram(), {Endpoint::tile(0), Endpoint::tile(1), Endpoint::tile(2), Endpoint::tile(3)}, 64);
  });
  d.sock.bind(r.links.tsock);
  sc_core::sc_start();
  // port->tile2, then tile 2 sends to tiles 0 and 3 at once, tile 3 to tile 1: three links deep.
  EXPECT_EQ(took, 3 * (kHold64 + kLat));
  EXPECT_NEAR(r.ledger.component_j(r.links.ledger_component()), 512 * 4 * 0.1e-12, 1e-18);
  const InterconnectStats s = r.links.stats();
  EXPECT_EQ(s.busy_ps, 4 * kHold64);
  for (const auto& l : s.links) {
    const bool in_tree = l.name == "port->tile2" || l.name == "tile2->tile3" || l.name == "tile2->tile0" ||
                         l.name == "tile3->tile1";
    EXPECT_EQ(l.busy_ps_by_phase[static_cast<size_t>(r.ledger.phase())], in_tree ? kHold64 : 0u) << l.name;
  }
}

TEST(Links, WithoutMulticastEachTileGetsItsOwnCopy) {
  config::LinksConfig c = links_config();
  c.multicast = false;
  LinksRig r(c);
  Driver d("d", [&](Driver& self) {
    send(self, Endpoint::sram(), {Endpoint::tile(0), Endpoint::tile(1), Endpoint::tile(2), Endpoint::tile(3)}, 64);
  });
  d.sock.bind(r.links.tsock);
  sc_core::sc_start();
  EXPECT_NEAR(r.ledger.component_j(r.links.ledger_component()), 512 * (2 + 3 + 1 + 2) * 0.1e-12, 1e-18);
  EXPECT_EQ(r.links.stats().busy_ps, (2 + 3 + 1 + 2) * kHold64);
}

TEST(Links, ASharedLinkSerializesAndDisjointOnesDoNot) {
  LinksRig r;
  uint64_t a = 0, b = 0, c = 0;
  Driver d("d", [&](Driver& self) {
    a = send(self, Endpoint::tile(0), {Endpoint::tile(1)}, 64);
    b = send(self, Endpoint::tile(2), {Endpoint::tile(3)}, 64);
    c = send(self, Endpoint::tile(0), {Endpoint::tile(1)}, 64);
  });
  d.sock.bind(r.links.tsock);
  sc_core::sc_start();
  EXPECT_EQ(a, kHold64 + kLat);
  EXPECT_EQ(b, kHold64 + kLat);
  EXPECT_EQ(c, 2 * kHold64 + kLat);
  EXPECT_EQ(r.links.stats().wait_ps, kHold64);
}

TEST(Links, RefusesABadConfig) {
  EnergyLedger ledger;
  TraceSink trace;
  config::LinksConfig c = links_config();
  c.gbit_per_s = 0;
  EXPECT_THROW(Links("bad", c, 2, 2, ledger, trace), std::invalid_argument);
  Links l("links", links_config(), 2, 2, ledger, trace);
  EXPECT_THROW(l.node_of(Endpoint::tile(4)), std::out_of_range);
}
