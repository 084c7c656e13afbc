// The SRAM's cost law (sim/sram_cost.h): energy per byte from the bank size and the wires to the
// bank, leakage and area in proportion to the size.
#include <cmath>

#include <gtest/gtest.h>

#include "sim/sram_cost.h"

namespace aimc::sim {
namespace {

config::SramConfig sram(int size_kib, int bank_kib) {
  config::SramConfig c;
  c.size_kib = size_kib;
  c.bank_kib = bank_kib;
  c.ref_bank_kib = 8;
  c.e_read_byte_pj = 1.25;
  c.e_write_byte_pj = 1.5;
  c.e_wire_bit_mm_pj = 0.1;
  c.p_static_uw_per_kib = 0.39;
  c.area_um2_per_kib = 6550.0;
  return c;
}

TEST(SramCost, BankEnergyFollowsHorowitzsCapacityPoints) {
  // reference-chips 5a: 64-bit reads of 8 KB, 32 KB, 1 MB SRAMs cost 10, 20, 100 pJ. Without
  // wires, the law's sqrt(capacity) gives them within 14 %.
  config::SramConfig c = sram(8, 8);
  c.e_read_byte_pj = 10.0 / 8;
  c.e_wire_bit_mm_pj = 0.0;
  const std::pair<int, double> points[] = {{8, 10.0}, {32, 20.0}, {1024, 100.0}};
  for (const auto& [kib, pj64] : points) {
    c.size_kib = c.bank_kib = kib;
    EXPECT_NEAR(8 * sram_cost(c).e_read_byte_pj / pj64, 1.0, 0.14) << kib << " KiB";
  }
}

TEST(SramCost, WiresMakeALargerSramCostMorePerByte) {
  double prev = 0;
  for (int kib : {64, 256, 1024, 2048, 8192}) {
    const SramCost k = sram_cost(sram(kib, 8));
    // Half the side of kib * 6550 um^2, 8 bits at 0.1 pJ/(bit mm), on top of the 8 KiB bank's 1.25 pJ.
    const double side_mm = std::sqrt(kib * 6550.0 * 1e-6);
    EXPECT_NEAR(k.e_wire_byte_pj, 8 * 0.1 * 0.5 * side_mm, 1e-12) << kib;
    EXPECT_NEAR(k.e_read_byte_pj, 1.25 + k.e_wire_byte_pj, 1e-12) << kib;
    EXPECT_NEAR(k.e_write_byte_pj, 1.5 + k.e_wire_byte_pj, 1e-12) << kib;
    EXPECT_GT(k.e_read_byte_pj, prev) << kib;
    prev = k.e_read_byte_pj;
    EXPECT_DOUBLE_EQ(k.p_static_w, kib * 0.39e-6);
    EXPECT_DOUBLE_EQ(k.area_um2, kib * 6550.0);
  }
  // Larger banks cost more per access: 4x the bank, 2x the bank's energy.
  EXPECT_NEAR(sram_cost(sram(2048, 32)).e_read_byte_pj - sram_cost(sram(2048, 32)).e_wire_byte_pj, 2.5, 1e-12);
}

}  // namespace
}  // namespace aimc::sim
