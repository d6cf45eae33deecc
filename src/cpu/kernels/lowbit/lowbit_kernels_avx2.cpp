// AVX2 kernels of compressed linear layers, for CPUs without AVX512-VNNI: the same layouts and
// sums as the VNNI variant, with vpmaddubsw (u8 x s8 pairs into i16) and vpmaddwd (into i32).
// vpmaddubsw saturates above 32767, so 8-bit weights are split into nibbles as well: every
// product is then at most 15 x 127, and u = 16 * hi + lo is rebuilt in the i32 sums.
#include <immintrin.h>

#include <algorithm>
#include <cstring>

#include "cpu/kernels/lowbit/lowbit_kernels.hpp"

namespace kiln::cpu::lowbit {
namespace {

inline __m256i bcast4(const int8_t* p) {
    int32_t v;
    std::memcpy(&v, p, 4);
    return _mm256_set1_epi32(v);
}

template <int MR, bool kFour>
void tile(const PackedWeights& w, const QuantizedRows& a, int64_t r0, int64_t p,
          const float* bias, float* y, int64_t ldy) {
    const uint8_t* wp = w.panel(p);
    const int64_t gp = w.padded_group(), blocks = gp / kBlock;
    const __m256i low = _mm256_set1_epi8(0x0F);
    const __m256i ones = _mm256_set1_epi16(1), sixteen = _mm256_set1_epi16(16);
    __m256 out[MR][2];
    for (int i = 0; i < MR; ++i) out[i][0] = out[i][1] = _mm256_setzero_ps();
    for (int64_t g = 0; g < w.groups(); ++g) {
        __m256 accg[MR][2];
        for (int i = 0; i < MR; ++i) accg[i][0] = accg[i][1] = _mm256_setzero_ps();
        for (int64_t b = 0; b < blocks; ++b) {
            const int64_t k0 = g * gp + b * kBlock;
            __m256i acc[MR][2];
            for (int i = 0; i < MR; ++i) acc[i][0] = acc[i][1] = _mm256_setzero_si256();
            constexpr int kSteps = kFour ? kBlock / 8 : kBlock / 4;
            for (int s = 0; s < kSteps; ++s, wp += 64) {
                for (int h = 0; h < 2; ++h) {
                    const __m256i v =
                        _mm256_load_si256(reinterpret_cast<const __m256i*>(wp) + h);
                    const __m256i lo = _mm256_and_si256(v, low);
                    const __m256i hi = _mm256_and_si256(_mm256_srli_epi16(v, 4), low);
                    for (int i = 0; i < MR; ++i) {
                        if constexpr (kFour) {
                            const int8_t* ak = a.q(r0 + i) + k0 + 8 * s;
                            const __m256i pairs = _mm256_add_epi16(
                                _mm256_maddubs_epi16(lo, bcast4(ak)),
                                _mm256_maddubs_epi16(hi, bcast4(ak + 4)));
                            acc[i][h] = _mm256_add_epi32(acc[i][h], _mm256_madd_epi16(pairs, ones));
                        } else {
                            const __m256i ak = bcast4(a.q(r0 + i) + k0 + 4 * s);
                            acc[i][h] = _mm256_add_epi32(
                                acc[i][h],
                                _mm256_add_epi32(
                                    _mm256_madd_epi16(_mm256_maddubs_epi16(lo, ak), ones),
                                    _mm256_madd_epi16(_mm256_maddubs_epi16(hi, ak), sixteen)));
                        }
                    }
                }
            }
            for (int i = 0; i < MR; ++i) {
                const __m256 sc = _mm256_set1_ps(a.scales(r0 + i)[g * blocks + b]);
                for (int h = 0; h < 2; ++h)
                    accg[i][h] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(acc[i][h]), sc, accg[i][h]);
            }
        }
        const auto* sc = reinterpret_cast<const float*>(wp);
        for (int h = 0; h < 2; ++h) {
            const __m256 s = _mm256_load_ps(sc + 8 * h);
            const __m256 z = w.has_zero_point() ? _mm256_load_ps(sc + kPanel + 8 * h)
                                                : _mm256_set1_ps(w.zero_offset());
            for (int i = 0; i < MR; ++i)
                out[i][h] = _mm256_fmadd_ps(
                    s, _mm256_fnmadd_ps(z, _mm256_set1_ps(a.csum(r0 + i)[g]), accg[i][h]),
                    out[i][h]);
        }
        wp += w.group_stride() - w.group_weight_bytes();
    }
    const int64_t col = p * kPanel;
    const int64_t width = std::min<int64_t>(kPanel, w.n() - col);
    for (int i = 0; i < MR; ++i) {
        alignas(32) float t[kPanel];
        _mm256_store_ps(t, out[i][0]);
        _mm256_store_ps(t + 8, out[i][1]);
        float* yr = y + (r0 + i) * ldy + col;
        for (int64_t c = 0; c < width; ++c) yr[c] = bias ? t[c] + bias[col + c] : t[c];
    }
}

template <bool kFour>
void gemm_impl(const PackedWeights& w, const QuantizedRows& a, int64_t r0, int64_t m, int64_t p0,
               int64_t p1, const float* bias, float* y, int64_t ldy) {
    for (int64_t p = p0; p < p1; ++p) {
        int64_t r = r0;
        for (; r + 4 <= r0 + m; r += 4) tile<4, kFour>(w, a, r, p, bias, y, ldy);
        switch (r0 + m - r) {
            case 3: tile<3, kFour>(w, a, r, p, bias, y, ldy); break;
            case 2: tile<2, kFour>(w, a, r, p, bias, y, ldy); break;
            case 1: tile<1, kFour>(w, a, r, p, bias, y, ldy); break;
            default: break;
        }
    }
}

void gemm_avx2(const PackedWeights& w, const QuantizedRows& a, int64_t r0, int64_t m, int64_t p0,
               int64_t p1, const float* bias, float* y, int64_t ldy) {
    if (w.four_bit())
        gemm_impl<true>(w, a, r0, m, p0, p1, bias, y, ldy);
    else
        gemm_impl<false>(w, a, r0, m, p0, p1, bias, y, ldy);
}

}  // namespace

namespace detail {
const Kernels& avx2_kernels() {
    static const Kernels k{scalar_kernels().quantize_row, gemm_avx2};
    return k;
}
}  // namespace detail

}  // namespace kiln::cpu::lowbit
