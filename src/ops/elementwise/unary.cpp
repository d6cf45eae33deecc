// Unary elementwise ops: math functions, rounding, sign ops, logical/bitwise not, the
// attribute-only activations (Relu, Elu, Clamp, Gelu, ...) and the IsInf/IsNaN/IsFinite tests.
#include <cfenv>
#include <cmath>

#include "ops/elementwise/ew_common.hpp"

namespace kiln::ew {
namespace {

enum class Dom { numeric, boolean, integral };

struct UBase {
    static constexpr Dom dom = Dom::numeric;
    explicit UBase(const Node&) {}
};

// Ops defined through a real function: integer inputs are computed in double and truncated.
#define KILN_MATH_OP(Name, expr)                          \
    struct Name : UBase {                                 \
        using UBase::UBase;                               \
        template <class T>                                \
        T operator()(T v) const {                         \
            const double x = to_double(v);                \
            return from_double<T>(expr);                  \
        }                                                 \
    };
KILN_MATH_OP(AcosOp, std::acos(x))
KILN_MATH_OP(AcoshOp, std::acosh(x))
KILN_MATH_OP(AsinOp, std::asin(x))
KILN_MATH_OP(AsinhOp, std::asinh(x))
KILN_MATH_OP(AtanOp, std::atan(x))
KILN_MATH_OP(AtanhOp, std::atanh(x))
KILN_MATH_OP(CosOp, std::cos(x))
KILN_MATH_OP(CoshOp, std::cosh(x))
KILN_MATH_OP(SinOp, std::sin(x))
KILN_MATH_OP(SinhOp, std::sinh(x))
KILN_MATH_OP(TanOp, std::tan(x))
KILN_MATH_OP(TanhOp, std::tanh(x))
KILN_MATH_OP(ErfOp, std::erf(x))
KILN_MATH_OP(ExpOp, std::exp(x))
KILN_MATH_OP(LogOp, std::log(x))
KILN_MATH_OP(SqrtOp, std::sqrt(x))
KILN_MATH_OP(CeilOp, std::ceil(x))
KILN_MATH_OP(FloorOp, std::floor(x))
KILN_MATH_OP(SigmoidOp, 1.0 / (1.0 + std::exp(-x)))
KILN_MATH_OP(HSigmoidOp, std::min(std::max(x + 3.0, 0.0), 6.0) / 6.0)
KILN_MATH_OP(HSwishOp, x * std::min(std::max(x + 3.0, 0.0), 6.0) / 6.0)
KILN_MATH_OP(SoftPlusOp, x > 20.0 ? x : std::log1p(std::exp(x)))
KILN_MATH_OP(SoftSignOp, x / (1.0 + std::abs(x)))
KILN_MATH_OP(MishOp, x * std::tanh(x > 20.0 ? x : std::log1p(std::exp(x))))
#undef KILN_MATH_OP

template <class T>
T negate(T v) {
    if constexpr (is_int_v<T>) {
        return static_cast<T>(uint64_t{0} - static_cast<uint64_t>(v));  // wraps on min
    } else if constexpr (std::is_same_v<T, bool>) {
        return v;
    } else {
        return T(-v);
    }
}

struct AbsOp : UBase {
    using UBase::UBase;
    template <class T>
    T operator()(T v) const {
        if constexpr (is_half_v<T>) return T(std::abs(static_cast<float>(v)));
        else if constexpr (std::is_unsigned_v<T>) return v;
        else return v < T(0) ? negate(v) : v;
    }
};
struct NegOp : UBase {
    using UBase::UBase;
    template <class T>
    T operator()(T v) const {
        return negate(v);
    }
};
struct SignOp : UBase {
    using UBase::UBase;
    template <class T>
    T operator()(T v) const {
        if constexpr (std::is_same_v<T, bool>) return v;
        else if constexpr (is_fp_v<T>) {
            const double x = to_double(v);
            return std::isnan(x) ? v : T(x > 0 ? 1.0f : (x < 0 ? -1.0f : 0.0f));
        } else {
            return v > T(0) ? T(1) : (v < T(0) ? static_cast<T>(-1) : T(0));
        }
    }
};
struct RoundOp : UBase {
    bool away;
    explicit RoundOp(const Node& n)
        : UBase(n), away(n.attrs().get_string("mode", "half_to_even") == "half_away_from_zero") {}
    template <class T>
    T operator()(T v) const {
        if constexpr (!is_fp_v<T>) return v;
        else return from_double<T>(away ? std::round(to_double(v)) : std::nearbyint(to_double(v)));
    }
};
struct ReluOp : UBase {
    using UBase::UBase;
    template <class T>
    T operator()(T v) const {
        if constexpr (is_fp_v<T>) return to_double(v) > 0 ? v : (std::isnan(to_double(v)) ? v : T(0.0f));
        else return v > T(0) ? v : T(0);
    }
};
struct EluOp : UBase {
    double alpha;
    explicit EluOp(const Node& n) : UBase(n), alpha(n.attrs().get_float("alpha")) {}
    template <class T>
    T operator()(T v) const {
        const double x = to_double(v);
        return from_double<T>(x > 0 ? x : alpha * std::expm1(x));
    }
};
struct ClampOp : UBase {
    double lo, hi;
    explicit ClampOp(const Node& n)
        : UBase(n), lo(n.attrs().get_float("min")), hi(n.attrs().get_float("max")) {}
    template <class T>
    T operator()(T v) const {
        if constexpr (is_int_v<T>) {
            // Integer bounds round inward so the result stays within [min, max].
            const double x = to_double(v);
            if (x < lo) return from_double<T>(std::ceil(lo));
            if (x > hi) return from_double<T>(std::floor(hi));
            return v;
        } else {
            const double x = to_double(v);
            if (std::isnan(x)) return v;
            return from_double<T>(std::min(std::max(x, lo), hi));
        }
    }
};
struct GeluOp : UBase {
    bool tanh_mode;
    explicit GeluOp(const Node& n)
        : UBase(n), tanh_mode(n.attrs().get_string("approximation_mode", "ERF") == "TANH") {}
    template <class T>
    T operator()(T v) const {
        const double x = to_double(v);
        if (tanh_mode) {
            const double c = std::sqrt(2.0 / M_PI);
            return from_double<T>(0.5 * x * (1.0 + std::tanh(c * (x + 0.044715 * x * x * x))));
        }
        return from_double<T>(0.5 * x * (1.0 + std::erf(x / std::sqrt(2.0))));
    }
};
struct LogicalNotOp {
    static constexpr Dom dom = Dom::boolean;
    explicit LogicalNotOp(const Node&) {}
    template <class T>
    T operator()(T v) const {
        return static_cast<T>(!v);
    }
};
struct BitNotOp {
    static constexpr Dom dom = Dom::integral;
    explicit BitNotOp(const Node&) {}
    template <class T>
    T operator()(T v) const {
        if constexpr (std::is_same_v<T, bool>) return !v;
        else if constexpr (is_int_v<T>) return static_cast<T>(~v);
        else return v;
    }
};

template <class Op>
void infer_unary(ShapeContext& ctx) {
    ctx.expect_inputs(1);
    const ElementType t = ctx.input_type(0);
    if (t != ElementType::dynamic) {
        ctx.check(t != ElementType::string && bit_width(t) >= 8, "does not support ",
                  to_string(t));
        if constexpr (Op::dom == Dom::boolean)
            ctx.check(t == ElementType::boolean, "expects a boolean input, got ", to_string(t));
        if constexpr (Op::dom == Dom::integral)
            ctx.check(is_integral(t), "expects an integer input, got ", to_string(t));
    }
    ctx.set_output(0, t, ctx.input_shape(0));
}

template <class Op>
void eval_unary(const Node& node, const TensorVector& in, TensorVector& out, ExecContext&) {
    allocate_outputs(node, in, out);
    const Op op(node);
    dispatch_numeric(in[0].element_type(), [&](auto tag) {
        using T = KILN_TYPE_OF(tag);
        unary_loop<T, T>(in[0], out[0], op);
    });
}

// IsInf / IsNaN / IsFinite: boolean out; integer inputs are always finite.
enum class Test { inf, nan, finite };

template <Test K>
void infer_test(ShapeContext& ctx) {
    ctx.expect_inputs(1);
    const ElementType t = ctx.input_type(0);
    ctx.check(t == ElementType::dynamic || (t != ElementType::string && bit_width(t) >= 8),
              "does not support ", to_string(t));
    ctx.set_output(0, ElementType::boolean, ctx.input_shape(0));
}

template <Test K>
void eval_test(const Node& node, const TensorVector& in, TensorVector& out, ExecContext&) {
    allocate_outputs(node, in, out);
    const bool neg = node.attrs().get_bool("detect_negative", true);
    const bool pos = node.attrs().get_bool("detect_positive", true);
    dispatch_numeric(in[0].element_type(), [&](auto tag) {
        using T = KILN_TYPE_OF(tag);
        unary_loop<T, bool>(in[0], out[0], [&](T v) {
            const double x = to_double(v);
            if constexpr (K == Test::nan) return std::isnan(x);
            else if constexpr (K == Test::finite) return std::isfinite(x);
            else return std::isinf(x) && (x > 0 ? pos : neg);
        });
    });
}

template <class Op>
OpDef def(const char* name, const char* version) {
    return {name, version, infer_unary<Op>, eval_unary<Op>};
}

}  // namespace

void register_unary(OpRegistry& r) {
    r.add(def<AbsOp>("Abs", "opset1"));
    r.add(def<AcosOp>("Acos", "opset1"));
    r.add(def<AcoshOp>("Acosh", "opset4"));
    r.add(def<AsinOp>("Asin", "opset1"));
    r.add(def<AsinhOp>("Asinh", "opset4"));
    r.add(def<AtanOp>("Atan", "opset1"));
    r.add(def<AtanhOp>("Atanh", "opset4"));
    r.add(def<CeilOp>("Ceiling", "opset1"));
    r.add(def<CosOp>("Cos", "opset1"));
    r.add(def<CoshOp>("Cosh", "opset1"));
    r.add(def<ErfOp>("Erf", "opset1"));
    r.add(def<ExpOp>("Exp", "opset1"));
    r.add(def<FloorOp>("Floor", "opset1"));
    r.add(def<LogOp>("Log", "opset1"));
    r.add(def<NegOp>("Negative", "opset1"));
    r.add(def<RoundOp>("Round", "opset5"));
    r.add(def<SignOp>("Sign", "opset1"));
    r.add(def<SinOp>("Sin", "opset1"));
    r.add(def<SinhOp>("Sinh", "opset1"));
    r.add(def<SqrtOp>("Sqrt", "opset1"));
    r.add(def<TanOp>("Tan", "opset1"));
    r.add(def<TanhOp>("Tanh", "opset1"));
    r.add(def<ReluOp>("Relu", "opset1"));
    r.add(def<SigmoidOp>("Sigmoid", "opset1"));
    r.add(def<EluOp>("Elu", "opset1"));
    r.add(def<ClampOp>("Clamp", "opset1"));
    r.add(def<HSigmoidOp>("HSigmoid", "opset5"));
    r.add(def<HSwishOp>("HSwish", "opset4"));
    r.add(def<SoftPlusOp>("SoftPlus", "opset4"));
    r.add(def<SoftSignOp>("SoftSign", "opset9"));
    r.add(def<GeluOp>("Gelu", "opset7"));
    r.add(def<MishOp>("Mish", "opset4"));
    r.add(def<LogicalNotOp>("LogicalNot", "opset1"));
    r.add(def<BitNotOp>("BitwiseNot", "opset13"));
    r.add({"IsInf", "opset10", infer_test<Test::inf>, eval_test<Test::inf>});
    r.add({"IsNaN", "opset10", infer_test<Test::nan>, eval_test<Test::nan>});
    r.add({"IsFinite", "opset10", infer_test<Test::finite>, eval_test<Test::finite>});
}

}  // namespace kiln::ew
