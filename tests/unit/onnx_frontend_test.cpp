#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "kiln/onnx.hpp"
#include "kiln/runtime.hpp"
#include "onnx/onnx_pb.h"

using namespace kiln;
namespace fs = std::filesystem;

namespace {

// A model whose only output is its initializer `w` (f32 [2,3]), optionally stored externally.
onnx::ModelProto weight_model(bool external, const std::string& location = "weights.bin") {
    onnx::ModelProto m;
    m.set_ir_version(8);
    m.add_opset_import()->set_version(13);
    auto* g = m.mutable_graph();
    g->set_name("g");
    auto* w = g->add_initializer();
    w->set_name("w");
    w->set_data_type(onnx::TensorProto::FLOAT);
    w->add_dims(2);
    w->add_dims(3);
    if (external) {
        w->set_data_location(onnx::TensorProto::EXTERNAL);
        auto* kv = w->add_external_data();
        kv->set_key("location");
        kv->set_value(location);
    } else {
        for (int i = 0; i < 6; ++i) w->add_float_data(static_cast<float>(i));
    }
    auto* node = g->add_node();
    node->set_op_type("Identity");
    node->add_input("w");
    node->add_output("y");
    auto* out = g->add_output();
    out->set_name("y");
    out->mutable_type()->mutable_tensor_type()->set_elem_type(onnx::TensorProto::FLOAT);
    return m;
}

fs::path temp_dir(const std::string& name) {
    fs::path d = fs::temp_directory_path() / ("kiln-onnx-test-" + name);
    fs::remove_all(d);
    fs::create_directories(d);
    return d;
}

std::string message_of(const std::function<void()>& f) {
    try {
        f();
    } catch (const Error& e) {
        return e.what();
    }
    return "<no error>";
}

}  // namespace

TEST(OnnxFrontend, ReadsExternalData) {
    fs::path dir = temp_dir("external");
    {
        std::ofstream bin(dir / "weights.bin", std::ios::binary);
        float v[6] = {1, 2, 3, 4, 5, 6};
        bin.write(reinterpret_cast<const char*>(v), sizeof v);
        std::ofstream f(dir / "model.onnx", std::ios::binary);
        weight_model(true).SerializeToOstream(&f);
    }
    Core core;
    auto req = core.compile_model((dir / "model.onnx").string()).create_infer_request();
    req.infer();
    Tensor y = req.get_tensor("y");
    ASSERT_EQ(y.shape(), (Shape{2, 3}));
    EXPECT_EQ(y.data<float>()[5], 6.f);
}

TEST(OnnxFrontend, MissingExternalDataIsAClearError) {
    fs::path dir = temp_dir("missing");
    std::ofstream(dir / "model.onnx", std::ios::binary) << weight_model(true).SerializeAsString();
    std::string msg = message_of([&] { read_onnx((dir / "model.onnx").string()); });
    EXPECT_NE(msg.find("cannot open external data file"), std::string::npos) << msg;
    EXPECT_NE(msg.find("'w'"), std::string::npos) << msg;
}

TEST(OnnxFrontend, ExternalDataMayNotLeaveTheModelDirectory) {
    fs::path dir = temp_dir("escape");
    std::ofstream(dir / "model.onnx", std::ios::binary)
        << weight_model(true, "../secret.bin").SerializeAsString();
    std::string msg = message_of([&] { read_onnx((dir / "model.onnx").string()); });
    EXPECT_NE(msg.find("must be a relative path inside"), std::string::npos) << msg;
}

TEST(OnnxFrontend, ShortExternalDataIsAClearError) {
    fs::path dir = temp_dir("short");
    std::ofstream(dir / "weights.bin", std::ios::binary) << "abc";
    std::ofstream(dir / "model.onnx", std::ios::binary) << weight_model(true).SerializeAsString();
    std::string msg = message_of([&] { read_onnx((dir / "model.onnx").string()); });
    EXPECT_NE(msg.find("has 3 bytes, expected 24"), std::string::npos) << msg;
}

TEST(OnnxFrontend, UnsupportedOperatorNamesOpDomainOpsetAndNode) {
    auto m = weight_model(false);
    auto* op = m.mutable_graph()->mutable_node(0);
    op->set_op_type("FancyOp");
    op->set_domain("com.example");
    op->set_name("my_node");
    auto* imp = m.add_opset_import();
    imp->set_domain("com.example");
    imp->set_version(3);
    std::string msg = message_of([&] { read_onnx_from_memory(m.SerializeAsString(), "."); });
    EXPECT_NE(msg.find("FancyOp"), std::string::npos) << msg;
    EXPECT_NE(msg.find("com.example"), std::string::npos) << msg;
    EXPECT_NE(msg.find("opset 3"), std::string::npos) << msg;
    EXPECT_NE(msg.find("my_node"), std::string::npos) << msg;
}

TEST(OnnxFrontend, CorruptBytesAreAClearError) {
    std::string bytes = weight_model(false).SerializeAsString();
    std::string msg = message_of([&] { read_onnx_from_memory(bytes.substr(0, bytes.size() / 2), "."); });
    EXPECT_NE(msg.find("not a valid ONNX model"), std::string::npos) << msg;
    msg = message_of([&] { read_onnx_from_memory("\xff\xff\xff garbage", "."); });
    EXPECT_NE(msg.find("not a valid ONNX model"), std::string::npos) << msg;
}

TEST(OnnxFrontend, UndefinedValueIsAClearError) {
    auto m = weight_model(false);
    m.mutable_graph()->mutable_node(0)->set_input(0, "nowhere");
    std::string msg = message_of([&] { read_onnx_from_memory(m.SerializeAsString(), "."); });
    EXPECT_NE(msg.find("uses 'nowhere', which no earlier node"), std::string::npos) << msg;
}
