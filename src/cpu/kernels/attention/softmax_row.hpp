#pragma once
// One attention row: x[j] = softmax_j(x[j] * scale + mask[j]) over j < valid, 0 beyond (causal
// rows). `mask` may be null, or read with stride 0 (one value for the whole row) or 1.
#include <cstdint>

namespace kiln::cpu::attention {

struct SoftmaxRow {
    float scale = 1.f;
    const float* mask = nullptr;
    int64_t mask_stride = 1;
};

void softmax_row_scalar(float* x, int64_t n, int64_t valid, const SoftmaxRow& p);
void softmax_row_avx512(float* x, int64_t n, int64_t valid, const SoftmaxRow& p);

}  // namespace kiln::cpu::attention
