// The tree-walking interpreter: scopes as Jinja has them (a for loop and a macro open one; if and
// set do not), Python's operators, and the global functions transformers provides.
#include "genai/chat_template/renderer.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <optional>
#include <unordered_map>

#include "genai/chat_template/library.hpp"
#include "genai/chat_template/operators.hpp"
#include "kiln/error.hpp"

namespace kiln::chat_template {

namespace {

enum class Flow { Normal, Break, Continue };

class Renderer {
public:
    explicit Renderer(Json context) : context_(std::make_shared<const Json>(std::move(context))) {
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
                fail(pos, str_cat("rendering nests deeper than ", kMaxRenderDepth,
                                  " levels (runaway macro recursion?)"));
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
            case StmtKind::Text:
                append(out, static_cast<const TextStmt&>(s).text, s.pos);
                return Flow::Normal;
            case StmtKind::Output:
                exec_output(static_cast<const OutputStmt&>(s), out);
                return Flow::Normal;
            case StmtKind::If:
                return exec_if(static_cast<const IfStmt&>(s), out);
            case StmtKind::For:
                return exec_for(static_cast<const ForStmt&>(s), out);
            case StmtKind::Set:
                exec_set(static_cast<const SetStmt&>(s));
                return Flow::Normal;
            case StmtKind::SetBlock:
                exec_set_block(static_cast<const SetBlockStmt&>(s));
                return Flow::Normal;
            case StmtKind::Macro: {
                const auto& st = static_cast<const MacroStmt&>(s);
                scopes_.back()[st.name] = Value::of_macro(&st);
                return Flow::Normal;
            }
            case StmtKind::Break:
                return Flow::Break;
            case StmtKind::Continue:
                return Flow::Continue;
            case StmtKind::FilterBlock:
                exec_filter_block(static_cast<const FilterBlockStmt&>(s), out);
                return Flow::Normal;
            case StmtKind::Group:
                return exec_body(static_cast<const GroupStmt&>(s).body, out);
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
            fail(pos, str_cat("cannot unpack a ", type_name(item), " into ", targets.size(),
                              " loop variables"));
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
            fail(s.pos, "cannot set attribute '" + s.attr + "' of '" + s.name + "': it is a " +
                            type_name(target) + ", not a namespace()");
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
            case ExprKind::Literal:
                return static_cast<const LiteralExpr&>(e).value;
            case ExprKind::List:
                return eval_list(static_cast<const ListExpr&>(e));
            case ExprKind::Dict:
                return eval_dict(static_cast<const DictExpr&>(e));
            case ExprKind::Name:
                return lookup(static_cast<const NameExpr&>(e).name);
            case ExprKind::Attr:
                return eval_attr(static_cast<const AttrExpr&>(e));
            case ExprKind::Index:
                return eval_index(static_cast<const IndexExpr&>(e));
            case ExprKind::Slice:
                return eval_slice(static_cast<const SliceExpr&>(e));
            case ExprKind::Unary:
                return eval_unary(static_cast<const UnaryExpr&>(e));
            case ExprKind::Binary:
                return eval_binary(static_cast<const BinaryExpr&>(e));
            case ExprKind::Compare:
                return eval_compare(static_cast<const CompareExpr&>(e));
            case ExprKind::Cond:
                return eval_cond(static_cast<const CondExpr&>(e));
            case ExprKind::Call:
                return eval_call(static_cast<const CallExpr&>(e));
            case ExprKind::Filter:
                return eval_filter(static_cast<const FilterExpr&>(e));
            case ExprKind::Test:
                return eval_test(static_cast<const TestExpr&>(e));
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

    [[gnu::noinline]] Value eval_attr(const AttrExpr& a) {
        return get_attr(eval(*a.object), a.name);
    }

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

    [[gnu::noinline]] Value eval_filter(const FilterExpr& f) {
        return apply_filter_expr(f, eval(*f.input));
    }

    [[gnu::noinline]] Value eval_test(const TestExpr& t) {
        Value input = eval(*t.input);
        CallArgs args = eval_args(t.args);
        return Value::of(apply_test(t.name, input, args) != t.negated);
    }

    [[gnu::noinline]] Value eval_unary(const UnaryExpr& u) {
        Value v = eval(*u.operand);
        if (u.op == UnaryOp::Not) return Value::of(!truthy(v));
        if (!v.is_data() || !is_number(v.json()))
            lib_fail(str_cat("unary '", u.op == UnaryOp::Neg ? "-" : "+",
                             "' needs a number, not a ", type_name(v)));
        const Json& j = v.json();
        if (u.op == UnaryOp::Pos) return j.is_boolean() ? Value::of(j.get<bool>() ? 1 : 0) : v;
        int64_t i;
        if (get_int(j, i))
            return i == INT64_MIN ? Value::of(-static_cast<double>(i)) : Value::of(-i);
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
            throw Error(
                to_str(args.get(0)));  // the template's own words, as transformers reports them
        }
        if (name == "range") return range(args);
        if (name == "namespace" || name == "dict") {
            Json attrs = Json::object();
            if (name == "namespace" && args.positional.size() == 1 &&
                args.positional[0].is_data() && args.positional[0].json().is_object()) {
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
        if (!callee.undefined())
            lib_fail("'" + name + "' is a " + type_name(callee) + ", not a function");
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
            fail(pos,
                 str_cat("macro calls nest deeper than ", kMaxMacroDepth, " (runaway recursion?)"));
        struct Count {
            explicit Count(int& d) : d_(++d) {}
            ~Count() { --d_; }
            int& d_;
        } count(macro_depth_);
        if (args.positional.size() > m.params.size())
            fail(pos, str_cat("macro '", m.name, "' takes ", m.params.size(), " argument(s), ",
                              args.positional.size(), " given"));
        Scope frame;
        for (size_t i = 0; i < args.positional.size(); ++i)
            frame[m.params[i].first] = args.positional[i];
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
                if (!scopes_.back().count(param))
                    scopes_.back()[param] = def ? eval(*def) : Value{};
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

std::string render(const Program& program, Json context) {
    return Renderer(std::move(context)).run(program);
}

}  // namespace kiln::chat_template
