// The decode-step attention rows (dot products with each cached key, the weighted sum of cached
// values) read the cache where it lies, in f32 or f16. The AVX-512 variants must agree with
// the scalar ones on odd sizes (tails of every width), and the f16 ones with the f32 ones on
// the same values rounded to half precision.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "cpu/kernels/attention/decode_rows.hpp"
#include "cpu/kernels/gemm/gemm.hpp"
#include "kiln/float16.hpp"
#include "test_helpers.hpp"

using namespace kiln;
using namespace kiln::cpu::attention;

namespace {

std::vector<float> random_values(int64_t n, uint32_t seed) {
    const Tensor t = test_data::random_f32({n}, seed);
    return std::vector<float>(t.data<float>(), t.data<float>() + n);
}

// The values as f16 bits, and the same values widened back (what the f16 cache holds).
void to_half(const std::vector<float>& x, std::vector<uint16_t>& bits, std::vector<float>& back) {
    bits.resize(x.size());
    back.resize(x.size());
    for (size_t i = 0; i < x.size(); ++i) {
        bits[i] = float16::from_float(x[i]);
        back[i] = float16::to_float(bits[i]);
    }
}

void expect_close(const std::vector<float>& got, const std::vector<float>& want, const char* what,
                  int64_t s, int64_t e) {
    ASSERT_EQ(got.size(), want.size());
    for (size_t i = 0; i < got.size(); ++i)
        ASSERT_NEAR(got[i], want[i], 1e-5f * (1.f + std::fabs(want[i])))
            << what << " s=" << s << " e=" << e << " at " << i;
}

}  // namespace

TEST(DecodeRows, VectorAndHalfVariantsMatchTheScalarOnes) {
    const bool avx512 = cpu::gemm::best_isa() >= cpu::gemm::Isa::avx512;
    for (int64_t s : {1, 7, 9, 33, 130})
        for (int64_t e : {1, 15, 16, 17, 40, 64, 80, 131}) {
            const std::vector<float> q = random_values(e, 1), p = random_values(s, 2);
            std::vector<uint16_t> k16, v16;
            std::vector<float> k, v;
            to_half(random_values(s * e, 3), k16, k);
            to_half(random_values(s * e, 4), v16, v);

            std::vector<float> scores(s), y(e);
            dot_rows_scalar(q.data(), k.data(), s, e, scores.data());
            weighted_rows_scalar(p.data(), v.data(), s, e, y.data());
            // A reference of the test's own for the scalar rows.
            for (int64_t j = 0; j < s; ++j) {
                double d = 0;
                for (int64_t c = 0; c < e; ++c) d += double(q[c]) * k[j * e + c];
                ASSERT_NEAR(scores[j], d, 1e-5 * (1 + std::fabs(d)));
            }

            std::vector<float> got_scores(s), got_y(e);
            dot_rows_f16_scalar(q.data(), k16.data(), s, e, got_scores.data());
            weighted_rows_f16_scalar(p.data(), v16.data(), s, e, got_y.data());
            expect_close(got_scores, scores, "dot_rows_f16_scalar", s, e);
            expect_close(got_y, y, "weighted_rows_f16_scalar", s, e);
            if (!avx512) continue;
            dot_rows_avx512(q.data(), k.data(), s, e, got_scores.data());
            weighted_rows_avx512(p.data(), v.data(), s, e, got_y.data());
            expect_close(got_scores, scores, "dot_rows_avx512", s, e);
            expect_close(got_y, y, "weighted_rows_avx512", s, e);
            dot_rows_f16_avx512(q.data(), k16.data(), s, e, got_scores.data());
            weighted_rows_f16_avx512(p.data(), v16.data(), s, e, got_y.data());
            expect_close(got_scores, scores, "dot_rows_f16_avx512", s, e);
            expect_close(got_y, y, "weighted_rows_f16_avx512", s, e);
        }
}
