// AVX512-VNNI kernels of compressed linear layers (see lowbit_layout.hpp for the layouts). One
// micro-kernel computes MR rows x NP panels over all of K: per 64 bytes of weights it issues one
// load (the weights stream from memory once per token at decode), unpacks nibbles with a shift
// and a mask, and feeds vpdpbusd with the activation's 4 bytes broadcast from memory. Two
// accumulators per tile keep the vpdpbusd chains short enough that one row (decode), one panel
// at a time, still runs at the speed the memory delivers.
#pragma GCC target("avx512vnni")
// GCC 12's AVX-512 headers start several intrinsics from _mm512_undefined_*(), which
// -Wmaybe-uninitialized reports once inlined.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "cpu/kernels/lowbit/lowbit_kernels.hpp"

namespace kiln::cpu::lowbit {
namespace {

// Bytes ahead of each weight stream to prefetch: hides memory latency on a sequential run.
constexpr int64_t kPrefetch = 4096;

inline __m512i bcast4(const int8_t* p) {
    int32_t v;
    std::memcpy(&v, p, 4);
    return _mm512_set1_epi32(v);
}

void quantize_row_avx512(const float* x, const PackedWeights& w, QuantizedRows& a, int64_t r) {
    int8_t* q = a.q(r);
    float* scales = a.scales(r);
    float* csum = a.csum(r);
    const int64_t gs = w.group_size(), gp = w.padded_group();
    for (int64_t g = 0; g < w.groups(); ++g) {
        float c = 0.f;
        for (int64_t b = 0; b < gp / kBlock; ++b) {
            const float* src = x + g * gs + b * kBlock;
            const int64_t len = std::clamp<int64_t>(gs - b * kBlock, 0, kBlock);
            const __mmask16 m0 = static_cast<__mmask16>(len >= 16 ? 0xFFFF : (1u << len) - 1);
            const __mmask16 m1 =
                static_cast<__mmask16>(len >= 32 ? 0xFFFF : len <= 16 ? 0 : (1u << (len - 16)) - 1);
            const __m512 v0 = _mm512_maskz_loadu_ps(m0, src);
            const __m512 v1 = _mm512_maskz_loadu_ps(m1, src + 16);
            const float amax =
                _mm512_reduce_max_ps(_mm512_max_ps(_mm512_abs_ps(v0), _mm512_abs_ps(v1)));
            const float inv = amax > 0.f ? 127.f / amax : 0.f;
            const __m512i q0 = _mm512_cvtps_epi32(_mm512_mul_ps(v0, _mm512_set1_ps(inv)));
            const __m512i q1 = _mm512_cvtps_epi32(_mm512_mul_ps(v1, _mm512_set1_ps(inv)));
            int8_t* dst = q + g * gp + b * kBlock;
            _mm_storeu_si128(reinterpret_cast<__m128i*>(dst), _mm512_cvtsepi32_epi8(q0));
            _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + 16), _mm512_cvtsepi32_epi8(q1));
            const int32_t sum = _mm512_reduce_add_epi32(_mm512_add_epi32(q0, q1));
            const float scale = amax / 127.f;
            scales[g * (gp / kBlock) + b] = scale;
            c = std::fma(scale, static_cast<float>(sum), c);
        }
        csum[g] = c;
    }
}

