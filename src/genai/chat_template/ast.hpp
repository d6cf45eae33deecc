#pragma once
// The parsed form of a template: statements holding expressions. Every expression records its
// depth so that the parser can refuse trees deep enough to exhaust the stack when rendered.
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "genai/chat_template/lexer.hpp"
#include "genai/chat_template/value.hpp"

namespace kiln::chat_template {

enum class ExprKind {
    Literal,
    List,
    Dict,
    Name,
    Attr,
    Index,
    Slice,
    Unary,
    Binary,
    Compare,
    Cond,
    Call,
    Filter,
    Test
};

struct Expr {
    Expr(ExprKind k, Pos p) : kind(k), pos(p) {}
    virtual ~Expr() = default;
    ExprKind kind;
    Pos pos;
    int depth = 1;
};
using ExprPtr = std::unique_ptr<Expr>;

/// Arguments of a call, filter or test: positional, then name=value.
struct Args {
    std::vector<ExprPtr> positional;
    std::vector<std::pair<std::string, ExprPtr>> keyword;
};

struct LiteralExpr : Expr {
    LiteralExpr(Pos p, Value v) : Expr(ExprKind::Literal, p), value(std::move(v)) {}
    Value value;
};
struct ListExpr : Expr {
    explicit ListExpr(Pos p) : Expr(ExprKind::List, p) {}
    std::vector<ExprPtr> items;
};
struct DictExpr : Expr {
    explicit DictExpr(Pos p) : Expr(ExprKind::Dict, p) {}
    std::vector<std::pair<ExprPtr, ExprPtr>> items;
};
struct NameExpr : Expr {
    NameExpr(Pos p, std::string n) : Expr(ExprKind::Name, p), name(std::move(n)) {}
    std::string name;
};
struct AttrExpr : Expr {
    AttrExpr(Pos p, ExprPtr o, std::string n)
        : Expr(ExprKind::Attr, p), object(std::move(o)), name(std::move(n)) {}
    ExprPtr object;
    std::string name;
};
struct IndexExpr : Expr {
    IndexExpr(Pos p, ExprPtr o, ExprPtr i)
        : Expr(ExprKind::Index, p), object(std::move(o)), index(std::move(i)) {}
    ExprPtr object, index;
};
struct SliceExpr : Expr {
    explicit SliceExpr(Pos p) : Expr(ExprKind::Slice, p) {}
    ExprPtr object, start, stop, step;  // all but object may be null
};
enum class UnaryOp { Neg, Pos, Not };
struct UnaryExpr : Expr {
    UnaryExpr(Pos p, UnaryOp o, ExprPtr a)
        : Expr(ExprKind::Unary, p), op(o), operand(std::move(a)) {}
    UnaryOp op;
    ExprPtr operand;
};
enum class BinaryOp { Add, Sub, Mul, Div, FloorDiv, Mod, Pow, Concat, And, Or };
struct BinaryExpr : Expr {
    BinaryExpr(Pos p, BinaryOp o, ExprPtr l, ExprPtr r)
        : Expr(ExprKind::Binary, p), op(o), lhs(std::move(l)), rhs(std::move(r)) {}
    BinaryOp op;
    ExprPtr lhs, rhs;
};
enum class CompareOp { Eq, Ne, Lt, Le, Gt, Ge, In, NotIn };
/// a < b <= c: each comparison with the next operand, as Python chains them.
struct CompareExpr : Expr {
    CompareExpr(Pos p, ExprPtr f) : Expr(ExprKind::Compare, p), first(std::move(f)) {}
    ExprPtr first;
    std::vector<std::pair<CompareOp, ExprPtr>> rest;
};
struct CondExpr : Expr {
    explicit CondExpr(Pos p) : Expr(ExprKind::Cond, p) {}
    ExprPtr cond, then, otherwise;  // otherwise may be null: undefined
};
/// name(args) calls a global function or macro; obj.name(args) a method of obj.
struct CallExpr : Expr {
    CallExpr(Pos p, ExprPtr c) : Expr(ExprKind::Call, p), callee(std::move(c)) {}
    ExprPtr callee;  // a NameExpr or an AttrExpr
    Args args;
};
struct FilterExpr : Expr {
    FilterExpr(Pos p, ExprPtr in, std::string n)
        : Expr(ExprKind::Filter, p), input(std::move(in)), name(std::move(n)) {}
    ExprPtr input;  // null in a {% filter %} block: the block's text is the input
    std::string name;
    Args args;
};
struct TestExpr : Expr {
    TestExpr(Pos p, ExprPtr in, std::string n)
        : Expr(ExprKind::Test, p), input(std::move(in)), name(std::move(n)) {}
    ExprPtr input;
    std::string name;
    Args args;
    bool negated = false;
};

enum class StmtKind {
    Text,
    Output,
    If,
    For,
    Set,
    SetBlock,
    Macro,
    Break,
    Continue,
    FilterBlock,
    Group
};

struct Stmt {
    Stmt(StmtKind k, Pos p) : kind(k), pos(p) {}
    virtual ~Stmt() = default;
    StmtKind kind;
    Pos pos;
};
using StmtPtr = std::unique_ptr<Stmt>;
using Body = std::vector<StmtPtr>;

struct TextStmt : Stmt {
    TextStmt(Pos p, std::string t) : Stmt(StmtKind::Text, p), text(std::move(t)) {}
    std::string text;
};
struct OutputStmt : Stmt {
    OutputStmt(Pos p, ExprPtr e) : Stmt(StmtKind::Output, p), expr(std::move(e)) {}
    ExprPtr expr;
};
struct IfStmt : Stmt {
    explicit IfStmt(Pos p) : Stmt(StmtKind::If, p) {}
    std::vector<std::pair<ExprPtr, Body>> branches;  // if, then each elif
    Body otherwise;
};
struct ForStmt : Stmt {
    explicit ForStmt(Pos p) : Stmt(StmtKind::For, p) {}
    std::vector<std::string> targets;  // more than one: each item is unpacked
    ExprPtr iterable, filter;          // filter may be null
    Body body, otherwise;
};
struct SetStmt : Stmt {
    explicit SetStmt(Pos p) : Stmt(StmtKind::Set, p) {}
    std::string name, attr;         // attr non-empty: {% set name.attr = value %} on a namespace
    std::vector<std::string> more;  // {% set a, b = ... %}: the names after the first
    ExprPtr value;
};
struct SetBlockStmt : Stmt {
    explicit SetBlockStmt(Pos p) : Stmt(StmtKind::SetBlock, p) {}
    std::string name;
    Body body;
};
struct MacroStmt : Stmt {
    explicit MacroStmt(Pos p) : Stmt(StmtKind::Macro, p) {}
    std::string name;
    std::vector<std::pair<std::string, ExprPtr>> params;  // default may be null
    Body body;
};
struct FilterBlockStmt : Stmt {
    explicit FilterBlockStmt(Pos p) : Stmt(StmtKind::FilterBlock, p) {}
    std::vector<std::unique_ptr<FilterExpr>> filters;  // applied in order, inputs null
    Body body;
};
/// A block rendered in place ({% generation %}, which transformers uses to mark replies).
struct GroupStmt : Stmt {
    explicit GroupStmt(Pos p) : Stmt(StmtKind::Group, p) {}
    Body body;
};

/// A parsed template.
struct Program {
    Body body;
};

}  // namespace kiln::chat_template
