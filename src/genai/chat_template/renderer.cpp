// The tree-walking interpreter: scopes as Jinja has them (a for loop and a macro open one; if and
// set do not), Python's operators, and the global functions transformers provides.
#include "genai/chat_template/renderer.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <optional>
#include <ctime>
#include <unordered_map>

#include "genai/chat_template/library.hpp"
#include "kiln/error.hpp"

namespace kiln::chat_template {

namespace {

enum class Flow { Normal, Break, Continue };

bool get_int(const Json& j, int64_t& out) {
    if (j.is_boolean()) {
        out = j.get<bool>() ? 1 : 0;
        return true;
    }
    if (j.is_number_unsigned() && j.get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)) return false;
    if (!j.is_number_integer()) return false;
    out = j.get<int64_t>();
    return true;
}

const char* op_name(BinaryOp op) {
    switch (op) {
        case BinaryOp::Add: return "+";
        case BinaryOp::Sub: return "-";
        case BinaryOp::Mul: return "*";
        case BinaryOp::Div: return "/";
        case BinaryOp::FloorDiv: return "//";
        case BinaryOp::Mod: return "%";
        case BinaryOp::Pow: return "**";
        case BinaryOp::Concat: return "~";
        case BinaryOp::And: return "and";
        case BinaryOp::Or: return "or";
    }
    return "?";
}

Value repeat(const Json& seq, int64_t n) {
    const bool empty = seq.is_string() ? seq.get_ref<const std::string&>().empty() : seq.empty();
    if (n <= 0 || empty) return Value::of(seq.is_string() ? Json("") : Json::array());
    if (seq.is_string()) {
        const std::string& s = seq.get_ref<const std::string&>();
        if (!s.empty() && static_cast<uint64_t>(n) > kMaxStringBytes / s.size()) check_size(kMaxStringBytes + 1);
        std::string out;
        out.reserve(s.size() * static_cast<size_t>(n));
        for (int64_t i = 0; i < n; ++i) out += s;
        return Value::of(std::move(out));
    }
    if (!seq.empty() && static_cast<uint64_t>(n) > 1'000'000 / seq.size()) lib_fail("list repetition too large");
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
        while (j < fmt.size() && std::strchr("-+ #0", fmt[j]) != nullptr && fmt[j] != '\0') flags += fmt[j++];
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
            if (precision >= 0 && text.size() > static_cast<size_t>(precision)) text.resize(static_cast<size_t>(precision));
            if (text.size() < static_cast<size_t>(width)) {
                const size_t pad = static_cast<size_t>(width) - text.size();
                if (flags.find('-') != std::string::npos) text.append(pad, ' ');
                else text.insert(0, pad, ' ');
            }
            out += text;
        } else if (conv == 'd' || conv == 'i' || conv == 'x' || conv == 'X') {
            if (!is_number(v)) lib_fail(str_cat("%", conv, " format needs a number, not ", type_name(v)));
            int64_t n;
            if (!get_int(v, n)) {
                double d = as_double(v);
                if (!std::isfinite(d) || std::fabs(d) >= 9.2e18) lib_fail("number too large for %d");
                n = static_cast<int64_t>(d);
            }
            printf_to(out, spec + "ll" + (conv == 'i' ? 'd' : conv), static_cast<long long>(n));
        } else if (conv == 'f' || conv == 'F' || conv == 'e' || conv == 'E' || conv == 'g' || conv == 'G') {
            if (!is_number(v)) lib_fail(str_cat("%", conv, " format needs a number, not ", type_name(v)));
            printf_to(out, spec + conv, as_double(v));
        } else {
            lib_fail(str_cat("unsupported format character '", conv, "'"));
        }
        check_size(out.size());
    }
    if (next < values.size() && args.is_array()) lib_fail("not all arguments converted during string formatting");
    return out;
}

