#include "cpu/rv_devices.h"

#include "aimc_rv32.h"

namespace aimc::cpu {

void Plic::set_level(unsigned source, bool level) {
  if (source == 0 || source >= kSources) return;
  const uint32_t bit = 1u << source;
  level_ = level ? level_ | bit : level_ & ~bit;
  if (!(in_service_ & bit)) pending_ = level ? pending_ | bit : pending_ & ~bit;
}

unsigned Plic::best() const {
  unsigned id = 0;
  uint32_t prio = threshold_;
  for (unsigned s = 1; s < kSources; ++s) {
    const uint32_t bit = 1u << s;
    if ((pending_ & enable_ & bit) && priority_[s] > prio) {  // ties: the lowest id wins
      prio = priority_[s];
      id = s;
    }
  }
  return id;
}

uint32_t Plic::claim() {
  const unsigned id = best();
  if (id != 0) {
    pending_ &= ~(1u << id);
    in_service_ |= 1u << id;
  }
  return id;
}

void Plic::complete(uint32_t source) {
  if (source == 0 || source >= kSources) return;
  const uint32_t bit = 1u << source;
  if (!(in_service_ & bit)) return;  // completing a source not in service is ignored
  in_service_ &= ~bit;
  if (level_ & bit) pending_ |= bit;
}

bool Plic::read(uint32_t off, uint32_t& v) {
  if (off < 4 * kSources && off % 4 == 0) {
    v = priority_[off / 4];
    return true;
  }
  if (off == AIMC_RV_PLIC_PENDING) { v = pending_; return true; }
  if (off == AIMC_RV_PLIC_ENABLE) { v = enable_; return true; }
  if (off == AIMC_RV_PLIC_THRESHOLD) { v = threshold_; return true; }
  if (off == AIMC_RV_PLIC_CLAIM) { v = claim(); return true; }
  return false;
}

bool Plic::write(uint32_t off, uint32_t v) {
  if (off < 4 * kSources && off % 4 == 0) {
    if (off != 0) priority_[off / 4] = v & 7u;  // source 0 has no priority
    return true;
  }
  if (off == AIMC_RV_PLIC_PENDING) return true;  // read-only: ignored
  if (off == AIMC_RV_PLIC_ENABLE) { enable_ = v & ~1u; return true; }
  if (off == AIMC_RV_PLIC_THRESHOLD) { threshold_ = v & 7u; return true; }
  if (off == AIMC_RV_PLIC_CLAIM) { complete(v); return true; }
  return false;
}

bool Clint::read(uint32_t off, uint64_t now_ns, uint32_t& v) const {
  switch (off) {
    case AIMC_RV_CLINT_MSIP: v = msip_ ? 1u : 0u; return true;
    case AIMC_RV_CLINT_MTIMECMP: v = static_cast<uint32_t>(mtimecmp_); return true;
    case AIMC_RV_CLINT_MTIMECMP + 4: v = static_cast<uint32_t>(mtimecmp_ >> 32); return true;
    case AIMC_RV_CLINT_MTIME: v = static_cast<uint32_t>(now_ns); return true;
    case AIMC_RV_CLINT_MTIME + 4: v = static_cast<uint32_t>(now_ns >> 32); return true;
    default: return false;
  }
}

bool Clint::write(uint32_t off, uint32_t v) {
  switch (off) {
    case AIMC_RV_CLINT_MSIP: msip_ = (v & 1u) != 0; return true;
    case AIMC_RV_CLINT_MTIMECMP: mtimecmp_ = (mtimecmp_ & 0xFFFFFFFF00000000ull) | v; return true;
    case AIMC_RV_CLINT_MTIMECMP + 4:
      mtimecmp_ = (mtimecmp_ & 0xFFFFFFFFull) | uint64_t(v) << 32;
      return true;
    case AIMC_RV_CLINT_MTIME:
    case AIMC_RV_CLINT_MTIME + 4: return true;  // mtime is simulated time: writes are ignored
    default: return false;
  }
}

}  // namespace aimc::cpu