template <int MR, int NP, bool kFour>
void tile(const PackedWeights& w, const QuantizedRows& a, int64_t r0, int64_t p,
          const float* bias, float* y, int64_t ldy) {
    const uint8_t* wp[NP];
    for (int j = 0; j < NP; ++j) wp[j] = w.panel(p + j);
    const int64_t gp = w.padded_group(), blocks = gp / kBlock;
    const __m512i low = _mm512_set1_epi8(0x0F);
    __m512 out[MR][NP];
    for (int i = 0; i < MR; ++i)
        for (int j = 0; j < NP; ++j) out[i][j] = _mm512_setzero_ps();

    for (int64_t g = 0; g < w.groups(); ++g) {
        __m512 accg[MR][NP];
        for (int i = 0; i < MR; ++i)
            for (int j = 0; j < NP; ++j) accg[i][j] = _mm512_setzero_ps();
        for (int64_t b = 0; b < blocks; ++b) {
            const int64_t k0 = g * gp + b * kBlock;
            __m512i acc0[MR][NP], acc1[MR][NP];
            for (int i = 0; i < MR; ++i)
                for (int j = 0; j < NP; ++j) acc0[i][j] = acc1[i][j] = _mm512_setzero_si512();
            if constexpr (kFour) {
                for (int s = 0; s < kBlock / 8; ++s) {
                    for (int j = 0; j < NP; ++j) {
                        _mm_prefetch(reinterpret_cast<const char*>(wp[j] + kPrefetch), _MM_HINT_T0);
                        const __m512i v = _mm512_load_si512(wp[j]);
                        wp[j] += 64;
                        const __m512i lo = _mm512_and_si512(v, low);
                        const __m512i hi = _mm512_and_si512(_mm512_srli_epi16(v, 4), low);
                        for (int i = 0; i < MR; ++i) {
                            const int8_t* ak = a.q(r0 + i) + k0 + 8 * s;
                            acc0[i][j] = _mm512_dpbusd_epi32(acc0[i][j], lo, bcast4(ak));
                            acc1[i][j] = _mm512_dpbusd_epi32(acc1[i][j], hi, bcast4(ak + 4));
                        }
                    }
                }
            } else {
                for (int s = 0; s < kBlock / 4; s += 2) {
                    for (int j = 0; j < NP; ++j) {
                        _mm_prefetch(reinterpret_cast<const char*>(wp[j] + kPrefetch), _MM_HINT_T0);
                        _mm_prefetch(reinterpret_cast<const char*>(wp[j] + kPrefetch + 64),
                                     _MM_HINT_T0);
                        const __m512i v0 = _mm512_load_si512(wp[j]);
                        const __m512i v1 = _mm512_load_si512(wp[j] + 64);
                        wp[j] += 128;
                        for (int i = 0; i < MR; ++i) {
                            const int8_t* ak = a.q(r0 + i) + k0 + 4 * s;
                            acc0[i][j] = _mm512_dpbusd_epi32(acc0[i][j], v0, bcast4(ak));
                            acc1[i][j] = _mm512_dpbusd_epi32(acc1[i][j], v1, bcast4(ak + 4));
                        }
                    }
                }
            }
            for (int i = 0; i < MR; ++i) {
                const __m512 s = _mm512_set1_ps(a.scales(r0 + i)[g * blocks + b]);
                for (int j = 0; j < NP; ++j)
                    accg[i][j] = _mm512_fmadd_ps(
                        _mm512_cvtepi32_ps(_mm512_add_epi32(acc0[i][j], acc1[i][j])), s,
                        accg[i][j]);
            }
        }
        for (int j = 0; j < NP; ++j) {
            const __m512 sc = _mm512_load_ps(reinterpret_cast<const float*>(wp[j]));
            const __m512 z = w.has_zero_point()
                                 ? _mm512_load_ps(reinterpret_cast<const float*>(wp[j]) + kPanel)
                                 : _mm512_set1_ps(w.zero_offset());
            wp[j] += w.group_stride() - w.group_weight_bytes();
            for (int i = 0; i < MR; ++i)
                out[i][j] = _mm512_fmadd_ps(
                    sc, _mm512_fnmadd_ps(z, _mm512_set1_ps(a.csum(r0 + i)[g]), accg[i][j]),
                    out[i][j]);
        }
    }
    for (int j = 0; j < NP; ++j) {
        const int64_t col = (p + j) * kPanel;
        const int64_t width = std::min<int64_t>(kPanel, w.n() - col);
        const __mmask16 mask = static_cast<__mmask16>(width >= 16 ? 0xFFFF : (1u << width) - 1);
        const __m512 bv = bias ? _mm512_maskz_loadu_ps(mask, bias + col) : _mm512_setzero_ps();
        for (int i = 0; i < MR; ++i)
            _mm512_mask_storeu_ps(y + (r0 + i) * ldy + col, mask, _mm512_add_ps(out[i][j], bv));
    }
}

