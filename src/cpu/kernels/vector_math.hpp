#pragma once
/// \file Vectorized f32 math over arrays, for any CPU kernel that needs them.
///
/// y[i] = f(x[i]) for i < n; x and y may be the same array. The ISA is chosen once per process
/// (gemm::best_isa(), capped by KILN_ISA); the overloads taking an Isa run that ISA's code (tests
/// and benchmarks), throwing if the CPU lacks it. Every ISA gives results within the same bounds:
///
/// - exp_f32: 1.2e-7 relative (1 ulp); denormal results within one denormal step;
///   exp(-inf) = 0, exp(+inf) = inf, and inf past 88.72.
/// - tanh_f32: 1.5e-7 relative; tanh(+-inf) = +-1, tanh(-0) = -0.
/// - erf_f32: 1.8e-7 relative; erf(+-inf) = +-1, erf(-0) = -0.
/// - sigmoid_f32: 2.1e-7 relative on both tails; sigmoid(-inf) = 0, sigmoid(+inf) = 1.
///
/// NaN gives NaN everywhere. tests/unit/vector_math_test.cpp checks these bounds.
#include <cstddef>

#include "cpu/kernels/gemm/gemm.hpp"

namespace kiln::cpu::vmath {

using gemm::Isa;

void exp_f32(const float* x, float* y, size_t n);
void tanh_f32(const float* x, float* y, size_t n);
void erf_f32(const float* x, float* y, size_t n);
void sigmoid_f32(const float* x, float* y, size_t n);

void exp_f32(const float* x, float* y, size_t n, Isa isa);
void tanh_f32(const float* x, float* y, size_t n, Isa isa);
void erf_f32(const float* x, float* y, size_t n, Isa isa);
void sigmoid_f32(const float* x, float* y, size_t n, Isa isa);

}  // namespace kiln::cpu::vmath
