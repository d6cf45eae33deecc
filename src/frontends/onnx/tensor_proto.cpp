#include "frontends/onnx/tensor_proto.hpp"

#include <cstring>
#include <filesystem>
#include <fstream>

#include "core/dispatch.hpp"

namespace kiln::onnx_fe {

using TP = onnx::TensorProto;

ElementType element_type_from_onnx(int32_t t) {
    switch (t) {
        case TP::FLOAT: return ElementType::f32;
        case TP::UINT8: return ElementType::u8;
        case TP::INT8: return ElementType::i8;
        case TP::UINT16: return ElementType::u16;
        case TP::INT16: return ElementType::i16;
        case TP::INT32: return ElementType::i32;
        case TP::INT64: return ElementType::i64;
        case TP::STRING: return ElementType::string;
        case TP::BOOL: return ElementType::boolean;
        case TP::FLOAT16: return ElementType::f16;
        case TP::DOUBLE: return ElementType::f64;
        case TP::UINT32: return ElementType::u32;
        case TP::UINT64: return ElementType::u64;
        case TP::BFLOAT16: return ElementType::bf16;
        default: break;
    }
    const char* name = TP::DataType_IsValid(t) ? TP::DataType_Name(t).c_str() : "unknown";
    KILN_THROW("ONNX data type ", name, " (", t, ") is not supported");
}

int32_t element_type_to_onnx(ElementType t) {
    switch (t) {
        case ElementType::f32: return TP::FLOAT;
        case ElementType::u8: return TP::UINT8;
        case ElementType::i8: return TP::INT8;
        case ElementType::u16: return TP::UINT16;
        case ElementType::i16: return TP::INT16;
        case ElementType::i32: return TP::INT32;
        case ElementType::i64: return TP::INT64;
        case ElementType::string: return TP::STRING;
        case ElementType::boolean: return TP::BOOL;
        case ElementType::f16: return TP::FLOAT16;
        case ElementType::f64: return TP::DOUBLE;
        case ElementType::u32: return TP::UINT32;
        case ElementType::u64: return TP::UINT64;
        case ElementType::bf16: return TP::BFLOAT16;
        default: KILN_THROW("element type ", to_string(t), " has no ONNX equivalent");
    }
}

namespace {

std::string read_external(const TP& proto, const std::string& base_dir, size_t expected) {
    std::string location;
    int64_t offset = 0, length = -1;
    for (const auto& kv : proto.external_data()) {
        if (kv.key() == "location") location = kv.value();
        else if (kv.key() == "offset") offset = std::stoll(kv.value());
        else if (kv.key() == "length") length = std::stoll(kv.value());
    }
    KILN_CHECK(!location.empty(), "tensor '", proto.name(), "' has external data without a location");
    // As ONNX's checker requires, external data must stay inside the model's directory.
    const std::filesystem::path rel(location);
    KILN_CHECK(rel.is_relative() && *rel.lexically_normal().begin() != "..", "tensor '",
               proto.name(), "': external data location '", location,
               "' must be a relative path inside the model's directory");
    std::filesystem::path path = std::filesystem::path(base_dir) / location;
    std::ifstream f(path, std::ios::binary);
    KILN_CHECK(f, "tensor '", proto.name(), "': cannot open external data file ", path.string());
    f.seekg(0, std::ios::end);
    const int64_t file_size = f.tellg();
    if (length < 0) length = file_size - offset;
    KILN_CHECK(offset >= 0 && offset + length <= file_size, "tensor '", proto.name(),
               "': external data [", offset, ", ", offset + length, ") is beyond the end of ",
               path.string(), " (", file_size, " bytes)");
    KILN_CHECK(static_cast<size_t>(length) == expected, "tensor '", proto.name(), "': external data has ",
               length, " bytes, expected ", expected);
    std::string data(static_cast<size_t>(length), '\0');
    f.seekg(offset);
    f.read(data.data(), length);
    return data;
}

template <class Dst, class Src>
void copy_field(Tensor& t, const Src& field, const std::string& name) {
    KILN_CHECK(static_cast<int64_t>(field.size()) == t.size(), "tensor '", name, "' holds ",
               field.size(), " values, its shape ", to_string(t.shape()), " needs ", t.size());
    Dst* dst = static_cast<Dst*>(t.raw_data());
    for (int64_t i = 0; i < t.size(); ++i) dst[i] = static_cast<Dst>(field.Get(static_cast<int>(i)));
}

}  // namespace

Tensor tensor_from_proto(const TP& proto, const std::string& base_dir) {
    const ElementType type = element_type_from_onnx(proto.data_type());
    Shape shape;
    for (auto d : proto.dims()) {
        KILN_CHECK(d >= 0, "tensor '", proto.name(), "' has a negative dimension ", d);
        shape.push_back(d);
    }
    Tensor t(type, shape);
    const std::string& name = proto.name();
    if (type == ElementType::string) {
        KILN_CHECK(proto.string_data_size() == t.size(), "tensor '", name, "' holds ",
                   proto.string_data_size(), " strings, its shape needs ", t.size());
        for (int64_t i = 0; i < t.size(); ++i) t.data<std::string>()[i] = proto.string_data(static_cast<int>(i));
        return t;
    }
    const size_t bytes = t.byte_size();
    if (proto.data_location() == TP::EXTERNAL) {
        std::string data = read_external(proto, base_dir, bytes);
        if (bytes) std::memcpy(t.raw_data(), data.data(), bytes);
        return t;
    }
    if (proto.has_raw_data()) {
        KILN_CHECK(proto.raw_data().size() == bytes, "tensor '", name, "' has ", proto.raw_data().size(),
                   " bytes of raw data, its type and shape need ", bytes);
        if (bytes) std::memcpy(t.raw_data(), proto.raw_data().data(), bytes);
        return t;
    }
    switch (type) {
        case ElementType::f32: copy_field<float>(t, proto.float_data(), name); break;
        case ElementType::f64: copy_field<double>(t, proto.double_data(), name); break;
        case ElementType::i64: copy_field<int64_t>(t, proto.int64_data(), name); break;
        case ElementType::u32: copy_field<uint32_t>(t, proto.uint64_data(), name); break;
        case ElementType::u64: copy_field<uint64_t>(t, proto.uint64_data(), name); break;
        case ElementType::f16:
        case ElementType::bf16: copy_field<uint16_t>(t, proto.int32_data(), name); break;
        case ElementType::boolean: copy_field<uint8_t>(t, proto.int32_data(), name); break;
        case ElementType::i32: copy_field<int32_t>(t, proto.int32_data(), name); break;
        case ElementType::i8: copy_field<int8_t>(t, proto.int32_data(), name); break;
        case ElementType::u8: copy_field<uint8_t>(t, proto.int32_data(), name); break;
        case ElementType::i16: copy_field<int16_t>(t, proto.int32_data(), name); break;
        case ElementType::u16: copy_field<uint16_t>(t, proto.int32_data(), name); break;
        default: KILN_THROW("tensor '", name, "': unsupported element type ", to_string(type));
    }
    return t;
}

TP tensor_to_proto(const Tensor& t, const std::string& name) {
    TP p;
    p.set_name(name);
    p.set_data_type(element_type_to_onnx(t.element_type()));
    for (auto d : t.shape()) p.add_dims(d);
    if (t.element_type() == ElementType::string) {
        for (int64_t i = 0; i < t.size(); ++i) p.add_string_data(t.data<std::string>()[i]);
    } else {
        p.set_raw_data(std::string(static_cast<const char*>(t.raw_data()), t.byte_size()));
    }
    return p;
}

}  // namespace kiln::onnx_fe
