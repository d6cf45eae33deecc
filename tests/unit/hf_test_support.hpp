#pragma once
// Writing small Hugging Face folders from tests: a safetensors writer laid out like the reference
// one (header padded with spaces to 8 bytes, tensors back to back), raw files for corrupt cases,
// and a per-test temporary folder.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "kiln/error.hpp"
#include "kiln/float16.hpp"
#include "kiln/shape.hpp"
#include "kiln/tensor.hpp"
#include "temp_dir_test.hpp"

namespace kiln::hf_test {

namespace fs = std::filesystem;
using Json = nlohmann::json;

/// One tensor to write: its safetensors dtype name, shape and raw little-endian bytes.
struct StTensor {
    std::string name;
    std::string dtype;
    Shape shape;
    std::string bytes;
};

template <class T>
std::string raw_bytes(const std::vector<T>& values) {
    std::string s(values.size() * sizeof(T), '\0');
    if (!values.empty()) std::memcpy(s.data(), values.data(), s.size());
    return s;
}

inline StTensor st_f32(std::string name, Shape shape, const std::vector<float>& v) {
    return {std::move(name), "F32", std::move(shape), raw_bytes(v)};
}
inline StTensor st_f16(std::string name, Shape shape, const std::vector<float>& v) {
    std::vector<uint16_t> bits;
    for (float f : v) bits.push_back(float16::from_float(f));
    return {std::move(name), "F16", std::move(shape), raw_bytes(bits)};
}
inline StTensor st_bf16(std::string name, Shape shape, const std::vector<float>& v) {
    std::vector<uint16_t> bits;
    for (float f : v) bits.push_back(bfloat16::from_float(f));
    return {std::move(name), "BF16", std::move(shape), raw_bytes(bits)};
}

/// 8-byte little-endian length + header + data, exactly as given (for corrupt files).
inline std::string raw_safetensors(const std::string& header, const std::string& data,
                                   uint64_t header_len) {
    std::string out(8, '\0');
    for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((header_len >> (8 * i)) & 0xff);
    return out + header + data;
}
inline std::string raw_safetensors(const std::string& header, const std::string& data = "") {
    return raw_safetensors(header, data, header.size());
}

/// A well-formed file, its data area 8-aligned like the reference writer's.
inline std::string safetensors_bytes(const std::vector<StTensor>& tensors,
                                     const std::map<std::string, std::string>& metadata = {}) {
    Json header = Json::object();
    if (!metadata.empty()) header["__metadata__"] = metadata;
    std::string data;
    for (const auto& t : tensors) {
        header[t.name] = {{"dtype", t.dtype},
                          {"shape", t.shape},
                          {"data_offsets", {data.size(), data.size() + t.bytes.size()}}};
        data += t.bytes;
    }
    std::string text = header.dump();
    while (text.size() % 8) text += ' ';
    return raw_safetensors(text, data);
}

inline void write_bytes(const fs::path& p, const std::string& bytes) {
    std::ofstream f(p, std::ios::binary | std::ios::trunc);
    f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

inline std::string read_bytes(const fs::path& p) {
    std::ifstream f(p, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

inline void write_json(const fs::path& p, const Json& j) { write_bytes(p, j.dump(2)); }

/// The config.json of a tiny Llama: 2 layers, 4 query heads on 2 KV heads of 4 dims.
inline Json tiny_llama_config() {
    return {{"model_type", "llama"},
            {"vocab_size", 40},
            {"hidden_size", 16},
            {"num_hidden_layers", 2},
            {"num_attention_heads", 4},
            {"num_key_value_heads", 2},
            {"intermediate_size", 24},
            {"max_position_embeddings", 64},
            {"rms_norm_eps", 1e-5},
            {"rope_theta", 10000.0},
            {"tie_word_embeddings", false},
            {"bos_token_id", 1},
            {"eos_token_id", 2},
            {"torch_dtype", "float32"}};
}

/// Random weights for tiny_llama_config() by checkpoint name, rounded to bf16 values so that the
/// F32 and the BF16 files of the same weights hold the same numbers.
inline std::map<std::string, std::pair<Shape, std::vector<float>>> tiny_llama_weights(
    uint32_t seed = 7) {
    std::mt19937 gen(seed);
    std::uniform_real_distribution<float> dist(-0.5f, 0.5f);
    std::map<std::string, std::pair<Shape, std::vector<float>>> w;
    auto add = [&](const std::string& name, Shape shape, float offset = 0.f) {
        std::vector<float> v(static_cast<size_t>(shape_size(shape)));
        for (auto& x : v) x = static_cast<float>(bfloat16(offset + dist(gen)));
        w[name] = {std::move(shape), std::move(v)};
    };
    add("model.embed_tokens.weight", {40, 16});
    for (int i = 0; i < 2; ++i) {
        const std::string p = "model.layers." + std::to_string(i) + ".";
        add(p + "input_layernorm.weight", {16}, 1.f);
        add(p + "self_attn.q_proj.weight", {16, 16});
        add(p + "self_attn.k_proj.weight", {8, 16});
        add(p + "self_attn.v_proj.weight", {8, 16});
        add(p + "self_attn.o_proj.weight", {16, 16});
        add(p + "post_attention_layernorm.weight", {16}, 1.f);
        add(p + "mlp.gate_proj.weight", {24, 16});
        add(p + "mlp.up_proj.weight", {24, 16});
        add(p + "mlp.down_proj.weight", {16, 24});
    }
    add("model.norm.weight", {16}, 1.f);
    add("lm_head.weight", {40, 16});
    return w;
}

/// Writes a tiny Llama folder: config.json and the weights as one F32 model.safetensors, or
/// as BF16 split over `shards` files with model.safetensors.index.json.
inline void write_tiny_llama(const fs::path& dir, bool bf16 = false, int shards = 1) {
    fs::create_directories(dir);
    write_bytes(dir / "config.json", tiny_llama_config().dump(2));
    std::vector<std::vector<StTensor>> files(static_cast<size_t>(shards));
    Json weight_map = Json::object();
    size_t i = 0;
    for (const auto& [name, value] : tiny_llama_weights()) {
        const size_t f = i++ % files.size();
        files[f].push_back(bf16 ? st_bf16(name, value.first, value.second)
                                : st_f32(name, value.first, value.second));
        weight_map[name] = "model-0000" + std::to_string(f + 1) + "-of-0000" +
                           std::to_string(shards) + ".safetensors";
    }
    if (shards == 1) {
        write_bytes(dir / "model.safetensors", safetensors_bytes(files[0], {{"format", "pt"}}));
        return;
    }
    for (size_t f = 0; f < files.size(); ++f)
        write_bytes(dir / ("model-0000" + std::to_string(f + 1) + "-of-0000" +
                           std::to_string(shards) + ".safetensors"),
                    safetensors_bytes(files[f]));
    write_bytes(dir / "model.safetensors.index.json", Json{{"weight_map", weight_map}}.dump(2));
}

/// Whether the process maps `path` (from /proc/self/maps).
inline bool is_mapped(const std::string& path) {
    std::ifstream maps("/proc/self/maps");
    std::string line;
    while (std::getline(maps, line))
        if (line.size() >= path.size() &&
            line.compare(line.size() - path.size(), path.size(), path) == 0)
            return true;
    return false;
}

/// Runs `fn`, which must throw a kiln::Error whose message holds every one of `parts`.
template <class Fn>
void expect_kiln_error(Fn&& fn, const std::vector<std::string>& parts) {
    try {
        fn();
        ADD_FAILURE() << "no error; expected one mentioning '" << parts.front() << "'";
    } catch (const Error& e) {
        const std::string msg = e.what();
        for (const auto& p : parts)
            EXPECT_NE(msg.find(p), std::string::npos) << "'" << p << "' not in: " << msg;
    }
}

/// A fresh folder per test, removed afterwards.
using TempFolderTest = test_data::TempDirTest;

}  // namespace kiln::hf_test
