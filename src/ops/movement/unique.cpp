// Unique (v10): distinct elements (or slices along `axis`), sorted or in order of first
// occurrence, with first-occurrence indices, reverse indices and counts.
#include <algorithm>

#include "ops/movement/movement_utils.hpp"

namespace kiln::movement {
namespace {

struct UniqueResult {
    std::vector<int64_t> first;    // first occurrence (slice index) of each unique value
    std::vector<int64_t> reverse;  // unique position of each input slice
    std::vector<int64_t> counts;
};

// Slices along axis (or single elements when axis is absent) compared lexicographically.
UniqueResult compute_unique(const Tensor& data, std::optional<int64_t> axis, bool sorted) {
    const Shape& s = data.shape();
    int64_t n, outer, inner;
    if (axis) {
        n = s[*axis];
        outer = product(s, 0, *axis);
        inner = product(s, *axis + 1, s.size());
    } else {
        n = data.size();
        outer = 1;
        inner = 1;
    }
    std::vector<int64_t> order(n);
    for (int64_t i = 0; i < n; ++i) order[i] = i;
    UniqueResult r;
    dispatch_any(data.element_type(), [&](auto tag) {
        using T = KILN_TYPE_OF(tag);
        const T* p = data.data<T>();
        auto cmp = [&](int64_t a, int64_t b) -> int {
            for (int64_t o = 0; o < outer; ++o)
                for (int64_t i = 0; i < inner; ++i) {
                    const T& x = p[(o * n + a) * inner + i];
                    const T& y = p[(o * n + b) * inner + i];
                    if constexpr (std::is_same_v<T, float16> || std::is_same_v<T, bfloat16>) {
                        if (static_cast<float>(x) < static_cast<float>(y)) return -1;
                        if (static_cast<float>(y) < static_cast<float>(x)) return 1;
                    } else {
                        if (x < y) return -1;
                        if (y < x) return 1;
                    }
                }
            return 0;
        };
        std::stable_sort(order.begin(), order.end(),
                         [&](int64_t a, int64_t b) { return cmp(a, b) < 0; });
        // Groups of equal slices, in sorted order; stable sort keeps the first occurrence first.
        std::vector<int64_t> group_of(n);
        std::vector<int64_t> group_first, group_count;
        for (int64_t i = 0; i < n; ++i) {
            if (i == 0 || cmp(order[i - 1], order[i]) != 0) {
                group_first.push_back(order[i]);
                group_count.push_back(0);
            }
            group_of[order[i]] = static_cast<int64_t>(group_first.size()) - 1;
            ++group_count.back();
        }
        std::vector<int64_t> rank(group_first.size());
        std::vector<int64_t> groups(group_first.size());
        for (size_t g = 0; g < groups.size(); ++g) groups[g] = static_cast<int64_t>(g);
        if (!sorted)
            std::sort(groups.begin(), groups.end(),
                      [&](int64_t a, int64_t b) { return group_first[a] < group_first[b]; });
        for (size_t u = 0; u < groups.size(); ++u) {
            rank[groups[u]] = static_cast<int64_t>(u);
            r.first.push_back(group_first[groups[u]]);
            r.counts.push_back(group_count[groups[u]]);
        }
        r.reverse.resize(n);
        for (int64_t i = 0; i < n; ++i) r.reverse[i] = rank[group_of[i]];
    });
    return r;
}

std::optional<int64_t> unique_axis(const Node& n, const Tensor* axis_value, int64_t rank) {
    if (!axis_value) return std::nullopt;
    KILN_CHECK(axis_value->size() == 1, n.context(), " axis must be a scalar");
    KILN_CHECK(rank >= 1, n.context(), " axis needs data of rank >= 1");
    return normalize_axis(n, axis_value->to_int_vector()[0], rank);
}

void infer_unique(ShapeContext& ctx) {
    ctx.expect_inputs(1, 2);
    const ElementType it = element_type_from_string(ctx.attrs().get_string("index_element_type", "i64"));
    const ElementType ct = element_type_from_string(ctx.attrs().get_string("count_element_type", "i64"));
    ctx.check(it == ElementType::i32 || it == ElementType::i64, "index_element_type must be i32 or i64");
    ctx.check(ct == ElementType::i32 || ct == ElementType::i64, "count_element_type must be i32 or i64");
    const PartialShape& in = ctx.input_shape(0);
    const Tensor* data = ctx.input_value(0);
    const bool has_axis = ctx.input_count() == 2;
    if (has_axis && !ctx.input_value(1)) {
        ctx.set_output(0, ctx.input_type(0), in.rank_is_static() ? PartialShape::dynamic(in.rank()) : PartialShape());
        for (size_t i = 1; i < 4; ++i)
            ctx.set_output(i, i == 3 ? ct : it, PartialShape::dynamic(1));
        return;
    }
    std::optional<int64_t> axis;
    if (has_axis && in.rank_is_static()) axis = unique_axis(ctx.node(), ctx.input_value(1), in.rank());
    Dimension u, total;
    if (data) {
        auto r = compute_unique(*data, axis, ctx.attrs().get_bool("sorted", true));
        u = static_cast<int64_t>(r.first.size());
        total = static_cast<int64_t>(r.reverse.size());
    } else if (in.is_static()) {
        total = axis ? in[*axis].get_length() : shape_size(in.to_shape());
    }
    if (axis) {
        PartialShape s = in;
        s[*axis] = u;
        ctx.set_output(0, ctx.input_type(0), s);
    } else {
        ctx.set_output(0, ctx.input_type(0), PartialShape({u}));
    }
    ctx.set_output(1, it, PartialShape({u}));
    ctx.set_output(2, it, PartialShape({total}));
    ctx.set_output(3, ct, PartialShape({u}));
}

template <class T>
void fill_ints(Tensor& t, const std::vector<int64_t>& v) {
    for (size_t i = 0; i < v.size(); ++i) t.data<T>()[i] = static_cast<T>(v[i]);
}

void write_ints(Tensor& t, const std::vector<int64_t>& v) {
    if (t.element_type() == ElementType::i32) fill_ints<int32_t>(t, v);
    else fill_ints<int64_t>(t, v);
}

void eval_unique(const Node& n, const TensorVector& in, TensorVector& out, ExecContext&) {
    allocate_outputs(n, in, out);
    const Tensor& data = in[0];
    auto axis = unique_axis(n, in.size() > 1 ? &in[1] : nullptr, data.rank());
    auto r = compute_unique(data, axis, n.attrs().get_bool("sorted", true));
    const Shape& s = data.shape();
    std::vector<int64_t> map;
    if (axis) {
        const int64_t dim = s[*axis], outer = product(s, 0, *axis);
        const int64_t inner = product(s, *axis + 1, s.size());
        const int64_t u = static_cast<int64_t>(r.first.size());
        map.resize(outer * u * inner);
        for (int64_t o = 0; o < outer; ++o)
            for (int64_t k = 0; k < u; ++k)
                for (int64_t i = 0; i < inner; ++i)
                    map[(o * u + k) * inner + i] = (o * dim + r.first[k]) * inner + i;
    } else {
        map = r.first;
    }
    gather_by_map(data, out[0], map);
    write_ints(out[1], r.first);
    write_ints(out[2], r.reverse);
    write_ints(out[3], r.counts);
}

}  // namespace

void register_unique_ops(OpRegistry& r) {
    r.add({"Unique", "opset10", infer_unique, eval_unique});
}

}  // namespace kiln::movement
