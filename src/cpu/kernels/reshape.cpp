#include "cpu/kernels/reshape.hpp"

#include <vector>

namespace kiln::cpu {

KernelFn make_reshape_kernel(const Node& node, const KernelContext&) {
    if (node.type() != "Reshape" || node.input_count() != 2) return {};
    const ElementType t = node.input_type(1);
    if (t != ElementType::i64 && t != ElementType::i32) return {};
    const bool special_zero = node.attrs().get_bool("special_zero", false);
    std::vector<int64_t> fixed;  // the target when it is a constant
    const bool constant = node.input_constant(1) != nullptr;
    if (constant) fixed = node.input_constant(1)->to_int_vector();
    const std::string context = node.context();

    return [=](const TensorVector& in, TensorVector& out, ExecContext&) {
        const Tensor& x = in[0];
        const std::vector<int64_t> target = constant ? fixed : in[1].to_int_vector();
        Shape shape(target.size());
        int64_t open = -1, known = 1;
        for (size_t i = 0; i < target.size(); ++i) {
            const int64_t v = target[i];
            if (v == -1) {
                KILN_CHECK(open < 0, context, " target shape has more than one -1");
                open = static_cast<int64_t>(i);
                continue;
            }
            if (v == 0 && special_zero) {
                KILN_CHECK(i < x.shape().size(), context, " target shape copies dimension ", i,
                           " with 0, but the input has rank ", x.rank());
                shape[i] = x.shape()[i];
            } else {
                KILN_CHECK(v >= 0, context, " target shape has invalid value ", v);
                shape[i] = v;
            }
            known *= shape[i];
        }
        if (open >= 0) {
            KILN_CHECK(known != 0 ? x.size() % known == 0 : x.size() == 0, context,
                       " cannot reshape ", to_string(x.shape()), " to ", to_string(Shape(target)));
            shape[open] = known != 0 ? x.size() / known : 0;
        } else {
            KILN_CHECK(known == x.size(), context, " cannot reshape ", to_string(x.shape()), " (",
                       x.size(), " elements) to ", to_string(shape));
        }
        out.assign(1, x.reshaped(std::move(shape)));
    };
}

}  // namespace kiln::cpu
