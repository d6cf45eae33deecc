// SafetensorsFile: maps a .safetensors file and checks its header before any tensor is viewed,
// so that a corrupt file is an error here rather than a wild read later.
#include "frontends/hf/safetensors.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>

namespace kiln::hf {
namespace {

using json = nlohmann::json;

// The reference implementation refuses larger headers; a bigger value means a corrupt file.
constexpr uint64_t kMaxHeaderBytes = 100ull << 20;

// The whole file, mapped read-only; tensors keep it alive through their keep_alive pointer.
class Mapping {
public:
    explicit Mapping(const std::string& path) {
        const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
        KILN_CHECK(fd >= 0, "cannot open safetensors file '", path, "': ", std::strerror(errno));
        struct stat st {};
        if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
            ::close(fd);
            KILN_THROW("safetensors file '", path, "' is not a regular file");
        }
        size_ = static_cast<size_t>(st.st_size);
        if (size_ > 0) {
            void* p = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd, 0);
            const int err = errno;
            ::close(fd);
            KILN_CHECK(p != MAP_FAILED, "cannot map safetensors file '", path, "': ",
                       std::strerror(err));
            addr_ = p;
        } else {
            ::close(fd);
        }
    }
    ~Mapping() {
        if (addr_) ::munmap(addr_, size_);
    }
    Mapping(const Mapping&) = delete;
    Mapping& operator=(const Mapping&) = delete;
    const char* data() const { return static_cast<const char*>(addr_); }
    size_t size() const { return size_; }

private:
    void* addr_ = nullptr;
    size_t size_ = 0;
};

struct DtypeName {
    const char* name;
    ElementType type;
};
constexpr DtypeName kDtypes[] = {
    {"F32", ElementType::f32}, {"F16", ElementType::f16}, {"BF16", ElementType::bf16},
    {"F64", ElementType::f64}, {"I64", ElementType::i64}, {"I32", ElementType::i32},
    {"I16", ElementType::i16}, {"I8", ElementType::i8},   {"U8", ElementType::u8},
    {"U16", ElementType::u16}, {"U32", ElementType::u32}, {"U64", ElementType::u64},
    {"BOOL", ElementType::boolean},
};

std::string known_dtypes() {
    std::string s;
    for (const auto& d : kDtypes) {
        if (!s.empty()) s += ' ';
        s += d.name;
    }
    return s;
}

uint64_t as_offset(const json& v, bool& ok) {
    ok = v.is_number_unsigned() || (v.is_number_integer() && v.get<int64_t>() >= 0);
    return ok ? v.get<uint64_t>() : 0;
}

// Parses and checks one header entry; `where` prefixes every message.
SafetensorsEntry parse_entry(const json& e, uint64_t data_size, const std::string& where) {
    KILN_CHECK(e.is_object(), where, "header entry is not an object");
    SafetensorsEntry out;
    const auto dtype = e.find("dtype");
    KILN_CHECK(dtype != e.end() && dtype->is_string(), where, "'dtype' is missing or not a string");
    out.type = safetensors_element_type(dtype->get<std::string>());
    KILN_CHECK(out.type != ElementType::undefined, where, "unsupported dtype '",
               dtype->get<std::string>(), "' (Kiln reads ", known_dtypes(), ")");

    const auto shape = e.find("shape");
    KILN_CHECK(shape != e.end() && shape->is_array(), where, "'shape' is missing or not an array");
    uint64_t count = 1;
    bool overflow = false;
    for (const auto& d : *shape) {
        bool ok = false;
        const uint64_t dim = as_offset(d, ok);
        KILN_CHECK(ok && dim <= static_cast<uint64_t>(INT64_MAX), where,
                   "'shape' holds a value that is not a non-negative integer: ", shape->dump());
        overflow |= __builtin_mul_overflow(count, dim, &count);
        out.shape.push_back(static_cast<int64_t>(dim));
    }
    const uint64_t elem = bit_width(out.type) / 8;
    uint64_t bytes = 0;
    overflow |= __builtin_mul_overflow(count, elem, &bytes);
    KILN_CHECK(!overflow, where, "shape ", shape->dump(), " is too large");

    const auto offsets = e.find("data_offsets");
    KILN_CHECK(offsets != e.end() && offsets->is_array() && offsets->size() == 2, where,
               "'data_offsets' is missing or not a [begin, end] pair");
    bool ok_begin = false, ok_end = false;
    out.begin = as_offset((*offsets)[0], ok_begin);
    out.end = as_offset((*offsets)[1], ok_end);
    KILN_CHECK(ok_begin && ok_end && out.begin <= out.end, where, "bad data_offsets ",
               offsets->dump(), " (expected non-negative integers, begin <= end)");
    KILN_CHECK(out.end <= data_size, where, "data_offsets ", offsets->dump(),
               " run past the end of the data area (", data_size, " bytes; is the file truncated?)");
    KILN_CHECK(out.end - out.begin == bytes, where, "data_offsets ", offsets->dump(), " hold ",
               out.end - out.begin, " bytes but shape ", shape->dump(), " of ",
               dtype->get<std::string>(), " needs ", bytes);
    return out;
}

}  // namespace