// Many rows (prefill): MR rows x NP panels with one accumulator per tile, each activation
// broadcast serving NP panels; the output accumulates in y once per group, which keeps the
// 2*MR*NP accumulators in registers.
template <int MR, int NP, bool kFour>
void tile_rows(const PackedWeights& w, const QuantizedRows& a, int64_t r0, int64_t p,
               const float* bias, float* y, int64_t ldy) {
    const uint8_t* wp[NP];
    __mmask16 mask[NP];
    for (int j = 0; j < NP; ++j) {
        wp[j] = w.panel(p + j);
        const int64_t width = std::min<int64_t>(kPanel, w.n() - (p + j) * kPanel);
        mask[j] = static_cast<__mmask16>(width >= 16 ? 0xFFFF : (1u << width) - 1);
    }
    const int64_t gp = w.padded_group(), blocks = gp / kBlock;
    const __m512i low = _mm512_set1_epi8(0x0F);
    for (int64_t g = 0; g < w.groups(); ++g) {
        __m512 accg[MR][NP];
        for (int i = 0; i < MR; ++i)
            for (int j = 0; j < NP; ++j) accg[i][j] = _mm512_setzero_ps();
        for (int64_t b = 0; b < blocks; ++b) {
            const int64_t k0 = g * gp + b * kBlock;
            __m512i acc[MR][NP];
            for (int i = 0; i < MR; ++i)
                for (int j = 0; j < NP; ++j) acc[i][j] = _mm512_setzero_si512();
            if constexpr (kFour) {
                for (int s = 0; s < kBlock / 8; ++s) {
                    __m512i lo[NP], hi[NP];
                    for (int j = 0; j < NP; ++j) {
                        const __m512i v = _mm512_load_si512(wp[j]);
                        wp[j] += 64;
                        lo[j] = _mm512_and_si512(v, low);
                        hi[j] = _mm512_and_si512(_mm512_srli_epi16(v, 4), low);
                    }
                    for (int i = 0; i < MR; ++i) {
                        const int8_t* ak = a.q(r0 + i) + k0 + 8 * s;
                        const __m512i a0 = bcast4(ak), a1 = bcast4(ak + 4);
                        for (int j = 0; j < NP; ++j) {
                            acc[i][j] = _mm512_dpbusd_epi32(acc[i][j], lo[j], a0);
                            acc[i][j] = _mm512_dpbusd_epi32(acc[i][j], hi[j], a1);
                        }
                    }
                }
            } else {
                for (int s = 0; s < kBlock / 4; ++s) {
                    __m512i v[NP];
                    for (int j = 0; j < NP; ++j) {
                        v[j] = _mm512_load_si512(wp[j]);
                        wp[j] += 64;
                    }
                    for (int i = 0; i < MR; ++i) {
                        const __m512i a0 = bcast4(a.q(r0 + i) + k0 + 4 * s);
                        for (int j = 0; j < NP; ++j)
                            acc[i][j] = _mm512_dpbusd_epi32(acc[i][j], v[j], a0);
                    }
                }
            }
            for (int i = 0; i < MR; ++i) {
                const __m512 sc = _mm512_set1_ps(a.scales(r0 + i)[g * blocks + b]);
                for (int j = 0; j < NP; ++j)
                    accg[i][j] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(acc[i][j]), sc, accg[i][j]);
            }
        }
        for (int j = 0; j < NP; ++j) {
            const __m512 sc = _mm512_load_ps(reinterpret_cast<const float*>(wp[j]));
            const __m512 z = w.has_zero_point()
                                 ? _mm512_load_ps(reinterpret_cast<const float*>(wp[j]) + kPanel)
                                 : _mm512_set1_ps(w.zero_offset());
            wp[j] += w.group_stride() - w.group_weight_bytes();
            const int64_t col = (p + j) * kPanel;
            // The bias goes in after the last group, as the scalar kernel adds it.
            const bool last = g + 1 == w.groups();
            const __m512 bv = last && bias ? _mm512_maskz_loadu_ps(mask[j], bias + col)
                                           : _mm512_setzero_ps();
            for (int i = 0; i < MR; ++i) {
                float* yr = y + (r0 + i) * ldy + col;
                const __m512 prev = g > 0 ? _mm512_maskz_loadu_ps(mask[j], yr) : _mm512_setzero_ps();
                const __m512 t = _mm512_fnmadd_ps(z, _mm512_set1_ps(a.csum(r0 + i)[g]), accg[i][j]);
                _mm512_mask_storeu_ps(yr, mask[j],
                                      _mm512_add_ps(_mm512_fmadd_ps(sc, t, prev), bv));
            }
        }
    }
}

