#include <algorithm>
#include <cmath>
#include <limits>

#include "cpu/kernels/attention/softmax_row.hpp"

namespace kiln::cpu::attention {

void softmax_row_scalar(float* x, int64_t n, int64_t valid, const SoftmaxRow& p) {
    float mx = -std::numeric_limits<float>::infinity();
    for (int64_t j = 0; j < valid; ++j) {
        x[j] = x[j] * p.scale + (p.mask ? p.mask[j * p.mask_stride] : 0.f);
        mx = std::max(mx, x[j]);
    }
    float sum = 0.f;
    for (int64_t j = 0; j < valid; ++j) {
        x[j] = mx == -std::numeric_limits<float>::infinity() ? 0.f : std::exp(x[j] - mx);
        sum += x[j];
    }
    const float inv = sum > 0.f ? 1.f / sum : 0.f;
    for (int64_t j = 0; j < valid; ++j) x[j] *= inv;
    std::fill(x + std::max<int64_t>(valid, 0), x + n, 0.f);
}

}  // namespace kiln::cpu::attention
