// compress_weights on small graphs: the rewritten subgraphs, the layers each mode picks, --ratio,
// --all-layers, tied embeddings, and outputs through Core + the CPU device close to the original.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "kiln/compress.hpp"
#include "kiln/runtime.hpp"
#include "test_helpers.hpp"

using namespace kiln;
using test_data::count_type;
using test_data::random_f32;

namespace {

// A Parameter whose tensor is named like the node, as requests look inputs up by tensor name.
std::shared_ptr<Node> input(ElementType type, PartialShape shape, const std::string& name) {
    auto p = make_parameter(type, std::move(shape), name);
    p->output_info(0).names = {name};
    return p;
}

std::shared_ptr<Node> matmul(const Output& x, const Tensor& w, bool transpose_b,
                             const std::string& name) {
    return make_node("MatMul", {x, make_constant(w, name)->output(0)},
                     {{"transpose_a", false}, {"transpose_b", transpose_b}}, {}, name + "/matmul");
}

// x [3, 64] -> fc1 (W [48, 64], transpose_b) -> Relu -> fc2 (W [48, 40] as [K, N]) -> y [3, 40].
std::shared_ptr<Model> mlp() {
    auto x = input(ElementType::f32, PartialShape({3, 64}), "x");
    auto h = matmul(x->output(0), random_f32({48, 64}, 1), true, "fc1");
    auto r = make_node("Relu", {h->output(0)});
    auto y = matmul(r->output(0), random_f32({48, 40}, 2), false, "fc2");
    y->output_info(0).names = {"y"};
    return std::make_shared<Model>(OutputVector{y->output(0)},
                                   std::vector<std::shared_ptr<Node>>{x});
}

Tensor run(const std::shared_ptr<Model>& m, const Tensor& in) {
    Core core;
    auto req = core.compile_model(m).create_infer_request();
    req.set_tensor(m->inputs()[0].any_name(), in);
    req.infer();
    return req.get_tensor(m->outputs()[0].any_name());
}

double relative_l2(const Tensor& a, const Tensor& b) {
    EXPECT_EQ(a.shape(), b.shape());
    double err = 0, norm = 0;
    for (int64_t i = 0; i < a.size(); ++i) {
        const double d = a.data<float>()[i] - b.data<float>()[i];
        err += d * d;
        norm += static_cast<double>(b.data<float>()[i]) * b.data<float>()[i];
    }
    return std::sqrt(err / norm);
}

const CompressedLayer& layer(const WeightCompressionReport& r, const std::string& name) {
    for (const auto& l : r.layers)
        if (l.name == name) return l;
    ADD_FAILURE() << "no layer " << name;
    return r.layers.front();
}

std::shared_ptr<Node> weight_input(const std::shared_ptr<Model>& m, const std::string& name,
                                   size_t port) {
    for (const auto& n : m->ordered_ops())
        if (n->name() == name) return n->input(port).node;
    ADD_FAILURE() << "no node " << name;
    return nullptr;
}

TEST(CompressWeights, EachModeKeepsTheOutputsClose) {
    const Tensor in = random_f32({3, 64}, 9);
    const Tensor ref = run(mlp(), in);
    // Uniform weights: int8 adds ~0.4 % of noise per layer, int4 in groups of 16 ~7 %.
    struct Case {
        CompressionMode mode;
        double tol;
    };
    for (const Case c :
         {Case{CompressionMode::int8_sym, 0.012}, Case{CompressionMode::int8_asym, 0.012},
          Case{CompressionMode::int4_sym, 0.16}, Case{CompressionMode::int4_asym, 0.16}}) {
        auto m = mlp();
        WeightCompressionConfig cfg;
        cfg.mode = c.mode;
        cfg.group_size = 16;
        cfg.all_layers = true;  // both layers in the mode under test
        const auto report = compress_weights(*m, cfg);
        ASSERT_EQ(report.layers.size(), 2u);
        const bool int4 =
            c.mode == CompressionMode::int4_sym || c.mode == CompressionMode::int4_asym;
        for (const auto& l : report.layers) {
            EXPECT_EQ(l.bits, int4 ? 4 : 8) << l.name;
            EXPECT_EQ(l.group_size, int4 ? 16 : 0) << l.name;
            EXPECT_EQ(l.precision, to_string(c.mode));
        }
        // fc2 was [K, N]: it is now read as [N, K] with transpose_b.
        for (const auto& n : m->ordered_ops()) {
            if (n->type() == "MatMul") {
                EXPECT_TRUE(n->attrs().get_bool("transpose_b")) << n->name();
            }
        }
        EXPECT_EQ(weight_input(m, "fc2/matmul", 1)->output_shape(0), PartialShape({40, 48}));
        EXPECT_EQ(count_type(*m, "Reshape"), int4 ? 2u : 0u);
        const bool asym =
            c.mode == CompressionMode::int8_asym || c.mode == CompressionMode::int4_asym;
        EXPECT_EQ(count_type(*m, "Subtract"), asym ? 2u : 0u);
        size_t marked = 0;
        for (const auto& n : m->ordered_ops())
            if (n->type() == "Convert") marked += n->rt_info().count("decompression");
        EXPECT_EQ(marked, asym ? 4u : 2u);
        EXPECT_EQ(m->outputs()[0].names().count("y"), 1u);
        const double err = relative_l2(run(m, in), ref);
        EXPECT_LT(err, c.tol) << to_string(c.mode);
        EXPECT_GT(err, 0.0) << to_string(c.mode);
    }
}

TEST(CompressWeights, StoredFormMatchesTheContract) {
    auto m = mlp();
    WeightCompressionConfig cfg;
    cfg.mode = CompressionMode::int4_asym;
    cfg.group_size = 16;
    cfg.all_layers = true;
    compress_weights(*m, cfg);
    // fc1: Reshape(Multiply(Subtract(Convert(u4 [48,4,16]), Convert(u4 zp)), f32 scale)).
    auto reshape = weight_input(m, "fc1/matmul", 1);
    ASSERT_EQ(reshape->type(), "Reshape");
    EXPECT_EQ(reshape->output_shape(0), PartialShape({48, 64}));
    auto mul = reshape->input(0).node;
    ASSERT_EQ(mul->type(), "Multiply");
    EXPECT_EQ(mul->input(1).node->value().element_type(), ElementType::f32);
    EXPECT_EQ(mul->input(1).node->value().shape(), (Shape{48, 4, 1}));
    auto sub = mul->input(0).node;
    ASSERT_EQ(sub->type(), "Subtract");
    auto conv = sub->input(0).node;
    ASSERT_EQ(conv->type(), "Convert");
    EXPECT_EQ(conv->input(0).node->value().element_type(), ElementType::u4);
    EXPECT_EQ(conv->input(0).node->value().shape(), (Shape{48, 4, 16}));
    auto zp = sub->input(1).node;
    ASSERT_EQ(zp->type(), "Convert");
    EXPECT_EQ(zp->input(0).node->value().element_type(), ElementType::u4);
    EXPECT_EQ(zp->input(0).node->value().shape(), (Shape{48, 4, 1}));
    EXPECT_EQ(m->rt_info().at("weight_compression/mode"), "int4_asym");
}

TEST(CompressWeights, OutputProjectionStaysIn8BitsUnlessAllLayers) {
    for (BackupMode backup : {BackupMode::int8_asym, BackupMode::int8_sym, BackupMode::none}) {
        auto m = mlp();
        WeightCompressionConfig cfg;
        cfg.mode = CompressionMode::int4_sym;
        cfg.group_size = 16;
        cfg.backup = backup;
        const auto r = compress_weights(*m, cfg);
        EXPECT_EQ(layer(r, "fc1").bits, 4);
        const auto& head = layer(r, "fc2");
        EXPECT_EQ(head.bits, 8);
        EXPECT_EQ(head.role, "output");
        EXPECT_EQ(head.precision, backup == BackupMode::int8_sym ? "int8_sym" : "int8_asym");
        EXPECT_EQ(head.reason, "output projection");
    }
}

// x [2, 40] -> a (K = 40) -> b (K = 32) -> c (the output projection).
std::shared_ptr<Model> three_layers() {
    auto x = input(ElementType::f32, PartialShape({2, 40}), "x");
    auto a = matmul(x->output(0), random_f32({32, 40}, 3), true, "a");
    auto b = matmul(a->output(0), random_f32({32, 32}, 4), true, "b");
    auto c = matmul(b->output(0), random_f32({8, 32}, 5), true, "c");
    return std::make_shared<Model>(OutputVector{c->output(0)},
                                   std::vector<std::shared_ptr<Node>>{x});
}

TEST(CompressWeights, GroupSizeNotDividingFallsBackToTheBackup) {
    WeightCompressionConfig cfg;
    cfg.mode = CompressionMode::int4_asym;
    cfg.group_size = 8;
    cfg.backup = BackupMode::int8_sym;
    auto m = three_layers();
    auto r = compress_weights(*m, cfg);
    EXPECT_EQ(layer(r, "a").bits, 4);
    EXPECT_EQ(layer(r, "b").bits, 4);
    EXPECT_EQ(layer(r, "c").bits, 8);

    cfg.group_size = 16;
    m = three_layers();
    r = compress_weights(*m, cfg);
    EXPECT_EQ(layer(r, "a").bits, 8);
    EXPECT_EQ(layer(r, "a").precision, "int8_sym");
    EXPECT_NE(layer(r, "a").reason.find("not a multiple of group size 16"), std::string::npos);
    EXPECT_EQ(layer(r, "b").bits, 4);

    // A group size that fits no layer is an error, naming the sizes it should divide.
    cfg.group_size = 12;
    m = three_layers();
    try {
        compress_weights(*m, cfg);
        ADD_FAILURE() << "group size 12 accepted";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("group size 12 divides the input size K of none of "
                                             "the 2 layers it applies to (K: 32, 40)"),
                  std::string::npos)
            << e.what();
    }
    EXPECT_EQ(count_type(*m, "Convert"), 0u);

