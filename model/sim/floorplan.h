// Where the chip's blocks sit, as far as wires care (plain C++): the tiles on their grid, each a
// square of its blocks' area, the SRAM and the host interface at the grid's foot. Interconnects
// read their wire lengths from it (docs/chip-model.md, "Interconnect"); the chip fills it in from
// its tiles' areas (chip/chip.cpp).
#pragma once

namespace aimc::sim {

struct Floorplan {
  int rows = 1, cols = 1;      // the tile grid
  double tile_pitch_mm = 0.0;  // side of one tile: sqrt of its blocks' area
  double width_mm() const { return cols * tile_pitch_mm; }
  double height_mm() const { return rows * tile_pitch_mm; }
  // A shared bus laid out as a comb: a trunk up the grid from its foot (where the SRAM and the
  // host interface are) and a branch along every row of tiles. Every transfer drives all of it.
  double comb_bus_mm() const { return height_mm() + rows * width_mm(); }
};

}  // namespace aimc::sim
