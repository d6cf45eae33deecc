// Compressed weights through compilation: constant folding keeps the low-bit constants, the CPU
// fusion pass turns the decompression subgraph + MatMul [+ bias] / Gather into the kiln1
// compressed ops, and the fused graph computes what the unfused one does (reference kernels,
// the CPU device, and after an IR round trip).
#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <filesystem>
#include <thread>

#include "compressed_weights_helpers.hpp"
#include "temp_dir_test.hpp"
#include "cpu/compiled_model.hpp"
#include "cpu/shared_packs.hpp"
#include "kiln/ir.hpp"
#include "kiln/runtime.hpp"
#include "ops/reference_executor.hpp"
#include "transforms/pass_manager.hpp"

using namespace kiln;
using test_data::count_type;
using test_data::LowBitMode;
using test_data::make_compressed_weight;
using test_data::random_f32;

namespace {

constexpr LowBitMode kModes[] = {LowBitMode::int8_sym, LowBitMode::int8_asym,
                                 LowBitMode::int4_sym, LowBitMode::int4_asym};

bool is_four_bit(LowBitMode m) { return m == LowBitMode::int4_sym || m == LowBitMode::int4_asym; }

void expect_close(const Tensor& a, const Tensor& b, float tol) {
    ASSERT_EQ(a.shape(), b.shape());
    for (int64_t i = 0; i < a.size(); ++i) {
        const float x = a.data<float>()[i], y = b.data<float>()[i];
        ASSERT_NEAR(x, y, tol * (1.f + std::fabs(y))) << "element " << i;
    }
}

// x [rows, k] -> MatMul(x, W^T) [+ bias] over a compressed W [n, k].
std::shared_ptr<Model> linear_model(LowBitMode mode, int64_t rows, int64_t n, int64_t k,
                                    bool bias, uint32_t seed) {
    auto x = make_parameter(ElementType::f32, Shape{rows, k}, "x");
    auto w = make_compressed_weight(mode, n, k, is_four_bit(mode) ? 8 : 0, seed);
    Output y = make_op("MatMul", {x->output(0), w.out}, {{"transpose_b", true}});
    if (bias) y = make_op("Add", {y, make_constant(random_f32({n}, seed + 9))->output(0)});
    return std::make_shared<Model>(OutputVector{y}, std::vector<std::shared_ptr<Node>>{x});
}

std::shared_ptr<Model> embedding_model(LowBitMode mode, int64_t vocab, int64_t dim,
                                       uint32_t seed) {
    auto ids = make_parameter(ElementType::i64, Shape{2, 3}, "ids");
    auto w = make_compressed_weight(mode, vocab, dim, is_four_bit(mode) ? 4 : 0, seed);
    auto axis = make_constant(Tensor::scalar(int64_t{0}));
    Output y = make_op("Gather", {w.out, ids->output(0), axis->output(0)}, {{"batch_dims", 0}});
    return std::make_shared<Model>(OutputVector{y}, std::vector<std::shared_ptr<Node>>{ids});
}

Tensor ids_tensor(int64_t vocab) {
    Tensor t(ElementType::i64, Shape{2, 3});
    const int64_t v[] = {0, vocab - 1, 3, -1, 2, 1};
    for (int i = 0; i < 6; ++i) t.data<int64_t>()[i] = v[i];
    return t;
}

size_t count_const_of(const Model& m, ElementType t) {
    size_t n = 0;
    for (const auto& node : m.ordered_ops())
        n += node->type() == "Const" && node->value().element_type() == t;
    return n;
}

ElementType weight_type(LowBitMode m) {
    switch (m) {
        case LowBitMode::int8_sym: return ElementType::i8;
        case LowBitMode::int8_asym: return ElementType::u8;
        case LowBitMode::int4_sym: return ElementType::i4;
        default: return ElementType::u4;
    }
}

TEST(CompressedWeights, ConstantFoldingKeepsLowBitWeights) {
    for (LowBitMode mode : kModes) {
        SCOPED_TRACE(test_data::mode_name(mode));
        auto model = linear_model(mode, 3, 20, 24, false, 11);
        auto folded = model->clone();
        run_common_passes(*folded);
        EXPECT_EQ(count_type(*folded, "Convert"), count_type(*model, "Convert"));
        EXPECT_EQ(count_const_of(*folded, weight_type(mode)),
                  count_const_of(*model, weight_type(mode)));
        // Without the rt_info the same subgraph folds into an f32 weight.
        auto plain = model->clone();
        for (const auto& n : plain->ordered_ops()) n->rt_info().erase("decompression");
        run_common_passes(*plain);
        EXPECT_EQ(count_type(*plain, "Convert"), 0u);
    }
}

TEST(CompressedWeights, FusesMatMulAndBias) {
    for (LowBitMode mode : kModes)
        for (bool bias : {false, true}) {
            SCOPED_TRACE(std::string(test_data::mode_name(mode)) + (bias ? " bias" : ""));
            auto model = linear_model(mode, 3, 21, 40, bias, 20);
            auto fused = model->clone();
            run_common_passes(*fused);
            run_cpu_passes(*fused);
            EXPECT_EQ(count_type(*fused, "FullyConnectedCompressed"), 1u);
            EXPECT_EQ(count_type(*fused, "MatMul"), 0u);
            EXPECT_EQ(count_type(*fused, "Add"), 0u);
            EXPECT_EQ(count_type(*fused, "FullyConnected"), 0u);
            EXPECT_EQ(count_type(*fused, "Convert") + count_type(*fused, "Multiply"), 0u);
            EXPECT_EQ(count_const_of(*fused, weight_type(mode)),
                      count_const_of(*model, weight_type(mode)));
            const Tensor x = random_f32({3, 40}, 21);
            expect_close(evaluate_model(*fused, {x})[0], evaluate_model(*model, {x})[0], 1e-5f);
        }
}

TEST(CompressedWeights, FusesEmbeddingGather) {
    for (LowBitMode mode : kModes) {
        SCOPED_TRACE(test_data::mode_name(mode));
        auto model = embedding_model(mode, 9, 12, 30);
        auto fused = model->clone();
        run_common_passes(*fused);
        run_cpu_passes(*fused);
        EXPECT_EQ(count_type(*fused, "GatherCompressed"), 1u);
        EXPECT_EQ(count_type(*fused, "Gather"), 0u);
        const Tensor ids = ids_tensor(9);
        expect_close(evaluate_model(*fused, {ids})[0], evaluate_model(*model, {ids})[0], 0.f);
    }
}

TEST(CompressedWeights, GatherIndexOutOfRangeIsAnError) {
    auto model = embedding_model(LowBitMode::int8_sym, 9, 12, 31);
    run_common_passes(*model);
    run_cpu_passes(*model);
    Tensor ids = ids_tensor(9);
    ids.data<int64_t>()[2] = 9;
    EXPECT_THROW(evaluate_model(*model, {ids}), Error);
}

// GPT-2 ties its LM head to the token embeddings: one compressed table feeds a Gather and a
// MatMul, over 3-D activations. Both fuse, reading the same low-bit constant.
TEST(CompressedWeights, TiedEmbeddingAndHead) {
    auto ids = make_parameter(ElementType::i64, Shape{2, 3}, "ids");
    auto w = make_compressed_weight(LowBitMode::int8_sym, 37, 40, 0, 60);
    auto axis = make_constant(Tensor::scalar(int64_t{0}));
    Output h = make_op("Gather", {w.out, ids->output(0), axis->output(0)}, {{"batch_dims", 0}});
    Output logits = make_op("MatMul", {h, w.out}, {{"transpose_b", true}});
    auto model = std::make_shared<Model>(OutputVector{logits},
                                         std::vector<std::shared_ptr<Node>>{ids});
    auto fused = model->clone();
    run_common_passes(*fused);
    run_cpu_passes(*fused);
    EXPECT_EQ(count_type(*fused, "GatherCompressed"), 1u);
    EXPECT_EQ(count_type(*fused, "FullyConnectedCompressed"), 1u);
    EXPECT_EQ(count_const_of(*fused, ElementType::i8), 1u);
    const Tensor x = ids_tensor(37);
    const Tensor want = evaluate_model(*model, {x})[0];
    expect_close(evaluate_model(*fused, {x})[0], want, 1e-5f);
    Core core;
    auto req = core.compile_model(model, "CPU", {{"INFERENCE_NUM_THREADS", "2"}})
                   .create_infer_request();
    req.set_input_tensor(x);
    req.infer();
    expect_close(req.get_output_tensor(), want, 5e-2f);
}

// The CPU kernel of GatherCompressed dequantizes rows from the packed layout of the linear
// layers when the table is tied to a linear layer: exactly the reference's values, in every mode,
// on odd sizes, for negative indices too. An embedding of its own stays on the reference kernel
// (no pack: a table mapped from an IR file is not read whole).
TEST(CompressedWeights, CpuGatherKernelOnATiedTableMatchesTheReference) {
    auto executed = [](InferRequest& req) {
        std::string how;
        for (const ProfilingInfo& p : req.get_profiling_info())
            if (p.node_type == "GatherCompressed") how = p.exec_type;
        return how;
    };
    for (LowBitMode mode : kModes) {
        SCOPED_TRACE(test_data::mode_name(mode));
        auto ids = make_parameter(ElementType::i64, Shape{2, 3}, "ids");
        auto w = make_compressed_weight(mode, 37, 40, is_four_bit(mode) ? 8 : 0, 70);
        auto axis = make_constant(Tensor::scalar(int64_t{0}));
        Output h = make_op("Gather", {w.out, ids->output(0), axis->output(0)}, {{"batch_dims", 0}});
        Output logits = make_op("MatMul", {h, w.out}, {{"transpose_b", true}});
        auto tied = std::make_shared<Model>(OutputVector{h, logits},
                                            std::vector<std::shared_ptr<Node>>{ids});
        const Tensor x = ids_tensor(37);
        const Tensor want = evaluate_model(*tied, {x})[0];
        auto req = Core().compile_model(tied, "CPU", {{"PERF_COUNT", "YES"}}).create_infer_request();
        req.set_input_tensor(x);
        req.infer();
        expect_close(req.get_output_tensor(0), want, 1e-6f);
        EXPECT_EQ(executed(req), "optimized");
        Tensor bad = ids_tensor(37);
        bad.data<int64_t>()[4] = 37;
        req.set_input_tensor(bad);
        EXPECT_THROW(req.infer(), Error);

        auto own = embedding_model(mode, 37, 40, 71);
        auto req2 = Core().compile_model(own, "CPU", {{"PERF_COUNT", "YES"}}).create_infer_request();
        req2.set_input_tensor(x);
        req2.infer();
        expect_close(req2.get_output_tensor(0), evaluate_model(*own, {x})[0], 0.f);
        EXPECT_EQ(executed(req2), "reference");
    }
}

TEST(SharedPacks, OnePackPerKeyAcrossThreads) {
    cpu::SharedPacks packs;
    auto a = make_constant(Tensor::scalar(1.f)), b = make_constant(Tensor::scalar(2.f));
    std::atomic<int> made{0};
    auto make = [&] {
        ++made;
        return std::make_shared<const int>(42);
    };
    std::vector<std::shared_ptr<const int>> got(8);
    std::vector<std::thread> threads;
    for (size_t i = 0; i < got.size(); ++i)
        threads.emplace_back([&, i] { got[i] = packs.get<int>("k", {a.get(), b.get()}, make); });
    for (auto& t : threads) t.join();
    EXPECT_EQ(made.load(), 1);
    for (const auto& p : got) EXPECT_EQ(p, got[0]);
    // Another kind or other sources: another pack.
    EXPECT_NE(packs.get<int>("other", {a.get(), b.get()}, make), got[0]);
    EXPECT_NE(packs.get<int>("k", {b.get(), a.get()}, make), got[0]);
    EXPECT_EQ(made.load(), 3);
    // A failed pack fails every caller, and is not retried behind their backs.
    auto fail = []() -> std::shared_ptr<const int> { throw Error("no memory for the pack"); };
    EXPECT_THROW(packs.get<int>("bad", {a.get()}, fail), Error);
    EXPECT_THROW(packs.get<int>("bad", {a.get()}, make), Error);
}

TEST(CompressedWeights, OpsRejectMismatchedInputs) {
    auto x = make_parameter(ElementType::f32, Shape{2, 16}, "x");
    auto c = [](Tensor t) { return make_constant(std::move(t))->output(0); };
    const Output w = c(test_data::random_lowbit(ElementType::i4, {8, 2, 8}, 1));
    const Output bias = c(Tensor(ElementType::f32, Shape{0}));
    // Scale per row where the weight has groups.
    EXPECT_THROW(make_node("FullyConnectedCompressed",
                           {x->output(0), w, bias, c(random_f32({8, 1}, 2))}),
                 Error);
    // f32 weights are not compressed.
    EXPECT_THROW(make_node("FullyConnectedCompressed", {x->output(0), c(random_f32({8, 16}, 3)),
                                                        bias, c(random_f32({8, 1}, 2))}),
                 Error);
    // Input width 16 against K = 24.
    EXPECT_THROW(make_node("FullyConnectedCompressed",
                           {x->output(0), c(test_data::random_lowbit(ElementType::u8, {8, 24}, 1)),
                            bias, c(random_f32({8, 1}, 2))}),
                 Error);
    EXPECT_NO_THROW(make_node("FullyConnectedCompressed",
                              {x->output(0), w, bias, c(random_f32({8, 2, 1}, 2))}));
}

TEST(CompressedWeights, NotFusedWithoutTransposeB) {
    auto x = make_parameter(ElementType::f32, Shape{2, 16}, "x");
    auto w = make_compressed_weight(LowBitMode::int8_sym, 16, 16, 0, 40);
    auto y = make_op("MatMul", {x->output(0), w.out}, {{"transpose_b", false}});
    Model m(OutputVector{y}, {x});
    run_common_passes(m);
    run_cpu_passes(m);
    EXPECT_EQ(count_type(m, "FullyConnectedCompressed"), 0u);
    // A weight no kernel reads compressed folds to f32 after the fusions, as it did before.
    EXPECT_EQ(count_type(m, "Convert"), 0u);
    EXPECT_EQ(count_type(m, "MatMul"), 1u);
}

// ctest runs this suite under each KILN_ISA at once: each process writes its own folder.
using CompressedWeightsFiles = test_data::TempDirTest;

TEST_F(CompressedWeightsFiles, CompiledModelMatchesUnfusedAndRoundTripsThroughIr) {
    const auto dir = dir_;
    for (LowBitMode mode : kModes) {
        SCOPED_TRACE(test_data::mode_name(mode));
        auto model = linear_model(mode, 5, 19, 48, true, 50);
        const Tensor x = random_f32({5, 48}, 51);
        const Tensor want = evaluate_model(*model, {x})[0];

        Core core;
        auto compiled = core.compile_model(model, "CPU", {{"INFERENCE_NUM_THREADS", "2"}});
        auto req = compiled.create_infer_request();
        req.set_input_tensor(x);
        req.infer();
        // The CPU kernel quantizes activations to int8: a looser bound than the reference.
        expect_close(req.get_output_tensor(), want, 5e-2f);

        auto fused = model->clone();
        run_common_passes(*fused);
        run_cpu_passes(*fused);
        const std::string xml = (dir / (std::string(test_data::mode_name(mode)) + ".xml")).string();
        save_model(*fused, xml);
        auto back = core.read_model(xml);
        EXPECT_EQ(count_type(*back, "FullyConnectedCompressed"), 1u);
        EXPECT_EQ(count_const_of(*back, weight_type(mode)),
                  count_const_of(*model, weight_type(mode)));
        expect_close(evaluate_model(*back, {x})[0], want, 1e-5f);
    }
}

// A compressed IR file (what `kiln compress` writes) read back keeps its decompression rt_info,
// and CACHE_DIR stores and reloads the fused graph with its low-bit constants.
TEST_F(CompressedWeightsFiles, IrFileThroughTheModelCache) {
    const auto dir = dir_;
    std::filesystem::create_directories(dir / "cache");
    auto model = linear_model(LowBitMode::int4_asym, 4, 23, 64, true, 70);
    const std::string xml = (dir / "model.xml").string();
    save_model(*model, xml);
    const Tensor x = random_f32({4, 64}, 71);
    const Tensor want = evaluate_model(*model, {x})[0];
    Core core;
    auto read = core.read_model(xml);
    auto folded = read->clone();
    run_common_passes(*folded);
    EXPECT_EQ(count_const_of(*folded, ElementType::u4), 2u);  // weight and zero point
    for (const char* loaded : {"NO", "YES"}) {
        auto compiled = core.compile_model(
            xml, "CPU", {{"CACHE_DIR", (dir / "cache").string()}, {"INFERENCE_NUM_THREADS", "2"}});
        EXPECT_EQ(compiled.get_property("LOADED_FROM_CACHE"), loaded);
        auto req = compiled.create_infer_request();
        req.set_input_tensor(x);
        req.infer();
        expect_close(req.get_output_tensor(), want, 5e-2f);
    }
}

}  // namespace
