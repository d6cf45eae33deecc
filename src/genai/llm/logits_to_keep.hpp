#pragma once
// Generation samples from the last position's logits only, yet the graph contract's output
// projection computes logits for every position: for a 128-token GPT-2 prompt that is a third of
// the prefill's work and a [128, 50257] f32 output. Like Hugging Face's `logits_to_keep`, the
// pipeline gives its copy of the graph an input that slices the hidden states before the
// output projection.
#include <memory>
#include <string>

#include "kiln/model.hpp"

namespace kiln::llm {

/// The name of the input: i64 [1], N > 0 keeps the logits of the last N positions, 0 keeps all.
inline constexpr const char* kLogitsToKeep = "logits_to_keep";

/// The output of the graph contract holding the logits: the one named "logits", else the first
/// (empty when the model has no output).
std::string logits_output_name(const Model& model);

/// Whether `model` has the input kLogitsToKeep.
bool has_logits_to_keep(const Model& model);

/// `model` with the input kLogitsToKeep feeding a Slice (along the sequence axis) of the
/// output projection's hidden states, when the output `logits_name` comes straight from a
/// MatMul of [batch, seq, hidden] states; else `model` unchanged. The nodes are shared with
/// `model`, which the caller should drop.
std::shared_ptr<Model> with_logits_to_keep(const std::shared_ptr<Model>& model,
                                           const std::string& logits_name);

}  // namespace kiln::llm
