#include <gtest/gtest.h>

#include <cmath>

#include "core/tensor_allocator.hpp"
#include "kiln/model.hpp"
#include "kiln/tensor.hpp"

using namespace kiln;

TEST(Tensor, AllocatesAlignedZeroedStorage) {
    Tensor t(ElementType::f32, {3, 5});
    EXPECT_EQ(t.size(), 15);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(t.raw_data()) % Tensor::kAlignment, 0u);
    for (int64_t i = 0; i < t.size(); ++i) EXPECT_EQ(t.data<float>()[i], 0.f);
}

// Large buffers get a mapping of their own that starts on a huge-page boundary (the weights
// kernels stream), small ones stay on the heap; every size must come back whole and writable.
TEST(Tensor, LargeBuffersStartOnHugePageBoundaries) {
    for (size_t bytes : {size_t{64}, kTensorMapBytes, kHugeMapBytes - 64, kHugeMapBytes,
                         kHugeMapBytes + 12345, 3 * kHugePageBytes + 64}) {
        for (bool streamed : {false, true}) {
            auto* p = static_cast<unsigned char*>(streamed ? allocate_streamed_memory(bytes)
                                                           : allocate_tensor_memory(bytes));
            ASSERT_NE(p, nullptr) << bytes;
            EXPECT_EQ(reinterpret_cast<uintptr_t>(p) % 64, 0u) << bytes;
            if (bytes >= kHugeMapBytes)
                EXPECT_EQ(reinterpret_cast<uintptr_t>(p) % kHugePageBytes, 0u) << bytes;
            p[0] = 1;
            p[bytes - 1] = 2;  // the last byte is ours
            EXPECT_EQ(p[0] + p[bytes - 1], 3);
            if (streamed)
                free_streamed_memory(p, bytes);
            else
                free_tensor_memory(p, bytes);
        }
    }
    Tensor big(ElementType::f32, {int64_t{3} << 20});  // 12 MiB, zero-filled
    EXPECT_EQ(reinterpret_cast<uintptr_t>(big.raw_data()) % kHugePageBytes, 0u);
    EXPECT_EQ(big.data<float>()[big.size() - 1], 0.f);
}

TEST(Graph, ParameterResultModel) {
    auto p = make_parameter(ElementType::f32, PartialShape({Dimension(), 4}), "x");
    p->output_info(0).names.insert("x");
    Model m({p->output(0)}, {p});
    EXPECT_EQ(m.inputs().size(), 1u);
    EXPECT_EQ(to_string(m.input("x").partial_shape()), "[?,4]");
    EXPECT_THROW(m.input("nope"), Error);
}

TEST(Float16, RoundTripsAndRounds) {
    EXPECT_EQ(static_cast<float>(float16(1.5f)), 1.5f);
    EXPECT_EQ(static_cast<float>(float16(-0.f)), -0.f);
    EXPECT_EQ(static_cast<float>(float16(65504.f)), 65504.f);
    EXPECT_TRUE(std::isinf(static_cast<float>(float16(1e6f))));
    EXPECT_TRUE(std::isnan(static_cast<float>(float16(NAN))));
    // Smallest subnormal half and round-to-nearest-even at the 1.0 boundary.
    EXPECT_EQ(static_cast<float>(float16::from_bits(1)), std::ldexp(1.f, -24));
    EXPECT_EQ(float16(std::ldexp(1.f, -24)).bits, 1);
    EXPECT_EQ(float16(1.f + std::ldexp(1.f, -11)).bits, float16(1.f).bits);  // tie -> even
    EXPECT_EQ(static_cast<float>(bfloat16(3.f)), 3.f);
    EXPECT_EQ(bfloat16(1.f + std::ldexp(1.f, -8)).bits, bfloat16(1.f).bits);  // tie -> even
}

TEST(PartialShape, ParsesIrText) {
    EXPECT_EQ(to_string(parse_partial_shape("1,3,?,224")), "[1,3,?,224]");
    EXPECT_EQ(to_string(parse_partial_shape("-1,2")), "[?,2]");
    EXPECT_EQ(to_string(parse_partial_shape("1..10,2")), "[?,2]");
    EXPECT_FALSE(parse_partial_shape("...").rank_is_static());
    EXPECT_EQ(parse_partial_shape("").rank(), 0);
    EXPECT_EQ(partial_shape_to_ir(parse_partial_shape("4,?")), "4,?");
    EXPECT_THROW(parse_partial_shape("1,x"), Error);
    EXPECT_TRUE(parse_partial_shape("?,4").compatible(Shape{7, 4}));
    EXPECT_FALSE(parse_partial_shape("?,4").compatible(Shape{7, 5}));
}

TEST(Attributes, TypedValuesSurviveTheirTextForm) {
    Attributes a{{"axes", std::vector<int64_t>{0, -1}},
                 {"eps", 1e-5},
                 {"mode", std::string("linear")},
                 {"flag", true},
                 {"scales", std::vector<double>{0.5, 2.0}}};
    Attributes text;
    for (const auto& [k, v] : a.items()) text.set(k, attr_to_string(v));
    EXPECT_EQ(text.get_ints("axes"), (std::vector<int64_t>{0, -1}));
    EXPECT_EQ(text.get_float("eps"), 1e-5);
    EXPECT_EQ(text.get_string("mode"), "linear");
    EXPECT_TRUE(text.get_bool("flag"));
    EXPECT_EQ(text.get_floats("scales"), (std::vector<double>{0.5, 2.0}));
    EXPECT_EQ(a, text);
    EXPECT_EQ(text.get_int("missing", 7), 7);
    text.set("dilations", std::string("1.0,2"));  // some IR writers spell integers as floats
    EXPECT_EQ(text.get_ints("dilations"), (std::vector<int64_t>{1, 2}));
    text.set("bad", std::string("1.5"));
    EXPECT_THROW(text.get_ints("bad"), Error);
    EXPECT_THROW(text.get_int("mode"), Error);
}

TEST(Tensor, ViewsShareAndClonesCopy) {
    Tensor t = Tensor::from_vector<int32_t>({1, 2, 3, 4, 5, 6}, {3, 2});
    Tensor row = t.slice_outer(1, 2);
    EXPECT_EQ(row.shape(), (Shape{1, 2}));
    EXPECT_EQ(row.data<int32_t>()[0], 3);
    Tensor c = t.clone();
    t.data<int32_t>()[2] = 30;
    EXPECT_EQ(row.data<int32_t>()[0], 30);
    EXPECT_EQ(c.data<int32_t>()[2], 3);
    EXPECT_FALSE(c.identical(t));
    EXPECT_THROW(t.data<float>(), Error);
    EXPECT_THROW(t.reshaped({4}), Error);
    EXPECT_THROW(t.slice_outer(2, 4), Error);
}

TEST(Graph, UnknownOpTypeNamesTheNode) {
    auto p = make_parameter(ElementType::f32, Shape{2}, "x");
    try {
        make_node("NoSuchOp", {p->output(0)}, {}, {}, "layer7");
        FAIL() << "expected an error";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("[NoSuchOp 'layer7'] unknown operation type"),
                  std::string::npos);
    }
}

TEST(Shape, ElementCountOverflowIsAnError) {
    EXPECT_EQ(shape_size({2, 3, 4}), 24);
    EXPECT_EQ(shape_size({}), 1);
    EXPECT_THROW(shape_size({int64_t{1} << 62, 4}), Error);
    EXPECT_THROW(Tensor(ElementType::f32, {int64_t{1} << 62, 4}), Error);
}
