#include "fw_monitor.h"

#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <sstream>

#include <systemc>

#include "aimc_regs.h"
#include "aimc_rv32.h"
#include "chip/chip.h"
#include "chip/register_table.h"
#include "cpu/rv32_core.h"
#include "run_job.h"
#include "session.h"
#include "sim/accounting.h"
#include "sim/energy_ledger.h"

namespace aimc::app {

namespace {

constexpr const char* kHelp =
    "monitor commands (aimc fw run --gdb; docs/firmware.md \"Debugging with GDB\"):\n"
    "  help                        this list\n"
    "  reg NAME | reg 0xOFFSET     a chip register (debug read: no side effect), e.g. reg STATUS\n"
    "  regs [all]                  the main chip registers (all: every readable one)\n"
    "  temp C                      set the die temperature, in C\n"
    "  age DURATION                age the cells by DURATION (as --at: 30d, 1e4s, 2y)\n"
    "  energy                      the energy ledger so far, by component\n"
    "  time                        simulated time now (ns) and instructions retired\n"
    "  fault stuck-low TILE ROW COL [pos|neg]    a cell stuck at g_min from now on\n"
    "  fault stuck-high TILE ROW COL [pos|neg]   a cell stuck at g_max from now on\n"
    "  fault dead-column TILE COL                a weight column's bit lines open (reads 0)\n"
    "  fault adc-offset TILE COL LSB             an offset added to a column's ADC\n";

// The registers `regs` shows: identity, state, errors and interrupts, the engines' status.
constexpr const char* kMainRegisters[] = {"ID",         "VERSION",    "CTRL",        "STATUS",
                                          "ERROR_CODE", "ERROR_ADDR", "IRQ_STATUS",  "IRQ_ENABLE",
                                          "DMA_STATUS", "PROG_STATUS", "SEQ_STATUS", "CQ_STATUS",
                                          "CQ_HEAD",    "CQ_TAIL",    "POWER_STATE", "TEMP_MC"};

std::vector<std::string> words(const std::string& line) {
  std::istringstream in(line);
  std::vector<std::string> w;
  for (std::string s; in >> s;) w.push_back(s);
  return w;
}

std::string upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

bool parse_double(const std::string& s, double& v) {
  char* end = nullptr;
  v = std::strtod(s.c_str(), &end);
  return !s.empty() && end == s.c_str() + s.size() && std::isfinite(v);
}

bool parse_int(const std::string& s, long& v) {
  char* end = nullptr;
  v = std::strtol(s.c_str(), &end, 0);
  return !s.empty() && end == s.c_str() + s.size();
}

std::string fmt(const char* f, double v) {
  char b[64];
  std::snprintf(b, sizeof b, f, v);
  return b;
}

std::string hex32(uint32_t v) {
  char b[16];
  std::snprintf(b, sizeof b, "0x%08x", v);
  return b;
}

// Joules with an SI prefix that keeps 1 to 999 before the point.
std::string joules(double j) {
  static const std::pair<double, const char*> kUnits[] = {{1.0, "J"},    {1e-3, "mJ"}, {1e-6, "uJ"},
                                                          {1e-9, "nJ"},  {1e-12, "pJ"}};
  for (const auto& [scale, unit] : kUnits)
    if (std::fabs(j) >= scale) return fmt("%.3f ", j / scale) + unit;
  return fmt("%.3f ", j / 1e-12) + "pJ";
}

}  // namespace

std::string FwMonitor::run(const std::string& line) {
  const std::vector<std::string> w = words(line);
  if (w.empty() || w[0] == "help") return kHelp;
  const std::string& cmd = w[0];
  const auto args = [&](size_t lo, size_t hi, const char* usage) {
    if (w.size() - 1 < lo || w.size() - 1 > hi) throw UserError(std::string("usage: monitor ") + usage);
  };
  try {
    if (cmd == "reg") {
      args(1, 1, "reg NAME (e.g. reg STATUS) or reg 0xOFFSET");
      return reg(w[1]);
    }
    if (cmd == "regs") {
      args(0, 1, "regs [all]");
      if (w.size() == 2 && w[1] != "all") throw UserError("usage: monitor regs [all]");
      return regs(w.size() == 2);
    }
    if (cmd == "temp") {
      args(1, 1, "temp C (the die temperature in C, e.g. temp 85)");
      return temp(w[1]);
    }
    if (cmd == "age") {
      args(1, 2, "age DURATION (e.g. age 30d; units ms, s, min, h, d, w, y)");
      return age(w.size() == 3 ? w[1] + " " + w[2] : w[1]);  // "30 min", as --at takes it
    }
    if (cmd == "energy") {
      args(0, 0, "energy");
      return energy();
    }
    if (cmd == "time") {
      args(0, 0, "time");
      return time();
    }
    if (cmd == "fault") return fault(w);
  } catch (const std::exception& e) {
    return "monitor " + cmd + ": " + e.what() + "\n";
  }
  return "monitor: unknown command '" + cmd + "' (monitor help lists them)\n";
}

std::string FwMonitor::reg(const std::string& name_in) {
  const std::string name = upper(name_in);
  const regs::Register* r = nullptr;
  long off = -1;
  if (parse_int(name_in, off)) {
    for (const auto& x : regs::kRegisters)
      if (static_cast<long>(x.offset) == off) r = &x;
  } else {
    for (const auto& x : regs::kRegisters)
      if (name == x.name) r = &x;
  }
  if (!r) {
    if (off >= static_cast<long>(AIMC_TILE_REGS_BASE) || name.rfind("TILE", 0) == 0)
      throw UserError("'" + name_in + "': the tiles' register windows are not readable without side "
                      "effects here; monitor regs all lists the global registers");
    throw UserError("'" + name_in + "' is no chip register (monitor regs all lists them)");
  }
  if (r->access == regs::Access::wo) throw UserError(std::string(r->name) + " is write-only: it reads 0");
  uint32_t v = 0;
  if (core_.debug_read(AIMC_RV_CHIP_BASE + r->offset, reinterpret_cast<uint8_t*>(&v), 4) != 4)
    throw UserError(std::string("the chip refused a debug read of ") + r->name);
  char at[16];
  std::snprintf(at, sizeof at, "0x%03x", r->offset);
  std::string out = std::string(r->name) + " (" + at + ") = " + hex32(v) + " = " + std::to_string(v) + "\n";
  for (unsigned i = 0; i < r->field_count; ++i) {
    const regs::Field& f = r->fields[i];
    const uint32_t mask = f.width >= 32 ? 0xFFFFFFFFu : (1u << f.width) - 1u;
    out += "  " + std::string(f.name) + " [" + std::to_string(f.lsb + f.width - 1) +
           (f.width > 1 ? ":" + std::to_string(f.lsb) : "") + "] = " + std::to_string((v >> f.lsb) & mask) + "\n";
  }
  return out;
}

std::string FwMonitor::regs(bool all) {
  std::string out;
  const auto one = [&](const regs::Register& r) {
    uint32_t v = 0;
    const bool ok = core_.debug_read(AIMC_RV_CHIP_BASE + r.offset, reinterpret_cast<uint8_t*>(&v), 4) == 4;
    char b[96];
    std::snprintf(b, sizeof b, "  %-20s 0x%03x  %s\n", r.name, r.offset, ok ? hex32(v).c_str() : "(unreadable)");
    out += b;
  };
  if (all) {
    for (const auto& r : regs::kRegisters)
      if (r.access != regs::Access::wo) one(r);
  } else {
    for (const char* name : kMainRegisters)
      for (const auto& r : regs::kRegisters)
        if (std::string(name) == r.name) one(r);
  }
  return out;
}

std::string FwMonitor::temp(const std::string& arg) {
  double c = 0;
  if (!parse_double(arg, c) || c <= -273.15 || c > 1000.0)
    throw UserError("'" + arg + "': expected a temperature in C above -273.15 and at most 1000");
  chip_.set_environment(c, 0.0);
  return "die temperature " + fmt("%.3f", c) + " C from now on (TEMP_MC reads " +
         std::to_string(chip_.host().peek("TEMP_MC")) + ")\n";
}

std::string FwMonitor::age(const std::string& arg) {
  const double s = parse_duration_s(arg, "age");
  chip_.set_environment(chip_.temperature_c(), s);
  std::string out = "the cells aged by " + fmt("%.6g", s) + " s";
  if (!chip_.tiles().empty()) out += "; tile 0 was programmed " + fmt("%.6g", chip_.tile(0).age_s()) + " s ago";
  return out + "\n";
}

std::string FwMonitor::energy() {
  // The ledger as of SystemC's time now: what was posted, plus static power since it last
  // integrated (without changing the ledger). The core posts its cycles when it synchronises.
  const uint64_t t = sim::to_ps(sc_core::sc_time_stamp());
  const double dt_s = t > ledger_.now_ps() ? (t - ledger_.now_ps()) * 1e-12 : 0.0;
  std::string out = "energy at " + fmt("%.3f", t / 1000.0) + " ns, by component:\n";
  double total = 0;
  for (int c = 0; c < ledger_.component_count(); ++c) {
    const double j = ledger_.component_j(c) + ledger_.static_power_w(c) * dt_s;
    total += j;
    char b[96];
    std::snprintf(b, sizeof b, "  %-16s %s\n", ledger_.component_name(c).c_str(), joules(j).c_str());
    out += b;
  }
  char b[96];
  std::snprintf(b, sizeof b, "  %-16s %s\n", "total", joules(total).c_str());
  return out + b;
}

std::string FwMonitor::time() {
  const uint64_t sysc = sim::to_ps(sc_core::sc_time_stamp());
  const uint64_t core = core_.now_ps();
  return "time " + fmt("%.3f", core / 1000.0) + " ns (the core; SystemC is at " + fmt("%.3f", sysc / 1000.0) +
         " ns), " + std::to_string(core_.stats().instructions) + " instructions retired\n";
}

std::string FwMonitor::fault(const std::vector<std::string>& w) {
  const char* usage =
      "usage: monitor fault stuck-low|stuck-high TILE ROW COL [pos|neg], fault dead-column TILE COL, "
      "fault adc-offset TILE COL LSB";
  if (w.size() < 3) throw UserError(usage);
  const std::string& kind = w[1];
  long tile = 0;
  const long tiles = static_cast<long>(chip_.tiles().size());
  if (!parse_int(w[2], tile) || tile < 0 || tile >= tiles)
    throw UserError("tile '" + w[2] + "': expected 0.." + std::to_string(tiles - 1));
  chip::Tile& t = *chip_.tiles()[static_cast<size_t>(tile)];
  const auto index = [&](size_t i, const char* what) {
    long v = 0;
    if (!parse_int(w[i], v) || v < 0 || v > 1 << 20) throw UserError(std::string(what) + " '" + w[i] + "': expected a number >= 0");
    return static_cast<int>(v);
  };
  try {
    if (kind == "stuck-low" || kind == "stuck-high") {
      if (w.size() < 5 || w.size() > 6) throw UserError(usage);
      bool negative = false;
      if (w.size() == 6) {
        if (w[5] != "pos" && w[5] != "neg") throw UserError("side '" + w[5] + "': expected pos or neg");
        negative = w[5] == "neg";
      }
      const int row = index(3, "row"), col = index(4, "column");
      t.inject_stuck_cell(row, col, negative, kind == "stuck-high");
      return "tile " + std::to_string(tile) + ": cell (" + std::to_string(row) + ", " + std::to_string(col) + ", " +
             (negative ? "neg" : "pos") + ") stuck " + (kind == "stuck-high" ? "high (g_max)" : "low (g_min)") +
             " from the next read on\n";
    }
    if (kind == "dead-column") {
      if (w.size() != 4) throw UserError(usage);
      const int col = index(3, "column");
      t.inject_dead_column(col);
      return "tile " + std::to_string(tile) + ": column " + std::to_string(col) + " dead (reads 0) from the next read on\n";
    }
    if (kind == "adc-offset") {
      if (w.size() != 5) throw UserError(usage);
      const int col = index(3, "column");
      double lsb = 0;
      if (!parse_double(w[4], lsb)) throw UserError("offset '" + w[4] + "': expected a number of LSB");
      t.inject_adc_offset(col, lsb);
      return "tile " + std::to_string(tile) + ": column " + std::to_string(col) + "'s ADC offset now " +
             fmt("%.3f", t.adc_offset_lsb(col)) + " LSB\n";
    }
  } catch (const std::invalid_argument& e) {
    throw UserError(e.what());
  }
  throw UserError("unknown fault kind '" + kind + "'; " + usage);
}

}  // namespace aimc::app
