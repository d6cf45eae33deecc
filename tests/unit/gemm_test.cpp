#include "cpu/kernels/gemm/gemm.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "kiln/error.hpp"
#include "kiln/float16.hpp"

using namespace kiln::cpu::gemm;

namespace {

struct Problem {
    int64_t m, n, k;
    bool trans_a, trans_b;
    bool bf16 = false;  // the kernels multiply inputs rounded to bf16: so does the reference
    std::vector<float> a, b;  // stored as op requires: A [M,K] or [K,M]; B [K,N] or [N,K]
};

Problem make_problem(int64_t m, int64_t n, int64_t k, bool trans_a, bool trans_b, unsigned seed) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> dist(-1.f, 1.f);
    Problem p{m, n, k, trans_a, trans_b, false, std::vector<float>(m * k), std::vector<float>(k * n)};
    for (auto& v : p.a) v = dist(rng);
    for (auto& v : p.b) v = dist(rng);
    return p;
}

float rounded(const Problem& p, float v) { return p.bf16 ? float(kiln::bfloat16(v)) : v; }
float a_at(const Problem& p, int64_t i, int64_t q) {
    return rounded(p, p.trans_a ? p.a[q * p.m + i] : p.a[i * p.k + q]);
}
float b_at(const Problem& p, int64_t q, int64_t j) {
    return rounded(p, p.trans_b ? p.b[j * p.k + q] : p.b[q * p.n + j]);
}

// Checks c against c0 (+) A*B accumulated in double, on rows/cols inside the range, and that
// c is untouched (equal to c0) outside it.
void expect_matches(const Problem& p, const std::vector<float>& c0, const std::vector<float>& c,
                    bool accumulate, int64_t m0, int64_t m1, int64_t n0, int64_t n1) {
    for (int64_t i = 0; i < p.m; ++i) {
        for (int64_t j = 0; j < p.n; ++j) {
            const float got = c[i * p.n + j];
            if (i < m0 || i >= m1 || j < n0 || j >= n1) {
                ASSERT_EQ(got, c0[i * p.n + j]) << "outside the range at " << i << "," << j;
                continue;
            }
            double ref = accumulate ? c0[i * p.n + j] : 0.0, mag = std::fabs(ref);
            for (int64_t q = 0; q < p.k; ++q) {
                const double t = double(a_at(p, i, q)) * b_at(p, q, j);
                ref += t;
                mag += std::fabs(t);
            }
            ASSERT_NEAR(got, ref, 1e-5 * mag + 1e-6)
                << "at " << i << "," << j << " of " << p.m << "x" << p.n << "x" << p.k;
        }
    }
}

void check(Isa isa, int64_t m, int64_t n, int64_t k, bool trans_a, bool trans_b, bool accumulate) {
    Problem p = make_problem(m, n, k, trans_a, trans_b, unsigned(m * 131 + n * 7 + k));
    p.bf16 = isa == Isa::avx512_bf16;
    const PackedB pb = pack_b(p.b.data(), k, n, trans_b ? k : n, trans_b, isa);
    ASSERT_EQ(pb.isa(), isa);
    std::vector<float> c0(m * n);
    for (size_t i = 0; i < c0.size(); ++i) c0[i] = 0.25f * float(i % 7) - 0.5f;
    std::vector<float> c = c0;
    gemm(p.a.data(), trans_a ? m : k, pb, c.data(), n, m,
         {.trans_a = trans_a, .accumulate = accumulate});
    expect_matches(p, c0, c, accumulate, 0, m, 0, n);
}

class GemmIsa : public ::testing::TestWithParam<Isa> {
protected:
    void SetUp() override {
        if (!isa_supported(GetParam())) GTEST_SKIP() << isa_name(GetParam()) << " unsupported";
    }
};

}  // namespace

TEST_P(GemmIsa, OddSizesOverwrite) {
    const int64_t sizes[] = {1, 3, 7, 17, 33, 65, 129};
    for (int64_t m : sizes)
        for (int64_t n : sizes)
            for (int64_t k : sizes) check(GetParam(), m, n, k, false, false, false);
}

TEST_P(GemmIsa, AccumulateAndTransposes) {
    for (int64_t m : {1, 13, 50})
        for (int64_t n : {1, 31, 70})
            for (int64_t k : {1, 5, 40})
                for (int t = 0; t < 4; ++t) check(GetParam(), m, n, k, t & 1, t & 2, true);
}

TEST_P(GemmIsa, CrossesCacheBlocks) {
    // Larger than one MC x KC x NC block of every ISA, with ragged edges everywhere.
    check(GetParam(), 301, 2100, 600, false, false, false);
    check(GetParam(), 157, 45, 517, true, true, true);
    // Several K blocks, read in place and packed (K = 2560 is an aliasing row stride).
    check(GetParam(), 20, 40, 2100, false, false, true);
    check(GetParam(), 13, 4 * tile_n(GetParam()) + 9, 2560, false, false, false);
}

