// Jinja's grammar, by precedence from loosest: conditional, or, and, not, comparisons,
// + -, ~, * / // %, **, unary signs, then primary expressions with their postfix access,
// filters (|) and tests (is).
#include "genai/chat_template/parser.hpp"

#include <algorithm>
#include <initializer_list>

#include "genai/chat_template/library.hpp"
#include "kiln/error.hpp"

namespace kiln::chat_template {

namespace {

bool one_of(const std::string& s, std::initializer_list<const char*> names) {
    for (const char* n : names)
        if (s == n) return true;
    return false;
}

class Parser {
public:
    explicit Parser(std::vector<Token> tokens) : toks_(std::move(tokens)) {}

    std::unique_ptr<Program> run() {
        auto program = std::make_unique<Program>();
        std::string end;
        program->body = parse_body({}, end, Pos{}, "");
        return program;
    }

private:
    // Counts recursion of the descent itself.
    struct Nest {
        Nest(Parser& p, Pos pos, int& counter, int limit, const char* what) : counter_(counter) {
            if (++counter_ > limit)
                fail(pos, str_cat("too deeply nested ", what, " (more than ", limit, ")"));
        }
        ~Nest() { --counter_; }
        int& counter_;
    };

    const Token& peek(size_t k = 0) const { return toks_[std::min(i_ + k, toks_.size() - 1)]; }
    const Token& next() {
        const Token& t = toks_[i_];
        if (i_ + 1 < toks_.size()) ++i_;
        return t;
    }
    bool at_op(const char* op, size_t k = 0) const {
        const Token& t = peek(k);
        return t.type == TokenType::Op && t.text == op;
    }
    bool at_name(const char* name) const {
        const Token& t = peek();
        return t.type == TokenType::Name && t.text == name;
    }
    [[noreturn]] void expected(const std::string& what) const {
        fail(peek().pos, "expected " + what + ", found " + describe(peek()));
    }
    void expect_op(const char* op) {
        if (!at_op(op)) expected(str_cat("'", op, "'"));
        next();
    }
    std::string expect_name(const char* what) {
        if (peek().type != TokenType::Name) expected(what);
        return next().text;
    }
    void expect_block_end() {
        if (peek().type != TokenType::BlockEnd) expected("'%}'");
        next();
    }

    // Records the height of `e`'s tree from its children's (taken by reference so that the
    // children are read before anything is moved).
    template <class T>
    std::unique_ptr<T> sized(std::unique_ptr<T>& e, std::initializer_list<const Expr*> children) {
        int d = 0;
        for (const Expr* c : children)
            if (c != nullptr) d = std::max(d, c->depth);
        e->depth = d + 1;
        if (e->depth > kMaxExprDepth)
            fail(e->pos,
                 str_cat("expression too deeply nested (more than ", kMaxExprDepth, " levels)"));
        return std::move(e);
    }
    int args_depth(const Args& a) const {
        int d = 0;
        for (const auto& e : a.positional) d = std::max(d, e->depth);
        for (const auto& [k, e] : a.keyword) d = std::max(d, e->depth);
        return d;
    }
    template <class T>
    std::unique_ptr<T> sized_with_args(std::unique_ptr<T>& e, const Expr* child, const Args& args) {
        e->depth = std::max(child != nullptr ? child->depth : 0, args_depth(args)) + 1;
        if (e->depth > kMaxExprDepth)
            fail(e->pos,
                 str_cat("expression too deeply nested (more than ", kMaxExprDepth, " levels)"));
        return std::move(e);
    }

    // ---- statements ----

