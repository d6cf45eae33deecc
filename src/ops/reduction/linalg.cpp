// Einsum (v7, `equation` attribute, ellipsis and repeated labels supported) and the Kiln op Det
// (ONNX Det: determinants of the trailing square matrices, [*, M, M] -> [*]).
#include <algorithm>
#include <cctype>
#include <cmath>
#include <map>
#include <type_traits>

#include "core/dispatch.hpp"
#include "ops/common/shape_utils.hpp"
#include "ops/reduction/reduction_utils.hpp"

namespace kiln {
namespace {

// Labels are ints: letters map to their char code, ellipsis dims to 256 + position.
struct EinsumSpec {
    std::vector<std::vector<int>> inputs;  // labels per input axis
    std::vector<int> output;
};

// `ranks` gives each input's rank (needed to expand "...").
template <class Fail>
EinsumSpec parse_einsum(std::string eq, const std::vector<int64_t>& ranks, Fail&& fail) {
    eq.erase(std::remove_if(eq.begin(), eq.end(), [](unsigned char c) { return std::isspace(c); }),
             eq.end());
    const auto arrow = eq.find("->");
    const std::string lhs = eq.substr(0, arrow);
    std::vector<std::string> terms;
    size_t start = 0;
    for (;;) {
        const auto comma = lhs.find(',', start);
        terms.push_back(lhs.substr(start, comma == std::string::npos ? comma : comma - start));
        if (comma == std::string::npos) break;
        start = comma + 1;
    }
    if (terms.size() != ranks.size())
        fail("equation has ", terms.size(), " operands but there are ", ranks.size(), " inputs");
    int64_t ell_rank = 0;
    auto parse_term = [&](const std::string& t, int64_t rank, bool is_out) {
        std::vector<int> labels;
        const auto dots = t.find("...");
        int64_t letters = 0;
        for (char c : t)
            if (std::isalpha(static_cast<unsigned char>(c)))
                ++letters;
            else if (c != '.')
                fail("bad character '", c, "' in equation");
        const int64_t ell = dots == std::string::npos ? 0 : (is_out ? ell_rank : rank - letters);
        if (!is_out && dots == std::string::npos && letters != rank)
            fail("operand '", t, "' does not match an input of rank ", rank);
        if (ell < 0) fail("operand '", t, "' has more labels than its input's rank ", rank);
        if (!is_out) ell_rank = std::max(ell_rank, ell);
        for (size_t i = 0; i < t.size(); ++i) {
            if (t[i] == '.') {
                if (i == dots)
                    for (int64_t e = 0; e < ell; ++e)
                        labels.push_back(256 + static_cast<int>(ell_rank - ell + e));
                continue;
            }
            labels.push_back(static_cast<unsigned char>(t[i]));
        }
        return labels;
    };
    EinsumSpec spec;
    for (size_t i = 0; i < terms.size(); ++i)
        spec.inputs.push_back(parse_term(terms[i], ranks[i], false));
    if (arrow != std::string::npos) {
        spec.output = parse_term(eq.substr(arrow + 2), 0, true);
    } else {
        std::map<int, int> count;
        for (auto& in : spec.inputs)
            for (int l : in) ++count[l];
        for (int64_t e = 0; e < ell_rank; ++e) spec.output.push_back(256 + static_cast<int>(e));
        for (auto [l, c] : count)
            if (l < 256 && c == 1) spec.output.push_back(l);
    }
    return spec;
}

void infer_einsum(ShapeContext& ctx) {
    ctx.check(ctx.input_count() >= 1, "needs at least one input");
    std::vector<int64_t> ranks;
    for (size_t i = 0; i < ctx.input_count(); ++i) {
        if (!ctx.input_shape(i).rank_is_static()) {
            ctx.set_output(0, ctx.input_type(0), PartialShape());
            return;
        }
        ranks.push_back(ctx.input_shape(i).rank());
        ctx.check(ctx.input_type(i) == ctx.input_type(0), "inputs must share one element type");
    }
    auto spec = parse_einsum(ctx.attrs().get_string("equation"), ranks,
                             [&](const auto&... a) { ctx.fail(a...); });
    std::map<int, Dimension> dims;
    for (size_t i = 0; i < spec.inputs.size(); ++i) {
        for (size_t a = 0; a < spec.inputs[i].size(); ++a) {
            const Dimension d = ctx.input_shape(i)[a];
            auto it = dims.find(spec.inputs[i][a]);
            if (it == dims.end() || (it->second.is_static() && it->second.get_length() == 1)) {
                dims[spec.inputs[i][a]] = d;
            } else if (d.is_static() && it->second.is_static()) {
                ctx.check(d.get_length() == it->second.get_length() || d.get_length() == 1,
                          "label extents disagree");
            }
        }
    }
    std::vector<Dimension> out;
    for (int l : spec.output) {
        ctx.check(dims.count(l) > 0, "output label not found among the inputs");
        out.push_back(dims[l]);
    }
    ctx.set_output(0, ctx.input_type(0), PartialShape(out));
}

void eval_einsum(const Node& node, const TensorVector& in, TensorVector& out, ExecContext&) {
    allocate_outputs(node, in, out);
    std::vector<int64_t> ranks;
    for (auto& t : in) ranks.push_back(t.rank());
    auto spec = parse_einsum(node.attrs().get_string("equation"), ranks,
                             [&](const auto&... a) { KILN_THROW(node.context(), " ", a...); });
    // All labels: output ones first, then summed ones.
    std::vector<int> labels = spec.output;
    std::map<int, int64_t> extent;
    for (size_t i = 0; i < in.size(); ++i)
        for (size_t a = 0; a < spec.inputs[i].size(); ++a) {
            const int l = spec.inputs[i][a];
            extent[l] = std::max(extent[l], in[i].shape()[a]);
            if (std::find(labels.begin(), labels.end(), l) == labels.end()) labels.push_back(l);
        }
    for (size_t i = 0; i < in.size(); ++i)
        for (size_t a = 0; a < spec.inputs[i].size(); ++a) {
            const int64_t d = in[i].shape()[a];
            KILN_CHECK(d == extent[spec.inputs[i][a]] || d == 1, node.context(),
                       " label extents disagree");
        }
    // strides[i][k]: step of input i's offset when label k advances (0 when broadcast/absent).
    std::vector<std::vector<int64_t>> strides(in.size(), std::vector<int64_t>(labels.size(), 0));
    for (size_t i = 0; i < in.size(); ++i) {
        auto rs = row_major_strides(in[i].shape());
        for (size_t a = 0; a < spec.inputs[i].size(); ++a) {
            const size_t k =
                std::find(labels.begin(), labels.end(), spec.inputs[i][a]) - labels.begin();
            if (in[i].shape()[a] != 1) strides[i][k] += rs[a];
        }
    }
    std::vector<int64_t> ext;
    for (int l : labels) ext.push_back(extent[l]);
    int64_t total = 1;
    for (int64_t e : ext) total *= e;
    const size_t n_out_labels = spec.output.size();
    int64_t inner = 1;  // combinations of summed labels per output element
    for (size_t k = n_out_labels; k < labels.size(); ++k) inner *= ext[k];
    dispatch_numeric(in[0].element_type(), [&](auto tag) {
        using T = KILN_TYPE_OF(tag);
        using Acc = std::conditional_t<std::is_integral_v<T>, uint64_t, double>;
        T* y = out[0].data<T>();
        std::vector<int64_t> idx(labels.size(), 0), off(in.size(), 0);
        Acc acc = 0;
        for (int64_t c = 0; c < total; ++c) {
            Acc p = 1;
            for (size_t i = 0; i < in.size(); ++i) p *= static_cast<Acc>(in[i].data<T>()[off[i]]);
            acc += p;
            if ((c + 1) % inner == 0) {
                y[c / inner] = static_cast<T>(acc);
                acc = 0;
            }
            for (int64_t k = static_cast<int64_t>(labels.size()) - 1; k >= 0; --k) {
                if (++idx[k] < ext[k]) {
                    for (size_t i = 0; i < in.size(); ++i) off[i] += strides[i][k];
                    break;
                }
                for (size_t i = 0; i < in.size(); ++i) off[i] -= strides[i][k] * (ext[k] - 1);
                idx[k] = 0;
            }
        }
    });
}

void infer_det(ShapeContext& ctx) {
    ctx.expect_inputs(1);
    const PartialShape& s = ctx.input_shape(0);
    if (!s.rank_is_static()) {
        ctx.set_output(0, ctx.input_type(0), PartialShape());
        return;
    }
    ctx.check(s.rank() >= 2, "expects matrices, got rank ", s.rank());
    const Dimension a = s[s.size() - 2], b = s[s.size() - 1];
    ctx.check(a.compatible(b), "expects square matrices, got ", to_string(s));
    std::vector<Dimension> out(s.dims().begin(), s.dims().end() - 2);
    ctx.set_output(0, ctx.input_type(0), PartialShape(out));
}

void eval_det(const Node& node, const TensorVector& in, TensorVector& out, ExecContext&) {
    allocate_outputs(node, in, out);
    const int64_t n = in[0].shape().back();
    const int64_t batch = out[0].size();
    dispatch_float(in[0].element_type(), [&](auto tag) {
        using T = KILN_TYPE_OF(tag);
        const T* x = in[0].data<T>();
        T* y = out[0].data<T>();
        std::vector<double> m(static_cast<size_t>(n * n));
        for (int64_t b = 0; b < batch; ++b) {
            for (int64_t i = 0; i < n * n; ++i) m[i] = static_cast<double>(x[b * n * n + i]);
            double det = 1;
            for (int64_t c = 0; c < n && det != 0; ++c) {
                int64_t p = c;
                for (int64_t r = c + 1; r < n; ++r)
                    if (std::abs(m[r * n + c]) > std::abs(m[p * n + c])) p = r;
                if (m[p * n + c] == 0) {
                    det = 0;
                    break;
                }
                if (p != c) {
                    for (int64_t k = 0; k < n; ++k) std::swap(m[c * n + k], m[p * n + k]);
                    det = -det;
                }
                det *= m[c * n + c];
                for (int64_t r = c + 1; r < n; ++r) {
                    const double f = m[r * n + c] / m[c * n + c];
                    for (int64_t k = c; k < n; ++k) m[r * n + k] -= f * m[c * n + k];
                }
            }
            y[b] = from_f64<T>(det);
        }
    });
}

}  // namespace

void register_linalg(OpRegistry& r) {
    r.add({"Einsum", "opset7", infer_einsum, eval_einsum});
    r.add({"Det", "kiln1", infer_det, eval_det});
}

}  // namespace kiln
