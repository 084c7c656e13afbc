// The activation SRAM's cost law (plain C++): what a byte read or written costs, what the SRAM
// leaks and its area, from its configuration (sram.*; docs/chip-model.md, "SRAM"). The SRAM is
// built of banks of `bank_kib`; an access reads one bank and crosses the wires from the SRAM's port
// to that bank:
//   e_byte  = e_ref * sqrt(bank_kib / ref_bank_kib)     reference-chips 5a (Horowitz): a 64-bit read
//             + 8 * e_wire_bit_mm * L                    of an 8 KB, 32 KB, 1 MB SRAM costs 10, 20,
//                                                        100 pJ: sqrt of the capacity within 14 %
//   L       = 0.5 * sqrt(area)                           D: mean distance from the port of an H-tree
//                                                        to a bank, about half the side
//   leakage = size_kib * p_static_uw_per_kib; area = size_kib * area_um2_per_kib
// So a larger SRAM costs more per byte (longer wires, and larger banks if bank_kib grows), leaks and
// takes area in proportion to its size.
#pragma once

#include <cmath>

#include "config/platform_config.h"

namespace aimc::sim {

struct SramCost {
  double e_read_byte_pj = 0, e_write_byte_pj = 0;  // per byte, wires included
  double e_wire_byte_pj = 0;                       // the wires' part of either
  double p_static_w = 0;                           // leakage of the whole SRAM
  double area_um2 = 0;
};

inline SramCost sram_cost(const config::SramConfig& c) {
  SramCost k;
  k.area_um2 = c.size_kib * c.area_um2_per_kib;
  const double side_mm = std::sqrt(k.area_um2 * 1e-6);
  k.e_wire_byte_pj = 8.0 * c.e_wire_bit_mm_pj * 0.5 * side_mm;
  const double bank = c.bank_kib == c.ref_bank_kib ? 1.0 : std::sqrt(static_cast<double>(c.bank_kib) / c.ref_bank_kib);
  k.e_read_byte_pj = c.e_read_byte_pj * bank + k.e_wire_byte_pj;
  k.e_write_byte_pj = c.e_write_byte_pj * bank + k.e_wire_byte_pj;
  k.p_static_w = c.size_kib * c.p_static_uw_per_kib * 1e-6;
  return k;
}

}  // namespace aimc::sim
