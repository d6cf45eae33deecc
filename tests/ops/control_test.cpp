#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "kiln/ir.hpp"
#include "kiln/model.hpp"
#include "ops/reference_executor.hpp"

using namespace kiln;

namespace {

std::shared_ptr<Node> param(ElementType t, PartialShape s, const std::string& name = "") {
    return make_parameter(t, std::move(s), name);
}

std::vector<float> floats(const Tensor& t) {
    std::vector<float> v;
    for (int64_t i = 0; i < t.size(); ++i) v.push_back(static_cast<float>(t.value_as_double(i)));
    return v;
}

// then: returns its parameter; else: returns the constant [-1, -1].
std::shared_ptr<Node> make_if(const Output& cond, const Output& x) {
    auto a = param(ElementType::f32, PartialShape{2});
    auto then_body = std::make_shared<Model>(OutputVector{a->output(0)},
                                             std::vector<std::shared_ptr<Node>>{a}, "then");
    auto c = make_constant(Tensor::from_vector(std::vector<float>{-1, -1}));
    auto else_body = std::make_shared<Model>(OutputVector{c->output(0)},
                                             std::vector<std::shared_ptr<Node>>{}, "else");
    Attributes attrs{{"then_inputs", std::vector<int64_t>{1}},
                     {"else_inputs", std::vector<int64_t>{}},
                     {"then_outputs", std::vector<int64_t>{0}},
                     {"else_outputs", std::vector<int64_t>{0}}};
    return make_node("If", {cond, x}, attrs, {then_body, else_body}, "if");
}

}  // namespace

TEST(ControlRecurrent, LstmShapeInference) {
    auto x = param(ElementType::f32, PartialShape{5, Dimension(), 3});
    auto w = param(ElementType::f32, PartialShape{2, 16, 3});
    auto r = param(ElementType::f32, PartialShape{2, 16, 4});
    auto n = make_node("LSTMSequenceONNX", {x->output(0), w->output(0), r->output(0)},
                       {{"hidden_size", int64_t{4}}, {"direction", std::string("bidirectional")}});
    ASSERT_EQ(n->output_count(), 3u);
    EXPECT_EQ(to_string(n->output_shape(0)), "[5,2,?,4]");
    EXPECT_EQ(to_string(n->output_shape(1)), "[2,?,4]");
    auto batchwise = make_node("LSTMSequenceONNX", {x->output(0), w->output(0), r->output(0)},
                               {{"hidden_size", int64_t{4}},
                                {"layout", int64_t{1}},
                                {"direction", std::string("bidirectional")}});
    EXPECT_EQ(to_string(batchwise->output_shape(0)), "[5,?,2,4]");
    EXPECT_EQ(to_string(batchwise->output_shape(2)), "[5,2,4]");
    // GRU has 3 gates: 16 rows do not match 3 * 4.
    EXPECT_THROW(
        make_node("GRUSequenceONNX", {x->output(0), w->output(0), r->output(0)},
                  {{"hidden_size", int64_t{4}}, {"direction", std::string("bidirectional")}}),
        Error);
}

TEST(ControlRecurrent, RejectsBadWeights) {
    auto x = param(ElementType::f32, PartialShape{5, 1, 3});
    auto w = param(ElementType::f32, PartialShape{1, 12, 3});
    auto r = param(ElementType::f32, PartialShape{1, 12, 4});
    // LSTM needs 4 * hidden_size = 16 rows.
    EXPECT_THROW(make_node("LSTMSequenceONNX", {x->output(0), w->output(0), r->output(0)},
                           {{"hidden_size", int64_t{4}}}),
                 Error);
    auto xi = param(ElementType::i32, PartialShape{5, 1, 3});
    EXPECT_THROW(make_node("RNNSequenceONNX", {xi->output(0), w->output(0), r->output(0)},
                           {{"hidden_size", int64_t{12}}}),
                 Error);
}