// Python's arithmetic: ints stay ints (falling back to floats on overflow), / is true division,
// // and % floor.
Value arithmetic(BinaryOp op, const Value& a, const Value& b) {
    if (a.undefined() || b.undefined())
        lib_fail(str_cat("cannot apply '", op_name(op), "' to an undefined value"));
    if (!a.is_data() || !b.is_data())
        lib_fail(str_cat("cannot apply '", op_name(op), "' to ", type_name(a), " and ", type_name(b)));
    const Json& x = a.json();
    const Json& y = b.json();
    if (op == BinaryOp::Add) {
        if (x.is_string() && y.is_string()) {
            check_size(x.get_ref<const std::string&>().size() + y.get_ref<const std::string&>().size());
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
    if (op == BinaryOp::Mod && x.is_string()) return Value::of(percent_format(x.get_ref<const std::string&>(), y));
    if (!is_number(x) || !is_number(y))
        lib_fail(str_cat("cannot apply '", op_name(op), "' to ", type_name(x), " and ", type_name(y)));
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
            default: break;
        }
    }
    const double p = as_double(x), q = as_double(y);
    switch (op) {
        case BinaryOp::Add: return Value::of(p + q);
        case BinaryOp::Sub: return Value::of(p - q);
        case BinaryOp::Mul: return Value::of(p * q);
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
        case BinaryOp::Pow: return Value::of(std::pow(p, q));
        default: lib_fail("bad operator");
    }
}

Value slice(const Value& obj, const Value& start, const Value& stop, const Value& step) {
    auto bound = [](const Value& v, const char* what) -> std::optional<int64_t> {
        if (v.undefined() || (v.is_data() && v.json().is_null())) return std::nullopt;
        int64_t n;
        if (!v.is_data() || !get_int(v.json(), n)) lib_fail(str_cat("slice ", what, " must be an integer"));
        return n;
    };
    if (obj.undefined()) return obj;
    if (!obj.is_data() || !(obj.json().is_array() || obj.json().is_string()))
        lib_fail("cannot slice a " + type_name(obj));
    const bool is_str = obj.json().is_string();
    std::vector<std::string> chars;
    if (is_str) chars = utf8_chars(obj.json().get_ref<const std::string&>());
    const int64_t n = is_str ? static_cast<int64_t>(chars.size()) : static_cast<int64_t>(obj.json().size());
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
        if (is_str) s += chars[static_cast<size_t>(i)];
        else list.push_back(obj.json()[static_cast<size_t>(i)]);
        if (st > 0 ? i > INT64_MAX - st : i < INT64_MIN - st) break;
    }
    return is_str ? Value::of(std::move(s)) : Value::of(std::move(list));
}

bool contains(const Value& container, const Value& item) {
    if (container.undefined()) return false;
    if (container.kind() == Value::Kind::Namespace)
        return item.is_data() && item.json().is_string() && container.ns()->attrs.contains(item.json().get<std::string>());
    if (!container.is_data()) lib_fail("'in' needs a container, not a " + type_name(container));
    const Json& c = container.json();
    if (c.is_string()) {
        if (!item.is_data() || !item.json().is_string())
            lib_fail("'in <string>' needs a string on the left, not a " + type_name(item));
        return c.get_ref<const std::string&>().find(item.json().get_ref<const std::string&>()) != std::string::npos;
    }
    if (c.is_object()) return item.is_data() && item.json().is_string() && c.contains(item.json().get<std::string>());
    if (c.is_array()) {
        for (const auto& e : c)
            if (equals(item, container.child(e))) return true;
        return false;
    }
    lib_fail("'in' needs a container, not a " + type_name(container));
}

bool compare_op(CompareOp op, const Value& a, const Value& b) {
    switch (op) {
        case CompareOp::Eq: return equals(a, b);
        case CompareOp::Ne: return !equals(a, b);
        case CompareOp::In: return contains(b, a);
        case CompareOp::NotIn: return !contains(b, a);
        default: break;
    }
    if (!a.is_data() || !b.is_data()) lib_fail("cannot order " + type_name(a) + " and " + type_name(b));
    bool ok = true;
    int c = compare(a.json(), b.json(), ok);
    if (!ok) lib_fail("cannot order " + type_name(a) + " and " + type_name(b));
    switch (op) {
        case CompareOp::Lt: return c < 0;
        case CompareOp::Le: return c <= 0;
        case CompareOp::Gt: return c > 0;
        default: return c >= 0;
    }
}

class Renderer {
public:
    explicit Renderer(const Json& context) : context_(std::make_shared<const Json>(context)) {
        scopes_.emplace_back();
        for (auto it = context_->begin(); it != context_->end(); ++it)
            scopes_[0][it.key()] = Value::view(context_, &it.value());
    }

    std::string run(const Program& program) {
        std::string out;
        exec_body(program.body, out);
        return out;
    }

private:
    using Scope = std::unordered_map<std::string, Value>;

