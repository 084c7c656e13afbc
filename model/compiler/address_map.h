// Chip bus address map as the compiler sees it: where the deployment image's sections are DMA'd
// and where activations live. These constants will move into the generated register table; until
// then this header is the single place that states them. Keep the values exactly.
#pragma once

#include <cstdint>

namespace aimc {

// Host-visible register bank (control/status, DMA, doorbell, IRQ).
constexpr uint32_t kRegisterBankBase = 0x00000000u;
constexpr uint32_t kRegisterBankSize = 0x00001000u;  // 4 KiB

// Sequencer program memory: PROGRAM sections are DMA'd here.
constexpr uint32_t kProgramMemoryBase = 0x00010000u;
constexpr uint32_t kProgramMemorySize = 0x00100000u;  // 1 MiB

// NVM programming controller staging buffer: WEIGHTS sections are DMA'd here, one tile at a time.
constexpr uint32_t kStagingBufferBase = 0x01000000u;
constexpr uint32_t kStagingBufferSize = 0x01000000u;  // 16 MiB

// Activation SRAM; its size is cfg.sram.size_kib * 1024.
constexpr uint32_t kActivationSramBase = 0x10000000u;

// Tile-local memory of tile t (input/output buffers): kTileLocalBase + t * kTileLocalStride.
constexpr uint32_t kTileLocalBase = 0x20000000u;
constexpr uint32_t kTileLocalStride = 0x00100000u;
constexpr uint32_t tile_local_base(uint32_t tile) { return kTileLocalBase + tile * kTileLocalStride; }

}  // namespace aimc
