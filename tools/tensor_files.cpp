#include "tensor_files.hpp"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "kiln/npy.hpp"
#include "kiln/onnx.hpp"

namespace kiln::tools {

namespace {

std::string lower_extension(const std::string& path) {
    std::string ext = std::filesystem::path(path).extension().string();
    for (auto& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return ext;
}

bool starts_with_npy_magic(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    char magic[6] = {};
    f.read(magic, sizeof magic);
    return f && std::string(magic, sizeof magic) == "\x93NUMPY";
}

std::string format_value(const Tensor& t, int64_t i) {
    switch (t.element_type()) {
        case ElementType::string:
            return "\"" + t.data<std::string>()[i] + "\"";
        case ElementType::boolean:
            return t.data<bool>()[i] ? "true" : "false";
        case ElementType::f16:
        case ElementType::bf16:
        case ElementType::f32:
        case ElementType::f64: {
            char buf[32];
            std::snprintf(buf, sizeof buf, "%.6g", t.value_as_double(i));
            return buf;
        }
        default:
            if (t.element_type() == ElementType::u64) return std::to_string(t.data<uint64_t>()[i]);
            return std::to_string(t.value_as_int(i));
    }
}

}  // namespace

Tensor load_tensor_file(const std::string& path) {
    std::error_code ec;
    KILN_CHECK(std::filesystem::exists(path, ec), "tensor file '", path, "' does not exist");
    KILN_CHECK(std::filesystem::is_regular_file(path, ec), "tensor file '", path,
               "' is not a regular file");
    const std::string ext = lower_extension(path);
    if (ext == ".npy" || (ext != ".pb" && starts_with_npy_magic(path))) return read_npy(path);
    if (ext == ".pb") return read_onnx_tensor(path);
    try {
        return read_onnx_tensor(path);
    } catch (const Error& e) {
        KILN_THROW(e.what(), " (expected a .npy file or an ONNX TensorProto)");
    }
}

void save_tensor_file(const Tensor& t, const std::string& path, TensorFormat format,
                      const std::string& name) {
    if (format == TensorFormat::npy) {
        write_npy(t, path);
    } else {
        write_onnx_tensor(t, path, name);
    }
}

std::string output_name(const Model& model, size_t i) {
    const auto& result = model.results().at(i);
    const Output port = result->input(0);
    // A graph output that is also another tensor (an input passed through) has several names;
    // the Result node is named after the graph output.
    if (port.names().count(result->name())) return result->name();
    return port.any_name();
}

const char* extension(TensorFormat format) { return format == TensorFormat::npy ? ".npy" : ".pb"; }

std::string summarize(const Tensor& t, size_t max_values) {
    std::ostringstream os;
    os << to_string(t.element_type()) << to_string(t.shape()) << " [";
    const int64_t n = t.size();
    const int64_t shown = std::min<int64_t>(n, static_cast<int64_t>(max_values));
    // Packed sub-byte types have no per-element accessor worth showing here.
    const bool packed = bit_width(t.element_type()) < 8;
    for (int64_t i = 0; i < shown && !packed; ++i) os << (i ? ", " : "") << format_value(t, i);
    if (n > shown || packed) os << (shown && !packed ? ", ..." : "...");
    os << "]";
    return os.str();
}

std::string format_count(uint64_t n) {
    std::string digits = std::to_string(n);
    std::string out;
    for (size_t i = 0; i < digits.size(); ++i) {
        if (i && (digits.size() - i) % 3 == 0) out += ',';
        out += digits[i];
    }
    return out;
}

std::string mib_text(int64_t kib) {
    if (kib < 0) return "unknown";
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.1f MiB", static_cast<double>(kib) / 1024);
    return buf;
}

std::string format_bytes(uint64_t bytes) {
    static const char* kUnits[] = {"KiB", "MiB", "GiB", "TiB"};
    if (bytes < 1024) return std::to_string(bytes) + " bytes";
    double v = static_cast<double>(bytes);
    int unit = -1;
    while (v >= 1024 && unit < 3) {
        v /= 1024;
        ++unit;
    }
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.1f %s (%s bytes)", v, kUnits[unit],
                  format_count(bytes).c_str());
    return buf;
}

}  // namespace kiln::tools
