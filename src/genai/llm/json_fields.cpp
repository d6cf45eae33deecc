#include "genai/llm/json_fields.hpp"

#include <fstream>
#include <sstream>

#include "kiln/error.hpp"

namespace kiln::llm {

std::string read_text_file(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    KILN_CHECK(f, "cannot open '", path, "'");
    std::ostringstream s;
    s << f.rdbuf();
    return s.str();
}

nlohmann::json parse_json_object(const std::string& text, const std::string& origin) {
    nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
    KILN_CHECK(!j.is_discarded(), origin, ": not valid JSON");
    KILN_CHECK(j.is_object(), origin, ": expected a JSON object");
    return j;
}

const nlohmann::json* JsonFields::find(const std::string& key) const {
    auto it = j_.find(key);
    if (it == j_.end() || it->is_null()) return nullptr;
    return &*it;
}

void JsonFields::wrong_type(const std::string& key, const char* expected) const {
    KILN_THROW(origin_, ": \"", key, "\" must be ", expected, ", got ", find(key)->dump());
}

std::optional<bool> JsonFields::get_bool(const std::string& key) const {
    const auto* v = find(key);
    if (!v) return std::nullopt;
    if (!v->is_boolean()) wrong_type(key, "true or false");
    return v->get<bool>();
}

std::optional<uint64_t> JsonFields::get_uint(const std::string& key) const {
    const auto* v = find(key);
    if (!v) return std::nullopt;
    if (!v->is_number_integer() || v->get<int64_t>() < 0) wrong_type(key, "a non-negative integer");
    return v->get<uint64_t>();
}

std::optional<int64_t> JsonFields::get_int(const std::string& key) const {
    const auto* v = find(key);
    if (!v) return std::nullopt;
    if (!v->is_number_integer()) wrong_type(key, "an integer");
    return v->get<int64_t>();
}

std::optional<double> JsonFields::get_float(const std::string& key) const {
    const auto* v = find(key);
    if (!v) return std::nullopt;
    if (!v->is_number()) wrong_type(key, "a number");
    return v->get<double>();
}

std::vector<int64_t> JsonFields::get_ids(const std::string& key) const {
    const auto* v = find(key);
    if (!v) return {};
    if (v->is_number_integer()) return {v->get<int64_t>()};
    if (!v->is_array()) wrong_type(key, "a token id or a list of ids");
    std::vector<int64_t> ids;
    for (const auto& e : *v) {
        if (!e.is_number_integer()) wrong_type(key, "a token id or a list of ids");
        ids.push_back(e.get<int64_t>());
    }
    return ids;
}

std::string JsonFields::get_token(const std::string& key) const {
    const auto* v = find(key);
    if (!v) return {};
    if (v->is_string()) return v->get<std::string>();
    if (v->is_object()) {
        auto c = v->find("content");
        if (c != v->end() && c->is_string()) return c->get<std::string>();
    }
    wrong_type(key, "a token string or an object with a \"content\" string");
}

}  // namespace kiln::llm
