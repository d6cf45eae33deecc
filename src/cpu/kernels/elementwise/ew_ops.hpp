#pragma once
// The f32 elementwise primitives every ISA implements: one table of row functions per ISA
// (ew_avx512.cpp, ew_avx2.cpp, ew_scalar.cpp, all instantiated from ew_impl.hpp), picked once.
// Kernels built on them (unary, binary, softmax, reductions) only deal with shapes and threads.
#include <cstddef>
#include <cstdint>

#include "cpu/kernels/gemm/gemm.hpp"

namespace kiln::cpu::ew {

using gemm::Isa;

enum class UnaryOp {
    relu,
    sigmoid,
    tanh,
    erf,
    exp,
    sqrt,
    abs,
    neg,
    clamp,  // params: lo, hi
    hswish,
    hsigmoid,
    hard_sigmoid,  // params: alpha, beta
    swish,         // params: beta
    gelu_erf,
    gelu_tanh,
    square,     // Power by a scalar 2
    cube,       // Power by a scalar 3
    reciprocal  // Power by a scalar -1
};

struct UnaryParams {
    float a = 0.f, b = 0.f;
};

enum class BinaryOp { add, sub, mul, div, max, min, sqdiff, pow };

/// Element type conversions with a vector path (Convert's common cases).
enum class ConvertOp { f32_to_f16, f16_to_f32, f32_to_bf16, bf16_to_f32, i64_to_f32, f32_to_i64 };

/// How the two operands of a binary row are laid out: both `n` long, or one a single value.
enum class Operands { vector_vector, vector_scalar, scalar_vector };

struct EwKernels {
    void (*unary)(UnaryOp op, UnaryParams p, const float* x, float* y, size_t n);
    void (*binary)(BinaryOp op, Operands kind, const float* a, const float* b, float* y, size_t n);
    /// `rows` rows of binary(): row r reads a + r * a_stride and b + r * b_stride and writes
    /// y + r * n.
    void (*binary_rows)(BinaryOp op, Operands kind, const float* a, const float* b, float* y,
                        size_t n, size_t rows, size_t a_stride, size_t b_stride);
    /// y = softmax (or log-softmax) of the contiguous row x[0, n).
    void (*softmax_row)(const float* x, float* y, size_t n, bool log);
    /// Softmax along the rows of an [n, inner] block whose rows start `stride` floats apart
    /// (the axis is not the last one); `scratch` holds 2 * inner floats.
    void (*softmax_strided)(const float* x, float* y, size_t n, size_t inner, size_t stride,
                            float* scratch, bool log);
    /// The sum of x[0, n).
    float (*sum)(const float* x, size_t n);
    /// acc[0, n) += x[0, n).
    void (*accumulate)(float* acc, const float* x, size_t n);
    /// y[i] = x[i] converted exactly as the reference Convert does (NaN payloads aside).
    void (*convert)(ConvertOp op, const void* x, void* y, size_t n);
};

/// The table of `isa`; throws if this CPU cannot run it.
const EwKernels& ew_kernels(Isa isa);
/// The table of gemm::best_isa() (KILN_ISA caps it).
const EwKernels& ew_kernels();

namespace detail {
const EwKernels& avx512_ew_kernels();
const EwKernels& avx2_ew_kernels();
const EwKernels& scalar_ew_kernels();
}  // namespace detail

}  // namespace kiln::cpu::ew
