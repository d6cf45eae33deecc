// Reads IR files written by OpenVINO itself (the shared ir-samples collection, not part of the
// repository): every file must load or fail with kiln::Error, and the ones Kiln has ops for must
// load, survive a save/read round trip and, where sensible, run.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <map>
#include <pugixml.hpp>
#include <set>

#include "kiln/ir.hpp"
#include "kiln/runtime.hpp"
#include "ops/op_list.hpp"

using namespace kiln;
namespace fs = std::filesystem;

namespace {

fs::path samples_dir() {
    if (const char* env = std::getenv("KILN_IR_SAMPLES")) return env;
    const fs::path src = KILN_SOURCE_DIR;
    for (const fs::path& p : {src / "shared" / "ir-samples", src / ".." / "shared" / "ir-samples",
                              src / ".." / ".." / "shared" / "ir-samples"}) {
        if (fs::is_directory(p)) return p;
    }
    return {};
}

#define REQUIRE_SAMPLES(dir)            \
    const fs::path dir = samples_dir(); \
    if (dir.empty())                    \
    GTEST_SKIP() << "IR sample folder not found (set KILN_IR_SAMPLES to the ir-samples folder)"

void collect_types(pugi::xml_node graph, std::set<std::string>& types) {
    for (auto l : graph.child("layers").children("layer")) {
        types.insert(l.attribute("type").value());
        for (auto c : l.children())
            if (std::string(c.name()).find("body") != std::string::npos) collect_types(c, types);
    }
}

// Op types of the file that Kiln does not have (IR spellings ReLU/SoftMax/PReLU included).
std::set<std::string> missing_ops(const fs::path& xml) {
    pugi::xml_document doc;
    EXPECT_TRUE(doc.load_file(xml.c_str())) << xml;
    std::set<std::string> types, missing;
    collect_types(doc.child("net"), types);
    const std::map<std::string, std::string> alt = {
        {"ReLU", "Relu"}, {"SoftMax", "Softmax"}, {"PReLU", "PRelu"}};
    for (const auto& t : types) {
        if (op_registry().find(t)) continue;
        auto it = alt.find(t);
        if (it != alt.end() && op_registry().find(it->second)) continue;
        missing.insert(t);
    }
    return missing;
}

size_t count_nodes(const Model& m) {
    size_t n = 0;
    for (const auto& op : m.ordered_ops()) {
        ++n;
        for (const auto& b : op->bodies()) n += count_nodes(*b);
    }
    return n;
}

std::vector<fs::path> sample_files(const fs::path& dir) {
    std::vector<fs::path> files;
    for (const auto& e : fs::recursive_directory_iterator(dir))
        if (e.path().extension() == ".xml") files.push_back(e.path());
    std::sort(files.begin(), files.end());
    return files;
}

// Files that load in some OpenVINO versions but break an op's type rules in Kiln.
const std::map<std::string, std::string>& known_rejections() {
    static const std::map<std::string, std::string> m = {
        {"v10-d3ba063/intel/landmarks-regression-retail-0009/FP16",
         "f16 activations with an f32 PReLU slope, which OpenVINO 2020 accepted"},
    };
    return m;
}

fs::path temp_dir(const std::string& tag) {
    auto d = fs::temp_directory_path() / str_cat("kiln-irs-", getpid(), "-", tag);
    fs::create_directories(d);
    return d;
}

}  // namespace

