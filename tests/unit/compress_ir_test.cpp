// Compressed models through IR files: i4/u4/i8/u8 constants keep their packed bytes (two 4-bit
// values per byte, low nibble first, odd counts padded), the "decompression" rt_info survives, and
// an IR written in OpenVINO's form by hand reads and runs.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>

#include "kiln/compress.hpp"
#include "kiln/ir.hpp"
#include "kiln/runtime.hpp"
#include "test_helpers.hpp"

using namespace kiln;
namespace fs = std::filesystem;

namespace {

class CompressIr : public ::testing::Test {
protected:
    void SetUp() override {
        const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
        dir_ =
            fs::temp_directory_path() / str_cat("kiln-compress-ir-", getpid(), "-", info->name());
        fs::remove_all(dir_);
        fs::create_directories(dir_);
    }
    void TearDown() override { fs::remove_all(dir_); }
    std::string path(const std::string& f) const { return (dir_ / f).string(); }
    std::string read(const std::string& f) const {
        std::ifstream in(path(f), std::ios::binary);
        return {std::istreambuf_iterator<char>(in), {}};
    }
    fs::path dir_;
};

// x [2, 5] -> W [3, 5] -> W2 [7, 3]: 15 and 21 weights, odd counts for 4-bit packing.
std::shared_ptr<Model> odd_model() {
    auto x = make_parameter(ElementType::f32, PartialShape({2, 5}), "x");
    x->output_info(0).names = {"x"};
    auto a = make_node(
        "MatMul", {x->output(0), make_constant(test_data::random_f32({3, 5}, 1), "w1")->output(0)},
        {{"transpose_b", true}}, {}, "fc1");
    auto b = make_node(
        "MatMul", {a->output(0), make_constant(test_data::random_f32({7, 3}, 2), "w2")->output(0)},
        {{"transpose_b", true}}, {}, "fc2");
    b->output_info(0).names = {"y"};
    return std::make_shared<Model>(OutputVector{b->output(0)},
                                   std::vector<std::shared_ptr<Node>>{x});
}

std::map<std::string, std::shared_ptr<Node>> by_name(const Model& m) {
    std::map<std::string, std::shared_ptr<Node>> out;
    for (const auto& n : m.ordered_ops()) out[n->name()] = n;
    return out;
}

Tensor run(const std::shared_ptr<Model>& m, const Tensor& x) {
    Core core;
    auto req = core.compile_model(m).create_infer_request();
    req.set_tensor("x", x);
    req.infer();
    return req.get_tensor("y");
}

TEST_F(CompressIr, EveryModeRoundTripsExactly) {
    const Tensor x = test_data::random_f32({2, 5}, 3);
    for (auto mode : {CompressionMode::int8_sym, CompressionMode::int8_asym,
                      CompressionMode::int4_sym, CompressionMode::int4_asym}) {
        SCOPED_TRACE(std::string(to_string(mode)));
        auto m = odd_model();
        WeightCompressionConfig cfg;
        cfg.mode = mode;
        cfg.group_size = mode == CompressionMode::int4_asym ? -1 : 1;
        cfg.all_layers = true;
        compress_weights(*m, cfg);
        const std::string xml = str_cat(to_string(mode), ".xml");
        save_model(*m, path(xml));
        auto back = read_ir(path(xml));

        const auto before = by_name(*m), after = by_name(*back);
        size_t low_bit = 0, marked = 0;
        for (const auto& [name, n] : before) {
            ASSERT_TRUE(after.count(name)) << name;
            const auto& b = after.at(name);
            EXPECT_EQ(b->type(), n->type()) << name;
            EXPECT_EQ(b->rt_info(), n->rt_info()) << name;
            if (n->type() == "Const") {
                EXPECT_TRUE(b->value().identical(n->value())) << name;
                low_bit += bit_width(n->value().element_type()) <= 8;
            }
            marked += b->rt_info().count("decompression");
        }
        const bool asym = mode == CompressionMode::int8_asym || mode == CompressionMode::int4_asym;
        EXPECT_EQ(low_bit, asym ? 4u : 2u);
        EXPECT_EQ(marked, asym ? 4u : 2u);
        EXPECT_EQ(back->rt_info().at("weight_compression/mode"), to_string(mode));
        // The flag is written as OpenVINO writes it, without a value.
        EXPECT_NE(read(xml).find("<attribute name=\"decompression\" version=\"0\" />"),
                  std::string::npos);
        EXPECT_TRUE(run(m, x).identical(run(back, x)));
    }
}

TEST_F(CompressIr, PackedBytesLandInTheBinAsStored) {
    auto m = odd_model();
    WeightCompressionConfig cfg;
    cfg.mode = CompressionMode::int4_asym;
    cfg.group_size = 5;
    cfg.all_layers = true;
    compress_weights(*m, cfg);
    const auto nodes = by_name(*m);
    const Tensor& w1 = nodes.at("w1")->value();
    ASSERT_EQ(w1.element_type(), ElementType::u4);
    ASSERT_EQ(w1.shape(), (Shape{3, 1, 5}));
    ASSERT_EQ(w1.byte_size(), 8u);  // 15 values: the last high nibble is padding
    save_model(*m, path("m.xml"));
    const std::string xml = read("m.xml"), bin = read("m.bin");
    // Find w1's offset in the XML and compare the bytes there.
    const size_t layer = xml.find("name=\"w1\" type=\"Const\"");
    ASSERT_NE(layer, std::string::npos);
    const size_t off_at = xml.find("offset=\"", layer) + 8;
    const size_t offset = std::stoul(xml.substr(off_at));
    EXPECT_NE(xml.find("element_type=\"u4\" shape=\"3,1,5\"", layer), std::string::npos);
    ASSERT_LE(offset + 8, bin.size());
    EXPECT_EQ(bin.compare(offset, 8, static_cast<const char*>(w1.raw_data()), 8), 0);
}

// The subgraph of an int4_asym layer as OpenVINO writes it: u4 weights [2, 1, 3] (6 values), u4
// zero points [2, 1, 1] (an odd count), f32 scales, then MatMul with transpose_b.
TEST_F(CompressIr, ReadsACompressedIrWrittenByHand) {
    // Row 0: q = 1, 2, 15 with zero point 1 and scale 0.5 -> 0, 0.5, 7.
    // Row 1: q = 8, 0, 4 with zero point 8 and scale 2 -> 0, -16, -8.
    const unsigned char bin[] = {0x21, 0x8F, 0x40,     // weights: 1,2 | 15,8 | 0,4
                                 0x81,                 // zero points: 1, 8
                                 0,    0,    0,    0,  // (padding)
                                 0,    0,    0,    0x3f, 0, 0, 0, 0x40,  // scales 0.5f, 2.0f
                                 2,    0,    0,    0,    0, 0, 0, 0,
                                 3,    0,    0,    0,    0, 0, 0, 0};  // i64 {2, 3}
    std::ofstream(path("hand.bin"), std::ios::binary)
        .write(reinterpret_cast<const char*>(bin), sizeof bin);
    std::ofstream(path("hand.xml")) << R"(<?xml version="1.0"?>
<net name="hand" version="11">
  <layers>
    <layer id="0" name="x" type="Parameter" version="opset1">
      <data shape="1,3" element_type="f32"/>
      <output><port id="0" precision="FP32" names="x"><dim>1</dim><dim>3</dim></port></output>
    </layer>
    <layer id="1" name="w" type="Const" version="opset1">
      <data element_type="u4" shape="2,1,3" offset="0" size="3"/>
      <output><port id="0" precision="U4"><dim>2</dim><dim>1</dim><dim>3</dim></port></output>
    </layer>
    <layer id="2" name="w/convert" type="Convert" version="opset1">
      <data destination_type="f32"/>
      <rt_info><attribute name="decompression" version="0" /></rt_info>
      <input><port id="0" precision="U4"><dim>2</dim><dim>1</dim><dim>3</dim></port></input>
      <output><port id="1" precision="FP32"><dim>2</dim><dim>1</dim><dim>3</dim></port></output>
    </layer>
    <layer id="3" name="zp" type="Const" version="opset1">
      <data element_type="u4" shape="2,1,1" offset="3" size="1"/>
      <output><port id="0" precision="U4"><dim>2</dim><dim>1</dim><dim>1</dim></port></output>
    </layer>
    <layer id="4" name="zp/convert" type="Convert" version="opset1">
      <data destination_type="f32"/>
      <rt_info><attribute name="decompression" version="0" /></rt_info>
      <input><port id="0" precision="U4"><dim>2</dim><dim>1</dim><dim>1</dim></port></input>
      <output><port id="1" precision="FP32"><dim>2</dim><dim>1</dim><dim>1</dim></port></output>
    </layer>
    <layer id="5" name="sub" type="Subtract" version="opset1">
      <data auto_broadcast="numpy"/>
      <input><port id="0" precision="FP32"><dim>2</dim><dim>1</dim><dim>3</dim></port>
             <port id="1" precision="FP32"><dim>2</dim><dim>1</dim><dim>1</dim></port></input>
      <output><port id="2" precision="FP32"><dim>2</dim><dim>1</dim><dim>3</dim></port></output>
    </layer>
    <layer id="6" name="scale" type="Const" version="opset1">
      <data element_type="f32" shape="2,1,1" offset="8" size="8"/>
      <output><port id="0" precision="FP32"><dim>2</dim><dim>1</dim><dim>1</dim></port></output>
    </layer>
    <layer id="7" name="mul" type="Multiply" version="opset1">
      <data auto_broadcast="numpy"/>
      <input><port id="0" precision="FP32"><dim>2</dim><dim>1</dim><dim>3</dim></port>
             <port id="1" precision="FP32"><dim>2</dim><dim>1</dim><dim>1</dim></port></input>
      <output><port id="2" precision="FP32"><dim>2</dim><dim>1</dim><dim>3</dim></port></output>
    </layer>
    <layer id="8" name="shape" type="Const" version="opset1">
      <data element_type="i64" shape="2" offset="16" size="16"/>
      <output><port id="0" precision="I64"><dim>2</dim></port></output>
    </layer>
    <layer id="9" name="reshape" type="Reshape" version="opset1">
      <data special_zero="false"/>
      <input><port id="0" precision="FP32"><dim>2</dim><dim>1</dim><dim>3</dim></port>
             <port id="1" precision="I64"><dim>2</dim></port></input>
      <output><port id="2" precision="FP32"><dim>2</dim><dim>3</dim></port></output>
    </layer>
    <layer id="10" name="fc" type="MatMul" version="opset1">
      <data transpose_a="false" transpose_b="true"/>
      <input><port id="0" precision="FP32"><dim>1</dim><dim>3</dim></port>
             <port id="1" precision="FP32"><dim>2</dim><dim>3</dim></port></input>
      <output><port id="2" precision="FP32" names="y"><dim>1</dim><dim>2</dim></port></output>
    </layer>
    <layer id="11" name="y" type="Result" version="opset1">
      <input><port id="0" precision="FP32"><dim>1</dim><dim>2</dim></port></input>
    </layer>
  </layers>
  <edges>
    <edge from-layer="1" from-port="0" to-layer="2" to-port="0"/>
    <edge from-layer="3" from-port="0" to-layer="4" to-port="0"/>
    <edge from-layer="2" from-port="1" to-layer="5" to-port="0"/>
    <edge from-layer="4" from-port="1" to-layer="5" to-port="1"/>
    <edge from-layer="5" from-port="2" to-layer="7" to-port="0"/>
    <edge from-layer="6" from-port="0" to-layer="7" to-port="1"/>
    <edge from-layer="7" from-port="2" to-layer="9" to-port="0"/>
    <edge from-layer="8" from-port="0" to-layer="9" to-port="1"/>
    <edge from-layer="0" from-port="0" to-layer="10" to-port="0"/>
    <edge from-layer="9" from-port="2" to-layer="10" to-port="1"/>
    <edge from-layer="10" from-port="2" to-layer="11" to-port="0"/>
  </edges>
</net>
)";
    Core core;
    auto m = core.read_model(path("hand.xml"));
    EXPECT_EQ(by_name(*m).at("w/convert")->rt_info().count("decompression"), 1u);
    auto req = core.compile_model(m).create_infer_request();
    // Small integers, so that kernels quantizing activations to 8 bits compute exactly too.
    req.set_tensor("x", Tensor::from_vector<float>({1.f, 2.f, 127.f}, {1, 3}));
    req.infer();
    const Tensor y = req.get_tensor("y");
    // Row 0 . x = 0 + 1 + 889; row 1 . x = 0 - 32 - 1016.
    EXPECT_NEAR(y.data<float>()[0], 890.f, 1e-3f);
    EXPECT_NEAR(y.data<float>()[1], -1048.f, 1e-3f);
    // Written again by Kiln, the bytes stay as they were.
    save_model(*m, path("again.xml"));
    auto again = read_ir(path("again.xml"));
    EXPECT_TRUE(by_name(*again).at("w")->value().identical(by_name(*m).at("w")->value()));
    EXPECT_TRUE(by_name(*again).at("zp")->value().identical(by_name(*m).at("zp")->value()));
}

}  // namespace
