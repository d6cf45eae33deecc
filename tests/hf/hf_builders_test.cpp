// What the builders do with checkpoints that do not fit their config: a missing tensor or one of
// another shape is a kiln::Error naming it; GPT-2 names with or without "transformer." build the
// same graph; an unknown model_type lists the supported ones; the stateful graph round-trips
// through IR.
#include <gtest/gtest.h>

#include <functional>

#include "hf_reference.hpp"
#include "kiln/ir.hpp"
#include "kiln/runtime.hpp"

namespace fs = std::filesystem;
using namespace kiln;
using namespace kiln::hf;

namespace {

// A checkpoint seen through an edit: names renamed, one tensor hidden or replaced.
class EditedWeights : public WeightSource {
public:
    EditedWeights(const WeightSource& base, std::function<std::string(const std::string&)> rename,
                  std::string hidden = "", std::string replaced = "", Tensor replacement = {})
        : base_(base),
          rename_(std::move(rename)),
          hidden_(std::move(hidden)),
          replaced_(std::move(replaced)),
          replacement_(std::move(replacement)) {}
    bool has(const std::string& name) const override {
        return name != hidden_ && base_.has(rename_(name));
    }
    Tensor get(const std::string& name) const override {
        KILN_CHECK(name != hidden_, "tensor '", name, "' is not in the checkpoint");
        return name == replaced_ ? replacement_ : base_.get(rename_(name));
    }
    std::vector<std::string> names() const override { return base_.names(); }

private:
    const WeightSource& base_;
    std::function<std::string(const std::string&)> rename_;
    std::string hidden_, replaced_;
    Tensor replacement_;
};

std::string same(const std::string& n) { return n; }

bool load(const std::string& name, fs::path* folder, LlmConfig* config) {
    *folder = fs::path(test::reference_root()) / name;
    if (!fs::exists(*folder / "config.json")) return false;
    *config = test::read_config(*folder);
    return true;
}

std::string build_error(const LlmConfig& c, const WeightSource& w) {
    try {
        llm_graph_builder(c.model_type)(c, w);
    } catch (const Error& e) {
        return e.what();
    }
    return "";
}

// Logits of one decode step after a 4-token prompt: the second step reads the state.
Tensor decode_logits(const std::shared_ptr<Model>& model) {
    auto req = Core().compile_model(model, "CPU").create_infer_request();
    req.set_tensor("input_ids", Tensor::from_vector<int64_t>({5, 17, 42, 7}, {1, 4}));
    req.set_tensor("attention_mask", Tensor::from_vector<int64_t>({1, 1, 1, 1}, {1, 4}));
    req.set_tensor("position_ids", Tensor::from_vector<int64_t>({0, 1, 2, 3}, {1, 4}));
    req.infer();
    req.set_tensor("input_ids", Tensor::from_vector<int64_t>({11}, {1, 1}));
    req.set_tensor("attention_mask", Tensor::from_vector<int64_t>({1, 1, 1, 1, 1}, {1, 5}));
    req.set_tensor("position_ids", Tensor::from_vector<int64_t>({4}, {1, 1}));
    req.infer();
    return req.get_tensor("logits").clone();
}

}  // namespace

TEST(HfBuilders, MissingTensorIsNamed) {
    fs::path folder;
    LlmConfig c;
    if (!load("llama", &folder, &c)) GTEST_SKIP() << "no reference folder";
    const test::NpyWeights npy(folder);
    const std::string name = "model.layers.1.mlp.up_proj.weight";
    const std::string msg = build_error(c, EditedWeights(npy, same, name));
    EXPECT_NE(msg.find(name), std::string::npos) << msg;
}

TEST(HfBuilders, WrongShapeIsNamed) {
    fs::path folder;
    LlmConfig c;
    if (!load("qwen2", &folder, &c)) GTEST_SKIP() << "no reference folder";
    const test::NpyWeights npy(folder);
    const std::string name = "model.layers.0.self_attn.k_proj.bias";
    const std::string msg =
        build_error(c, EditedWeights(npy, same, "", name, Tensor(ElementType::f32, {7})));
    EXPECT_NE(msg.find(name), std::string::npos) << msg;
    EXPECT_NE(msg.find("[7]"), std::string::npos) << msg;
    EXPECT_NE(msg.find("[32]"), std::string::npos) << msg;
}

TEST(HfBuilders, InconsistentHeadsAreRefused) {
    fs::path folder;
    LlmConfig c;
    if (!load("llama", &folder, &c)) GTEST_SKIP() << "no reference folder";
    c.num_kv_heads = 3;
    const std::string msg = build_error(c, test::NpyWeights(folder));
    EXPECT_NE(msg.find("num_key_value_heads"), std::string::npos) << msg;
}

TEST(HfBuilders, Gpt2NamesWithoutTransformerPrefix) {
    fs::path folder;
    LlmConfig c;
    if (!load("gpt2", &folder, &c)) GTEST_SKIP() << "no reference folder";
    const test::NpyWeights npy(folder);
    const EditedWeights bare(npy, [](const std::string& n) { return "transformer." + n; });
    const Tensor a = decode_logits(llm_graph_builder("gpt2")(c, npy));
    const Tensor b = decode_logits(llm_graph_builder("gpt2")(c, bare));
    EXPECT_TRUE(a.identical(b));
}

TEST(HfBuilders, UnknownModelTypeListsSupported) {
    EXPECT_EQ(supported_model_types(),
              (std::vector<std::string>{"gpt2", "llama", "mistral", "qwen2"}));
    try {
        llm_graph_builder("bert");
        FAIL() << "no error";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("gpt2, llama, mistral, qwen2"), std::string::npos)
            << e.what();
    }
}

TEST(HfBuilders, StatefulGraphRoundTripsThroughIr) {
    fs::path folder;
    LlmConfig c;
    if (!load("llama", &folder, &c)) GTEST_SKIP() << "no reference folder";
    auto model = llm_graph_builder(c.model_type)(c, test::NpyWeights(folder));
    const fs::path xml = fs::temp_directory_path() / "kiln_hf_builders_llama.xml";
    save_model(*model, xml.string());
    auto back = read_ir(xml.string());
    EXPECT_EQ(back->rt_info().at("model_type"), "llama");
    EXPECT_EQ(back->sinks().size(), 2 * static_cast<size_t>(c.num_layers));
    EXPECT_TRUE(decode_logits(model).identical(decode_logits(back)));
    fs::remove(xml);
    fs::remove(fs::path(xml).replace_extension(".bin"));
}

TEST(HfBuilders, StaticBatchReshape) {
    fs::path folder;
    LlmConfig c;
    if (!load("qwen2", &folder, &c)) GTEST_SKIP() << "no reference folder";
    auto model = llm_graph_builder(c.model_type)(c, test::NpyWeights(folder));
    const Tensor dynamic = decode_logits(model);
    // A static batch lets the state initializer and the batch arithmetic fold to constants.
    model->reshape({{"input_ids", PartialShape({1, Dimension()})},
                    {"attention_mask", PartialShape({1, Dimension()})},
                    {"position_ids", PartialShape({1, Dimension()})}});
    EXPECT_TRUE(decode_logits(model).identical(dynamic));
}
