// How the command engines (DMA, programming controller, sequencer) report to the host interface.
#pragma once

#include <cstdint>

namespace aimc::chip {

enum class Engine { dma, prog, seq };

class EngineListener {
 public:
  virtual ~EngineListener() = default;
  // The engine finished its command: error == 0 (AIMC_ERR_NONE) for success, otherwise an
  // AIMC_ERR_* code with the address or argument it concerns. Called from the engine's thread at
  // the simulated time of completion.
  virtual void engine_done(Engine engine, uint32_t error, uint32_t error_addr) = 0;
};

}  // namespace aimc::chip
