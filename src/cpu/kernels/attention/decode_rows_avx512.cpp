// GCC 12's AVX-512 headers start several intrinsics from _mm512_undefined_*(), which
// -Wmaybe-uninitialized reports once inlined.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
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

// The cache rows of a decode step were last touched a whole step ago, so they come from memory;
// the rows this many ahead are prefetched.
constexpr int64_t kAheadRows = 8;

// Every cache line of `count` elements from `row`.
template <class T>
void prefetch_row(const T* row, int64_t count) {
    const auto* b = reinterpret_cast<const char*>(row);
    for (int64_t at = 0; at < count * static_cast<int64_t>(sizeof(T)); at += 64)
        _mm_prefetch(b + at, _MM_HINT_T0);
}

// 16 (or fewer, under `m`) elements of a cache row as f32.
inline __m512 load16(const float* p, __mmask16 m) { return _mm512_maskz_loadu_ps(m, p); }
inline __m512 load16(const uint16_t* p, __mmask16 m) {
    return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, p));
}

// Blocks of 64 output columns in registers across all rows, so y is written once.
template <class T>
void weighted_rows(const float* p, const T* v, int64_t s, int64_t ev, float* y) {
    for (int64_t c0 = 0; c0 < ev; c0 += 64) {
        const int64_t width = ev - c0 < 64 ? ev - c0 : 64;
        __mmask16 m[4];
        column_masks(width, m);
        __m512 acc[4] = {_mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps(),
                         _mm512_setzero_ps()};
        for (int64_t j = 0; j < std::min(s, kAheadRows); ++j) prefetch_row(v + j * ev + c0, width);
        for (int64_t j = 0; j < s; ++j) {
            const __m512 pj = _mm512_set1_ps(p[j]);
            const T* vj = v + j * ev + c0;
            if (j + kAheadRows < s) prefetch_row(vj + kAheadRows * ev, width);
            for (int b = 0; b < 4; ++b)
                if (m[b]) acc[b] = _mm512_fmadd_ps(pj, load16(vj + 16 * b, m[b]), acc[b]);
        }
        for (int b = 0; b < 4; ++b)
            if (m[b]) _mm512_mask_storeu_ps(y + c0 + 16 * b, m[b], acc[b]);
    }
}

}  // namespace

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
    weighted_rows(p, v, s, ev, y);
}

void dot_rows_f16_avx512(const float* q, const uint16_t* k, int64_t s, int64_t e, float* scores) {
    const int64_t full = e / 16 * 16;
    const __mmask16 tail = tail_mask(e - full);
    for (int64_t j = 0; j < std::min(s, kAheadRows); ++j) prefetch_row(k + j * e, e);
    for (int64_t j = 0; j < s; ++j) {
        const uint16_t* kj = k + j * e;
        if (j + kAheadRows < s) prefetch_row(kj + kAheadRows * e, e);
        __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
        int64_t p = 0;
        for (; p + 32 <= full; p += 32) {
            acc0 = _mm512_fmadd_ps(_mm512_loadu_ps(q + p), load16(kj + p, 0xFFFF), acc0);
            acc1 = _mm512_fmadd_ps(_mm512_loadu_ps(q + p + 16), load16(kj + p + 16, 0xFFFF), acc1);
        }
        for (; p < full; p += 16)
            acc0 = _mm512_fmadd_ps(_mm512_loadu_ps(q + p), load16(kj + p, 0xFFFF), acc0);
        if (tail)
            acc1 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(tail, q + full), load16(kj + full, tail), acc1);
        scores[j] = _mm512_reduce_add_ps(_mm512_add_ps(acc0, acc1));
    }
}

void weighted_rows_f16_avx512(const float* p, const uint16_t* v, int64_t s, int64_t ev, float* y) {
    weighted_rows(p, v, s, ev, y);
}

}  // namespace kiln::cpu::attention
