// The 2D mesh network on chip (sim/mesh.h): a packet's time on an idle network, contention per
// link (disjoint routes run side by side, a shared link serializes), multicast along the XY tree,
// energy per router and wire, and the links' busy time by phase.
#include <vector>

#include <gtest/gtest.h>

#include "sim/mesh.h"
#include "grid_test_rig.h"
#include "sim_test_helpers.h"

using namespace aimc::sim;
using aimc::sim::testing::Driver;
using aimc::sim::testing::RecordingTarget;
using sc_core::sc_time;
namespace config = aimc::config;

namespace {

// 8 B per cycle at 1 GHz (1000 ps), 2 cycles per hop (2000 ps), 64-byte packets: 64 bytes are
// 1 + 8 = 9 flits, 9000 ps on each link.
config::MeshConfig mesh_config() {
  config::MeshConfig c;
  c.width_bytes = 8;
  c.clock_mhz = 1000.0;
  c.hop_cycles = 2;
  c.max_packet_bytes = 64;
  c.e_bit_hop_pj = 0.1;
  c.e_wire_bit_mm_pj = 0.0;
  c.p_static_uw_per_router = 1.0;
  c.router_area_um2 = 100.0;
  return c;
}
constexpr uint64_t kHop = 2000, kFlits64 = 9000;

// The 2 x 2 grid of grid_test_rig.h with this kind.
struct MeshRig : aimc::sim::testing::GridRig<Mesh, config::MeshConfig> {
  explicit MeshRig(config::MeshConfig c = mesh_config()) : GridRig("noc", c) {}
  Mesh& mesh = ic;
};
using aimc::sim::testing::send;

}  // namespace

TEST(Mesh, APacketTakesItsHopsAndFlitsOnAnIdleNetwork) {
  MeshRig r;
  EXPECT_STREQ(r.mesh.kind(), "mesh");
  // SRAM (port) -> tile 0: port->tile2->tile0, 2 links, 3 routers.
  EXPECT_EQ(r.mesh.occupancy_ps(Endpoint::sram(), Endpoint::tile(0), 64), 3 * kHop + kFlits64);
  // Two packets: the second leaves the source when the first has (9000 + 1 + 1 flit = 2000 ps).
  EXPECT_EQ(r.mesh.occupancy_ps(Endpoint::sram(), Endpoint::tile(0), 66), 3 * kHop + kFlits64 + 2000);
  EXPECT_DOUBLE_EQ(r.mesh.wire_mm(Endpoint::sram(), Endpoint::tile(0)), 2 * 0.5);
  EXPECT_DOUBLE_EQ(r.mesh.area_um2(), 5 * 100.0);  // 4 tiles' routers and the port's
  EXPECT_DOUBLE_EQ(r.ledger.static_power_w(r.mesh.ledger_component()), 5e-6);
  uint64_t took = 0;
  Driver d("d", [&](Driver& self) { took = send(self, Endpoint::sram(), {Endpoint::tile(0)}, 64); });
  d.sock.bind(r.mesh.tsock);
  sc_core::sc_start();
  EXPECT_EQ(took, 3 * kHop + kFlits64);
  // 512 bits x 3 routers x 0.1 pJ (no wire energy here).
  EXPECT_NEAR(r.ledger.component_j(r.mesh.ledger_component()), 512 * 3 * 0.1e-12, 1e-18);
}

TEST(Mesh, DisjointRoutesRunSideBySideAndASharedLinkSerializes) {
  MeshRig r;
  uint64_t a = 0, b = 0, c = 0;
  Driver d("d", [&](Driver& self) {
    a = send(self, Endpoint::tile(0), {Endpoint::tile(1)}, 64);  // tile0->tile1
    b = send(self, Endpoint::tile(2), {Endpoint::tile(3)}, 64);  // tile2->tile3: other links
    c = send(self, Endpoint::tile(0), {Endpoint::tile(1)}, 64);  // the same link as a
  });
  d.sock.bind(r.mesh.tsock);
  sc_core::sc_start();
  EXPECT_EQ(a, 2 * kHop + kFlits64);
  EXPECT_EQ(b, 2 * kHop + kFlits64);      // not delayed by a
  EXPECT_EQ(c, 2 * kHop + 2 * kFlits64);  // waits for a's flits to clear tile0->tile1
  const InterconnectStats s = r.mesh.stats();
  EXPECT_EQ(s.wait_ps, kFlits64);
  EXPECT_EQ(s.busy_ps, 3 * kFlits64);
  for (const auto& l : s.links) {
    const uint64_t held = l.busy_ps_by_phase[static_cast<size_t>(r.ledger.phase())];
    const uint64_t want = l.name == "tile0->tile1" ? 2 * kFlits64 : l.name == "tile2->tile3" ? kFlits64 : 0;
    EXPECT_EQ(held, want) << l.name;
  }
}

