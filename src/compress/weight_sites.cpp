#include "compress/weight_sites.hpp"

#include <algorithm>
#include <map>
#include <set>

#include "core/dispatch.hpp"

namespace kiln::compress {
namespace {

bool is_const(const Output& o) { return o.node->type() == "Const"; }

// Operations between the output projection and the model output that do not mix in other
// learned layers: the projection is still "the last layer" behind them.
bool passes_logits_through(const Node& n) {
    static const std::set<std::string> kTypes = {
        "Convert", "Reshape",  "Squeeze",  "Unsqueeze", "Transpose", "Softmax", "LogSoftmax",
        "Add",     "Subtract", "Multiply", "Divide",    "Sigmoid",   "Tanh",    "Clamp"};
    return kTypes.count(n.type()) > 0;
}

// MatMuls whose output reaches a model output through pass-through operations only.
std::set<const Node*> output_projections(const Model& model) {
    std::set<const Node*> heads;
    for (const auto& r : model.results()) {
        std::shared_ptr<Node> n = r->input(0).node;
        while (n && n->type() != "MatMul" && passes_logits_through(*n)) {
            // Follow the one operand that is not a constant (shape inputs and biases are).
            std::shared_ptr<Node> next;
            const bool data_only = n->type() != "Add" && n->type() != "Subtract" &&
                                   n->type() != "Multiply" && n->type() != "Divide";
            for (size_t i = 0; i < (data_only ? 1 : n->input_count()); ++i) {
                if (is_const(n->input(i))) continue;
                if (next) {
                    next = nullptr;  // two variable operands: stop here
                    break;
                }
                next = n->input(i).node;
            }
            n = next;
        }
        if (n && n->type() == "MatMul") heads.insert(n.get());
    }
    return heads;
}

bool gather_on_rows(const Node& g) {
    if (g.input_count() < 3 || g.attrs().get_int("batch_dims", 0) != 0) return false;
    const Tensor* axis = g.input_constant(2);
    if (!axis || axis->size() != 1) return false;
    const int64_t a = axis->value_as_int(0);
    return a == 0 || a == -2;
}

enum class UseKind { nk, kn, rows, other };

UseKind classify(const WeightUse& u) {
    const Node& n = *u.node;
    if (n.type() == "MatMul" && u.port == 1 && n.input(0) != n.input(1))
        return n.attrs().get_bool("transpose_b", false) ? UseKind::nk : UseKind::kn;
    if (n.type() == "Gather" && u.port == 0 && gather_on_rows(n)) return UseKind::rows;
    return UseKind::other;
}

bool reads_as_weight(const WeightUse& u) {
    return (u.node->type() == "MatMul" && u.port == 1) ||
           (u.node->type() == "Gather" && u.port == 0);
}

// The Const behind a weight value: itself (f32) or through a Convert from f16 / bf16.
std::shared_ptr<Node> weight_constant(const std::shared_ptr<Node>& n) {
    if (n->type() == "Const") return n;
    if (n->type() == "Convert" && n->output_type(0) == ElementType::f32 && is_const(n->input(0))) {
        const ElementType t = n->input_type(0);
        if (t == ElementType::f16 || t == ElementType::bf16) return n->input(0).node;
    }
    return nullptr;
}

}  // namespace

Tensor WeightSite::weights_nk() const {
    const Tensor& v = constant->value();
    Tensor f32 = v;
    if (v.element_type() != ElementType::f32) {
        f32 = Tensor(ElementType::f32, v.shape());
        float* o = f32.data<float>();
        dispatch_float(v.element_type(), [&](auto tag) {
            using T = KILN_TYPE_OF(tag);
            const T* p = v.data<T>();
            for (int64_t i = 0; i < v.size(); ++i) o[i] = static_cast<float>(p[i]);
        });
    }
    if (!transposed) return f32;
    Tensor t(ElementType::f32, {rows, cols});
    const float* s = f32.data<float>();
    float* d = t.data<float>();
    for (int64_t r = 0; r < rows; ++r)
        for (int64_t c = 0; c < cols; ++c) d[r * cols + c] = s[c * rows + r];
    return t;
}

SiteScan find_weight_sites(const Model& model) {
    const auto ops = model.ordered_ops();
    std::map<Output, std::vector<WeightUse>> uses;
    for (const auto& n : ops)
        for (size_t i = 0; i < n->input_count(); ++i) uses[n->input(i)].push_back({n, i});
    const std::set<const Node*> heads = output_projections(model);

    SiteScan scan;
    for (const auto& n : ops) {
        const auto it = uses.find(n->output_count() ? n->output(0) : Output{});
        if (it == uses.end()) continue;
        bool weight_like = false;
        for (const auto& u : it->second) weight_like |= reads_as_weight(u);
        if (!weight_like) continue;
        const std::shared_ptr<Node> c = weight_constant(n);
        if (!c) continue;
        const Tensor& v = c->value();
        const std::string name = c->name().empty() ? n->output(0).any_name() : c->name();
        if (v.rank() != 2 || v.size() == 0 || !is_float(v.element_type())) continue;
        if (n->output_type(0) != ElementType::f32) {
            scan.skipped.push_back(name + ": " + std::string(to_string(n->output_type(0))) +
                                   " weights are read as such (only f32 layers are compressed)");
            continue;
        }
        WeightSite site;
        site.name = name;
        site.constant = c;
        site.value = n->output(0);
        site.uses = it->second;
        bool nk = false, kn = false;
        std::string bad;
        for (const auto& u : site.uses) {
            switch (classify(u)) {
                case UseKind::nk:
                    nk = true;
                    break;
                case UseKind::kn:
                    kn = true;
                    break;
                case UseKind::rows:
                    nk = true;
                    site.embedding = true;
                    break;
                case UseKind::other:
                    if (bad.empty()) bad = u.node->context() + " input " + std::to_string(u.port);
            }
            if (heads.count(u.node.get())) site.output = true;
        }
        if (!bad.empty()) {
            scan.skipped.push_back(name + ": also read by " + bad);
            continue;
        }
        if (nk && kn) {
            scan.skipped.push_back(name + ": read both as [N, K] and as [K, N]");
            continue;
        }
        site.transposed = kn;
        site.rows = v.shape()[kn ? 1 : 0];
        site.cols = v.shape()[kn ? 0 : 1];
        scan.sites.push_back(std::move(site));
    }
    // Topological order of the layers: where each weight is first read.
    std::map<const Node*, size_t> position;
    for (size_t i = 0; i < ops.size(); ++i) position[ops[i].get()] = i;
    auto first_use = [&](const WeightSite& s) {
        size_t p = ops.size();
        for (const auto& u : s.uses) p = std::min(p, position[u.node.get()]);
        return p;
    };
    std::stable_sort(
        scan.sites.begin(), scan.sites.end(),
        [&](const WeightSite& a, const WeightSite& b) { return first_use(a) < first_use(b); });
    // Without a MatMul right before an output, the last layer is the last MatMul (as NNCF has it).
    bool any_output = false;
    for (const auto& s : scan.sites) any_output |= s.output;
    for (auto it = scan.sites.rbegin(); !any_output && it != scan.sites.rend(); ++it) {
        for (const auto& u : it->uses) any_output |= u.node->type() == "MatMul";
        it->output = any_output;
    }
    return scan;
}

}  // namespace kiln::compress
