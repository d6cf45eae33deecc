// Graph plumbing ops: Parameter, Const, Result, and the state ops ReadValue / Assign.
#include "core/op_def.hpp"

namespace kiln {
namespace {

void infer_parameter(ShapeContext& ctx) {
    ctx.expect_inputs(0);
    ctx.set_output(0, element_type_from_string(ctx.attrs().get_string("element_type")),
                   parse_partial_shape(ctx.attrs().get_string("shape")));
}

void infer_const(ShapeContext& ctx) {
    ctx.expect_inputs(0);
    const Tensor& v = ctx.node().value();
    ctx.check(!v.empty(), "has no value");
    ctx.set_output(0, v.element_type(), v.shape());
}

void eval_const(const Node& n, const TensorVector&, TensorVector& out, ExecContext&) {
    out.assign(1, n.value());
}

void infer_identity(ShapeContext& ctx) {
    ctx.expect_inputs(1);
    ctx.set_output(0, ctx.input_type(0), ctx.input_shape(0));
}

void eval_identity(const Node&, const TensorVector& in, TensorVector& out, ExecContext&) {
    out.assign(1, in[0]);
}

// ReadValue(init?) -> the variable's current value, or init (zeros when absent) on first read.
void infer_read_value(ShapeContext& ctx) {
    ctx.expect_inputs(0, 1);
    ctx.check(!ctx.attrs().get_string("variable_id", "").empty(), "needs a variable_id");
    const std::string declared = ctx.attrs().get_string("variable_shape", "");
    if (ctx.input_count() == 1 && !declared.empty()) {
        // The variable's declared shape, not the initializer's: a KV cache starts with 0 rows
        // and grows, and a pass must not take the first value's length for the variable's.
        const PartialShape shape = parse_partial_shape(declared);
        ctx.check(shape.compatible(ctx.input_shape(0)), "initializer ",
                  to_string(ctx.input_shape(0)), " does not fit the variable shape ",
                  to_string(shape));
        ctx.set_output(0, ctx.input_type(0), shape);
    } else if (ctx.input_count() == 1) {
        ctx.set_output(0, ctx.input_type(0), ctx.input_shape(0));
    } else {
        ctx.set_output(0, element_type_from_string(ctx.attrs().get_string("variable_type")),
                       parse_partial_shape(ctx.attrs().get_string("variable_shape")));
    }
}

void eval_read_value(const Node& n, const TensorVector& in, TensorVector& out, ExecContext& ctx) {
    const std::string id = n.attrs().get_string("variable_id");
    KILN_CHECK(ctx.variables, n.context(), " needs variable state");
    auto it = ctx.variables->find(id);
    if (it != ctx.variables->end()) {
        out.assign(1, it->second);
    } else if (!in.empty()) {
        out.assign(1, in[0]);
    } else {
        PartialShape ps = n.output_shape(0);
        KILN_CHECK(ps.is_static(), n.context(), " variable '", id,
                   "' has a dynamic shape and no initializer");
        out.assign(1, Tensor(n.output_type(0), ps.to_shape()));
    }
}

void infer_assign(ShapeContext& ctx) {
    ctx.expect_inputs(1);
    ctx.check(!ctx.attrs().get_string("variable_id", "").empty(), "needs a variable_id");
    ctx.set_output(0, ctx.input_type(0), ctx.input_shape(0));
}

void eval_assign(const Node& n, const TensorVector& in, TensorVector& out, ExecContext& ctx) {
    KILN_CHECK(ctx.variables, n.context(), " needs variable state");
    (*ctx.variables)[n.attrs().get_string("variable_id")] = in[0].clone();
    out.assign(1, in[0]);
}

}  // namespace

void register_basic_ops(OpRegistry& r) {
    r.add({"Parameter", "opset1", infer_parameter, nullptr});
    r.add({"Const", "opset1", infer_const, eval_const});
    r.add({"Result", "opset1", infer_identity, eval_identity});
    r.add({"ReadValue", "opset6", infer_read_value, eval_read_value});
    r.add({"Assign", "opset6", infer_assign, eval_assign});
}

}  // namespace kiln
