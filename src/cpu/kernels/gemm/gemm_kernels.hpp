#pragma once
/// \file Internal interface between the GEMM driver and the per-ISA micro-kernels.
///
/// The ISA files are compiled with their own -m flags, so they include nothing but this header and
/// <immintrin.h>: an inline function from a standard header instantiated there could be chosen
/// by the linker for generic code and execute AVX-512 on a machine without it.
#include <cstdint>

namespace kiln::cpu::gemm::detail {

constexpr int kMaxMr = 16;

/// C[rows, nr] (+)= A * Bpanel over k steps. Packed kernels read A as k groups of the ISA's mr
/// floats (only the first `rows` used) and ignore lda; direct ones read row r, step p at
/// a[r * lda + p]. b: k groups of nr floats, 64-byte aligned. ldc is C's row stride.
using MicroKernel = void (*)(int64_t k, const float* a, int64_t lda, const float* b, float* c,
                             int64_t ldc, bool accumulate);

struct KernelSet {
    int mr, nr;      // micro-tile
    int mc, kc, nc;  // cache blocks: A block mc x kc stays in L2, B micro-panel kc x nr in L1
    MicroKernel rows[kMaxMr + 1];    // rows[i] computes i rows, 1 <= i <= mr; packed A
    MicroKernel direct[kMaxMr + 1];  // same, reading A in place (null: A is always packed)
    /// A and B are packed as bf16 pairs in 32-bit words (k counts pairs in the micro-kernels).
    bool bf16_pairs = false;
    /// For bf16_pairs: packs op(A)[m0:m0+mc, 2*p0 : 2*(p0+kc)] (K is k; pairs past it are zero)
    /// into panels of mr rows of kc pair words, rows past the block zero.
    void (*pack_a_pairs)(const float* a, int64_t lda, bool trans_a, int64_t m0, int64_t p0,
                         int64_t mc, int64_t kc, int64_t k, float* out) = nullptr;
};

const KernelSet& scalar_kernels();
const KernelSet& avx2_kernels();
const KernelSet& avx512_kernels();
const KernelSet& avx512bf16_kernels();

}  // namespace kiln::cpu::gemm::detail
