// Pad (v12, negative pads crop), Reverse, ReverseSequence, DepthToSpace, SpaceToDepth.
#include <algorithm>

#include "ops/movement/movement_utils.hpp"

namespace kiln::movement {
namespace {

std::string pad_mode(const Node& n) {
    std::string m = n.attrs().get_string("pad_mode", "constant");
    KILN_CHECK(m == "constant" || m == "edge" || m == "reflect" || m == "symmetric", n.context(),
               " unknown pad_mode ", m);
    return m;
}

void infer_pad(ShapeContext& ctx) {
    ctx.expect_inputs(3, 4);
    check_index_type(ctx, 1);
    check_index_type(ctx, 2);
    const std::string mode = pad_mode(ctx.node());
    if (ctx.input_count() == 4) {
        const PartialShape& vs = ctx.input_shape(3);
        ctx.check(!vs.rank_is_static() || shape_size(vs.is_static() ? vs.to_shape() : Shape{1}) == 1,
                  "pad_value must be a scalar");
        ctx.check(ctx.input_type(3) == ctx.input_type(0) || ctx.input_type(3) == ElementType::dynamic,
                  "pad_value type must match data");
    }
    const PartialShape& in = ctx.input_shape(0);
    auto b = const_ints(ctx, 1), e = const_ints(ctx, 2);
    if (!in.rank_is_static()) {
        ctx.set_output(0, ctx.input_type(0), PartialShape());
        return;
    }
    if (!b || !e) {
        ctx.set_output(0, ctx.input_type(0), PartialShape::dynamic(in.rank()));
        return;
    }
    ctx.check(static_cast<int64_t>(b->size()) == in.rank() &&
                  static_cast<int64_t>(e->size()) == in.rank(),
              "pads must have one entry per data axis (rank ", in.rank(), ")");
    std::vector<Dimension> out(in.size());
    for (size_t i = 0; i < in.size(); ++i) {
        if (in[i].is_dynamic()) continue;
        const int64_t d = in[i].get_length();
        const int64_t o = checked_add(ctx, checked_add(ctx, d, (*b)[i]), (*e)[i]);
        ctx.check(o >= 0, "pads make axis ", i, " negative");
        if (mode == "edge" || mode == "reflect" || mode == "symmetric")
            ctx.check(d > 0 || o == 0, "cannot pad an empty axis in ", mode, " mode");
        out[i] = o;
    }
    ctx.set_output(0, ctx.input_type(0), PartialShape(out));
}

// Source position along an axis of size d for out-of-range position p, or -1 for the fill value.
int64_t pad_source(int64_t p, int64_t d, const std::string& mode) {
    if (p >= 0 && p < d) return p;
    if (mode == "constant") return -1;
    if (mode == "edge") return p < 0 ? 0 : d - 1;
    if (mode == "reflect") {
        if (d == 1) return 0;
        const int64_t period = 2 * (d - 1);
        int64_t q = ((p % period) + period) % period;
        return q < d ? q : period - q;
    }
    const int64_t period = 2 * d;  // symmetric: the edge element repeats
    int64_t q = ((p % period) + period) % period;
    return q < d ? q : period - 1 - q;
}

void eval_pad(const Node& n, const TensorVector& in, TensorVector& out, ExecContext&) {
    allocate_outputs(n, in, out);
    const std::string mode = pad_mode(n);
    const Shape& is = in[0].shape();
    const Shape& os = out[0].shape();
    const auto b = in[1].to_int_vector();
    const auto strides = row_major_strides(is);
    std::vector<int64_t> map(out[0].size());
    for_each_index(os, [&](int64_t i, const std::vector<int64_t>& pos) {
        int64_t off = 0;
        for (size_t d = 0; d < os.size(); ++d) {
            const int64_t p = pad_source(pos[d] - b[d], is[d], mode);
            if (p < 0) {
                off = -1;
                break;
            }
            off += p * strides[d];
        }
        map[i] = off;
    });
    Tensor fill;
    if (in.size() == 4) {
        fill = in[3];
    } else {
        fill = Tensor(in[0].element_type(), {});  // zero / empty string
    }
    gather_by_map(in[0], out[0], map, &fill);
}

// Reverse(data, axis) with mode "index" (axis lists axes) or "mask" (boolean per axis).
void infer_reverse(ShapeContext& ctx) {
    ctx.expect_inputs(2);
    const std::string mode = ctx.attrs().get_string("mode", "index");
    ctx.check(mode == "index" || mode == "mask", "unknown mode ", mode);
    ctx.set_output(0, ctx.input_type(0), ctx.input_shape(0));
}

void eval_reverse(const Node& n, const TensorVector& in, TensorVector& out, ExecContext&) {
    allocate_outputs(n, in, out);
    const Shape& s = in[0].shape();
    std::vector<bool> flip(s.size(), false);
    const auto v = in[1].to_int_vector();
    if (n.attrs().get_string("mode", "index") == "mask") {
        KILN_CHECK(v.size() == s.size(), n.context(), " mask needs one entry per axis");
        for (size_t i = 0; i < v.size(); ++i) flip[i] = v[i] != 0;
    } else {
        for (int64_t a : v) flip[normalize_axis(n, a, s.size())] = true;
    }
    const auto strides = row_major_strides(s);
    std::vector<int64_t> map(in[0].size());
    for_each_index(s, [&](int64_t i, const std::vector<int64_t>& pos) {
        int64_t off = 0;
        for (size_t d = 0; d < s.size(); ++d) off += (flip[d] ? s[d] - 1 - pos[d] : pos[d]) * strides[d];
        map[i] = off;
    });
    gather_by_map(in[0], out[0], map);
}

void infer_reverse_sequence(ShapeContext& ctx) {
    ctx.expect_inputs(2);
    check_index_type(ctx, 1);
    const PartialShape& in = ctx.input_shape(0);
    if (in.rank_is_static()) {
        const int64_t b = normalize_axis(ctx, ctx.attrs().get_int("batch_axis", 0), in.rank());
        const int64_t s = normalize_axis(ctx, ctx.attrs().get_int("seq_axis", 1), in.rank());
        ctx.check(b != s, "batch_axis and seq_axis must differ");
        const PartialShape& ls = ctx.input_shape(1);
        ctx.check(!ls.rank_is_static() || ls.rank() == 1, "seq_lengths must be 1-D");
        if (ls.rank_is_static())
            ctx.check(ls[0].compatible(in[b]), "seq_lengths must have one entry per batch");
    }
    ctx.set_output(0, ctx.input_type(0), in);
}

void eval_reverse_sequence(const Node& n, const TensorVector& in, TensorVector& out,
                           ExecContext&) {
    allocate_outputs(n, in, out);
    const Shape& s = in[0].shape();
    const int64_t b = normalize_axis(n, n.attrs().get_int("batch_axis", 0), s.size());
    const int64_t q = normalize_axis(n, n.attrs().get_int("seq_axis", 1), s.size());
    const auto lens = in[1].to_int_vector();
    KILN_CHECK(static_cast<int64_t>(lens.size()) == s[b], n.context(),
               " seq_lengths must have one entry per batch");
    for (int64_t l : lens)
        KILN_CHECK(l >= 0 && l <= s[q], n.context(), " sequence length ", l, " is out of range");
    const auto strides = row_major_strides(s);
    std::vector<int64_t> map(in[0].size());
    for_each_index(s, [&](int64_t i, const std::vector<int64_t>& pos) {
        int64_t off = 0;
        const int64_t len = lens[pos[b]];
        for (size_t d = 0; d < s.size(); ++d) {
            int64_t p = pos[d];
            if (static_cast<int64_t>(d) == q && p < len) p = len - 1 - p;
            off += p * strides[d];
        }
        map[i] = off;
    });
    gather_by_map(in[0], out[0], map);
}

// DepthToSpace / SpaceToDepth over [N, C, D1..Dk]; mode blocks_first or depth_first.
template <bool ToSpace>
void infer_depth_space(ShapeContext& ctx) {
    ctx.expect_inputs(1);
    const int64_t bs = ctx.attrs().get_int("block_size", 1);
    const std::string mode = ctx.attrs().get_string("mode", "blocks_first");
    ctx.check(mode == "blocks_first" || mode == "depth_first", "unknown mode ", mode);
    ctx.check(bs > 0, "block_size must be positive");
    const PartialShape& in = ctx.input_shape(0);
    if (!in.rank_is_static()) {
        ctx.set_output(0, ctx.input_type(0), PartialShape());
        return;
    }
    ctx.check(in.rank() >= 3, "needs rank >= 3, got ", to_string(in));
    const int64_t k = in.rank() - 2;
    int64_t bk = 1;
    for (int64_t i = 0; i < k; ++i) bk = checked_mul(ctx, bk, bs);
    PartialShape out = in;
    if (in[1].is_static()) {
        if (ToSpace) {
            ctx.check(in[1].get_length() % bk == 0, "channels ", in[1].get_length(),
                      " are not divisible by ", bk);
            out[1] = in[1].get_length() / bk;
        } else {
            out[1] = checked_mul(ctx, in[1].get_length(), bk);
        }
    }
    for (int64_t i = 2; i < in.rank(); ++i) {
        if (in[i].is_dynamic()) continue;
        if (ToSpace) {
            out[i] = checked_mul(ctx, in[i].get_length(), bs);
        } else {
            ctx.check(in[i].get_length() % bs == 0, "spatial size ", in[i].get_length(),
                      " is not divisible by ", bs);
            out[i] = in[i].get_length() / bs;
        }
    }
    ctx.set_output(0, ctx.input_type(0), out);
}

template <bool ToSpace>
void eval_depth_space(const Node& n, const TensorVector& in, TensorVector& out, ExecContext&) {
    allocate_outputs(n, in, out);
    const int64_t bs = n.attrs().get_int("block_size", 1);
    const bool blocks_first = n.attrs().get_string("mode", "blocks_first") == "blocks_first";
    const Shape& is = in[0].shape();
    const Shape& os = out[0].shape();
    const size_t k = is.size() - 2;
    int64_t bk = 1;
    for (size_t i = 0; i < k; ++i) bk *= bs;
    const auto strides = row_major_strides(is);
    std::vector<int64_t> map(out[0].size());
    // The "space" side has small channels and large spatial dims.
    const int64_t small_c = ToSpace ? os[1] : is[1];
    for_each_index(os, [&](int64_t i, const std::vector<int64_t>& pos) {
        int64_t block = 0, off = pos[0] * strides[0];
        if (ToSpace) {
            for (size_t d = 0; d < k; ++d) {
                block = block * bs + pos[2 + d] % bs;
                off += pos[2 + d] / bs * strides[2 + d];
            }
            const int64_t c = blocks_first ? block * small_c + pos[1] : pos[1] * bk + block;
            map[i] = off + c * strides[1];
        } else {
            const int64_t c = blocks_first ? pos[1] % small_c : pos[1] / bk;
            block = blocks_first ? pos[1] / small_c : pos[1] % bk;
            int64_t rest = block;
            for (size_t d = k; d-- > 0;) {
                off += (pos[2 + d] * bs + rest % bs) * strides[2 + d];
                rest /= bs;
            }
            map[i] = off + c * strides[1];
        }
    });
    gather_by_map(in[0], out[0], map);
}

}  // namespace

void register_pad_ops(OpRegistry& r) {
    r.add({"Pad", "opset12", infer_pad, eval_pad});
    r.add({"Reverse", "opset1", infer_reverse, eval_reverse});
    r.add({"ReverseSequence", "opset1", infer_reverse_sequence, eval_reverse_sequence});
    r.add({"DepthToSpace", "opset1", infer_depth_space<true>, eval_depth_space<true>});
    r.add({"SpaceToDepth", "opset1", infer_depth_space<false>, eval_depth_space<false>});
}

}  // namespace kiln::movement
