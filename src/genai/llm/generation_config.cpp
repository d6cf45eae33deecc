// GenerationConfig: validation, and the defaults a Hugging Face generation_config.json gives.
#include <cmath>
#include <nlohmann/json.hpp>

#include "genai/llm/json_fields.hpp"
#include "kiln/error.hpp"
#include "kiln/llm_pipeline.hpp"

namespace kiln {

void GenerationConfig::validate() const {
    const char* p = "generation config: ";
    KILN_CHECK(max_new_tokens > 0, p, "max_new_tokens must be at least 1");
    KILN_CHECK(min_new_tokens <= max_new_tokens, p, "min_new_tokens (", min_new_tokens,
               ") exceeds max_new_tokens (", max_new_tokens, ")");
    // Greedy decoding ignores the temperature, as generation_config.json files of greedy models
    // often carry one.
    if (do_sample)
        KILN_CHECK(std::isfinite(temperature) && temperature > 0, p, "temperature must be > 0 ",
                   "when sampling, got ", temperature, " (use greedy decoding instead of 0)");
    KILN_CHECK(top_p > 0 && top_p <= 1, p, "top_p must be in (0, 1], got ", top_p);
    KILN_CHECK(min_p >= 0 && min_p < 1, p, "min_p must be in [0, 1), got ", min_p);
    KILN_CHECK(std::isfinite(repetition_penalty) && repetition_penalty > 0, p,
               "repetition_penalty must be > 0, got ", repetition_penalty);
    KILN_CHECK(presence_penalty >= -2 && presence_penalty <= 2, p,
               "presence_penalty must be in [-2, 2], got ", presence_penalty);
    KILN_CHECK(frequency_penalty >= -2 && frequency_penalty <= 2, p,
               "frequency_penalty must be in [-2, 2], got ", frequency_penalty);
    for (int64_t id : eos_token_ids) KILN_CHECK(id >= 0, p, "eos token id ", id, " is negative");
    for (int64_t id : stop_token_ids) KILN_CHECK(id >= 0, p, "stop token id ", id, " is negative");
    for (const auto& s : stop_strings) KILN_CHECK(!s.empty(), p, "a stop string is empty");
}

GenerationConfig GenerationConfig::from_json(const std::string& json_text,
                                             const std::string& origin) {
    GenerationConfig base;
    const auto j = llm::parse_json_object(json_text, origin);
    const llm::JsonFields f(j, origin);
    if (auto v = f.get_uint("max_new_tokens")) base.max_new_tokens = *v;
    if (auto v = f.get_uint("min_new_tokens")) base.min_new_tokens = *v;
    if (auto v = f.get_bool("do_sample")) base.do_sample = *v;
    if (auto v = f.get_float("temperature")) base.temperature = static_cast<float>(*v);
    if (auto v = f.get_uint("top_k")) base.top_k = *v;
    if (auto v = f.get_float("top_p")) base.top_p = static_cast<float>(*v);
    if (auto v = f.get_float("min_p")) base.min_p = static_cast<float>(*v);
    if (auto v = f.get_float("repetition_penalty"))
        base.repetition_penalty = static_cast<float>(*v);
    const auto eos = f.get_ids("eos_token_id");
    if (!eos.empty()) base.eos_token_ids = {eos.begin(), eos.end()};
    return base;
}

GenerationConfig GenerationConfig::from_file(const std::string& path) {
    return from_json(llm::read_text_file(path), path);
}

}  // namespace kiln
