// Kiln IR: save/read round trips and error reporting on broken files.
#include "kiln/ir.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cctype>
#include <filesystem>
#include <fstream>
#include <unordered_map>

#include "kiln/runtime.hpp"
#include "ops/op_list.hpp"

using namespace kiln;
namespace fs = std::filesystem;

namespace {

class IrTest : public ::testing::Test {
  protected:
    void SetUp() override {
        const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
        dir_ = fs::temp_directory_path() / str_cat("kiln-ir-", getpid(), "-", info->name());
        fs::remove_all(dir_);
        fs::create_directories(dir_);
    }
    void TearDown() override { fs::remove_all(dir_); }
    std::string path(const std::string& f) const { return (dir_ / f).string(); }
    void write(const std::string& f, const std::string& text) const {
        std::ofstream(path(f), std::ios::binary) << text;
    }
    std::string read(const std::string& f) const {
        std::ifstream in(path(f), std::ios::binary);
        return {std::istreambuf_iterator<char>(in), {}};
    }
    // Expects read_ir to throw kiln::Error whose message holds every fragment.
    void expect_error(const std::string& xml, std::vector<std::string> fragments) const {
        try {
            read_ir(path(xml));
            FAIL() << "read_ir(" << xml << ") did not throw";
        } catch (const Error& e) {
            const std::string msg = e.what();
            EXPECT_NE(msg.find(path(xml)), std::string::npos) << msg;
            for (const auto& f : fragments) EXPECT_NE(msg.find(f), std::string::npos) << msg;
        }
    }
    fs::path dir_;
};

void expect_same_graph(const Model& a, const Model& b) {
    auto oa = a.ordered_ops(), ob = b.ordered_ops();
    ASSERT_EQ(oa.size(), ob.size());
    std::unordered_map<const Node*, size_t> ia, ib;
    for (size_t i = 0; i < oa.size(); ++i) {
        ia[oa[i].get()] = i;
        ib[ob[i].get()] = i;
    }
    for (size_t i = 0; i < oa.size(); ++i) {
        const Node& x = *oa[i];
        const Node& y = *ob[i];
        SCOPED_TRACE(x.context());
        EXPECT_EQ(x.type(), y.type());
        EXPECT_EQ(x.name(), y.name());
        EXPECT_TRUE(x.attrs() == y.attrs());
        EXPECT_EQ(x.rt_info(), y.rt_info());
        ASSERT_EQ(x.input_count(), y.input_count());
        for (size_t k = 0; k < x.input_count(); ++k) {
            EXPECT_EQ(ia.at(x.input(k).node.get()), ib.at(y.input(k).node.get()));
            EXPECT_EQ(x.input(k).index, y.input(k).index);
        }
        ASSERT_EQ(x.output_count(), y.output_count());
        for (size_t k = 0; k < x.output_count(); ++k) {
            EXPECT_EQ(x.output_type(k), y.output_type(k));
            EXPECT_EQ(x.output_shape(k), y.output_shape(k));
            if (x.type() != "Result") {
                EXPECT_EQ(x.output_info(k).names, y.output_info(k).names);
            }
        }
        if (x.type() == "Const") {
            EXPECT_TRUE(x.value().identical(y.value()));
        }
        ASSERT_EQ(x.bodies().size(), y.bodies().size());
        for (size_t k = 0; k < x.bodies().size(); ++k)
            expect_same_graph(*x.bodies()[k], *y.bodies()[k]);
    }
    EXPECT_EQ(a.rt_info(), b.rt_info());
    EXPECT_EQ(a.name(), b.name());
    EXPECT_EQ(a.sinks().size(), b.sinks().size());
}

std::shared_ptr<Node> named(std::shared_ptr<Node> n, std::set<std::string> names) {
    n->output_info(0).names = std::move(names);
    return n;
}

// Parameters, constants of many element types, and a ReadValue/Assign pair.
std::shared_ptr<Model> sample_model() {
    auto x = named(make_parameter(ElementType::f32, PartialShape({Dimension(), 3}), "x"),
                   {"x", "in,put"});
    auto s = named(make_parameter(ElementType::f32, PartialShape({1, 3}), "s"), {"s"});
    std::vector<std::shared_ptr<Node>> results;
    auto add_result = [&](Output o, const std::string& name) {
        results.push_back(make_node("Result", {o}, {}, {}, name));
    };
    add_result(x->output(0), "out_x");
    add_result(make_constant(Tensor::from_vector<float>({1.5f, -2.f, 3.25f}), "c_f32")->output(0),
               "r_f32");
    add_result(
        named(make_constant(Tensor::from_vector<int64_t>({7, -8}), "c_i64"), {"ints"})->output(0),
        "r_i64");
    add_result(make_constant(Tensor::from_vector<uint8_t>({1, 2, 3}), "c_u8")->output(0), "r_u8");
    add_result(make_constant(Tensor::from_vector<bool>({true, false, true}), "c_bool")->output(0),
               "r_bool");
    add_result(make_constant(Tensor::from_vector<double>({0.1}, {1, 1}), "c_f64")->output(0),
               "r_f64");
    add_result(make_constant(Tensor::from_vector<float16>({float16(0.5f), float16(2.f)}), "c_f16")
                   ->output(0),
               "r_f16");
    add_result(
        make_constant(Tensor::from_vector<std::string>({"a", "", "h\xc3\xa9llo", "x,y"}, {2, 2}),
                      "c_str")
            ->output(0),
        "r_str");
    add_result(make_constant(Tensor::from_vector<int32_t>({5}, Shape{}), "c_scalar")->output(0),
               "r_scalar");
    add_result(make_constant(Tensor(ElementType::f32, {0, 4}), "c_empty")->output(0), "r_empty");
    // A duplicate of c_f32: stored once in the .bin.
    add_result(
        make_constant(Tensor::from_vector<float>({1.5f, -2.f, 3.25f}), "c_f32_dup")->output(0),
        "r_dup");

    auto init = make_constant(Tensor::from_vector<float>({0.f, 0.f, 0.f}, {1, 3}), "init");
    auto rv = make_node("ReadValue", {init->output(0)},
                        {{"variable_id", std::string("state")},
                         {"variable_type", std::string("f32")},
                         {"variable_shape", std::string("1,3")}},
                        {}, "read");
    rv->output_info(0).names = {"state_value"};
    rv->rt_info()["fused_names"] = "read";
    rv->rt_info()["note"] = "multi\nline\tvalue &<>\"' \r end";
    auto assign =
        make_node("Assign", {s->output(0)}, {{"variable_id", std::string("state")}}, {}, "save");
    add_result(rv->output(0), "out_state");
    auto m = std::make_shared<Model>(results, std::vector<std::shared_ptr<Node>>{x, s},
                                     std::vector<std::shared_ptr<Node>>{assign}, "sample");
    m->rt_info()["framework"] = "kiln";
    m->rt_info()["conversion_parameters/input_model"] = "a.onnx";
    m->rt_info()["odd key"] = "v";
    return m;
}

std::vector<Tensor> run(const std::shared_ptr<Model>& m, InferRequest& req,
                        const std::vector<Tensor>& inputs) {
    for (size_t i = 0; i < inputs.size(); ++i) req.set_input_tensor(i, inputs[i]);
    req.infer();
    std::vector<Tensor> out;
    for (size_t i = 0; i < m->results().size(); ++i)
        out.push_back(req.get_output_tensor(i).clone());
    return out;
}

}  // namespace