ElementType safetensors_element_type(const std::string& dtype) {
    for (const auto& d : kDtypes)
        if (dtype == d.name) return d.type;
    return ElementType::undefined;
}

SafetensorsFile::SafetensorsFile(const std::string& path) : path_(path) {
    auto mapping = std::make_shared<Mapping>(path);
    const std::string where = "safetensors file '" + path + "': ";
    const uint64_t size = mapping->size();
    KILN_CHECK(size >= 8, where, "only ", size,
               " bytes, too short for the 8-byte header length (truncated or not safetensors)");
    uint64_t header_len = 0;
    for (int i = 7; i >= 0; --i)
        header_len = (header_len << 8) | static_cast<unsigned char>(mapping->data()[i]);
    KILN_CHECK(header_len <= size - 8, where, "header length ", header_len,
               " runs past the end of the file (", size,
               " bytes; truncated or not a safetensors file)");
    KILN_CHECK(header_len <= kMaxHeaderBytes, where, "header length ", header_len,
               " exceeds the 100 MiB limit (corrupt file?)");

    const char* header = mapping->data() + 8;
    json j;
    try {
        j = json::parse(header, header + header_len);
    } catch (const json::exception& e) {
        KILN_THROW(where, "malformed JSON header: ", e.what());
    }
    KILN_CHECK(j.is_object(), where, "the JSON header is not an object");
    const uint64_t data_size = size - 8 - header_len;

    for (const auto& [name, value] : j.items()) {
        if (name == "__metadata__") {
            KILN_CHECK(value.is_object() || value.is_null(), where,
                       "'__metadata__' is not an object of strings");
            if (value.is_null()) continue;
            for (const auto& [key, text] : value.items()) {
                KILN_CHECK(text.is_string(), where, "'__metadata__' entry '", key,
                           "' is not a string");
                metadata_[key] = text.get<std::string>();
            }
            continue;
        }
        entries_[name] = parse_entry(value, data_size, where + "tensor '" + name + "': ");
    }

    // Byte ranges must not overlap (the reference writer packs them back to back); empty
    // tensors occupy no bytes and may sit anywhere.
    std::vector<std::pair<const std::string*, const SafetensorsEntry*>> by_offset;
    for (const auto& [name, e] : entries_)
        if (e.end > e.begin) by_offset.emplace_back(&name, &e);
    std::sort(by_offset.begin(), by_offset.end(),
              [](const auto& a, const auto& b) { return a.second->begin < b.second->begin; });
    for (size_t i = 1; i < by_offset.size(); ++i) {
        const auto& [prev_name, prev] = by_offset[i - 1];
        const auto& [name, e] = by_offset[i];
        KILN_CHECK(e->begin >= prev->end, where, "tensors '", *prev_name, "' [", prev->begin, ", ",
                   prev->end, ") and '", *name, "' [", e->begin, ", ", e->end, ") overlap");
    }

    data_ = mapping->data() + 8 + header_len;
    mapping_ = std::move(mapping);
}

std::vector<std::string> SafetensorsFile::names() const {
    std::vector<std::string> out;
    out.reserve(entries_.size());
    for (const auto& [name, e] : entries_) out.push_back(name);
    return out;
}

Tensor SafetensorsFile::tensor(const std::string& name) const {
    const auto it = entries_.find(name);
    KILN_CHECK(it != entries_.end(), "safetensors file '", path_, "' has no tensor '", name, "'");
    const SafetensorsEntry& e = it->second;
    const char* ptr = data_ + e.begin;
    const size_t bytes = e.end - e.begin;
    const size_t align = bit_width(e.type) / 8;
    bool copy = reinterpret_cast<uintptr_t>(ptr) % align != 0;
    if (e.type == ElementType::boolean) {
        // A bool object holding anything but 0 or 1 is undefined behavior: normalize a copy.
        for (size_t i = 0; i < bytes && !copy; ++i) copy = static_cast<unsigned char>(ptr[i]) > 1;
        if (copy) {
            Tensor t(e.type, e.shape);
            auto* out = static_cast<unsigned char*>(t.raw_data());
            for (size_t i = 0; i < bytes; ++i) out[i] = ptr[i] != 0;
            return t;
        }
    }
    if (copy) {
        Tensor t(e.type, e.shape);
        if (bytes) std::memcpy(t.raw_data(), ptr, bytes);
        return t;
    }
    return Tensor(e.type, e.shape, const_cast<char*>(ptr), mapping_);
}

}  // namespace kiln::hf
