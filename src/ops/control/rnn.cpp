// Recurrent sequence ops with ONNX semantics: RNNSequenceONNX, GRUSequenceONNX, LSTMSequenceONNX.
//
// These are Kiln ops (OpenVINO's RNN/GRU/LSTMSequence use another gate order and layout). They
// follow the ONNX RNN / GRU / LSTM operators exactly:
//   inputs  X, W, R, B, sequence_lens, initial_h[, initial_c, P]   (LSTM has the last two)
//   outputs Y, Y_h[, Y_c]
//   attributes hidden_size, direction (forward|reverse|bidirectional), activations,
//   activation_alpha, activation_beta, clip (0 = none), layout (0|1), linear_before_reset (GRU),
//   input_forget (LSTM).
// Gate order is ONNX's: GRU zrh, LSTM iofc, peepholes P = [p_i, p_o, p_f]. An optional input
// that is absent is given as a tensor with zero elements (trailing ones may also be omitted).
#include <algorithm>
#include <cctype>
#include <cmath>

#include "core/dispatch.hpp"
#include "core/op_def.hpp"
#include "ops/control/rnn_engine.hpp"

namespace kiln {
namespace {

using namespace rnn;

template <Cell C>
void infer_seq(ShapeContext& ctx) {
    const size_t max_in = C == Cell::lstm ? 8 : 6;
    ctx.expect_inputs(3, max_in);
    const ElementType et = ctx.input_type(0);
    ctx.check(et == ElementType::dynamic || is_float(et), "X must be floating point, got ",
              to_string(et));
    for (size_t i = 1; i < 3; ++i)
        ctx.check(ctx.input_type(i) == et || ctx.input_type(i) == ElementType::dynamic ||
                      et == ElementType::dynamic,
                  "input ", i, " type ", to_string(ctx.input_type(i)), " differs from X type ",
                  to_string(et));
    const int64_t hidden = ctx.attrs().get_int("hidden_size");
    ctx.check(hidden > 0, "hidden_size must be positive");
    const int64_t dirs = direction_count(ctx.attrs(), ctx.node().context());
    const int64_t layout = ctx.attrs().get_int("layout", 0);
    ctx.check(layout == 0 || layout == 1, "layout must be 0 or 1");
    const int64_t gates = gate_count(C);
    const auto& xs = ctx.input_shape(0);
    for (size_t i = 0; i < 3; ++i)
        ctx.check(!ctx.input_shape(i).rank_is_static() || ctx.input_shape(i).rank() == 3, "input ",
                  i, " must be 3-D, got ", to_string(ctx.input_shape(i)));
    const auto& ws = ctx.input_shape(1);
    const auto& rs = ctx.input_shape(2);
    if (ws.rank_is_static()) {
        ctx.check(ws[0].compatible(dirs) && ws[1].compatible(gates * hidden), "W shape ",
                  to_string(ws), " does not match ", dirs, " directions x ", gates * hidden);
        if (xs.rank_is_static())
            ctx.check(ws[2].compatible(xs[2]), "W shape ", to_string(ws),
                      " does not match X shape ", to_string(xs));
    }
    if (rs.rank_is_static())
        ctx.check(
            rs[0].compatible(dirs) && rs[1].compatible(gates * hidden) && rs[2].compatible(hidden),
            "R shape ", to_string(rs), " must be [", dirs, ",", gates * hidden, ",", hidden, "]");
    Dimension seq, batch;
    if (xs.rank_is_static()) {
        seq = layout == 0 ? xs[0] : xs[1];
        batch = layout == 0 ? xs[1] : xs[0];
    }
    PartialShape y = layout == 0 ? PartialShape{seq, dirs, batch, hidden}
                                 : PartialShape{batch, seq, dirs, hidden};
    PartialShape yh =
        layout == 0 ? PartialShape{dirs, batch, hidden} : PartialShape{batch, dirs, hidden};
    ctx.set_output(0, et, y);
    ctx.set_output(1, et, yh);
    if (C == Cell::lstm) ctx.set_output(2, et, yh);
}

// An optional input: absent when not given or when it has no elements.
std::vector<double> optional_input(const TensorVector& in, size_t i, int64_t expected,
                                   const Node& n, const char* what) {
    if (i >= in.size() || in[i].size() == 0) return {};
    KILN_CHECK(in[i].size() == expected, n.context(), " ", what, " has shape ",
               to_string(in[i].shape()), ", expected ", expected, " elements");
    return in[i].to_double_vector();
}

template <Cell C>
void eval_seq(const Node& n, const TensorVector& in, TensorVector& out, ExecContext&) {
    allocate_outputs(n, in, out);
    const int64_t hidden = n.attrs().get_int("hidden_size");
    const int64_t dirs = direction_count(n.attrs(), n.context());
    const bool reverse_only = n.attrs().get_string("direction", "forward") == "reverse";
    const int64_t layout = n.attrs().get_int("layout", 0);
    const double clip = n.attrs().get_float("clip", 0.0);
    const int64_t G = gate_count(C), H = hidden;
    const Shape& xs = in[0].shape();
    const int64_t S = layout == 0 ? xs[0] : xs[1], B = layout == 0 ? xs[1] : xs[0], I = xs[2];
    const auto act = activations(n, C, dirs);
    const auto X = in[0].to_double_vector();
    const auto W = in[1].to_double_vector();
    const auto R = in[2].to_double_vector();
    auto bias = optional_input(in, 3, dirs * 2 * G * H, n, "B");
    if (bias.empty()) bias.assign(static_cast<size_t>(dirs * 2 * G * H), 0.0);
    std::vector<int64_t> lens(static_cast<size_t>(B), S);
    if (in.size() > 4 && in[4].size() > 0) {
        KILN_CHECK(in[4].size() == B, n.context(), " sequence_lens has ", in[4].size(),
                   " values for batch ", B);
        lens = in[4].to_int_vector();
        for (int64_t l : lens)
            KILN_CHECK(l >= 0 && l <= S, n.context(), " sequence length ", l, " is outside [0, ", S,
                       "]");
    }
    const auto h0 = optional_input(in, 5, dirs * B * H, n, "initial_h");
    std::vector<double> c0, peep;
    if (C == Cell::lstm) {
        c0 = optional_input(in, 6, dirs * B * H, n, "initial_c");
        peep = optional_input(in, 7, dirs * 3 * H, n, "P");
    }
    const bool lbr = n.attrs().get_int("linear_before_reset", 0) != 0;
    const bool input_forget = n.attrs().get_int("input_forget", 0) != 0;

    RnnProblem p;
    p.S = S, p.B = B, p.I = I, p.H = H, p.dirs = dirs, p.layout = layout;
    p.reverse_only = reverse_only, p.lbr = lbr, p.input_forget = input_forget, p.clip = clip;
    p.act = act;
    p.X = X, p.W = W, p.R = R, p.bias = bias, p.lens = lens, p.h0 = h0, p.c0 = c0, p.peep = peep;
    const RnnResult res = run_rnn<C>(p);
    const auto& Y = res.Y;
    const auto& Yh = res.Yh;
    const auto& Yc = res.Yc;
    dispatch_float(n.output_type(0), [&](auto tag) {
        using T = KILN_TYPE_OF(tag);
        T* y = out[0].data<T>();
        for (int64_t t = 0; t < S; ++t)
            for (int64_t d = 0; d < dirs; ++d)
                for (int64_t b = 0; b < B; ++b)
                    for (int64_t k = 0; k < H; ++k) {
                        const int64_t dst = layout == 0 ? ((t * dirs + d) * B + b) * H + k
                                                        : ((b * S + t) * dirs + d) * H + k;
                        y[dst] = static_cast<T>(Y[((t * dirs + d) * B + b) * H + k]);
                    }
        for (size_t i = 0; i < Yh.size(); ++i) out[1].data<T>()[i] = static_cast<T>(Yh[i]);
        if (C == Cell::lstm)
            for (size_t i = 0; i < Yc.size(); ++i) out[2].data<T>()[i] = static_cast<T>(Yc[i]);
    });
}

}  // namespace

void register_rnn_ops(OpRegistry& r) {
    r.add({"RNNSequenceONNX", "kiln1", infer_seq<Cell::rnn>, eval_seq<Cell::rnn>});
    r.add({"GRUSequenceONNX", "kiln1", infer_seq<Cell::gru>, eval_seq<Cell::gru>});
    r.add({"LSTMSequenceONNX", "kiln1", infer_seq<Cell::lstm>, eval_seq<Cell::lstm>});
}

}  // namespace kiln
