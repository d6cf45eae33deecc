#pragma once
/// \file The weights of a Hugging Face folder: model.safetensors, or the shards that
/// model.safetensors.index.json maps each tensor to.
#include <map>
#include <string>
#include <vector>

#include "frontends/hf/llm_config.hpp"
#include "frontends/hf/safetensors.hpp"

namespace kiln::hf {

/// Opens and validates every file up front, so a missing or corrupt shard is an error when the
/// folder is opened rather than half-way through building a graph. get() views the mappings.
class SafetensorsWeights : public WeightSource {
public:
    explicit SafetensorsWeights(const std::string& folder);

    bool has(const std::string& name) const override { return where_.count(name) != 0; }
    Tensor get(const std::string& name) const override;
    std::vector<std::string> names() const override;

    const std::string& folder() const { return folder_; }
    const std::vector<SafetensorsFile>& files() const { return files_; }

private:
    void open_single(const std::string& path);
    void open_sharded(const std::string& index_path);

    std::string folder_;
    std::vector<SafetensorsFile> files_;
    std::map<std::string, size_t> where_;  // tensor name -> index in files_
};

}  // namespace kiln::hf
