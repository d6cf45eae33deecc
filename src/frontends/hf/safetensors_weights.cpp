// SafetensorsWeights: one model.safetensors, or shards named by model.safetensors.index.json.
#include "frontends/hf/safetensors_weights.hpp"

#include "frontends/hf/hf_config.hpp"

#include <filesystem>
#include <nlohmann/json.hpp>

namespace kiln::hf {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

constexpr const char* kSingleFile = "model.safetensors";
constexpr const char* kIndexFile = "model.safetensors.index.json";

// A shard name from the index must name a file inside the folder, never a path out of it.
bool is_plain_relative(const std::string& name) {
    const fs::path p(name);
    if (name.empty() || p.is_absolute()) return false;
    for (const auto& part : p)
        if (part == "..") return false;
    return true;
}

}  // namespace

SafetensorsWeights::SafetensorsWeights(const std::string& folder) : folder_(folder) {
    const fs::path dir(folder);
    std::error_code ec;
    if (fs::is_regular_file(dir / kSingleFile, ec)) {
        open_single((dir / kSingleFile).string());
        return;
    }
    if (fs::is_regular_file(dir / kIndexFile, ec)) {
        open_sharded((dir / kIndexFile).string());
        return;
    }
    const bool has_bin = fs::exists(dir / "pytorch_model.bin", ec) ||
                         fs::exists(dir / "pytorch_model.bin.index.json", ec);
    KILN_THROW("folder '", folder, "' has neither ", kSingleFile, " nor ", kIndexFile,
               has_bin ? " (PyTorch .bin checkpoints are not read: save the model with "
                         "safe_serialization=True)"
                       : "");
}

void SafetensorsWeights::open_single(const std::string& path) {
    files_.emplace_back(path);
    for (const auto& [name, e] : files_.back().entries()) where_[name] = 0;
}

void SafetensorsWeights::open_sharded(const std::string& index_path) {
    const json index = read_json_file(index_path);
    const std::string where = "'" + index_path + "': ";
    KILN_CHECK(index.is_object(), where, "not a JSON object");
    const auto map = index.find("weight_map");
    KILN_CHECK(map != index.end() && map->is_object(), where,
               "'weight_map' is missing or not an object");
    std::map<std::string, size_t> shard_index;  // file name -> index in files_
    for (const auto& [name, shard] : map->items()) {
        KILN_CHECK(shard.is_string(), where, "weight_map entry '", name, "' is not a file name");
        const std::string file = shard.get<std::string>();
        KILN_CHECK(is_plain_relative(file), where, "weight_map entry '", name, "' names shard '",
                   file, "', which is not a file inside the folder");
        auto it = shard_index.find(file);
        if (it == shard_index.end()) {
            const fs::path path = fs::path(folder_) / file;
            std::error_code ec;
            KILN_CHECK(fs::exists(path, ec), where, "shard '", file, "' (holding '", name,
                       "') does not exist in '", folder_, "'");
            files_.emplace_back(path.string());
            it = shard_index.emplace(file, files_.size() - 1).first;
        }
        KILN_CHECK(files_[it->second].has(name), where, "weight_map puts '", name, "' in shard '",
                   file, "', which does not hold it");
        where_[name] = it->second;
    }
    KILN_CHECK(!where_.empty(), where, "'weight_map' is empty");
}

Tensor SafetensorsWeights::get(const std::string& name) const {
    const auto it = where_.find(name);
    KILN_CHECK(it != where_.end(), "the weights in '", folder_, "' have no tensor '", name, "'");
    return files_[it->second].tensor(name);
}

std::vector<std::string> SafetensorsWeights::names() const {
    std::vector<std::string> out;
    out.reserve(where_.size());
    for (const auto& [name, i] : where_) out.push_back(name);
    return out;
}

}  // namespace kiln::hf
