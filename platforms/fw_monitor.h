// The `monitor` commands of `aimc fw run --gdb` (docs/firmware.md, "Debugging with GDB"): the
// chip and the run as a GDB user asks about them, or changes them, while the core is halted.
//   help                      the list below
//   reg NAME | reg 0xOFFSET   one chip register, read as firmware would but without side effect
//   regs [all]                the main registers (all: every readable one)
//   temp C                    the die temperature from now on (Chip::set_environment)
//   age DURATION              the cells age by DURATION (as --at: 30d, 1e4s, 1y)
//   energy                    the energy ledger so far, by component
//   time                      simulated time now, in ns, and instructions retired
//   fault KIND TILE ...       a fault from now on (Tile::inject_*): stuck-low / stuck-high TILE ROW
//                             COL [pos|neg], dead-column TILE COL, adc-offset TILE COL LSB
// Every answer is console text ending with a newline; an unknown command or a bad argument is
// answered with what is wrong and how to ask for help, never with silence.
#pragma once

#include <string>
#include <vector>

namespace aimc::chip {
class Chip;
}
namespace aimc::sim {
class EnergyLedger;
}
namespace aimc::cpu {
class Rv32Core;
}

namespace aimc::app {

class FwMonitor {
 public:
  FwMonitor(chip::Chip& chip, sim::EnergyLedger& ledger, cpu::Rv32Core& core)
      : chip_(chip), ledger_(ledger), core_(core) {}
  std::string run(const std::string& line);

 private:
  std::string reg(const std::string& name);
  std::string regs(bool all);
  std::string temp(const std::string& arg);
  std::string age(const std::string& arg);
  std::string energy();
  std::string time();
  std::string fault(const std::vector<std::string>& words);

  chip::Chip& chip_;
  sim::EnergyLedger& ledger_;
  cpu::Rv32Core& core_;
};

}  // namespace aimc::app