    // Per-channel int4 (group -1) takes any K, stored as [N, K] without a Reshape.
    cfg.group_size = -1;
    m = three_layers();
    r = compress_weights(*m, cfg);
    EXPECT_EQ(layer(r, "a").bits, 4);
    EXPECT_EQ(layer(r, "a").group_size, 0);
    EXPECT_EQ(layer(r, "b").bits, 4);
    EXPECT_EQ(count_type(*m, "Reshape"), 0u);
}

// Four hidden layers of equal size; in "b" and "d" one weight in 16 is 5 among values in [-1, 1]:
// the wider range of their groups costs them more relative error in int4.
std::shared_ptr<Model> outlier_chain() {
    auto x = input(ElementType::f32, PartialShape({2, 32}), "x");
    Output h = x->output(0);
    uint32_t seed = 20;
    for (const char* name : {"a", "b", "c", "d"}) {
        Tensor w = random_f32({32, 32}, seed++);
        if (name[0] == 'b' || name[0] == 'd')
            for (int64_t i = 0; i < w.size(); i += 16) w.data<float>()[i] = 5.f;
        h = matmul(h, w, true, name)->output(0);
    }
    h = matmul(h, random_f32({10, 32}, seed), true, "head")->output(0);
    return std::make_shared<Model>(OutputVector{h}, std::vector<std::shared_ptr<Node>>{x});
}

