// Binary elementwise ops with numpy broadcasting: arithmetic (Add ... SquaredDifference),
// comparisons (boolean out), logical ops on booleans and bitwise ops on integers.
#include <cmath>
#include <cstdint>

#include "ops/elementwise/ew_common.hpp"

namespace kiln::ew {

PartialShape infer_broadcast(ShapeContext& ctx, size_t first, size_t count) {
    const std::string mode = ctx.attrs().get_string("auto_broadcast", "numpy");
    PartialShape out = ctx.input_shape(first);
    for (size_t i = first + 1; i < first + count; ++i) {
        const PartialShape& s = ctx.input_shape(i);
        if (mode == "none") {
            if (out.is_static() && s.is_static())
                ctx.check(out == s, "inputs must have equal shapes without broadcasting, got ",
                          to_string(out), " and ", to_string(s));
            if (!out.is_static()) out = s;
        } else {
            ctx.check(mode == "numpy", "auto_broadcast '", mode, "' is not supported");
            out = broadcast_partial(ctx, out, s);
        }
    }
    return out;
}

ElementType common_type(ShapeContext& ctx, size_t first, size_t count) {
    ElementType t = ElementType::dynamic;
    for (size_t i = first; i < first + count; ++i) {
        const ElementType ti = ctx.input_type(i);
        if (ti == ElementType::dynamic) continue;
        if (t == ElementType::dynamic) t = ti;
        ctx.check(t == ti, "inputs must have one element type, got ", to_string(t), " and ",
                  to_string(ti));
    }
    return t;
}

namespace {

enum class Kind { arith, compare, logical, bitwise };

template <class T>
using Wide = std::conditional_t<std::is_signed_v<T>, int64_t, uint64_t>;

// Integer arithmetic through uint64 wraps instead of overflowing (signed overflow is UB).
template <class T>
T wrap(uint64_t v) {
    return static_cast<T>(v);
}
template <class T>
uint64_t u64(T v) {
    return static_cast<uint64_t>(static_cast<Wide<T>>(v));
}

struct OpBase {
    const Node* node = nullptr;
    explicit OpBase(const Node& n) : node(&n) {}
    template <class T>
    void check_divisor(T b) const {
        KILN_CHECK(b != T(0), node->context(), " integer division by zero");
    }
};

struct AddOp : OpBase {
    static constexpr Kind kind = Kind::arith;
    using OpBase::OpBase;
    template <class T>
    T operator()(T a, T b) const {
        if constexpr (std::is_same_v<T, bool>) return a || b;
        else if constexpr (is_int_v<T>) return wrap<T>(u64(a) + u64(b));
        else return T(a + b);
    }
};
struct SubOp : OpBase {
    static constexpr Kind kind = Kind::arith;
    using OpBase::OpBase;
    template <class T>
    T operator()(T a, T b) const {
        if constexpr (std::is_same_v<T, bool>) return a != b;
        else if constexpr (is_int_v<T>) return wrap<T>(u64(a) - u64(b));
        else return T(a - b);
    }
};
struct MulOp : OpBase {
    static constexpr Kind kind = Kind::arith;
    using OpBase::OpBase;
    template <class T>
    T operator()(T a, T b) const {
        if constexpr (std::is_same_v<T, bool>) return a && b;
        else if constexpr (is_int_v<T>) return wrap<T>(u64(a) * u64(b));
        else return T(a * b);
    }
};
struct DivOp : OpBase {
    static constexpr Kind kind = Kind::arith;
    bool floor_div;
    explicit DivOp(const Node& n) : OpBase(n), floor_div(n.attrs().get_bool("pythondiv", true)) {}
    template <class T>
    T operator()(T a, T b) const {
        if constexpr (std::is_same_v<T, bool>) {
            check_divisor(b);
            return a;
        } else if constexpr (is_int_v<T>) {
            check_divisor(b);
            if constexpr (std::is_signed_v<T>) {
                if (b == T(-1)) return wrap<T>(uint64_t{0} - u64(a));  // min / -1 wraps
                T q = static_cast<T>(a / b);
                if (floor_div && (a % b != 0) && ((a < 0) != (b < 0))) q = static_cast<T>(q - 1);
                return q;
            } else {
                return static_cast<T>(a / b);
            }
        } else {
            return T(a / b);
        }
    }
};
struct PowOp : OpBase {
    static constexpr Kind kind = Kind::arith;
    using OpBase::OpBase;
    template <class T>
    T operator()(T a, T b) const {
        if constexpr (std::is_same_v<T, bool>) {
            return a || !b;
        } else if constexpr (is_int_v<T>) {
            if constexpr (std::is_signed_v<T>) {
                if (b < 0) {  // only |a| == 1 keeps a non-zero integer result
                    if (a == 1) return T(1);
                    if (a == -1) return (b % 2 == 0) ? T(1) : T(-1);
                    return T(0);
                }
            }
            uint64_t base = u64(a), r = 1;
            uint64_t e = static_cast<uint64_t>(b);
            while (e) {
                if (e & 1u) r *= base;
                base *= base;
                e >>= 1u;
            }
            return wrap<T>(r);
        } else {
            return from_double<T>(std::pow(to_double(a), to_double(b)));
        }
    }
};
template <bool kMax>
struct MinMaxOp : OpBase {
    static constexpr Kind kind = Kind::arith;
    using OpBase::OpBase;
    template <class T>
    T operator()(T a, T b) const {
        if constexpr (is_fp_v<T>) {
            if (std::isnan(to_double(a))) return a;
            if (std::isnan(to_double(b))) return b;
        }
        if constexpr (kMax) return a < b ? b : a;
        else return b < a ? b : a;
    }
};
template <bool kFloor>
struct ModOp : OpBase {
    static constexpr Kind kind = Kind::arith;
    using OpBase::OpBase;
    template <class T>
    T operator()(T a, T b) const {
        if constexpr (std::is_same_v<T, bool>) {
            check_divisor(b);
            return false;
        } else if constexpr (is_int_v<T>) {
            check_divisor(b);
            if constexpr (std::is_signed_v<T>) {
                if (b == T(-1)) return T(0);
                T r = static_cast<T>(a % b);
                if (kFloor && r != 0 && ((r < 0) != (b < 0))) r = static_cast<T>(r + b);
                return r;
            } else {
                return static_cast<T>(a % b);
            }
        } else {
            const double x = to_double(a), y = to_double(b);
            double r = std::fmod(x, y);
            if (kFloor && r != 0 && ((r < 0) != (y < 0))) r += y;
            return from_double<T>(r);
        }
    }
};
struct SqDiffOp : OpBase {
    static constexpr Kind kind = Kind::arith;
    using OpBase::OpBase;
    template <class T>
    T operator()(T a, T b) const {
        if constexpr (std::is_same_v<T, bool>) return a != b;
        else if constexpr (is_int_v<T>) {
            const uint64_t d = u64(a) - u64(b);
            return wrap<T>(d * d);
        } else {
            const double d = to_double(a) - to_double(b);
            return from_double<T>(d * d);
        }
    }
};

#define KILN_CMP_OP(Name, expr)                          \
    struct Name : OpBase {                               \
        static constexpr Kind kind = Kind::compare;      \
        using OpBase::OpBase;                            \
        template <class T>                               \
        bool operator()(T x, T y) const {                \
            if constexpr (is_half_v<T>) {                \
                const float a = x, b = y;                \
                return expr;                             \
            } else {                                     \
                const T a = x, b = y;                    \
                return expr;                             \
            }                                            \
        }                                                \
    };
KILN_CMP_OP(EqOp, a == b)
KILN_CMP_OP(NeOp, a != b)
KILN_CMP_OP(LtOp, a < b)
KILN_CMP_OP(LeOp, a <= b)
KILN_CMP_OP(GtOp, a > b)
KILN_CMP_OP(GeOp, a >= b)
#undef KILN_CMP_OP

#define KILN_LOGIC_OP(Name, K, expr)          \
    struct Name : OpBase {                    \
        static constexpr Kind kind = K;       \
        using OpBase::OpBase;                 \
        template <class T>                    \
        T operator()(T a, T b) const {        \
            return static_cast<T>(expr);      \
        }                                     \
    };
KILN_LOGIC_OP(LogicalAndOp, Kind::logical, a && b)
KILN_LOGIC_OP(LogicalOrOp, Kind::logical, a || b)
KILN_LOGIC_OP(LogicalXorOp, Kind::logical, a != b)
KILN_LOGIC_OP(BitAndOp, Kind::bitwise, a & b)
KILN_LOGIC_OP(BitOrOp, Kind::bitwise, a | b)
KILN_LOGIC_OP(BitXorOp, Kind::bitwise, a ^ b)
#undef KILN_LOGIC_OP

// Shifts by a negative amount or by the bit width or more are defined as shifting every bit
// out (C++ leaves them undefined).
template <bool kLeft>
struct ShiftOp : OpBase {
    static constexpr Kind kind = Kind::bitwise;
    using OpBase::OpBase;
    template <class T>
    T operator()(T a, T b) const {
        if constexpr (std::is_same_v<T, bool>) {
            return b ? false : a;
        } else {
            constexpr int bits = static_cast<int>(sizeof(T) * 8);
            const bool out = b < T(0) || static_cast<uint64_t>(b) >= static_cast<uint64_t>(bits);
            if constexpr (kLeft) {
                if (out) return T(0);
                using U = std::make_unsigned_t<T>;
                return static_cast<T>(static_cast<U>(static_cast<U>(a) << static_cast<int>(b)));
            } else {
                if (out) return (std::is_signed_v<T> && a < T(0)) ? T(-1) : T(0);
                return static_cast<T>(a >> static_cast<int>(b));
            }
        }
    }
};

template <class Op>
void infer_binary(ShapeContext& ctx) {
    ctx.expect_inputs(2);
    const ElementType t = common_type(ctx, 0, 2);
    if (t != ElementType::dynamic) {
        if constexpr (Op::kind == Kind::logical)
            ctx.check(t == ElementType::boolean, "expects boolean inputs, got ", to_string(t));
        if constexpr (Op::kind == Kind::bitwise)
            ctx.check(is_integral(t), "expects integer or boolean inputs, got ", to_string(t));
        if constexpr (Op::kind == Kind::arith || Op::kind == Kind::compare)
            ctx.check(t != ElementType::string && bit_width(t) >= 8, "does not support ",
                      to_string(t));
    }
    const ElementType out = Op::kind == Kind::compare ? ElementType::boolean : t;
    ctx.set_output(0, out, infer_broadcast(ctx, 0, 2));
}

template <class Op>
void eval_binary(const Node& node, const TensorVector& in, TensorVector& out, ExecContext&) {
    allocate_outputs(node, in, out);
    const Op op(node);
    dispatch_numeric(in[0].element_type(), [&](auto tag) {
        using T = KILN_TYPE_OF(tag);
        if constexpr (Op::kind == Kind::bitwise && is_fp_v<T>) {
            KILN_THROW(node.context(), " does not support floating-point inputs");
        } else {
            using R = std::conditional_t<Op::kind == Kind::compare, bool, T>;
            binary_loop<T, R>(in[0], in[1], out[0], op);
        }
    });
}

template <class Op>
OpDef def(const char* name, const char* version) {
    return {name, version, infer_binary<Op>, eval_binary<Op>};
}

}  // namespace

void register_binary(OpRegistry& r) {
    r.add(def<AddOp>("Add", "opset1"));
    r.add(def<SubOp>("Subtract", "opset1"));
    r.add(def<MulOp>("Multiply", "opset1"));
    r.add(def<DivOp>("Divide", "opset1"));
    r.add(def<PowOp>("Power", "opset1"));
    r.add(def<MinMaxOp<true>>("Maximum", "opset1"));
    r.add(def<MinMaxOp<false>>("Minimum", "opset1"));
    r.add(def<ModOp<false>>("Mod", "opset1"));
    r.add(def<ModOp<true>>("FloorMod", "opset1"));
    r.add(def<SqDiffOp>("SquaredDifference", "opset1"));
    r.add(def<EqOp>("Equal", "opset1"));
    r.add(def<NeOp>("NotEqual", "opset1"));
    r.add(def<LtOp>("Less", "opset1"));
    r.add(def<LeOp>("LessEqual", "opset1"));
    r.add(def<GtOp>("Greater", "opset1"));
    r.add(def<GeOp>("GreaterEqual", "opset1"));
    r.add(def<LogicalAndOp>("LogicalAnd", "opset1"));
    r.add(def<LogicalOrOp>("LogicalOr", "opset1"));
    r.add(def<LogicalXorOp>("LogicalXor", "opset1"));
    r.add(def<BitAndOp>("BitwiseAnd", "opset13"));
    r.add(def<BitOrOp>("BitwiseOr", "opset13"));
    r.add(def<BitXorOp>("BitwiseXor", "opset13"));
    r.add(def<ShiftOp<true>>("BitwiseLeftShift", "opset15"));
    r.add(def<ShiftOp<false>>("BitwiseRightShift", "opset15"));
}

}  // namespace kiln::ew
