#include <cmath>

#include "cpu/kernels/norm/layer_norm_rows.hpp"

namespace kiln::cpu::norm {

void layer_norm_rows_scalar(const float* x, float* y, int64_t rows, const LayerNormParams& p) {
    const int64_t n = p.n;
    for (int64_t r = 0; r < rows; ++r, x += n, y += n) {
        float mean = 0.f, var = 0.f;
        if (!p.rms) {
            for (int64_t i = 0; i < n; ++i) mean += x[i];
            mean /= static_cast<float>(n);
        }
        for (int64_t i = 0; i < n; ++i) var += (x[i] - mean) * (x[i] - mean);
        const float inv = 1.f / std::sqrt(var / static_cast<float>(n) + p.epsilon);
        for (int64_t i = 0; i < n; ++i) y[i] = (x[i] - mean) * inv * p.scale[i] + p.bias[i];
    }
}

}  // namespace kiln::cpu::norm