TEST(CompressWeights, RatioPutsTheLeastSensitiveLayersIn4Bits) {
    auto m = outlier_chain();
    WeightCompressionConfig cfg;
    cfg.mode = CompressionMode::int4_asym;
    cfg.group_size = 16;
    cfg.ratio = 0.5;
    size_t calls = 0, last_total = 0;
    const auto r = compress_weights(*m, cfg, [&](size_t done, size_t total, const std::string&) {
        EXPECT_EQ(done, ++calls);
        last_total = total;
    });
    EXPECT_EQ(calls, last_total);
    EXPECT_EQ(last_total, 4u + 5u);  // sensitivity of 4 candidates, then 5 layers
    EXPECT_EQ(layer(r, "a").bits, 4);
    EXPECT_EQ(layer(r, "c").bits, 4);
    for (const char* name : {"b", "d"}) {
        EXPECT_EQ(layer(r, name).bits, 8) << name;
        EXPECT_EQ(layer(r, name).reason, "ratio 0.5");
        EXPECT_GT(layer(r, name).sensitivity, layer(r, "a").sensitivity);
    }
    EXPECT_EQ(layer(r, "head").bits, 8);
    EXPECT_EQ(r.params_with_bits(4), 2 * 32 * 32);
    EXPECT_NEAR(r.share_4bit(), 2048.0 / (4 * 1024 + 320), 1e-12);
    EXPECT_GT(r.bits_per_weight(), 4.0);
    EXPECT_LT(r.bits_per_weight(), 8.5);

    // The ratio reached or passed, never less: 0.3 of 4 equal layers takes 2.
    auto m2 = outlier_chain();
    cfg.ratio = 0.3;
    cfg.backup = BackupMode::none;
    const auto r2 = compress_weights(*m2, cfg);
    EXPECT_EQ(r2.params_with_bits(4), 2 * 32 * 32);
    EXPECT_EQ(layer(r2, "b").bits, 32);
    EXPECT_EQ(layer(r2, "b").precision, "float");
    EXPECT_EQ(layer(r2, "head").precision, "int8_asym");  // 8 bits even with no backup
    cfg.ratio = 0;
    auto m3 = outlier_chain();
    EXPECT_EQ(compress_weights(*m3, cfg).params_with_bits(4), 0);
}

