// Shape-changing ops that keep element order or split/join along one axis: Reshape, ShapeOf,
// Squeeze, Unsqueeze, Concat, Split, VariadicSplit.
#include <algorithm>
#include <set>

#include "ops/movement/movement_utils.hpp"

namespace kiln::movement {
namespace {

// Reshape(data, target_shape), attribute special_zero: 0 copies the input dimension at the same
// index, -1 is inferred from the element count.
void infer_reshape(ShapeContext& ctx) {
    ctx.expect_inputs(2);
    check_index_type(ctx, 1);
    const PartialShape& in = ctx.input_shape(0);
    const bool special_zero = ctx.attrs().get_bool("special_zero", false);
    auto target = const_ints(ctx, 1);
    if (!target) {
        const PartialShape& ts = ctx.input_shape(1);
        if (ts.rank_is_static() && ts.size() == 1 && ts[0].is_static())
            ctx.set_output(0, ctx.input_type(0), PartialShape::dynamic(ts[0].get_length()));
        else
            ctx.set_output(0, ctx.input_type(0), PartialShape());
        return;
    }
    std::vector<Dimension> out(target->size());
    int64_t minus_one = -1;
    for (size_t i = 0; i < target->size(); ++i) {
        const int64_t v = (*target)[i];
        if (v == -1) {
            ctx.check(minus_one < 0, "target shape has more than one -1");
            minus_one = static_cast<int64_t>(i);
        } else if (v == 0 && special_zero) {
            ctx.check(!in.rank_is_static() || i < in.size(), "target shape copies dimension ", i,
                      " with 0, but the input has rank ", in.rank());
            out[i] = in.rank_is_static() ? in[i] : Dimension::dynamic();
        } else {
            ctx.check(v >= 0, "target shape has invalid value ", v);
            out[i] = v;
        }
    }
    const bool in_static = in.is_static();
    if (in_static) {
        const int64_t total = shape_size(in.to_shape());
        int64_t known = 1;
        for (size_t i = 0; i < out.size(); ++i)
            if (static_cast<int64_t>(i) != minus_one) known = checked_mul(ctx, known, out[i].get_length());
        if (minus_one >= 0) {
            ctx.check(known != 0 ? total % known == 0 : total == 0, "cannot reshape ",
                      to_string(in), " to ", to_string(Shape(*target)));
            out[minus_one] = known != 0 ? total / known : 0;
        } else {
            ctx.check(known == total, "cannot reshape ", to_string(in), " (", total,
                      " elements) to ", to_string(PartialShape(out)));
        }
    }
    ctx.set_output(0, ctx.input_type(0), PartialShape(out));
}

void eval_reshape(const Node& n, const TensorVector& in, TensorVector& out, ExecContext&) {
    auto shapes = runtime_output_shapes(n, in);
    out.assign(1, in[0].reshaped(shapes[0]));
}

void infer_shape_of(ShapeContext& ctx) {
    ctx.expect_inputs(1);
    const auto t = element_type_from_string(ctx.attrs().get_string("output_type", "i64"));
    ctx.check(t == ElementType::i64 || t == ElementType::i32, "output_type must be i32 or i64");
    const PartialShape& in = ctx.input_shape(0);
    ctx.set_output(0, t,
                   in.rank_is_static() ? PartialShape({Dimension(in.rank())}) : PartialShape::dynamic(1));
}

void eval_shape_of(const Node& n, const TensorVector& in, TensorVector& out, ExecContext&) {
    allocate_outputs(n, in, out);
    const Shape& s = in[0].shape();
    if (out[0].element_type() == ElementType::i32) {
        for (size_t i = 0; i < s.size(); ++i) {
            KILN_CHECK(s[i] <= INT32_MAX, n.context(), " dimension does not fit i32");
            out[0].data<int32_t>()[i] = static_cast<int32_t>(s[i]);
        }
    } else {
        for (size_t i = 0; i < s.size(); ++i) out[0].data<int64_t>()[i] = s[i];
    }
}

void eval_same_data(const Node& n, const TensorVector& in, TensorVector& out, ExecContext&) {
    auto shapes = runtime_output_shapes(n, in);
    out.assign(1, in[0].reshaped(shapes[0]));
}

// Squeeze(data, axes?): without axes removes every dimension of size 1.
void infer_squeeze(ShapeContext& ctx) {
    ctx.expect_inputs(1, 2);
    const PartialShape& in = ctx.input_shape(0);
    std::optional<std::vector<int64_t>> axes;
    if (ctx.input_count() == 2) {
        check_index_type(ctx, 1);
        axes = const_ints(ctx, 1);
        if (!axes || !in.rank_is_static()) {
            ctx.set_output(0, ctx.input_type(0), PartialShape());
            return;
        }
    }
    if (!in.rank_is_static()) {
        ctx.set_output(0, ctx.input_type(0), PartialShape());
        return;
    }
    const int64_t rank = in.rank();
    std::vector<bool> drop(rank, false);
    if (axes) {
        for (int64_t a : *axes) {
            const int64_t ax = normalize_axis(ctx, a, rank);
            ctx.check(in[ax].compatible(Dimension(1)), "cannot squeeze axis ", a,
                      " of size ", in[ax].get_length());
            drop[ax] = true;
        }
    } else {
        for (int64_t i = 0; i < rank; ++i) {
            if (in[i].is_dynamic()) {
                ctx.set_output(0, ctx.input_type(0), PartialShape());
                return;
            }
            drop[i] = in[i].get_length() == 1;
        }
    }
    std::vector<Dimension> out;
    for (int64_t i = 0; i < rank; ++i)
        if (!drop[i]) out.push_back(in[i]);
    ctx.set_output(0, ctx.input_type(0), PartialShape(out));
}

void infer_unsqueeze(ShapeContext& ctx) {
    ctx.expect_inputs(2);
    check_index_type(ctx, 1);
    const PartialShape& in = ctx.input_shape(0);
    auto axes = const_ints(ctx, 1);
    if (!axes || !in.rank_is_static()) {
        const PartialShape& as = ctx.input_shape(1);
        if (in.rank_is_static() && as.is_static() && as.size() <= 1)
            ctx.set_output(0, ctx.input_type(0),
                           PartialShape::dynamic(in.rank() + shape_size(as.to_shape())));
        else
            ctx.set_output(0, ctx.input_type(0), PartialShape());
        return;
    }
    const int64_t rank = in.rank() + static_cast<int64_t>(axes->size());
    std::vector<bool> added(rank, false);
    for (int64_t a : *axes) {
        const int64_t ax = normalize_axis(ctx, a, rank);
        ctx.check(!added[ax], "axis ", a, " is repeated");
        added[ax] = true;
    }
    std::vector<Dimension> out;
    size_t j = 0;
    for (int64_t i = 0; i < rank; ++i) out.push_back(added[i] ? Dimension(1) : in[j++]);
    ctx.set_output(0, ctx.input_type(0), PartialShape(out));
}

void infer_concat(ShapeContext& ctx) {
    ctx.check(ctx.input_count() >= 1, "needs at least one input");
    ElementType type = ElementType::dynamic;
    PartialShape result;
    int64_t axis = ctx.attrs().get_int("axis", 0);
    bool have_rank = false;
    for (size_t i = 0; i < ctx.input_count(); ++i) {
        const ElementType t = ctx.input_type(i);
        if (t != ElementType::dynamic) {
            ctx.check(type == ElementType::dynamic || type == t, "inputs have different types ",
                      to_string(type), " and ", to_string(t));
            type = t;
        }
        const PartialShape& s = ctx.input_shape(i);
        if (!s.rank_is_static()) continue;
        ctx.check(s.rank() >= 1, "cannot concatenate scalars");
        if (!have_rank) {
            axis = normalize_axis(ctx, axis, s.rank());
            result = s;
            have_rank = true;
            continue;
        }
        ctx.check(s.rank() == result.rank(), "inputs have different ranks: ", to_string(result),
                  " and ", to_string(s));
        for (int64_t d = 0; d < s.rank(); ++d) {
            if (d == axis) {
                result[d] = result[d].is_static() && s[d].is_static()
                                ? Dimension(result[d].get_length() + s[d].get_length())
                                : Dimension::dynamic();
            } else {
                ctx.check(result[d].compatible(s[d]), "input shapes ", to_string(result), " and ",
                          to_string(s), " differ outside the concatenation axis");
                if (result[d].is_dynamic()) result[d] = s[d];
            }
        }
    }
    if (have_rank) {
        // Inputs of unknown rank contribute an unknown extent.
        for (size_t i = 0; i < ctx.input_count(); ++i)
            if (!ctx.input_shape(i).rank_is_static()) result[axis] = Dimension::dynamic();
    }
    ctx.set_output(0, type, result);
}

void eval_concat(const Node& n, const TensorVector& in, TensorVector& out, ExecContext&) {
    allocate_outputs(n, in, out);
    const Shape& os = out[0].shape();
    const int64_t axis = normalize_axis(n, n.attrs().get_int("axis", 0), os.size());
    const int64_t outer = product(os, 0, axis);
    const int64_t out_row = product(os, axis, os.size());
    int64_t offset = 0;
    for (const Tensor& t : in) {
        const int64_t row = product(t.shape(), axis, t.shape().size());
        ElementCopier copier(t, out[0]);
        for (int64_t o = 0; o < outer; ++o) copier.copy(o * out_row + offset, o * row, row);
        offset += row;
    }
}

// Copies part [begin, begin+len) of `axis` of src into a new tensor.
Tensor slice_axis(const Tensor& src, int64_t axis, int64_t begin, int64_t len) {
    Shape s = src.shape();
    const int64_t dim = s[axis];
    s[axis] = len;
    Tensor dst(src.element_type(), s);
    const int64_t outer = product(s, 0, axis);
    const int64_t inner = product(s, axis + 1, s.size());
    ElementCopier copier(src, dst);
    for (int64_t o = 0; o < outer; ++o)
        copier.copy(o * len * inner, (o * dim + begin) * inner, len * inner);
    return dst;
}

// Lengths of the Split / VariadicSplit parts along the axis, when computable.
std::optional<std::vector<int64_t>> split_lengths(const ShapeContext& ctx, const Dimension& dim,
                                                  bool variadic) {
    if (!variadic) {
        const int64_t n = ctx.attrs().get_int("num_splits");
        ctx.check(n > 0, "num_splits must be positive");
        if (dim.is_dynamic()) return std::nullopt;
        ctx.check(dim.get_length() % n == 0, "axis of size ", dim.get_length(),
                  " cannot be split in ", n, " equal parts");
        return std::vector<int64_t>(n, dim.get_length() / n);
    }
    auto lengths = const_ints(ctx, 2);
    if (!lengths) return std::nullopt;
    int64_t sum = 0, minus_one = -1;
    for (size_t i = 0; i < lengths->size(); ++i) {
        const int64_t v = (*lengths)[i];
        if (v == -1) {
            ctx.check(minus_one < 0, "split_lengths has more than one -1");
            minus_one = static_cast<int64_t>(i);
        } else {
            ctx.check(v >= 0, "split_lengths has invalid value ", v);
            sum += v;
        }
    }
    if (dim.is_static()) {
        if (minus_one >= 0) {
            ctx.check(sum <= dim.get_length(), "split_lengths exceed the axis size");
            (*lengths)[minus_one] = dim.get_length() - sum;
        } else {
            ctx.check(sum == dim.get_length(), "split_lengths sum to ", sum, ", axis has size ",
                      dim.get_length());
        }
    }
    return lengths;
}

template <bool Variadic>
void infer_split(ShapeContext& ctx) {
    ctx.expect_inputs(Variadic ? 3 : 2);
    const PartialShape& in = ctx.input_shape(0);
    auto axis = const_scalar(ctx, 1);
    size_t outputs = 0;
    if (Variadic) {
        const PartialShape& ls = ctx.input_shape(2);
        if (auto l = const_ints(ctx, 2)) outputs = l->size();
        else if (ls.is_static() && ls.size() == 1) outputs = ls[0].get_length();
        else ctx.fail("split_lengths must have a known length");
    } else {
        outputs = ctx.attrs().get_int("num_splits");
    }
    if (!axis || !in.rank_is_static()) {
        for (size_t i = 0; i < outputs; ++i) ctx.set_output(i, ctx.input_type(0), PartialShape());
        return;
    }
    const int64_t ax = normalize_axis(ctx, *axis, in.rank());
    auto lengths = split_lengths(ctx, in[ax], Variadic);
    for (size_t i = 0; i < outputs; ++i) {
        PartialShape s = in;
        s[ax] = lengths && (*lengths)[i] >= 0 ? Dimension((*lengths)[i]) : Dimension::dynamic();
        ctx.set_output(i, ctx.input_type(0), s);
    }
}

void eval_split(const Node& n, const TensorVector& in, TensorVector& out, ExecContext&) {
    auto shapes = runtime_output_shapes(n, in);
    const int64_t axis = normalize_axis(n, in[1].to_int_vector().at(0), in[0].rank());
    out.clear();
    int64_t begin = 0;
    for (const Shape& s : shapes) {
        out.push_back(slice_axis(in[0], axis, begin, s[axis]));
        begin += s[axis];
    }
}

}  // namespace

void register_shape_ops(OpRegistry& r) {
    r.add({"Reshape", "opset1", infer_reshape, eval_reshape});
    r.add({"ShapeOf", "opset3", infer_shape_of, eval_shape_of});
    r.add({"Squeeze", "opset1", infer_squeeze, eval_same_data});
    r.add({"Unsqueeze", "opset1", infer_unsqueeze, eval_same_data});
    r.add({"Concat", "opset1", infer_concat, eval_concat});
    r.add({"Split", "opset1", infer_split<false>, eval_split});
    r.add({"VariadicSplit", "opset1", infer_split<true>, eval_split});
}

}  // namespace kiln::movement