    struct Deeper {
        Deeper(Renderer& r, Pos pos) : r_(r) {
            if (++r_.depth_ > kMaxRenderDepth)
                fail(pos, str_cat("rendering nests deeper than ", kMaxRenderDepth, " levels (runaway macro recursion?)"));
        }
        ~Deeper() { --r_.depth_; }
        Renderer& r_;
    };
    struct PushScope {
        explicit PushScope(Renderer& r) : r_(r) { r_.scopes_.emplace_back(); }
        ~PushScope() { r_.scopes_.pop_back(); }
        Renderer& r_;
    };

    Value lookup(const std::string& name) const {
        for (size_t i = scopes_.size(); i-- > frame_base_;) {
            auto it = scopes_[i].find(name);
            if (it != scopes_[i].end()) return it->second;
        }
        if (frame_base_ > 0) {
            auto it = scopes_[0].find(name);
            if (it != scopes_[0].end()) return it->second;
        }
        return {};
    }

    // ---- statements ----

    Flow exec_body(const Body& body, std::string& out) {
        for (const StmtPtr& s : body) {
            Flow f = exec(*s, out);
            if (f != Flow::Normal) return f;
        }
        return Flow::Normal;
    }

    // The dispatchers stay small and each kind runs in its own function, so that the frames on the
    // recursive path are small (sanitizer builds give every local a red zone).
    Flow exec(const Stmt& s, std::string& out) {
        Deeper guard(*this, s.pos);
        switch (s.kind) {
            case StmtKind::Text: append(out, static_cast<const TextStmt&>(s).text, s.pos); return Flow::Normal;
            case StmtKind::Output: exec_output(static_cast<const OutputStmt&>(s), out); return Flow::Normal;
            case StmtKind::If: return exec_if(static_cast<const IfStmt&>(s), out);
            case StmtKind::For: return exec_for(static_cast<const ForStmt&>(s), out);
            case StmtKind::Set: exec_set(static_cast<const SetStmt&>(s)); return Flow::Normal;
            case StmtKind::SetBlock: exec_set_block(static_cast<const SetBlockStmt&>(s)); return Flow::Normal;
            case StmtKind::Macro: {
                const auto& st = static_cast<const MacroStmt&>(s);
                scopes_.back()[st.name] = Value::of_macro(&st);
                return Flow::Normal;
            }
            case StmtKind::Break: return Flow::Break;
            case StmtKind::Continue: return Flow::Continue;
            case StmtKind::FilterBlock: exec_filter_block(static_cast<const FilterBlockStmt&>(s), out); return Flow::Normal;
            case StmtKind::Group: return exec_body(static_cast<const GroupStmt&>(s).body, out);
        }
        return Flow::Normal;
    }

    [[gnu::noinline]] void exec_output(const OutputStmt& s, std::string& out) {
        append(out, to_str(eval(*s.expr)), s.pos);
    }

    [[gnu::noinline]] Flow exec_if(const IfStmt& s, std::string& out) {
        for (const auto& [cond, body] : s.branches)
            if (truthy(eval(*cond))) return exec_body(body, out);
        return exec_body(s.otherwise, out);
    }

    [[gnu::noinline]] void exec_set_block(const SetBlockStmt& s) {
        std::string text;
        exec_body(s.body, text);
        scopes_.back()[s.name] = Value::of(std::move(text));
    }

    [[gnu::noinline]] void exec_filter_block(const FilterBlockStmt& s, std::string& out) {
        std::string text;
        exec_body(s.body, text);
        Value v = Value::of(std::move(text));
        for (const auto& f : s.filters) v = apply_filter_expr(*f, v);
        append(out, to_str(v), s.pos);
    }

    void append(std::string& out, const std::string& text, Pos pos) {
        if (out.size() + text.size() > kMaxStringBytes)
            fail(pos, str_cat("the output grew past ", kMaxStringBytes >> 20, " MiB"));
        out += text;
    }

    void bind_targets(const std::vector<std::string>& targets, const Value& item, Pos pos) {
        Scope& scope = scopes_.back();
        if (targets.size() == 1) {
            scope[targets[0]] = item;
            return;
        }
        if (!item.is_data() || !item.json().is_array() || item.json().size() != targets.size())
            fail(pos, str_cat("cannot unpack a ", type_name(item), " into ", targets.size(), " loop variables"));
        for (size_t i = 0; i < targets.size(); ++i) scope[targets[i]] = item.child(item.json()[i]);
    }

    void count_iteration(Pos pos) {
        if (++iterations_ > kMaxLoopIterations)
            fail(pos, str_cat("more than ", kMaxLoopIterations, " loop iterations"));
    }