TEST(ControlRecurrent, SimpleRnnValues) {
    // h1 = relu(2 * 1) = 2, h2 = relu(2 * 2 + 1 * 2) = 6; reverse: h1 = 4, h2 = relu(2 + 4) = 6.
    auto x = param(ElementType::f32, PartialShape{2, 1, 1});
    auto w = make_constant(Tensor::from_vector(std::vector<float>{2}, {1, 1, 1}));
    auto r = make_constant(Tensor::from_vector(std::vector<float>{1}, {1, 1, 1}));
    for (const char* dir : {"forward", "reverse"}) {
        auto n = make_node("RNNSequenceONNX", {x->output(0), w->output(0), r->output(0)},
                           {{"hidden_size", int64_t{1}},
                            {"direction", std::string(dir)},
                            {"activations", std::vector<std::string>{"Relu"}}});
        Model m(n->outputs(), {x});
        auto out = evaluate_model(m, {Tensor::from_vector(std::vector<float>{1, 2}, {2, 1, 1})});
        ASSERT_EQ(out.size(), 2u);
        EXPECT_EQ(out[0].shape(), (Shape{2, 1, 1, 1}));
        if (std::string(dir) == "forward") {
            EXPECT_EQ(floats(out[0]), (std::vector<float>{2, 6}));
        } else {
            EXPECT_EQ(floats(out[0]), (std::vector<float>{6, 4}));
        }
        EXPECT_EQ(floats(out[1]), (std::vector<float>{6}));
    }
}

TEST(ControlNms, SelectsByScoreAndOverlap) {
    // Boxes 0 and 1 overlap heavily (IoU 0.81); box 2 is apart.
    auto boxes = make_constant(Tensor::from_vector(
        std::vector<float>{0, 0, 1, 1, 0, 0.1f, 1, 1.1f, 0, 2, 1, 3}, {1, 3, 4}));
    auto scores = param(ElementType::f32, PartialShape{1, 1, 3});
    auto max_out = make_constant(Tensor::scalar(int64_t{3}));
    auto iou = make_constant(Tensor::scalar(0.5f));
    auto n = make_node("NonMaxSuppression",
                       {boxes->output(0), scores->output(0), max_out->output(0), iou->output(0)},
                       {{"sort_result_descending", false}});
    EXPECT_EQ(to_string(n->output_shape(0)), "[?,3]");
    Model m({n->output(0)}, {scores});
    auto out =
        evaluate_model(m, {Tensor::from_vector(std::vector<float>{0.7f, 0.9f, 0.8f}, {1, 1, 3})});
    EXPECT_EQ(out[0].shape(), (Shape{2, 3}));
    EXPECT_EQ(out[0].to_int_vector(), (std::vector<int64_t>{0, 0, 1, 0, 0, 2}));
    auto bad = param(ElementType::f32, PartialShape{1, 3, 5});
    EXPECT_THROW(make_node("NonMaxSuppression", {bad->output(0), scores->output(0)}), Error);
}

TEST(ControlIf, ShapeInferenceAndBranches) {
    auto cond = param(ElementType::boolean, PartialShape{});
    auto x = param(ElementType::f32, PartialShape{2});
    auto n = make_if(cond->output(0), x->output(0));
    EXPECT_EQ(n->output_type(0), ElementType::f32);
    EXPECT_EQ(to_string(n->output_shape(0)), "[2]");
    Model m(n->outputs(), {cond, x});
    auto xv = Tensor::from_vector(std::vector<float>{3, 4});
    EXPECT_EQ(floats(evaluate_model(m, {Tensor::scalar(true), xv})[0]), (std::vector<float>{3, 4}));
    EXPECT_EQ(floats(evaluate_model(m, {Tensor::scalar(false), xv})[0]),
              (std::vector<float>{-1, -1}));
}

TEST(ControlIf, RejectsNonBooleanCondition) {
    auto cond = param(ElementType::f32, PartialShape{});
    auto x = param(ElementType::f32, PartialShape{2});
    EXPECT_THROW(make_if(cond->output(0), x->output(0)), Error);
    auto cond2 = param(ElementType::boolean, PartialShape{});
    auto n = make_if(cond2->output(0), x->output(0));
    n->attrs().set("then_inputs", std::vector<int64_t>{5});
    EXPECT_THROW(n->infer(), Error);
}