template <int NP, bool kFour>
void rows_tail(const PackedWeights& w, const QuantizedRows& a, int64_t r, int64_t left,
               int64_t p, const float* bias, float* y, int64_t ldy) {
    switch (left) {
        case 3: tile_rows<3, NP, kFour>(w, a, r, p, bias, y, ldy); break;
        case 2: tile_rows<2, NP, kFour>(w, a, r, p, bias, y, ldy); break;
        case 1: tile_rows<1, NP, kFour>(w, a, r, p, bias, y, ldy); break;
        default: break;
    }
}

template <bool kFour>
void gemm_impl(const PackedWeights& w, const QuantizedRows& a, int64_t r0, int64_t m, int64_t p0,
               int64_t p1, const float* bias, float* y, int64_t ldy) {
    if (m <= 2) {
        // Few rows (decode): one panel at a time, so each thread reads its run of panels as one
        // sequential stream. Two panels side by side (two streams 6.5 KB apart for K = 768, and
        // four vpdpbusd chains instead of two) streamed GPT-2's decode weights at 29 GB/s here;
        // one panel at 38-39 GB/s, above a plain 2-thread read (34 GB/s): memory, not the dot
        // products, bounds a token.
        for (int64_t p = p0; p < p1; ++p) {
            if (m == 1) tile<1, 1, kFour>(w, a, r0, p, bias, y, ldy);
            else tile<2, 1, kFour>(w, a, r0, p, bias, y, ldy);
        }
        return;
    }
    // Many rows: two panels' weights stay in L1 while every 4-row tile passes over them.
    const int64_t r_end = r0 + m;
    int64_t p = p0;
    for (; p + 2 <= p1; p += 2) {
        int64_t r = r0;
        for (; r + 4 <= r_end; r += 4) tile_rows<4, 2, kFour>(w, a, r, p, bias, y, ldy);
        rows_tail<2, kFour>(w, a, r, r_end - r, p, bias, y, ldy);
    }
    if (p < p1) {
        int64_t r = r0;
        for (; r + 4 <= r_end; r += 4) tile_rows<4, 1, kFour>(w, a, r, p, bias, y, ldy);
        rows_tail<1, kFour>(w, a, r, r_end - r, p, bias, y, ldy);
    }
}

void gemm_avx512(const PackedWeights& w, const QuantizedRows& a, int64_t r0, int64_t m,
                 int64_t p0, int64_t p1, const float* bias, float* y, int64_t ldy) {
    if (w.four_bit())
        gemm_impl<true>(w, a, r0, m, p0, p1, bias, y, ldy);
    else
        gemm_impl<false>(w, a, r0, m, p0, p1, bias, y, ldy);
}

}  // namespace

namespace detail {
const Kernels& avx512_vnni_kernels() {
    static const Kernels k{quantize_row_avx512, gemm_avx512};
    return k;
}
}  // namespace detail

}  // namespace kiln::cpu::lowbit
