// OpenVINO opset5 RNNSequence, GRUSequence and LSTMSequence (batch-major, fused biases).
//   LSTMSequence inputs X [B, S, I], H0 [B, dirs, H], C0 [B, dirs, H], seq_lengths [B],
//                W [dirs, 4H, I], R [dirs, 4H, H], B [dirs, 4H]; gate order f, i, c, o.
//   GRUSequence  inputs X, H0, seq_lengths, W [dirs, 3H, I], R, B [dirs, 3H] (4H with
//                linear_before_reset: the recurrent bias of the candidate gate comes last);
//                gate order z, r, h.
//   RNNSequence  inputs X, H0, seq_lengths, W [dirs, H, I], R [dirs, H, H], B [dirs, H].
//   outputs Y [B, dirs, S, H], Ho [B, dirs, H] (, Co [B, dirs, H]).
//   attributes hidden_size, direction, activations, activations_alpha, activations_beta, clip,
//   linear_before_reset (GRU).
// The single-step cells LSTMCell (opset4), GRUCell (opset3) and RNNCell (opset1) take
// X [B, I], H [B, H] (, C [B, H]), W, R, B without the direction axis and return Ho (, Co).
// The inputs are rearranged into the ONNX form and run by the shared engine.
#include "core/dispatch.hpp"
#include "ops/control/rnn_engine.hpp"

