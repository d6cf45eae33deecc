// Bad input of every kind must give one "kiln: error:" line and exit code 1, never a crash.
#include <random>

#include "cli_support.hpp"
#include "kiln/npy.hpp"
#include "kiln/onnx.hpp"
#include "onnx/onnx_pb.h"

namespace kiln::e2e {
namespace {

// Identity keeps these tests independent of which operator families are built in.
const std::string kIdDir = std::string(kTestData) + "/node/test_identity";
const std::string kIdModel = kIdDir + "/model.onnx";
const std::string kIdData = kIdDir + "/test_data_set_0";

using CliErrors = CliTest;

TEST_F(CliErrors, MissingModelFile) {
    expect_clean_error(kiln("info " + quote(dir_ / "nope.onnx")), "does not exist");
    expect_clean_error(kiln("run " + quote(dir_ / "nope.xml") + " --input-dir " + quote(kIdData)),
                       "does not exist");
}

TEST_F(CliErrors, UnknownModelFormat) {
    write_text(dir_ / "model.txt", "hello");
    expect_clean_error(kiln("info " + quote(dir_ / "model.txt")), "format");
}

TEST_F(CliErrors, TruncatedOnnx) {
    for (const std::string& source :
         {kIdModel, std::string(kTestData) + "/node/test_abs/model.onnx"}) {
        const std::string bytes = read_text(source);
        ASSERT_GT(bytes.size(), 40u);
        for (size_t keep : {size_t{1}, size_t{7}, bytes.size() / 3, bytes.size() / 2,
                            bytes.size() - 3, bytes.size() - 1}) {
            write_text(dir_ / "model.onnx", bytes.substr(0, keep));
            SCOPED_TRACE(source + ": kept " + std::to_string(keep) + " of " +
                         std::to_string(bytes.size()));
            expect_clean_error(kiln("info " + quote(dir_ / "model.onnx")));
            expect_clean_error(
                kiln("run " + quote(dir_ / "model.onnx") + " --input-dir " + quote(kIdData)));
        }
    }
}

TEST_F(CliErrors, EmptyAndGarbageOnnx) {
    write_text(dir_ / "empty.onnx", "");
    expect_clean_error(kiln("info " + quote(dir_ / "empty.onnx")));
    std::mt19937 rng(7);
    for (int round = 0; round < 4; ++round) {
        std::string junk(256 + 512 * round, '\0');
        for (char& c : junk) c = static_cast<char>(rng() & 0xff);
        write_text(dir_ / "junk.onnx", junk);
        SCOPED_TRACE("round " + std::to_string(round));
        expect_clean_error(kiln("info " + quote(dir_ / "junk.onnx")));
    }
    write_text(dir_ / "text.onnx", "this is not a model\n");
    expect_clean_error(
        kiln("convert " + quote(dir_ / "text.onnx") + " -o " + quote(dir_ / "text.xml")));
}

// A model y = x + w whose initializer w lives in an external file.
void write_external_data_model(const fs::path& path, const std::string& location) {
    onnx::ModelProto model;
    model.set_ir_version(8);
    auto* opset = model.add_opset_import();
    opset->set_domain("");
    opset->set_version(13);
    auto* graph = model.mutable_graph();
    graph->set_name("external");
    auto add_value = [](onnx::ValueInfoProto* v, const char* name) {
        v->set_name(name);
        auto* t = v->mutable_type()->mutable_tensor_type();
        t->set_elem_type(onnx::TensorProto::FLOAT);
        t->mutable_shape()->add_dim()->set_dim_value(2);
    };
    add_value(graph->add_input(), "x");
    add_value(graph->add_output(), "y");
    auto* w = graph->add_initializer();
    w->set_name("w");
    w->set_data_type(onnx::TensorProto::FLOAT);
    w->add_dims(2);
    w->set_data_location(onnx::TensorProto::EXTERNAL);
    auto* loc = w->add_external_data();
    loc->set_key("location");
    loc->set_value(location);
    auto* node = graph->add_node();
    node->set_op_type("Add");
    node->set_name("add");
    node->add_input("x");
    node->add_input("w");
    node->add_output("y");
    std::ofstream f(path, std::ios::binary);
    ASSERT_TRUE(model.SerializeToOstream(&f));
}

TEST_F(CliErrors, MissingExternalDataFile) {
    write_external_data_model(dir_ / "model.onnx", "weights.bin");
    expect_clean_error(kiln("info " + quote(dir_ / "model.onnx")), "weights.bin");

    // With the file present the same model loads and runs.
    const float w[2] = {1.5f, -2.0f};
    write_text(dir_ / "weights.bin", std::string(reinterpret_cast<const char*>(w), sizeof w));
    write_npy(Tensor::from_vector<float>({1.0f, 1.0f}), (dir_ / "x.npy").string());
    const CliResult r =
        kiln("run " + quote(dir_ / "model.onnx") + " --input x=" + quote(dir_ / "x.npy") + " -o " +
             quote(dir_ / "out") + " --format npy");
    if (r.err.find("unsupported operator") != std::string::npos)
        GTEST_SKIP() << "Add is not built in: " << r.err;
    ASSERT_EQ(r.code, 0) << r.err;
    const Tensor y = read_npy((dir_ / "out" / "output_0.npy").string());
    ASSERT_EQ(y.shape(), Shape{2});
    EXPECT_FLOAT_EQ(y.data<float>()[0], 2.5f);
    EXPECT_FLOAT_EQ(y.data<float>()[1], -1.0f);

    // Short external data is an error too.
    write_text(dir_ / "weights.bin", "abc");
    expect_clean_error(kiln("info " + quote(dir_ / "model.onnx")));
}

// y = Relu(x) in the given opset, but the graph declares `output` as its output.
void write_relu_model(const fs::path& path, int opset_version, const std::string& output) {
    onnx::ModelProto model;
    model.set_ir_version(7);
    auto* opset = model.add_opset_import();
    opset->set_domain("");
    opset->set_version(opset_version);
    auto* graph = model.mutable_graph();
    graph->set_name("relu");
    auto add_value = [](onnx::ValueInfoProto* v, const std::string& name) {
        v->set_name(name);
        auto* t = v->mutable_type()->mutable_tensor_type();
        t->set_elem_type(onnx::TensorProto::FLOAT);
        t->mutable_shape()->add_dim()->set_dim_value(2);
    };
    add_value(graph->add_input(), "x");
    add_value(graph->add_output(), output);
    auto* node = graph->add_node();
    node->set_op_type("Relu");
    node->add_input("x");
    node->add_output("y");
    std::ofstream f(path, std::ios::binary);
    ASSERT_TRUE(model.SerializeToOstream(&f));
}

TEST_F(CliErrors, ControlCharactersInNamesAreEscaped) {
    write_relu_model(dir_ / "model.onnx", 13, "y\x0bz\n");
    const CliResult r = kiln("info " + quote(dir_ / "model.onnx"));
    expect_clean_error(r, "y\\x0bz");
}

// libonnx's version converter (run for opsets < 13) dereferences null on a graph output that no
// node produces; the ONNX frontend must reject such graphs before converting them.
TEST_F(CliErrors, UnproducedGraphOutputInOldOpset) {
    write_relu_model(dir_ / "model.onnx", 10, "not_y");
    expect_clean_error(kiln("info " + quote(dir_ / "model.onnx")), "not_y");
}

TEST_F(CliErrors, WrongInputName) {
    write_npy(read_onnx_tensor(kIdData + "/input_0.pb"), (dir_ / "x.npy").string());
    expect_clean_error(kiln("run " + quote(kIdModel) + " --input bogus=" + quote(dir_ / "x.npy")),
                       "bogus");
}

TEST_F(CliErrors, WrongInputShape) {
    write_npy(Tensor(ElementType::f32, {2, 2}), (dir_ / "x.npy").string());
    expect_clean_error(kiln("run " + quote(kIdModel) + " --input x=" + quote(dir_ / "x.npy")),
                       "shape");
}

TEST_F(CliErrors, WrongInputElementType) {
    write_npy(Tensor(ElementType::i32, {1, 1, 2, 2}), (dir_ / "x.npy").string());
    expect_clean_error(kiln("run " + quote(kIdModel) + " --input x=" + quote(dir_ / "x.npy")),
                       "element type");
    write_onnx_tensor(Tensor(ElementType::f64, {1, 1, 2, 2}), (dir_ / "x.pb").string());
    expect_clean_error(kiln("run " + quote(kIdModel) + " --input x=" + quote(dir_ / "x.pb")),
                       "element type");
}

TEST_F(CliErrors, MissingInputFiles) {
    expect_clean_error(kiln("run " + quote(kIdModel) + " --input x=" + quote(dir_ / "no.npy")),
                       "does not exist");
    fs::create_directories(dir_ / "empty");
    expect_clean_error(kiln("run " + quote(kIdModel) + " --input-dir " + quote(dir_ / "empty")),
                       "input_0.pb");
    expect_clean_error(kiln("run " + quote(kIdModel) + " --input-dir " + quote(dir_ / "nodir")),
                       "does not exist");
    expect_clean_error(kiln("run " + quote(kIdModel)), "no data for input");
}

TEST_F(CliErrors, CorruptInputFiles) {
    write_text(dir_ / "garbage.npy", "definitely not numpy");
    expect_clean_error(kiln("run " + quote(kIdModel) + " --input x=" + quote(dir_ / "garbage.npy")),
                       "garbage.npy");
    const std::string good = serialize_npy(Tensor(ElementType::f32, {1, 1, 2, 2}));
    write_text(dir_ / "short.npy", good.substr(0, good.size() - 5));
    expect_clean_error(kiln("run " + quote(kIdModel) + " --input x=" + quote(dir_ / "short.npy")),
                       "truncated");
    const size_t at = good.find("False");
    const std::string fortran = good.substr(0, at) + "True " + good.substr(at + 5);
    write_text(dir_ / "fortran.npy", fortran);
    expect_clean_error(kiln("run " + quote(kIdModel) + " --input x=" + quote(dir_ / "fortran.npy")),
                       "Fortran");
    const std::string pb = read_text(kIdData + "/input_0.pb");
    write_text(dir_ / "short.pb", pb.substr(0, pb.size() / 2));
    expect_clean_error(kiln("run " + quote(kIdModel) + " --input x=" + quote(dir_ / "short.pb")));
}

TEST_F(CliErrors, BadDeviceAndOutputs) {
    expect_clean_error(
        kiln("run " + quote(kIdModel) + " --input-dir " + quote(kIdData) + " -d NPU9000"),
        "NPU9000");
    expect_clean_error(kiln("convert " + quote(kIdModel) + " -o " + quote(dir_ / "model.txt")),
                       ".xml");
    // An output directory that cannot be created (a file is in the way).
    write_text(dir_ / "blocker", "");
    expect_clean_error(kiln("run " + quote(kIdModel) + " --input-dir " + quote(kIdData) + " -o " +
                            quote(dir_ / "blocker" / "out")));
}

}  // namespace
}  // namespace kiln::e2e