    [[gnu::noinline]] Flow exec_for(const ForStmt& s, std::string& out) {
        Value iterable = eval(*s.iterable);
        std::vector<Value> items;
        try {
            items = iterate(iterable);
        } catch (const LibError& e) {
            fail(s.iterable->pos, e.what());
        }
        auto state = std::make_shared<LoopState>();
        {
            PushScope scope(*this);
            if (s.filter) {
                std::vector<Value> kept;
                for (const Value& item : items) {
                    count_iteration(s.pos);
                    bind_targets(s.targets, item, s.pos);
                    if (truthy(eval(*s.filter))) kept.push_back(item);
                }
                items = std::move(kept);
            }
            state->items = std::make_shared<const std::vector<Value>>(std::move(items));
            const Value loop = Value::of_loop(state);
            for (size_t i = 0; i < state->items->size(); ++i) {
                count_iteration(s.pos);
                state->index0 = i;
                bind_targets(s.targets, (*state->items)[i], s.pos);
                scopes_.back()["loop"] = loop;
                if (exec_body(s.body, out) == Flow::Break) break;
            }
        }
        if (state->items->empty()) return exec_body(s.otherwise, out);
        return Flow::Normal;
    }

    void exec_set(const SetStmt& s) {
        Value v = eval(*s.value);
        if (!s.more.empty()) {
            std::vector<std::string> names{s.name};
            names.insert(names.end(), s.more.begin(), s.more.end());
            bind_targets(names, v, s.pos);
            return;
        }
        if (s.attr.empty()) {
            scopes_.back()[s.name] = std::move(v);
            return;
        }
        Value target = lookup(s.name);
        if (target.kind() != Value::Kind::Namespace)
            fail(s.pos, "cannot set attribute '" + s.attr + "' of '" + s.name + "': it is a " + type_name(target) +
                            ", not a namespace()");
        target.ns()->attrs[s.attr] = to_json(v);
    }

    // ---- expressions ----

    Value eval(const Expr& e) {
        Deeper guard(*this, e.pos);
        try {
            return eval_node(e);
        } catch (const LibError& err) {
            fail(e.pos, err.what());
        }
    }

    Value eval_node(const Expr& e) {
        switch (e.kind) {
            case ExprKind::Literal: return static_cast<const LiteralExpr&>(e).value;
            case ExprKind::List: return eval_list(static_cast<const ListExpr&>(e));
            case ExprKind::Dict: return eval_dict(static_cast<const DictExpr&>(e));
            case ExprKind::Name: return lookup(static_cast<const NameExpr&>(e).name);
            case ExprKind::Attr: return eval_attr(static_cast<const AttrExpr&>(e));
            case ExprKind::Index: return eval_index(static_cast<const IndexExpr&>(e));
            case ExprKind::Slice: return eval_slice(static_cast<const SliceExpr&>(e));
            case ExprKind::Unary: return eval_unary(static_cast<const UnaryExpr&>(e));
            case ExprKind::Binary: return eval_binary(static_cast<const BinaryExpr&>(e));
            case ExprKind::Compare: return eval_compare(static_cast<const CompareExpr&>(e));
            case ExprKind::Cond: return eval_cond(static_cast<const CondExpr&>(e));
            case ExprKind::Call: return eval_call(static_cast<const CallExpr&>(e));
            case ExprKind::Filter: return eval_filter(static_cast<const FilterExpr&>(e));
            case ExprKind::Test: return eval_test(static_cast<const TestExpr&>(e));
        }
        return {};
    }

    [[gnu::noinline]] Value eval_list(const ListExpr& e) {
        Json out = Json::array();
        for (const auto& item : e.items) out.push_back(to_json(eval(*item)));
        return Value::of(std::move(out));
    }

    [[gnu::noinline]] Value eval_dict(const DictExpr& e) {
        Json out = Json::object();
        for (const auto& [k, v] : e.items) {
            Value key = eval(*k);
            if (!key.is_data() || !(key.json().is_string() || is_number(key.json())))
                fail(k->pos, "dict keys must be strings or numbers, not " + type_name(key));
            out[to_str(key)] = to_json(eval(*v));
        }
        return Value::of(std::move(out));
    }

    [[gnu::noinline]] Value eval_attr(const AttrExpr& a) { return get_attr(eval(*a.object), a.name); }

    [[gnu::noinline]] Value eval_index(const IndexExpr& ix) {
        Value obj = eval(*ix.object);
        return get_item(obj, eval(*ix.index));
    }

