#include <gtest/gtest.h>

#include "kiln/model.hpp"
#include "kiln/tensor.hpp"

using namespace kiln;

TEST(Tensor, AllocatesAlignedZeroedStorage) {
    Tensor t(ElementType::f32, {3, 5});
    EXPECT_EQ(t.size(), 15);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(t.raw_data()) % Tensor::kAlignment, 0u);
    for (int64_t i = 0; i < t.size(); ++i) EXPECT_EQ(t.data<float>()[i], 0.f);
}

TEST(Graph, ParameterResultModel) {
    auto p = make_parameter(ElementType::f32, PartialShape({Dimension(), 4}), "x");
    p->output_info(0).names.insert("x");
    Model m({p->output(0)}, {p});
    EXPECT_EQ(m.inputs().size(), 1u);
    EXPECT_EQ(to_string(m.input("x").partial_shape()), "[?,4]");
    EXPECT_THROW(m.input("nope"), Error);
}
