#pragma once
// Row kernels of the f32 LayerNorm: each normalizes `rows` rows of `n` contiguous floats and
// applies the per-element scale and bias in the same pass. One variant per ISA.
#include <cstdint>

namespace kiln::cpu::norm {

struct LayerNormParams {
    int64_t n = 0;                 // elements per row
    float epsilon = 0.f;           // added to the variance inside the square root
    bool rms = false;              // RMSNorm: no mean is subtracted
    const float* scale = nullptr;  // n values
    const float* bias = nullptr;   // n values
};

using LayerNormRowsFn = void (*)(const float* x, float* y, int64_t rows, const LayerNormParams& p);

void layer_norm_rows_scalar(const float* x, float* y, int64_t rows, const LayerNormParams& p);
void layer_norm_rows_avx512(const float* x, float* y, int64_t rows, const LayerNormParams& p);

}  // namespace kiln::cpu::norm
