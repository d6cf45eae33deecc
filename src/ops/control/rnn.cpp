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

namespace kiln {
namespace {

enum class Cell { rnn, gru, lstm };

int64_t gate_count(Cell c) { return c == Cell::rnn ? 1 : c == Cell::gru ? 3 : 4; }

struct Activation {
    std::string name;
    double alpha = 0, beta = 0;

    double operator()(double x) const {
        if (name == "sigmoid") return 1.0 / (1.0 + std::exp(-x));
        if (name == "tanh") return std::tanh(x);
        if (name == "relu") return x > 0 ? x : 0.0;
        if (name == "affine") return alpha * x + beta;
        if (name == "leakyrelu") return x >= 0 ? x : alpha * x;
        if (name == "thresholdedrelu") return x > alpha ? x : 0.0;
        if (name == "scaledtanh") return alpha * std::tanh(beta * x);
        if (name == "hardsigmoid") return std::max(0.0, std::min(1.0, alpha * x + beta));
        if (name == "elu") return x >= 0 ? x : alpha * (std::exp(x) - 1.0);
        if (name == "softsign") return x / (1.0 + std::fabs(x));
        if (name == "softplus") return std::log1p(std::exp(-std::fabs(x))) + std::max(x, 0.0);
        return x;
    }
};

std::string lower(std::string s) {
    for (auto& ch : s) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    return s;
}

// Resolves the activation list: defaults per cell, alpha/beta consumed in order by the
// functions that take them, ONNX defaults otherwise.
std::vector<Activation> activations(const Node& n, Cell cell, int64_t dirs) {
    auto names = n.attrs().has("activations") ? n.attrs().get_strings("activations")
                                               : std::vector<std::string>{};
    std::vector<std::string> dflt;
    if (cell == Cell::rnn) dflt = {"Tanh"};
    if (cell == Cell::gru) dflt = {"Sigmoid", "Tanh"};
    if (cell == Cell::lstm) dflt = {"Sigmoid", "Tanh", "Tanh"};
    const size_t per_dir = dflt.size();
    if (names.empty()) names = dflt;
    if (names.size() == per_dir && dirs == 2) {
        auto copy = names;
        names.insert(names.end(), copy.begin(), copy.end());
    }
    KILN_CHECK(names.size() == per_dir * static_cast<size_t>(dirs), n.context(), " expects ",
               per_dir * dirs, " activations, got ", names.size());
    auto alphas = n.attrs().get_floats("activation_alpha", {});
    auto betas = n.attrs().get_floats("activation_beta", {});
    size_t ai = 0, bi = 0;
    std::vector<Activation> out;
    for (const auto& raw : names) {
        Activation a;
        a.name = lower(raw);
        static const char* known[] = {"sigmoid",    "tanh",       "relu",  "affine",
                                      "leakyrelu",  "thresholdedrelu",  "scaledtanh",
                                      "hardsigmoid", "elu",       "softsign", "softplus"};
        KILN_CHECK(std::find(std::begin(known), std::end(known), a.name) != std::end(known),
                   n.context(), " unknown activation '", raw, "'");
        double da = 1.0, db = 0.0;
        if (a.name == "leakyrelu") da = 0.01;
        if (a.name == "hardsigmoid") da = 0.2, db = 0.5;
        const bool takes_alpha = a.name == "affine" || a.name == "leakyrelu" ||
                                 a.name == "thresholdedrelu" || a.name == "scaledtanh" ||
                                 a.name == "hardsigmoid" || a.name == "elu";
        const bool takes_beta =
            a.name == "affine" || a.name == "scaledtanh" || a.name == "hardsigmoid";
        a.alpha = takes_alpha && ai < alphas.size() ? alphas[ai++] : da;
        a.beta = takes_beta && bi < betas.size() ? betas[bi++] : db;
        out.push_back(a);
    }
    return out;
}

int64_t direction_count(const Attributes& a, const std::string& context) {
    const std::string d = a.get_string("direction", "forward");
    if (d == "forward" || d == "reverse") return 1;
    if (d == "bidirectional") return 2;
    throw Error(str_cat(context, " unknown direction '", d, "'"));
}

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
        ctx.check(!ctx.input_shape(i).rank_is_static() || ctx.input_shape(i).rank() == 3,
                  "input ", i, " must be 3-D, got ", to_string(ctx.input_shape(i)));
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
        ctx.check(rs[0].compatible(dirs) && rs[1].compatible(gates * hidden) &&
                      rs[2].compatible(hidden),
                  "R shape ", to_string(rs), " must be [", dirs, ",", gates * hidden, ",", hidden,
                  "]");
    Dimension seq, batch;
    if (xs.rank_is_static()) {
        seq = layout == 0 ? xs[0] : xs[1];
        batch = layout == 0 ? xs[1] : xs[0];
    }
    PartialShape y = layout == 0 ? PartialShape{seq, dirs, batch, hidden}
                                 : PartialShape{batch, seq, dirs, hidden};
    PartialShape yh = layout == 0 ? PartialShape{dirs, batch, hidden}
                                  : PartialShape{batch, dirs, hidden};
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
            KILN_CHECK(l >= 0 && l <= S, n.context(), " sequence length ", l,
                       " is outside [0, ", S, "]");
    }
    const auto h0 = optional_input(in, 5, dirs * B * H, n, "initial_h");
    std::vector<double> c0, peep;
    if (C == Cell::lstm) {
        c0 = optional_input(in, 6, dirs * B * H, n, "initial_c");
        peep = optional_input(in, 7, dirs * 3 * H, n, "P");
    }
    const bool lbr = n.attrs().get_int("linear_before_reset", 0) != 0;
    const bool input_forget = n.attrs().get_int("input_forget", 0) != 0;

