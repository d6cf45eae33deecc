#pragma once
// Finding the weights to compress: constant 2-D matrices read as the weight of MatMul or as the
// table of an embedding Gather, with every node that reads them.
#include <memory>
#include <string>
#include <vector>

#include "kiln/model.hpp"

namespace kiln::compress {

struct WeightUse {
    std::shared_ptr<Node> node;  ///< a MatMul (input 1) or a Gather (input 0)
    size_t port = 0;
};

struct WeightSite {
    std::string name;
    std::shared_ptr<Node> constant;  ///< the Const holding the weights
    Output value;                    ///< what the uses read: the Const, or a Convert of it to f32
    std::vector<WeightUse> uses;
    /// Stored as [K, N], read by MatMuls with transpose_b = false (rewritten to [N, K]).
    bool transposed = false;
    bool embedding = false;      ///< read by a Gather
    bool output = false;         ///< read by the output projection (the MatMul giving the logits)
    int64_t rows = 0, cols = 0;  ///< N, K

    /// The weights as f32 [N, K] (a converted or transposed copy where needed).
    Tensor weights_nk() const;
    size_t stored_bytes() const { return constant->value().byte_size(); }
};

struct SiteScan {
    std::vector<WeightSite> sites;     ///< in topological order
    std::vector<std::string> skipped;  ///< "name: reason" for weights that cannot be compressed
};

SiteScan find_weight_sites(const Model& model);

}  // namespace kiln::compress