TEST(CompressWeights, AllLayersTakesTheHeadToo) {
    auto m = outlier_chain();
    WeightCompressionConfig cfg;
    cfg.mode = CompressionMode::int4_sym;
    cfg.group_size = 16;
    cfg.all_layers = true;
    const auto r = compress_weights(*m, cfg);
    for (const auto& l : r.layers) EXPECT_EQ(l.bits, 4) << l.name;
    EXPECT_DOUBLE_EQ(r.share_4bit(), 1.0);
}

// ids -> Gather(E [50, 32]) -> MatMul(., E, transpose_b) -> logits: the tied embedding.
std::shared_ptr<Model> tied_lm(const std::shared_ptr<Node>& ids) {
    auto emb = make_constant(random_f32({50, 32}, 30), "embed");
    auto g = make_node(
        "Gather",
        {emb->output(0), ids->output(0), make_constant(Tensor::scalar<int64_t>(0))->output(0)},
        {{"batch_dims", int64_t{0}}}, {}, "embed/gather");
    auto mid = matmul(g->output(0), random_f32({32, 32}, 31), true, "mid");
    auto logits = make_node("MatMul", {mid->output(0), emb->output(0)},
                            {{"transpose_a", false}, {"transpose_b", true}}, {}, "lm_head");
    logits->output_info(0).names = {"logits"};
    return std::make_shared<Model>(OutputVector{logits->output(0)},
                                   std::vector<std::shared_ptr<Node>>{ids});
}

TEST(CompressWeights, TiedEmbeddingIsCompressedOnceForBothReaders) {
    for (bool all_layers : {false, true}) {
        auto ids = input(ElementType::i64, PartialShape({1, 5}), "input_ids");
        auto m = tied_lm(ids);
        Tensor in = Tensor::from_vector<int64_t>({3, 0, 49, 7, 3}, {1, 5});
        const Tensor ref = run(m, in);
        WeightCompressionConfig cfg;
        cfg.mode = CompressionMode::int4_asym;
        cfg.group_size = 8;
        cfg.all_layers = all_layers;
        const auto r = compress_weights(*m, cfg);
        ASSERT_EQ(r.layers.size(), 2u);
        const auto& e = layer(r, "embed");
        EXPECT_EQ(e.role, "embedding+output");
        EXPECT_EQ(e.bits, all_layers ? 4 : 8);
        EXPECT_EQ(layer(r, "mid").bits, 4);
        auto from_gather = weight_input(m, "embed/gather", 0);
        auto from_head = weight_input(m, "lm_head", 1);
        EXPECT_EQ(from_gather, from_head);
        EXPECT_EQ(from_gather->type(), all_layers ? "Reshape" : "Multiply");
        EXPECT_EQ(from_gather->output_shape(0), PartialShape({50, 32}));
        EXPECT_LT(relative_l2(run(m, in), ref), all_layers ? 0.15 : 0.12);
    }
}

TEST(CompressWeights, Float16WeightsBehindAConvertAreCompressed) {
    auto x = input(ElementType::f32, PartialShape({2, 16}), "x");
    const Tensor w32 = random_f32({8, 16}, 40);
    Tensor w16(ElementType::f16, {8, 16});
    for (int64_t i = 0; i < w32.size(); ++i) w16.data<float16>()[i] = float16(w32.data<float>()[i]);
    auto conv = make_node("Convert", {make_constant(w16, "w")->output(0)},
                          {{"destination_type", std::string("f32")}});
    auto y = make_node("MatMul", {x->output(0), conv->output(0)},
                       {{"transpose_a", false}, {"transpose_b", true}});
    auto m =
        std::make_shared<Model>(OutputVector{y->output(0)}, std::vector<std::shared_ptr<Node>>{x});
    const Tensor in = random_f32({2, 16}, 41);
    const Tensor ref = run(m, in);
    WeightCompressionConfig cfg;
    cfg.mode = CompressionMode::int8_sym;
    const auto r = compress_weights(*m, cfg);
    ASSERT_EQ(r.layers.size(), 1u);
    EXPECT_EQ(r.layers[0].bytes_before, 8u * 16 * 2);
    EXPECT_EQ(r.layers[0].bytes_after, 8u * 16 + 8 * 4);
    EXPECT_LT(relative_l2(run(m, in), ref), 0.01);
}

