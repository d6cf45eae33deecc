// kiln compress: the written IR, the summary, the files copied beside it, and clean errors.
#include <cmath>

#include "cli_support.hpp"
#include "kiln/ir.hpp"
#include "kiln/model.hpp"
#include "kiln/node.hpp"
#include "kiln/npy.hpp"

namespace kiln::e2e {
namespace {

Tensor ramp(Shape shape, float step) {
    Tensor t(ElementType::f32, shape);
    for (int64_t i = 0; i < t.size(); ++i)
        t.data<float>()[i] = step * static_cast<float>(i % 97 - 48);
    return t;
}

// x [1, 64] -> fc1 [64, 64] -> fc2 [64, 64] -> head [10, 64], saved as IR.
void write_mlp(const fs::path& xml) {
    auto x = make_parameter(ElementType::f32, PartialShape({1, 64}), "x");
    x->output_info(0).names = {"x"};
    Output h = x->output(0);
    const std::pair<const char*, Shape> layers[] = {
        {"fc1", {64, 64}}, {"fc2", {64, 64}}, {"head", {10, 64}}};
    for (const auto& [name, shape] : layers)
        h = make_op("MatMul", {h, make_constant(ramp(shape, 0.01f), name)->output(0)},
                    {{"transpose_b", true}});
    save_model(Model({h}, {x}), xml.string());
}

using CliCompress = CliTest;

TEST_F(CliCompress, WritesTheIrTheTableAndTheSideFiles) {
    fs::create_directories(dir_ / "in");
    write_mlp(dir_ / "in" / "model.xml");
    write_text(dir_ / "in" / "tokenizer.json", "{\"model\": {}}");
    write_text(dir_ / "in" / "config.json", "{\"model_type\": \"test\"}");
    const CliResult r = kiln("compress " + quote((dir_ / "in" / "model.xml").string()) + " -o " +
                             quote((dir_ / "out" / "model.xml").string()) +
                             " --mode int4_sym --group-size 16 --ratio 0.5 --backup int8_sym");
    ASSERT_EQ(r.code, 0) << r.err;
    for (const char* text : {"Layer", "fc1", "fc2", "head", "int4_sym", "int8_sym", "output",
                             "ratio 0.5", "bits per weight", "Wrote", "Copied"})
        EXPECT_NE(r.out.find(text), std::string::npos) << text << " missing in:\n" << r.out;
    EXPECT_EQ(read_text(dir_ / "out" / "tokenizer.json"), "{\"model\": {}}");
    EXPECT_TRUE(fs::exists(dir_ / "out" / "config.json"));
    EXPECT_FALSE(fs::exists(dir_ / "out" / "generation_config.json"));
    auto m = read_ir((dir_ / "out" / "model.xml").string());
    size_t i4 = 0, i8 = 0;
    for (const auto& n : m->ordered_ops()) {
        if (n->type() != "Const") continue;
        i4 += n->value().element_type() == ElementType::i4;
        i8 += n->value().element_type() == ElementType::i8;
    }
    EXPECT_EQ(i4, 1u);  // one of fc1 / fc2 (half of the 4-bit candidates' weights)
    EXPECT_EQ(i8, 2u);  // the other, and the head
    const CliResult info = kiln("info " + quote((dir_ / "out" / "model.xml").string()));
    EXPECT_NE(info.out.find("+ 8,832 (compressed weights in 3 constants)"), std::string::npos)
        << info.out;
    // The compressed model runs, close to the original.
    write_npy(ramp({1, 64}, 0.02f), (dir_ / "x.npy").string());
    for (const char* which : {"in", "out"}) {
        const CliResult run = kiln("run " + quote((dir_ / which / "model.xml").string()) + " -i " +
                                   quote((dir_ / "x.npy").string()) + " --format npy -o " +
                                   quote((dir_ / (std::string(which) + "_y")).string()));
        ASSERT_EQ(run.code, 0) << run.err;
    }
    const Tensor a = read_npy((dir_ / "in_y" / "output_0.npy").string());
    const Tensor b = read_npy((dir_ / "out_y" / "output_0.npy").string());
    ASSERT_EQ(a.shape(), b.shape());
    double err = 0, norm = 0;
    for (int64_t i = 0; i < a.size(); ++i) {
        const double d = a.data<float>()[i] - b.data<float>()[i];
        err += d * d;
        norm += static_cast<double>(a.data<float>()[i]) * a.data<float>()[i];
    }
    EXPECT_LT(std::sqrt(err / norm), 0.1);
}

TEST_F(CliCompress, BadArgumentsFailCleanly) {
    write_mlp(dir_ / "m.xml");
    const std::string in = quote((dir_ / "m.xml").string());
    const std::string out = " -o " + quote((dir_ / "o.xml").string());
    expect_clean_error(kiln("compress " + in + out + " --mode int3"), "unknown compression mode");
    expect_clean_error(kiln("compress " + in + out + " --mode int4_asym --group-size 0"),
                       "group size must be positive");
    expect_clean_error(kiln("compress " + in + out + " --mode int4_asym --group-size 100"),
                       "group size 100 divides the input size K of none");
    expect_clean_error(kiln("compress " + in + out + " --mode int4_asym --ratio 1.5"),
                       "ratio must be in [0, 1]");
    expect_clean_error(kiln("compress " + in + out + " --ratio 0.5"),
                       "applies to the 4-bit modes only");
    expect_clean_error(kiln("compress " + in + out + " --backup fp16"), "unknown backup mode");
    expect_clean_error(kiln("compress " + in + " -o " + quote((dir_ / "o.onnx").string())),
                       "must end with .xml");
    expect_clean_error(kiln("compress " + in + " -o " + in), "would overwrite");
    expect_clean_error(kiln("compress " + quote((dir_ / "missing.xml").string()) + out));
    EXPECT_EQ(kiln("compress " + in).code, 2);  // -o is required
    EXPECT_FALSE(fs::exists(dir_ / "o.xml"));
    const CliResult help = kiln("compress --help");
    EXPECT_EQ(help.code, 0);
    EXPECT_NE(help.out.find("--all-layers"), std::string::npos) << help.out;
}

}  // namespace
}  // namespace kiln::e2e