TEST(ControlLoop, DoublesAndCollects) {
    // Body: acc_out = acc + acc; outputs the final acc and every acc_out stacked.
    auto iter = param(ElementType::i64, PartialShape{});
    auto cond_in = param(ElementType::boolean, PartialShape{});
    auto acc = param(ElementType::f32, PartialShape{1});
    auto sum = make_op("Add", {acc->output(0), acc->output(0)});
    auto body =
        std::make_shared<Model>(OutputVector{cond_in->output(0), sum},
                                std::vector<std::shared_ptr<Node>>{iter, cond_in, acc}, "body");
    auto trip = param(ElementType::i64, PartialShape{});
    auto cond = make_constant(Tensor::scalar(true));
    auto init = make_constant(Tensor::from_vector(std::vector<float>{1}, {1}));
    Attributes attrs{{"body_inputs", std::vector<int64_t>{-1, 1, 2}},
                     {"body_back_edges", std::vector<int64_t>{-1, 0, 1}},
                     {"body_condition_output_idx", int64_t{0}},
                     {"output_body_results", std::vector<int64_t>{1, 1}},
                     {"output_concat", std::vector<int64_t>{0, 1}},
                     {"output_axes", std::vector<int64_t>{0, 0}}};
    auto n = make_node("Loop", {trip->output(0), cond->output(0), init->output(0)}, attrs, {body});
    EXPECT_EQ(to_string(n->output_shape(0)), "[1]");
    EXPECT_EQ(to_string(n->output_shape(1)), "[?]");
    Model m(n->outputs(), {trip});
    auto out = evaluate_model(m, {Tensor::scalar(int64_t{3})});
    EXPECT_EQ(floats(out[0]), (std::vector<float>{8}));
    EXPECT_EQ(floats(out[1]), (std::vector<float>{2, 4, 8}));
    out = evaluate_model(m, {Tensor::scalar(int64_t{0})});
    EXPECT_EQ(floats(out[0]), (std::vector<float>{1}));
    EXPECT_EQ(out[1].shape(), (Shape{0}));

    auto bad_cond = make_constant(Tensor::scalar(1.0f));
    EXPECT_THROW(
        make_node("Loop", {trip->output(0), bad_cond->output(0), init->output(0)}, attrs, {body}),
        Error);
}

TEST(ControlScan, RunningSumBothDirections) {
    auto s = param(ElementType::f32, PartialShape{2});
    auto xi = param(ElementType::f32, PartialShape{2});
    auto sum = make_op("Add", {s->output(0), xi->output(0)});
    auto body = std::make_shared<Model>(OutputVector{sum, sum},
                                        std::vector<std::shared_ptr<Node>>{s, xi}, "body");
    auto init = make_constant(Tensor::from_vector(std::vector<float>{0, 0}));
    auto x = param(ElementType::f32, PartialShape{3, 2});
    auto n = make_node(
        "Scan", {init->output(0), x->output(0)},
        {{"num_scan_inputs", int64_t{1}}, {"scan_input_directions", std::vector<int64_t>{1}}},
        {body});
    EXPECT_EQ(to_string(n->output_shape(1)), "[3,2]");
    Model m(n->outputs(), {x});
    auto out =
        evaluate_model(m, {Tensor::from_vector(std::vector<float>{1, 2, 3, 4, 5, 6}, {3, 2})});
    EXPECT_EQ(floats(out[0]), (std::vector<float>{9, 12}));
    EXPECT_EQ(floats(out[1]), (std::vector<float>{5, 6, 8, 10, 9, 12}));
}

namespace {

std::vector<float> ramp(size_t n, float scale) {
    std::vector<float> v(n);
    for (size_t i = 0; i < n; ++i) v[i] = scale * static_cast<float>((i * 7) % 11) - 0.4f;
    return v;
}

// Gate blocks of each direction picked in `order`.
std::vector<float> pick_gates(const std::vector<float>& v, int64_t dirs, int64_t gates,
                              int64_t block, const std::vector<int64_t>& order) {
    std::vector<float> out;
    for (int64_t d = 0; d < dirs; ++d)
        for (int64_t g : order)
            out.insert(out.end(), v.begin() + (d * gates + g) * block,
                       v.begin() + (d * gates + g + 1) * block);
    return out;
}

Output cst(const std::vector<float>& v, Shape s) {
    return make_constant(Tensor::from_vector(v, std::move(s)))->output(0);
}

}  // namespace

