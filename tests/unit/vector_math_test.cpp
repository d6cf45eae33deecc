// Accuracy of the vectorized math functions (cpu/kernels/vector_math.hpp) on every ISA this CPU
// runs, against double-precision std:: functions, including the extremes and special values.
#include "cpu/kernels/vector_math.hpp"

#include <gtest/gtest.h>

#include <cfloat>
#include <cmath>
#include <cstdio>
#include <functional>
#include <random>
#include <vector>

using namespace kiln::cpu;
using vmath::Isa;

namespace {

using VecFn = void (*)(const float*, float*, size_t, Isa);

std::vector<Isa> isas() {
    std::vector<Isa> out;
    for (Isa i : {Isa::scalar, Isa::avx2, Isa::avx512})
        if (gemm::isa_supported(i)) out.push_back(i);
    return out;
}

// A dense sweep of [lo, hi], random values, and an odd count so every tail length occurs.
std::vector<float> sweep(float lo, float hi) {
    std::vector<float> x;
    const int n = 200003;
    for (int i = 0; i < n; ++i) x.push_back(lo + (hi - lo) * static_cast<float>(i) / (n - 1));
    std::mt19937 gen(5);
    std::uniform_real_distribution<float> e(-30.f, 30.f);
    for (int i = 0; i < 20001; ++i)
        x.push_back(std::ldexp(i % 2 ? 1.f : -1.f, static_cast<int>(e(gen))) * 1.37f);
    for (float v : {0.f, -0.f, FLT_MIN, -FLT_MIN, 1e-30f, -1e-30f, FLT_MAX, -FLT_MAX})
        x.push_back(v);
    return x;
}

// |y - ref| relative to |ref|, or to FLT_MIN where ref is denormal (a denormal result is
// only held to an absolute bound).
double max_error(VecFn fn, Isa isa, const std::vector<float>& x, double (*ref)(double)) {
    std::vector<float> y(x.size());
    fn(x.data(), y.data(), x.size(), isa);
    double worst = 0;
    for (size_t i = 0; i < x.size(); ++i) {
        const double r = ref(x[i]);
        if (std::isinf(r) || std::fabs(r) > FLT_MAX) {
            EXPECT_EQ(y[i], static_cast<float>(r)) << "x=" << x[i];
            continue;
        }
        const double e = std::fabs(y[i] - r) / std::max(std::fabs(r), static_cast<double>(FLT_MIN));
        EXPECT_LT(e, 1e-5) << "x=" << x[i] << " y=" << y[i] << " ref=" << r
                           << " isa=" << gemm::isa_name(isa);
        if (e >= 1e-5) return e;
        worst = std::max(worst, e);
    }
    return worst;
}

double sigmoid_ref(double x) { return 1.0 / (1.0 + std::exp(-x)); }
double exp_ref(double x) { return std::exp(x); }
double tanh_ref(double x) { return std::tanh(x); }
double erf_ref(double x) { return std::erf(x); }

void check_special(VecFn fn, Isa isa, float x, float expected) {
    float y = 0;
    fn(&x, &y, 1, isa);
    if (std::isnan(expected))
        EXPECT_TRUE(std::isnan(y)) << "x=" << x;
    else
        EXPECT_EQ(y, expected) << "x=" << x << " isa=" << gemm::isa_name(isa);
}

}  // namespace

TEST(VectorMath, ExpWithinOneUlp) {
    for (Isa isa : isas()) {
        const double e = max_error(vmath::exp_f32, isa, sweep(-104.f, 89.f), exp_ref);
        EXPECT_LT(e, 1.5e-7) << gemm::isa_name(isa);
        std::printf("exp %s max rel error %.3g\n", gemm::isa_name(isa), e);
    }
}

TEST(VectorMath, TanhErfSigmoidWithinBounds) {
    for (Isa isa : isas()) {
        const double t = max_error(vmath::tanh_f32, isa, sweep(-12.f, 12.f), tanh_ref);
        const double f = max_error(vmath::erf_f32, isa, sweep(-6.f, 6.f), erf_ref);
        const double s = max_error(vmath::sigmoid_f32, isa, sweep(-110.f, 40.f), sigmoid_ref);
        std::printf("%s max rel error: tanh %.3g erf %.3g sigmoid %.3g\n", gemm::isa_name(isa), t,
                    f, s);
        EXPECT_LT(t, 2.5e-7);
        EXPECT_LT(f, 2.5e-7);
        EXPECT_LT(s, 2.5e-7);
    }
}

TEST(VectorMath, SpecialValues) {
    const float inf = INFINITY, nan = NAN;
    for (Isa isa : isas()) {
        for (VecFn fn : {VecFn(vmath::exp_f32), VecFn(vmath::tanh_f32), VecFn(vmath::erf_f32),
                         VecFn(vmath::sigmoid_f32)})
            check_special(fn, isa, nan, nan);
        check_special(vmath::exp_f32, isa, inf, inf);
        check_special(vmath::exp_f32, isa, -inf, 0.f);
        check_special(vmath::exp_f32, isa, 89.f, inf);
        check_special(vmath::exp_f32, isa, -200.f, 0.f);
        check_special(vmath::exp_f32, isa, 0.f, 1.f);
        check_special(vmath::tanh_f32, isa, inf, 1.f);
        check_special(vmath::tanh_f32, isa, -inf, -1.f);
        check_special(vmath::erf_f32, isa, inf, 1.f);
        check_special(vmath::erf_f32, isa, -inf, -1.f);
        check_special(vmath::sigmoid_f32, isa, inf, 1.f);
        check_special(vmath::sigmoid_f32, isa, -inf, 0.f);
        float neg_zero = -0.f, y = 1.f;
        vmath::tanh_f32(&neg_zero, &y, 1, isa);
        EXPECT_TRUE(y == 0.f && std::signbit(y));
        vmath::erf_f32(&neg_zero, &y, 1, isa);
        EXPECT_TRUE(y == 0.f && std::signbit(y));
    }
}

TEST(VectorMath, InPlaceAndBestIsaAgree) {
    std::vector<float> x = sweep(-5.f, 5.f), y(x.size()), z = x;
    vmath::tanh_f32(x.data(), y.data(), x.size(), gemm::best_isa());
    vmath::tanh_f32(z.data(), z.data(), z.size());
    EXPECT_EQ(y, z);
}
