// SIGINT and SIGTERM during `aimc run`: the first one asks the run to stop at the next command
// boundary and still write its outputs (README, "Stopping a run"); its handler only records the
// signal and gives it back its default action, so that a second one ends the process at once.
#pragma once

namespace aimc::app {

// Installs the handlers of SIGINT and SIGTERM (once per process).
void install_stop_handlers();
// The signal that asked the run to stop (SIGINT, SIGTERM), or 0: always 0 without the handlers.
int stop_requested();
// "SIGINT", "SIGTERM" (any other: "signal").
const char* signal_name(int signo);

}  // namespace aimc::app
