// Dropout (Kiln op, no OpenVINO equivalent): inputs data, ratio (scalar), training_mode (scalar
// boolean); outputs data and an all-true boolean mask. Only the deterministic cases exist here:
// inference, or training with ratio 0. Random dropout throws at run time, since its result
// cannot be reproduced anyway; graphs whose mode is known at build time never contain this op.
#include "core/dispatch.hpp"
#include "ops/nn/nn_utils.hpp"

namespace kiln::nn {
namespace {

void infer_dropout(ShapeContext& ctx) {
    ctx.expect_inputs(3);
    for (size_t i = 1; i < 3; ++i) {
        const PartialShape& s = ctx.input_shape(i);
        ctx.check(!s.rank_is_static() || s.size() == 0 || (s.size() == 1 && s[0] == Dimension(1)),
                  "input ", i, " must be a scalar, got ", to_string(s));
    }
    ctx.check(is_float(ctx.input_type(1)) || ctx.input_type(1) == ElementType::dynamic,
              "ratio must be floating-point");
    ctx.check(
        ctx.input_type(2) == ElementType::boolean || ctx.input_type(2) == ElementType::dynamic,
        "training_mode must be boolean");
    ctx.set_output(0, ctx.input_type(0), ctx.input_shape(0));
    ctx.set_output(1, ElementType::boolean, ctx.input_shape(0));
}

void eval_dropout(const Node& node, const TensorVector& in, TensorVector& out, ExecContext&) {
    node_check(node, in[1].size() == 1 && in[2].size() == 1,
               "ratio and training_mode must be scalars");
    const bool training = in[2].value_as_int(0) != 0;
    const double ratio = in[1].value_as_double(0);
    node_check(node, !training || ratio == 0.0, "random dropout (training mode, ratio ", ratio,
               ") is not supported");
    Tensor mask(ElementType::boolean, in[0].shape());
    bool* m = mask.data<bool>();
    for (int64_t i = 0; i < mask.size(); ++i) m[i] = true;
    out = {in[0], mask};
}

}  // namespace

void register_dropout(OpRegistry& r) { r.add({"Dropout", "kiln1", infer_dropout, eval_dropout}); }

}  // namespace kiln::nn
