#pragma once
// The recurrent-cell engine shared by the ONNX-semantics sequence ops (rnn.cpp) and the OpenVINO
// RNNSequence / GRUSequence / LSTMSequence ops (rnn_openvino.cpp).
#include <algorithm>
#include <cctype>
#include <cmath>
#include <string>
#include <vector>

#include "core/op_def.hpp"

namespace kiln::rnn {

enum class Cell { rnn, gru, lstm };

inline int64_t gate_count(Cell c) { return c == Cell::rnn ? 1 : c == Cell::gru ? 3 : 4; }

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

inline std::string lower(std::string s) {
    for (auto& ch : s) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    return s;
}

// Resolves the activation list: defaults per cell, alpha/beta consumed in order by the
// functions that take them, ONNX defaults otherwise.
inline std::vector<Activation> activations(const Node& n, Cell cell, int64_t dirs,
                                           const char* alpha_name = "activation_alpha",
                                           const char* beta_name = "activation_beta") {
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
    auto alphas = n.attrs().get_floats(alpha_name, {});
    auto betas = n.attrs().get_floats(beta_name, {});
    size_t ai = 0, bi = 0;
    std::vector<Activation> out;
    for (const auto& raw : names) {
        Activation a;
        a.name = lower(raw);
        static const char* known[] = {
            "sigmoid",    "tanh",        "relu", "affine",   "leakyrelu", "thresholdedrelu",
            "scaledtanh", "hardsigmoid", "elu",  "softsign", "softplus"};
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

inline int64_t direction_count(const Attributes& a, const std::string& context) {
    const std::string d = a.get_string("direction", "forward");
    if (d == "forward" || d == "reverse") return 1;
    if (d == "bidirectional") return 2;
    throw Error(str_cat(context, " unknown direction '", d, "'"));
}

// One recurrent problem in ONNX form: gate order (GRU zrh, LSTM iofc), separate input and
// recurrent biases, X in [S, B, I] (layout 0) or [B, S, I] (layout 1), states in [dirs, B, H]
// (layout 0) or [B, dirs, H] (layout 1). Empty h0/c0/peep mean zeros / no peepholes.
struct RnnProblem {
    int64_t S = 0, B = 0, I = 0, H = 0, dirs = 1, layout = 0;
    bool reverse_only = false, lbr = false, input_forget = false;
    double clip = 0;
    std::vector<Activation> act;
    std::vector<double> X, W, R, bias, h0, c0, peep;
    std::vector<int64_t> lens;
};

/// Y in [S, dirs, B, H] (zeros past each sequence's length); Yh and Yc in the state layout.
struct RnnResult {
    std::vector<double> Y, Yh, Yc;
};

template <Cell C>
RnnResult run_rnn(const RnnProblem& p) {
    const int64_t S = p.S, B = p.B, I = p.I, H = p.H, dirs = p.dirs, layout = p.layout;
    const int64_t G = gate_count(C);
    const bool reverse_only = p.reverse_only, lbr = p.lbr, input_forget = p.input_forget;
    const double clip = p.clip;
    const auto& act = p.act;
    const auto& X = p.X;
    const auto& W = p.W;
    const auto& R = p.R;
    const auto& bias = p.bias;
    const auto& lens = p.lens;
    const auto& h0 = p.h0;
    const auto& c0 = p.c0;
    const auto& peep = p.peep;
    RnnResult res;
    auto& Y = res.Y;
    auto& Yh = res.Yh;
    auto& Yc = res.Yc;
    Y.assign(static_cast<size_t>(S * dirs * B * H), 0.0);
    Yh.assign(static_cast<size_t>(dirs * B * H), 0.0);
    Yc.assign(Yh.size(), 0.0);
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
                    for (int64_t j = 0; j < H; ++j) reset[j] = f[0](clipped(gx[H + j] + gh[H + j]));
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
                        const double fg =
                            input_forget ? 1.0 - ig
                                         : f[0](clipped(gx[2 * H + k] + gh[2 * H + k] + pf * c[k]));
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
    return res;
}

}  // namespace kiln::rnn
