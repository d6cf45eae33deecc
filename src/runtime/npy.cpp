#include "kiln/npy.hpp"

#include <cctype>
#include <cstring>
#include <fstream>
#include <limits>
#include <sstream>
#include <vector>

namespace kiln {

namespace {

constexpr char kMagic[] = "\x93NUMPY";
constexpr size_t kMagicSize = 6;

struct NpyHeader {
    std::string descr;
    bool fortran_order = false;
    bool has_descr = false, has_order = false, has_shape = false;
    Shape shape;
};

/// A parser for the one Python literal NumPy writes as the header: a dict with the keys 'descr',
/// 'fortran_order' and 'shape'.
class HeaderParser {
public:
    HeaderParser(const std::string& text, const std::string& what) : s_(text), what_(what) {}

    NpyHeader parse() {
        NpyHeader h;
        expect('{');
        while (true) {
            skip_ws();
            if (peek() == '}') break;
            const std::string key = parse_string();
            expect(':');
            skip_ws();
            if (key == "descr") {
                if (peek() == '[') fail("structured dtypes (a 'descr' list) are not supported");
                h.descr = parse_string();
                h.has_descr = true;
            } else if (key == "fortran_order") {
                h.fortran_order = parse_bool();
                h.has_order = true;
            } else if (key == "shape") {
                h.shape = parse_shape();
                h.has_shape = true;
            } else {
                fail("unexpected key '" + key + "' in the header");
            }
            skip_ws();
            if (peek() == ',') {
                ++pos_;
                continue;
            }
            skip_ws();
            if (peek() != '}') fail("expected ',' or '}' in the header");
        }
        if (!h.has_descr || !h.has_order || !h.has_shape)
            fail("the header lacks one of 'descr', 'fortran_order', 'shape'");
        return h;
    }

private:
    char peek() const { return pos_ < s_.size() ? s_[pos_] : '\0'; }
    void skip_ws() {
        while (pos_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[pos_]))) ++pos_;
    }
    [[noreturn]] void fail(const std::string& msg) const {
        KILN_THROW(what_, ": not a valid .npy file: ", msg);
    }
    void expect(char c) {
        skip_ws();
        if (peek() != c) fail(std::string("expected '") + c + "' in the header");
        ++pos_;
    }
    std::string parse_string() {
        skip_ws();
        const char quote = peek();
        if (quote != '\'' && quote != '"') fail("expected a quoted string in the header");
        const size_t end = s_.find(quote, pos_ + 1);
        if (end == std::string::npos) fail("unterminated string in the header");
        std::string out = s_.substr(pos_ + 1, end - pos_ - 1);
        pos_ = end + 1;
        return out;
    }
    bool parse_bool() {
        if (s_.compare(pos_, 4, "True") == 0) {
            pos_ += 4;
            return true;
        }
        if (s_.compare(pos_, 5, "False") == 0) {
            pos_ += 5;
            return false;
        }
        fail("'fortran_order' must be True or False");
    }
    Shape parse_shape() {
        expect('(');
        Shape shape;
        while (true) {
            skip_ws();
            if (peek() == ')') {
                ++pos_;
                return shape;
            }
            if (!std::isdigit(static_cast<unsigned char>(peek())))
                fail("'shape' must be a tuple of non-negative integers");
            int64_t v = 0;
            while (std::isdigit(static_cast<unsigned char>(peek()))) {
                const int digit = peek() - '0';
                if (v > (std::numeric_limits<int64_t>::max() - digit) / 10)
                    fail("a dimension of 'shape' is too large");
                v = v * 10 + digit;
                ++pos_;
            }
            if (peek() == 'L') ++pos_;  // Python 2 long literals
            shape.push_back(v);
            skip_ws();
            if (peek() == ',') {
                ++pos_;
            } else if (peek() != ')') {
                fail("expected ',' or ')' in 'shape'");
            }
        }
    }

    const std::string& s_;
    const std::string& what_;
    size_t pos_ = 0;
};

