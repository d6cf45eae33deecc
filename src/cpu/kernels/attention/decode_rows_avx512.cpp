#include <immintrin.h>

#include <algorithm>

#include "cpu/kernels/attention/decode_rows.hpp"

namespace kiln::cpu::attention {
namespace {

__mmask16 tail_mask(int64_t n) { return static_cast<__mmask16>((1u << n) - 1u); }

// The masks of a block of up to 64 output columns, 16 per zmm.
void column_masks(int64_t width, __mmask16 m[4]) {
    for (int b = 0; b < 4; ++b) {
        const int64_t left = width - 16 * b;
        m[b] = left >= 16 ? static_cast<__mmask16>(0xFFFF) : left > 0 ? tail_mask(left) : 0;
    }
}

}  // namespace

// The cache rows of a decode step were last touched a whole step ago, so they come from memory;
// the rows this many ahead are prefetched.
constexpr int64_t kAheadRows = 8;

inline void prefetch_row(const float* row, int64_t floats) {
    for (int64_t f = 0; f < floats; f += 16)
        _mm_prefetch(reinterpret_cast<const char*>(row + f), _MM_HINT_T0);
}

void dot_rows_avx512(const float* q, const float* k, int64_t s, int64_t e, float* scores) {
    const int64_t full = e / 16 * 16;
    const __mmask16 tail = tail_mask(e - full);
    for (int64_t j = 0; j < std::min(s, kAheadRows); ++j) prefetch_row(k + j * e, e);
    for (int64_t j = 0; j < s; ++j) {
        const float* kj = k + j * e;
        if (j + kAheadRows < s) prefetch_row(kj + kAheadRows * e, e);
        __m512 acc = _mm512_setzero_ps();
        for (int64_t p = 0; p < full; p += 16)
            acc = _mm512_fmadd_ps(_mm512_loadu_ps(q + p), _mm512_loadu_ps(kj + p), acc);
        if (tail)
            acc = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(tail, q + full),
                                  _mm512_maskz_loadu_ps(tail, kj + full), acc);
        scores[j] = _mm512_reduce_add_ps(acc);
    }
}

void weighted_rows_avx512(const float* p, const float* v, int64_t s, int64_t ev, float* y) {
    // Blocks of 64 output columns in registers across all rows, so y is written once.
    for (int64_t c0 = 0; c0 < ev; c0 += 64) {
        const int64_t width = ev - c0 < 64 ? ev - c0 : 64;
        __mmask16 m[4];
        column_masks(width, m);
        __m512 acc[4] = {_mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps(),
                         _mm512_setzero_ps()};
        for (int64_t j = 0; j < std::min(s, kAheadRows); ++j) prefetch_row(v + j * ev + c0, width);
        for (int64_t j = 0; j < s; ++j) {
            const __m512 pj = _mm512_set1_ps(p[j]);
            const float* vj = v + j * ev + c0;
            if (j + kAheadRows < s) prefetch_row(vj + kAheadRows * ev, width);
            for (int b = 0; b < 4; ++b)
                if (m[b]) acc[b] = _mm512_fmadd_ps(pj, _mm512_maskz_loadu_ps(m[b], vj + 16 * b), acc[b]);
        }
        for (int b = 0; b < 4; ++b)
            if (m[b]) _mm512_mask_storeu_ps(y + c0 + 16 * b, m[b], acc[b]);
    }
}

namespace {

inline __m512 load_half(const uint16_t* p, __mmask16 m) {
    return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, p));
}

}  // namespace

void dot_rows_f16_avx512(const float* q, const uint16_t* k, int64_t s, int64_t e, float* scores) {
    const int64_t full = e / 16 * 16;
    const __mmask16 tail = tail_mask(e - full);
    // Half the bytes per row of the f32 cache: twice the rows per prefetched line.
    for (int64_t j = 0; j < std::min(s, kAheadRows); ++j)
        for (int64_t f = 0; f < e; f += 32) _mm_prefetch(reinterpret_cast<const char*>(k + j * e + f), _MM_HINT_T0);
    for (int64_t j = 0; j < s; ++j) {
        const uint16_t* kj = k + j * e;
        if (j + kAheadRows < s)
            for (int64_t f = 0; f < e; f += 32)
                _mm_prefetch(reinterpret_cast<const char*>(kj + kAheadRows * e + f), _MM_HINT_T0);
        __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
        int64_t p = 0;
        for (; p + 32 <= full; p += 32) {
            acc0 = _mm512_fmadd_ps(_mm512_loadu_ps(q + p), load_half(kj + p, 0xFFFF), acc0);
            acc1 = _mm512_fmadd_ps(_mm512_loadu_ps(q + p + 16), load_half(kj + p + 16, 0xFFFF), acc1);
        }
        for (; p < full; p += 16)
            acc0 = _mm512_fmadd_ps(_mm512_loadu_ps(q + p), load_half(kj + p, 0xFFFF), acc0);
        if (tail)
            acc1 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(tail, q + full), load_half(kj + full, tail), acc1);
        scores[j] = _mm512_reduce_add_ps(_mm512_add_ps(acc0, acc1));
    }
}

void weighted_rows_f16_avx512(const float* p, const uint16_t* v, int64_t s, int64_t ev, float* y) {
    for (int64_t c0 = 0; c0 < ev; c0 += 64) {
        const int64_t width = ev - c0 < 64 ? ev - c0 : 64;
        __mmask16 m[4];
        column_masks(width, m);
        __m512 acc[4] = {_mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps(),
                         _mm512_setzero_ps()};
        for (int64_t j = 0; j < std::min(s, kAheadRows); ++j)
            for (int64_t f = 0; f < width; f += 32)
                _mm_prefetch(reinterpret_cast<const char*>(v + j * ev + c0 + f), _MM_HINT_T0);
        for (int64_t j = 0; j < s; ++j) {
            const __m512 pj = _mm512_set1_ps(p[j]);
            const uint16_t* vj = v + j * ev + c0;
            if (j + kAheadRows < s)
                for (int64_t f = 0; f < width; f += 32)
                    _mm_prefetch(reinterpret_cast<const char*>(vj + kAheadRows * ev + f), _MM_HINT_T0);
            for (int b = 0; b < 4; ++b)
                if (m[b]) acc[b] = _mm512_fmadd_ps(pj, load_half(vj + 16 * b, m[b]), acc[b]);
        }
        for (int b = 0; b < 4; ++b)
            if (m[b]) _mm512_mask_storeu_ps(y + c0 + 16 * b, m[b], acc[b]);
    }
}

}  // namespace kiln::cpu::attention
