// Python's semantics for the JSON values a template handles: truth, str(), repr(), ==, <, and
// json.dumps as transformers' tojson filter calls it.
#include "genai/chat_template/value.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>

namespace kiln::chat_template {

Value Value::of(Json j) {
    auto owner = std::make_shared<const Json>(std::move(j));
    const Json* p = owner.get();
    return view(std::move(owner), p);
}

Value Value::view(std::shared_ptr<const Json> owner, const Json* p) {
    Value v;
    v.kind_ = Kind::Data;
    v.owner_ = std::move(owner);
    v.data_ = p;
    return v;
}

Value Value::of_namespace(std::shared_ptr<Namespace> ns) {
    Value v;
    v.kind_ = Kind::Namespace;
    v.ns_ = std::move(ns);
    return v;
}

Value Value::of_loop(std::shared_ptr<const LoopState> loop) {
    Value v;
    v.kind_ = Kind::Loop;
    v.loop_ = std::move(loop);
    return v;
}

Value Value::of_macro(const MacroStmt* macro) {
    Value v;
    v.kind_ = Kind::Macro;
    v.macro_ = macro;
    return v;
}

bool get_int(const Json& j, int64_t& out) {
    if (j.is_boolean()) {
        out = j.get<bool>() ? 1 : 0;
        return true;
    }
    if (j.is_number_unsigned()) {
        uint64_t u = j.get<uint64_t>();
        if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return false;
        out = static_cast<int64_t>(u);
        return true;
    }
    if (j.is_number_integer()) {
        out = j.get<int64_t>();
        return true;
    }
    return false;
}

namespace {

std::string quote_python(const std::string& s) {
    const bool has_single = s.find('\'') != std::string::npos;
    const bool has_double = s.find('"') != std::string::npos;
    const char q = has_single && !has_double ? '"' : '\'';
    std::string out(1, q);
    for (unsigned char c : s) {
        if (c == '\\') {
            out += "\\\\";
        } else if (c == q) {
            out += '\\';
            out += static_cast<char>(c);
        } else if (c == '\n') {
            out += "\\n";
        } else if (c == '\r') {
            out += "\\r";
        } else if (c == '\t') {
            out += "\\t";
        } else if (c < 0x20 || c == 0x7f) {
            static const char* hex = "0123456789abcdef";
            out += "\\x";
            out += hex[c >> 4];
            out += hex[c & 15];
        } else {
            out += static_cast<char>(c);
        }
    }
    out += q;
    return out;
}

void json_string(std::string& out, const std::string& s) {
    out += '"';
    for (unsigned char c : s) {
        switch (c) {
            case '"':
                out += "\\\"";
                break;
            case '\\':
                out += "\\\\";
                break;
            case '\n':
                out += "\\n";
                break;
            case '\r':
                out += "\\r";
                break;
            case '\t':
                out += "\\t";
                break;
            case '\b':
                out += "\\b";
                break;
            case '\f':
                out += "\\f";
                break;
            default:
                if (c < 0x20) {
                    static const char* hex = "0123456789abcdef";
                    out += "\\u00";
                    out += hex[c >> 4];
                    out += hex[c & 15];
                } else {
                    out += static_cast<char>(c);
                }
        }
    }
    out += '"';
}

struct DumpStyle {
    int indent;
    const std::string& item_sep;
    const std::string& key_sep;
    bool sort_keys;
};

void dump(std::string& out, const Json& j, const DumpStyle& st, int level) {
    const int indent = st.indent;
    auto newline = [&](int lvl) {
        out += '\n';
        out.append(static_cast<size_t>(indent) * static_cast<size_t>(lvl), ' ');
    };
    const std::string& item_sep = st.item_sep;
    switch (j.type()) {
        case Json::value_t::array: {
            if (j.empty()) {
                out += "[]";
                return;
            }
            out += '[';
            bool first = true;
            for (const auto& e : j) {
                if (!first) out += item_sep;
                first = false;
                if (indent >= 0) newline(level + 1);
                dump(out, e, st, level + 1);
            }
            if (indent >= 0) newline(level);
            out += ']';
            return;
        }
        case Json::value_t::object: {
            if (j.empty()) {
                out += "{}";
                return;
            }
            out += '{';
            std::vector<std::pair<const std::string*, const Json*>> members;
            for (auto it = j.begin(); it != j.end(); ++it)
                members.emplace_back(&it.key(), &it.value());
            if (st.sort_keys)
                std::sort(members.begin(), members.end(),
                          [](const auto& a, const auto& b) { return *a.first < *b.first; });
            bool first = true;
            for (const auto& [k, v] : members) {
                if (!first) out += item_sep;
                first = false;
                if (indent >= 0) newline(level + 1);
                json_string(out, *k);
                out += st.key_sep;
                dump(out, *v, st, level + 1);
            }
            if (indent >= 0) newline(level);
            out += '}';
            return;
        }
        case Json::value_t::string:
            json_string(out, j.get_ref<const std::string&>());
            return;
        case Json::value_t::boolean:
            out += j.get<bool>() ? "true" : "false";
            return;
        case Json::value_t::number_float: {
            double d = j.get<double>();
            if (std::isnan(d))
                out += "NaN";
            else if (std::isinf(d))
                out += d > 0 ? "Infinity" : "-Infinity";
            else
                out += float_repr(d);
            return;
        }
        case Json::value_t::number_integer:
            out += std::to_string(j.get<int64_t>());
            return;
        case Json::value_t::number_unsigned:
            out += std::to_string(j.get<uint64_t>());
            return;
        default:
            out += "null";
            return;
    }
}

}  // namespace

bool is_number(const Json& j) { return j.is_number() || j.is_boolean(); }

double as_double(const Json& j) {
    if (j.is_boolean()) return j.get<bool>() ? 1.0 : 0.0;
    return j.get<double>();
}

bool truthy(const Value& v) {
    switch (v.kind()) {
        case Value::Kind::Undefined:
            return false;
        case Value::Kind::Data:
            break;
        default:
            return true;
    }
    const Json& j = v.json();
    switch (j.type()) {
        case Json::value_t::null:
            return false;
        case Json::value_t::boolean:
            return j.get<bool>();
        case Json::value_t::number_integer:
            return j.get<int64_t>() != 0;
        case Json::value_t::number_unsigned:
            return j.get<uint64_t>() != 0;
        case Json::value_t::number_float:
            return j.get<double>() != 0.0;
        case Json::value_t::string:
            return !j.get_ref<const std::string&>().empty();
        default:
            return !j.empty();
    }
}

Json to_json(const Value& v) {
    switch (v.kind()) {
        case Value::Kind::Data:
            return v.json();
        case Value::Kind::Namespace:
            return v.ns()->attrs;
        case Value::Kind::Loop: {
            const LoopState& l = *v.loop();
            return Json{{"index0", l.index0}, {"index", l.index0 + 1}, {"length", l.items->size()}};
        }
        default:
            return nullptr;
    }
}

std::string float_repr(double d) {
    if (std::isnan(d)) return "nan";
    if (std::isinf(d)) return d > 0 ? "inf" : "-inf";
    char buf[64];
    auto r = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::scientific);
    std::string sci(buf, r.ptr);
    size_t e = sci.find('e');
    int exp = std::stoi(sci.substr(e + 1));
    if (exp < -4 || exp >= 16) return sci;
    std::string mant = sci.substr(0, e);
    std::string sign;
    if (mant[0] == '-') {
        sign = "-";
        mant.erase(0, 1);
    }
    std::string digits;
    for (char c : mant)
        if (c != '.') digits += c;
    const int point = exp + 1;  // digits before the decimal point
    const int n = static_cast<int>(digits.size());
    if (point <= 0) return sign + "0." + std::string(static_cast<size_t>(-point), '0') + digits;
    if (point >= n) return sign + digits + std::string(static_cast<size_t>(point - n), '0') + ".0";
    return sign + digits.substr(0, static_cast<size_t>(point)) + "." +
           digits.substr(static_cast<size_t>(point));
}