TEST(IrSamples, EveryFileLoadsOrFailsCleanly) {
    REQUIRE_SAMPLES(dir);
    const fs::path tmp = temp_dir("all");
    int loaded = 0, round_tripped = 0;
    for (const auto& xml : sample_files(dir)) {
        SCOPED_TRACE(xml.string());
        fs::path bin = xml;
        bin.replace_extension(".bin");
        const auto missing = missing_ops(xml);
        std::shared_ptr<Model> m;
        try {
            m = read_ir(xml.string());
        } catch (const Error& e) {
            const std::string msg = e.what();
            EXPECT_NE(msg.find(xml.string()), std::string::npos) << msg;
            // A failure is expected only for ops Kiln lacks, weights that are not there, or a
            // file an op's type checks reject on purpose.
            bool known = false;
            for (const auto& [file, why] : known_rejections())
                known = known || xml.string().find(file) != std::string::npos;
            EXPECT_TRUE(!missing.empty() || !fs::exists(bin) || known) << msg;
            std::cout << "[ INFO ] not loaded: " << msg << "\n";
            continue;
        }
        ++loaded;
        EXPECT_TRUE(missing.empty());
        // Every layer became a node (Kiln adds none and drops none).
        pugi::xml_document doc;
        doc.load_file(xml.c_str());
        size_t layers = 0;
        for (auto l : doc.select_nodes("//layer")) (void)l, ++layers;
        EXPECT_EQ(count_nodes(*m), layers);

        const fs::path out = tmp / "copy.xml";
        save_model(*m, out.string());
        auto again = read_ir(out.string());
        EXPECT_EQ(count_nodes(*again), count_nodes(*m));
        auto a = m->ordered_ops(), b = again->ordered_ops();
        ASSERT_EQ(a.size(), b.size());
        for (size_t i = 0; i < a.size(); ++i) {
            EXPECT_EQ(a[i]->type(), b[i]->type());
            EXPECT_EQ(a[i]->name(), b[i]->name());
            EXPECT_TRUE(a[i]->attrs() == b[i]->attrs()) << a[i]->context();
            if (a[i]->type() == "Const") {
                EXPECT_TRUE(a[i]->value().identical(b[i]->value()));
            }
            for (size_t k = 0; k < a[i]->output_count() && a[i]->type() != "Result"; ++k)
                EXPECT_EQ(a[i]->output_info(k).names, b[i]->output_info(k).names);
        }
        EXPECT_EQ(m->rt_info(), again->rt_info());
        ++round_tripped;
    }
    fs::remove_all(tmp);
    EXPECT_GT(loaded, 0);
    std::cout << "[ INFO ] " << loaded << " sample IR files loaded, " << round_tripped
              << " round-tripped\n";
}

TEST(IrSamples, XmlOnlyFilesParse) {
    REQUIRE_SAMPLES(dir);
    // Files whose .bin could not be obtained: the XML must be well formed and a read must name the
    // missing weights (or succeed when no constant needs data).
    for (const auto& xml : sample_files(dir)) {
        fs::path bin = xml;
        bin.replace_extension(".bin");
        if (fs::exists(bin)) continue;
        SCOPED_TRACE(xml.string());
        pugi::xml_document doc;
        ASSERT_TRUE(doc.load_file(xml.c_str()));
        EXPECT_TRUE(doc.child("net").child("layers"));
        try {
            read_ir(xml.string());
        } catch (const Error& e) {
            const std::string msg = e.what();
            // Either the weights are missing or a layer is rejected (by name, with the reason).
            EXPECT_NE(msg.find(xml.string()), std::string::npos) << msg;
            EXPECT_TRUE(msg.find(".bin") != std::string::npos ||
                        msg.find("layer id=") != std::string::npos)
                << msg;
        }
    }
}

TEST(IrSamples, RuntimeMetadataIsKept) {
    REQUIRE_SAMPLES(dir);
    const fs::path xml = dir / "openvinotoolkit-model_server/src/test/dummy_fp64/1/saved_model.xml";
    if (!fs::exists(xml) || !missing_ops(xml).empty())
        GTEST_SKIP() << "needs " << xml << " and Add";
    auto m = read_ir(xml.string());
    EXPECT_EQ(m->name(), "saved_model");
    EXPECT_EQ(to_string(m->input("input:0").partial_shape()), "[?,10]");
    EXPECT_EQ(m->output("output:0").node->rt_info().at("fused_names"), "output");
    const Tensor& c = m->output("output:0").node->input(1).node->value();
    EXPECT_EQ(c.element_type(), ElementType::f64);
    // The 8-byte constant at offset 0 of a page-aligned mapping is viewed, not copied.
    EXPECT_NE(c.storage().get(), c.raw_data());
}