TEST_F(IrTest, RoundTripIsExact) {
    auto m = sample_model();
    save_model(*m, path("m.xml"));
    auto back = read_ir(path("m.xml"));
    expect_same_graph(*m, *back);
    // Identical constants are stored once, each at a 64-byte aligned offset.
    const std::string xml = read("m.xml");
    EXPECT_NE(xml.find("version=\"11\""), std::string::npos);
    EXPECT_NE(xml.find("names=\"in\\,put,x\""), std::string::npos);
    EXPECT_NE(xml.find("<dim>-1</dim>"), std::string::npos);
    EXPECT_NE(xml.find("precision=\"FP32\""), std::string::npos);
    EXPECT_EQ(back->input("in,put").node->name(), "x");

    // Saving the re-read model again gives the same files.
    save_model(*back, path("again.xml"));
    EXPECT_EQ(read("again.bin"), read("m.bin"));
    std::string again = read("again.xml");
    EXPECT_EQ(again, xml);
}

TEST_F(IrTest, ConstantsViewTheMappedWeights) {
    auto m = sample_model();
    save_model(*m, path("m.xml"));
    auto back = read_ir(path("m.xml"));
    int views = 0;
    for (const auto& n : back->ordered_ops()) {
        if (n->type() != "Const" || n->value().byte_size() == 0) continue;
        const Tensor& t = n->value();
        if (t.element_type() == ElementType::string) continue;
        EXPECT_EQ(reinterpret_cast<uintptr_t>(t.raw_data()) % 64, 0u) << n->name();
        views += t.storage().get() != t.raw_data();
    }
    EXPECT_GT(views, 5);
    // The mapping outlives the model's other owners through the constants.
    Tensor kept = back->results()[1]->input(0).node->value();
    back.reset();
    EXPECT_FLOAT_EQ(kept.data<float>()[2], 3.25f);
}