    Body parse_body(const std::vector<std::string>& ends, std::string& found, Pos open_pos,
                    const std::string& open_tag) {
        Body body;
        while (true) {
            const Token& t = peek();
            switch (t.type) {
                case TokenType::Text:
                    body.push_back(std::make_unique<TextStmt>(t.pos, t.text));
                    next();
                    break;
                case TokenType::VarBegin: {
                    Pos p = next().pos;
                    ExprPtr e = parse_tuple();
                    if (peek().type != TokenType::VarEnd) expected("'}}'");
                    next();
                    body.push_back(std::make_unique<OutputStmt>(p, std::move(e)));
                    break;
                }
                case TokenType::BlockBegin: {
                    Pos p = t.pos;
                    const Token& name = peek(1);
                    if (name.type != TokenType::Name)
                        fail(name.pos, "expected a tag name after '{%', found " + describe(name));
                    if (std::find(ends.begin(), ends.end(), name.text) != ends.end()) {
                        next();
                        found = next().text;
                        return body;
                    }
                    next();
                    next();
                    body.push_back(parse_statement(name.text, p, ends));
                    break;
                }
                case TokenType::Eof:
                    if (!ends.empty())
                        fail(t.pos, str_cat("unexpected end of template: the '{% ", open_tag,
                                            " %}' at ", open_pos.line, ":", open_pos.col,
                                            " needs '{% ", ends.back(), " %}'"));
                    return body;
                default:
                    expected("template text or a tag");
            }
        }
    }

    Body parse_nested(const std::vector<std::string>& ends, std::string& found, Pos open_pos,
                      const std::string& open_tag) {
        Nest guard(*this, open_pos, block_nesting_, kMaxBlockNesting, "blocks");
        return parse_body(ends, found, open_pos, open_tag);
    }

    StmtPtr parse_statement(const std::string& tag, Pos p, const std::vector<std::string>& ends) {
        if (tag == "if") return parse_if(p);
        if (tag == "for") return parse_for(p);
        if (tag == "set") return parse_set(p);
        if (tag == "macro") return parse_macro(p);
        if (tag == "filter") return parse_filter_block(p);
        if (tag == "generation") {
            auto g = std::make_unique<GroupStmt>(p);
            expect_block_end();
            std::string end;
            g->body = parse_nested({"endgeneration"}, end, p, tag);
            expect_block_end();
            return g;
        }
        if (tag == "break" || tag == "continue") {
            if (loop_nesting_ == 0) fail(p, "'{% " + tag + " %}' outside of a for loop");
            expect_block_end();
            return std::make_unique<Stmt>(tag == "break" ? StmtKind::Break : StmtKind::Continue, p);
        }
        std::string msg = "unknown tag '" + tag + "'";
        if (one_of(tag, {"elif", "else", "endif", "endfor", "endset", "endmacro", "endfilter",
                         "endgeneration"}))
            msg = "unexpected '{% " + tag + " %}'";
        else if (one_of(tag, {"include", "import", "from", "extends", "block", "call", "with", "do",
                              "raw"}))
            msg = "the '" + tag + "' tag is not supported";
        if (!ends.empty()) msg += ", expected '{% " + ends.back() + " %}'";
        fail(p, msg);
    }

    StmtPtr parse_if(Pos p) {
        auto s = std::make_unique<IfStmt>(p);
        ExprPtr cond = parse_expression();
        expect_block_end();
        while (true) {
            std::string end;
            Body body = parse_nested({"elif", "else", "endif"}, end, p, "if");
            s->branches.emplace_back(std::move(cond), std::move(body));
            if (end == "elif") {
                cond = parse_expression();
                expect_block_end();
                continue;
            }
            expect_block_end();
            if (end == "else") {
                s->otherwise = parse_nested({"endif"}, end, p, "if");
                expect_block_end();
            }
            return s;
        }
    }

    StmtPtr parse_for(Pos p) {
        auto s = std::make_unique<ForStmt>(p);
        s->targets.push_back(expect_name("a loop variable name"));
        while (at_op(",")) {
            next();
            s->targets.push_back(expect_name("a loop variable name"));
        }
        if (!at_name("in")) expected("'in'");
        next();
        {
            Nest guard(*this, peek().pos, nesting_, kMaxParseNesting, "expressions");
            s->iterable = parse_or();  // no conditional here: 'if' starts the loop's filter
        }
        if (at_name("if")) {
            next();
            s->filter = parse_expression();
        }
        if (at_name("recursive")) fail(peek().pos, "recursive loops are not supported");
        expect_block_end();
        std::string end;
        ++loop_nesting_;
        s->body = parse_nested({"else", "endfor"}, end, p, "for");
        --loop_nesting_;
        expect_block_end();
        if (end == "else") {
            s->otherwise = parse_nested({"endfor"}, end, p, "for");
            expect_block_end();
        }
        return s;
    }