TEST_P(GemmIsa, PacksAWhenRowsAlias) {
    // A row stride of 512 floats makes the driver pack A rather than read it in place.
    const int64_t n = 4 * tile_n(GetParam()) + 5;
    check(GetParam(), 29, n, 512, false, false, false);
    check(GetParam(), 29, n, 1024, false, true, true);
}

TEST_P(GemmIsa, EmptyDimensions) {
    check(GetParam(), 5, 9, 0, false, false, false);  // K = 0 zeroes C
    check(GetParam(), 5, 9, 0, false, false, true);   // ... or leaves it when accumulating
    check(GetParam(), 0, 9, 4, false, false, false);
    check(GetParam(), 5, 0, 4, false, false, false);
}

TEST_P(GemmIsa, SubRangesTileTheProduct) {
    const Isa isa = GetParam();
    const int64_t m = 77, n = 5 * tile_n(isa) + 3, k = 45;
    Problem p = make_problem(m, n, k, false, false, 7);
    p.bf16 = isa == Isa::avx512_bf16;
    const PackedB pb = pack_b(p.b.data(), k, n, n, false, isa);
    std::vector<float> c0(m * n, 3.f);

    // One sub-range computes only its block.
    std::vector<float> c = c0;
    const int64_t n0 = tile_n(isa), n1 = 3 * tile_n(isa) + 1;
    gemm(p.a.data(), k, pb, c.data(), n, m,
         {.m_begin = 10, .m_end = 41, .n_begin = n0, .n_end = n1});
    expect_matches(p, c0, c, false, 10, 41, n0, n1);

    // Disjoint ranges covering the whole product give the full result, as threads would.
    c = c0;
    Workspace ws(isa);
    for (int64_t r0 = 0; r0 < m; r0 += 20)
        for (int64_t c0_ = 0; c0_ < n; c0_ += 2 * tile_n(isa))
            gemm(p.a.data(), k, pb, c.data(), n, m,
                 {.accumulate = true,
                  .workspace = ws.data(),
                  .m_begin = r0,
                  .m_end = std::min<int64_t>(m, r0 + 20),
                  .n_begin = c0_,
                  .n_end = std::min<int64_t>(n, c0_ + 2 * tile_n(isa))});
    expect_matches(p, c0, c, true, 0, m, 0, n);
}

TEST_P(GemmIsa, RejectsBadArguments) {
    const Isa isa = GetParam();
    std::vector<float> a(6 * 4), b(4 * 40), c(6 * 40);
    const PackedB pb = pack_b(b.data(), 4, 40, 40, false, isa);
    EXPECT_THROW(gemm(a.data(), 4, pb, c.data(), 40, 6, {.m_begin = 3, .m_end = 7}), kiln::Error);
    EXPECT_THROW(gemm(a.data(), 4, pb, c.data(), 40, 6, {.n_begin = 1}), kiln::Error);
    EXPECT_THROW(gemm(a.data(), 4, pb, c.data(), 39, 6), kiln::Error);
    EXPECT_THROW(pack_b(b.data(), 4, 40, 39, false, isa), kiln::Error);
}

INSTANTIATE_TEST_SUITE_P(Gemm, GemmIsa, ::testing::Values(Isa::scalar, Isa::avx2, Isa::avx512,
                                                           Isa::avx512_bf16),
                         [](const auto& info) { return std::string(isa_name(info.param)); });

TEST(Gemm, BestIsaIsSupportedAndSticky) {
    EXPECT_TRUE(isa_supported(best_isa()));
    EXPECT_EQ(best_isa(), best_isa());
    EXPECT_GE(tile_n(best_isa()), 1);
    EXPECT_GE(tile_m(best_isa()), 1);
}

TEST(Gemm, KilnIsaCapsBestIsa) {
    // Meaningful when the suite runs under KILN_ISA=scalar|avx2|avx512.
    const char* env = std::getenv("KILN_ISA");
    if (!env) GTEST_SKIP() << "KILN_ISA not set";
    const std::string cap(env);
    for (Isa isa : {Isa::scalar, Isa::avx2, Isa::avx512}) {
        if (cap == isa_name(isa) && isa_supported(isa)) {
            EXPECT_EQ(best_isa(), isa);
        }
    }
    // The default pack follows the capped ISA.
    const float b[6] = {1, 2, 3, 4, 5, 6};
    EXPECT_EQ(pack_b(b, 2, 3, 3).isa(), best_isa());
}