TEST_F(IrTest, RoundTripRunsIdentically) {
    auto m = sample_model();
    save_model(*m, path("m.xml"));
    Core core;
    auto back = core.read_model(path("m.xml"));
    auto r1 = core.compile_model(m).create_infer_request();
    auto r2 = core.compile_model(back).create_infer_request();
    std::vector<Tensor> in = {Tensor::from_vector<float>({1, 2, 3, 4, 5, 6}, {2, 3}),
                              Tensor::from_vector<float>({9, 8, 7}, {1, 3})};
    for (int step = 0; step < 2; ++step) {
        auto a = run(m, r1, in), b = run(back, r2, in);
        ASSERT_EQ(a.size(), b.size());
        for (size_t i = 0; i < a.size(); ++i) EXPECT_TRUE(a[i].identical(b[i])) << "output " << i;
    }
}

TEST_F(IrTest, BodiesRoundTripInOrder) {
    // Any node may carry bodies; control-flow ops keep their port maps as attributes, so a plain
    // node with bodies exercises the nesting.
    auto body = [](float v, const std::string& name) {
        auto p = make_parameter(ElementType::f32, PartialShape({2}), name + "_in");
        auto c = make_constant(Tensor::from_vector<float>({v, v}), name + "_c");
        auto b = std::make_shared<Model>(
            std::vector<std::shared_ptr<Node>>{make_node("Result", {p->output(0)}, {}, {}, "r0"),
                                               make_node("Result", {c->output(0)}, {}, {}, "r1")},
            std::vector<std::shared_ptr<Node>>{p}, std::vector<std::shared_ptr<Node>>{}, name);
        b->rt_info()["which"] = name;
        return b;
    };
    auto x = make_parameter(ElementType::f32, PartialShape({2}), "x");
    auto outer = make_constant(Tensor::from_vector<float>({1.f, 1.f}), "outer");
    auto host = make_node("Result", {x->output(0)}, {{"then_port", int64_t{3}}},
                          {body(1.f, "then"), body(2.f, "else")}, "host");
    auto m = std::make_shared<Model>(
        std::vector<std::shared_ptr<Node>>{host,
                                           make_node("Result", {outer->output(0)}, {}, {}, "o")},
        std::vector<std::shared_ptr<Node>>{x}, std::vector<std::shared_ptr<Node>>{}, "m");
    save_model(*m, path("b.xml"));
    auto back = read_ir(path("b.xml"));
    expect_same_graph(*m, *back);
    ASSERT_EQ(back->results()[0]->bodies().size(), 2u);
    EXPECT_EQ(back->results()[0]->bodies()[1]->rt_info().at("which"), "else");
    // The body constant equal to the outer one shares its bytes in the .bin.
    EXPECT_EQ(fs::file_size(path("b.bin")), 64u + 8u);

    // An error inside a body names the path to it.
    std::string xml = read("b.xml");
    const size_t at = xml.find("name=\"else_c\" type=\"Const\"");
    ASSERT_NE(at, std::string::npos);
    xml.replace(xml.find("size=\"8\"", at), 8, "size=\"9\"");
    write("b.xml", xml);
    expect_error("b.xml", {"body 1 of layer", "name='host'", "name='else_c'", "size=9"});
}

