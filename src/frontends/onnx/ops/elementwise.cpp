// ONNX elementwise operators: unary math, activations, broadcasting binary ops, comparisons,
// logic, casts, and the variadic Max/Min/Sum/Mean.
#include <cmath>
#include <limits>
#include <optional>

#include "core/dispatch.hpp"
#include "frontends/onnx/tensor_proto.hpp"
#include "frontends/onnx/translator_registry.hpp"

namespace kiln::onnx_fe {
namespace {

/// A scalar constant of element type t (f32 when t is not known yet).
Output scalar_of(const NodeContext& ctx, ElementType t, double v) {
    if (t == ElementType::dynamic || t == ElementType::string) t = ElementType::f32;
    Tensor s(t, {});
    dispatch_numeric(t, [&](auto tag) {
        using T = KILN_TYPE_OF(tag);
        if constexpr (std::is_same_v<T, bool>) {
            *s.data<T>() = v != 0.0;
        } else if constexpr (std::is_integral_v<T>) {
            // Clamp so out-of-range bounds (e.g. +-inf clip limits) stay defined.
            const double lo = static_cast<double>(std::numeric_limits<T>::lowest());
            const double hi = static_cast<double>(std::numeric_limits<T>::max());
            *s.data<T>() = std::isnan(v) ? T(0)
                           : v <= lo ? std::numeric_limits<T>::lowest()
                           : v >= hi ? std::numeric_limits<T>::max()
                                     : static_cast<T>(v);
        } else {
            *s.data<T>() = static_cast<T>(static_cast<float>(v));
            if constexpr (std::is_same_v<T, double>) *s.data<T>() = v;
        }
    });
    return ctx.constant(s);
}

Output convert(const NodeContext& ctx, Output x, ElementType t) {
    if (x.element_type() == t) return x;
    return ctx.op("Convert", {x}, {{"destination_type", std::string(to_string(t))}});
}

template <const char* kType>
OutputVector unary(const NodeContext& ctx) {
    return {ctx.op(kType, {ctx.input(0)})};
}

template <const char* kType>
OutputVector binary(const NodeContext& ctx) {
    return {ctx.op(kType, {ctx.input(0), ctx.input(1)}, {{"auto_broadcast", std::string("numpy")}})};
}

#define KILN_NAME(id, text) constexpr char id[] = text;
KILN_NAME(kAbs, "Abs")
KILN_NAME(kAcos, "Acos")
KILN_NAME(kAcosh, "Acosh")
KILN_NAME(kAsin, "Asin")
KILN_NAME(kAsinh, "Asinh")
KILN_NAME(kAtan, "Atan")
KILN_NAME(kAtanh, "Atanh")
KILN_NAME(kCeiling, "Ceiling")
KILN_NAME(kCos, "Cos")
KILN_NAME(kCosh, "Cosh")
KILN_NAME(kErf, "Erf")
KILN_NAME(kExp, "Exp")
KILN_NAME(kFloor, "Floor")
KILN_NAME(kLog, "Log")
KILN_NAME(kNegative, "Negative")
KILN_NAME(kLogicalNot, "LogicalNot")
KILN_NAME(kRelu, "Relu")
KILN_NAME(kRound, "Round")
KILN_NAME(kSigmoid, "Sigmoid")
KILN_NAME(kSign, "Sign")
KILN_NAME(kSin, "Sin")
KILN_NAME(kSinh, "Sinh")
KILN_NAME(kSoftPlus, "SoftPlus")
KILN_NAME(kSoftSign, "SoftSign")
KILN_NAME(kSqrt, "Sqrt")
KILN_NAME(kTan, "Tan")
KILN_NAME(kTanh, "Tanh")
KILN_NAME(kHSwish, "HSwish")
KILN_NAME(kIsNaN, "IsNaN")
KILN_NAME(kBitwiseNot, "BitwiseNot")
KILN_NAME(kAdd, "Add")
KILN_NAME(kSubtract, "Subtract")
KILN_NAME(kMultiply, "Multiply")
KILN_NAME(kEqual, "Equal")
KILN_NAME(kGreater, "Greater")
KILN_NAME(kGreaterEqual, "GreaterEqual")
KILN_NAME(kLess, "Less")
KILN_NAME(kLessEqual, "LessEqual")
KILN_NAME(kLogicalAnd, "LogicalAnd")
KILN_NAME(kLogicalOr, "LogicalOr")
KILN_NAME(kLogicalXor, "LogicalXor")
KILN_NAME(kBitwiseAnd, "BitwiseAnd")
KILN_NAME(kBitwiseOr, "BitwiseOr")
KILN_NAME(kBitwiseXor, "BitwiseXor")
KILN_NAME(kMaximum, "Maximum")
KILN_NAME(kMinimum, "Minimum")
#undef KILN_NAME

const Attributes kNumpy{{"auto_broadcast", std::string("numpy")}};

OutputVector div(const NodeContext& ctx) {
    // ONNX integer division truncates toward zero (C semantics), not Python's floor.
    return {ctx.op("Divide", {ctx.input(0), ctx.input(1)},
                   {{"auto_broadcast", std::string("numpy")}, {"pythondiv", false}})};
}

OutputVector where(const NodeContext& ctx) {
    return {ctx.op("Select", {ctx.input(0), ctx.input(1), ctx.input(2)}, kNumpy)};
}

OutputVector cast(const NodeContext& ctx) {
    const ElementType to = element_type_from_onnx(static_cast<int32_t>(ctx.attr_int("to")));
    return {ctx.op("Convert", {ctx.input(0)}, {{"destination_type", std::string(to_string(to))}})};
}

OutputVector cast_like(const NodeContext& ctx) {
    return {ctx.op("ConvertLike", {ctx.input(0), ctx.input(1)})};
}

OutputVector round(const NodeContext& ctx) {
    return {ctx.op("Round", {ctx.input(0)}, {{"mode", std::string("half_to_even")}})};
}

OutputVector is_inf(const NodeContext& ctx) {
    return {ctx.op("IsInf", {ctx.input(0)},
                   {{"detect_negative", ctx.attr_int("detect_negative", 1) != 0},
                    {"detect_positive", ctx.attr_int("detect_positive", 1) != 0}})};
}

OutputVector elu(const NodeContext& ctx) {
    return {ctx.op("Elu", {ctx.input(0)}, {{"alpha", double{ctx.attr_float("alpha", 1.0f)}}})};
}

OutputVector selu(const NodeContext& ctx) {
    const Output x = ctx.input(0);
    const ElementType t = x.element_type();
    return {ctx.op("Selu", {x, scalar_of(ctx, t, ctx.attr_float("alpha", 1.67326319217681884765625f)),
                            scalar_of(ctx, t, ctx.attr_float("gamma", 1.05070102214813232421875f))})};
}

OutputVector hard_sigmoid(const NodeContext& ctx) {
    const Output x = ctx.input(0);
    const ElementType t = x.element_type();
    return {ctx.op("HardSigmoid", {x, scalar_of(ctx, t, ctx.attr_float("alpha", 0.2f)),
                                   scalar_of(ctx, t, ctx.attr_float("beta", 0.5f))})};
}

OutputVector leaky_relu(const NodeContext& ctx) {
    const Output x = ctx.input(0);
    return {ctx.op("PRelu", {x, scalar_of(ctx, x.element_type(), ctx.attr_float("alpha", 0.01f))})};
}

OutputVector prelu(const NodeContext& ctx) {
    return {ctx.op("PRelu", {ctx.input(0), ctx.input(1)})};
}

OutputVector thresholded_relu(const NodeContext& ctx) {
    const Output x = ctx.input(0);
    const ElementType t = x.element_type();
    const Output above = ctx.op("Greater", {x, scalar_of(ctx, t, ctx.attr_float("alpha", 1.0f))});
    return {ctx.op("Select", {above, x, scalar_of(ctx, t, 0.0)})};
}

// Shrink: x + bias below -lambd, x - bias above lambd, 0 in between.
OutputVector shrink(const NodeContext& ctx) {
    const Output x = ctx.input(0);
    const ElementType t = x.element_type();
    const double lambd = ctx.attr_float("lambd", 0.5f), bias = ctx.attr_float("bias", 0.0f);
    const Output below = ctx.op("Less", {x, scalar_of(ctx, t, -lambd)});
    const Output above = ctx.op("Greater", {x, scalar_of(ctx, t, lambd)});
    const Output lo = ctx.op("Add", {x, scalar_of(ctx, t, bias)});
    const Output hi = ctx.op("Subtract", {x, scalar_of(ctx, t, bias)});
    const Output mid = ctx.op("Select", {above, hi, scalar_of(ctx, t, 0.0)});
    return {ctx.op("Select", {below, lo, mid})};
}

OutputVector reciprocal(const NodeContext& ctx) {
    const Output x = ctx.input(0);
    return {ctx.op("Divide", {scalar_of(ctx, x.element_type(), 1.0), x})};
}

OutputVector bit_shift(const NodeContext& ctx) {
    const std::string dir = ctx.attr_string("direction");
    ctx.check(dir == "LEFT" || dir == "RIGHT", "direction must be LEFT or RIGHT, got '", dir, "'");
    return {ctx.op(dir == "LEFT" ? "BitwiseLeftShift" : "BitwiseRightShift",
                   {ctx.input(0), ctx.input(1)}, kNumpy)};
}

// Mod: fmod=1 keeps the dividend's sign (C fmod), fmod=0 the divisor's (Python %).
OutputVector mod(const NodeContext& ctx) {
    const bool fmod = ctx.attr_int("fmod", 0) != 0;
    return {ctx.op(fmod ? "Mod" : "FloorMod", {ctx.input(0), ctx.input(1)}, kNumpy)};
}

// Pow allows the exponent's type to differ; the result has the base's type.
OutputVector pow(const NodeContext& ctx) {
    const Output base = ctx.input(0), exp = ctx.input(1);
    const ElementType tb = base.element_type(), te = exp.element_type();
    if (tb == te || tb == ElementType::dynamic || te == ElementType::dynamic)
        return {ctx.op("Power", {base, exp}, kNumpy)};
    if (!is_float(tb) && is_float(te)) {
        const Output p = ctx.op("Power", {convert(ctx, base, te), exp}, kNumpy);
        return {convert(ctx, p, tb)};
    }
    return {ctx.op("Power", {base, convert(ctx, exp, tb)}, kNumpy)};
}

OutputVector clip(const NodeContext& ctx) {
    const Output x = ctx.input(0);
    const ElementType t = x.element_type();
    Output out = x;
    auto bound = [&](size_t input, const char* attr, double dflt) -> std::optional<Output> {
        if (ctx.opset() < 11) {
            if (!ctx.has_attr(attr)) return std::nullopt;
            return scalar_of(ctx, t, ctx.attr_float(attr, static_cast<float>(dflt)));
        }
        if (!ctx.has_input(input)) return std::nullopt;
        return ctx.input(input);
    };
    if (auto lo = bound(1, "min", 0)) out = ctx.op("Maximum", {out, *lo}, kNumpy);
    if (auto hi = bound(2, "max", 0)) out = ctx.op("Minimum", {out, *hi}, kNumpy);
    return {out};
}

template <const char* kType>
OutputVector variadic(const NodeContext& ctx) {
    const OutputVector ins = ctx.inputs();
    ctx.check(!ins.empty(), "needs at least one input");
    Output acc = ins[0];
    for (size_t i = 1; i < ins.size(); ++i) acc = ctx.op(kType, {acc, ins[i]}, kNumpy);
    return {acc};
}


OutputVector mean(const NodeContext& ctx) {
    const Output sum = variadic<kAdd>(ctx)[0];
    const size_t n = ctx.inputs().size();
    if (n == 1) return {sum};
    return {ctx.op("Divide", {sum, scalar_of(ctx, sum.element_type(), static_cast<double>(n))},
                   kNumpy)};
}

}  // namespace

void register_elementwise_translators(TranslatorRegistry& r) {
    r.add("Abs", unary<kAbs>);
    r.add("Acos", unary<kAcos>);
    r.add("Acosh", unary<kAcosh>);
    r.add("Asin", unary<kAsin>);
    r.add("Asinh", unary<kAsinh>);
    r.add("Atan", unary<kAtan>);
    r.add("Atanh", unary<kAtanh>);
    r.add("Ceil", unary<kCeiling>);
    r.add("Cos", unary<kCos>);
    r.add("Cosh", unary<kCosh>);
    r.add("Erf", unary<kErf>);
    r.add("Exp", unary<kExp>);
    r.add("Floor", unary<kFloor>);
    r.add("Log", unary<kLog>);
    r.add("Neg", unary<kNegative>);
    r.add("Not", unary<kLogicalNot>);
    r.add("Relu", unary<kRelu>);
    r.add("Round", round);
    r.add("Sigmoid", unary<kSigmoid>);
    r.add("Sign", unary<kSign>);
    r.add("Sin", unary<kSin>);
    r.add("Sinh", unary<kSinh>);
    r.add("Softplus", unary<kSoftPlus>);
    r.add("Softsign", unary<kSoftSign>);
    r.add("Sqrt", unary<kSqrt>);
    r.add("Tan", unary<kTan>);
    r.add("Tanh", unary<kTanh>);
    r.add("HardSwish", unary<kHSwish>);
    r.add("IsNaN", unary<kIsNaN>);
    r.add("IsInf", is_inf);
    r.add("BitwiseNot", unary<kBitwiseNot>);
    r.add("Add", binary<kAdd>);
    r.add("Sub", binary<kSubtract>);
    r.add("Mul", binary<kMultiply>);
    r.add("Div", div);
    r.add("Pow", pow);
    r.add("Mod", mod);
    r.add("Equal", binary<kEqual>);
    r.add("Greater", binary<kGreater>);
    r.add("GreaterOrEqual", binary<kGreaterEqual>);
    r.add("Less", binary<kLess>);
    r.add("LessOrEqual", binary<kLessEqual>);
    r.add("And", binary<kLogicalAnd>);
    r.add("Or", binary<kLogicalOr>);
    r.add("Xor", binary<kLogicalXor>);
    r.add("BitwiseAnd", binary<kBitwiseAnd>);
    r.add("BitwiseOr", binary<kBitwiseOr>);
    r.add("BitwiseXor", binary<kBitwiseXor>);
    r.add("BitShift", bit_shift);
    r.add("Where", where);
    r.add("Cast", cast);
    r.add("CastLike", cast_like);
    r.add("Clip", clip);
    r.add("Elu", elu);
    r.add("Selu", selu);
    r.add("HardSigmoid", hard_sigmoid);
    r.add("LeakyRelu", leaky_relu);
    r.add("PRelu", prelu);
    r.add("ThresholdedRelu", thresholded_relu);
    r.add("Shrink", shrink);
    r.add("Reciprocal", reciprocal);
    r.add("Max", variadic<kMaximum>);
    r.add("Min", variadic<kMinimum>);
    r.add("Sum", variadic<kAdd>);
    r.add("Mean", mean);
}

}  // namespace kiln::onnx_fe
