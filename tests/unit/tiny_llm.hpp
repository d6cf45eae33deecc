#pragma once
// A tiny stateful "LLM" that follows the graph contract of docs/GENAI.md, whose next token can
// be worked out by hand, and a byte-level BPE tokenizer for it.
//
// The state (variable past_key_values.0.key, f32 [batch, 1, past, 1]) holds the attention mask
// of every token seen; its running sum gives n, the number of real tokens up to each position.
// The logits of a position holding token t are -|v - target| for v in the vocabulary, with
//     target = (t + n + position) mod 32,
// so greedy decoding continues with (t + 2n - 1) mod 32 when positions are padding-aware.
// A state not carried between steps, not reset between calls, or positions counting padding
// all change the tokens; a position past `max_positions` fails the run.
#include <climits>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "kiln/model.hpp"
#include "kiln/tokenizer.hpp"

namespace kiln::tiny_llm {

inline constexpr int64_t kVocab = 32;
inline constexpr int64_t kPad = 29, kBos = 30, kEos = 31;

/// The greedy successor of token `t` when `n` real tokens (t included) have been seen.
inline int64_t next_token(int64_t t, int64_t n) { return (t + 2 * n - 1) % kVocab; }

/// `max_positions`: like GPT-2's position embeddings, positions at or past it fail the run.
inline std::shared_ptr<Model> model(int64_t max_positions = 64) {
    auto i64 = [](std::vector<int64_t> v) {
        const int64_t size = static_cast<int64_t>(v.size());
        return make_constant(Tensor::from_vector<int64_t>(v, {size}))->output(0);
    };
    auto scalar = [](int64_t v) { return make_constant(Tensor::scalar<int64_t>(v))->output(0); };
    auto named = [](std::shared_ptr<Node> p, const std::string& name) {
        p->output_info(0).names = {name};
        return p;
    };
    auto ids =
        named(make_parameter(ElementType::i64, PartialShape::dynamic(2), "input_ids"), "input_ids");
    auto mask = named(make_parameter(ElementType::i64, PartialShape::dynamic(2), "attention_mask"),
                      "attention_mask");
    auto pos = named(make_parameter(ElementType::i64, PartialShape::dynamic(2), "position_ids"),
                     "position_ids");

    const Output shape = make_op("ShapeOf", {ids->output(0)});
    const Output batch = make_op("Gather", {shape, i64({0}), scalar(0)});
    const Output seq = make_op("Gather", {shape, i64({1}), scalar(0)});
    const Output minus_seq = make_op("Subtract", {i64({0}), seq});
    // This step's mask as [B, 1, S, 1] f32.
    const Output new_mask =
        make_op("Slice", {mask->output(0), minus_seq, i64({LLONG_MAX}), i64({1}), i64({1})});
    const Output step = make_op(
        "Unsqueeze",
        {make_op("Convert", {new_mask}, {{"destination_type", std::string("f32")}}), i64({1, 3})});

    const Output init_shape =
        make_op("Concat", {batch, i64({1}), i64({0}), i64({1})}, {{"axis", int64_t{0}}});
    const Output init =
        make_op("Broadcast", {make_constant(Tensor::scalar<float>(0.f))->output(0), init_shape});
    auto read = make_node("ReadValue", {init},
                          {{"variable_id", std::string("past_key_values.0.key")},
                           {"variable_type", std::string("f32")},
                           {"variable_shape", std::string("?,1,?,1")}},
                          {}, "read_past");
    const Output all = make_op("Concat", {read->output(0), step}, {{"axis", int64_t{2}}});
    auto assign =
        make_node("Assign", {all}, {{"variable_id", std::string("past_key_values.0.key")}}, {},
                  "assign_past");

    // n per new position: the running count of real tokens, over the cache and this step.
    const Output counts = make_op("CumSum", {all, scalar(2)});
    const Output n = make_op(
        "Squeeze",
        {make_op("Slice", {counts, minus_seq, i64({LLONG_MAX}), i64({1}), i64({2})}), i64({1, 3})});
    auto f32 = [](Output x) {
        return make_op("Convert", {x}, {{"destination_type", std::string("f32")}});
    };
    // Zeros from a table of max_positions rows: an out-of-range position is an error.
    const Output position_table =
        make_constant(Tensor(ElementType::f32, {max_positions}))->output(0);
    const Output in_range = make_op("Gather", {position_table, pos->output(0), scalar(0)});
    const Output sum = make_op(
        "Add", {make_op("Add", {make_op("Add", {f32(ids->output(0)), n}), f32(pos->output(0))}),
                in_range});
    const Output target =
        make_op("FloorMod", {sum, make_constant(Tensor::scalar<float>(float(kVocab)))->output(0)});
    std::vector<float> vocab(kVocab);
    for (int64_t v = 0; v < kVocab; ++v) vocab[v] = static_cast<float>(v);
    const Output diff =
        make_op("Subtract", {make_op("Unsqueeze", {target, i64({2})}),
                             make_constant(Tensor::from_vector<float>(vocab))->output(0)});
    auto logits = make_node("Negative", {make_op("Abs", {diff})}, {}, {}, "logits");
    logits->output_info(0).names = {"logits"};
    auto result = make_node("Result", {logits->output(0)}, {}, {}, "logits/result");
    return std::make_shared<Model>(std::vector<std::shared_ptr<Node>>{result},
                                   std::vector<std::shared_ptr<Node>>{ids, mask, pos},
                                   std::vector<std::shared_ptr<Node>>{assign}, "tiny_llm");
}

/// Byte-level BPE without merges: a..z are ids 0..25, space (Ġ) 26, '.' 27, '!' 28, then
/// <pad>, <s>, </s>.
inline nlohmann::json tokenizer_json() {
    nlohmann::json vocab;
    for (int c = 0; c < 26; ++c) vocab[std::string(1, static_cast<char>('a' + c))] = c;
    vocab["\u0120"] = 26;
    vocab["."] = 27;
    vocab["!"] = 28;
    vocab["<pad>"] = kPad;
    vocab["<s>"] = kBos;
    vocab["</s>"] = kEos;
    auto special = [](int id, const char* s) {
        return nlohmann::json{{"id", id},        {"content", s},    {"single_word", false},
                              {"lstrip", false}, {"rstrip", false}, {"normalized", false},
                              {"special", true}};
    };
    return {{"version", "1.0"},
            {"added_tokens", {special(kPad, "<pad>"), special(kBos, "<s>"), special(kEos, "</s>")}},
            {"normalizer", nullptr},
            {"pre_tokenizer",
             {{"type", "ByteLevel"},
              {"add_prefix_space", false},
              {"trim_offsets", true},
              {"use_regex", true}}},
            {"post_processor", nullptr},
            {"decoder", {{"type", "ByteLevel"}}},
            {"model", {{"type", "BPE"}, {"vocab", vocab}, {"merges", nlohmann::json::array()}}}};
}

inline Tokenizer tokenizer() { return Tokenizer::from_json(tokenizer_json().dump()); }

}  // namespace kiln::tiny_llm