    StmtPtr parse_set(Pos p) {
        std::string name = expect_name("a variable name");
        std::string attr;
        std::vector<std::string> more;
        if (at_op(".")) {
            next();
            attr = expect_name("an attribute name");
        }
        while (attr.empty() && at_op(",")) {
            next();
            more.push_back(expect_name("a variable name"));
        }
        if (at_op("=")) {
            next();
            auto s = std::make_unique<SetStmt>(p);
            s->name = std::move(name);
            s->attr = std::move(attr);
            s->more = std::move(more);
            s->value = parse_tuple();
            expect_block_end();
            return s;
        }
        if (!attr.empty() || !more.empty() || peek().type != TokenType::BlockEnd) expected("'='");
        next();
        auto s = std::make_unique<SetBlockStmt>(p);
        s->name = std::move(name);
        std::string end;
        s->body = parse_nested({"endset"}, end, p, "set");
        expect_block_end();
        return s;
    }

    StmtPtr parse_macro(Pos p) {
        auto s = std::make_unique<MacroStmt>(p);
        s->name = expect_name("a macro name");
        expect_op("(");
        while (!at_op(")")) {
            std::string param = expect_name("a parameter name");
            ExprPtr def;
            if (at_op("=")) {
                next();
                def = parse_expression();
            } else if (!s->params.empty() && s->params.back().second) {
                fail(peek().pos, "a parameter without a default follows one with a default");
            }
            s->params.emplace_back(std::move(param), std::move(def));
            if (!at_op(",")) break;
            next();
        }
        expect_op(")");
        expect_block_end();
        std::string end;
        const int loops = loop_nesting_;
        loop_nesting_ = 0;  // break/continue do not reach through a macro
        s->body = parse_nested({"endmacro"}, end, p, "macro");
        loop_nesting_ = loops;
        expect_block_end();
        return s;
    }

    StmtPtr parse_filter_block(Pos p) {
        auto s = std::make_unique<FilterBlockStmt>(p);
        while (true) {
            Pos fp = peek().pos;
            std::string name = expect_name("a filter name");
            if (!has_filter(name)) fail(fp, "unknown filter '" + name + "'");
            auto f = std::make_unique<FilterExpr>(fp, nullptr, std::move(name));
            if (at_op("(")) f->args = parse_args();
            s->filters.push_back(sized_with_args(f, nullptr, f->args));
            if (!at_op("|")) break;
            next();
        }
        expect_block_end();
        std::string end;
        s->body = parse_nested({"endfilter"}, end, p, "filter");
        expect_block_end();
        return s;
    }

    // ---- expressions ----

    // a, b, c as in {% set x = a, b %}: a list.
    ExprPtr parse_tuple() {
        Pos p = peek().pos;
        ExprPtr first = parse_expression();
        if (!at_op(",")) return first;
        auto list = std::make_unique<ListExpr>(p);
        list->items.push_back(std::move(first));
        while (at_op(",")) {
            next();
            if (peek().type == TokenType::VarEnd || peek().type == TokenType::BlockEnd) break;
            list->items.push_back(parse_expression());
        }
        return sized_list(std::move(list));
    }

    std::unique_ptr<ListExpr> sized_list(std::unique_ptr<ListExpr> list) {
        int d = 0;
        for (const auto& e : list->items) d = std::max(d, e->depth);
        list->depth = d + 1;
        if (list->depth > kMaxExprDepth)
            fail(list->pos,
                 str_cat("expression too deeply nested (more than ", kMaxExprDepth, " levels)"));
        return list;
    }

    ExprPtr parse_expression() {
        Nest guard(*this, peek().pos, nesting_, kMaxParseNesting, "expressions");
        ExprPtr e = parse_or();
        while (at_name("if")) {
            auto c = std::make_unique<CondExpr>(peek().pos);
            next();
            c->cond = parse_or();
            if (at_name("else")) {
                next();
                c->otherwise = parse_expression();
            }
            c->then = std::move(e);
            e = sized(c, {c->cond.get(), c->then.get(), c->otherwise.get()});
        }
        return e;
    }

