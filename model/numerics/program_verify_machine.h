// The program-and-verify machine's channels (internal to program_verify*.cpp): the state of the
// pulse channels, the queue and log they share with the group, the verify read, and the kernels
// that step them (scalar: program_verify_scalar.cpp; AVX-512: program_verify_avx512.cpp). The
// kernels implement the pulse laws (PulseLaw in device_model.h); a kind picks one through its
// traits, so nothing here names a kind.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "numerics/device.h"
#include "numerics/device_model.h"
#include "numerics/lane_simd.h"

namespace aimc::num::pv {

// program_verify's machinery: the pulse channels. A group's cells (its "slots", in programming
// order) are programmed by kChannels channels, the controller's pulse-and-verify circuits: each
// holds one cell, pulses and verifies it once per step, and when the cell is finished logs it and
// takes the next unfinished cell of the group. The channels are held as kVecs vectors of 16
// (structure of arrays). The AVX-512 path steps a vector with one set of instructions (its
// normals: one step of the 16 lanes of the channels' LaneNormals), refills the finished channels
// with an expand from the queue of unfinished cells and logs them with a compress; the scalar
// path does the same channel by channel with the same IEEE operations, so both give the same
// bits. The arithmetic of a pulse and a verify read is float (the state keeps g as float; a
// verify of at most 24 bits is exact in float), 16 channels per register; no per-round
// compaction and no buffered normals. log_down takes no log per pulse (the readings' logs come from
// a table, the targets' from the level) and its exp is a float polynomial. See
// docs/device-physics.md ("Random draws").

constexpr int kWidth = LaneNormals::kLanes;  // channels per vector: 16
constexpr int kVecs = 2;                     // vectors
constexpr int kChannels = kWidth * kVecs;    // 32 channels
constexpr long kQueueSlack = kChannels + kWidth;  // idle entries after the queue's cells
constexpr long kLogSlack = kWidth;           // a compress stores kWidth entries, some past the end
constexpr int32_t kConvergedBit = 1 << 16;   // in a log entry: pulses | converged << 16

// The verify read and the controller's verdict, constants of one call (float).
struct VerifyRule {
  float q_levels, inv_q, half_lsb, tol_rel, tol_gmax, read_noise;
  bool overshoot;  // PulseLaw::log_down: a read below target - tol ends the cell

