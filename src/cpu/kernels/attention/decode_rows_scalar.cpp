#include "cpu/kernels/attention/decode_rows.hpp"

#include <algorithm>

#include "kiln/float16.hpp"

namespace kiln::cpu::attention {

void dot_rows_scalar(const float* q, const float* k, int64_t s, int64_t e, float* scores) {
    for (int64_t j = 0; j < s; ++j) {
        float acc = 0.f;
        for (int64_t p = 0; p < e; ++p) acc += q[p] * k[j * e + p];
        scores[j] = acc;
    }
}

void weighted_rows_scalar(const float* p, const float* v, int64_t s, int64_t ev, float* y) {
    std::fill(y, y + ev, 0.f);
    for (int64_t j = 0; j < s; ++j)
        for (int64_t c = 0; c < ev; ++c) y[c] += p[j] * v[j * ev + c];
}

void dot_rows_f16_scalar(const float* q, const uint16_t* k, int64_t s, int64_t e, float* scores) {
    for (int64_t j = 0; j < s; ++j) {
        float acc = 0.f;
        for (int64_t p = 0; p < e; ++p) acc += q[p] * float16::to_float(k[j * e + p]);
        scores[j] = acc;
    }
}

void weighted_rows_f16_scalar(const float* p, const uint16_t* v, int64_t s, int64_t ev, float* y) {
    std::fill(y, y + ev, 0.f);
    for (int64_t j = 0; j < s; ++j)
        for (int64_t c = 0; c < ev; ++c) y[c] += p[j] * float16::to_float(v[j * ev + c]);
}

}  // namespace kiln::cpu::attention