    [[gnu::noinline]] Value eval_slice(const SliceExpr& sl) {
        Value obj = eval(*sl.object);
        Value start = sl.start ? eval(*sl.start) : Value{};
        Value stop = sl.stop ? eval(*sl.stop) : Value{};
        Value step = sl.step ? eval(*sl.step) : Value{};
        return slice(obj, start, stop, step);
    }

    [[gnu::noinline]] Value eval_compare(const CompareExpr& c) {
        Value left = eval(*c.first);
        for (const auto& [op, rhs] : c.rest) {
            Value right = eval(*rhs);
            if (!compare_op(op, left, right)) return Value::of(false);
            left = std::move(right);
        }
        return Value::of(true);
    }

    [[gnu::noinline]] Value eval_cond(const CondExpr& c) {
        if (truthy(eval(*c.cond))) return eval(*c.then);
        return c.otherwise ? eval(*c.otherwise) : Value{};
    }

    [[gnu::noinline]] Value eval_filter(const FilterExpr& f) { return apply_filter_expr(f, eval(*f.input)); }

    [[gnu::noinline]] Value eval_test(const TestExpr& t) {
        Value input = eval(*t.input);
        CallArgs args = eval_args(t.args);
        return Value::of(apply_test(t.name, input, args) != t.negated);
    }

    [[gnu::noinline]] Value eval_unary(const UnaryExpr& u) {
        Value v = eval(*u.operand);
        if (u.op == UnaryOp::Not) return Value::of(!truthy(v));
        if (!v.is_data() || !is_number(v.json()))
            lib_fail(str_cat("unary '", u.op == UnaryOp::Neg ? "-" : "+", "' needs a number, not a ", type_name(v)));
        const Json& j = v.json();
        if (u.op == UnaryOp::Pos) return j.is_boolean() ? Value::of(j.get<bool>() ? 1 : 0) : v;
        int64_t i;
        if (get_int(j, i)) return i == INT64_MIN ? Value::of(-static_cast<double>(i)) : Value::of(-i);
        return Value::of(-as_double(j));
    }

    [[gnu::noinline]] Value eval_binary(const BinaryExpr& b) {
        Value left = eval(*b.lhs);
        if (b.op == BinaryOp::And) return truthy(left) ? eval(*b.rhs) : left;
        if (b.op == BinaryOp::Or) return truthy(left) ? left : eval(*b.rhs);
        Value right = eval(*b.rhs);
        if (b.op == BinaryOp::Concat) {
            std::string s = to_str(left);
            const std::string r = to_str(right);
            check_size(s.size() + r.size());
            s += r;
            return Value::of(std::move(s));
        }
        return arithmetic(b.op, left, right);
    }

    CallArgs eval_args(const Args& a) {
        CallArgs args;
        for (const auto& e : a.positional) args.positional.push_back(eval(*e));
        for (const auto& [k, e] : a.keyword) args.keyword.emplace_back(k, eval(*e));
        return args;
    }

    Value apply_filter_expr(const FilterExpr& f, const Value& input) {
        CallArgs args = eval_args(f.args);
        try {
            return apply_filter(f.name, input, args);
        } catch (const LibError& err) {
            fail(f.pos, err.what());
        }
    }

    [[gnu::noinline]] Value eval_call(const CallExpr& c) {
        if (c.callee->kind == ExprKind::Attr) {
            const auto& a = static_cast<const AttrExpr&>(*c.callee);
            Value obj = eval(*a.object);
            CallArgs args = eval_args(c.args);
            bool found = false;
            Value result = call_method(obj, a.name, args, found);
            if (found) return result;
            Value attr = get_attr(obj, a.name);
            if (attr.kind() == Value::Kind::Macro) return call_macro(*attr.macro(), args, c.pos);
            lib_fail(str_cat("a ", type_name(obj), " has no method '", a.name, "'"));
        }
        const std::string& name = static_cast<const NameExpr&>(*c.callee).name;
        CallArgs args = eval_args(c.args);
        Value callee = lookup(name);
        if (callee.kind() == Value::Kind::Macro) return call_macro(*callee.macro(), args, c.pos);
        if (name == "raise_exception") {
            args.bind("raise_exception", {"message"});
            throw Error(to_str(args.get(0)));  // the template's own words, as transformers reports them
        }
        if (name == "range") return range(args);
        if (name == "namespace" || name == "dict") {
            Json attrs = Json::object();
            if (name == "namespace" && args.positional.size() == 1 && args.positional[0].is_data() &&
                args.positional[0].json().is_object()) {
                attrs = args.positional[0].json();
            } else if (!args.positional.empty()) {
                lib_fail(name + "() takes keyword arguments only");
            }
            for (const auto& [k, v] : args.keyword) attrs[k] = to_json(v);
            if (name == "dict") return Value::of(std::move(attrs));
            auto ns = std::make_shared<Namespace>();
            ns->attrs = std::move(attrs);
            return Value::of_namespace(std::move(ns));
        }
        if (name == "strftime_now") {
            args.bind("strftime_now", {"format"});
            return Value::of(strftime_now(to_str(args.get(0))));
        }
        if (!callee.undefined()) lib_fail("'" + name + "' is a " + type_name(callee) + ", not a function");
        lib_fail("unknown function '" + name + "'");
    }