TEST(ControlRecurrent, OpenVinoLstmMatchesOnnxForm) {
    const int64_t S = 3, B = 2, I = 3, H = 2, D = 2, G = 4;
    auto x = ramp(S * B * I, 0.1f), w = ramp(D * G * H * I, 0.05f), r = ramp(D * G * H * H, 0.07f);
    auto wb = ramp(D * 2 * G * H, 0.03f), h0 = ramp(D * B * H, 0.09f), c0 = ramp(D * B * H, 0.02f);
    // ONNX form, batch-major (layout 1), sequence lengths {3, 2}.
    Attributes onnx_attrs{
        {"hidden_size", H}, {"direction", std::string("bidirectional")}, {"layout", int64_t{1}}};
    auto lens = make_constant(Tensor::from_vector(std::vector<int32_t>{3, 2}))->output(0);
    // layout 1 initial states are [B, dirs, H]; reuse the same values for both forms.
    auto onnx = make_node("LSTMSequenceONNX",
                          {cst(x, {B, S, I}), cst(w, {D, G * H, I}), cst(r, {D, G * H, H}),
                           cst(wb, {D, 2 * G * H}), lens, cst(h0, {B, D, H}), cst(c0, {B, D, H})},
                          onnx_attrs);
    // OpenVINO form: gates f, i, c, o and the two biases summed.
    std::vector<float> fused(static_cast<size_t>(D * G * H));
    for (int64_t d = 0; d < D; ++d)
        for (int64_t k = 0; k < G * H; ++k)
            fused[d * G * H + k] = wb[d * 2 * G * H + k] + wb[d * 2 * G * H + G * H + k];
    const std::vector<int64_t> fico{2, 0, 3, 1};
    auto ov = make_node("LSTMSequence",
                        {cst(x, {B, S, I}), cst(h0, {B, D, H}), cst(c0, {B, D, H}), lens,
                         cst(pick_gates(w, D, G, H * I, fico), {D, G * H, I}),
                         cst(pick_gates(r, D, G, H * H, fico), {D, G * H, H}),
                         cst(pick_gates(fused, D, G, H, fico), {D, G * H})},
                        {{"hidden_size", H}, {"direction", std::string("bidirectional")}});
    EXPECT_EQ(to_string(ov->output_shape(0)), "[2,2,3,2]");
    Model m(OutputVector{onnx->output(0), onnx->output(1), onnx->output(2), ov->output(0),
                         ov->output(1), ov->output(2)},
            {});
    auto out = evaluate_model(m, {});
    auto y_onnx = floats(out[0]), y_ov = floats(out[3]);  // [B, S, D, H] vs [B, D, S, H]
    for (int64_t b = 0; b < B; ++b)
        for (int64_t s = 0; s < S; ++s)
            for (int64_t d = 0; d < D; ++d)
                for (int64_t k = 0; k < H; ++k)
                    EXPECT_NEAR(y_onnx[((b * S + s) * D + d) * H + k],
                                y_ov[((b * D + d) * S + s) * H + k], 1e-6);
    for (size_t o = 1; o < 3; ++o) {
        auto a = floats(out[o]), b = floats(out[o + 3]);
        ASSERT_EQ(a.size(), b.size());
        for (size_t i = 0; i < a.size(); ++i) EXPECT_NEAR(a[i], b[i], 1e-6);
    }
    // The shorter sequence leaves zeros past its end.
    EXPECT_EQ(y_ov[((1 * D + 0) * S + 2) * H], 0.f);
}

