// Access to values (attributes, items, iteration), argument binding, and the methods templates
// call on strings, dicts and the loop variable.
#include "genai/chat_template/library.hpp"

#include "genai/chat_template/text.hpp"
#include "genai/tokenizer/utf8.hpp"
#include "kiln/error.hpp"

namespace kiln::chat_template {

void lib_fail(const std::string& message) { throw LibError(message); }

void check_size(size_t bytes) {
    if (bytes > kMaxStringBytes)
        lib_fail(str_cat("a string grew past ", kMaxStringBytes >> 20, " MiB"));
}

std::vector<std::string> utf8_chars(const std::string& s) {
    std::vector<std::string> out;
    for (size_t i = 0; i < s.size();) {
        size_t n = tokenizer::utf8_length(static_cast<unsigned char>(s[i]));
        if (i + n > s.size()) n = 1;
        for (size_t k = 1; k < n; ++k)
            if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) n = 1;
        out.push_back(s.substr(i, n));
        i += n;
    }
    return out;
}

void CallArgs::bind(const char* callee, const std::vector<const char*>& params) {
    if (positional.size() > params.size())
        lib_fail(str_cat(callee, "() takes at most ", params.size(), " argument(s), ",
                         positional.size(), " given"));
    bound_ = positional;
    bound_.resize(params.size());
    for (auto& [name, value] : keyword) {
        size_t k = 0;
        while (k < params.size() && name != params[k]) ++k;
        if (k == params.size())
            lib_fail(str_cat(callee, "() got an unexpected keyword argument '", name, "'"));
        if (k < positional.size())
            lib_fail(str_cat(callee, "() got multiple values for argument '", name, "'"));
        bound_[k] = value;
    }
}

const Value& CallArgs::get(size_t index) const {
    static const Value kUndefined;
    return index < bound_.size() ? bound_[index] : kUndefined;
}

Value get_attr(const Value& obj, const std::string& name) {
    switch (obj.kind()) {
        case Value::Kind::Data: {
            const Json& j = obj.json();
            if (!j.is_object()) return {};
            auto it = j.find(name);
            return it == j.end() ? Value{} : obj.child(*it);
        }
        case Value::Kind::Namespace: {
            const Json& attrs = obj.ns()->attrs;
            auto it = attrs.find(name);
            // A copy: later assignments to the namespace may move its storage.
            return it == attrs.end() ? Value{} : Value::of(*it);
        }
        case Value::Kind::Loop: {
            const LoopState& l = *obj.loop();
            const size_t n = l.items->size();
            const size_t i = l.index0;
            if (name == "index0") return Value::of(static_cast<int64_t>(i));
            if (name == "index") return Value::of(static_cast<int64_t>(i + 1));
            if (name == "revindex0") return Value::of(static_cast<int64_t>(n - i - 1));
            if (name == "revindex") return Value::of(static_cast<int64_t>(n - i));
            if (name == "first") return Value::of(i == 0);
            if (name == "last") return Value::of(i + 1 == n);
            if (name == "length") return Value::of(static_cast<int64_t>(n));
            if (name == "depth") return Value::of(1);
            if (name == "depth0") return Value::of(0);
            if (name == "previtem") return i > 0 ? (*l.items)[i - 1] : Value{};
            if (name == "nextitem") return i + 1 < n ? (*l.items)[i + 1] : Value{};
            return {};
        }
        default:
            return {};
    }
}

Value get_item(const Value& obj, const Value& key) {
    if (obj.kind() == Value::Kind::Namespace || obj.kind() == Value::Kind::Loop) {
        if (key.is_data() && key.json().is_string())
            return get_attr(obj, key.json().get<std::string>());
        return {};
    }
    if (!obj.is_data() || !key.is_data()) return {};
    const Json& j = obj.json();
    const Json& k = key.json();
    if (j.is_object()) {
        if (!k.is_string()) return {};
        auto it = j.find(k.get_ref<const std::string&>());
        return it == j.end() ? Value{} : obj.child(*it);
    }
    int64_t i;
    if (!get_int(k, i)) return {};
    if (j.is_array()) {
        const int64_t n = static_cast<int64_t>(j.size());
        if (i < 0) i += n;
        if (i < 0 || i >= n) return {};
        return obj.child(j[static_cast<size_t>(i)]);
    }
    if (j.is_string()) {
        auto chars = utf8_chars(j.get_ref<const std::string&>());
        const int64_t n = static_cast<int64_t>(chars.size());
        if (i < 0) i += n;
        if (i < 0 || i >= n) return {};
        return Value::of(chars[static_cast<size_t>(i)]);
    }
    return {};
}

std::vector<Value> iterate(const Value& v) {
    std::vector<Value> out;
    if (v.undefined()) return out;
    if (!v.is_data()) lib_fail("a " + type_name(v) + " is not iterable");
    const Json& j = v.json();
    if (j.is_array()) {
        out.reserve(j.size());
        for (const auto& e : j) out.push_back(v.child(e));
    } else if (j.is_object()) {
        out.reserve(j.size());
        for (auto it = j.begin(); it != j.end(); ++it) out.push_back(Value::of(it.key()));
    } else if (j.is_string()) {
        for (auto& c : utf8_chars(j.get_ref<const std::string&>()))
            out.push_back(Value::of(std::move(c)));
    } else {
        lib_fail("a value of type " + type_name(v) + " is not iterable");
    }
    return out;
}

