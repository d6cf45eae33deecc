#pragma once
// The values a template computes with: JSON data (viewed in place where it came from the
// context, so attribute and item access copy nothing), Jinja's undefined, namespace() objects,
// the loop variable and macros.
#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace kiln::chat_template {

// Ordered, so that dict literals and tojson keep the order the template wrote.
using Json = nlohmann::ordered_json;

struct MacroStmt;
struct Value;

struct Namespace {
    Json attrs = Json::object();
};

/// The `loop` variable of a for loop; the renderer advances index0 in place.
struct LoopState {
    std::shared_ptr<const std::vector<Value>> items;
    size_t index0 = 0;
};

struct Value {
    enum class Kind { Undefined, Data, Namespace, Loop, Macro };

    Value() = default;
    static Value of(Json j);
    /// A view of `*p`, which `owner` keeps alive.
    static Value view(std::shared_ptr<const Json> owner, const Json* p);
    static Value of_namespace(std::shared_ptr<Namespace> ns);
    static Value of_loop(std::shared_ptr<const LoopState> loop);
    static Value of_macro(const MacroStmt* macro);

    Kind kind() const { return kind_; }
    bool undefined() const { return kind_ == Kind::Undefined; }
    bool is_data() const { return kind_ == Kind::Data; }
    /// The JSON of a Data value (callers check is_data()).
    const Json& json() const { return *data_; }
    /// A view of an element or member of this Data value.
    Value child(const Json& member) const { return view(owner_, &member); }

    Namespace* ns() const { return ns_.get(); }
    const LoopState* loop() const { return loop_.get(); }
    const MacroStmt* macro() const { return macro_; }

private:
    Kind kind_ = Kind::Undefined;
    std::shared_ptr<const Json> owner_;
    const Json* data_ = nullptr;
    std::shared_ptr<Namespace> ns_;
    std::shared_ptr<const LoopState> loop_;
    const MacroStmt* macro_ = nullptr;
};

/// Python's truth value; undefined is false.
bool truthy(const Value& v);
/// The value as JSON, for storing into lists, dicts and namespaces (undefined becomes null,
/// a namespace its attributes).
Json to_json(const Value& v);
/// Python's str(): strings as they are, True/False/None, lists and dicts as Python prints them.
std::string to_str(const Value& v);
std::string to_str(const Json& j);
/// Python's repr() of JSON data.
std::string repr(const Json& j);
/// Python's repr() of a float ("1.0", "0.1", "1e+16").
std::string float_repr(double d);
/// json.dumps(j, ensure_ascii=False, indent, separators, sort_keys) as transformers' tojson filter
/// calls it; indent < 0 writes one line.
std::string to_json_text(const Json& j, int indent, const std::string& item_sep = ", ",
                         const std::string& key_sep = ": ", bool sort_keys = false);

/// Python's ==, across ints, floats and bools; undefined equals only undefined.
bool equals(const Value& a, const Value& b);
bool equals(const Json& a, const Json& b);
/// Python's <: -1, 0, 1; numbers, strings and lists only (`ok` false for other kinds).
int compare(const Json& a, const Json& b, bool& ok);

/// Jinja's name for the kind of a value, for error messages ("string", "list", ...).
std::string type_name(const Value& v);
std::string type_name(const Json& j);

bool is_number(const Json& j);  // int, float or bool, as Python counts them
/// A 64-bit integer view of ints, bools and unsigned ints that fit.
bool get_int(const Json& j, int64_t& out);
double as_double(const Json& j);

}  // namespace kiln::chat_template