TEST(ControlRecurrent, OpenVinoGruLinearBeforeReset) {
    const int64_t S = 2, B = 1, I = 2, H = 2, G = 3;
    auto x = ramp(S * B * I, 0.2f), w = ramp(G * H * I, 0.05f), r = ramp(G * H * H, 0.07f);
    auto wb = ramp(2 * G * H, 0.03f);
    auto onnx = make_node(
        "GRUSequenceONNX",
        {cst(x, {S, B, I}), cst(w, {1, G * H, I}), cst(r, {1, G * H, H}), cst(wb, {1, 2 * G * H})},
        {{"hidden_size", H}, {"linear_before_reset", int64_t{1}}});
    std::vector<float> ob;  // [Wbz+Rbz, Wbr+Rbr, Wbh, Rbh]
    for (int64_t k = 0; k < 2 * H; ++k) ob.push_back(wb[k] + wb[G * H + k]);
    for (int64_t k = 0; k < H; ++k) ob.push_back(wb[2 * H + k]);
    for (int64_t k = 0; k < H; ++k) ob.push_back(wb[G * H + 2 * H + k]);
    auto lens = make_constant(Tensor::from_vector(std::vector<int64_t>{S}, {1}))->output(0);
    auto ov = make_node(
        "GRUSequence",
        {cst(x, {B, S, I}), cst(std::vector<float>(H, 0.f), {B, 1, H}), lens, cst(w, {1, G * H, I}),
         cst(r, {1, G * H, H}), cst(ob, {1, 4 * H})},
        {{"hidden_size", H}, {"direction", std::string("forward")}, {"linear_before_reset", true}});
    Model m(OutputVector{onnx->output(1), ov->output(1)}, {});
    auto out = evaluate_model(m, {});
    auto a = floats(out[0]), b = floats(out[1]);
    ASSERT_EQ(a.size(), b.size());
    for (size_t i = 0; i < a.size(); ++i) EXPECT_NEAR(a[i], b[i], 1e-6);
    EXPECT_THROW(make_node("GRUSequence",
                           {cst(x, {B, S, I}), cst(std::vector<float>(H, 0.f), {B, 1, H}), lens,
                            cst(w, {1, G * H, I}), cst(r, {1, G * H, H}), cst(ob, {1, 4 * H})},
                           {{"hidden_size", H}, {"direction", std::string("forward")}}),
                 Error);
}

TEST(ControlScan, BatchedFormScansEachItem) {
    auto s = param(ElementType::f32, PartialShape{1});
    auto xi = param(ElementType::f32, PartialShape{1});
    auto sum = make_op("Add", {s->output(0), xi->output(0)});
    auto body = std::make_shared<Model>(OutputVector{sum, sum},
                                        std::vector<std::shared_ptr<Node>>{s, xi}, "body");
    auto init = param(ElementType::f32, PartialShape{2, 1});
    auto x = param(ElementType::f32, PartialShape{2, 3, 1});
    auto n = make_node("Scan", {init->output(0), x->output(0)},
                       {{"num_scan_inputs", int64_t{1}}, {"batched", int64_t{1}}}, {body});
    EXPECT_EQ(to_string(n->output_shape(0)), "[2,1]");
    EXPECT_EQ(to_string(n->output_shape(1)), "[2,3,1]");
    Model m(n->outputs(), {init, x});
    auto out =
        evaluate_model(m, {Tensor::from_vector(std::vector<float>{0, 10}, {2, 1}),
                           Tensor::from_vector(std::vector<float>{1, 2, 3, 4, 5, 6}, {2, 3, 1})});
    EXPECT_EQ(floats(out[0]), (std::vector<float>{6, 25}));
    EXPECT_EQ(floats(out[1]), (std::vector<float>{1, 3, 6, 14, 19, 25}));
}

