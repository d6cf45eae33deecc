// The elementwise primitives for scalar. Portable: the fallback and the reference for the vector
// paths.
#include "cpu/kernels/elementwise/ew_impl.hpp"
#include "cpu/kernels/elementwise/simd_scalar.hpp"

namespace kiln::cpu::ew::detail {

const EwKernels& scalar_ew_kernels() { return impl::kernel_table<VecScalar>(); }

}  // namespace kiln::cpu::ew::detail
