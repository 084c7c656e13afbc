// How the command engines (DMA, programming controller, sequencer) report to the host interface,
// and how their SystemC threads keep a failure inside the command.
#pragma once

#include <cstdint>
#include <exception>
#include <iostream>
#include <string>

#include <systemc>

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

// Runs one command of an engine's SC_THREAD: `body` returns its AIMC_ERR_* code. An exception
// escaping it (input the checks before it let through, or a model defect) would end the whole
// simulation, and with it `aimc serve` and its client; instead it fails that command with `failure`
// (the engine then raises its error status and interrupt as for any error), its words go to `why`
// and to standard error, and the chip stays usable. SystemC's own unwinding (process kill or
// reset) passes through.
template <class Body>
uint32_t run_guarded(const char* engine, Body&& body, uint32_t failure, std::string& why) {
  try {
    return body();
  } catch (const sc_core::sc_unwind_exception&) {
    throw;
  } catch (const std::exception& e) {
    why = e.what();
  } catch (...) {
    why = "an exception that is not a std::exception";
  }
  std::cerr << "aimc: " << engine << ": the command failed inside the model (" << why
            << "); it ends with error code " << failure << ", the simulation goes on\n";
  return failure;
}

}  // namespace aimc::chip