TEST_F(IrTest, CompressToFp16AddsDecompression) {
    if (!op_registry().find("Convert")) GTEST_SKIP() << "the Convert op is not available";
    auto p = make_parameter(ElementType::f32, PartialShape({2}), "p");
    auto c = named(make_constant(Tensor::from_vector<float>({0.5f, 1e6f}), "w"), {"w"});
    auto m = std::make_shared<Model>(
        std::vector<std::shared_ptr<Node>>{make_node("Result", {p->output(0)}, {}, {}, "rp"),
                                           make_node("Result", {c->output(0)}, {}, {}, "rw")},
        std::vector<std::shared_ptr<Node>>{p}, std::vector<std::shared_ptr<Node>>{}, "m");
    save_model(*m, path("m.xml"), SaveOptions{true});
    EXPECT_EQ(fs::file_size(path("m.bin")), 4u);
    auto back = read_ir(path("m.xml"));
    auto w = back->output("w");
    EXPECT_EQ(w.node->type(), "Convert");
    EXPECT_EQ(w.node->name(), "w");
    EXPECT_EQ(w.element_type(), ElementType::f32);
    EXPECT_EQ(w.node->input(0).node->value().element_type(), ElementType::f16);
    EXPECT_TRUE(w.node->rt_info().count("decompression"));
    // Out-of-range values clamp to the largest f16.
    EXPECT_FLOAT_EQ(static_cast<float>(w.node->input(0).node->value().data<float16>()[1]), 65504.f);
}

TEST_F(IrTest, TruncatedXml) {
    save_model(*sample_model(), path("m.xml"));
    std::string xml = read("m.xml");
    write("m.xml", xml.substr(0, xml.size() / 2));
    expect_error("m.xml", {"malformed XML"});
}

TEST_F(IrTest, CorruptXml) {
    write("c.xml", "<net version=\"11\"><layers><layer id=\"0\" <</layers></net>");
    expect_error("c.xml", {"malformed XML"});
    write("v.xml", "<net version=\"7\"><layers/></net>");
    expect_error("v.xml", {"unsupported IR version '7'"});
    write("r.xml", "<model/>");
    expect_error("r.xml", {"<net>"});
    expect_error("absent.xml", {"cannot read"});
}

TEST_F(IrTest, BinTooShort) {
    save_model(*sample_model(), path("m.xml"));
    std::string bin = read("m.bin");
    write("m.bin", bin.substr(0, bin.size() - 1));
    expect_error("m.xml", {"too short", "type='Const'", "m.bin"});
}

TEST_F(IrTest, MissingBin) {
    save_model(*sample_model(), path("m.xml"));
    fs::remove(path("m.bin"));
    expect_error("m.xml", {"cannot open weights file", "m.bin", "type='Const'"});
}

namespace {
const char* kConstLayer = R"(
  <layer id="0" name="c" type="Const" version="opset1">
   <data element_type="f32" shape="2" offset="OFFSET" size="SIZE"/>
   <output><port id="0" precision="FP32"><dim>2</dim></port></output>
  </layer>)";

std::string net(const std::string& layers, const std::string& edges) {
    return "<?xml version=\"1.0\"?>\n<net name=\"t\" version=\"11\"><layers>" + layers +
           "</layers><edges>" + edges + "</edges></net>";
}
std::string const_layer(const std::string& offset, const std::string& size) {
    std::string s = kConstLayer;
    s.replace(s.find("OFFSET"), 6, offset);
    s.replace(s.find("SIZE"), 4, size);
    return s;
}
const char* kResult = R"(<layer id="1" name="r" type="Result" version="opset1">
   <input><port id="0"><dim>2</dim></port></input></layer>)";
const char* kEdge = R"(<edge from-layer="0" from-port="0" to-layer="1" to-port="0"/>)";
}  // namespace

TEST_F(IrTest, UnknownLayerType) {
    std::string layers = const_layer("0", "8") + kResult;
    layers.replace(layers.find("\"Result\""), 8, "\"FancyOp\"");
    write("u.xml", net(layers, kEdge));
    write("u.bin", std::string(8, '\0'));
    expect_error("u.xml", {"id=1", "name='r'", "type='FancyOp'", "unknown operation type"});
}

