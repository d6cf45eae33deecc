#include "cpu/kernels/elementwise/ew_ops.hpp"
#include "kiln/error.hpp"

namespace kiln::cpu::ew {

const EwKernels& ew_kernels(Isa isa) {
    KILN_CHECK(gemm::isa_supported(isa), "elementwise: ISA ", gemm::isa_name(isa),
               " is not supported by this CPU");
    switch (isa) {
        case Isa::avx512:
            return detail::avx512_ew_kernels();
        case Isa::avx2:
            return detail::avx2_ew_kernels();
        case Isa::scalar:
            break;
    }
    return detail::scalar_ew_kernels();
}

const EwKernels& ew_kernels() {
    static const EwKernels& best = ew_kernels(gemm::best_isa());
    return best;
}

}  // namespace kiln::cpu::ew
