#include "stop_request.h"

#include <signal.h>

#include <csignal>

namespace aimc::app {

namespace {

// Written by the handler, read by the simulation between commands: the only thing the handler
// does (async-signal-safe).
volatile std::sig_atomic_t requested_signal = 0;

extern "C" void record_stop_signal(int signo) { requested_signal = signo; }

}  // namespace

void install_stop_handlers() {
  struct sigaction action {};
  action.sa_handler = &record_stop_signal;
  sigemptyset(&action.sa_mask);
  // SA_RESETHAND: the default action again after the first signal (a second one kills);
  // SA_RESTART: system calls under way (file writes) go on rather than fail with EINTR.
  action.sa_flags = SA_RESETHAND | SA_RESTART;
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
}

int stop_requested() { return requested_signal; }

const char* signal_name(int signo) {
  switch (signo) {
    case SIGINT: return "SIGINT";
    case SIGTERM: return "SIGTERM";
    default: return "signal";
  }
}

}  // namespace aimc::app
