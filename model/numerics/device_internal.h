// Helpers shared by the device physics' own files (device.cpp, program_verify*.cpp, devices/):
// not part of the API.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>

#include "numerics/device.h"

namespace aimc::num::detail {

std::string fmt(double v);

// Throws std::invalid_argument when temp_c is not a finite temperature above absolute zero.
void check_temperature(const char* who, double temp_c);

// Throws std::invalid_argument when the state's matrices are not all rows x cols.
void check_state(const char* who, const CellState& s);

inline double g_min_norm(const DevicePhysics& p) { return p.cell.g_min_ns / p.cell.g_max_ns; }

inline bool is_stuck(uint8_t fault) { return (fault & (kStuckLow | kStuckHigh)) != 0; }

// What a stuck cell reads (normalized). validate()-ed states never carry both bits; if a
// hand-made one does, stuck-low wins.
inline double stuck_value(uint8_t fault, double g_min) { return (fault & kStuckLow) ? g_min : 1.0; }

inline uint8_t worn_bits(const DevicePhysics& p) {
  return static_cast<uint8_t>(kWorn | (p.worn == WornMode::stuck_low ? kStuckLow : kStuckHigh));
}

// Position of g in the programmable range, 0 at g_min, 1 at g_max, clamped so that the
// interpolated nu and Ea never leave the interval spanned by their two configured values.
inline double range_fraction(double g, double g_min) {
  return std::min(std::max((g - g_min) / (1.0 - g_min), 0.0), 1.0);
}

}  // namespace aimc::num::detail
