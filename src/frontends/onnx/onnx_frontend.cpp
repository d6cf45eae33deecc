#include <fcntl.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>

#include <google/protobuf/io/zero_copy_stream_impl.h>

#include "frontends/onnx/graph_context.hpp"
#include "frontends/onnx/tensor_proto.hpp"
#include "kiln/onnx.hpp"
#include "onnx/version_converter/convert.h"

namespace kiln {

namespace {

constexpr int64_t kNormalizedOpset = 13;

std::string read_file(const std::string& path, const char* what) {
    std::ifstream f(path, std::ios::binary);
    KILN_CHECK(f, "cannot open ", what, " '", path, "'");
    return std::string(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

// ONNX's version converter trusts the graph: it dereferences null on a value no node produces.
// The same checks make the error name the culprit for every model, converted or not.
void check_graph_wiring(const onnx::GraphProto& g) {
    std::set<std::string> defined;
    for (const auto& v : g.input()) defined.insert(v.name());
    for (const auto& t : g.initializer()) defined.insert(t.name());
    for (const auto& n : g.node()) {
        for (const auto& in : n.input())
            KILN_CHECK(in.empty() || defined.count(in), "ONNX node '", n.name(), "' (",
                       n.op_type(), ") uses '", in,
                       "', which no earlier node, input or initializer defines");
        for (const auto& out : n.output()) defined.insert(out);
    }
    for (const auto& v : g.output())
        KILN_CHECK(defined.count(v.name()), "ONNX graph output '", v.name(),
                   "' is not produced by any node");
}

// Upgrades old models so translators only deal with the opset-13+ forms of each operator.
void normalize_opset(onnx::ModelProto& proto) {
    int64_t version = -1;
    for (const auto& op : proto.opset_import())
        if (op.domain().empty() || op.domain() == "ai.onnx") version = op.version();
    if (version < 0 || version >= kNormalizedOpset) return;
    // The converter's Scan 8 -> 9 adapter drops the batch axis from the graph inputs; the Scan
    // translator reads the batched opset-8 form directly.
    if (version < 9)
        for (const auto& n : proto.graph().node())
            if (n.op_type() == "Scan" && (n.domain().empty() || n.domain() == "ai.onnx")) return;
    try {
        proto = onnx::version_conversion::ConvertVersion(proto, kNormalizedOpset);
    } catch (const std::exception&) {
        // Translators also understand the older forms; keep the model as written.
    }
}

}  // namespace

namespace {

std::shared_ptr<Model> translate_parsed(onnx::ModelProto& proto, const std::string& base_dir,
                                        const std::string& name) {
    KILN_CHECK(proto.has_graph(), "'", name, "' is not a valid ONNX model: it has no graph");
    check_graph_wiring(proto.graph());
    normalize_opset(proto);
    return onnx_fe::translate_model(proto, base_dir, name);
}

}  // namespace

std::shared_ptr<Model> read_onnx_from_memory(const std::string& bytes, const std::string& base_dir,
                                             const std::string& name) {
    onnx::ModelProto proto;
    KILN_CHECK(proto.ParseFromString(bytes), "'", name,
               "' is not a valid ONNX model (protobuf parsing failed: truncated or corrupt file)");
    return translate_parsed(proto, base_dir, name);
}

std::shared_ptr<Model> read_onnx(const std::string& path) {
    auto dir = std::filesystem::path(path).parent_path().string();
    std::string name = std::filesystem::path(path).stem().string();
    try {
        onnx::ModelProto proto;
        {
            // Parsed straight from the file, never holding its bytes: a large model is held once,
            // as protobuf, and its initializers are released as they become constants.
            const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
            KILN_CHECK(fd >= 0, "cannot open ONNX model '", path, "'");
            google::protobuf::io::FileInputStream stream(fd);
            stream.SetCloseOnDelete(true);
            KILN_CHECK(proto.ParseFromZeroCopyStream(&stream), "'", name,
                       "' is not a valid ONNX model (protobuf parsing failed: truncated or corrupt "
                       "file)");
        }
        return translate_parsed(proto, dir, name);
    } catch (const Error& e) {
        const std::string msg = e.what();
        if (msg.find(path) != std::string::npos) throw;
        throw Error(str_cat(path, ": ", msg));
    }
}

Tensor read_onnx_tensor(const std::string& path) {
    std::string bytes = read_file(path, "tensor file");
    onnx::TensorProto proto;
    KILN_CHECK(proto.ParseFromString(bytes), path, ": not a valid ONNX TensorProto");
    try {
        return onnx_fe::tensor_from_proto(proto, std::filesystem::path(path).parent_path().string());
    } catch (const Error& e) {
        throw Error(str_cat(path, ": ", e.what()));
    }
}

void write_onnx_tensor(const Tensor& tensor, const std::string& path, const std::string& name) {
    std::ofstream f(path, std::ios::binary);
    KILN_CHECK(f, "cannot write '", path, "'");
    KILN_CHECK(onnx_fe::tensor_to_proto(tensor, name).SerializeToOstream(&f), "failed writing '",
               path, "'");
}

}  // namespace kiln
