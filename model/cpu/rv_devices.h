// The RV32 core's interrupt controller and timer, as register files with their state (plain C++,
// no SystemC; the core model calls them from its memory-mapped accesses). Layouts in
// firmware_stubs/include/aimc_rv32.h.
//
// Plic: sources 1..31, each with a priority (0 = never interrupts .. 7), a pending bit, an enable
// bit for the one context (machine mode), a threshold, and claim/complete. Sources are levels
// (the chip's interrupt lines): while a source is not in service its pending bit follows its level
// (as QEMU's SiFive PLIC does); a claim clears it and puts the source in service until the
// firmware completes it, after which a level still high is pending again.
//
// Clint: msip, mtimecmp and mtime; mtime is the simulated time in ns (AIMC_RV_MTIME_HZ) that the
// core passes in, mtimecmp resets to all ones (no timer interrupt until firmware sets it).
#pragma once

#include <cstdint>
#include <limits>

namespace aimc::cpu {

class Plic {
 public:
  static constexpr unsigned kSources = 32;  // ids 0..31; 0 is "no source"

  void set_level(unsigned source, bool level);
  // A register access at `offset` from the PLIC's base (32-bit); false: no such register.
  bool read(uint32_t offset, uint32_t& value);
  bool write(uint32_t offset, uint32_t value);
  // The context's interrupt request: an enabled pending source with priority above the threshold.
  bool request() const { return best() != 0; }
  uint32_t pending() const { return pending_; }
  uint32_t in_service() const { return in_service_; }

 private:
  unsigned best() const;
  uint32_t claim();
  void complete(uint32_t source);

  uint32_t priority_[kSources] = {};
  uint32_t level_ = 0, pending_ = 0, enable_ = 0, in_service_ = 0, threshold_ = 0;
};

class Clint {
 public:
  // now_ns: mtime at the access.
  bool read(uint32_t offset, uint64_t now_ns, uint32_t& value) const;
  bool write(uint32_t offset, uint32_t value);
  bool timer_pending(uint64_t now_ns) const { return now_ns >= mtimecmp_; }
  bool software_pending() const { return msip_; }
  uint64_t mtimecmp() const { return mtimecmp_; }

 private:
  uint64_t mtimecmp_ = std::numeric_limits<uint64_t>::max();
  bool msip_ = false;
};

}  // namespace aimc::cpu
