// The safetensors reader: values of every float dtype, tensors viewing the mapping, and every
// kind of corrupt file giving a kiln::Error that names the file and the tensor.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "frontends/hf/safetensors.hpp"
#include "hf_test_support.hpp"
#include "kiln/error.hpp"

using namespace kiln;
using namespace kiln::hf_test;
using kiln::hf::SafetensorsFile;

namespace {

// Runs `fn`, which must throw a kiln::Error whose message holds every one of `parts`.
template <class Fn>
void expect_error(Fn&& fn, const std::vector<std::string>& parts) {
    try {
        fn();
        ADD_FAILURE() << "no error; expected one mentioning '" << parts.front() << "'";
    } catch (const Error& e) {
        const std::string msg = e.what();
        for (const auto& p : parts)
            EXPECT_NE(msg.find(p), std::string::npos) << "'" << p << "' not in: " << msg;
    }
}

// Whether the process maps `path` (from /proc/self/maps).
bool is_mapped(const std::string& path) {
    std::ifstream maps("/proc/self/maps");
    std::string line;
    while (std::getline(maps, line))
        if (line.size() >= path.size() && line.compare(line.size() - path.size(), path.size(), path) == 0)
            return true;
    return false;
}

using Safetensors = TempFolderTest;

TEST_F(Safetensors, ReadsEveryFloatTypeAndMetadata) {
    const std::vector<float> w = {1.5f, -2.f, 0.25f, 3.f, -0.5f, 8.f};
    write_bytes(path("m.safetensors"),
                safetensors_bytes({st_f32("a.f32", {2, 3}, w), st_f16("b.f16", {3, 2}, w),
                                   st_bf16("c.bf16", {6}, w)},
                                  {{"format", "pt"}}));
    const SafetensorsFile file(path("m.safetensors"));
    EXPECT_EQ(file.names(), (std::vector<std::string>{"a.f32", "b.f16", "c.bf16"}));
    EXPECT_EQ(file.metadata().at("format"), "pt");

    const Tensor a = file.tensor("a.f32"), b = file.tensor("b.f16"), c = file.tensor("c.bf16");
    EXPECT_EQ(a.element_type(), ElementType::f32);
    EXPECT_EQ(b.element_type(), ElementType::f16);
    EXPECT_EQ(c.element_type(), ElementType::bf16);
    EXPECT_EQ(a.shape(), (Shape{2, 3}));
    EXPECT_EQ(b.shape(), (Shape{3, 2}));
    EXPECT_EQ(c.shape(), (Shape{6}));
    for (size_t i = 0; i < w.size(); ++i) {  // all exactly representable in 16 bits
        EXPECT_EQ(a.data<float>()[i], w[i]);
        EXPECT_EQ(static_cast<float>(b.data<float16>()[i]), w[i]);
        EXPECT_EQ(static_cast<float>(c.data<bfloat16>()[i]), w[i]);
    }
}

TEST_F(Safetensors, IntegerBoolScalarAndEmptyTensors) {
    std::vector<StTensor> ts = {
        {"ids", "I64", {3}, raw_bytes(std::vector<int64_t>{7, -1, 1LL << 40})},
        {"small", "I8", {2}, raw_bytes(std::vector<int8_t>{-3, 4})},
        {"flags", "BOOL", {3}, std::string("\x00\x01\x07", 3)},  // 7: not a valid bool byte
        {"scalar", "F64", {}, raw_bytes(std::vector<double>{2.5})},
        {"empty", "F32", {0, 4}, ""},
    };
    write_bytes(path("m.safetensors"), safetensors_bytes(ts));
    const SafetensorsFile file(path("m.safetensors"));
    EXPECT_EQ(file.tensor("ids").to_int_vector(), (std::vector<int64_t>{7, -1, 1LL << 40}));
    EXPECT_EQ(file.tensor("small").to_int_vector(), (std::vector<int64_t>{-3, 4}));
    const Tensor flags = file.tensor("flags");
    EXPECT_EQ(flags.element_type(), ElementType::boolean);
    EXPECT_EQ(flags.to_int_vector(), (std::vector<int64_t>{0, 1, 1}));  // normalized copy
    const Tensor scalar = file.tensor("scalar");
    EXPECT_EQ(scalar.shape(), Shape{});
    EXPECT_EQ(scalar.data<double>()[0], 2.5);
    EXPECT_EQ(file.tensor("empty").shape(), (Shape{0, 4}));
    EXPECT_EQ(file.tensor("empty").size(), 0);
}

TEST_F(Safetensors, TensorsViewTheMappingAndKeepItAlive) {
    const std::vector<float> w = {1, 2, 3, 4, 5, 6, 7, 8};
    const std::string file_path = path("m.safetensors");
    write_bytes(file_path, safetensors_bytes({st_f32("x", {2, 4}, w), st_f32("y", {8}, w)}));
    Tensor x, y;
    {
        const SafetensorsFile file(file_path);
        x = file.tensor("x");
        y = file.tensor("y");
        EXPECT_EQ(file.tensor("x").raw_data(), x.raw_data());  // no copy per call
        EXPECT_TRUE(is_mapped(file_path));
    }
    // Back to back in the file, and so in the mapping.
    EXPECT_EQ(static_cast<const char*>(y.raw_data()) - static_cast<const char*>(x.raw_data()),
              static_cast<ptrdiff_t>(w.size() * sizeof(float)));
    EXPECT_TRUE(is_mapped(file_path));  // the tensors hold the mapping after the file object
    EXPECT_EQ(x.data<float>()[7], 8.f);
    x = Tensor();
    y = Tensor();
    EXPECT_FALSE(is_mapped(file_path));
}

TEST_F(Safetensors, MisalignedTensorsAreCopied) {
    // A header of 4k+1 bytes puts the data area, and so the tensor, on an odd address.
    const std::vector<float> w = {1.25f, -7.f, 3.5f};
    std::string header = R"({"w": {"dtype": "F32", "shape": [3], "data_offsets": [0, 12]}})";
    while (header.size() % 4 != 1) header += ' ';
    write_bytes(path("m.safetensors"), raw_safetensors(header, raw_bytes(w)));
    const Tensor t = SafetensorsFile(path("m.safetensors")).tensor("w");
    EXPECT_EQ(reinterpret_cast<uintptr_t>(t.raw_data()) % alignof(float), 0u);
    EXPECT_EQ(t.data<float>()[0], 1.25f);
    EXPECT_EQ(t.data<float>()[2], 3.5f);
}

TEST_F(Safetensors, UnknownTensorName) {
    write_bytes(path("m.safetensors"), safetensors_bytes({st_f32("w", {1}, {1.f})}));
    const SafetensorsFile file(path("m.safetensors"));
    EXPECT_FALSE(file.has("v"));
    expect_error([&] { file.tensor("v"); }, {"m.safetensors", "no tensor 'v'"});
}

TEST_F(Safetensors, MissingOrNonRegularFile) {
    expect_error([&] { SafetensorsFile(path("nope.safetensors")); },
                 {"nope.safetensors", "cannot open"});
    expect_error([&] { SafetensorsFile(dir_.string()); }, {"not a regular file"});
}

// One corrupt file and the words its error must contain.
struct Corrupt {
    const char* what;
    std::string bytes;
    std::vector<std::string> expect;
};

TEST_F(Safetensors, CorruptFilesGiveClearErrors) {
    const std::string f32x2 = raw_bytes(std::vector<float>{1, 2});
    auto entry = [](const std::string& dtype, const std::string& shape, const std::string& offs) {
        return R"({"w": {"dtype": ")" + dtype + R"(", "shape": )" + shape +
               R"(, "data_offsets": )" + offs + "}}";
    };
    const std::vector<Corrupt> cases = {
        {"empty file", "", {"too short", "8-byte header length"}},
        {"5 bytes", std::string(5, '\0'), {"too short"}},
        {"header length past EOF", raw_safetensors("{}", "", 1000), {"header length 1000", "past the end"}},
        {"header length huge", raw_safetensors("{}", "", ~0ull), {"past the end"}},
        {"bad JSON", raw_safetensors(R"({"w": {"dtype": "F32",)"), {"malformed JSON header"}},
        {"JSON not an object", raw_safetensors("[1, 2]"), {"not an object"}},
        {"entry not an object", raw_safetensors(R"({"w": 3})"), {"tensor 'w'", "not an object"}},
        {"missing dtype", raw_safetensors(R"({"w": {"shape": [2], "data_offsets": [0, 8]}})", f32x2),
         {"tensor 'w'", "'dtype'"}},
        {"unknown dtype", raw_safetensors(entry("F8_E4M3", "[2]", "[0, 2]"), f32x2),
         {"tensor 'w'", "unsupported dtype 'F8_E4M3'", "BF16"}},
        {"negative dim", raw_safetensors(entry("F32", "[-2]", "[0, 8]"), f32x2),
         {"tensor 'w'", "'shape'"}},
        {"fractional dim", raw_safetensors(entry("F32", "[1.5]", "[0, 8]"), f32x2),
         {"tensor 'w'", "'shape'"}},
        {"shape not an array", raw_safetensors(entry("F32", "2", "[0, 8]"), f32x2), {"'shape'"}},
        {"offsets not a pair", raw_safetensors(entry("F32", "[2]", "[0]"), f32x2),
         {"'data_offsets'"}},
        {"offsets reversed", raw_safetensors(entry("F32", "[2]", "[8, 0]"), f32x2),
         {"tensor 'w'", "bad data_offsets"}},
        {"offsets negative", raw_safetensors(entry("F32", "[2]", "[-8, 0]"), f32x2),
         {"bad data_offsets"}},
        {"offsets past the data", raw_safetensors(entry("F32", "[4]", "[0, 16]"), f32x2),
         {"tensor 'w'", "past the end of the data area", "truncated"}},
        {"dtype/shape mismatch", raw_safetensors(entry("F32", "[3]", "[0, 8]"), f32x2),
         {"tensor 'w'", "hold 8 bytes", "needs 12"}},
        {"f16 read as f32", raw_safetensors(entry("F16", "[2]", "[0, 8]"), f32x2),
         {"hold 8 bytes", "needs 4"}},
        {"shape overflows", raw_safetensors(entry("F32", "[4294967296, 4294967296]", "[0, 8]"), f32x2),
         {"too large"}},
        {"overlap",
         raw_safetensors(R"({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
                             "b": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}})",
                         f32x2),
         {"'a'", "'b'", "overlap"}},
        {"metadata not strings",
         raw_safetensors(R"({"__metadata__": {"n": 3}})"), {"'__metadata__'", "not a string"}},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(c.what);
        write_bytes(path("bad.safetensors"), c.bytes);
        std::vector<std::string> expect = c.expect;
        expect.push_back("bad.safetensors");
        expect_error([&] { SafetensorsFile(path("bad.safetensors")); }, expect);
    }
}

