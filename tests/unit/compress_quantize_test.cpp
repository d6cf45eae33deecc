// Weight quantization math: hand-computed values for each mode (zero points, groups, rounding half
// to even, clamping, all-zero groups) and error bounds on random matrices of odd sizes.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "compress/quantize.hpp"
#include "core/int4_packing.hpp"
#include "test_helpers.hpp"

using namespace kiln;
using compress::QuantizedWeight;
using compress::QuantScheme;

namespace {

std::vector<int> ints(const Tensor& t) {
    std::vector<int> v;
    const auto* p = static_cast<const uint8_t*>(t.raw_data());
    for (int64_t i = 0; i < t.size(); ++i) {
        switch (t.element_type()) {
            case ElementType::i4:
                v.push_back(int4::get_i4(p, i));
                break;
            case ElementType::u4:
                v.push_back(int4::get_u4(p, i));
                break;
            case ElementType::i8:
                v.push_back(static_cast<int8_t>(p[i]));
                break;
            default:
                v.push_back(p[i]);
        }
    }
    return v;
}

std::vector<float> floats(const Tensor& t) { return {t.data<float>(), t.data<float>() + t.size()}; }

QuantizedWeight quantize(const std::vector<float>& w, int64_t n, int64_t k, QuantScheme s) {
    EXPECT_EQ(static_cast<int64_t>(w.size()), n * k);
    return compress::quantize(w.data(), n, k, s);
}

TEST(CompressQuantize, Int8SymmetricPerChannel) {
    // Row 0: scale 127/127 = 1; 2.5 and -3.5 round to even. Row 1: all zero. Row 2: scale 2.
    const auto q =
        quantize({127, 2.5f, -3.5f, 0.5f, 0, 0, 0, 0, -254, 1, 3, -1}, 3, 4, {8, true, 0});
    EXPECT_EQ(q.values.element_type(), ElementType::i8);
    EXPECT_EQ(q.values.shape(), (Shape{3, 4}));
    EXPECT_EQ(q.scale.shape(), (Shape{3, 1}));
    EXPECT_FALSE(q.zero_point);
    EXPECT_EQ(ints(q.values), (std::vector<int>{127, 2, -4, 0, 0, 0, 0, 0, -127, 0, 2, 0}));
    EXPECT_EQ(floats(q.scale), (std::vector<float>{1, 1, 2}));
    const Tensor dq = compress::dequantize(q, 3, 4);
    EXPECT_EQ(floats(dq), (std::vector<float>{127, 2, -4, 0, 0, 0, 0, 0, -254, 0, 4, 0}));
}

TEST(CompressQuantize, Int8AsymmetricZeroPointAndRangeHoldingZero) {
    // Row 0: [-1, 254] -> scale 1, zero point 1. Row 1 is positive only: the range is widened to
    // [0, 255], so the zero point is 0 and 127.5 rounds to 128. Row 2: all zero.
    const auto q =
        quantize({-1, 0.5f, 1.5f, 254, 10.2f, 255, 30, 127.5f, 0, 0, 0, 0}, 3, 4, {8, false, 0});
    EXPECT_EQ(q.values.element_type(), ElementType::u8);
    EXPECT_EQ(q.zero_point.element_type(), ElementType::u8);
    EXPECT_EQ(q.zero_point.shape(), (Shape{3, 1}));
    EXPECT_EQ(ints(q.values), (std::vector<int>{0, 1, 3, 255, 10, 255, 30, 128, 0, 0, 0, 0}));
    EXPECT_EQ(ints(q.zero_point), (std::vector<int>{1, 0, 0}));
    EXPECT_EQ(floats(q.scale), (std::vector<float>{1, 1, 1}));
    EXPECT_EQ(floats(compress::dequantize(q, 3, 4)),
              (std::vector<float>{-1, 0, 2, 254, 10, 255, 30, 128, 0, 0, 0, 0}));
}

TEST(CompressQuantize, Int4AsymmetricGroups) {
    // Group 0: [-3, 12] -> scale 1, zero point 3. Group 1: [-7.5, 7.5] -> scale 1, zero point
    // round(7.5) = 8, and 7.5 -> 16 clamps to 15. Group 2: all zero.
    const auto q =
        quantize({-3, 12, 0.5f, 1.5f, -7.5f, 0, 7.5f, 2.5f, 0, 0, 0, 0}, 1, 12, {4, false, 4});
    EXPECT_EQ(q.values.element_type(), ElementType::u4);
    EXPECT_EQ(q.values.shape(), (Shape{1, 3, 4}));
    EXPECT_EQ(q.scale.shape(), (Shape{1, 3, 1}));
    EXPECT_EQ(q.zero_point.element_type(), ElementType::u4);
    EXPECT_EQ(ints(q.values), (std::vector<int>{0, 15, 3, 5, 0, 8, 15, 10, 0, 0, 0, 0}));
    EXPECT_EQ(ints(q.zero_point), (std::vector<int>{3, 8, 0}));
    EXPECT_EQ(floats(q.scale), (std::vector<float>{1, 1, 1}));
    EXPECT_EQ(floats(compress::dequantize(q, 1, 12)),
              (std::vector<float>{-3, 12, 0, 2, -8, 0, 7, 2, 0, 0, 0, 0}));
    // Packed two per byte, low nibble first: 0,15 -> 0xF0; 3,5 -> 0x53.
    const auto* bytes = static_cast<const uint8_t*>(q.values.raw_data());
    EXPECT_EQ(q.values.byte_size(), 6u);
    EXPECT_EQ(bytes[0], 0xF0);
    EXPECT_EQ(bytes[1], 0x53);
}

TEST(CompressQuantize, Int4SymmetricSignedScale) {
    // Group 0: |min| = 8 >= max -> scale 1, -8 exact. Group 1: max 16 wins -> scale -2, so 16
    // maps to -8; -1.5 and 2.5 round to even. Group 2: |min| = max -> 1 clamps to 7.
    const auto q =
        quantize({-8, 3.5f, 2.5f, 7, 16, -8, 3, -5, -1, 1, 0, 0.5f}, 1, 12, {4, true, 4});
    EXPECT_EQ(q.values.element_type(), ElementType::i4);
    EXPECT_FALSE(q.zero_point);
    EXPECT_EQ(ints(q.values), (std::vector<int>{-8, 4, 2, 7, -8, 4, -2, 2, -8, 7, 0, 4}));
    EXPECT_EQ(floats(q.scale), (std::vector<float>{1, -2, 0.125f}));
    EXPECT_EQ(floats(compress::dequantize(q, 1, 12)),
              (std::vector<float>{-8, 4, 2, 7, 16, -8, 4, -4, -1, 0.875f, 0, 0.5f}));
    const auto* bytes = static_cast<const uint8_t*>(q.values.raw_data());
    EXPECT_EQ(bytes[0], 0x48);  // -8 = 0x8 low, 4 high
    EXPECT_EQ(bytes[1], 0x72);
}

TEST(CompressQuantize, AllZeroRowsNeedNoDivision) {
    const std::vector<float> zeros(10, 0.f);
    for (QuantScheme s : {QuantScheme{8, true, 0}, QuantScheme{8, false, 0},
                          QuantScheme{4, true, 5}, QuantScheme{4, false, 5}}) {
        const auto q = quantize(zeros, 2, 5, s);
        for (float v : floats(q.scale)) EXPECT_EQ(v, 1.f);
        for (float v : floats(compress::dequantize(q, 2, 5))) EXPECT_EQ(v, 0.f);
        EXPECT_EQ(compress::relative_error(zeros.data(), 2, 5, s), 0.0);
    }
}

TEST(CompressQuantize, TinyRangesStayFinite) {
    const float tiny = std::numeric_limits<float>::denorm_min();
    const std::vector<float> w{tiny, -tiny, 0, 2 * tiny};
    for (QuantScheme s : {QuantScheme{8, true, 0}, QuantScheme{4, false, 2}}) {
        const auto q = quantize(w, 1, 4, s);
        for (float v : floats(compress::dequantize(q, 1, 4))) {
            EXPECT_TRUE(std::isfinite(v));
            EXPECT_LE(std::fabs(v), 1e-37f);
        }
    }
}

TEST(CompressQuantize, BadInputsThrow) {
    const std::vector<float> w{1, 2, 3, 4, 5, 6};
    EXPECT_THROW(compress::quantize(w.data(), 1, 6, {4, false, 4}), Error);  // 4 does not divide 6
    EXPECT_THROW(compress::quantize(w.data(), 1, 6, {3, false, 0}), Error);
    std::vector<float> bad = w;
    bad[4] = std::numeric_limits<float>::quiet_NaN();
    try {
        compress::quantize(bad.data(), 2, 3, {8, true, 0});
        FAIL() << "NaN accepted";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("row 1"), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("not finite"), std::string::npos) << e.what();
    }
    bad[4] = std::numeric_limits<float>::infinity();
    EXPECT_THROW(compress::relative_error(bad.data(), 2, 3, {4, true, 3}), Error);
}