std::string repr(const Json& j) {
    switch (j.type()) {
        case Json::value_t::string:
            return quote_python(j.get_ref<const std::string&>());
        case Json::value_t::array: {
            std::string out = "[";
            bool first = true;
            for (const auto& e : j) {
                if (!first) out += ", ";
                first = false;
                out += repr(e);
            }
            return out + "]";
        }
        case Json::value_t::object: {
            std::string out = "{";
            bool first = true;
            for (const auto& [k, v] : j.items()) {
                if (!first) out += ", ";
                first = false;
                out += quote_python(k) + ": " + repr(v);
            }
            return out + "}";
        }
        default:
            return to_str(j);
    }
}

std::string to_str(const Json& j) {
    switch (j.type()) {
        case Json::value_t::string:
            return j.get<std::string>();
        case Json::value_t::null:
            return "None";
        case Json::value_t::boolean:
            return j.get<bool>() ? "True" : "False";
        case Json::value_t::number_integer:
            return std::to_string(j.get<int64_t>());
        case Json::value_t::number_unsigned:
            return std::to_string(j.get<uint64_t>());
        case Json::value_t::number_float:
            return float_repr(j.get<double>());
        default:
            return repr(j);
    }
}

std::string to_str(const Value& v) {
    switch (v.kind()) {
        case Value::Kind::Undefined:
            return "";
        case Value::Kind::Data:
            return to_str(v.json());
        case Value::Kind::Namespace:
            return "<Namespace " + repr(v.ns()->attrs) + ">";
        case Value::Kind::Loop:
            return "<LoopContext>";
        case Value::Kind::Macro:
            return "<Macro>";
    }
    return "";
}

