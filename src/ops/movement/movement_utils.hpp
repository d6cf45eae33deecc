#pragma once
// Helpers shared by the data-movement kernels. Data movement does not look at values, so kernels
// copy elements through ElementCopier (bytes for every fixed-size type, values for strings) and
// work for every element type.
#include <cstring>
#include <string>
#include <vector>

#include "core/dispatch.hpp"
#include "core/op_def.hpp"
#include "ops/common/shape_utils.hpp"

namespace kiln::movement {

class ElementCopier {
public:
    ElementCopier(const Tensor& src, Tensor& dst) {
        KILN_CHECK(src.element_type() == dst.element_type(), "cannot copy ",
                   to_string(src.element_type()), " elements into a ",
                   to_string(dst.element_type()), " tensor");
        const ElementType t = src.element_type();
        if (t == ElementType::string) {
            ssrc_ = src.data<std::string>();
            sdst_ = dst.data<std::string>();
        } else {
            KILN_CHECK(bit_width(t) >= 8 && bit_width(t) % 8 == 0, "element type ", to_string(t),
                       " is not supported by data-movement kernels");
            elem_ = bit_width(t) / 8;
            src_ = static_cast<const uint8_t*>(src.raw_data());
            dst_ = static_cast<uint8_t*>(dst.raw_data());
        }
    }
    /// Copies `count` consecutive elements from src[src_index] to dst[dst_index].
    void copy(int64_t dst_index, int64_t src_index, int64_t count = 1) const {
        if (count <= 0) return;
        if (sdst_) {
            for (int64_t i = 0; i < count; ++i) sdst_[dst_index + i] = ssrc_[src_index + i];
        } else {
            std::memcpy(dst_ + static_cast<size_t>(dst_index) * elem_,
                        src_ + static_cast<size_t>(src_index) * elem_,
                        static_cast<size_t>(count) * elem_);
        }
    }

private:
    const uint8_t* src_ = nullptr;
    uint8_t* dst_ = nullptr;
    size_t elem_ = 0;
    const std::string* ssrc_ = nullptr;
    std::string* sdst_ = nullptr;
};

/// dst[i] = src[map[i]], or the single element of `fill` where map[i] < 0.
void gather_by_map(const Tensor& src, Tensor& dst, const std::vector<int64_t>& map,
                   const Tensor* fill = nullptr);

/// Calls fn(linear_index, multi_index) for every element of `shape` in row-major order.
template <class Fn>
void for_each_index(const Shape& shape, Fn&& fn) {
    const int64_t total = shape_size(shape);
    std::vector<int64_t> idx(shape.size(), 0);
    for (int64_t i = 0; i < total; ++i) {
        fn(i, static_cast<const std::vector<int64_t>&>(idx));
        for (int64_t d = static_cast<int64_t>(shape.size()) - 1; d >= 0; --d) {
            if (++idx[d] < shape[d]) break;
            idx[d] = 0;
        }
    }
}

/// a * b (or a + b), failing with the node context instead of overflowing.
inline int64_t checked_mul(const ShapeContext& ctx, int64_t a, int64_t b) {
    int64_t r = 0;
    ctx.check(!__builtin_mul_overflow(a, b, &r), "dimension overflows: ", a, " * ", b);
    return r;
}
inline int64_t checked_add(const ShapeContext& ctx, int64_t a, int64_t b) {
    int64_t r = 0;
    ctx.check(!__builtin_add_overflow(a, b, &r), "dimension overflows: ", a, " + ", b);
    return r;
}

/// Product of dims [begin, end) of a static shape.
int64_t product(const Shape& s, size_t begin, size_t end);

/// The scalar or 1-element integer input value, when known.
std::optional<int64_t> const_scalar(const ShapeContext& ctx, size_t input);

/// Checks an integer element type for index / shape inputs.
void check_index_type(const ShapeContext& ctx, size_t input);

void register_shape_ops(OpRegistry& r);
void register_index_ops(OpRegistry& r);
void register_scatter_ops(OpRegistry& r);
void register_layout_ops(OpRegistry& r);
void register_generate_ops(OpRegistry& r);

}  // namespace kiln::movement
