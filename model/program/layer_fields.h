// Fields of an op record (aimc_image.h) that more than one reader decodes: its activation (flags
// bits 8-11 and the parameters after the op's biases in the float table) as the numerics apply
// it, its column scales, its second input. The one decoding shared by the chip's sequencer
// (chip/op_exec.cpp and the executors), the compiler's ideal executor (compiler/op_exec.cpp) and
// the program validator, so that all of them read a record the same way.
#pragma once

#include <cstdint>

#include "aimc_image.h"
#include "numerics/activation.h"

namespace aimc::program {

static_assert(num::kActKinds == AIMC_ACT_COUNT, "the image format's activations are the numerics' kinds");

inline uint32_t layer_act_code(const aimc_layer_t& L) {
  return (L.flags & AIMC_LAYER_ACT_MASK) >> AIMC_LAYER_ACT_SHIFT;
}

// Index in the float table of the op's first activation parameter.
inline uint64_t layer_act_params_offset(const aimc_layer_t& L) {
  const bool biased = L.kind == AIMC_OP_MVM || L.kind == AIMC_OP_DWCONV;
  const bool scaled = L.kind == AIMC_OP_MVM && (L.flags & AIMC_LAYER_COLUMN_SCALES);
  return uint64_t(L.bias_offset) + (biased ? L.out_c : 0u) + (scaled ? L.out_c : 0u);
}

// The op's weight scale per output column (COLUMN_SCALES), or nullptr (one scale for all).
inline const float* layer_column_scales(const aimc_layer_t& L, const float* table) {
  return L.kind == AIMC_OP_MVM && (L.flags & AIMC_LAYER_COLUMN_SCALES) ? table + L.bias_offset + L.out_c : nullptr;
}

// The activation of op L (table: the program's float table, validated to hold its parameters).
// Its channels are L.out_c, stored channel-last (channel_stride 1); the MVM's digital unit sets
// its own layout (numerics/converters.cpp).
inline num::Activation layer_activation(const aimc_layer_t& L, const float* table) {
  num::Activation a;
  const uint32_t code = layer_act_code(L);
  if (code == AIMC_ACT_NONE || code >= AIMC_ACT_COUNT) return a;
  a.kind = static_cast<num::ActKind>(code);
  const float* p = table + layer_act_params_offset(L);
  switch (a.kind) {
    case num::ActKind::leaky_relu:
    case num::ActKind::elu: a.alpha = p[0]; break;
    case num::ActKind::hard_sigmoid: a.alpha = p[0], a.beta = p[1]; break;
    case num::ActKind::prelu: a.slope = p; break;
    default: break;
  }
  a.channels = L.out_c;
  a.channel_stride = 1;
  return a;
}

// Ops that read a second map (in2_*): ADD and MUL.
inline bool has_second_input(const aimc_layer_t& L) { return L.kind == AIMC_OP_ADD || L.kind == AIMC_OP_MUL; }

// Bytes of one image's second input: the whole map, or one value per channel (IN2_PER_CHANNEL).
inline uint64_t second_input_bytes(const aimc_layer_t& L) {
  return (L.flags & AIMC_LAYER_IN2_PER_CHANNEL) ? uint64_t(L.in_c) : uint64_t(L.in_h) * L.in_w * L.in_c;
}

}  // namespace aimc::program
