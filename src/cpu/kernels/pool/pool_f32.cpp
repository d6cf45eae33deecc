#include "cpu/kernels/pool/pool_f32.hpp"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <utility>
#include <vector>

#include "cpu/kernels/gemm/gemm.hpp"
#include "cpu/kernels/pool/pool_isa.hpp"
#include "cpu/kernels/uninitialized_tensor.hpp"
#include "ops/nn/nn_utils.hpp"

namespace kiln::cpu {

namespace {

// Valid taps [lo, hi) of every output position along one axis, and the window extent clipped to
// the padded input (AvgPool's divisor when pads count).
struct AxisRanges {
    std::vector<int64_t> lo, hi, padded;
};

AxisRanges axis_ranges(int64_t out, int64_t in, int64_t k, int64_t s, int64_t d, int64_t pb,
                       int64_t pe) {
    AxisRanges r;
    for (int64_t o = 0; o < out; ++o) {
        const int64_t start = o * s - pb;
        // Tap t reads start + t*d; keep those inside [0, in).
        int64_t t0 = start >= 0 ? 0 : (-start + d - 1) / d;
        int64_t t1 = in - start <= 0 ? 0 : (in - start + d - 1) / d;
        t0 = std::min(t0, k);
        t1 = std::clamp(t1, t0, k);
        r.lo.push_back(t0);
        r.hi.push_back(t1);
        const int64_t end = start + k;  // AvgPool has no dilation
        r.padded.push_back(std::max<int64_t>(std::min(end, in + pe) - std::max(start, -pb), 0));
    }
    return r;
}

struct Plan2d {
    int64_t h, w, oh, ow, sy, sx, dy, dx, pt, pl;
    AxisRanges ys, xs;
};

Plan2d plan_for(const Node& node, nn::Window win, int64_t h, int64_t w) {
    const Shape out = nn::resolve_window(node, win, {h, w});
    Plan2d p{h,
             w,
             out[0],
             out[1],
             win.strides[0],
             win.strides[1],
             win.dilations[0],
             win.dilations[1],
             win.pads_begin[0],
             win.pads_begin[1],
             {},
             {}};
    p.ys = axis_ranges(p.oh, h, win.kernel[0], p.sy, p.dy, p.pt, win.pads_end[0]);
    p.xs = axis_ranges(p.ow, w, win.kernel[1], p.sx, p.dx, p.pl, win.pads_end[1]);
    return p;
}

// The outputs [lo, hi) of an axis whose windows lie wholly inside the input.
std::pair<int64_t, int64_t> interior(const AxisRanges& r, int64_t k) {
    const int64_t n = static_cast<int64_t>(r.lo.size());
    int64_t lo = 0;
    while (lo < n && (r.lo[lo] != 0 || r.hi[lo] != k)) ++lo;
    int64_t hi = lo;
    while (hi < n && r.lo[hi] == 0 && r.hi[hi] == k) ++hi;
    return {lo, hi};
}

template <class I>
void max_plane(const Plan2d& p, int64_t kw, bool vector, const float* x, float* y, I* idx,
               int64_t base, int64_t modulo) {
    // The AVX-512 rows need unit column dilation; they cover the horizontally interior windows.
    const bool vec = vector && p.dx == 1 && (p.sx == 1 || p.sx == 2);
    const auto [vlo, vhi] = vec ? interior(p.xs, kw) : std::pair<int64_t, int64_t>{0, 0};
    thread_local std::vector<int32_t> at_row;
    thread_local std::vector<int64_t> rows;
    if (static_cast<int64_t>(at_row.size()) < p.ow) at_row.resize(static_cast<size_t>(p.ow));
    auto finish = [&](int64_t o, int64_t best_at) {
        // A division per output costs more than the pooling; most indices are below modulo.
        int64_t flat = best_at < 0 ? 0 : base + best_at;
        if (flat >= modulo) flat %= modulo;
        idx[o] = static_cast<I>(flat);
    };
    for (int64_t oy = 0; oy < p.oh; ++oy) {
        const int64_t iy0 = oy * p.sy - p.pt;
        const bool vec_row = vhi > vlo && p.ys.hi[oy] > p.ys.lo[oy];
        if (vec_row) {
            rows.clear();
            for (int64_t i = p.ys.lo[oy]; i < p.ys.hi[oy]; ++i) rows.push_back(iy0 + i * p.dy);
            pool::detail::max_row_avx512(x, p.w, rows.data(), static_cast<int64_t>(rows.size()), kw,
                                         p.sx, vlo * p.sx - p.pl, vhi - vlo, y + oy * p.ow + vlo,
                                         at_row.data());
            for (int64_t o = vlo; o < vhi; ++o) finish(oy * p.ow + o, at_row[o - vlo]);
        }
        for (int64_t ox = 0; ox < p.ow; ++ox) {
            if (vec_row && ox == vlo) {
                ox = vhi - 1;
                continue;
            }
            const int64_t ix0 = ox * p.sx - p.pl;
            float best = 0.f;
            int64_t best_at = -1;
            for (int64_t i = p.ys.lo[oy]; i < p.ys.hi[oy]; ++i) {
                const int64_t row = (iy0 + i * p.dy) * p.w;
                for (int64_t j = p.xs.lo[ox]; j < p.xs.hi[ox]; ++j) {
                    const int64_t at = row + ix0 + j * p.dx;
                    // The first maximum wins, as in the reference kernel.
                    if (best_at < 0 || x[at] > best) {
                        best = x[at];
                        best_at = at;
                    }
                }
            }
            // Windows entirely in the padding give -inf, index 0 (the reference's values).
            y[oy * p.ow + ox] = best_at < 0 ? -std::numeric_limits<float>::infinity() : best;
            finish(oy * p.ow + ox, best_at);
        }
    }
}

// Sum of n floats in 16 independent lanes, which the compiler vectorizes.
float sum_of(const float* x, int64_t n) {
    float lanes[16] = {};
    int64_t i = 0;
    for (; i + 16 <= n; i += 16)
        for (int l = 0; l < 16; ++l) lanes[l] += x[i + l];
    float s = 0.f;
    for (; i < n; ++i) s += x[i];
    for (float l : lanes) s += l;
    return s;
}

void avg_plane(const Plan2d& p, bool exclude_pad, const float* x, float* y) {
    for (int64_t oy = 0; oy < p.oh; ++oy) {
        const int64_t iy0 = oy * p.sy - p.pt;
        for (int64_t ox = 0; ox < p.ow; ++ox) {
            const int64_t ix0 = ox * p.sx - p.pl;
            const int64_t j0 = p.xs.lo[ox], j1 = p.xs.hi[ox];
            float sum = 0.f;
            if (ix0 + j0 == 0 && j1 - j0 == p.w) {
                // Whole rows (global pooling): one contiguous run.
                const int64_t i0 = p.ys.lo[oy], i1 = p.ys.hi[oy];
                sum = sum_of(x + (iy0 + i0) * p.w, (i1 - i0) * p.w);
            } else {
                for (int64_t i = p.ys.lo[oy]; i < p.ys.hi[oy]; ++i)
                    sum += sum_of(x + (iy0 + i) * p.w + ix0 + j0, j1 - j0);
            }
            const int64_t count = (p.ys.hi[oy] - p.ys.lo[oy]) * (j1 - j0);
            const int64_t div = exclude_pad ? count : p.ys.padded[oy] * p.xs.padded[ox];
            y[oy * p.ow + ox] = div > 0 ? sum / static_cast<float>(div) : 0.f;
        }
    }
}

}  // namespace

KernelFn make_pool_f32_kernel(const Node& node, const KernelContext& /*kc*/) {
    const bool max = node.type() == "MaxPool";
    if (!max && node.type() != "AvgPool") return {};
    const PartialShape& data = node.input_shape(0);
    if (node.input_type(0) != ElementType::f32 || !data.rank_is_static() || data.size() != 4)
        return {};
    nn::Window proto;
    ElementType index_type = ElementType::i64;
    int64_t axis = 0;
    try {
        proto = nn::read_window(node, node.attrs().get_ints("kernel"), max, true);
        if (max) {
            index_type =
                element_type_from_string(node.attrs().get_string("index_element_type", "i64"));
            axis = node.attrs().get_int("axis", 0);
            if (axis < 0) axis += 4;
        }
    } catch (const Error&) {
        return {};  // the reference kernel reports bad attributes at run time
    }
    if (proto.rank() != 2 || axis < 0 || axis > 3) return {};
    if (max && index_type != ElementType::i64 && index_type != ElementType::i32) return {};
    const bool exclude_pad = node.attrs().get_bool("exclude-pad", false);
    const Node* n = &node;

    return [=](const TensorVector& in, TensorVector& out, ExecContext& ctx) {
        const Tensor& x = in[0];
        const Shape& xs = x.shape();
        KILN_CHECK(x.rank() == 4, n->context(), " data has shape ", to_string(xs),
                   ", expected [N,C,H,W]");
        const Plan2d p = plan_for(*n, proto, xs[2], xs[3]);
        const Shape ys{xs[0], xs[1], p.oh, p.ow};
        const int64_t planes = xs[0] * xs[1], in_plane = xs[2] * xs[3], out_plane = p.oh * p.ow;
        int64_t modulo = 1;
        for (int64_t i = axis; i < 4; ++i) modulo *= xs[i];
        if (modulo == 0) modulo = 1;
        Tensor y = uninitialized_tensor(ElementType::f32, ys);
        Tensor idx = max ? uninitialized_tensor(index_type, ys) : Tensor();
        const int64_t cost = std::max<int64_t>(out_plane * proto.kernel[0] * proto.kernel[1], 1);
        const int64_t kw = proto.kernel[1];
        // Vector rows track offsets in 32-bit lanes.
        const bool vector =
            gemm::best_isa() == gemm::Isa::avx512 && in_plane < (int64_t{1} << 31) - 64;
        threads_of(ctx).parallel_for(
            0, out_plane > 0 ? planes : 0, cost, [&](int64_t lo, int64_t hi) {
                for (int64_t c = lo; c < hi; ++c) {
                    const float* xp = x.data<float>() + c * in_plane;
                    float* yp = y.data<float>() + c * out_plane;
                    if (!max)
                        avg_plane(p, exclude_pad, xp, yp);
                    else if (index_type == ElementType::i64)
                        max_plane(p, kw, vector, xp, yp, idx.data<int64_t>() + c * out_plane,
                                  c * in_plane, modulo);
                    else
                        max_plane(p, kw, vector, xp, yp, idx.data<int32_t>() + c * out_plane,
                                  c * in_plane, modulo);
                }
            });
        out.clear();
        out.push_back(std::move(y));
        if (max) out.push_back(std::move(idx));
    };
}

}  // namespace kiln::cpu
