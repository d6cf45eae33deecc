#pragma once
// Typed, optional fields of the JSON files that travel with a model (generation_config.json,
// tokenizer_config.json, config.json): absent or null fields are nullopt, a field of the wrong
// type is a kiln::Error naming the file and the key.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace kiln::llm {

std::string read_text_file(const std::string& path);
/// Parses `text`, which must hold a JSON object.
nlohmann::json parse_json_object(const std::string& text, const std::string& origin);

class JsonFields {
public:
    JsonFields(const nlohmann::json& object, std::string origin)
        : j_(object), origin_(std::move(origin)) {}

    std::optional<bool> get_bool(const std::string& key) const;
    std::optional<uint64_t> get_uint(const std::string& key) const;
    std::optional<int64_t> get_int(const std::string& key) const;
    std::optional<double> get_float(const std::string& key) const;
    /// A token id or a list of them (eos_token_id may be either); empty when absent.
    std::vector<int64_t> get_ids(const std::string& key) const;
    /// A special token written as a string or as {"content": "..."}; empty when absent.
    std::string get_token(const std::string& key) const;

private:
    const nlohmann::json* find(const std::string& key) const;
    [[noreturn]] void wrong_type(const std::string& key, const char* expected) const;

    const nlohmann::json& j_;
    std::string origin_;
};

}  // namespace kiln::llm
