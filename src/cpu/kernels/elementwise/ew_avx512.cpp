// The elementwise primitives for avx512. Compiled with AVX-512 flags.
// GCC 12 flags the _mm512_undefined_ps() inside its own max/min/reduce intrinsics.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include "cpu/kernels/elementwise/ew_impl.hpp"
#include "cpu/kernels/elementwise/simd_avx512.hpp"

namespace kiln::cpu::ew::detail {

const EwKernels& avx512_ew_kernels() { return impl::kernel_table<VecAvx512>(); }

}  // namespace kiln::cpu::ew::detail
