// llm::with_logits_to_keep on the builders' graphs: the sliced output projection gives exactly
// the rows of the full logits it keeps (the last N positions, or all with 0), step after step
// on the KV cache, and a graph whose logits do not come from a MatMul is left alone.
#include <gtest/gtest.h>

#include "genai/llm/logits_to_keep.hpp"
#include "hf_reference.hpp"
#include "kiln/runtime.hpp"

namespace fs = std::filesystem;
using namespace kiln;

namespace {

struct Step {
    std::vector<int64_t> ids;
    int64_t past;
};

Tensor run(InferRequest& req, const Step& s, int64_t batch, const int64_t* keep) {
    const int64_t seq = static_cast<int64_t>(s.ids.size()) / batch;
    std::vector<int64_t> pos(s.ids.size());
    for (int64_t b = 0; b < batch; ++b)
        for (int64_t t = 0; t < seq; ++t) pos[b * seq + t] = s.past + t;
    req.set_tensor("input_ids", Tensor::from_vector(s.ids, {batch, seq}));
    req.set_tensor("attention_mask",
                   Tensor::from_vector(std::vector<int64_t>(batch * (s.past + seq), 1),
                                       {batch, s.past + seq}));
    req.set_tensor("position_ids", Tensor::from_vector(pos, {batch, seq}));
    if (keep) req.set_tensor(llm::kLogitsToKeep, Tensor::from_vector<int64_t>({*keep}, {1}));
    req.infer();
    return req.get_tensor("logits").clone();
}

}  // namespace

TEST(HfLogitsToKeep, KeepsTheLastRowsOfTheFullLogits) {
    const fs::path folder = fs::path(hf::test::reference_root()) / "gpt2";
    if (!fs::exists(folder / "config.json")) GTEST_SKIP() << "no reference folder " << folder;
    Core core;
    auto full_model = core.read_model(folder.string());
    auto sliced_model = llm::with_logits_to_keep(core.read_model(folder.string()), "logits");
    ASSERT_NO_THROW(sliced_model->input(llm::kLogitsToKeep));
    auto full = core.compile_model(full_model, "CPU", hf::test::kExactKvCache).create_infer_request();
    auto sliced =
        core.compile_model(sliced_model, "CPU", hf::test::kExactKvCache).create_infer_request();

    const int64_t batch = 2;
    // A prompt of 5, then steps of 1 and 3 tokens, keeping 1, all (0), and more than there are.
    const std::vector<Step> steps = {{{5, 9, 2, 7, 1, 3, 8, 4, 6, 0}, 0},
                                     {{11, 12}, 5},
                                     {{13, 14, 15, 16, 17, 18}, 6}};
    const std::vector<int64_t> keeps = {1, 0, 7};
    for (size_t i = 0; i < steps.size(); ++i) {
        const Tensor want = run(full, steps[i], batch, nullptr);
        const Tensor got = run(sliced, steps[i], batch, &keeps[i]);
        const int64_t seq = want.shape()[1], vocab = want.shape()[2];
        const int64_t kept = keeps[i] == 0 ? seq : std::min(seq, keeps[i]);
        ASSERT_EQ(got.shape(), (Shape{batch, kept, vocab})) << "step " << i;
        for (int64_t b = 0; b < batch; ++b)
            for (int64_t t = 0; t < kept; ++t)
                for (int64_t v = 0; v < vocab; ++v) {
                    const float w = want.data<float>()[(b * seq + seq - kept + t) * vocab + v];
                    const float g = got.data<float>()[(b * kept + t) * vocab + v];
                    ASSERT_NEAR(g, w, 1e-5f * (1.f + std::fabs(w)))
                        << "step " << i << " row " << b << " position " << t << " id " << v;
                }
    }
    // Applying it twice changes nothing more.
    EXPECT_EQ(llm::with_logits_to_keep(sliced_model, "logits"), sliced_model);
}

TEST(HfLogitsToKeep, LeavesOtherOutputsAlone) {
    auto x = make_parameter(ElementType::f32, PartialShape({1, 4}), "x");
    x->output_info(0).names = {"x"};
    auto y = make_node("Relu", {x->output(0)});
    y->output_info(0).names = {"logits"};
    auto model = std::make_shared<Model>(OutputVector{y->output(0)},
                                         std::vector<std::shared_ptr<Node>>{x});
    EXPECT_EQ(llm::with_logits_to_keep(model, "logits"), model);
    EXPECT_EQ(llm::with_logits_to_keep(model, "no such output"), model);
}
