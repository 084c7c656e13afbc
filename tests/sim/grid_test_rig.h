// A 2 x 2 grid interconnect (sim/grid_interconnect.h: the mesh or the links) for the SystemC
// tests: the SRAM at 0x0, tile t at 0x1000 * (t + 1), the port below tile 2, tiles 0.5 mm apart;
// and send(), one write from src to one or more destinations (a Route with `also`).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "sim_test_helpers.h"

namespace aimc::sim::testing {

template <class Kind, class Config>
struct GridRig {
  EnergyLedger ledger;
  TraceSink trace;
  Kind ic;
  RecordingTarget sram{"sram"};
  std::vector<std::unique_ptr<RecordingTarget>> tiles;
  GridRig(const char* name, const Config& c) : ic(name, c, 2, 2, ledger, trace) {
    ic.isock.bind(sram.sock);
    ic.map(0, 0x0, 0x1000, "sram", Endpoint::sram());
    for (int t = 0; t < 4; ++t) {
      tiles.push_back(std::make_unique<RecordingTarget>(("tile" + std::to_string(t)).c_str()));
      ic.isock.bind(tiles.back()->sock);
      ic.map(t + 1, 0x1000u * static_cast<unsigned>(t + 1), 0x1000, "tile" + std::to_string(t), Endpoint::tile(t));
    }
    Floorplan f;
    f.rows = f.cols = 2;
    f.tile_pitch_mm = 0.5;
    ic.set_floorplan(f);
  }
};

// Writes `bytes` from src to dsts (the first addressed, the others in Route::also), issued
// at_ps ahead; returns the delay the interconnect gave it, in ps.
inline uint64_t send(Driver& d, Endpoint src, std::vector<Endpoint> dsts, uint64_t bytes, uint64_t at_ps = 0) {
  static std::vector<uint8_t> buf(4096);
  Driver::Options o;
  o.route = Route(src, dsts.front());
  o.route->also.assign(dsts.begin() + 1, dsts.end());
  sc_core::sc_time delay = ps_to_time(at_ps);
  const uint64_t addr = dsts.front().kind == Endpoint::Kind::tile ? 0x1000u * (dsts.front().index + 1) : 0;
  EXPECT_EQ(d.transact(tlm::TLM_WRITE_COMMAND, addr, buf.data(), static_cast<unsigned>(bytes), delay, o),
            tlm::TLM_OK_RESPONSE);
  return to_ps(delay);
}

}  // namespace aimc::sim::testing
