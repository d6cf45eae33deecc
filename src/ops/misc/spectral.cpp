// Spectral ops with OpenVINO semantics: DFT / IDFT (v7: complex data [..., 2], axes, optional
// signal_size), RDFT (v9: real data, onesided complex result) and STFT (v15: real signal
// [batch?, length], window, frame_size, frame_step; onesided). Kernels are direct O(n^2)
// transforms in double precision, one axis at a time.
#include <cmath>
#include <complex>
#include <numbers>

#include "core/dispatch.hpp"
#include "ops/common/shape_utils.hpp"
#include "ops/misc/misc_utils.hpp"

namespace kiln {
namespace {

using cd = std::complex<double>;

// Normalized DFT axes; `rank` excludes the trailing complex axis.
std::vector<int64_t> dft_axes(const Node& node, const std::vector<int64_t>& axes, int64_t rank) {
    std::vector<int64_t> out;
    for (int64_t a : axes) {
        KILN_CHECK(a >= -rank && a < rank, node.context(), " axis ", a,
                   " is out of range for signal rank ", rank);
        out.push_back(a < 0 ? a + rank : a);
    }
    return out;
}

// DFT/IDFT/RDFT share inference: `real_in` means no trailing complex axis on the input.
template <bool RealIn>
void infer_dft(ShapeContext& ctx) {
    ctx.expect_inputs(2, 3);
    const ElementType t = ctx.input_type(0);
    ctx.check(t == ElementType::dynamic || is_float(t), "expects floating-point data");
    const PartialShape& s = ctx.input_shape(0);
    if (!s.rank_is_static()) {
        ctx.set_output(0, t, PartialShape());
        return;
    }
    const int64_t rank = s.rank() - (RealIn ? 0 : 1);
    ctx.check(rank >= 1, "data rank is too small");
    if (!RealIn) {
        ctx.check(s[rank].compatible(Dimension(2)), "the last axis must hold 2 (re, im), got ",
                  to_string(s));
    }
    auto axes = const_ints(ctx, 1);
    std::vector<Dimension> out(s.dims().begin(), s.dims().begin() + rank);
    if (!axes) {
        for (auto& d : out) d = Dimension::dynamic();
    } else {
        auto ax = dft_axes(ctx.node(), *axes, rank);
        std::optional<std::vector<int64_t>> sizes;
        if (ctx.input_count() == 3) {
            sizes = const_ints(ctx, 2);
            ctx.check(!sizes || sizes->size() == ax.size(), "signal_size must match axes");
        }
        for (size_t i = 0; i < ax.size(); ++i) {
            if (ctx.input_count() == 3 && !sizes)
                out[ax[i]] = Dimension::dynamic();
            else if (sizes && (*sizes)[i] != -1)
                out[ax[i]] = (*sizes)[i];
        }
        if (RealIn && !ax.empty() && out[ax.back()].is_static())
            out[ax.back()] = out[ax.back()].get_length() / 2 + 1;
        else if (RealIn && !ax.empty())
            out[ax.back()] = Dimension::dynamic();
    }
    out.push_back(2);
    ctx.set_output(0, t, PartialShape(out));
}

// Transforms `data` (complex, shape `shape`) along `axis` to length `n` (zero pad / trim).
std::vector<cd> dft_axis(const std::vector<cd>& data, Shape& shape, int64_t axis, int64_t n,
                         bool inverse) {
    const AxisSplit s = split_at_axis(shape, axis);
    std::vector<cd> out(static_cast<size_t>(s.outer * n * s.inner));
    const double sign = inverse ? 1.0 : -1.0;
    for (int64_t o = 0; o < s.outer; ++o)
        for (int64_t i = 0; i < s.inner; ++i)
            for (int64_t k = 0; k < n; ++k) {
                cd acc = 0;
                for (int64_t j = 0; j < std::min(n, s.n); ++j) {
                    const double ang = sign * 2 * std::numbers::pi *
                                       static_cast<double>((j * k) % n) / static_cast<double>(n);
                    acc += data[(o * s.n + j) * s.inner + i] * cd(std::cos(ang), std::sin(ang));
                }
                if (inverse) acc /= static_cast<double>(n);
                out[(o * n + k) * s.inner + i] = acc;
            }
    shape[axis] = n;
    return out;
}

template <bool RealIn, bool Inverse>
void eval_dft(const Node& node, const TensorVector& in, TensorVector& out, ExecContext&) {
    allocate_outputs(node, in, out);
    Shape shape = in[0].shape();
    if (!RealIn) shape.pop_back();
    auto ax = dft_axes(node, in[1].to_int_vector(), static_cast<int64_t>(shape.size()));
    std::vector<int64_t> sizes = in.size() == 3 ? in[2].to_int_vector() : std::vector<int64_t>{};
    KILN_CHECK(sizes.empty() || sizes.size() == ax.size(), node.context(),
               " signal_size must match axes");
    std::vector<cd> data(static_cast<size_t>(shape_size(shape)));
    dispatch_float(in[0].element_type(), [&](auto tag) {
        using T = KILN_TYPE_OF(tag);
        const T* x = in[0].data<T>();
        for (size_t i = 0; i < data.size(); ++i)
            data[i] = RealIn ? cd(static_cast<double>(x[i]), 0)
                             : cd(static_cast<double>(x[2 * i]), static_cast<double>(x[2 * i + 1]));
    });
    for (size_t i = 0; i < ax.size(); ++i) {
        const int64_t n = sizes.empty() || sizes[i] == -1 ? shape[ax[i]] : sizes[i];
        KILN_CHECK(n > 0, node.context(), " signal size must be positive");
        data = dft_axis(data, shape, ax[i], n, Inverse);
    }
    if (RealIn && !ax.empty()) {  // keep the non-redundant half of the last transformed axis
        const AxisSplit s = split_at_axis(shape, ax.back());
        const int64_t half = s.n / 2 + 1;
        std::vector<cd> h(static_cast<size_t>(s.outer * half * s.inner));
        for (int64_t o = 0; o < s.outer; ++o)
            for (int64_t k = 0; k < half; ++k)
                for (int64_t i = 0; i < s.inner; ++i)
                    h[(o * half + k) * s.inner + i] = data[(o * s.n + k) * s.inner + i];
        data = std::move(h);
    }
    KILN_CHECK(static_cast<int64_t>(data.size()) * 2 == out[0].size(), node.context(),
               " output size mismatch");
    dispatch_float(out[0].element_type(), [&](auto tag) {
        using T = KILN_TYPE_OF(tag);
        T* y = out[0].data<T>();
        for (size_t i = 0; i < data.size(); ++i) {
            y[2 * i] = from_f64<T>(data[i].real());
            y[2 * i + 1] = from_f64<T>(data[i].imag());
        }
    });
}

// STFT v15: signal [batch, length] or [length], window [w <= frame_size] (centered), frame_size,
// frame_step scalars -> [batch, frames, frame_size/2+1, 2] ([batch, bins, frames, 2] when
// transpose_frames).
void infer_stft(ShapeContext& ctx) {
    ctx.expect_inputs(4);
    const ElementType t = ctx.input_type(0);
    ctx.check(t == ElementType::dynamic || is_float(t), "expects a floating-point signal");
    const PartialShape& s = ctx.input_shape(0);
    ctx.check(!s.rank_is_static() || s.rank() == 1 || s.rank() == 2, "signal must be 1-D or 2-D");
    const PartialShape& w = ctx.input_shape(1);
    ctx.check(!w.rank_is_static() || w.rank() == 1, "window must be 1-D");
    const bool transpose = ctx.attrs().get_bool("transpose_frames", false);
    auto fs = const_ints(ctx, 2), st = const_ints(ctx, 3);
    Dimension frames, bins;
    if (fs) {
        ctx.check(fs->size() == 1 && (*fs)[0] > 0, "frame_size must be a positive scalar");
        bins = (*fs)[0] / 2 + 1;
    }
    if (st) ctx.check(st->size() == 1 && (*st)[0] > 0, "frame_step must be a positive scalar");
    if (fs && st && s.rank_is_static() && s[s.size() - 1].is_static()) {
        const int64_t len = s[s.size() - 1].get_length();
        ctx.check(len >= (*fs)[0], "signal is shorter than frame_size");
        frames = (len - (*fs)[0]) / (*st)[0] + 1;
    }
    std::vector<Dimension> out;
    if (!s.rank_is_static()) {
        ctx.set_output(0, t, PartialShape());
        return;
    }
    if (s.rank() == 2) out.push_back(s[0]);
    if (transpose)
        out.insert(out.end(), {bins, frames, 2});
    else
        out.insert(out.end(), {frames, bins, 2});
    ctx.set_output(0, t, PartialShape(out));
}

void eval_stft(const Node& node, const TensorVector& in, TensorVector& out, ExecContext&) {
    allocate_outputs(node, in, out);
    const int64_t fsize = in[2].value_as_int(0), step = in[3].value_as_int(0);
    const bool transpose = node.attrs().get_bool("transpose_frames", false);
    const int64_t len = in[0].shape().back();
    const int64_t batch = in[0].rank() == 2 ? in[0].shape()[0] : 1;
    const int64_t wlen = in[1].size();
    KILN_CHECK(wlen <= fsize, node.context(), " window is longer than frame_size");
    KILN_CHECK(len >= fsize && fsize > 0 && step > 0, node.context(),
               " bad frame_size / frame_step");
    const int64_t frames = (len - fsize) / step + 1, bins = fsize / 2 + 1;
    const int64_t wpad = (fsize - wlen) / 2;
    auto sig = in[0].to_double_vector();
    auto win = in[1].to_double_vector();
    std::vector<double> y(static_cast<size_t>(batch * frames * bins * 2));
    for (int64_t b = 0; b < batch; ++b)
        for (int64_t f = 0; f < frames; ++f)
            for (int64_t k = 0; k < bins; ++k) {
                cd acc = 0;
                for (int64_t j = 0; j < wlen; ++j) {
                    const int64_t pos = j + wpad;
                    const double ang = -2 * std::numbers::pi *
                                       static_cast<double>((pos * k) % fsize) /
                                       static_cast<double>(fsize);
                    acc +=
                        sig[b * len + f * step + pos] * win[j] * cd(std::cos(ang), std::sin(ang));
                }
                const int64_t o =
                    transpose ? ((b * bins + k) * frames + f) : ((b * frames + f) * bins + k);
                y[2 * o] = acc.real();
                y[2 * o + 1] = acc.imag();
            }
    dispatch_float(out[0].element_type(), [&](auto tag) {
        using T = KILN_TYPE_OF(tag);
        T* d = out[0].data<T>();
        for (size_t i = 0; i < y.size(); ++i) d[i] = from_f64<T>(y[i]);
    });
}

}  // namespace

void register_spectral(OpRegistry& r) {
    r.add({"DFT", "opset7", infer_dft<false>, eval_dft<false, false>});
    r.add({"IDFT", "opset7", infer_dft<false>, eval_dft<false, true>});
    r.add({"RDFT", "opset9", infer_dft<true>, eval_dft<true, false>});
    r.add({"STFT", "opset15", infer_stft, eval_stft});
}

}  // namespace kiln
