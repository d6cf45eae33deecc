// Python's operators over template values: arithmetic (with printf-style %), slicing,
// membership and comparison.
#include "genai/chat_template/operators.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <optional>

#include "genai/chat_template/library.hpp"
#include "kiln/error.hpp"

namespace kiln::chat_template {

namespace {

const char* op_name(BinaryOp op) {
    switch (op) {
        case BinaryOp::Add:
            return "+";
        case BinaryOp::Sub:
            return "-";
        case BinaryOp::Mul:
            return "*";
        case BinaryOp::Div:
            return "/";
        case BinaryOp::FloorDiv:
            return "//";
        case BinaryOp::Mod:
            return "%";
        case BinaryOp::Pow:
            return "**";
        case BinaryOp::Concat:
            return "~";
        case BinaryOp::And:
            return "and";
        case BinaryOp::Or:
            return "or";
    }
    return "?";
}

Value repeat(const Json& seq, int64_t n) {
    const bool empty = seq.is_string() ? seq.get_ref<const std::string&>().empty() : seq.empty();
    if (n <= 0 || empty) return Value::of(seq.is_string() ? Json("") : Json::array());
    if (seq.is_string()) {
        const std::string& s = seq.get_ref<const std::string&>();
        if (!s.empty() && static_cast<uint64_t>(n) > kMaxStringBytes / s.size())
            check_size(kMaxStringBytes + 1);
        std::string out;
        out.reserve(s.size() * static_cast<size_t>(n));
        for (int64_t i = 0; i < n; ++i) out += s;
        return Value::of(std::move(out));
    }
    if (!seq.empty() && static_cast<uint64_t>(n) > 1'000'000 / seq.size())
        lib_fail("list repetition too large");
    Json out = Json::array();
    for (int64_t i = 0; i < n; ++i)
        for (const auto& e : seq) out.push_back(e);
    return Value::of(std::move(out));
}

// "%s and %d" % (a, b): Python's printf-style formatting for s, r, d, i, f, x and %%, with flags,
// width and precision.
std::string percent_format(const std::string& fmt, const Json& args) {
    std::vector<const Json*> values;
    if (args.is_array()) {
        for (const auto& e : args) values.push_back(&e);
    } else {
        values.push_back(&args);
    }
    auto printf_to = [](std::string& out, const std::string& spec, auto value) {
        int n = std::snprintf(nullptr, 0, spec.c_str(), value);
        if (n <= 0) return;
        std::string buf(static_cast<size_t>(n) + 1, '\0');
        std::snprintf(buf.data(), buf.size(), spec.c_str(), value);
        buf.resize(static_cast<size_t>(n));
        out += buf;
    };
    std::string out;
    size_t next = 0;
    for (size_t i = 0; i < fmt.size(); ++i) {
        if (fmt[i] != '%') {
            out += fmt[i];
            continue;
        }
        size_t j = i + 1;
        std::string flags;
        while (j < fmt.size() && std::strchr("-+ #0", fmt[j]) != nullptr && fmt[j] != '\0')
            flags += fmt[j++];
        int width = 0, precision = -1;
        while (j < fmt.size() && std::isdigit(static_cast<unsigned char>(fmt[j])))
            width = std::min(width * 10 + (fmt[j++] - '0'), 1000);
        if (j < fmt.size() && fmt[j] == '.') {
            ++j;
            precision = 0;
            while (j < fmt.size() && std::isdigit(static_cast<unsigned char>(fmt[j])))
                precision = std::min(precision * 10 + (fmt[j++] - '0'), 100);
        }
        if (j >= fmt.size()) lib_fail("incomplete format");
        const char conv = fmt[j];
        i = j;
        if (conv == '%') {
            out += '%';
            continue;
        }
        if (next >= values.size()) lib_fail("not enough arguments for format string");
        const Json& v = *values[next++];
        std::string spec = "%";
        spec += flags;
        if (width > 0) spec += std::to_string(width);
        if (precision >= 0) {
            spec += '.';
            spec += std::to_string(precision);
        }
        if (conv == 's' || conv == 'r') {
            std::string text = conv == 's' ? to_str(v) : repr(v);
            if (precision >= 0 && text.size() > static_cast<size_t>(precision))
                text.resize(static_cast<size_t>(precision));
            if (text.size() < static_cast<size_t>(width)) {
                const size_t pad = static_cast<size_t>(width) - text.size();
                if (flags.find('-') != std::string::npos)
                    text.append(pad, ' ');
                else
                    text.insert(0, pad, ' ');
            }
            out += text;
        } else if (conv == 'd' || conv == 'i' || conv == 'x' || conv == 'X') {
            if (!is_number(v))
                lib_fail(str_cat("%", conv, " format needs a number, not ", type_name(v)));
            int64_t n;
            if (!get_int(v, n)) {
                double d = as_double(v);
                if (!std::isfinite(d) || std::fabs(d) >= 9.2e18)
                    lib_fail("number too large for %d");
                n = static_cast<int64_t>(d);
            }
            printf_to(out, spec + "ll" + (conv == 'i' ? 'd' : conv), static_cast<long long>(n));
        } else if (conv == 'f' || conv == 'F' || conv == 'e' || conv == 'E' || conv == 'g' ||
                   conv == 'G') {
            if (!is_number(v))
                lib_fail(str_cat("%", conv, " format needs a number, not ", type_name(v)));
            printf_to(out, spec + conv, as_double(v));
        } else {
            lib_fail(str_cat("unsupported format character '", conv, "'"));
        }
        check_size(out.size());
    }
    if (next < values.size() && !args.is_object())
        lib_fail("not all arguments converted during string formatting");
    return out;
}

}  // namespace

// Python's arithmetic: ints stay ints (falling back to floats on overflow), / is true division,
// // and % floor.
Value arithmetic(BinaryOp op, const Value& a, const Value& b) {
    if (a.undefined() || b.undefined())
        lib_fail(str_cat("cannot apply '", op_name(op), "' to an undefined value"));
    if (!a.is_data() || !b.is_data())
        lib_fail(
            str_cat("cannot apply '", op_name(op), "' to ", type_name(a), " and ", type_name(b)));
    const Json& x = a.json();
    const Json& y = b.json();
    if (op == BinaryOp::Add) {
        if (x.is_string() && y.is_string()) {
            check_size(x.get_ref<const std::string&>().size() +
                       y.get_ref<const std::string&>().size());
            return Value::of(x.get<std::string>() + y.get<std::string>());
        }
        if (x.is_array() && y.is_array()) {
            Json out = x;
            for (const auto& e : y) out.push_back(e);
            return Value::of(std::move(out));
        }
    }
    if (op == BinaryOp::Mul) {
        int64_t n;
        if ((x.is_string() || x.is_array()) && get_int(y, n)) return repeat(x, n);
        if ((y.is_string() || y.is_array()) && get_int(x, n)) return repeat(y, n);
    }
    if (op == BinaryOp::Mod && x.is_string())
        return Value::of(percent_format(x.get_ref<const std::string&>(), y));
    if (!is_number(x) || !is_number(y))
        lib_fail(
            str_cat("cannot apply '", op_name(op), "' to ", type_name(x), " and ", type_name(y)));
    int64_t i, k;
    if (get_int(x, i) && get_int(y, k)) {
        int64_t r;
        switch (op) {
            case BinaryOp::Add:
                if (!__builtin_add_overflow(i, k, &r)) return Value::of(r);
                break;
            case BinaryOp::Sub:
                if (!__builtin_sub_overflow(i, k, &r)) return Value::of(r);
                break;
            case BinaryOp::Mul:
                if (!__builtin_mul_overflow(i, k, &r)) return Value::of(r);
                break;
            case BinaryOp::FloorDiv:
            case BinaryOp::Mod: {
                if (k == 0) lib_fail("integer division or modulo by zero");
                if (k == -1) {  // i / -1 overflows for the most negative i
                    if (op == BinaryOp::Mod) return Value::of(int64_t{0});
                    return i == INT64_MIN ? Value::of(-static_cast<double>(i)) : Value::of(-i);
                }
                int64_t q = i / k, m = i % k;
                if (m != 0 && ((m < 0) != (k < 0))) {
                    --q;
                    m += k;
                }
                return Value::of(op == BinaryOp::Mod ? m : q);
            }
            case BinaryOp::Pow: {
                if (k < 0) break;
                int64_t acc = 1, base = i;
                bool overflow = false;
                for (int64_t e = k; e > 0 && !overflow; e >>= 1) {
                    if (e & 1) overflow = __builtin_mul_overflow(acc, base, &acc);
                    if (e > 1 && !overflow) overflow = __builtin_mul_overflow(base, base, &base);
                }
                if (!overflow) return Value::of(acc);
                break;
            }
            default:
                break;
        }
    }
    const double p = as_double(x), q = as_double(y);
    switch (op) {
        case BinaryOp::Add:
            return Value::of(p + q);
        case BinaryOp::Sub:
            return Value::of(p - q);
        case BinaryOp::Mul:
            return Value::of(p * q);
        case BinaryOp::Div:
            if (q == 0) lib_fail("division by zero");
            return Value::of(p / q);
        case BinaryOp::FloorDiv:
            if (q == 0) lib_fail("division by zero");
            return Value::of(std::floor(p / q));
        case BinaryOp::Mod: {
            if (q == 0) lib_fail("modulo by zero");
            double m = std::fmod(p, q);
            if (m != 0 && ((m < 0) != (q < 0))) m += q;
            return Value::of(m);
        }
        case BinaryOp::Pow:
            return Value::of(std::pow(p, q));
        default:
            lib_fail("bad operator");
    }
}

Value slice(const Value& obj, const Value& start, const Value& stop, const Value& step) {
    auto bound = [](const Value& v, const char* what) -> std::optional<int64_t> {
        if (v.undefined() || (v.is_data() && v.json().is_null())) return std::nullopt;
        int64_t n;
        if (!v.is_data() || !get_int(v.json(), n))
            lib_fail(str_cat("slice ", what, " must be an integer"));
        return n;
    };
    if (obj.undefined()) return obj;
    if (!obj.is_data() || !(obj.json().is_array() || obj.json().is_string()))
        lib_fail("cannot slice a " + type_name(obj));
    const bool is_str = obj.json().is_string();
    std::vector<std::string> chars;
    if (is_str) chars = utf8_chars(obj.json().get_ref<const std::string&>());
    const int64_t n =
        is_str ? static_cast<int64_t>(chars.size()) : static_cast<int64_t>(obj.json().size());
    const int64_t st = bound(step, "step").value_or(1);
    if (st == 0) lib_fail("slice step cannot be zero");
    auto clamp = [&](std::optional<int64_t> v, int64_t fallback) {
        if (!v) return fallback;
        int64_t i = *v < 0 ? *v + n : *v;
        if (st > 0) return std::clamp<int64_t>(i, 0, n);
        return std::clamp<int64_t>(i, -1, n - 1);
    };
    const int64_t b = clamp(bound(start, "start"), st > 0 ? 0 : n - 1);
    const int64_t e = clamp(bound(stop, "stop"), st > 0 ? n : -1);
    std::string s;
    Json list = Json::array();
    for (int64_t i = b; st > 0 ? i < e : i > e; i += st) {
        if (is_str)
            s += chars[static_cast<size_t>(i)];
        else
            list.push_back(obj.json()[static_cast<size_t>(i)]);
        if (st > 0 ? i > INT64_MAX - st : i < INT64_MIN - st) break;
    }
    return is_str ? Value::of(std::move(s)) : Value::of(std::move(list));
}

static bool contains(const Value& container, const Value& item) {
    if (container.undefined()) return false;
    if (container.kind() == Value::Kind::Namespace)
        return item.is_data() && item.json().is_string() &&
               container.ns()->attrs.contains(item.json().get<std::string>());
    if (!container.is_data()) lib_fail("'in' needs a container, not a " + type_name(container));
    const Json& c = container.json();
    if (c.is_string()) {
        if (!item.is_data() || !item.json().is_string())
            lib_fail("'in <string>' needs a string on the left, not a " + type_name(item));
        return c.get_ref<const std::string&>().find(item.json().get_ref<const std::string&>()) !=
               std::string::npos;
    }
    if (c.is_object())
        return item.is_data() && item.json().is_string() &&
               c.contains(item.json().get<std::string>());
    if (c.is_array()) {
        for (const auto& e : c)
            if (equals(item, container.child(e))) return true;
        return false;
    }
    lib_fail("'in' needs a container, not a " + type_name(container));
}

bool compare_op(CompareOp op, const Value& a, const Value& b) {
    switch (op) {
        case CompareOp::Eq:
            return equals(a, b);
        case CompareOp::Ne:
            return !equals(a, b);
        case CompareOp::In:
            return contains(b, a);
        case CompareOp::NotIn:
            return !contains(b, a);
        default:
            break;
    }
    if (!a.is_data() || !b.is_data())
        lib_fail("cannot order " + type_name(a) + " and " + type_name(b));
    bool ok = true;
    int c = compare(a.json(), b.json(), ok);
    if (!ok) lib_fail("cannot order " + type_name(a) + " and " + type_name(b));
    switch (op) {
        case CompareOp::Lt:
            return c < 0;
        case CompareOp::Le:
            return c <= 0;
        case CompareOp::Gt:
            return c > 0;
        default:
            return c >= 0;
    }
}

}  // namespace kiln::chat_template
