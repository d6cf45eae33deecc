// ONNX LayerNormalization: translated as MVN + scale + bias when only Y is wanted, expanded from
// its schema's function body otherwise; on the CPU device both give the textbook result.
#include <gtest/gtest.h>

#include <cmath>

#include "kiln/onnx.hpp"
#include "kiln/runtime.hpp"
#include "onnx/onnx_pb.h"
#include "test_helpers.hpp"

using namespace kiln;
using test_data::count_type;

namespace {

void add_input(onnx::GraphProto* g, const std::string& name, std::vector<int64_t> dims) {
    auto* in = g->add_input();
    in->set_name(name);
    auto* tt = in->mutable_type()->mutable_tensor_type();
    tt->set_elem_type(onnx::TensorProto::FLOAT);
    for (int64_t d : dims) tt->mutable_shape()->add_dim()->set_dim_value(d);
}

void add_initializer(onnx::GraphProto* g, const std::string& name, int64_t n, float base) {
    auto* t = g->add_initializer();
    t->set_name(name);
    t->set_data_type(onnx::TensorProto::FLOAT);
    t->add_dims(n);
    for (int64_t i = 0; i < n; ++i) t->add_float_data(base + 0.1f * static_cast<float>(i));
}

// X [3, 4, 7] normalized over the last `7` (axis -1) or the last two axes (axis 1).
std::string layer_norm_model(int64_t axis, bool all_outputs) {
    onnx::ModelProto m;
    m.set_ir_version(8);
    m.add_opset_import()->set_version(17);
    auto* g = m.mutable_graph();
    g->set_name("ln");
    add_input(g, "x", {3, 4, 7});
    const int64_t n = axis == -1 ? 7 : 28;
    add_initializer(g, "scale", n, 0.5f);
    add_initializer(g, "bias", n, -0.3f);
    if (axis != -1) {
        // scale and bias of the normalized shape [4, 7]
        for (auto* t : {g->mutable_initializer(0), g->mutable_initializer(1)}) {
            t->clear_dims();
            t->add_dims(4);
            t->add_dims(7);
        }
    }
    auto* node = g->add_node();
    node->set_op_type("LayerNormalization");
    node->set_name("ln");
    node->add_input("x");
    node->add_input("scale");
    node->add_input("bias");
    node->add_output("y");
    if (all_outputs) {
        node->add_output("mean");
        node->add_output("inv_std");
    }
    auto* a = node->add_attribute();
    a->set_name("axis");
    a->set_type(onnx::AttributeProto::INT);
    a->set_i(axis);
    auto* e = node->add_attribute();
    e->set_name("epsilon");
    e->set_type(onnx::AttributeProto::FLOAT);
    e->set_f(1e-3f);
    for (const char* name : {"y", "mean", "inv_std"}) {
        if (!all_outputs && std::string(name) != "y") continue;
        auto* out = g->add_output();
        out->set_name(name);
        out->mutable_type()->mutable_tensor_type()->set_elem_type(onnx::TensorProto::FLOAT);
    }
    return m.SerializeAsString();
}

void check_layer_norm(int64_t axis, bool all_outputs) {
    auto model = read_onnx_from_memory(layer_norm_model(axis, all_outputs), ".");
    EXPECT_EQ(count_type(*model, "MVN"), all_outputs ? 0u : 1u);
    Tensor x(ElementType::f32, Shape{3, 4, 7});
    for (int64_t i = 0; i < x.size(); ++i)
        x.data<float>()[i] = std::sin(0.7f * static_cast<float>(i)) * 3.f + 2.f;
    Core core;
    auto req = core.compile_model(model, "CPU").create_infer_request();
    req.set_tensor("x", x);
    req.infer();
    const Tensor y = req.get_tensor("y");
    const int64_t n = axis == -1 ? 7 : 28, rows = x.size() / n;
    for (int64_t r = 0; r < rows; ++r) {
        const float* row = x.data<float>() + r * n;
        double mean = 0, var = 0;
        for (int64_t i = 0; i < n; ++i) mean += row[i];
        mean /= n;
        for (int64_t i = 0; i < n; ++i) var += (row[i] - mean) * (row[i] - mean);
        var /= n;
        for (int64_t i = 0; i < n; ++i) {
            const double want =
                (row[i] - mean) / std::sqrt(var + 1e-3) * (0.5 + 0.1 * i) + (-0.3 + 0.1 * i);
            ASSERT_NEAR(y.data<float>()[r * n + i], want, 1e-4) << "row " << r << " element " << i;
        }
    }
}

}  // namespace

TEST(OnnxLayerNormalization, TranslatedAsMvnWhenOnlyYIsWanted) {
    check_layer_norm(-1, false);
    check_layer_norm(1, false);
}

TEST(OnnxLayerNormalization, FunctionBodyForMeanAndInvStdDev) { check_layer_norm(-1, true); }
