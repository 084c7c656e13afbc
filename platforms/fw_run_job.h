// `aimc fw run FIRMWARE.elf`: a cross-compiled RV32 firmware on the core beside the chip
// (model/cpu/rv32_core.h), the chip built from a platform YAML. docs/firmware.md, "Firmware on the
// RV32 core".
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace aimc::app {

struct FwRunOptions {
  std::string elf_path;
  std::string platform_path;
  std::vector<std::string> overrides;
  std::vector<std::string> args;     // the firmware's arguments (argv[1..])
  std::string trace_path, trace_format, report_path;
  bool trace_registers = false;
  bool quiet = false;
  std::optional<double> temp_c;      // the die temperature (C); default tile.device.t_ref_c
  double at_s = 0;                   // time added to the cells' age before the run (aimc run --at)
  // --restore CKPT: the tiles start as a checkpoint left them (weights, age, calibration), for a
  // firmware that attaches its image instead of programming it; --checkpoint CKPT: the array
  // state saved at the end (docs/checkpoint.md).
  std::string restore_path, checkpoint_path;
  // --gdb PORT: a GDB stub on 127.0.0.1:PORT (0: a free port); the core waits for GDB before its
  // first instruction (docs/firmware.md, "Debugging with GDB").
  std::optional<int> gdb_port;
  std::string gdb_port_file;         // --gdb-port-file: the port, written once listening
};

// Runs the firmware to its end and returns the process exit code: the firmware's own, 1 when it
// faulted or could not finish (the reason on stderr), 137 when GDB killed it, 1 when an output
// could not be written.
// Throws UserError for what the user can fix before anything runs (platform, ELF, paths).
int fw_run_job(const FwRunOptions& opt);

}  // namespace aimc::app