ElementType type_from_descr(const std::string& descr, const std::string& what) {
    KILN_CHECK(descr.size() >= 2, what, ": unsupported dtype '", descr, "'");
    const char order = descr[0];
    const std::string body = descr.substr(1);
    KILN_CHECK(order == '<' || order == '>' || order == '|' || order == '=', what,
               ": unsupported dtype '", descr, "' (no byte-order prefix)");
    static const std::pair<const char*, ElementType> kTypes[] = {
        {"b1", ElementType::boolean}, {"i1", ElementType::i8},  {"u1", ElementType::u8},
        {"i2", ElementType::i16},     {"u2", ElementType::u16}, {"i4", ElementType::i32},
        {"u4", ElementType::u32},     {"i8", ElementType::i64}, {"u8", ElementType::u64},
        {"f2", ElementType::f16},     {"f4", ElementType::f32}, {"f8", ElementType::f64},
    };
    for (const auto& [name, type] : kTypes) {
        if (body != name) continue;
        // Byte order matters only for multi-byte types; '=' is native, and Kiln runs on
        // little-endian machines.
        KILN_CHECK(order != '>' || body[1] == '1', what, ": big-endian data (dtype '", descr,
                   "') is not supported; save it with arr.astype('<", body, "')");
        return type;
    }
    std::string kind = "dtype";
    switch (body[0]) {
        case 'O':
            kind = "object (pickled) dtype";
            break;
        case 'U':
        case 'S':
        case 'a':
            kind = "string dtype";
            break;
        case 'c':
            kind = "complex dtype";
            break;
        case 'M':
        case 'm':
            kind = "datetime dtype";
            break;
        case 'V':
            kind = "void dtype";
            break;
        default:
            break;
    }
    KILN_THROW(what, ": unsupported ", kind, " '", descr,
               "' (supported: bool, int8-64, uint8-64, float16, float32, float64)");
}

uint32_t read_le(const std::string& bytes, size_t pos, size_t n) {
    uint32_t v = 0;
    for (size_t i = 0; i < n; ++i)
        v |= static_cast<uint32_t>(static_cast<unsigned char>(bytes[pos + i])) << (8 * i);
    return v;
}

}  // namespace

std::string npy_dtype(ElementType type) {
    switch (type) {
        case ElementType::boolean:
            return "|b1";
        case ElementType::i8:
            return "|i1";
        case ElementType::u8:
            return "|u1";
        case ElementType::i16:
            return "<i2";
        case ElementType::u16:
            return "<u2";
        case ElementType::i32:
            return "<i4";
        case ElementType::u32:
            return "<u4";
        case ElementType::i64:
            return "<i8";
        case ElementType::u64:
            return "<u8";
        case ElementType::f16:
            return "<f2";
        case ElementType::f32:
            return "<f4";
        case ElementType::f64:
            return "<f8";
        default:
            KILN_THROW("element type ", to_string(type), " has no NumPy dtype; cannot write .npy");
    }
}