namespace kiln {
namespace {

// Input i must be compatible with `expected` (dynamic dimensions match anything).
void expect_input_shape(const ShapeContext& ctx, size_t i, const char* what,
                        const PartialShape& expected) {
    const PartialShape& s = ctx.input_shape(i);
    ctx.check(s.compatible(expected), what, " has shape ", to_string(s), ", expected ",
              to_string(expected));
}

using namespace rnn;

template <Cell C>
struct Ports {
    static constexpr size_t x = 0, h0 = 1, c0 = 2;
    static constexpr size_t lens = C == Cell::lstm ? 3 : 2;
    static constexpr size_t w = lens + 1, r = lens + 2, b = lens + 3, count = lens + 4;
};

template <Cell C>
int64_t bias_rows(const Attributes& a, int64_t hidden) {
    const bool lbr = C == Cell::gru && a.get_bool("linear_before_reset", false);
    return (gate_count(C) + (lbr ? 1 : 0)) * hidden;
}

template <Cell C>
void infer_ov_seq(ShapeContext& ctx) {
    using P = Ports<C>;
    ctx.expect_inputs(P::count);
    const ElementType et = ctx.input_type(P::x);
    ctx.check(et == ElementType::dynamic || is_float(et), "X must be floating point, got ",
              to_string(et));
    const int64_t H = ctx.attrs().get_int("hidden_size");
    ctx.check(H > 0, "hidden_size must be positive");
    const int64_t dirs = direction_count(ctx.attrs(), ctx.node().context());
    const int64_t G = gate_count(C);
    auto expect = [&](size_t i, const char* what, std::vector<Dimension> dims) {
        expect_input_shape(ctx, i, what, PartialShape(std::move(dims)));
    };
    const auto& xs = ctx.input_shape(P::x);
    ctx.check(!xs.rank_is_static() || xs.rank() == 3, "X must be 3-D, got ", to_string(xs));
    Dimension batch, seq, in;
    if (xs.rank_is_static()) batch = xs[0], seq = xs[1], in = xs[2];
    expect(P::h0, "initial_hidden_state", {batch, dirs, H});
    if (C == Cell::lstm) expect(P::c0, "initial_cell_state", {batch, dirs, H});
    expect(P::lens, "sequence_lengths", {batch});
    expect(P::w, "W", {dirs, G * H, in});
    expect(P::r, "R", {dirs, G * H, H});
    expect(P::b, "B", {dirs, bias_rows<C>(ctx.attrs(), H)});
    ctx.set_output(0, et, PartialShape{batch, dirs, seq, H});
    ctx.set_output(1, et, PartialShape{batch, dirs, H});
    if (C == Cell::lstm) ctx.set_output(2, et, PartialShape{batch, dirs, H});
}

// Reorders the gate blocks of each direction from OpenVINO order to ONNX order.
std::vector<double> to_onnx_gates(const std::vector<double>& v, int64_t dirs, int64_t gates,
                                  int64_t block, const std::vector<int64_t>& from) {
    std::vector<double> out(v.size());
    for (int64_t d = 0; d < dirs; ++d)
        for (int64_t g = 0; g < gates; ++g)
            std::copy_n(&v[static_cast<size_t>((d * gates + from[static_cast<size_t>(g)]) * block)],
                        block, &out[static_cast<size_t>((d * gates + g) * block)]);
    return out;
}

template <Cell C>
void eval_ov_seq(const Node& n, const TensorVector& in, TensorVector& out, ExecContext&) {
    using P = Ports<C>;
    allocate_outputs(n, in, out);
    const Shape& xs = in[P::x].shape();
    RnnProblem p;
    p.H = n.attrs().get_int("hidden_size");
    p.dirs = direction_count(n.attrs(), n.context());
    p.reverse_only = n.attrs().get_string("direction") == "reverse";
    p.layout = 1;
    p.B = xs[0], p.S = xs[1], p.I = xs[2];
    p.clip = n.attrs().get_float("clip", 0.0);
    p.lbr = C == Cell::gru && n.attrs().get_bool("linear_before_reset", false);
    p.act = activations(n, C, p.dirs, "activations_alpha", "activations_beta");
    const int64_t G = gate_count(C), H = p.H, dirs = p.dirs;
    // ONNX gate g comes from OpenVINO gate from[g]: LSTM iofc <- fico.
    std::vector<int64_t> from(static_cast<size_t>(G));
    for (int64_t g = 0; g < G; ++g) from[static_cast<size_t>(g)] = g;
    if (C == Cell::lstm) from = {1, 3, 0, 2};
    p.X = in[P::x].to_double_vector();
    p.W = to_onnx_gates(in[P::w].to_double_vector(), dirs, G, H * p.I, from);
    p.R = to_onnx_gates(in[P::r].to_double_vector(), dirs, G, H * H, from);
    p.h0 = in[P::h0].to_double_vector();
    if (C == Cell::lstm) p.c0 = in[P::c0].to_double_vector();
    // Fused bias -> input bias; the GRU candidate's separate recurrent bias -> recurrent bias.
    const auto b = in[P::b].to_double_vector();
    const int64_t rows = bias_rows<C>(n.attrs(), H);
    p.bias.assign(static_cast<size_t>(dirs * 2 * G * H), 0.0);
    for (int64_t d = 0; d < dirs; ++d) {
        for (int64_t g = 0; g < G; ++g)
            std::copy_n(&b[static_cast<size_t>(d * rows + from[static_cast<size_t>(g)] * H)], H,
                        &p.bias[static_cast<size_t>(d * 2 * G * H + g * H)]);
        if (p.lbr)
            std::copy_n(&b[static_cast<size_t>(d * rows + G * H)], H,
                        &p.bias[static_cast<size_t>(d * 2 * G * H + G * H + 2 * H)]);
    }
    p.lens = in[P::lens].to_int_vector();
    for (int64_t l : p.lens)
        KILN_CHECK(l >= 0 && l <= p.S, n.context(), " sequence length ", l, " is outside [0, ", p.S,
                   "]");
    const RnnResult res = run_rnn<C>(p);
    dispatch_float(n.output_type(0), [&](auto tag) {
        using T = KILN_TYPE_OF(tag);
        T* y = out[0].data<T>();
        for (int64_t t = 0; t < p.S; ++t)
            for (int64_t d = 0; d < dirs; ++d)
                for (int64_t bi = 0; bi < p.B; ++bi)
                    for (int64_t k = 0; k < H; ++k)
                        y[((bi * dirs + d) * p.S + t) * H + k] = static_cast<T>(
                            res.Y[static_cast<size_t>(((t * dirs + d) * p.B + bi) * H + k)]);
        for (size_t i = 0; i < res.Yh.size(); ++i) out[1].data<T>()[i] = static_cast<T>(res.Yh[i]);
        if (C == Cell::lstm)
            for (size_t i = 0; i < res.Yc.size(); ++i)
                out[2].data<T>()[i] = static_cast<T>(res.Yc[i]);
    });
}

template <Cell C>
struct CellPorts {
    static constexpr size_t x = 0, h = 1, c = 2;
    static constexpr size_t w = C == Cell::lstm ? 3 : 2, r = w + 1, b = w + 2, count = w + 3;
};

template <Cell C>
void infer_ov_cell(ShapeContext& ctx) {
    using P = CellPorts<C>;
    ctx.expect_inputs(P::count);
    const ElementType et = ctx.input_type(P::x);
    ctx.check(et == ElementType::dynamic || is_float(et), "X must be floating point, got ",
              to_string(et));
    const int64_t H = ctx.attrs().get_int("hidden_size");
    ctx.check(H > 0, "hidden_size must be positive");
    const int64_t G = gate_count(C);
    auto expect = [&](size_t i, const char* what, std::vector<Dimension> dims) {
        expect_input_shape(ctx, i, what, PartialShape(std::move(dims)));
    };
    const auto& xs = ctx.input_shape(P::x);
    ctx.check(!xs.rank_is_static() || xs.rank() == 2, "X must be 2-D, got ", to_string(xs));
    Dimension batch, in;
    if (xs.rank_is_static()) batch = xs[0], in = xs[1];
    expect(P::h, "initial_hidden_state", {batch, H});
    if (C == Cell::lstm) expect(P::c, "initial_cell_state", {batch, H});
    expect(P::w, "W", {G * H, in});
    expect(P::r, "R", {G * H, H});
    expect(P::b, "B", {bias_rows<C>(ctx.attrs(), H)});
    ctx.set_output(0, et, PartialShape{batch, H});
    if (C == Cell::lstm) ctx.set_output(1, et, PartialShape{batch, H});
}

template <Cell C>
void eval_ov_cell(const Node& n, const TensorVector& in, TensorVector& out, ExecContext&) {
    using P = CellPorts<C>;
    allocate_outputs(n, in, out);
    // A cell is a forward sequence of length 1 in batch-major layout.
    RnnProblem p;
    p.H = n.attrs().get_int("hidden_size");
    p.layout = 1;
    p.B = in[P::x].shape()[0], p.S = 1, p.I = in[P::x].shape()[1];
    p.clip = n.attrs().get_float("clip", 0.0);
    p.lbr = C == Cell::gru && n.attrs().get_bool("linear_before_reset", false);
    p.act = activations(n, C, 1, "activations_alpha", "activations_beta");
    const int64_t G = gate_count(C), H = p.H;
    std::vector<int64_t> from(static_cast<size_t>(G));
    for (int64_t g = 0; g < G; ++g) from[static_cast<size_t>(g)] = g;
    if (C == Cell::lstm) from = {1, 3, 0, 2};
    p.X = in[P::x].to_double_vector();
    p.W = to_onnx_gates(in[P::w].to_double_vector(), 1, G, H * p.I, from);
    p.R = to_onnx_gates(in[P::r].to_double_vector(), 1, G, H * H, from);
    p.h0 = in[P::h].to_double_vector();
    if (C == Cell::lstm) p.c0 = in[P::c].to_double_vector();
    const auto b = in[P::b].to_double_vector();
    p.bias.assign(static_cast<size_t>(2 * G * H), 0.0);
    for (int64_t g = 0; g < G; ++g)
        std::copy_n(&b[static_cast<size_t>(from[static_cast<size_t>(g)] * H)], H,
                    &p.bias[static_cast<size_t>(g * H)]);
    if (p.lbr)
        std::copy_n(&b[static_cast<size_t>(G * H)], H, &p.bias[static_cast<size_t>(G * H + 2 * H)]);
    p.lens.assign(static_cast<size_t>(p.B), 1);
    const RnnResult res = run_rnn<C>(p);
    dispatch_float(n.output_type(0), [&](auto tag) {
        using T = KILN_TYPE_OF(tag);
        for (size_t i = 0; i < res.Yh.size(); ++i) out[0].data<T>()[i] = static_cast<T>(res.Yh[i]);
        if (C == Cell::lstm)
            for (size_t i = 0; i < res.Yc.size(); ++i)
                out[1].data<T>()[i] = static_cast<T>(res.Yc[i]);
    });
}

}  // namespace

void register_rnn_openvino_ops(OpRegistry& r) {
    r.add({"RNNSequence", "opset5", infer_ov_seq<Cell::rnn>, eval_ov_seq<Cell::rnn>});
    r.add({"GRUSequence", "opset5", infer_ov_seq<Cell::gru>, eval_ov_seq<Cell::gru>});
    r.add({"LSTMSequence", "opset5", infer_ov_seq<Cell::lstm>, eval_ov_seq<Cell::lstm>});
    r.add({"RNNCell", "opset1", infer_ov_cell<Cell::rnn>, eval_ov_cell<Cell::rnn>});
    r.add({"GRUCell", "opset3", infer_ov_cell<Cell::gru>, eval_ov_cell<Cell::gru>});
    r.add({"LSTMCell", "opset4", infer_ov_cell<Cell::lstm>, eval_ov_cell<Cell::lstm>});
}

}  // namespace kiln