TEST(ControlRecurrent, OpenVinoLstmCellMatchesSequence) {
    const int64_t B = 2, I = 3, H = 2, G = 4;
    auto x = ramp(B * I, 0.1f), w = ramp(G * H * I, 0.05f), r = ramp(G * H * H, 0.07f);
    auto bias = ramp(G * H, 0.03f), h0 = ramp(B * H, 0.09f), c0 = ramp(B * H, 0.02f);
    auto cell = make_node("LSTMCell",
                          {cst(x, {B, I}), cst(h0, {B, H}), cst(c0, {B, H}), cst(w, {G * H, I}),
                           cst(r, {G * H, H}), cst(bias, {G * H})},
                          {{"hidden_size", H}});
    EXPECT_EQ(to_string(cell->output_shape(1)), "[2,2]");
    auto lens = make_constant(Tensor::from_vector(std::vector<int64_t>{1, 1}))->output(0);
    auto seq = make_node("LSTMSequence",
                         {cst(x, {B, 1, I}), cst(h0, {B, 1, H}), cst(c0, {B, 1, H}), lens,
                          cst(w, {1, G * H, I}), cst(r, {1, G * H, H}), cst(bias, {1, G * H})},
                         {{"hidden_size", H}, {"direction", std::string("forward")}});
    Model m(OutputVector{cell->output(0), cell->output(1), seq->output(1), seq->output(2)}, {});
    auto out = evaluate_model(m, {});
    EXPECT_EQ(floats(out[0]), floats(out[2]));
    EXPECT_EQ(floats(out[1]), floats(out[3]));
    EXPECT_THROW(make_node("LSTMCell",
                           {cst(x, {B, I}), cst(h0, {B, H}), cst(c0, {B, H}), cst(w, {G * H, I}),
                            cst(r, {G * H, H}), cst(bias, {G * H})},
                           {{"hidden_size", int64_t{3}}}),
                 Error);
}

TEST(ControlIf, RoundTripsThroughIr) {
    auto cond = param(ElementType::boolean, PartialShape{}, "cond");
    auto x = param(ElementType::f32, PartialShape{2}, "x");
    auto n = make_if(cond->output(0), x->output(0));
    Model m(n->outputs(), {cond, x});
    const auto dir =
        std::filesystem::temp_directory_path() / ("kiln_control_ir_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    const std::string xml = (dir / "if.xml").string();
    save_model(m, xml);
    auto back = read_ir(xml);
    std::filesystem::remove_all(dir);
    auto xv = Tensor::from_vector(std::vector<float>{3, 4});
    EXPECT_EQ(floats(evaluate_model(*back, {Tensor::scalar(true), xv})[0]),
              (std::vector<float>{3, 4}));
    EXPECT_EQ(floats(evaluate_model(*back, {Tensor::scalar(false), xv})[0]),
              (std::vector<float>{-1, -1}));
}

TEST(ControlTensorIterator, SlicesBackwardsAndConcatenates) {
    auto acc = param(ElementType::f32, PartialShape{1, 2});
    auto row = param(ElementType::f32, PartialShape{1, 2});
    auto sum = make_op("Add", {acc->output(0), row->output(0)});
    auto body = std::make_shared<Model>(OutputVector{sum},
                                        std::vector<std::shared_ptr<Node>>{acc, row}, "body");
    auto init = make_constant(Tensor::from_vector(std::vector<float>{0, 0}, {1, 2}));
    auto x = param(ElementType::f32, PartialShape{3, 2});
    Attributes attrs{{"body_inputs", std::vector<int64_t>{0, 1}},
                     {"body_back_edges", std::vector<int64_t>{0, -1}},
                     {"input_part_sizes", std::vector<int64_t>{0, 1}},
                     {"input_axes", std::vector<int64_t>{0, 0}},
                     {"input_strides", std::vector<int64_t>{1, -1}},
                     {"output_body_results", std::vector<int64_t>{0, 0}},
                     {"output_concat", std::vector<int64_t>{0, 1}},
                     {"output_axes", std::vector<int64_t>{0, 0}}};
    auto n = make_node("TensorIterator", {init->output(0), x->output(0)}, attrs, {body});
    EXPECT_EQ(to_string(n->output_shape(1)), "[?,2]");
    Model m(n->outputs(), {x});
    auto out =
        evaluate_model(m, {Tensor::from_vector(std::vector<float>{1, 2, 3, 4, 5, 6}, {3, 2})});
    EXPECT_EQ(floats(out[0]), (std::vector<float>{9, 12}));
    EXPECT_EQ(floats(out[1]), (std::vector<float>{5, 6, 8, 10, 9, 12}));
    attrs.set("body_inputs", std::vector<int64_t>{0, 7});
    EXPECT_THROW(make_node("TensorIterator", {init->output(0), x->output(0)}, attrs, {body}),
                 Error);
}
