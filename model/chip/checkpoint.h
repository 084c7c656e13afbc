// Checkpoint and restore of the programmed array state, so that a deployed chip can be reloaded
// without programming it again and long-retention studies can resume where they stopped.
//
// What a checkpoint holds, per tile: whether it holds weights and its used block, the time since
// it was programmed (at the moment of saving), the state of every cell (programmed conductances,
// drift exponents, endurance counters, fault bits, dead columns: numerics/device.h CellState),
// and the firmware-written tile registers that belong to the programmed state (TRIM, CAL_REF,
// GAIN). Plus the die temperature, the seed, and two fingerprints: the chip's (grid, array and
// device settings) and the caller's (e.g. the deployment image), which restore checks.
// Not held: ADC offsets and the random streams, which come from the seed of the run that restores.
//
// File format (little-endian; docs/checkpoint.md): "AIMCCKPT", u32 version (1), u32 length and
// the UTF-8 JSON header, then per tile a fixed record, then a u64 FNV-1a checksum of all bytes
// before it. A file that is truncated, corrupted or from another chip is refused with a message
// naming the file and what differs.
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "chip/chip.h"

namespace aimc::chip {

struct CheckpointError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// The chip's fingerprint: a short text of the settings a saved cell state depends on.
std::string chip_fingerprint(const config::PlatformConfig& cfg);

// Writes the chip's array state to `path`. `model_fingerprint` is stored as given (empty: none).
// Throws CheckpointError if the file cannot be written.
void save_checkpoint(const std::string& path, Chip& chip, const std::string& model_fingerprint);

// Reads `path` into the chip's tiles (before or during simulation); each tile's age continues from
// the saved one. The die temperature is left to the caller (the header has the saved one). Throws CheckpointError when the file is unreadable, corrupt, from a chip with
// other settings, or (when expected_model is not empty) saved with another model fingerprint.
// Returns the file's JSON header.
nlohmann::json restore_checkpoint(const std::string& path, Chip& chip,
                                  const std::string& expected_model);

// The firmware-written tile registers that belong to the programmed state (what a checkpoint
// holds besides the cells): a full reset (CTRL.FULL_RESET) returns them to their reset values,
// so a front end that starts from a restored chip puts them back after one (aimc serve does at
// every session start).
struct TileCalibration {
  uint32_t cal_ref = 0, gain_q16 = 0;
  std::vector<int32_t> trims;  // per column
};
std::vector<TileCalibration> tile_calibration(Chip& chip);
void apply_tile_calibration(Chip& chip, const std::vector<TileCalibration>& calibration);

}  // namespace aimc::chip
