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
#include <string>
#include <vector>

#include "kiln/float16.hpp"
#include "kiln/shape.hpp"

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

/// A fresh folder per test, removed afterwards.
class TempFolderTest : public ::testing::Test {
protected:
    void SetUp() override {
        const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
        dir_ = fs::temp_directory_path() / (std::string("kiln_hf_") + info->test_suite_name() +
                                            "_" + info->name() + "_" + std::to_string(::getpid()));
        fs::remove_all(dir_);
        fs::create_directories(dir_);
    }
    void TearDown() override {
        std::error_code ec;
        fs::remove_all(dir_, ec);
    }
    std::string path(const std::string& name) const { return (dir_ / name).string(); }

    fs::path dir_;
};

}  // namespace kiln::hf_test
