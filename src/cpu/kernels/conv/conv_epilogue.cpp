#include "cpu/kernels/conv/conv_epilogue.hpp"

#include "cpu/kernels/conv/conv_isa.hpp"
#include "cpu/kernels/gemm/gemm.hpp"

namespace kiln::cpu::conv {

void apply_epilogue(const nn::FusedActivation& act, float bias, const float* res, float* y,
                    int64_t n) {
    if (gemm::best_isa() == gemm::Isa::avx512 &&
        detail::apply_epilogue_avx512(act.kind, act.alpha, act.beta, bias, res, y, n))
        return;
    if (res) {
        for (int64_t i = 0; i < n; ++i) y[i] = act((y[i] + bias) + res[i]);
    } else {
        for (int64_t i = 0; i < n; ++i) y[i] = act(y[i] + bias);
    }
}

}  // namespace kiln::cpu::conv
