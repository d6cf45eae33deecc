// The elementwise primitives for avx2. Compiled with -mavx2 -mfma.
#include "cpu/kernels/elementwise/ew_impl.hpp"
#include "cpu/kernels/elementwise/simd_avx2.hpp"

namespace kiln::cpu::ew::detail {

const EwKernels& avx2_ew_kernels() { return impl::kernel_table<VecAvx2>(); }

}  // namespace kiln::cpu::ew::detail