    std::vector<double> Y(static_cast<size_t>(S * dirs * B * H), 0.0);  // [S, dirs, B, H]
    std::vector<double> Yh(static_cast<size_t>(dirs * B * H)), Yc(Yh.size());
    auto clipped = [&](double v) { return clip > 0 ? std::max(-clip, std::min(clip, v)) : v; };
    // Initial states come in [dirs, B, H] (layout 0) or [B, dirs, H] (layout 1).
    auto state_index = [&](int64_t d, int64_t b) {
        return layout == 0 ? (d * B + b) * H : (b * dirs + d) * H;
    };
    std::vector<double> gx(static_cast<size_t>(G * H)), gh(gx.size());
    for (int64_t d = 0; d < dirs; ++d) {
        const bool reverse = reverse_only || d == 1;
        const Activation* f = &act[static_cast<size_t>(d) * act.size() / dirs];
        const double* w = &W[static_cast<size_t>(d * G * H * I)];
        const double* r = &R[static_cast<size_t>(d * G * H * H)];
        const double* wb = &bias[static_cast<size_t>(d * 2 * G * H)];
        const double* rb = wb + G * H;
        for (int64_t b = 0; b < B; ++b) {
            std::vector<double> h(static_cast<size_t>(H), 0.0), c(h);
            if (!h0.empty()) std::copy_n(&h0[state_index(d, b)], H, h.begin());
            if (!c0.empty()) std::copy_n(&c0[state_index(d, b)], H, c.begin());
            const int64_t len = lens[static_cast<size_t>(b)];
            for (int64_t s = 0; s < len; ++s) {
                const int64_t t = reverse ? len - 1 - s : s;
                const double* x = layout == 0 ? &X[(t * B + b) * I] : &X[(b * S + t) * I];
                // Input and recurrent contributions of every gate row, biases included.
                for (int64_t g = 0; g < G * H; ++g) {
                    double ax = wb[g], ah = rb[g];
                    for (int64_t i = 0; i < I; ++i) ax += x[i] * w[g * I + i];
                    for (int64_t j = 0; j < H; ++j) ah += h[j] * r[g * H + j];
                    gx[g] = ax;
                    gh[g] = ah;
                }
                std::vector<double> hn(static_cast<size_t>(H)), reset(hn.size());
                if constexpr (C == Cell::gru)
                    for (int64_t j = 0; j < H; ++j)
                        reset[j] = f[0](clipped(gx[H + j] + gh[H + j]));
                for (int64_t k = 0; k < H; ++k) {
                    if constexpr (C == Cell::rnn) {
                        hn[k] = f[0](clipped(gx[k] + gh[k]));
                    } else if constexpr (C == Cell::gru) {
                        const double z = f[0](clipped(gx[k] + gh[k]));
                        double hh;
                        if (lbr) {
                            hh = gx[2 * H + k] + reset[k] * gh[2 * H + k];
                        } else {
                            // The reset gate scales the state before the recurrent product.
                            hh = gx[2 * H + k] + rb[2 * H + k];
                            for (int64_t j = 0; j < H; ++j)
                                hh += reset[j] * h[j] * r[(2 * H + k) * H + j];
                        }
                        const double cand = f[1](clipped(hh));
                        hn[k] = (1 - z) * cand + z * h[k];
                    } else {
                        const double* p = peep.empty() ? nullptr : &peep[d * 3 * H];
                        const double pi = p ? p[k] : 0, po = p ? p[H + k] : 0,
                                     pf = p ? p[2 * H + k] : 0;
                        const double ig = f[0](clipped(gx[k] + gh[k] + pi * c[k]));
                        const double fg = input_forget
                                              ? 1.0 - ig
                                              : f[0](clipped(gx[2 * H + k] + gh[2 * H + k] +
                                                             pf * c[k]));
                        const double cc = f[1](clipped(gx[3 * H + k] + gh[3 * H + k]));
                        c[k] = fg * c[k] + ig * cc;
                        const double og = f[0](clipped(gx[H + k] + gh[H + k] + po * c[k]));
                        hn[k] = og * f[2](c[k]);
                    }
                }
                h = hn;
                std::copy_n(h.begin(), H, &Y[((t * dirs + d) * B + b) * H]);
            }
            std::copy_n(h.begin(), H, &Yh[state_index(d, b)]);
            std::copy_n(c.begin(), H, &Yc[state_index(d, b)]);
        }
    }
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