    Value range(CallArgs& args) {
        if (!args.keyword.empty() || args.positional.empty() || args.positional.size() > 3)
            lib_fail("range() takes 1 to 3 integers");
        int64_t v[3] = {0, 0, 1};
        for (size_t i = 0; i < args.positional.size(); ++i) {
            const Value& a = args.positional[i];
            if (!a.is_data() || !get_int(a.json(), v[i])) lib_fail("range() takes integers");
        }
        int64_t start = 0, stop = v[0], step = 1;
        if (args.positional.size() >= 2) {
            start = v[0];
            stop = v[1];
        }
        if (args.positional.size() == 3) step = v[2];
        if (step == 0) lib_fail("range() step must not be zero");
        Json out = Json::array();
        for (int64_t i = start; step > 0 ? i < stop : i > stop; i += step) {
            if (out.size() >= 1'000'000) lib_fail("range() of more than 1000000 numbers");
            out.push_back(i);
            if (step > 0 ? i > INT64_MAX - step : i < INT64_MIN - step) break;
        }
        return Value::of(std::move(out));
    }

    static std::string strftime_now(const std::string& format) {
        std::time_t now = std::time(nullptr);
        std::tm local{};
        localtime_r(&now, &local);
        for (size_t cap = 256; cap <= 65536; cap *= 4) {
            std::string buf(cap, '\0');
            size_t n = std::strftime(buf.data(), buf.size(), format.c_str(), &local);
            if (n > 0 || format.empty()) {
                buf.resize(n);
                return buf;
            }
        }
        return "";
    }

    [[gnu::noinline]] Value call_macro(const MacroStmt& m, CallArgs& args, Pos pos) {
        if (macro_depth_ >= kMaxMacroDepth)
            fail(pos, str_cat("macro calls nest deeper than ", kMaxMacroDepth, " (runaway recursion?)"));
        struct Count {
            explicit Count(int& d) : d_(++d) {}
            ~Count() { --d_; }
            int& d_;
        } count(macro_depth_);
        if (args.positional.size() > m.params.size())
            fail(pos, str_cat("macro '", m.name, "' takes ", m.params.size(), " argument(s), ", args.positional.size(),
                              " given"));
        Scope frame;
        for (size_t i = 0; i < args.positional.size(); ++i) frame[m.params[i].first] = args.positional[i];
        for (auto& [k, v] : args.keyword) {
            bool known = false;
            for (const auto& p : m.params) known = known || p.first == k;
            if (!known) fail(pos, "macro '" + m.name + "' has no parameter '" + k + "'");
            frame[k] = v;
        }
        const size_t saved_base = frame_base_;
        scopes_.push_back(std::move(frame));
        frame_base_ = scopes_.size() - 1;
        std::string out;
        try {
            for (const auto& [param, def] : m.params)
                if (!scopes_.back().count(param)) scopes_.back()[param] = def ? eval(*def) : Value{};
            exec_body(m.body, out);
        } catch (...) {
            scopes_.pop_back();
            frame_base_ = saved_base;
            throw;
        }
        scopes_.pop_back();
        frame_base_ = saved_base;
        return Value::of(std::move(out));
    }

    std::shared_ptr<const Json> context_;
    std::vector<Scope> scopes_;
    size_t frame_base_ = 0;  // lookups see scopes_[frame_base_..] and the globals in scopes_[0]
    int depth_ = 0;
    int macro_depth_ = 0;
    uint64_t iterations_ = 0;
};

}  // namespace

std::string render(const Program& program, const Json& context) {
    return Renderer(context).run(program);
}

}  // namespace kiln::chat_template
