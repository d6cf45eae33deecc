// LLMPipeline: loading a stateful LLM with its tokenizer and the files beside it.
#include <filesystem>

#include "genai/llm/model_files.hpp"
#include "genai/llm/logits_to_keep.hpp"
#include "genai/llm/pipeline_impl.hpp"
#include "kiln/error.hpp"

namespace kiln {

namespace fs = std::filesystem;

namespace {

const std::set<std::string> kInputs = {"input_ids", "attention_mask", "position_ids", "beam_idx",
                                       llm::kLogitsToKeep};

bool has_name(const Output& port, const std::string& name) { return port.names().count(name); }

// The model with llm::kLogitsToKeep when its logits come from a plain output projection.
std::shared_ptr<Model> with_logits_to_keep(std::shared_ptr<Model> model) {
    const std::string logits = llm::logits_output_name(*model);
    return logits.empty() ? model : llm::with_logits_to_keep(model, logits);
}

}  // namespace

LLMPipeline::Impl::Impl(const Model& model, Tokenizer tok, const std::string& files_dir)
    : tokenizer(std::move(tok)) {
    // The graph contract of docs/GENAI.md: check the ports before compiling.
    bool has_ids = false, has_mask = false;
    for (const Output& in : model.inputs()) {
        bool known = false;
        for (const auto& name : kInputs) known |= has_name(in, name);
        KILN_CHECK(known, "LLMPipeline: model input '", in.any_name(),
                   "' is not one of input_ids, attention_mask, position_ids, beam_idx");
        has_ids |= has_name(in, "input_ids");
        has_mask |= has_name(in, "attention_mask");
        has_position_ids |= has_name(in, "position_ids");
        has_beam_idx |= has_name(in, "beam_idx");
        has_logits_to_keep |= has_name(in, llm::kLogitsToKeep);
    }
    KILN_CHECK(has_ids && has_mask,
               "LLMPipeline: the model needs inputs input_ids and "
               "attention_mask (a stateful LLM, see docs/GENAI.md)");
    KILN_CHECK(!model.outputs().empty(), "LLMPipeline: the model has no output");
    logits_name = llm::logits_output_name(model);

    std::vector<int64_t> config_eos;
    std::optional<int64_t> config_pad;
    if (!files_dir.empty()) {
        const fs::path dir(files_dir);
        if (fs::exists(dir / "tokenizer_config.json"))
            tokenizer_config = TokenizerConfig::from_file((dir / "tokenizer_config.json").string());
        if (fs::exists(dir / "config.json")) {
            const auto info = llm::read_model_config_info((dir / "config.json").string());
            config_eos = info.eos_token_ids;
            bos_id = info.bos_token_id;
            config_pad = info.pad_token_id;
            max_context = info.max_context;
        }
        if (fs::exists(dir / "generation_config.json"))
            defaults = GenerationConfig::from_file((dir / "generation_config.json").string());
    }
    eos_ids = defaults.eos_token_ids;
    eos_ids.insert(config_eos.begin(), config_eos.end());
    auto token_id = [&](const std::string& token) -> std::optional<int64_t> {
        if (token.empty()) return std::nullopt;
        return tokenizer.token_to_id(token);
    };
    if (auto id = token_id(tokenizer_config.eos_token)) eos_ids.insert(*id);
    if (auto id = token_id(tokenizer_config.bos_token)) bos_id = *id;
    // Padding is masked out, so any id serves; prefer the declared pad token.
    if (auto id = token_id(tokenizer_config.pad_token))
        pad_id = *id;
    else if (config_pad)
        pad_id = *config_pad;
    else if (!eos_ids.empty())
        pad_id = *eos_ids.begin();
    if (max_context == 0 && tokenizer_config.model_max_length)
        max_context = *tokenizer_config.model_max_length;
    defaults.eos_token_ids = eos_ids;
    defaults.validate();
}

void LLMPipeline::Impl::set_compiled(CompiledModel model) {
    compiled = std::move(model);
    request = compiled.create_infer_request();
}

std::vector<int64_t> LLMPipeline::Impl::encode(const std::string& text) const {
    std::vector<int64_t> ids = tokenizer.encode(text, /*add_special_tokens=*/true);
    // Slow HF tokenizers add the BOS from tokenizer_config.json rather than from the template
    // in tokenizer.json.
    if (tokenizer_config.add_bos_token.value_or(false) && bos_id &&
        (ids.empty() || ids.front() != *bos_id))
        ids.insert(ids.begin(), *bos_id);
    return ids;
}

Tensor LLMPipeline::Impl::run(const Tensor& input_ids, const Tensor& attention_mask,
                              const Tensor& position_ids, int64_t logits_to_keep) {
    request.set_tensor("input_ids", input_ids);
    const int64_t seq = input_ids.shape()[1];
    int64_t logits_seq = seq;
    if (has_logits_to_keep) {
        request.set_tensor(llm::kLogitsToKeep, Tensor::from_vector<int64_t>({logits_to_keep}, {1}));
        if (logits_to_keep > 0) logits_seq = std::min(seq, logits_to_keep);
    }
    request.set_tensor("attention_mask", attention_mask);
    if (has_position_ids) request.set_tensor("position_ids", position_ids);
    const int64_t batch = input_ids.shape()[0];
    if (has_beam_idx) {
        Tensor beams(ElementType::i32, {batch});
        for (int64_t b = 0; b < batch; ++b) beams.data<int32_t>()[b] = static_cast<int32_t>(b);
        request.set_tensor("beam_idx", beams);
    }
    request.infer();
    Tensor logits = request.get_tensor(logits_name);
    KILN_CHECK(logits.element_type() == ElementType::f32 && logits.rank() == 3 &&
                   logits.shape()[0] == batch && logits.shape()[1] == logits_seq &&
                   logits.shape()[2] > 0,
               "LLMPipeline: output '", logits_name, "' is ", describe(logits),
               ", expected f32 [batch, seq, vocab] = [", batch, ",", logits_seq, ",vocab]");
    return logits;
}

LLMPipeline::LLMPipeline(const std::string& model_path, const std::string& device,
                         const AnyMap& properties) {
    const llm::ModelFiles files = llm::locate_model_files(model_path);
    const fs::path tokenizer_json = fs::path(files.dir) / "tokenizer.json";
    KILN_CHECK(fs::exists(tokenizer_json), "LLMPipeline: no tokenizer.json in '", files.dir,
               "' (it travels beside the model)");
    Tokenizer tok = Tokenizer::from_file(tokenizer_json.string());
    std::shared_ptr<Model> model = Core().read_model(files.model);
    model = with_logits_to_keep(std::move(model));
    impl_ = std::make_unique<Impl>(*model, std::move(tok), files.dir);
    // Given away, the model is compiled in place and each weight freed once packed.
    impl_->set_compiled(Core().compile_model(std::move(model), device, properties));
}

LLMPipeline::LLMPipeline(const std::shared_ptr<const Model>& model, Tokenizer tokenizer,
                         const std::string& files_dir, const std::string& device,
                         const AnyMap& properties) {
    KILN_CHECK(model, "LLMPipeline: no model");
    // The caller keeps its model: the input goes into a copy (constants shared), which the
    // compilation then takes over.
    std::shared_ptr<Model> own = with_logits_to_keep(model->clone());
    impl_ = std::make_unique<Impl>(*own, std::move(tokenizer), files_dir);
    impl_->set_compiled(Core().compile_model(std::move(own), device, properties));
}

LLMPipeline::~LLMPipeline() = default;
LLMPipeline::LLMPipeline(LLMPipeline&&) noexcept = default;
LLMPipeline& LLMPipeline::operator=(LLMPipeline&&) noexcept = default;

GenerationResult LLMPipeline::generate(const std::string& prompt, const GenerationConfig& config,
                                       const StreamerCallback& streamer) {
    return generate(std::vector<std::string>{prompt}, config, streamer);
}

GenerationResult LLMPipeline::generate(const std::string& prompt) {
    return generate(prompt, impl_->defaults);
}

GenerationResult LLMPipeline::generate(const std::vector<std::string>& prompts,
                                       const GenerationConfig& config,
                                       const StreamerCallback& streamer) {
    const auto start = Impl::Clock::now();
    std::vector<std::vector<int64_t>> ids;
    for (const auto& p : prompts) ids.push_back(impl_->encode(p));
    return impl_->generate(ids, config, streamer, start);
}

GenerationResult LLMPipeline::generate_ids(const std::vector<std::vector<int64_t>>& prompts,
                                           const GenerationConfig& config,
                                           const StreamerCallback& streamer) {
    return impl_->generate(prompts, config, streamer, Impl::Clock::now());
}

PerplexityResult LLMPipeline::perplexity(const std::string& text,
                                         const PerplexityOptions& options) {
    return impl_->perplexity(impl_->encode(text), options);
}

PerplexityResult LLMPipeline::perplexity_ids(const std::vector<int64_t>& ids,
                                             const PerplexityOptions& options) {
    return impl_->perplexity(ids, options);
}

const GenerationConfig& LLMPipeline::generation_config() const { return impl_->defaults; }

void LLMPipeline::set_generation_config(const GenerationConfig& config) {
    config.validate();
    impl_->defaults = config;
}

const Tokenizer& LLMPipeline::tokenizer() const { return impl_->tokenizer; }
const TokenizerConfig& LLMPipeline::tokenizer_config() const { return impl_->tokenizer_config; }

}  // namespace kiln