    ExprPtr parse_or() {
        ExprPtr e = parse_and();
        while (at_name("or")) {
            Pos p = next().pos;
            ExprPtr r = parse_and();
            e = binary(p, BinaryOp::Or, std::move(e), std::move(r));
        }
        return e;
    }

    ExprPtr parse_and() {
        ExprPtr e = parse_not();
        while (at_name("and")) {
            Pos p = next().pos;
            ExprPtr r = parse_not();
            e = binary(p, BinaryOp::And, std::move(e), std::move(r));
        }
        return e;
    }

    ExprPtr parse_not() {
        if (at_name("not")) {
            Pos p = next().pos;
            Nest guard(*this, p, nesting_, kMaxParseNesting, "expressions");
            ExprPtr operand = parse_not();
            auto u = std::make_unique<UnaryExpr>(p, UnaryOp::Not, std::move(operand));
            return sized(u, {u->operand.get()});
        }
        return parse_compare();
    }

    ExprPtr parse_compare() {
        Pos p = peek().pos;
        ExprPtr first = parse_math1();
        std::unique_ptr<CompareExpr> cmp;
        while (true) {
            CompareOp op;
            const Token& t = peek();
            if (t.type == TokenType::Op && t.text == "==")
                op = CompareOp::Eq;
            else if (t.type == TokenType::Op && t.text == "!=")
                op = CompareOp::Ne;
            else if (t.type == TokenType::Op && t.text == "<")
                op = CompareOp::Lt;
            else if (t.type == TokenType::Op && t.text == "<=")
                op = CompareOp::Le;
            else if (t.type == TokenType::Op && t.text == ">")
                op = CompareOp::Gt;
            else if (t.type == TokenType::Op && t.text == ">=")
                op = CompareOp::Ge;
            else if (at_name("in"))
                op = CompareOp::In;
            else if (at_name("not") && peek(1).type == TokenType::Name && peek(1).text == "in") {
                next();
                op = CompareOp::NotIn;
            } else {
                break;
            }
            next();
            if (!cmp) cmp = std::make_unique<CompareExpr>(p, std::move(first));
            cmp->rest.emplace_back(op, parse_math1());
            int d = cmp->first->depth;
            for (const auto& [o, e] : cmp->rest) d = std::max(d, e->depth);
            cmp->depth = d + 1;
            if (cmp->depth > kMaxExprDepth || cmp->rest.size() > static_cast<size_t>(kMaxExprDepth))
                fail(p, str_cat("expression too deeply nested (more than ", kMaxExprDepth,
                                " levels)"));
        }
        if (cmp) return cmp;
        return first;
    }

    ExprPtr binary(Pos p, BinaryOp op, ExprPtr l, ExprPtr r) {
        auto b = std::make_unique<BinaryExpr>(p, op, std::move(l), std::move(r));
        return sized(b, {b->lhs.get(), b->rhs.get()});
    }

    ExprPtr parse_math1() {
        ExprPtr e = parse_concat();
        while (at_op("+") || at_op("-")) {
            BinaryOp op = peek().text == "+" ? BinaryOp::Add : BinaryOp::Sub;
            Pos p = next().pos;
            ExprPtr r = parse_concat();
            e = binary(p, op, std::move(e), std::move(r));
        }
        return e;
    }

    ExprPtr parse_concat() {
        ExprPtr e = parse_math2();
        while (at_op("~")) {
            Pos p = next().pos;
            ExprPtr r = parse_math2();
            e = binary(p, BinaryOp::Concat, std::move(e), std::move(r));
        }
        return e;
    }

    ExprPtr parse_math2() {
        ExprPtr e = parse_pow();
        while (at_op("*") || at_op("/") || at_op("//") || at_op("%")) {
            const std::string& t = peek().text;
            BinaryOp op = t == "*"    ? BinaryOp::Mul
                          : t == "/"  ? BinaryOp::Div
                          : t == "//" ? BinaryOp::FloorDiv
                                      : BinaryOp::Mod;
            Pos p = next().pos;
            ExprPtr r = parse_pow();
            e = binary(p, op, std::move(e), std::move(r));
        }
        return e;
    }

