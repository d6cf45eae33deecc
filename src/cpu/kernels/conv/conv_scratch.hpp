#pragma once
// Scratch for the convolution kernels: 64-byte aligned, uninitialized (every element is written
// before it is read), and kept per thread between calls, since a fresh large allocation
// page-faults on every inference. Each thread runs one kernel at a time, so kernels share the
// slots; slots in use by one call must differ (the caller's and its workers' are separate
// threads, hence separate buffers).
#include <cstdint>

namespace kiln::cpu::conv {

inline constexpr int kScratchSlots = 3;

/// At least n floats for `slot` (< kScratchSlots) of the calling thread.
float* scratch(int slot, int64_t n);

}  // namespace kiln::cpu::conv
