#include "cpu/kernels/vector_math.hpp"

#include "cpu/kernels/elementwise/ew_ops.hpp"

namespace kiln::cpu::vmath {
namespace {

void run(ew::UnaryOp op, const float* x, float* y, size_t n, const ew::EwKernels& k) {
    k.unary(op, {}, x, y, n);
}

}  // namespace

void exp_f32(const float* x, float* y, size_t n) {
    run(ew::UnaryOp::exp, x, y, n, ew::ew_kernels());
}
void tanh_f32(const float* x, float* y, size_t n) {
    run(ew::UnaryOp::tanh, x, y, n, ew::ew_kernels());
}
void erf_f32(const float* x, float* y, size_t n) {
    run(ew::UnaryOp::erf, x, y, n, ew::ew_kernels());
}
void sigmoid_f32(const float* x, float* y, size_t n) {
    run(ew::UnaryOp::sigmoid, x, y, n, ew::ew_kernels());
}

void exp_f32(const float* x, float* y, size_t n, Isa isa) {
    run(ew::UnaryOp::exp, x, y, n, ew::ew_kernels(isa));
}
void tanh_f32(const float* x, float* y, size_t n, Isa isa) {
    run(ew::UnaryOp::tanh, x, y, n, ew::ew_kernels(isa));
}
void erf_f32(const float* x, float* y, size_t n, Isa isa) {
    run(ew::UnaryOp::erf, x, y, n, ew::ew_kernels(isa));
}
void sigmoid_f32(const float* x, float* y, size_t n, Isa isa) {
    run(ew::UnaryOp::sigmoid, x, y, n, ew::ew_kernels(isa));
}

}  // namespace kiln::cpu::vmath