// Every prefix of a valid file (a download cut short) is an error, never a crash.
TEST_F(Safetensors, EveryTruncationIsAnError) {
    const std::string bytes =
        safetensors_bytes({st_f32("a", {3}, {1, 2, 3}), st_bf16("b", {2}, {1, 2})});
    for (size_t n = 0; n < bytes.size(); ++n) {
        write_bytes(path("cut.safetensors"), bytes.substr(0, n));
        EXPECT_THROW(SafetensorsFile(path("cut.safetensors")), Error) << n << " bytes";
    }
}

// Flipping any header byte either still parses (into consistent entries) or is a kiln::Error.
TEST_F(Safetensors, CorruptHeaderBytesNeverCrash) {
    const std::string good = safetensors_bytes(
        {st_f32("a", {3}, {1, 2, 3}), st_f16("b", {2}, {1, 2})}, {{"format", "pt"}});
    const size_t header_end = good.size() - 16;
    for (size_t i = 0; i < header_end; ++i) {
        for (unsigned char v : {0x00, 0x22, 0x7d}) {
            std::string bytes = good;
            bytes[i] = static_cast<char>(v);
            write_bytes(path("flip.safetensors"), bytes);
            try {
                const SafetensorsFile file(path("flip.safetensors"));
                for (const auto& name : file.names()) {
                    const Tensor t = file.tensor(name);
                    EXPECT_LE(t.byte_size(), 16u);
                }
            } catch (const Error&) {
            }
        }
    }
}

}  // namespace