Tensor parse_npy(const std::string& bytes, const std::string& what) {
    KILN_CHECK(bytes.size() >= 10 && bytes.compare(0, kMagicSize, kMagic) == 0, what,
               ": not a .npy file (no \\x93NUMPY magic)");
    const int major = static_cast<unsigned char>(bytes[6]);
    KILN_CHECK(major >= 1 && major <= 3, what, ": unsupported .npy format version ", major);
    const size_t len_size = major == 1 ? 2 : 4;
    const size_t header_start = 8 + len_size;
    KILN_CHECK(bytes.size() >= header_start, what, ": truncated .npy header");
    const size_t header_len = read_le(bytes, 8, len_size);
    KILN_CHECK(bytes.size() - header_start >= header_len, what, ": truncated .npy header (",
               header_len, " bytes announced, ", bytes.size() - header_start, " present)");
    const std::string header_text = bytes.substr(header_start, header_len);
    const NpyHeader header = HeaderParser(header_text, what).parse();
    KILN_CHECK(!header.fortran_order, what,
               ": Fortran-order arrays are not supported; save it with np.ascontiguousarray()");
    const ElementType type = type_from_descr(header.descr, what);

    const size_t data_start = header_start + header_len;
    const size_t available = bytes.size() - data_start;
    const size_t item = byte_size(type, 1);
    // Check the element count against the bytes present before allocating anything.
    size_t count = 1;
    int64_t nonzero_product = 1;  // so that a zero-sized array still has a representable shape
    for (int64_t d : header.shape) {
        KILN_CHECK(d == 0 || !__builtin_mul_overflow(nonzero_product, d, &nonzero_product), what,
                   ": shape ", to_string(header.shape), " is too large");
    }
    for (int64_t d : header.shape) {
        if (d == 0) count = 0;
    }
    for (int64_t d : header.shape) {
        if (count == 0) break;
        KILN_CHECK(count <= available / item / static_cast<size_t>(d), what,
                   ": truncated data: shape ", to_string(header.shape), " of ", header.descr,
                   " needs more than the ", available, " bytes present");
        count *= static_cast<size_t>(d);
    }
    const size_t needed = count * item;
    KILN_CHECK(available >= needed, what, ": truncated data: shape ", to_string(header.shape),
               " of ", header.descr, " needs ", needed, " bytes, ", available, " present");
    KILN_CHECK(available == needed, what, ": ", available - needed,
               " unexpected bytes after the array data");

    Tensor t(type, header.shape);
    const char* src = bytes.data() + data_start;
    if (type == ElementType::boolean) {
        // Any non-zero byte is true; copying raw bytes into bool could create invalid values.
        bool* dst = t.data<bool>();
        for (size_t i = 0; i < count; ++i) dst[i] = src[i] != 0;
    } else if (needed > 0) {
        std::memcpy(t.raw_data(), src, needed);
    }
    return t;
}

Tensor read_npy(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    KILN_CHECK(f, "cannot open .npy file '", path, "'");
    std::ostringstream ss;
    ss << f.rdbuf();
    KILN_CHECK(!f.bad(), "error reading .npy file '", path, "'");
    return parse_npy(ss.str(), "'" + path + "'");
}

std::string serialize_npy(const Tensor& tensor) {
    KILN_CHECK(!tensor.empty(), "cannot write an empty (undefined) tensor as .npy");
    const std::string descr = npy_dtype(tensor.element_type());
    std::string dict = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': (";
    for (size_t i = 0; i < tensor.shape().size(); ++i) {
        dict += std::to_string(tensor.shape()[i]);
        if (i + 1 < tensor.shape().size() || tensor.shape().size() == 1) dict += ",";
        if (i + 1 < tensor.shape().size()) dict += " ";
    }
    dict += "), }";
    // NumPy pads the header with spaces and a newline so the data starts 64-byte aligned.
    const bool v2 = dict.size() + 1 + 10 > 65535;
    const size_t prefix = v2 ? 12 : 10;
    const size_t total = (prefix + dict.size() + 1 + 63) / 64 * 64;
    dict.append(total - prefix - dict.size() - 1, ' ');
    dict += '\n';

    std::string out(kMagic, kMagicSize);
    out += static_cast<char>(v2 ? 2 : 1);
    out += '\0';
    const size_t len = dict.size();
    for (size_t i = 0; i < (v2 ? 4u : 2u); ++i) out += static_cast<char>((len >> (8 * i)) & 0xff);
    out += dict;
    if (tensor.element_type() == ElementType::boolean) {
        const bool* src = tensor.data<bool>();
        for (int64_t i = 0; i < tensor.size(); ++i) out += static_cast<char>(src[i] ? 1 : 0);
    } else {
        out.append(static_cast<const char*>(tensor.raw_data()), tensor.byte_size());
    }
    return out;
}

void write_npy(const Tensor& tensor, const std::string& path) {
    const std::string bytes = serialize_npy(tensor);
    std::ofstream f(path, std::ios::binary | std::ios::trunc);
    KILN_CHECK(f, "cannot create .npy file '", path, "'");
    f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    f.close();
    KILN_CHECK(f, "error writing .npy file '", path, "'");
}

}  // namespace kiln
