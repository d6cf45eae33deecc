// Jinja's built-in filters and tests that chat templates use, with transformers' tojson.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <set>

#include "genai/chat_template/library.hpp"
#include "genai/chat_template/text.hpp"
#include "kiln/error.hpp"

namespace kiln::chat_template {

namespace {

const std::set<std::string>& filter_names() {
    static const std::set<std::string> names = {
        "abs",        "attr",       "capitalize", "count",   "d",     "default", "e",
        "escape",     "first",      "float",      "indent",  "int",   "items",   "join",
        "last",       "length",     "list",       "lower",   "map",   "max",     "min",
        "reject",     "rejectattr", "replace",    "reverse", "round", "safe",    "select",
        "selectattr", "sort",       "string",     "sum",     "title", "tojson",  "trim",
        "unique",     "upper"};
    return names;
}

const std::set<std::string>& test_names() {
    static const std::set<std::string> names = {
        "boolean",     "callable", "defined",  "divisibleby", "eq",        "equalto",
        "==",          "even",     "false",    "float",       "ge",        ">=",
        "greaterthan", "gt",       ">",        "in",          "integer",   "iterable",
        "le",          "<=",       "lessthan", "lower",       "lt",        "<",
        "mapping",     "ne",       "!=",       "none",        "number",    "odd",
        "sameas",      "sequence", "string",   "true",        "undefined", "upper"};
    return names;
}

bool is_string(const Value& v) { return v.is_data() && v.json().is_string(); }
const std::string& str_of(const Value& v) { return v.json().get_ref<const std::string&>(); }

std::string need_string(const Value& v, const char* filter) {
    if (v.undefined()) return "";
    if (!is_string(v)) lib_fail(str_cat(filter, ": expected a string, got ", type_name(v)));
    return str_of(v);
}

bool opt_bool(const Value& v, bool fallback) { return v.undefined() ? fallback : truthy(v); }

Json list_of(const std::vector<Value>& items) {
    Json out = Json::array();
    for (const Value& v : items) out.push_back(to_json(v));
    return out;
}

// attribute='a.b.0' as map, sort, selectattr, ... read it.
Value dotted_attr(const Value& obj, const std::string& path) {
    Value cur = obj;
    size_t start = 0;
    while (start <= path.size()) {
        size_t dot = path.find('.', start);
        std::string part =
            path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
        Value next = get_attr(cur, part);
        if (next.undefined() && !part.empty() && std::all_of(part.begin(), part.end(), ::isdigit))
            next = get_item(cur, Value::of(std::strtoll(part.c_str(), nullptr, 10)));
        cur = next;
        if (dot == std::string::npos) break;
        start = dot + 1;
    }
    return cur;
}

// Sort key comparison: strings case-folded unless case_sensitive.
int order(const Value& a, const Value& b, bool case_sensitive) {
    Json x = to_json(a), y = to_json(b);
    if (!case_sensitive) {
        if (x.is_string()) x = to_lower(x.get<std::string>());
        if (y.is_string()) y = to_lower(y.get<std::string>());
    }
    bool ok = true;
    int c = compare(x, y, ok);
    if (!ok) lib_fail("cannot order " + type_name(x) + " and " + type_name(y));
    return c;
}

Value select_like(const std::string& name, const Value& input, CallArgs& args) {
    const bool by_attr = name == "selectattr" || name == "rejectattr";
    const bool keep_if = name == "select" || name == "selectattr";
    size_t skip = 0;
    std::string attr;
    if (by_attr) {
        if (args.positional.empty() || !is_string(args.positional[0]))
            lib_fail(name + ": expected an attribute name");
        attr = str_of(args.positional[0]);
        skip = 1;
    }
    std::string test;
    if (args.positional.size() > skip) {
        if (!is_string(args.positional[skip])) lib_fail(name + ": expected a test name");
        test = str_of(args.positional[skip]);
        if (!has_test(test)) lib_fail(name + ": unknown test '" + test + "'");
    }
    Json out = Json::array();
    for (const Value& item : iterate(input)) {
        Value subject = by_attr ? dotted_attr(item, attr) : item;
        bool pass;
        if (test.empty()) {
            pass = truthy(subject);
        } else {
            CallArgs targs;
            targs.positional.assign(args.positional.begin() + static_cast<long>(skip) + 1,
                                    args.positional.end());
            targs.keyword = args.keyword;
            pass = apply_test(test, subject, targs);
        }
        if (pass == keep_if) out.push_back(to_json(item));
    }
    return Value::of(std::move(out));
}

Value map_filter(const Value& input, CallArgs& args) {
    Json out = Json::array();
    for (const auto& [k, v] : args.keyword) {
        if (k != "attribute" && k != "default")
            lib_fail("map() got an unexpected keyword argument '" + k + "'");
    }
    auto kw = [&](const char* n) -> Value {
        for (const auto& [k, v] : args.keyword)
            if (k == n) return v;
        return {};
    };
    Value attribute = kw("attribute");
    if (!attribute.undefined()) {
        if (!is_string(attribute)) lib_fail("map: attribute must be a string");
        Value fallback = kw("default");
        for (const Value& item : iterate(input)) {
            Value v = dotted_attr(item, str_of(attribute));
            out.push_back(to_json(v.undefined() ? fallback : v));
        }
        return Value::of(std::move(out));
    }
    if (args.positional.empty() || !is_string(args.positional[0]))
        lib_fail("map: expected a filter name or attribute=");
    const std::string filter = str_of(args.positional[0]);
    if (!has_filter(filter)) lib_fail("map: unknown filter '" + filter + "'");
    for (const Value& item : iterate(input)) {
        CallArgs fargs;
        fargs.positional.assign(args.positional.begin() + 1, args.positional.end());
        out.push_back(to_json(apply_filter(filter, item, fargs)));
    }
    return Value::of(std::move(out));
}

Value tojson_filter(const Value& input, CallArgs& args) {
    args.bind("tojson", {"ensure_ascii", "indent", "separators", "sort_keys"});
    if (input.undefined()) lib_fail("tojson: the value is undefined");
    int indent = -1;
    if (args.has(1) && !(args.get(1).is_data() && args.get(1).json().is_null()))
        indent =
            static_cast<int>(std::clamp<int64_t>(need_int(args.get(1), "tojson's indent"), 0, 64));
    std::string item_sep = indent < 0 ? ", " : ",", key_sep = ": ";
    if (args.has(2) && args.get(2).is_data() && !args.get(2).json().is_null()) {
        const Json& seps = args.get(2).json();
        if (!seps.is_array() || seps.size() != 2 || !seps[0].is_string() || !seps[1].is_string())
            lib_fail("tojson: separators must be two strings");
        item_sep = seps[0].get<std::string>();
        key_sep = seps[1].get<std::string>();
    }
    std::string text =
        to_json_text(to_json(input), indent, item_sep, key_sep, opt_bool(args.get(3), false));
    check_size(text.size());
    return Value::of(std::move(text));
}

Value number_filter(const std::string& name, const Value& input, CallArgs& args) {
    if (name == "int") {
        args.bind("int", {"default", "base"});
        Value fallback = args.has(0) ? args.get(0) : Value::of(0);
        int base = args.has(1) ? static_cast<int>(need_int(args.get(1), "int's base")) : 10;
        if (!input.is_data()) return fallback;
        const Json& j = input.json();
        if (j.is_boolean()) return Value::of(j.get<bool>() ? 1 : 0);
        if (j.is_number_integer()) return input;
        if (j.is_number_float()) {
            double d = j.get<double>();
            if (!std::isfinite(d) || std::fabs(d) >= 9.2e18) return fallback;
            return Value::of(static_cast<int64_t>(d));
        }
        if (j.is_string()) {
            std::string s = strip(j.get<std::string>(), nullptr, true, true);
            int64_t v = 0;
            const char* b = s.data();
            const char* e = s.data() + s.size();
            if (b != e && *b == '+') ++b;
            if (base < 2 || base > 36) return fallback;
            auto r = std::from_chars(b, e, v, base);
            if (r.ec == std::errc() && r.ptr == e && b != e) return Value::of(v);
            char* end = nullptr;
            double d = std::strtod(s.c_str(), &end);  // "3.7"|int is 3, as Jinja does
            if (!s.empty() && end == s.c_str() + s.size() && std::isfinite(d) &&
                std::fabs(d) < 9.2e18)
                return Value::of(static_cast<int64_t>(d));
        }
        return fallback;
    }
    if (name == "float") {
        args.bind("float", {"default"});
        Value fallback = args.has(0) ? args.get(0) : Value::of(0.0);
        if (!input.is_data()) return fallback;
        const Json& j = input.json();
        if (is_number(j)) return Value::of(as_double(j));
        if (j.is_string()) {
            std::string s = strip(j.get<std::string>(), nullptr, true, true);
            char* end = nullptr;
            double d = std::strtod(s.c_str(), &end);
            if (!s.empty() && end == s.c_str() + s.size()) return Value::of(d);
        }
        return fallback;
    }
    if (name == "abs") {
        args.bind("abs", {});
        if (!input.is_data() || !is_number(input.json()))
            lib_fail("abs: expected a number, got " + type_name(input));
        const Json& j = input.json();
        if (j.is_number_float()) return Value::of(std::fabs(j.get<double>()));
        int64_t v = need_int(input, "abs");
        if (v == INT64_MIN) return Value::of(-static_cast<double>(v));
        return Value::of(v < 0 ? -v : v);
    }
    // round
    args.bind("round", {"precision", "method"});
    int64_t precision = args.has(0) ? need_int(args.get(0), "round's precision") : 0;
    std::string method = args.has(1) ? need_string(args.get(1), "round") : "common";
    if (!input.is_data() || !is_number(input.json()))
        lib_fail("round: expected a number, got " + type_name(input));
    double d = as_double(input.json());
    double scale = std::pow(10.0, static_cast<double>(std::clamp<int64_t>(precision, -300, 300)));
    double r;
    if (method == "common")
        r = std::nearbyint(d * scale) / scale;  // half to even, as Python
    else if (method == "ceil")
        r = std::ceil(d * scale) / scale;
    else if (method == "floor")
        r = std::floor(d * scale) / scale;
    else
        lib_fail("round: method must be common, ceil or floor");
    return Value::of(r);
}

Value sequence_filter(const std::string& name, const Value& input, CallArgs& args) {
    if (name == "first" || name == "last") {
        args.bind(name.c_str(), {});
        auto items = iterate(input);
        if (items.empty()) return {};
        return name == "first" ? items.front() : items.back();
    }
    if (name == "length" || name == "count") {
        args.bind(name.c_str(), {});
        if (input.undefined()) return Value::of(0);
        if (is_string(input)) return Value::of(static_cast<int64_t>(char_count(str_of(input))));
        if (input.is_data() && (input.json().is_array() || input.json().is_object()))
            return Value::of(static_cast<int64_t>(input.json().size()));
        if (input.kind() == Value::Kind::Loop)
            return Value::of(static_cast<int64_t>(input.loop()->items->size()));
        lib_fail(name + ": a " + type_name(input) + " has no length");
    }
    if (name == "list") {
        args.bind("list", {});
        return Value::of(list_of(iterate(input)));
    }
    if (name == "items") {
        args.bind("items", {});
        if (input.undefined()) return Value::of(Json::array());
        if (!input.is_data() || !input.json().is_object())
            lib_fail("items: expected a dict, got " + type_name(input));
        Json out = Json::array();
        for (auto it = input.json().begin(); it != input.json().end(); ++it)
            out.push_back(Json::array({it.key(), it.value()}));
        return Value::of(std::move(out));
    }
    if (name == "join") {
        args.bind("join", {"d", "attribute"});
        std::string sep = args.has(0) ? to_str(args.get(0)) : "";
        std::string out;
        bool first = true;
        for (const Value& item : iterate(input)) {
            if (!first) out += sep;
            first = false;
            out += to_str(args.has(1) ? dotted_attr(item, to_str(args.get(1))) : item);
            check_size(out.size());
        }
        return Value::of(std::move(out));
    }
    if (name == "reverse") {
        args.bind("reverse", {});
        if (is_string(input)) {
            auto chars = utf8_chars(str_of(input));
            std::string out;
            for (auto it = chars.rbegin(); it != chars.rend(); ++it) out += *it;
            return Value::of(std::move(out));
        }
        auto items = iterate(input);
        std::reverse(items.begin(), items.end());
        return Value::of(list_of(items));
    }
    if (name == "sort" || name == "unique" || name == "min" || name == "max") {
        const bool sort = name == "sort";
        if (sort)
            args.bind("sort", {"reverse", "case_sensitive", "attribute"});
        else
            args.bind(name.c_str(), {"case_sensitive", "attribute"});
        const bool reverse = sort && opt_bool(args.get(0), false);
        const bool case_sensitive = opt_bool(args.get(sort ? 1 : 0), false);
        const Value& attribute = args.get(sort ? 2 : 1);
        auto key = [&](const Value& v) {
            return attribute.undefined() ? v : dotted_attr(v, to_str(attribute));
        };
        auto items = iterate(input);
        if (name == "unique") {
            std::vector<Value> out;
            for (const Value& v : items) {
                bool seen = false;
                for (const Value& u : out)
                    seen = seen || order(key(u), key(v), case_sensitive) == 0;
                if (!seen) out.push_back(v);
            }
            return Value::of(list_of(out));
        }
        if (name == "min" || name == "max") {
            if (items.empty()) return {};
            Value best = items[0];
            for (const Value& v : items) {
                int c = order(key(v), key(best), case_sensitive);
                if ((name == "min" && c < 0) || (name == "max" && c > 0)) best = v;
            }
            return best;
        }
        std::stable_sort(items.begin(), items.end(), [&](const Value& a, const Value& b) {
            int c = order(key(a), key(b), case_sensitive);
            return reverse ? c > 0 : c < 0;
        });
        return Value::of(list_of(items));
    }
    // sum
    args.bind("sum", {"attribute", "start"});
    Json total = args.has(1) ? to_json(args.get(1)) : Json(0);
    for (const Value& item : iterate(input)) {
        Json v = to_json(args.has(0) ? dotted_attr(item, to_str(args.get(0))) : item);
        if (!is_number(total) || !is_number(v)) lib_fail("sum: expected numbers");
        if ((total.is_number_integer() || total.is_boolean()) &&
            (v.is_number_integer() || v.is_boolean())) {
            int64_t a = need_int(Value::of(total), "sum"), b = need_int(Value::of(v), "sum"), r;
            if (!__builtin_add_overflow(a, b, &r)) {
                total = r;
                continue;
            }
        }
        total = as_double(total) + as_double(v);
    }
    return Value::of(std::move(total));
}

Value string_filter(const std::string& name, const Value& input, CallArgs& args) {
    if (name == "trim") {
        args.bind("trim", {"chars"});
        const std::string* chars = nullptr;
        std::string chars_value;
        if (args.has(0)) {
            chars_value = need_string(args.get(0), "trim");
            chars = &chars_value;
        }
        return Value::of(strip(to_str(input), chars, true, true));
    }
    if (name == "upper" || name == "lower" || name == "capitalize" || name == "title") {
        args.bind(name.c_str(), {});
        std::string s = to_str(input);
        if (name == "upper") return Value::of(to_upper(s));
        if (name == "lower") return Value::of(to_lower(s));
        if (name == "capitalize") return Value::of(capitalize(s));
        return Value::of(title(s));
    }
    if (name == "replace") {
        args.bind("replace", {"old", "new", "count"});
        int64_t count = args.has(2) ? need_int(args.get(2), "replace's count") : -1;
        return Value::of(replace(to_str(input), to_str(args.get(0)), to_str(args.get(1)), count));
    }
    if (name == "string") {
        args.bind("string", {});
        return is_string(input) ? input : Value::of(to_str(input));
    }
    if (name == "indent") {
        args.bind("indent", {"width", "first", "blank"});
        std::string pad =
            args.has(0) && is_string(args.get(0))
                ? str_of(args.get(0))
                : std::string(
                      static_cast<size_t>(std::clamp<int64_t>(
                          args.has(0) ? need_int(args.get(0), "indent's width") : 4, 0, 1024)),
                      ' ');
        const bool first = opt_bool(args.get(1), false), blank = opt_bool(args.get(2), false);
        std::string s = to_str(input), out;
        size_t start = 0;
        bool is_first = true;
        while (true) {
            size_t nl = s.find('\n', start);
            std::string line =
                s.substr(start, nl == std::string::npos ? std::string::npos : nl - start);
            bool pad_it = is_first ? first : (blank || !strip(line, nullptr, true, true).empty());
            if (pad_it && !line.empty())
                out += pad;
            else if (pad_it && blank && !is_first)
                out += pad;
            out += line;
            check_size(out.size());
            if (nl == std::string::npos) break;
            out += '\n';
            start = nl + 1;
            is_first = false;
        }
        return Value::of(std::move(out));
    }
    if (name == "safe") {
        args.bind("safe", {});
        return input;
    }
    // escape / e
    args.bind(name.c_str(), {});
    std::string out;
    for (char c : to_str(input)) {
        switch (c) {
            case '&':
                out += "&amp;";
                break;
            case '<':
                out += "&lt;";
                break;
            case '>':
                out += "&gt;";
                break;
            case '"':
                out += "&#34;";
                break;
            case '\'':
                out += "&#39;";
                break;
            default:
                out += c;
        }
    }
    check_size(out.size());
    return Value::of(std::move(out));
}

}  // namespace

bool has_filter(const std::string& name) { return filter_names().count(name) != 0; }
bool has_test(const std::string& name) { return test_names().count(name) != 0; }

Value apply_filter(const std::string& name, const Value& input, CallArgs& args) {
    if (name == "default" || name == "d") {
        args.bind(name.c_str(), {"default_value", "boolean"});
        Value fallback = args.has(0) ? args.get(0) : Value::of("");
        if (input.undefined() || (opt_bool(args.get(1), false) && !truthy(input))) return fallback;
        return input;
    }
    if (name == "tojson") return tojson_filter(input, args);
    if (name == "map") return map_filter(input, args);
    if (name == "select" || name == "reject" || name == "selectattr" || name == "rejectattr")
        return select_like(name, input, args);
    if (name == "attr") {
        args.bind("attr", {"name"});
        // Python attributes only: a dict's keys are items, not attributes.
        if (input.is_data()) return {};
        return get_attr(input, to_str(args.get(0)));
    }
    if (name == "int" || name == "float" || name == "abs" || name == "round")
        return number_filter(name, input, args);
    if (name == "trim" || name == "upper" || name == "lower" || name == "capitalize" ||
        name == "title" || name == "replace" || name == "string" || name == "indent" ||
        name == "safe" || name == "escape" || name == "e")
        return string_filter(name, input, args);
    return sequence_filter(name, input, args);
}

bool apply_test(const std::string& name, const Value& v, CallArgs& args) {
    const bool data = v.is_data();
    const Json* j = data ? &v.json() : nullptr;
    auto no_args = [&] { args.bind(name.c_str(), {}); };
    if (name == "defined") return no_args(), !v.undefined();
    if (name == "undefined") return no_args(), v.undefined();
    if (name == "none") return no_args(), data && j->is_null();
    if (name == "boolean") return no_args(), data && j->is_boolean();
    if (name == "true") return no_args(), data && j->is_boolean() && j->get<bool>();
    if (name == "false") return no_args(), data && j->is_boolean() && !j->get<bool>();
    if (name == "integer") return no_args(), data && j->is_number_integer();
    if (name == "float") return no_args(), data && j->is_number_float();
    if (name == "number") return no_args(), data && is_number(*j);
    if (name == "string") return no_args(), data && j->is_string();
    if (name == "mapping")
        return no_args(), (data && j->is_object()) || v.kind() == Value::Kind::Namespace;
    if (name == "iterable" || name == "sequence")  // Jinja's undefined iterates as empty
        return no_args(),
               v.undefined() || (data && (j->is_array() || j->is_object() || j->is_string()));
    if (name == "callable") return no_args(), v.kind() == Value::Kind::Macro;
    if (name == "lower" || name == "upper") {
        no_args();
        if (!data || !j->is_string()) return false;
        const std::string& s = j->get_ref<const std::string&>();
        return name == "lower" ? to_lower(s) == s : to_upper(s) == s;
    }
    if (name == "odd" || name == "even") {
        no_args();
        if (!data || !is_number(*j)) lib_fail(name + ": expected a number, got " + type_name(v));
        int64_t x;
        if (!get_int(*j, x)) return std::fmod(as_double(*j), 2.0) == (name == "odd" ? 1.0 : 0.0);
        return (x % 2 != 0) == (name == "odd");
    }
    if (name == "divisibleby") {
        args.bind("divisibleby", {"num"});
        int64_t d = need_int(args.get(0), "divisibleby's argument");
        if (d == 0) lib_fail("divisibleby: division by zero");
        if (d == -1) return true;
        return need_int(v, "divisibleby's value") % d == 0;
    }
    args.bind(name.c_str(), {"other"});
    const Value& other = args.get(0);
    if (name == "in") {
        if (other.undefined()) return false;
        if (!other.is_data()) lib_fail("in: expected a container");
        const Json& c = other.json();
        if (c.is_string())
            return data && j->is_string() &&
                   c.get_ref<const std::string&>().find(j->get_ref<const std::string&>()) !=
                       std::string::npos;
        if (c.is_object()) return data && j->is_string() && c.contains(j->get<std::string>());
        if (c.is_array()) {
            for (const auto& e : c)
                if (data && equals(*j, e)) return true;
            return false;
        }
        lib_fail("in: expected a container, got " + type_name(other));
    }
    if (name == "eq" || name == "equalto" || name == "==") return equals(v, other);
    if (name == "ne" || name == "!=") return !equals(v, other);
    if (name == "sameas") {
        if (v.undefined() || other.undefined()) return v.undefined() && other.undefined();
        if (!data || !other.is_data()) return equals(v, other);
        return j->type() == other.json().type() && equals(*j, other.json());
    }
    if (!data || !other.is_data())
        lib_fail(name + ": cannot compare " + type_name(v) + " and " + type_name(other));
    bool ok = true;
    int c = compare(*j, other.json(), ok);
    if (!ok) lib_fail(name + ": cannot compare " + type_name(v) + " and " + type_name(other));
    if (name == "lt" || name == "<" || name == "lessthan") return c < 0;
    if (name == "le" || name == "<=") return c <= 0;
    if (name == "gt" || name == ">" || name == "greaterthan") return c > 0;
    return c >= 0;  // ge, >=
}

}  // namespace kiln::chat_template
