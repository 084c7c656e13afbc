// The scalar kernel of the program-and-verify machine (program_verify_machine.h): the reference
// for the pulse laws, one channel at a time, and the only path that keeps records.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>

#include "numerics/program_verify_machine.h"

namespace aimc::num::pv {

float exp_scalar(float x) {
  x = std::min(std::max(x, kExpLo), kExpHi);
  const float j = (x * kLog2e + kRoundMagic) - kRoundMagic;
  float r = x - j * kLn2Hi;
  r = r - j * kLn2Lo;
  const float r2 = r * r;
  const float a = kExpP0 * r + kExpP1, b = kExpP2 * r + kExpP3, c = kExpP4 * r + kExpP5;
  const float y = ((a * r2 + b) * r2 + c) * r2 + r + 1.0f;
  const int32_t scale_bits = (static_cast<int32_t>(j) + 127) * (1 << 23);
  float scale;
  std::memcpy(&scale, &scale_bits, sizeof scale);
  return y * scale;
}

namespace {

// One step of channel c with its pair (z0, z1): a pulse, then a verify read (the verdict as in
// read_cell), and the reading the next pulse will aim from:
//   log_down  aimed = gain ln(from / target) (ln of the reading minus ln of the target);
//             g *= exp(-aimed max(0, 1 + pulse_noise z0)). Next: the ln of the reading; over
//             range the controller's estimate ln from - aimed, at least ln(1 + tol).
//   linear    aimed = gain (target - from); g = clamp(g + aimed + pulse_noise z0, 0, upper).
//             Next: the reading; over range the estimate from + aimed, at least 1 + tol.
// The read is g (1 + read_noise z1). Frozen cells keep g. All in float. This is the reference
// version; the AVX-512 path does the same operations in the same order.
template <PulseLaw kLaw>
Reading step_channel(Channels& ch, int c, float z0, float z1, const Machine& mc, float& aimed) {
  const float t = ch.t[c], from = ch.from[c];
  float g = ch.g[c];
  if (kLaw == PulseLaw::log_down) {
    aimed = mc.gain * (from - ch.lt[c]);
    const float f = exp_scalar(-aimed * std::max(1.0f + mc.pulse_noise * z0, 0.0f));
    if (!ch.frozen[c]) g *= f;
  } else {
    aimed = mc.gain * (t - from);
    const float moved = std::min(std::max(g + aimed + mc.pulse_noise * z0, 0.0f), mc.upper);
    if (!ch.frozen[c]) g = moved;
  }
  ch.g[c] = g;
  const int32_t pulses = ++ch.pulses[c];
  const Reading rd = read_cell(g * (1.0f + mc.rule.read_noise * z1), t, mc.rule, pulses >= mc.max_it);
  const float read = kLaw != PulseLaw::log_down ? rd.m : mc.ln_reading ? mc.ln_reading[rd.k] : std::log(rd.m);
  const float est = kLaw == PulseLaw::log_down ? std::max(from - aimed, ch.floor[c]) : std::max(from + aimed, ch.floor[c]);
  ch.from[c] = rd.over ? est : read;
  return rd;
}

// The steps of the scalar path until no channel holds a cell; p: the next queue entry, o: the
// next log entry. `records` (or null): the slots' records; rec_scale turns an aimed step into the
// record's unit (log_down: mV of Vt).
template <PulseLaw kLaw>
void run_channels_scalar(Channels& ch, LaneNormals& normals, const Machine& mc, long& p, long& o,
                         CellRecord* const* records, double rec_scale) {
  for (bool any = true; any;) {
    any = false;
    for (int v = 0; v < kVecs; ++v) {
      // The vector's 16 channels: their pairs, their steps (independent of each other, so the
      // CPU overlaps them), then in channel order their records, logs and refills.
      float z0[kWidth], z1[kWidth], aimed[kWidth];
      Reading rd[kWidth];
      normals.step(z0, z1);
      for (int l = 0; l < kWidth; ++l)
        rd[l] = step_channel<kLaw>(ch, kWidth * v + l, z0[l], z1[l], mc, aimed[l]);
      for (int l = 0; l < kWidth; ++l) {
        const int c = kWidth * v + l;
        if (ch.slot[c] < 0) continue;  // idle: drew and stepped, takes nothing
        if (records) {
          CellRecord& rec = *records[ch.slot[c]];
          rec.pulse.push_back(static_cast<float>(static_cast<double>(aimed[l]) * rec_scale));
          rec.verify.push_back(rd[l].m);
        }
        if (rd[l].done) {
          mc.l_slot[o] = ch.slot[c];
          mc.l_g[o] = ch.g[c];
          mc.l_packed[o] = ch.pulses[c] | (rd[l].conv ? kConvergedBit : 0);
          ++o;
          take(ch, c, mc, p++);
        }
        any |= ch.slot[c] >= 0;
      }
    }
  }
}

}  // namespace

void run_channels_scalar(PulseLaw law, Channels& ch, LaneNormals& normals, const Machine& mc,
                         long& p, long& o, CellRecord* const* records, double rec_scale) {
  if (law == PulseLaw::log_down)
    run_channels_scalar<PulseLaw::log_down>(ch, normals, mc, p, o, records, rec_scale);
  else
    run_channels_scalar<PulseLaw::linear>(ch, normals, mc, p, o, records, rec_scale);
}

}  // namespace aimc::num::pv
