// The data-movement family: reshaping, slicing, gathering, scattering, padding and friends.
#include "ops/movement/movement_utils.hpp"

namespace kiln {
namespace movement {

void gather_by_map(const Tensor& src, Tensor& dst, const std::vector<int64_t>& map,
                   const Tensor* fill) {
    KILN_CHECK(static_cast<int64_t>(map.size()) == dst.size(), "gather_by_map: size mismatch");
    ElementCopier copier(src, dst);
    std::optional<ElementCopier> filler;
    if (fill) {
        KILN_CHECK(fill->size() == 1, "fill value must hold one element, got ", describe(*fill));
        filler.emplace(*fill, dst);
    }
    const int64_t n = src.size();
    for (size_t i = 0; i < map.size(); ++i) {
        const int64_t j = map[i];
        if (j >= 0) {
            KILN_CHECK(j < n, "gather_by_map: source index out of range");
            copier.copy(static_cast<int64_t>(i), j);
        } else {
            KILN_CHECK(filler.has_value(), "gather_by_map: no fill value");
            filler->copy(static_cast<int64_t>(i), 0);
        }
    }
}

int64_t product(const Shape& s, size_t begin, size_t end) {
    int64_t p = 1;
    for (size_t i = begin; i < end && i < s.size(); ++i) p *= s[i];
    return p;
}

std::optional<int64_t> const_scalar(const ShapeContext& ctx, size_t input) {
    auto v = const_ints(ctx, input);
    if (!v) return std::nullopt;
    ctx.check(v->size() == 1, "input ", input, " must hold a single value, got ", v->size());
    return v->front();
}

void check_index_type(const ShapeContext& ctx, size_t input) {
    const ElementType t = ctx.input_type(input);
    ctx.check(t == ElementType::dynamic || (is_integral(t) && t != ElementType::boolean),
              "input ", input, " must have an integer type, got ", to_string(t));
}

}  // namespace movement

void register_movement_ops(OpRegistry& r) {
    movement::register_shape_ops(r);
    movement::register_index_ops(r);
    movement::register_scatter_ops(r);
    movement::register_layout_ops(r);
    movement::register_generate_ops(r);
}

}  // namespace kiln