namespace {

const std::string* opt_string(const Value& v, const char* what) {
    if (v.undefined() || (v.is_data() && v.json().is_null())) return nullptr;
    if (!v.is_data() || !v.json().is_string())
        lib_fail(str_cat(what, " must be a string, not ", type_name(v)));
    return &v.json().get_ref<const std::string&>();
}

const std::string& need_string(const Value& v, const char* what) {
    const std::string* s = opt_string(v, what);
    if (s == nullptr) lib_fail(str_cat(what, " is missing"));
    return *s;
}

long long opt_int(const Value& v, long long fallback, const char* what) {
    if (v.undefined() || (v.is_data() && v.json().is_null())) return fallback;
    return need_int(v, what);
}

// startswith/endswith accept one string or a list of them.
bool affix_matches(const std::string& s, const Value& arg, bool prefix) {
    auto one = [&](const std::string& a) {
        if (a.size() > s.size()) return false;
        return prefix ? s.compare(0, a.size(), a) == 0
                      : s.compare(s.size() - a.size(), a.size(), a) == 0;
    };
    if (arg.is_data() && arg.json().is_array()) {
        for (const auto& e : arg.json()) {
            if (!e.is_string()) lib_fail("startswith/endswith take strings");
            if (one(e.get_ref<const std::string&>())) return true;
        }
        return false;
    }
    return one(need_string(arg, prefix ? "startswith's argument" : "endswith's argument"));
}

Value string_method(const std::string& s, const std::string& name, CallArgs& args, bool& found) {
    found = true;
    if (name == "strip" || name == "lstrip" || name == "rstrip") {
        args.bind(name.c_str(), {"chars"});
        const std::string* chars = opt_string(args.get(0), "chars");
        return Value::of(strip(s, chars, name != "rstrip", name != "lstrip"));
    }
    if (name == "startswith" || name == "endswith") {
        args.bind(name.c_str(), {"prefix"});
        return Value::of(affix_matches(s, args.get(0), name == "startswith"));
    }
    if (name == "upper" || name == "lower" || name == "title" || name == "capitalize") {
        args.bind(name.c_str(), {});
        if (name == "upper") return Value::of(to_upper(s));
        if (name == "lower") return Value::of(to_lower(s));
        if (name == "title") return Value::of(title(s));
        return Value::of(capitalize(s));
    }
    if (name == "split" || name == "rsplit") {
        args.bind(name.c_str(), {"sep", "maxsplit"});
        const std::string* sep = opt_string(args.get(0), "sep");
        if (sep != nullptr && sep->empty()) lib_fail("split: empty separator");
        long long maxsplit = opt_int(args.get(1), -1, "maxsplit");
        if (name == "rsplit" && maxsplit >= 0) lib_fail("rsplit with maxsplit is not supported");
        Json out = Json::array();
        for (auto& piece : split(s, sep, maxsplit)) out.push_back(std::move(piece));
        return Value::of(std::move(out));
    }
    if (name == "replace") {
        args.bind("replace", {"old", "new", "count"});
        return Value::of(replace(s, need_string(args.get(0), "old"),
                                 need_string(args.get(1), "new"),
                                 opt_int(args.get(2), -1, "count")));
    }
    if (name == "find") {
        args.bind("find", {"sub"});
        size_t at = s.find(need_string(args.get(0), "sub"));
        return Value::of(at == std::string::npos
                             ? int64_t{-1}
                             : static_cast<int64_t>(char_count(s.substr(0, at))));
    }
    if (name == "join") {
        args.bind("join", {"iterable"});
        std::string out;
        bool first = true;
        for (const Value& v : iterate(args.get(0))) {
            if (!first) out += s;
            first = false;
            out += to_str(v);
            check_size(out.size());
        }
        return Value::of(std::move(out));
    }
    found = false;
    return {};
}

Value dict_method(const Value& obj, const std::string& name, CallArgs& args, bool& found) {
    const Json& j = obj.json();
    found = true;
    if (name == "get") {
        args.bind("get", {"key", "default"});
        Value v = get_item(obj, args.get(0));
        if (!v.undefined()) return v;
        return args.has(1) ? args.get(1) : Value::of(nullptr);
    }
    if (name == "items") {
        args.bind("items", {});
        Json out = Json::array();
        for (auto it = j.begin(); it != j.end(); ++it)
            out.push_back(Json::array({it.key(), it.value()}));
        return Value::of(std::move(out));
    }
    if (name == "keys") {
        args.bind("keys", {});
        Json out = Json::array();
        for (auto it = j.begin(); it != j.end(); ++it) out.push_back(it.key());
        return Value::of(std::move(out));
    }
    if (name == "values") {
        args.bind("values", {});
        Json out = Json::array();
        for (auto it = j.begin(); it != j.end(); ++it) out.push_back(it.value());
        return Value::of(std::move(out));
    }
    found = false;
    return {};
}

}  // namespace

Value call_method(const Value& obj, const std::string& name, CallArgs& args, bool& found) {
    found = false;
    if (obj.kind() == Value::Kind::Loop && name == "cycle") {
        found = true;
        if (!args.keyword.empty() || args.positional.empty())
            lib_fail("loop.cycle() takes one or more values");
        return args.positional[obj.loop()->index0 % args.positional.size()];
    }
    if (!obj.is_data()) return {};
    const Json& j = obj.json();
    if (j.is_string()) return string_method(j.get_ref<const std::string&>(), name, args, found);
    if (j.is_object()) return dict_method(obj, name, args, found);
    return {};
}

int64_t need_int(const Value& v, const char* what) {
    if (!v.is_data() || !(v.json().is_number_integer() || v.json().is_boolean()))
        lib_fail(str_cat(what, " must be an integer, not ", type_name(v)));
    return v.json().is_boolean() ? (v.json().get<bool>() ? 1 : 0) : v.json().get<int64_t>();
}

}  // namespace kiln::chat_template
