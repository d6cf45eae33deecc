// NumPy .npy reading and writing.
#include "kiln/npy.hpp"

#include <gtest/gtest.h>

#include <cstring>

namespace kiln {
namespace {

std::string npy_bytes(const std::string& dict, const std::string& data, int version = 1) {
    std::string header = dict;
    const size_t prefix = version == 1 ? 10 : 12;
    while ((prefix + header.size() + 1) % 64) header += ' ';
    header += '\n';
    std::string out("\x93NUMPY", 6);
    out += static_cast<char>(version);
    out += '\0';
    const size_t n = header.size();
    for (int i = 0; i < (version == 1 ? 2 : 4); ++i)
        out += static_cast<char>((n >> (8 * i)) & 0xff);
    return out + header + data;
}

template <class T>
Tensor make(ElementType type, Shape shape, std::initializer_list<T> values) {
    Tensor t(type, shape);
    size_t i = 0;
    for (T v : values) t.data<T>()[i++] = v;
    return t;
}

void expect_round_trip(const Tensor& t) {
    SCOPED_TRACE(describe(t));
    const Tensor back = parse_npy(serialize_npy(t));
    EXPECT_TRUE(back.identical(t));
}

TEST(Npy, RoundTripsEveryNumericType) {
    expect_round_trip(make<float>(ElementType::f32, {2, 3}, {1, -2, 3.5f, 0, 1e-8f, -1e8f}));
    expect_round_trip(make<double>(ElementType::f64, {3}, {1, -2.25, 1e300}));
    expect_round_trip(make<float16>(ElementType::f16, {2}, {float16(1.5f), float16(-0.25f)}));
    expect_round_trip(make<bool>(ElementType::boolean, {2, 2}, {true, false, false, true}));
    expect_round_trip(make<int8_t>(ElementType::i8, {2}, {-128, 127}));
    expect_round_trip(make<uint8_t>(ElementType::u8, {2}, {0, 255}));
    expect_round_trip(make<int16_t>(ElementType::i16, {2}, {-32768, 32767}));
    expect_round_trip(make<uint16_t>(ElementType::u16, {1}, {65535}));
    expect_round_trip(make<int32_t>(ElementType::i32, {2}, {INT32_MIN, INT32_MAX}));
    expect_round_trip(make<uint32_t>(ElementType::u32, {1}, {UINT32_MAX}));
    expect_round_trip(make<int64_t>(ElementType::i64, {2}, {INT64_MIN, INT64_MAX}));
    expect_round_trip(make<uint64_t>(ElementType::u64, {1}, {UINT64_MAX}));
}

TEST(Npy, RoundTripsScalarsAndEmptyArrays) {
    expect_round_trip(Tensor::scalar<float>(3.25f));
    expect_round_trip(Tensor(ElementType::f32, {0}));
    expect_round_trip(Tensor(ElementType::i64, {2, 0, 3}));
    expect_round_trip(Tensor(ElementType::u8, {1, 1, 1, 1, 1, 1, 1}));
}

TEST(Npy, WritesTheHeaderNumPyWrites) {
    const std::string b = serialize_npy(Tensor(ElementType::f32, {2, 3}));
    EXPECT_EQ(b.substr(0, 8), std::string("\x93NUMPY\x01\x00", 8));
    const size_t header_len =
        static_cast<unsigned char>(b[8]) | (static_cast<unsigned char>(b[9]) << 8);
    EXPECT_EQ((10 + header_len) % 64, 0u);
    EXPECT_EQ(b.find("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }"), 10u);
    EXPECT_EQ(b[10 + header_len - 1], '\n');
    EXPECT_EQ(b.size(), 10 + header_len + 24);
    EXPECT_NE(serialize_npy(Tensor(ElementType::i8, {4})).find("'shape': (4,)"), std::string::npos);
    EXPECT_NE(serialize_npy(Tensor::scalar<bool>(true)).find("'descr': '|b1'"), std::string::npos);
    EXPECT_NE(serialize_npy(Tensor::scalar<bool>(true)).find("'shape': ()"), std::string::npos);
}

TEST(Npy, ReadsOtherHeaderSpellings) {
    const int32_t v[2] = {7, -9};
    const std::string data(reinterpret_cast<const char*>(v), sizeof v);
    // Keys in another order, double quotes, no trailing comma, format 2.0, native byte order.
    for (const std::string& dict :
         {std::string("{'shape': (2,), 'fortran_order': False, 'descr': '<i4'}"),
          std::string("{\"descr\": \"=i4\", \"fortran_order\": False, \"shape\": (2L,)}")}) {
        for (int version : {1, 2, 3}) {
            const Tensor t = parse_npy(npy_bytes(dict, data, version));
            ASSERT_EQ(t.element_type(), ElementType::i32);
            ASSERT_EQ(t.shape(), Shape{2});
            EXPECT_EQ(t.data<int32_t>()[1], -9);
        }
    }
    // Big-endian marks on one-byte types are harmless.
    EXPECT_EQ(parse_npy(npy_bytes("{'descr': '>u1', 'fortran_order': False, 'shape': (1,), }", "x"))
                  .element_type(),
              ElementType::u8);
}

TEST(Npy, NormalizesBooleanBytes) {
    const Tensor t =
        parse_npy(npy_bytes("{'descr': '|b1', 'fortran_order': False, 'shape': (3,), }",
                            std::string("\x00\x02\xff", 3)));
    const bool* b = t.data<bool>();
    uint8_t raw[3];
    std::memcpy(raw, b, 3);
    EXPECT_EQ(raw[0], 0);
    EXPECT_EQ(raw[1], 1);
    EXPECT_EQ(raw[2], 1);
}

void expect_error(const std::string& bytes, const std::string& fragment) {
    try {
        parse_npy(bytes, "test.npy");
        ADD_FAILURE() << "no error; expected one mentioning '" << fragment << "'";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
        EXPECT_EQ(std::string(e.what()).rfind("test.npy", 0), 0u) << e.what();
    }
}

TEST(Npy, RefusesWhatItCannotRead) {
    const std::string f4x2(8, '\0');
    auto dict = [](const std::string& descr, const std::string& order, const std::string& shape) {
        return "{'descr': '" + descr + "', 'fortran_order': " + order + ", 'shape': " + shape +
               ", }";
    };
    expect_error("", "not a .npy file");
    expect_error("PK\x03\x04 zip archive", "not a .npy file");
    expect_error(npy_bytes(dict("<f4", "True", "(2,)"), f4x2), "Fortran");
    expect_error(npy_bytes(dict(">f4", "False", "(2,)"), f4x2), "big-endian");
    expect_error(npy_bytes(dict("<c8", "False", "(1,)"), f4x2), "complex");
    expect_error(npy_bytes(dict("|O", "False", "(1,)"), f4x2), "object");
    expect_error(npy_bytes(dict("<U3", "False", "(1,)"), f4x2), "string");
    expect_error(npy_bytes(dict("<f4", "False", "(3,)"), f4x2), "truncated");
    expect_error(npy_bytes(dict("<f4", "False", "(1,)"), f4x2), "unexpected bytes");
    expect_error(npy_bytes(dict("<f4", "False", "(4611686018427387904, 4)"), f4x2), "");
    expect_error(npy_bytes(dict("<f4", "False", "(0, 9223372036854775807, 4)"), ""), "too large");
    expect_error(npy_bytes(dict("<f4", "False", "(-1,)"), f4x2), "non-negative");
    expect_error(npy_bytes(dict("<f4", "False", "(99999999999999999999,)"), f4x2), "too large");
    expect_error(
        npy_bytes("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,)}", f4x2),
        "structured");
    expect_error(npy_bytes("{'descr': '<f4', 'shape': (2,)}", f4x2), "lacks");
    expect_error(npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (2,)", f4x2),
                 "header");
    std::string bad_version = npy_bytes(dict("<f4", "False", "(2,)"), f4x2);
    bad_version[6] = 9;
    expect_error(bad_version, "version");
    const std::string whole = npy_bytes(dict("<f4", "False", "(2,)"), f4x2);
    expect_error(whole.substr(0, 30), "truncated .npy header");
}

TEST(Npy, RefusesToWriteTypesWithoutADtype) {
    EXPECT_THROW(serialize_npy(Tensor(ElementType::bf16, {1})), Error);
    EXPECT_THROW(serialize_npy(Tensor(ElementType::string, {1})), Error);
    EXPECT_THROW(serialize_npy(Tensor()), Error);
    EXPECT_THROW(read_npy("/nonexistent/file.npy"), Error);
}

}  // namespace
}  // namespace kiln
