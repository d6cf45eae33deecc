// Type conversion (Convert, ConvertLike) and Select.
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "ops/elementwise/ew_common.hpp"

namespace kiln::ew {
namespace {

template <class T>
std::string to_text(T v) {
    if constexpr (std::is_same_v<T, bool>) {
        return v ? "True" : "False";
    } else if constexpr (is_fp_v<T>) {
        // Shortest round-trip text of the value in its own precision, as numpy's str() gives.
        using F = std::conditional_t<std::is_same_v<T, double>, double, float>;
        F f = static_cast<F>(v);
        if (std::isnan(f)) return "nan";
        if (std::isinf(f)) return f < 0 ? "-inf" : "inf";
        if constexpr (is_half_v<T>) {
            // Fewest digits that still read back as the same 16-bit value.
            for (int digits = 1; digits <= 9; ++digits) {
                char tmp[32];
                std::snprintf(tmp, sizeof(tmp), "%.*g", digits, static_cast<double>(f));
                const float back = std::strtof(tmp, nullptr);
                if (T(back).bits == v.bits) {
                    f = back;
                    break;
                }
            }
        }
        char buf[64];
        auto res = std::to_chars(buf, buf + sizeof(buf), f);
        std::string s(buf, res.ptr);
        if (s.find_first_of(".en") == std::string::npos) s += ".0";
        return s;
    } else {
        return std::to_string(v);
    }
}

template <class T>
T from_text(const std::string& s) {
    if constexpr (std::is_same_v<T, bool>) {
        if (s == "True" || s == "true") return true;
        if (s == "False" || s == "false" || s.empty()) return false;
        return std::strtod(s.c_str(), nullptr) != 0.0;
    } else if constexpr (is_int_v<T>) {
        errno = 0;
        char* end = nullptr;
        if constexpr (std::is_signed_v<T>) {
            const long long v = std::strtoll(s.c_str(), &end, 10);
            if (end != s.c_str() && *end == '\0' && errno == 0) return static_cast<T>(v);
        } else {
            const unsigned long long v = std::strtoull(s.c_str(), &end, 10);
            if (end != s.c_str() && *end == '\0' && errno == 0) return static_cast<T>(v);
        }
        return from_double<T>(std::strtod(s.c_str(), nullptr));
    } else {
        // strtod accepts "NaN", "INF", "+INF", "-inf" and decimal/scientific forms.
        return from_double<T>(std::strtod(s.c_str(), nullptr));
    }
}

template <class From, class To>
To convert_value(From v) {
    if constexpr (std::is_same_v<From, To>) {
        return v;
    } else if constexpr (std::is_same_v<To, std::string>) {
        return to_text(v);
    } else if constexpr (std::is_same_v<From, std::string>) {
        return from_text<To>(v);
    } else if constexpr (std::is_same_v<To, bool>) {
        return to_double(v) != 0.0;
    } else if constexpr (is_int_v<To> && (is_int_v<From> || std::is_same_v<From, bool>)) {
        return static_cast<To>(v);  // modular for narrowing integers, well defined since C++20
    } else if constexpr (is_half_v<To> && std::is_same_v<From, double>) {
        return To(static_cast<float>(v));
    } else {
        return from_double<To>(to_double(v));
    }
}

void convert_tensor(const Tensor& in, Tensor& out) {
    dispatch_any(in.element_type(), [&](auto from_tag) {
        using From = KILN_TYPE_OF(from_tag);
        dispatch_any(out.element_type(), [&](auto to_tag) {
            using To = KILN_TYPE_OF(to_tag);
            unary_loop<From, To>(in, out, convert_value<From, To>);
        });
    });
}

// 4-bit integers (compressed weights) unpack to i8 first, the first element in the low nibble.
Tensor unpack_4bit(const Tensor& in) {
    Tensor wide(ElementType::i8, in.shape());
    const auto* b = static_cast<const uint8_t*>(in.raw_data());
    int8_t* o = wide.data<int8_t>();
    const bool sign = in.element_type() == ElementType::i4;
    for (int64_t i = 0; i < in.size(); ++i) {
        const int v = (b[i / 2] >> (4 * (i & 1))) & 0xF;
        o[i] = static_cast<int8_t>(sign && v >= 8 ? v - 16 : v);
    }
    return wide;
}

bool is_4bit(ElementType t) { return t == ElementType::i4 || t == ElementType::u4; }

void check_convertible(ShapeContext& ctx, ElementType t) {
    ctx.check(t == ElementType::dynamic || t == ElementType::string || bit_width(t) >= 8,
              "does not support element type ", to_string(t));
}

void infer_convert(ShapeContext& ctx) {
    ctx.expect_inputs(1);
    const ElementType to = element_type_from_string(ctx.attrs().get_string("destination_type"));
    check_convertible(ctx, to);
    if (!is_4bit(ctx.input_type(0))) check_convertible(ctx, ctx.input_type(0));
    ctx.set_output(0, to, ctx.input_shape(0));
}

void infer_convert_like(ShapeContext& ctx) {
    ctx.expect_inputs(2);
    check_convertible(ctx, ctx.input_type(0));
    check_convertible(ctx, ctx.input_type(1));
    ctx.set_output(0, ctx.input_type(1), ctx.input_shape(0));
}

void eval_convert(const Node& node, const TensorVector& in, TensorVector& out, ExecContext&) {
    allocate_outputs(node, in, out);
    if (in[0].element_type() == out[0].element_type() &&
        in[0].element_type() != ElementType::string) {
        out[0] = in[0];
        return;
    }
    if (is_4bit(in[0].element_type())) {
        convert_tensor(unpack_4bit(in[0]), out[0]);
        return;
    }
    convert_tensor(in[0], out[0]);
}

// Select(cond, then, else): then where cond is true, else elsewhere, all three broadcast.
void infer_select(ShapeContext& ctx) {
    ctx.expect_inputs(3);
    const ElementType c = ctx.input_type(0);
    ctx.check(c == ElementType::dynamic || c == ElementType::boolean,
              "condition must be boolean, got ", to_string(c));
    const ElementType t = common_type(ctx, 1, 2);
    ctx.set_output(0, t, infer_broadcast(ctx, 0, 3));
}

void eval_select(const Node& node, const TensorVector& in, TensorVector& out, ExecContext&) {
    allocate_outputs(node, in, out);
    const bool* c = in[0].data<bool>();
    dispatch_any(in[1].element_type(), [&](auto tag) {
        using T = KILN_TYPE_OF(tag);
        const T* a = in[1].data<T>();
        const T* b = in[2].data<T>();
        T* o = out[0].data<T>();
        for_each_broadcast<3>(out[0].shape(), {in[0].shape(), in[1].shape(), in[2].shape()},
                              [&](int64_t i, const std::array<int64_t, 3>& off) {
                                  o[i] = c[off[0]] ? a[off[1]] : b[off[2]];
                              });
    });
}

}  // namespace

void register_convert(OpRegistry& r) {
    r.add({"Convert", "opset1", infer_convert, eval_convert});
    r.add({"ConvertLike", "opset1", infer_convert_like, eval_convert});
    r.add({"Select", "opset1", infer_select, eval_select});
}

}  // namespace kiln::ew
