// The largest single allocation a test's code asked for: for "refused before allocating" tests of
// readers whose headers promise sizes (.npy shapes, ONNX dims). Linked into a test program, it
// replaces the global operator new / delete (malloc and free underneath) of that program.
#pragma once

#include <cstddef>

namespace aimc::testing {

// Requests above this many bytes throw std::bad_alloc without touching memory, so that a test of
// the unfixed code fails with an exception instead of needing (or exhausting) the memory.
inline constexpr std::size_t kAllocationCap = std::size_t(1) << 30;

// The largest request to operator new since the last reset, refused ones included.
std::size_t largest_allocation();
void reset_largest_allocation();

}  // namespace aimc::testing