    ExprPtr parse_pow() {
        ExprPtr e = parse_unary(true);
        while (at_op("**")) {
            Pos p = next().pos;
            ExprPtr r = parse_unary(true);
            e = binary(p, BinaryOp::Pow, std::move(e), std::move(r));
        }
        return e;
    }

    ExprPtr parse_unary(bool with_filter) {
        ExprPtr e;
        if (at_op("-") || at_op("+")) {
            UnaryOp op = peek().text == "-" ? UnaryOp::Neg : UnaryOp::Pos;
            Pos p = next().pos;
            Nest guard(*this, p, nesting_, kMaxParseNesting, "expressions");
            ExprPtr operand = parse_unary(false);
            auto u = std::make_unique<UnaryExpr>(p, op, std::move(operand));
            e = sized(u, {u->operand.get()});
        } else {
            e = parse_primary();
        }
        e = parse_postfix(std::move(e));
        if (with_filter) e = parse_filters(std::move(e));
        return e;
    }

    ExprPtr parse_primary() {
        const Token& t = peek();
        Pos p = t.pos;
        switch (t.type) {
            case TokenType::Name: {
                std::string name = next().text;
                if (name == "true" || name == "True")
                    return std::make_unique<LiteralExpr>(p, Value::of(true));
                if (name == "false" || name == "False")
                    return std::make_unique<LiteralExpr>(p, Value::of(false));
                if (name == "none" || name == "None")
                    return std::make_unique<LiteralExpr>(p, Value::of(nullptr));
                return std::make_unique<NameExpr>(p, std::move(name));
            }
            case TokenType::String: {
                std::string s;
                while (peek().type == TokenType::String) s += next().text;  // 'a' 'b' is 'ab'
                return std::make_unique<LiteralExpr>(p, Value::of(std::move(s)));
            }
            case TokenType::Integer:
                return std::make_unique<LiteralExpr>(p, Value::of(next().int_value));
            case TokenType::Float:
                return std::make_unique<LiteralExpr>(p, Value::of(next().float_value));
            case TokenType::Op:
                break;
            default:
                expected("an expression");
        }
        if (t.text == "(") {
            next();
            auto list = std::make_unique<ListExpr>(p);
            if (at_op(")")) {
                next();
                return sized_list(std::move(list));
            }
            ExprPtr e = parse_expression();
            if (!at_op(",")) {
                expect_op(")");
                return e;
            }
            list->items.push_back(std::move(e));
            while (at_op(",")) {
                next();
                if (at_op(")")) break;
                list->items.push_back(parse_expression());
            }
            expect_op(")");
            return sized_list(std::move(list));
        }
        if (t.text == "[") {
            next();
            auto list = std::make_unique<ListExpr>(p);
            while (!at_op("]")) {
                list->items.push_back(parse_expression());
                if (!at_op(",")) break;
                next();
            }
            expect_op("]");
            return sized_list(std::move(list));
        }
        if (t.text == "{") {
            next();
            auto dict = std::make_unique<DictExpr>(p);
            int d = 0;
            while (!at_op("}")) {
                ExprPtr k = parse_expression();
                expect_op(":");
                ExprPtr v = parse_expression();
                d = std::max({d, k->depth, v->depth});
                dict->items.emplace_back(std::move(k), std::move(v));
                if (!at_op(",")) break;
                next();
            }
            expect_op("}");
            dict->depth = d + 1;
            return dict;
        }
        expected("an expression");
    }

    ExprPtr parse_postfix(ExprPtr e) {
        while (true) {
            Pos p = peek().pos;
            if (at_op(".")) {
                next();
                if (peek().type == TokenType::Integer) {
                    auto idx =
                        std::make_unique<LiteralExpr>(peek().pos, Value::of(next().int_value));
                    auto ix = std::make_unique<IndexExpr>(p, std::move(e), std::move(idx));
                    e = sized(ix, {ix->object.get()});
                    continue;
                }
                std::string name = expect_name("an attribute name");
                auto a = std::make_unique<AttrExpr>(p, std::move(e), std::move(name));
                e = sized(a, {a->object.get()});
            } else if (at_op("[")) {
                next();
                e = parse_subscript(p, std::move(e));
            } else if (at_op("(")) {
                e = parse_call(std::move(e));
            } else {
                return e;
            }
        }
    }

