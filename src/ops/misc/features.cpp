// Feature-extraction Kiln ops with ONNX semantics and attribute names (OpenVINO has no
// equivalents): StringNormalizer (stop-word removal and case change of a [C] or [1, C] string
// tensor), TfIdfVectorizer (n-gram counts over a pool, TF/IDF/TFIDF weighting) and
// MelWeightMatrix (triangular mel filter bank, [dft_length/2+1, num_mel_bins]), and the window
// generators HannWindow / HammingWindow / BlackmanWindow (scalar size -> [size], attributes
// periodic and output_datatype).
#include <algorithm>
#include <cctype>
#include <cmath>
#include <map>
#include <numbers>
#include <set>
#include <type_traits>

#include "core/dispatch.hpp"
#include "ops/common/shape_utils.hpp"
#include "ops/misc/misc_utils.hpp"

namespace kiln {
namespace {

std::string to_lower(std::string s) {
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}
std::string to_upper(std::string s) {
    for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return s;
}

void infer_string_normalizer(ShapeContext& ctx) {
    ctx.expect_inputs(1);
    ctx.check(ctx.input_type(0) == ElementType::string || ctx.input_type(0) == ElementType::dynamic,
              "expects a string tensor");
    const std::string action = ctx.attrs().get_string("case_change_action", "NONE");
    ctx.check(action == "NONE" || action == "LOWER" || action == "UPPER", "bad case_change_action ",
              action);
    const PartialShape& s = ctx.input_shape(0);
    if (!s.rank_is_static()) {
        ctx.set_output(0, ElementType::string, PartialShape());
        return;
    }
    ctx.check(s.rank() == 1 || (s.rank() == 2 && s[0].compatible(Dimension(1))),
              "expects shape [C] or [1, C], got ", to_string(s));
    if (s.rank() == 1)
        ctx.set_output(0, ElementType::string, PartialShape({Dimension()}));
    else
        ctx.set_output(0, ElementType::string, PartialShape({1, Dimension()}));
}

void eval_string_normalizer(const Node& node, const TensorVector& in, TensorVector& out,
                            ExecContext&) {
    const auto& a = node.attrs();
    const std::string action = a.get_string("case_change_action", "NONE");
    const bool sensitive = a.get_bool("is_case_sensitive", false);
    std::set<std::string> stop;
    if (a.has("stopwords"))
        for (const auto& w : a.get_strings("stopwords")) stop.insert(sensitive ? w : to_lower(w));
    const std::string* x = in[0].data<std::string>();
    std::vector<std::string> kept;
    for (int64_t i = 0; i < in[0].size(); ++i) {
        if (stop.count(sensitive ? x[i] : to_lower(x[i]))) continue;
        kept.push_back(action == "LOWER"   ? to_lower(x[i])
                       : action == "UPPER" ? to_upper(x[i])
                                           : x[i]);
    }
    if (kept.empty()) kept.emplace_back();  // ONNX returns one empty string rather than nothing
    const int64_t c = static_cast<int64_t>(kept.size());
    Tensor y(ElementType::string, in[0].rank() == 2 ? Shape{1, c} : Shape{c});
    for (int64_t i = 0; i < c; ++i) y.data<std::string>()[i] = kept[static_cast<size_t>(i)];
    out.assign(1, y);
}

int64_t tfidf_output_dim(const Attributes& a) {
    int64_t dim = 0;
    for (int64_t i : a.get_ints("ngram_indexes")) dim = std::max(dim, i + 1);
    return dim;
}

void infer_tfidf(ShapeContext& ctx) {
    ctx.expect_inputs(1);
    const auto& a = ctx.attrs();
    const std::string mode = a.get_string("mode");
    ctx.check(mode == "TF" || mode == "IDF" || mode == "TFIDF", "bad mode ", mode);
    const int64_t lo = a.get_int("min_gram_length"), hi = a.get_int("max_gram_length");
    ctx.check(lo >= 1 && lo <= hi, "bad n-gram lengths ", lo, "..", hi);
    ctx.check(a.get_int("max_skip_count", 0) >= 0, "max_skip_count must be non-negative");
    for (int64_t i : a.get_ints("ngram_indexes")) ctx.check(i >= 0, "negative ngram index");
    const PartialShape& s = ctx.input_shape(0);
    const int64_t dim = tfidf_output_dim(a);
    if (!s.rank_is_static()) {
        ctx.set_output(0, ElementType::f32, PartialShape());
        return;
    }
    ctx.check(s.rank() == 1 || s.rank() == 2, "expects a [N] or [B, N] input");
    if (s.rank() == 1)
        ctx.set_output(0, ElementType::f32, PartialShape({dim}));
    else
        ctx.set_output(0, ElementType::f32, PartialShape({s[0], dim}));
}

void eval_tfidf(const Node& node, const TensorVector& in, TensorVector& out, ExecContext&) {
    allocate_outputs(node, in, out);
    const auto& a = node.attrs();
    const bool strings = in[0].element_type() == ElementType::string;
    // Pool n-grams as token vectors (strings or integers rendered as text), keyed to their
    // position in pool order.
    auto counts = a.get_ints("ngram_counts");
    auto indexes = a.get_ints("ngram_indexes");
    std::vector<std::string> pool;
    if (strings)
        pool = a.get_strings("pool_strings");
    else
        for (int64_t v : a.get_ints("pool_int64s")) pool.push_back(std::to_string(v));
    std::map<std::vector<std::string>, size_t> ngrams;
    size_t id = 0;
    for (size_t level = 0; level < counts.size(); ++level) {
        const int64_t n = static_cast<int64_t>(level) + 1;
        const int64_t begin = counts[level];
        const int64_t end =
            level + 1 < counts.size() ? counts[level + 1] : static_cast<int64_t>(pool.size());
        KILN_CHECK(begin >= 0 && begin <= end && end <= static_cast<int64_t>(pool.size()) &&
                       (end - begin) % n == 0,
                   node.context(), " inconsistent ngram_counts");
        for (int64_t p = begin; p < end; p += n, ++id)
            ngrams[std::vector<std::string>(pool.begin() + p, pool.begin() + p + n)] = id;
    }
    KILN_CHECK(id == indexes.size(), node.context(), " ngram_indexes must list every pool n-gram");
    std::vector<std::string> tokens(static_cast<size_t>(in[0].size()));
    for (size_t i = 0; i < tokens.size(); ++i)
        tokens[i] = strings ? in[0].data<std::string>()[i]
                            : std::to_string(in[0].value_as_int(static_cast<int64_t>(i)));
    const int64_t rows = in[0].rank() == 2 ? in[0].shape()[0] : 1;
    const int64_t len = in[0].rank() == 2 ? in[0].shape()[1] : in[0].size();
    const int64_t dim = tfidf_output_dim(a);
    const int64_t lo = a.get_int("min_gram_length"), hi = a.get_int("max_gram_length");
    const int64_t max_skip = a.get_int("max_skip_count", 0);
    const std::string mode = a.get_string("mode");
    auto weights = a.has("weights") ? a.get_floats("weights") : std::vector<double>{};
    float* y = out[0].data<float>();
    std::vector<double> tf(static_cast<size_t>(dim));
    for (int64_t r = 0; r < rows; ++r) {
        std::fill(tf.begin(), tf.end(), 0.0);
        for (int64_t n = lo; n <= hi; ++n) {
            // Unigrams are the same for every skip, so they are counted once.
            const int64_t skips = n == 1 ? 0 : max_skip;
            for (int64_t skip = 0; skip <= skips; ++skip) {
                const int64_t span = (n - 1) * (skip + 1);
                std::vector<std::string> g(static_cast<size_t>(n));
                for (int64_t s = 0; s + span < len; ++s) {
                    for (int64_t k = 0; k < n; ++k)
                        g[static_cast<size_t>(k)] = tokens[r * len + s + k * (skip + 1)];
                    auto it = ngrams.find(g);
                    if (it != ngrams.end()) tf[static_cast<size_t>(indexes[it->second])] += 1;
                }
            }
        }
        for (int64_t j = 0; j < dim; ++j) {
            const double c = tf[static_cast<size_t>(j)];
            const double w = j < static_cast<int64_t>(weights.size()) ? weights[j] : 1.0;
            const double v = mode == "TF" ? c : mode == "IDF" ? (c > 0 ? w : 0) : c * w;
            y[r * dim + j] = static_cast<float>(v);
        }
    }
}

// MelWeightMatrix: scalar inputs num_mel_bins, dft_length, sample_rate, lower_edge_hertz,
// upper_edge_hertz; output_datatype attribute (element type name, default f32).
void infer_mel(ShapeContext& ctx) {
    ctx.expect_inputs(5);
    const ElementType t =
        element_type_from_string(ctx.attrs().get_string("output_datatype", "f32"));
    ctx.check(is_float(t), "output_datatype must be floating-point");
    for (size_t i = 0; i < 5; ++i)
        if (const Tensor* v = ctx.input_value(i))
            ctx.check(v->size() == 1, "input ", i, " must be a scalar");
    auto bins = const_ints(ctx, 0), dft = const_ints(ctx, 1);
    Dimension rows, cols;
    if (dft) {
        ctx.check(!dft->empty() && (*dft)[0] > 0, "dft_length must be positive");
        rows = (*dft)[0] / 2 + 1;
    }
    if (bins) {
        ctx.check(!bins->empty() && (*bins)[0] > 0, "num_mel_bins must be positive");
        cols = (*bins)[0];
    }
    ctx.set_output(0, t, PartialShape({rows, cols}));
}

void eval_mel(const Node& node, const TensorVector& in, TensorVector& out, ExecContext&) {
    allocate_outputs(node, in, out);  // validates the inputs first
    const int64_t mel = in[0].value_as_int(0), dft = in[1].value_as_int(0);
    const double rate = in[2].value_as_double(0);
    const double lo_hz = in[3].value_as_double(0), hi_hz = in[4].value_as_double(0);
    KILN_CHECK(mel > 0 && dft > 0 && rate > 0, node.context(), " bad MelWeightMatrix inputs");
    const int64_t rows = dft / 2 + 1;
    auto to_mel = [](double hz) { return 2595 * std::log10(1 + hz / 700); };
    const double lo = to_mel(lo_hz), step = (to_mel(hi_hz) - lo) / static_cast<double>(mel + 2);
    std::vector<int64_t> f(static_cast<size_t>(mel + 2));
    for (int64_t i = 0; i < mel + 2; ++i) {
        const double hz = 700 * (std::pow(10.0, (static_cast<double>(i) * step + lo) / 2595) - 1);
        const double bin = std::floor(static_cast<double>(dft + 1) * hz / rate);
        KILN_CHECK(bin >= 0 && bin < static_cast<double>(rows), node.context(),
                   " mel band edge falls outside the spectrum");
        f[static_cast<size_t>(i)] = static_cast<int64_t>(bin);
    }
    std::vector<double> w(static_cast<size_t>(rows * mel), 0.0);
    for (int64_t i = 0; i < mel; ++i) {
        const int64_t l = f[i], c = f[i + 1], h = f[i + 2];
        if (c == l)
            w[c * mel + i] = 1;
        else
            for (int64_t j = l; j <= c; ++j)
                w[j * mel + i] = static_cast<double>(j - l) / static_cast<double>(c - l);
        if (h > c)
            for (int64_t j = c; j < h; ++j)
                w[j * mel + i] = static_cast<double>(h - j) / static_cast<double>(h - c);
    }
    dispatch_float(out[0].element_type(), [&](auto tag) {
        using T = KILN_TYPE_OF(tag);
        for (size_t i = 0; i < w.size(); ++i) out[0].data<T>()[i] = from_f64<T>(w[i]);
    });
}

// Generalized cosine windows: a0 - a1 cos(2 pi n / N) + a2 cos(4 pi n / N), N = size for periodic
// windows and size - 1 for symmetric ones.
void infer_window(ShapeContext& ctx) {
    ctx.expect_inputs(1);
    const ElementType t =
        element_type_from_string(ctx.attrs().get_string("output_datatype", "f32"));
    ctx.check(t != ElementType::string && t != ElementType::boolean, "bad output_datatype");
    auto size = const_ints(ctx, 0);
    if (size) ctx.check(size->size() == 1 && (*size)[0] >= 0, "size must be a non-negative scalar");
    ctx.set_output(0, t, PartialShape({size ? Dimension((*size)[0]) : Dimension()}));
}

template <int Kind>  // 0 Hann, 1 Hamming, 2 Blackman
void eval_window(const Node& node, const TensorVector& in, TensorVector& out, ExecContext&) {
    allocate_outputs(node, in, out);
    const int64_t size = in[0].value_as_int(0);
    const bool periodic = node.attrs().get_bool("periodic", true);
    const double a0 = Kind == 0 ? 0.5 : Kind == 1 ? 25.0 / 46.0 : 0.42;
    const double a1 = Kind == 0 ? 0.5 : Kind == 1 ? 1.0 - 25.0 / 46.0 : 0.5;
    const double a2 = Kind == 2 ? 0.08 : 0.0;
    const double n_div = static_cast<double>(periodic ? size : size - 1);
    dispatch_numeric(out[0].element_type(), [&](auto tag) {
        using T = KILN_TYPE_OF(tag);
        T* y = out[0].data<T>();
        for (int64_t i = 0; i < size; ++i) {
            const double ang = 2 * std::numbers::pi * static_cast<double>(i) / n_div;
            const double v = a0 - a1 * std::cos(ang) + a2 * std::cos(2 * ang);
            if constexpr (std::is_integral_v<T>)
                y[i] = static_cast<T>(std::isfinite(v) ? std::trunc(v) : 0);
            else
                y[i] = from_f64<T>(v);
        }
    });
}

}  // namespace

void register_features(OpRegistry& r) {
    r.add({"StringNormalizer", "kiln1", infer_string_normalizer, eval_string_normalizer});
    r.add({"TfIdfVectorizer", "kiln1", infer_tfidf, eval_tfidf});
    r.add({"MelWeightMatrix", "kiln1", infer_mel, eval_mel});
    r.add({"HannWindow", "kiln1", infer_window, eval_window<0>});
    r.add({"HammingWindow", "kiln1", infer_window, eval_window<1>});
    r.add({"BlackmanWindow", "kiln1", infer_window, eval_window<2>});
}

}  // namespace kiln