  // Converged when |measured - target| <= tol.
  float tol(float target) const { return std::max(std::max(tol_rel * target, tol_gmax), half_lsb); }
};

// A verify read of value v (at the die temperature, read noise applied) and the controller's
// verdict: clip, quantization to m = k / 2^verify_bits, and whether the cell is finished:
// converged, overshot, or `last` (out of pulses). Over range a read never passes. Overshoot is
// for one-way pulses only (PulseLaw::log_down): an erase is the only way to raise g again.
struct Reading {
  float m;
  int32_t k;
  bool over, conv, done;
};

inline __attribute__((always_inline)) Reading read_cell(float v, float t, const VerifyRule& rule,
                                                        bool last) {
  const bool over = v > 1.0f;
  const int32_t k = static_cast<int32_t>(std::min(std::max(v, 0.0f), 1.0f) * rule.q_levels + 0.5f);
  const float m = static_cast<float>(k) * rule.inv_q;
  const float tol = rule.tol(t);
  const bool in_range = !over;
  const bool conv = in_range & (std::abs(m - t) <= tol);
  const bool overshoot = rule.overshoot & in_range & (m < t - tol);
  return {m, k, over, conv, conv || overshoot || last};
}

// exp in float: x = j ln2 + r with j = x log2(e) rounded to the nearest integer (adding 1.5 * 2^23
// rounds) and |r| <= ln2 / 2; ln 2 split Cody-Waite style into hi (16 significant bits, so j * hi
// is exact) + lo. exp(r) = 1 + r + r^2 (1/2! + r/3! + ... + r^5/7!), the Taylor series to degree
// 7 (truncation below 0.3466^8 / 8! = 5.2e-9, under float's 6e-8 ulp), evaluated in Estrin's order
// (a shorter dependency chain than Horner's); 2^j goes into the exponent bits. Float rounding
// keeps the error below 8.5e-8 relative (1.4 ulp; measured over [-87, 0]). x is clamped to
// [-87, 88], where the result is a normal float; program_verify's x are <= 0. The AVX-512 path
// (exp16) does the same operations on 16 floats, so both give the same bits.
constexpr float kExpLo = -87.0f, kExpHi = 88.0f, kLog2e = 1.44269504088896341f;
constexpr float kRoundMagic = 12582912.0f;  // 1.5 * 2^23
constexpr float kLn2Hi = 45426.0f / 65536.0f;                         // round(ln2 * 2^16) / 2^16
constexpr float kLn2Lo = float(0.69314718055994530942 - 45426.0 / 65536.0);  // the rest of ln 2
constexpr float kExpP0 = float(1.0 / 5040), kExpP1 = float(1.0 / 720), kExpP2 = float(1.0 / 120),
                kExpP3 = float(1.0 / 24), kExpP4 = float(1.0 / 6), kExpP5 = 0.5f;  // 1/7! .. 1/2!

float exp_scalar(float x);

// The channels' state; channel l of vector v is element 16 v + l. An idle channel (slot -1: the
// queue ran out) keeps stepping with harmless finite values; it takes and logs nothing.
struct alignas(64) Channels {
  int32_t slot[kChannels];    // the cell's slot in the group, or -1
  int32_t pulses[kChannels];  // pulses the cell has taken
  int32_t frozen[kChannels];  // -1: pulses do not move the cell (dead column, stuck), else 0
  float g[kChannels];         // true g at the die temperature (frozen: what it reads)
  float from[kChannels];      // the reading the next pulse aims from (log_down: its ln)
  float t[kChannels];         // target
  float lt[kChannels];        // log_down: ln target (linear: unused)
  float floor[kChannels];     // the least `from` over range: log_down ln(1 + tol), linear 1 + tol
};

// The queue (the group's cells left unfinished by their first read, in programming order, then
// kQueueSlack idle entries), the log (finished cells, in the order they finish) and the
// constants of the steps.
struct Machine {
  VerifyRule rule;
  float gain, pulse_noise, upper;  // upper: linear ceiling at the die temperature
  const float* ln_reading;         // log_down: ln(k / 2^verify_bits) by k, or null (std::log)
  int32_t max_it;
  const int32_t *q_slot, *q_frozen;
  const float *q_g, *q_from, *q_t, *q_lt, *q_floor;
  int32_t *l_slot, *l_packed;  // packed: pulses | kConvergedBit if converged
  float* l_g;
};

// Channel c takes queue entry p (a new cell: no pulse yet).
inline void take(Channels& ch, int c, const Machine& mc, long p) {
  ch.slot[c] = mc.q_slot[p];
  ch.pulses[c] = 0;
  ch.frozen[c] = mc.q_frozen[p];
  ch.g[c] = mc.q_g[p];
  ch.from[c] = mc.q_from[p];
  ch.t[c] = mc.q_t[p];
  ch.lt[c] = mc.q_lt[p];
  ch.floor[c] = mc.q_floor[p];
}

// The steps until no channel holds a cell; p: the next queue entry, o: the next log entry. The
// law is log_down or linear (exact has no channels). Scalar: `records` (or null) the slots'
// records, rec_scale turns an aimed step into the record's unit (ProgramLaw::record_scale).
void run_channels_scalar(PulseLaw law, Channels& ch, LaneNormals& normals, const Machine& mc,
                         long& p, long& o, CellRecord* const* records, double rec_scale);
#if defined(AIMC_LANES_AVX512)
// The same steps 16 channels at a time, without records; the same bits. Only when
// detail::lanes_simd() (the CPU has AVX-512) and, for log_down, Machine::ln_reading is set.
void run_channels_avx512(PulseLaw law, Channels& ch, LaneNormals& normals, const Machine& mc,
                         long& p, long& o);
#endif

}  // namespace aimc::num::pv