TEST(Mesh, AMulticastCrossesEachLinkOfItsTreeOnce) {
  // From the SRAM to all four tiles: tree port->tile2, tile2->tile3, tile2->tile0, tile3->tile1.
  MeshRig r;
  EXPECT_TRUE(r.mesh.multicast());
  uint64_t took = 0;
  Driver d("m", [&](Driver& self) {
    took = send(self, Endpoint::sram(), {Endpoint::tile(0), Endpoint::tile(1), Endpoint::tile(2), Endpoint::tile(3)}, 64);
  });
  d.sock.bind(r.mesh.tsock);
  sc_core::sc_start();
  // Deepest destination tile 1 (port->tile2->tile3->tile1): 3 links, 4 routers.
  EXPECT_EQ(took, 4 * kHop + kFlits64);
  EXPECT_NEAR(r.ledger.component_j(r.mesh.ledger_component()), 512 * (4 + 1) * 0.1e-12, 1e-18);  // 4 links, 5 routers
  EXPECT_EQ(r.mesh.stats().busy_ps, 4 * kFlits64);
  EXPECT_EQ(r.mesh.stats().transfers, 1u);
}

// The same transfer without multicast: the base class sends four unicasts, one after the other,
// over 2 + 3 + 1 + 2 links (3 + 4 + 2 + 3 routers).
TEST(Mesh, WithoutMulticastEachTileGetsItsOwnCopy) {
  config::MeshConfig c = mesh_config();
  c.multicast = false;
  MeshRig r(c);
  EXPECT_FALSE(r.mesh.multicast());
  uint64_t took = 0;
  Driver d("u", [&](Driver& self) {
    took = send(self, Endpoint::sram(), {Endpoint::tile(0), Endpoint::tile(1), Endpoint::tile(2), Endpoint::tile(3)}, 64);
  });
  d.sock.bind(r.mesh.tsock);
  sc_core::sc_start();
  EXPECT_NEAR(r.ledger.component_j(r.mesh.ledger_component()), 512 * (3 + 4 + 2 + 3) * 0.1e-12, 1e-18);
  EXPECT_EQ(r.mesh.stats().busy_ps, (2 + 3 + 1 + 2) * kFlits64);
  // Each waits for the previous one's end: 3, 4, 2 and 3 hops of latency plus the flits each.
  EXPECT_EQ(took, (3 + 4 + 2 + 3) * kHop + 4 * kFlits64);
}

TEST(Mesh, WireEnergyIsPerMillimetreOfLinkCrossed) {
  config::MeshConfig c = mesh_config();
  c.e_bit_hop_pj = 0.0;
  c.e_wire_bit_mm_pj = 0.2;
  MeshRig r(c);
  Driver d("d", [&](Driver& self) { send(self, Endpoint::tile(0), {Endpoint::tile(3)}, 10); });
  d.sock.bind(r.mesh.tsock);
  sc_core::sc_start();
  // 80 bits over 2 links of 0.5 mm at 0.2 pJ/(bit mm).
  EXPECT_NEAR(r.ledger.component_j(r.mesh.ledger_component()), 80 * 1.0 * 0.2e-12, 1e-18);
}

TEST(Mesh, RefusesABadConfigAndATileOffTheGrid) {
  EnergyLedger ledger;
  TraceSink trace;
  config::MeshConfig c = mesh_config();
  c.width_bytes = 0;
  EXPECT_THROW(Mesh("bad", c, 2, 2, ledger, trace), std::invalid_argument);
  Mesh m("noc", mesh_config(), 2, 2, ledger, trace);
  EXPECT_THROW(m.node_of(Endpoint::tile(4)), std::out_of_range);
  EXPECT_EQ(m.node_of(Endpoint::host()), m.topology().port_node());
}