TEST_F(IrTest, EdgeToMissingLayer) {
    write("e.xml", net(const_layer("0", "8") + kResult,
                       R"(<edge from-layer="0" from-port="0" to-layer="5" to-port="0"/>)"));
    write("e.bin", std::string(8, '\0'));
    expect_error("e.xml", {"no layer with id 5"});
    write("p.xml", net(const_layer("0", "8") + kResult,
                       R"(<edge from-layer="0" from-port="3" to-layer="1" to-port="0"/>)"));
    write("p.bin", std::string(8, '\0'));
    expect_error("p.xml", {"name='c'", "has no output port 3"});
    write("n.xml", net(const_layer("0", "8") + kResult, ""));
    write("n.bin", std::string(8, '\0'));
    expect_error("n.xml", {"name='r'", "no incoming edge"});
}

TEST_F(IrTest, CycleIsReported) {
    const char* layers = R"(
      <layer id="0" name="a" type="Result" version="opset1"><input><port id="0"/></input>
        <output><port id="1"/></output></layer>
      <layer id="1" name="b" type="Result" version="opset1"><input><port id="0"/></input>
        <output><port id="1"/></output></layer>)";
    write("c.xml", net(layers, R"(<edge from-layer="0" from-port="1" to-layer="1" to-port="0"/>
                                 <edge from-layer="1" from-port="1" to-layer="0" to-port="0"/>)"));
    expect_error("c.xml", {"cycle", "name='a'"});
}

TEST_F(IrTest, ConstantSizeAndAlignment) {
    write("s.xml", net(const_layer("0", "7") + kResult, kEdge));
    write("s.bin", std::string(8, '\0'));
    expect_error("s.xml", {"size=7", "f32[2]", "name='c'"});

    // A misaligned f32 constant is copied, not viewed.
    float v[2] = {1.25f, -4.f};
    std::string bin(1, 'x');
    bin.append(reinterpret_cast<const char*>(v), sizeof v);
    write("a.xml", net(const_layer("1", "8") + kResult, kEdge));
    write("a.bin", bin);
    auto m = read_ir(path("a.xml"));
    const Tensor& t = m->results()[0]->input(0).node->value();
    EXPECT_EQ(t.to_double_vector(), (std::vector<double>{1.25, -4.0}));
    EXPECT_EQ(t.storage().get(), t.raw_data());
}

TEST_F(IrTest, BooleanBytesAreNormalized) {
    std::string layers = const_layer("0", "2") + kResult;
    layers.replace(layers.find("\"f32\""), 5, "\"boolean\"");
    write("b.xml", net(layers, kEdge));
    write("b.bin", std::string("\x00\x07", 2));
    auto m = read_ir(path("b.xml"));
    const Tensor& t = m->results()[0]->input(0).node->value();
    EXPECT_EQ(t.to_int_vector(), (std::vector<int64_t>{0, 1}));
}

TEST_F(IrTest, MalformedStringConstant) {
    std::string layers = const_layer("0", "12") + kResult;
    layers.replace(layers.find("\"f32\""), 5, "\"string\"");
    write("s.xml", net(layers, kEdge));
    int32_t words[3] = {2, 0, 99};
    write("s.bin", std::string(reinterpret_cast<const char*>(words), sizeof words));
    expect_error("s.xml", {"malformed packed string constant"});
}

TEST_F(IrTest, MutatedFilesFailCleanly) {
    // Every number in the .xml turned huge, negative or out of range: read_ir must either succeed
    // or throw kiln::Error, never crash or read out of bounds.
    save_model(*sample_model(), path("m.xml"));
    const std::string xml = read("m.xml");
    int errors = 0, tried = 0;
    for (size_t i = 0; i < xml.size(); ++i) {
        if (!std::isdigit(static_cast<unsigned char>(xml[i])) ||
            std::isdigit(static_cast<unsigned char>(xml[i - 1])))
            continue;
        for (const char* repl : {"99999999999", "-3", "7"}) {
            std::string bad = xml;
            bad.replace(i, 1, repl);
            write("m.xml", bad);
            ++tried;
            try {
                read_ir(path("m.xml"));
            } catch (const Error&) {
                ++errors;
            }
        }
    }
    EXPECT_GT(tried, 100);
    EXPECT_GT(errors, 0);
}