std::string to_json_text(const Json& j, int indent, const std::string& item_sep,
                         const std::string& key_sep, bool sort_keys) {
    std::string out;
    dump(out, j, DumpStyle{indent, item_sep, key_sep, sort_keys}, 0);
    return out;
}

bool equals(const Json& a, const Json& b) {
    if (is_number(a) && is_number(b)) {
        int64_t x, y;
        if (get_int(a, x) && get_int(b, y)) return x == y;
        return as_double(a) == as_double(b);
    }
    if (a.type() != b.type()) return false;
    switch (a.type()) {
        case Json::value_t::array: {
            if (a.size() != b.size()) return false;
            for (size_t i = 0; i < a.size(); ++i)
                if (!equals(a[i], b[i])) return false;
            return true;
        }
        case Json::value_t::object: {
            if (a.size() != b.size()) return false;
            for (const auto& [k, v] : a.items()) {
                auto it = b.find(k);
                if (it == b.end() || !equals(v, *it)) return false;
            }
            return true;
        }
        default:
            return a == b;
    }
}

bool equals(const Value& a, const Value& b) {
    if (a.undefined() || b.undefined()) return a.undefined() && b.undefined();
    if (a.kind() == Value::Kind::Namespace && b.kind() == Value::Kind::Namespace)
        return a.ns() == b.ns();
    if (a.kind() == Value::Kind::Macro || b.kind() == Value::Kind::Macro)
        return a.macro() == b.macro();
    if (a.is_data() && b.is_data()) return equals(a.json(), b.json());  // no copies
    return equals(to_json(a), to_json(b));
}

int compare(const Json& a, const Json& b, bool& ok) {
    ok = true;
    if (is_number(a) && is_number(b)) {
        int64_t x, y;
        if (get_int(a, x) && get_int(b, y)) return x < y ? -1 : x > y ? 1 : 0;
        double p = as_double(a), q = as_double(b);
        return p < q ? -1 : p > q ? 1 : 0;
    }
    if (a.is_string() && b.is_string()) {
        int c = a.get_ref<const std::string&>().compare(b.get_ref<const std::string&>());
        return c < 0 ? -1 : c > 0 ? 1 : 0;
    }
    if (a.is_array() && b.is_array()) {
        for (size_t i = 0; i < a.size() && i < b.size(); ++i) {
            int c = compare(a[i], b[i], ok);
            if (!ok || c != 0) return c;
        }
        return a.size() < b.size() ? -1 : a.size() > b.size() ? 1 : 0;
    }
    ok = false;
    return 0;
}

std::string type_name(const Json& j) {
    switch (j.type()) {
        case Json::value_t::null:
            return "none";
        case Json::value_t::boolean:
            return "boolean";
        case Json::value_t::number_integer:
        case Json::value_t::number_unsigned:
            return "integer";
        case Json::value_t::number_float:
            return "float";
        case Json::value_t::string:
            return "string";
        case Json::value_t::array:
            return "list";
        case Json::value_t::object:
            return "dict";
        default:
            return "value";
    }
}

std::string type_name(const Value& v) {
    switch (v.kind()) {
        case Value::Kind::Undefined:
            return "undefined";
        case Value::Kind::Data:
            return type_name(v.json());
        case Value::Kind::Namespace:
            return "namespace";
        case Value::Kind::Loop:
            return "loop";
        case Value::Kind::Macro:
            return "macro";
    }
    return "value";
}

}  // namespace kiln::chat_template