TEST(IrSamples, StringParameterPassesThrough) {
    REQUIRE_SAMPLES(dir);
    const fs::path xml =
        dir / "openvinotoolkit-model_server/src/test/passthrough_string/1/passthrough.xml";
    if (!fs::exists(xml)) GTEST_SKIP() << "needs " << xml;
    Core core;
    auto req = core.compile_model(core.read_model(xml.string())).create_infer_request();
    req.set_tensor("my_name", Tensor::from_vector<std::string>({"abc", "", "d,e"}));
    req.infer();
    EXPECT_EQ(req.get_output_tensor(0).data<std::string>()[2], "d,e");
}

TEST(IrSamples, OvmsDummyAddsOne) {
    REQUIRE_SAMPLES(dir);
    const fs::path xml = dir / "openvinotoolkit-model_server/src/test/dummy/1/dummy.xml";
    if (!fs::exists(xml) || !missing_ops(xml).empty())
        GTEST_SKIP() << "needs " << xml << " and Add";
    Core core;
    auto req = core.compile_model(core.read_model(xml.string())).create_infer_request();
    std::vector<float> in(10);
    for (int i = 0; i < 10; ++i) in[i] = static_cast<float>(i) * 0.5f;
    req.set_input_tensor(Tensor::from_vector(in, {1, 10}));
    req.infer();
    Tensor out = req.get_output_tensor(0);
    ASSERT_EQ(out.shape(), (Shape{1, 10}));
    for (int i = 0; i < 10; ++i) EXPECT_FLOAT_EQ(out.data<float>()[i], in[i] + 1.f);
}

TEST(IrSamples, SummatorKeepsState) {
    REQUIRE_SAMPLES(dir);
    const fs::path xml = dir / "openvinotoolkit-model_server/src/test/summator/1/summator.xml";
    if (!fs::exists(xml) || !missing_ops(xml).empty())
        GTEST_SKIP() << "needs " << xml << " and Add";
    Core core;
    auto model = core.read_model(xml.string());
    EXPECT_EQ(model->sinks().size(), 1u);
    auto req = core.compile_model(model).create_infer_request();
    // The state starts at the initializer's value and accumulates every input.
    const float init =
        model->sinks()[0]->input(0).node->input(0).node->input(0).node->value().data<float>()[0];
    float expected = init;
    for (float v : {1.f, 2.5f, -0.5f}) {
        req.set_input_tensor(Tensor::from_vector<float>({v}, {1, 1}));
        req.infer();
        expected += v;
        EXPECT_FLOAT_EQ(req.get_output_tensor(0).data<float>()[0], expected);
    }
    req.reset_state();
    req.set_input_tensor(Tensor::from_vector<float>({1.f}, {1, 1}));
    req.infer();
    EXPECT_FLOAT_EQ(req.get_output_tensor(0).data<float>()[0], init + 1.f);
}

TEST(IrSamples, OpenModelZooNetworksRun) {
    REQUIRE_SAMPLES(dir);
    // FP32 and FP16 (f16 weights + Convert) generations of one network must agree.
    const fs::path base = dir /
                          "Dewalade1-computer-pointer-controller/v11-7613548/intel/"
                          "landmarks-regression-retail-0009";
    const fs::path f32 = base / "FP32/landmarks-regression-retail-0009.xml";
    const fs::path f16 = base / "FP16/landmarks-regression-retail-0009.xml";
    if (!fs::exists(f32) || !fs::exists(f16) || !missing_ops(f32).empty() ||
        !missing_ops(f16).empty())
        GTEST_SKIP() << "needs the landmarks-regression samples and their ops";
    Core core;
    std::vector<float> in(1 * 3 * 48 * 48);
    for (size_t i = 0; i < in.size(); ++i) in[i] = static_cast<float>(i % 255);
    std::vector<Tensor> outs;
    for (const auto& xml : {f32, f16}) {
        auto req = core.compile_model(core.read_model(xml.string())).create_infer_request();
        req.set_input_tensor(Tensor::from_vector(in, {1, 3, 48, 48}));
        req.infer();
        outs.push_back(req.get_output_tensor(0).clone());
    }
    ASSERT_EQ(outs[0].shape(), outs[1].shape());
    for (int64_t i = 0; i < outs[0].size(); ++i)
        EXPECT_NEAR(outs[0].data<float>()[i], outs[1].data<float>()[i], 2e-2);
}
