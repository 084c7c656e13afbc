// Rules on the numbers of a layer program (aimc_image.h) that both readers apply: the compiler's
// image reader (image.cpp) and the chip's sequencer, which receives programs by DMA from firmware
// and must refuse one it cannot run rather than compute NaNs from it. Header-only and SystemC-free
// so that the chip library needs nothing of the compiler's.
#pragma once

#include <cmath>
#include <cstdint>

#include "aimc_image.h"

namespace aimc::program {

inline bool finite_positive(float v) { return std::isfinite(v) && v > 0.0f; }

// The first problem with the scales and clamp of op `l`, in words ("in_scale must be finite and
// > 0"), or nullptr. Each scale is checked where the op's kind uses it: a NaN or infinite scale
// turns codes into NaNs, which no output code represents.
inline const char* layer_number_problem(const aimc_layer_t& l) {
  const bool weighted = l.kind == AIMC_OP_MVM || l.kind == AIMC_OP_DWCONV;
  if (!finite_positive(l.out_quant_scale)) return "out_quant_scale must be finite and > 0";
  if (weighted && !finite_positive(l.acc_scale)) return "acc_scale must be finite and > 0";
  if (l.kind == AIMC_OP_MVM && !finite_positive(l.adc_full_scale))
    return "adc_full_scale must be finite and > 0";
  if (l.kind != AIMC_OP_MVM && l.kind != AIMC_OP_MAXPOOL && !finite_positive(l.in_scale))
    return "in_scale must be finite and > 0";
  if (l.kind == AIMC_OP_ADD && !finite_positive(l.in2_scale)) return "in2_scale must be finite and > 0";
  if (std::isnan(l.act_min) || std::isnan(l.act_max) || l.act_min > l.act_max)
    return "act_min/act_max must be ordered and not NaN";
  return nullptr;
}

// The index of the first non-finite value of the program's float table (biases and digital
// weights), or `count` when all are finite.
inline uint32_t first_non_finite(const float* table, uint32_t count) {
  for (uint32_t i = 0; i < count; ++i)
    if (!std::isfinite(table[i])) return i;
  return count;
}

}  // namespace aimc::program
