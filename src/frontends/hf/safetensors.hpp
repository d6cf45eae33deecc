#pragma once
/// \file Reading .safetensors files: an 8-byte little-endian header length, a JSON header naming
/// each tensor's dtype, shape and byte range, then the data. The file is memory-mapped read-only
/// and tensors view the mapping in place.
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "kiln/tensor.hpp"

namespace kiln::hf {

/// One tensor of the header: its type, shape and byte range within the data area.
struct SafetensorsEntry {
    ElementType type = ElementType::undefined;
    Shape shape;
    uint64_t begin = 0;  // offsets relative to the start of the data area
    uint64_t end = 0;
};

/// Maps the safetensors dtype names (F32, F16, BF16, F64, I64, I32, I16, I8, U8, BOOL) to Kiln's
/// element types; undefined for anything else.
ElementType safetensors_element_type(const std::string& dtype);

/// One .safetensors file, mapped and validated when constructed: every problem (truncated file,
/// header length out of range, malformed JSON, unknown dtype, offsets out of range, overlapping or
/// not matching shape × dtype size) is a kiln::Error naming the file and the tensor.
/// Copies share the mapping; tensors returned by tensor() keep it alive on their own.
class SafetensorsFile {
public:
    explicit SafetensorsFile(const std::string& path);

    const std::string& path() const { return path_; }
    bool has(const std::string& name) const { return entries_.count(name) != 0; }
    /// Tensor names, sorted.
    std::vector<std::string> names() const;
    const std::map<std::string, SafetensorsEntry>& entries() const { return entries_; }
    /// The header's "__metadata__" string map (empty when absent).
    const std::map<std::string, std::string>& metadata() const { return metadata_; }
    /// The tensor viewing the mapping (copied only when its bytes are not aligned to the element
    /// size, or for BOOL bytes other than 0 and 1); a kiln::Error for an unknown name.
    Tensor tensor(const std::string& name) const;

private:
    std::string path_;
    std::shared_ptr<void> mapping_;        // the whole file; unmapped when the last user goes
    const char* data_ = nullptr;           // start of the data area
    std::map<std::string, SafetensorsEntry> entries_;
    std::map<std::string, std::string> metadata_;
};

}  // namespace kiln::hf
