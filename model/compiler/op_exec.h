// Execution of the deployment image's ops with an ideal device, on whole batches: what the
// compiler's calibration pass and execute_ideal() (the golden model) both run, through the
// converters' arithmetic (numerics/converters.h, ideal_mvm.h) and the digital units' ops
// (numerics/digital_ops.h) that the platform uses, so the three agree bit for bit.
#pragma once

#include <Eigen/Dense>
#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "aimc_image.h"
#include "numerics/crossbar.h"
#include "numerics/digital_ops.h"

namespace aimc::compiler::exec {

struct SliceData {
  aimc_slice_t slice;
  Eigen::MatrixXi levels;  // row_count x col_count
};

// Activation buffers by SRAM address: batch x (elements per image), codes as float integers.
using Buffers = std::map<uint32_t, num::Maps>;

// Writes an op's output (batch x out_h*out_w*out_c) into its buffer at out_c_offset.
void store(Buffers& bufs, const aimc_layer_t& L, const num::Maps& y, long batch);
// The buffer at addr; a missing one is a compiler bug (std::logic_error naming `what`).
const num::Maps& load(const Buffers& bufs, uint32_t addr, const std::string& what);

// The currents of an MVM op's slices for the patches of all images.
// A bit-serial op (AIMC_LAYER_BIT_SERIAL) has, per slice, one current per input bit instead: the
// rows whose code has bit k set driven at full scale (numerics/converters.h, "Bit-serial inputs").
struct MvmRun {
  num::Maps patches;                   // (batch * positions) x rows
  std::vector<Eigen::MatrixXd> cur;    // per slice: (batch * positions) x col_count (one-shot)
  std::vector<std::vector<Eigen::MatrixXd>> planes;  // bit-serial: per slice, per input bit
  std::vector<std::array<Eigen::MatrixXd, 2>> sides;  // sign-split: per slice, the g+ and g- currents
};
// What the ADC did in an MVM op.
struct AdcRecord {
  Eigen::MatrixXi codes;  // (batch * positions) x (columns of all slices, slice order): the ADC code
                          // (bit-serial: the shift-and-add sum_k 2^k c_k, before / Cmax)
  long conversions = 0;   // conversions made (bit-serial: one per bit)
  long saturated = 0;     // of them, at an end of the code range
};
// A sign-split op (AIMC_LAYER_SIGN_SPLIT) has, per slice, the currents of the two sides of the
// pairs, whose conductances depend on how a level is split over the pair (`pair`).
MvmRun mvm_currents(const aimc_layer_t& L, const std::vector<SliceData>& slices, const num::Maps& in, int dac_bits,
                    int bpc, double g_ratio, num::PairMode pair = num::PairMode::unipolar);

// ADC, partial-sum reduction and digital unit of an MVM op. Returns the output maps and fills
// *adc if asked; adds the clipped outputs to *clipped if given.
num::Maps mvm_finish(const aimc_layer_t& L, const std::vector<SliceData>& slices, const MvmRun& r, const float* bias,
                     int dac_bits, int adc_bits, long batch, AdcRecord* adc, long* clipped);

// A digital op on the buffers (table: the program's bias/weight floats). Returns the output maps.
num::Maps digital_op(const aimc_layer_t& L, const Buffers& bufs, const std::vector<float>& table, int dac_bits,
                     long* clipped);

}  // namespace aimc::compiler::exec