    ExprPtr parse_subscript(Pos p, ExprPtr object) {
        ExprPtr start;
        if (!at_op(":")) start = parse_expression();
        if (!at_op(":")) {
            expect_op("]");
            auto ix = std::make_unique<IndexExpr>(p, std::move(object), std::move(start));
            return sized(ix, {ix->object.get(), ix->index.get()});
        }
        auto s = std::make_unique<SliceExpr>(p);
        s->object = std::move(object);
        s->start = std::move(start);
        next();
        if (!at_op("]") && !at_op(":")) s->stop = parse_expression();
        if (at_op(":")) {
            next();
            if (!at_op("]")) s->step = parse_expression();
        }
        expect_op("]");
        return sized(s, {s->object.get(), s->start.get(), s->stop.get(), s->step.get()});
    }

    ExprPtr parse_call(ExprPtr callee) {
        if (callee->kind != ExprKind::Name && callee->kind != ExprKind::Attr)
            fail(peek().pos, "only functions, macros and methods can be called");
        auto c = std::make_unique<CallExpr>(peek().pos, std::move(callee));
        c->args = parse_args();
        return sized_with_args(c, c->callee.get(), c->args);
    }

    Args parse_args() {
        Nest guard(*this, peek().pos, nesting_, kMaxParseNesting, "expressions");
        expect_op("(");
        Args args;
        while (!at_op(")")) {
            if (peek().type == TokenType::Name && at_op("=", 1)) {
                std::string name = next().text;
                next();
                args.keyword.emplace_back(std::move(name), parse_expression());
            } else {
                if (!args.keyword.empty())
                    fail(peek().pos, "a positional argument follows a keyword argument");
                args.positional.push_back(parse_expression());
            }
            if (!at_op(",")) break;
            next();
        }
        expect_op(")");
        return args;
    }

    ExprPtr parse_filters(ExprPtr e) {
        while (true) {
            if (at_op("|")) {
                next();
                Pos p = peek().pos;
                std::string name = expect_name("a filter name");
                if (!has_filter(name)) fail(p, "unknown filter '" + name + "'");
                auto f = std::make_unique<FilterExpr>(p, std::move(e), std::move(name));
                if (at_op("(")) f->args = parse_args();
                e = sized_with_args(f, f->input.get(), f->args);
            } else if (at_name("is")) {
                next();
                bool negated = false;
                if (at_name("not")) {
                    next();
                    negated = true;
                }
                Pos p = peek().pos;
                std::string name = expect_name("a test name");
                if (!has_test(name)) fail(p, "unknown test '" + name + "'");
                auto t = std::make_unique<TestExpr>(p, std::move(e), std::move(name));
                t->negated = negated;
                if (at_op("(")) {
                    t->args = parse_args();
                } else if (takes_bare_argument()) {
                    Nest guard(*this, peek().pos, nesting_, kMaxParseNesting, "expressions");
                    t->args.positional.push_back(parse_postfix(parse_primary()));
                }
                e = sized_with_args(t, t->input.get(), t->args);
            } else if (at_op("(")) {
                e = parse_call(std::move(e));
            } else {
                return e;
            }
        }
    }

    // `x is divisibleby 3`, `x is sameas false`: one argument without parentheses.
    bool takes_bare_argument() const {
        const Token& t = peek();
        if (t.type == TokenType::Name)
            return !one_of(t.text, {"else", "or", "and", "if", "in", "not", "is"});
        return t.type == TokenType::String || t.type == TokenType::Integer ||
               t.type == TokenType::Float ||
               (t.type == TokenType::Op && (t.text == "[" || t.text == "{"));
    }

    std::vector<Token> toks_;
    size_t i_ = 0;
    int nesting_ = 0;
    int block_nesting_ = 0;
    int loop_nesting_ = 0;
};

}  // namespace

std::unique_ptr<Program> parse(const std::string& source) { return Parser(tokenize(source)).run(); }

}  // namespace kiln::chat_template
