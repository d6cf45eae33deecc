#pragma once
// The stages of a tokenizer pipeline, each built from its object in tokenizer.json:
//   normalizer -> pre-tokenizer -> model (BPE) -> post-processor, and decoder for the way back.
// Added tokens are cut out of the text before the normalizer runs (pipeline.cpp).
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace kiln::tokenizer {

using Json = nlohmann::json;

class Normalizer {
public:
    virtual ~Normalizer() = default;
    virtual std::string normalize(std::string text) const = 0;
};

/// Splits text into pieces the model encodes separately; may rewrite them (byte-level mapping,
/// metaspace).
class PreTokenizer {
public:
    virtual ~PreTokenizer() = default;
    virtual void split(std::vector<std::string>& pieces) const = 0;
};

/// Turns the token strings of a decode back into text pieces, in order.
class Decoder {
public:
    virtual ~Decoder() = default;
    virtual void decode(std::vector<std::string>& tokens) const = 0;
};

/// A null JSON value gives a null pointer (the stage is absent). Unknown types are errors
/// naming the type and the stage.
std::unique_ptr<Normalizer> make_normalizer(const Json& j);
std::unique_ptr<PreTokenizer> make_pre_tokenizer(const Json& j);
std::unique_ptr<Decoder> make_decoder(const Json& j);

/// GPT-2's reversible byte <-> printable character mapping, as UTF-8 strings per byte.
const std::vector<std::string>& byte_to_unicode();
/// The inverse: code point -> byte, or -1.
int unicode_to_byte(char32_t cp);

}  // namespace kiln::tokenizer
