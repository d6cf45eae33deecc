#pragma once
// CACHE_DIR: compile_model(path) keeps the graph it compiled (after every pass) as Kiln IR in the
// cache directory, under a key made of the model file's bytes, the properties, the Kiln version
// and the CPU's ISA. A later compile of the same file reads that IR (weights memory-mapped)
// instead of parsing the model and running the passes again. Kernels still pack their weights
// when the plan is built.
#include <memory>
#include <string>

#include "kiln/model.hpp"
#include "kiln/runtime.hpp"

namespace kiln {

class ModelCache {
public:
    /// The entry for compiling `model_path` (and its .bin, for IR) with `properties`.
    ModelCache(const std::string& dir, const std::string& model_path, const AnyMap& properties);
    /// The cached graph, or null on a miss. An entry that cannot be read or was written for
    /// another key is reported on stderr and ignored.
    std::shared_ptr<Model> load() const;
    /// Stores the compiled graph; a failure is reported on stderr and otherwise ignored.
    void store(const Model& runtime_model) const;
    const std::string& key() const { return key_; }
    std::string xml_path() const;

private:
    std::string dir_;
    std::string key_;       // hex digest naming the entry
    std::string key_text_;  // what the digest covers, stored beside the entry to detect staleness
};

/// A fast 64-bit hash of a file's bytes (memory-mapped), for cache keys.
uint64_t hash_file(const std::string& path);

}  // namespace kiln