TEST(CompressWeights, ConstantsWithOtherReadersAreSkipped) {
    auto x = input(ElementType::f32, PartialShape({16, 16}), "x");
    auto w = make_constant(random_f32({16, 16}, 50), "w");
    auto y = make_node("MatMul", {x->output(0), w->output(0)},
                       {{"transpose_a", false}, {"transpose_b", true}});
    auto z = make_node("Add", {y->output(0), w->output(0)});
    // An integer table read by a Gather is no weight: neither compressed nor listed.
    auto ids = input(ElementType::i64, PartialShape({2}), "ids");
    auto table = make_constant(Tensor::from_vector<int64_t>({1, 2, 3, 4, 5, 6}, {3, 2}), "table");
    auto g = make_node("Gather", {table->output(0), ids->output(0),
                                  make_constant(Tensor::scalar<int64_t>(0))->output(0)});
    auto m = std::make_shared<Model>(OutputVector{z->output(0), g->output(0)},
                                     std::vector<std::shared_ptr<Node>>{x, ids});
    const auto r = compress_weights(*m, {});
    EXPECT_TRUE(r.layers.empty());
    ASSERT_EQ(r.skipped.size(), 1u);
    EXPECT_NE(r.skipped[0].find("Add"), std::string::npos) << r.skipped[0];
    EXPECT_EQ(r.model_bytes_after, r.model_bytes_before);
}

TEST(CompressWeights, BadSettingsGiveClearErrors) {
    auto expect_error = [](const WeightCompressionConfig& cfg, const std::string& text) {
        auto m = mlp();
        try {
            compress_weights(*m, cfg);
            ADD_FAILURE() << "accepted: " << text;
        } catch (const Error& e) {
            EXPECT_NE(std::string(e.what()).find(text), std::string::npos) << e.what();
        }
    };
    WeightCompressionConfig cfg;
    cfg.mode = CompressionMode::int4_asym;
    cfg.group_size = 0;
    expect_error(cfg, "group size must be positive");
    cfg.group_size = 128;
    cfg.ratio = 1.5;
    expect_error(cfg, "ratio must be in [0, 1]");
    cfg.ratio = -0.1;
    expect_error(cfg, "ratio must be in [0, 1]");
    cfg.ratio = std::numeric_limits<double>::quiet_NaN();
    expect_error(cfg, "ratio must be in [0, 1]");
    cfg.ratio = 0.5;
    cfg.mode = CompressionMode::int8_asym;
    expect_error(cfg, "applies to the 4-bit modes only");
    EXPECT_THROW(compression_mode_from_string("int3"), Error);
    try {
        compression_mode_from_string("int3");
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("int4_asym"), std::string::npos) << e.what();
    }
    EXPECT_THROW(backup_mode_from_string("fp16"), Error);
    EXPECT_EQ(compression_mode_from_string("int4_sym"), CompressionMode::int4_sym);
    EXPECT_EQ(backup_mode_from_string("none"), BackupMode::none);
}

TEST(CompressWeights, NonFiniteWeightsLeaveTheModelUnchanged) {
    auto m = mlp();
    Tensor bad = random_f32({8, 64}, 60);
    bad.data<float>()[70] = std::numeric_limits<float>::infinity();
    auto x = input(ElementType::f32, PartialShape({3, 64}), "x");
    auto a = matmul(x->output(0), random_f32({8, 64}, 61), true, "good");
    auto b = matmul(x->output(0), bad, true, "bad");
    auto s = make_node("Add", {a->output(0), b->output(0)});
    auto model =
        std::make_shared<Model>(OutputVector{s->output(0)}, std::vector<std::shared_ptr<Node>>{x});
    try {
        compress_weights(*model, {});
        FAIL() << "infinite weight accepted";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("'bad'"), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("row 1"), std::string::npos) << e.what();
    }
    EXPECT_EQ(count_type(*model, "Convert"), 0u);
    EXPECT_EQ(a->input(1).node->name(), "good");
}

}  // namespace
