// Convert from the packed 4-bit types (compressed weights): two elements per byte, low nibble
// first, odd counts included; 4-bit outputs are refused.
#include <gtest/gtest.h>

#include "kiln/model.hpp"
#include "kiln/node.hpp"
#include "ops/reference_executor.hpp"

using namespace kiln;

namespace {

Tensor packed(ElementType t, Shape shape, std::vector<uint8_t> bytes) {
    Tensor x(t, std::move(shape));
    EXPECT_EQ(x.byte_size(), bytes.size());
    std::copy(bytes.begin(), bytes.end(), static_cast<uint8_t*>(x.raw_data()));
    return x;
}

std::vector<float> convert_to_f32(const Tensor& x) {
    auto c = make_constant(x);
    Output y = make_op("Convert", {c->output(0)}, {{"destination_type", std::string("f32")}});
    Model m({y}, {});
    const Tensor out = evaluate_model(m, {}).at(0);
    EXPECT_EQ(out.shape(), x.shape());
    return {out.data<float>(), out.data<float>() + out.size()};
}

TEST(Convert4Bit, UnsignedLowNibbleFirst) {
    // 0x21 -> 1, 2; 0xF0 -> 0, 15; 0x07 -> 7 (the fifth element; the high nibble is padding).
    EXPECT_EQ(convert_to_f32(packed(ElementType::u4, {5}, {0x21, 0xF0, 0x07})),
              (std::vector<float>{1, 2, 0, 15, 7}));
}

TEST(Convert4Bit, SignedTwosComplement) {
    // 0x8F -> -1, -8; 0x70 -> 0, 7; 0x09 -> -7.
    EXPECT_EQ(convert_to_f32(packed(ElementType::i4, {1, 5}, {0x8F, 0x70, 0x09})),
              (std::vector<float>{-1, -8, 0, 7, -7}));
}

TEST(Convert4Bit, ProducingA4BitTypeIsRefused) {
    auto c = make_constant(Tensor::from_vector<float>({1.f, 2.f}));
    EXPECT_THROW(make_op("Convert", {c->output(0)}, {{"destination_type", std::string("u4")}}),
                 Error);
}

}  // namespace
