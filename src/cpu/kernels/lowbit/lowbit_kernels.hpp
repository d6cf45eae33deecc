#pragma once
// The kernels of compressed linear layers, per ISA: quantize activation rows, then multiply them
// with packed low-bit weights (lowbit_layout.hpp). The AVX512-VNNI variant unpacks the weights to
// u8 in registers and accumulates u8 x s8 products with vpdpbusd; the scalar one computes the
// same sums in plain C++ (the fallback, and the reference for the layout); the AVX2 one uses
// vpmaddubsw / vpmaddwd.
#include "cpu/kernels/lowbit/lowbit_layout.hpp"

namespace kiln::cpu::lowbit {

enum class Isa : int { scalar = 0, avx2 = 1, avx512_vnni = 2 };

/// avx512_vnni when the CPU has AVX-512 (F, BW, VL) and VNNI and KILN_ISA does not cap the ISA
/// below avx512 (gemm::best_isa()); else avx2 when gemm::best_isa() is avx2 or better; else
/// scalar.
Isa best_isa();
bool isa_supported(Isa isa);
const char* isa_name(Isa isa);

struct Kernels {
    /// Quantizes x (K floats) into row r of `a`.
    void (*quantize_row)(const float* x, const PackedWeights& w, QuantizedRows& a, int64_t r);
    /// y[r, c] = bias[c] + sum_k x[r, k] * W[c, k] for rows [r0, r0 + m) and the channels of
    /// panels [p0, p1) (those below N); bias may be null. y is row-major with leading dim ldy.
    void (*gemm)(const PackedWeights& w, const QuantizedRows& a, int64_t r0, int64_t m,
                 int64_t p0, int64_t p1, const float* bias, float* y, int64_t ldy);
};

const Kernels& kernels(Isa isa);

namespace detail {
const Kernels& scalar_kernels();
const Kernels& avx2_kernels();
const Kernels& avx512_vnni_kernels();
}  // namespace detail

}  // namespace kiln::cpu::lowbit