// |w - dq(q(w))| <= scale/2 (a clamped int4_sym maximum: one scale), on odd sizes.
TEST(CompressQuantize, RandomMatricesStayWithinTheErrorBound) {
    struct Case {
        QuantScheme s;
        int64_t n, k;
        float slack;  // error bound in scales
    };
    const Case cases[] = {{{8, true, 0}, 7, 33, 0.5f},  {{8, false, 0}, 13, 31, 0.5f},
                          {{4, true, 5}, 11, 35, 1.0f}, {{4, false, 7}, 9, 21, 0.5f},
                          {{4, true, 0}, 5, 17, 1.0f},  {{4, false, 0}, 3, 19, 0.5f}};
    uint32_t seed = 11;
    for (const auto& c : cases) {
        const Tensor w = test_data::random_f32({c.n, c.k}, seed++, -2.f, 3.f);
        const auto q = compress::quantize(w.data<float>(), c.n, c.k, c.s);
        const Tensor dq = compress::dequantize(q, c.n, c.k);
        const int64_t per_scale = c.n * c.k / q.scale.size();
        double err = 0, norm = 0;
        for (int64_t i = 0; i < w.size(); ++i) {
            const float x = w.data<float>()[i], y = dq.data<float>()[i];
            const float scale = std::fabs(q.scale.data<float>()[i / per_scale]);
            ASSERT_LE(std::fabs(x - y), c.slack * scale * (1 + 1e-5f) + 1e-7f)
                << "bits " << c.s.bits << " sym " << c.s.symmetric << " element " << i;
            err += (x - y) * (x - y);
            norm += x * x;
        }
        EXPECT_NEAR(compress::relative_error(w.data<float>(), c.n, c.k, c.s), std::sqrt(err / norm),
                    1e-6);
        // Odd element counts: the last byte's high nibble is padding, left zero.
        if (bit_width(q.values.element_type()) == 4 && q.values.size() % 2) {
            const auto* p = static_cast<const uint8_t*>(q.values.raw_data());
            EXPECT_EQ(p[q.values.byte_size() - 1] >> 4, 0);
        }
    }
}

}  // namespace
