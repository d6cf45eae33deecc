#include "genai/tokenizer/pipeline.hpp"

#include <algorithm>

#include "genai/tokenizer/utf8.hpp"
#include "kiln/error.hpp"

namespace kiln::tokenizer {

namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

// The ids a TemplateProcessing special token stands for.
std::vector<int64_t> template_ids(const Json& processor, const std::string& name) {
    const Json& specials = processor.value("special_tokens", Json::object());
    KILN_CHECK(specials.contains(name), "tokenizer: post_processor template uses '", name,
               "', which its special_tokens do not define");
    return specials[name].at("ids").get<std::vector<int64_t>>();
}

// Reads a post-processor into the ids placed before and after a single sequence.
void read_post_processor(const Json& p, std::vector<int64_t>& prefix, std::vector<int64_t>& suffix) {
    if (p.is_null()) return;
    const std::string type = p.value("type", "");
    if (type == "ByteLevel") return;  // only adjusts offsets
    if (type == "Sequence") {
        for (const auto& step : p.at("processors")) read_post_processor(step, prefix, suffix);
        return;
    }
    if (type == "TemplateProcessing") {
        bool seen_sequence = false;
        for (const auto& item : p.at("single")) {
            if (item.contains("Sequence")) {
                seen_sequence = true;
                continue;
            }
            KILN_CHECK(item.contains("SpecialToken"), "tokenizer: unknown template item ", item.dump());
            const auto ids = template_ids(p, item["SpecialToken"].at("id").get<std::string>());
            auto& dst = seen_sequence ? suffix : prefix;
            dst.insert(dst.end(), ids.begin(), ids.end());
        }
        return;
    }
    if (type == "BertProcessing" || type == "RobertaProcessing") {
        prefix.push_back(p.at("cls").at(1).get<int64_t>());
        suffix.push_back(p.at("sep").at(1).get<int64_t>());
        return;
    }
    KILN_THROW("tokenizer: unsupported post_processor type '", type, "'");
}

}  // namespace

Pipeline::Pipeline(const Json& j, const std::string& origin) {
    try {
        KILN_CHECK(j.is_object(), "not a JSON object");
        KILN_CHECK(j.contains("model"), "no \"model\"");
        model_ = std::make_unique<BpeModel>(j["model"]);
        normalizer_ = make_normalizer(j.value("normalizer", Json()));
        pre_tokenizer_ = make_pre_tokenizer(j.value("pre_tokenizer", Json()));
        decoder_ = make_decoder(j.value("decoder", Json()));
        read_post_processor(j.value("post_processor", Json()), prefix_ids_, suffix_ids_);
        for (const auto& t : j.value("added_tokens", Json::array())) {
            AddedToken a;
            a.id = t.at("id").get<int64_t>();
            a.content = t.at("content").get<std::string>();
            a.special = t.value("special", false);
            a.lstrip = t.value("lstrip", false);
            a.rstrip = t.value("rstrip", false);
            KILN_CHECK(!a.content.empty(), "added token ", a.id, " is empty");
            added_by_id_[a.id] = added_.size();
            added_by_content_[a.content] = added_.size();
            added_by_first_byte_[static_cast<unsigned char>(a.content[0])].push_back(added_.size());
            added_.push_back(std::move(a));
        }
    } catch (const nlohmann::json::exception& e) {
        KILN_THROW(origin, ": malformed tokenizer: ", e.what());
    } catch (const Error& e) {
        KILN_THROW(origin, ": ", e.what());
    }
}

std::vector<Pipeline::Segment> Pipeline::split_added(const std::string& text) const {
    std::vector<Segment> out;
    if (added_.empty()) {
        out.push_back({text});
        return out;
    }
    size_t start = 0;  // start of the pending plain text
    size_t i = 0;
    while (i < text.size()) {
        // The longest added token starting here.
        const AddedToken* best = nullptr;
        for (size_t k : added_by_first_byte_[static_cast<unsigned char>(text[i])]) {
            const AddedToken& a = added_[k];
            if (text.compare(i, a.content.size(), a.content) == 0 &&
                (!best || a.content.size() > best->content.size()))
                best = &a;
        }
        if (!best) {
            ++i;
            continue;
        }
        size_t plain_end = i;
        if (best->lstrip)
            while (plain_end > start && is_space(text[plain_end - 1])) --plain_end;
        if (plain_end > start) out.push_back({text.substr(start, plain_end - start)});
        out.push_back({"", best->id});
        i += best->content.size();
        if (best->rstrip)
            while (i < text.size() && is_space(text[i])) ++i;
        start = i;
    }
    if (start < text.size()) out.push_back({text.substr(start)});
    return out;
}

void Pipeline::post_process(std::vector<int64_t>& ids) const {
    ids.insert(ids.begin(), prefix_ids_.begin(), prefix_ids_.end());
    ids.insert(ids.end(), suffix_ids_.begin(), suffix_ids_.end());
}

std::vector<int64_t> Pipeline::encode(const std::string& text, bool add_special_tokens) const {
    check_utf8(text, "the text to encode");
    std::vector<int64_t> ids;
    for (auto& seg : split_added(text)) {
        if (seg.added_id >= 0) {
            ids.push_back(seg.added_id);
            continue;
        }
        std::string normalized = normalizer_ ? normalizer_->normalize(std::move(seg.text)) : seg.text;
        std::vector<std::string> pieces{std::move(normalized)};
        if (pre_tokenizer_) pre_tokenizer_->split(pieces);
        for (const auto& p : pieces) model_->encode(p, ids);
    }
    if (add_special_tokens) post_process(ids);
    return ids;
}

std::string Pipeline::decode(const std::vector<int64_t>& ids, bool skip_special_tokens) const {
    std::vector<std::string> tokens;
    tokens.reserve(ids.size());
    for (int64_t id : ids) {
        if (skip_special_tokens && is_special(id)) continue;
        auto t = id_to_token(id);
        KILN_CHECK(t, "tokenizer: id ", id, " is not in the vocabulary (size ", vocab_size(), ")");
        tokens.push_back(std::move(*t));
    }
    if (decoder_) {
        decoder_->decode(tokens);
        std::string out;
        for (const auto& t : tokens) out += t;
        return out;
    }
    std::string out;
    for (size_t i = 0; i < tokens.size(); ++i) out += (i ? " " : "") + tokens[i];
    return out;
}

std::optional<std::string> Pipeline::id_to_token(int64_t id) const {
    if (const auto it = added_by_id_.find(id); it != added_by_id_.end()) return added_[it->second].content;
    if (const std::string* t = model_->id_to_token(id)) return *t;
    return std::nullopt;
}

std::optional<int64_t> Pipeline::token_to_id(const std::string& token) const {
    if (const auto it = added_by_content_.find(token); it != added_by_content_.end())
        return added_[it->second].id;
    return model_->token_to_id(token);
}

bool Pipeline::is_special(int64_t id) const {
    const auto it = added_by_id_.find(id);
    return it != added_by_id_.end() && added_[it->second].special;
}

int64_t Pipeline::vocab_size() const {
    int64_t n = model_->size();
    for (const auto& a : added_) n = std::max(n, a.id + 1);
    return n;
}

}  // namespace kiln::tokenizer
