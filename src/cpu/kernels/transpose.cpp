#include "cpu/kernels/transpose.hpp"

#include <algorithm>
#include <cstring>

#include "cpu/kernels/uninitialized_tensor.hpp"

namespace kiln::cpu {
namespace {

// The permutation as output dims with their input strides, unit dims dropped and adjacent axes
// merged.
struct Collapsed {
    std::vector<int64_t> dims, in_strides;
};

Collapsed collapse(const Shape& in, const std::vector<int64_t>& perm) {
    const std::vector<int64_t> strides = row_major_strides(in);
    Collapsed c;
    for (int64_t axis : perm) {
        if (in[axis] == 1) continue;
        if (!c.dims.empty() && c.in_strides.back() == strides[axis] * in[axis]) {
            c.dims.back() *= in[axis];
            c.in_strides.back() = strides[axis];
            continue;
        }
        c.dims.push_back(in[axis]);
        c.in_strides.push_back(strides[axis]);
    }
    return c;
}

// Input offset of output position `index` over the leading `rank` collapsed dims.
int64_t offset_of(const Collapsed& c, size_t rank, int64_t index) {
    int64_t off = 0;
    for (size_t d = rank; d-- > 0;) {
        off += (index % c.dims[d]) * c.in_strides[d];
        index /= c.dims[d];
    }
    return off;
}

template <class T>
void run_transpose(ThreadPool& pool, const Collapsed& c, const T* src, T* dst, int64_t total) {
    const size_t rank = c.dims.size();
    if (rank <= 1) {
        std::memcpy(dst, src, static_cast<size_t>(total) * sizeof(T));
        return;
    }
    const int64_t inner = c.dims.back();
    if (c.in_strides.back() == 1) {
        // The last axis stays innermost: copy whole rows.
        pool.parallel_for(0, total / inner, inner, [&](int64_t lo, int64_t hi) {
            for (int64_t r = lo; r < hi; ++r)
                std::memcpy(dst + r * inner, src + offset_of(c, rank - 1, r),
                            static_cast<size_t>(inner) * sizeof(T));
        });
        return;
    }
    // The input's contiguous axis lands at output axis p: transpose [dims[p], inner] tiles, so
    // both the reads (along p) and the writes (along the last axis) touch whole cache lines.
    size_t p = 0;
    while (p < rank && c.in_strides[p] != 1) ++p;
    if (p == rank) {
        // No axis is contiguous in the input (it cannot happen for a permutation), keep going
        // element by element.
        pool.parallel_for(0, total, 4, [&](int64_t lo, int64_t hi) {
            for (int64_t i = lo; i < hi; ++i) dst[i] = src[offset_of(c, rank, i)];
        });
        return;
    }
    constexpr int64_t kTile = 16;
    const int64_t np = c.dims[p], s_last = c.in_strides.back();
    int64_t out_stride_p = 1;
    for (size_t d = p + 1; d < rank; ++d) out_stride_p *= c.dims[d];
    // Outer positions: every output dim except p and the last one.
    Collapsed outer;
    std::vector<int64_t> outer_out_strides;
    int64_t outer_count = 1;
    for (size_t d = 0; d + 1 < rank; ++d) {
        if (d == p) continue;
        outer.dims.push_back(c.dims[d]);
        outer.in_strides.push_back(c.in_strides[d]);
        int64_t s = 1;
        for (size_t e = d + 1; e < rank; ++e) s *= c.dims[e];
        outer_out_strides.push_back(s);
        outer_count *= c.dims[d];
    }
    const int64_t p_tiles = (np + kTile - 1) / kTile;
    pool.parallel_for(0, outer_count * p_tiles, kTile * inner, [&](int64_t lo, int64_t hi) {
        for (int64_t w = lo; w < hi; ++w) {
            const int64_t o = w / p_tiles, i0 = (w % p_tiles) * kTile;
            const int64_t i1 = std::min(np, i0 + kTile);
            int64_t src_off = 0, dst_off = 0, rest = o;
            for (size_t d = outer.dims.size(); d-- > 0;) {
                const int64_t coord = rest % outer.dims[d];
                rest /= outer.dims[d];
                src_off += coord * outer.in_strides[d];
                dst_off += coord * outer_out_strides[d];
            }
            for (int64_t j0 = 0; j0 < inner; j0 += kTile) {
                const int64_t j1 = std::min(inner, j0 + kTile);
                for (int64_t i = i0; i < i1; ++i) {
                    T* d = dst + dst_off + i * out_stride_p;
                    const T* s = src + src_off + i;
                    for (int64_t j = j0; j < j1; ++j) d[j] = s[j * s_last];
                }
            }
        }
    });
}

// Elements are moved as raw bits of their width, whatever their type.
template <class T>
void run_typed(ThreadPool& pool, const Collapsed& c, const Tensor& x, Tensor& y) {
    run_transpose(pool, c, static_cast<const T*>(x.raw_data()), static_cast<T*>(y.raw_data()),
                  x.size());
}

}  // namespace

KernelFn make_transpose_kernel(const Node& node, const KernelContext&) {
    if (node.type() != "Transpose" || node.input_count() != 2) return {};
    const ElementType t = node.input_type(0);
    if (t == ElementType::string || t == ElementType::dynamic) return {};
    const size_t bits = bit_width(t);
    if (bits != 8 && bits != 16 && bits != 32 && bits != 64) return {};
    const size_t bytes = bits / 8;
    const std::string context = node.context();

    return [bytes, context](const TensorVector& in, TensorVector& out, ExecContext& ctx) {
        const Tensor& x = in[0];
        const int64_t rank = x.rank();
        std::vector<int64_t> perm = in[1].to_int_vector();
        if (perm.empty())
            for (int64_t d = rank; d-- > 0;) perm.push_back(d);
        std::vector<bool> seen(static_cast<size_t>(rank), false);
        KILN_CHECK(static_cast<int64_t>(perm.size()) == rank, context, " order has ", perm.size(),
                   " axes for an input of rank ", rank);
        for (int64_t& a : perm) {
            if (a < 0) a += rank;
            KILN_CHECK(a >= 0 && a < rank && !seen[static_cast<size_t>(a)], context,
                       " order is not a permutation of the input axes");
            seen[static_cast<size_t>(a)] = true;
        }
        Shape out_shape;
        for (int64_t a : perm) out_shape.push_back(x.shape()[a]);
        const Collapsed c = collapse(x.shape(), perm);
        if (c.dims.size() <= 1 && (c.in_strides.empty() || c.in_strides[0] == 1)) {
            // Only unit axes move (a decode step's [B, 1, H, D] -> [B, H, 1, D]): the bytes are
            // already in the output's order, so the output is a view, as Reshape's is.
            out.assign(1, x.reshaped(out_shape));
            return;
        }
        Tensor y = uninitialized_tensor(x.element_type(), out_shape);
        ThreadPool& pool = threads_of(ctx);
        if (x.size() > 0) {
            switch (bytes) {
                case 1:
                    run_typed<uint8_t>(pool, c, x, y);
                    break;
                case 2:
                    run_typed<uint16_t>(pool, c, x, y);
                    break;
                case 4:
                    run_typed<uint32_t>(pool, c, x, y);
                    break;
                default:
                    run_typed<uint64_t>(pool, c, x, y);
                    break;
            }
        }
        out.assign(1, std::move(y));
    };
}

}  // namespace kiln::cpu
