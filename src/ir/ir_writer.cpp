// save_model: writes a Model as an OpenVINO IR v11 pair (.xml topology + .bin weights).
#include <cmath>
#include <cstring>
#include <fstream>
#include <limits>
#include <pugixml.hpp>
#include <string_view>
#include <unordered_map>

#include "ir/ir_common.hpp"
#include "kiln/ir.hpp"

namespace kiln {
namespace {

constexpr size_t kConstAlignment = 64;

// Accumulates the .bin: each distinct constant once, at a 64-byte aligned offset.
class WeightsWriter {
  public:
    struct Blob {
        size_t offset;
        size_t size;
    };

    Blob add(const char* data, size_t size) {
        if (size == 0) return {0, 0};
        const size_t h = std::hash<std::string_view>{}(std::string_view(data, size));
        auto range = index_.equal_range(h);
        for (auto it = range.first; it != range.second; ++it) {
            const Blob& b = it->second;
            if (b.size == size && std::memcmp(bytes_.data() + b.offset, data, size) == 0) return b;
        }
        const size_t offset =
            (bytes_.size() + kConstAlignment - 1) / kConstAlignment * kConstAlignment;
        bytes_.resize(offset, '\0');
        bytes_.append(data, size);
        Blob b{offset, size};
        index_.emplace(h, b);
        return b;
    }
    const std::string& bytes() const { return bytes_; }

  private:
    std::string bytes_;
    std::unordered_multimap<size_t, Blob> index_;
};

// OpenVINO's packed string layout: i32 count, i32 offsets[count + 1] (0 then each string's end),
// then the characters of all strings back to back.
std::string pack_strings(const Tensor& t) {
    const auto* s = t.data<std::string>();
    const int64_t n = t.size();
    KILN_CHECK(n <= std::numeric_limits<int32_t>::max(), "string constant has too many elements");
    std::string chars;
    std::vector<int32_t> header;
    header.push_back(static_cast<int32_t>(n));
    header.push_back(0);
    for (int64_t i = 0; i < n; ++i) {
        chars += s[i];
        KILN_CHECK(chars.size() <= static_cast<size_t>(std::numeric_limits<int32_t>::max()),
                   "string constant is over 2 GiB");
        header.push_back(static_cast<int32_t>(chars.size()));
    }
    std::string out(header.size() * sizeof(int32_t), '\0');
    std::memcpy(out.data(), header.data(), out.size());
    return out + chars;
}

// f32 -> f16 with values beyond the f16 range clamped to its extremes, as OpenVINO does.
std::vector<float16> to_f16_clamped(const Tensor& t) {
    constexpr float kMax = 65504.f;
    std::vector<float16> out(static_cast<size_t>(t.size()));
    const float* src = t.data<float>();
    for (size_t i = 0; i < out.size(); ++i) {
        float v = src[i];
        if (!std::isnan(v)) v = std::fmax(-kMax, std::fmin(kMax, v));
        out[i] = float16(v);
    }
    return out;
}

std::string join_ints(const std::vector<int64_t>& v) { return attr_to_string(AttrValue(v)); }

void add_dims(pugi::xml_node port, const PartialShape& shape) {
    if (!shape.rank_is_static()) return;
    for (const auto& d : shape.dims())
        port.append_child("dim").text().set(d.is_static() ? std::to_string(d.get_length()).c_str()
                                                          : "-1");
}

void add_layer_rt_info(pugi::xml_node layer, const std::map<std::string, std::string>& rt) {
    if (rt.empty()) return;
    auto node = layer.append_child("rt_info");
    for (const auto& [k, v] : rt) {
        auto a = node.append_child("attribute");
        a.append_attribute("name").set_value(k.c_str());
        a.append_attribute("version").set_value("0");
        // Flag attributes such as "decompression" have no value: OpenVINO writes none.
        if (!v.empty()) a.append_attribute("value").set_value(v.c_str());
    }
}

// Model rt_info: "a/b" keys nest as <a><b value=".."/></a>, as OpenVINO writes nested maps;
// keys that are not XML names are written as <info name=".." value=".."/>.
void add_model_rt_info(pugi::xml_node net, const std::map<std::string, std::string>& rt) {
    auto root = net.append_child("rt_info");
    for (const auto& [key, value] : rt) {
        std::vector<std::string> parts;
        bool nested_ok = true;
        for (size_t start = 0;;) {
            size_t pos = key.find('/', start);
            parts.push_back(key.substr(start, pos == std::string::npos ? pos : pos - start));
            nested_ok = nested_ok && ir::is_xml_name(parts.back()) && parts.back() != "info";
            if (pos == std::string::npos) break;
            start = pos + 1;
        }
        if (!nested_ok) {
            auto n = root.append_child("info");
            n.append_attribute("name").set_value(key.c_str());
            n.append_attribute("value").set_value(value.c_str());
            continue;
        }
        pugi::xml_node cur = root;
        for (const auto& p : parts) {
            pugi::xml_node next = cur.child(p.c_str());
            cur = next ? next : cur.append_child(p.c_str());
        }
        cur.append_attribute("value").set_value(value.c_str());
    }
}

class GraphWriter {
  public:
    GraphWriter(WeightsWriter& weights, const SaveOptions& options)
        : weights_(weights), options_(options) {}

    void write(pugi::xml_node parent, const Model& model) {
        // Parameters first and Results last, in model order, as OpenVINO numbers layers.
        std::vector<std::shared_ptr<Node>> order(model.parameters());
        for (const auto& n : model.ordered_ops())
            if (n->type() != "Parameter" && n->type() != "Result") order.push_back(n);
        for (const auto& r : model.results()) order.push_back(r);

        layers_ = parent.append_child("layers");
        auto edges = parent.append_child("edges");
        std::unordered_map<const Node*, int64_t> ids;
        // Where each node's output i is produced: a (layer, port), possibly a Convert layer.
        std::unordered_map<const Node*, std::pair<int64_t, int64_t>> out_at;
        for (const auto& n : order) {
            if (ids.count(n.get())) continue;
            const int64_t id = next_id_++;
            ids[n.get()] = id;
            if (n->type() == "Const") {
                out_at[n.get()] = write_const(*n, id);
                continue;
            }
            write_layer(*n, id);
            out_at[n.get()] = {id, static_cast<int64_t>(n->input_count())};
            for (size_t i = 0; i < n->input_count(); ++i) {
                const Output& in = n->input(i);
                auto it = out_at.find(in.node.get());
                KILN_CHECK(it != out_at.end(), n->context(), " input ", i,
                           " comes from a node outside the model");
                auto e = edges.append_child("edge");
                e.append_attribute("from-layer").set_value(it->second.first);
                e.append_attribute("from-port")
                    .set_value(it->second.second + static_cast<int64_t>(in.index));
                e.append_attribute("to-layer").set_value(id);
                e.append_attribute("to-port").set_value(static_cast<int64_t>(i));
            }
        }
        add_model_rt_info(parent, model.rt_info());
    }

  private:
    pugi::xml_node begin_layer(int64_t id, const std::string& name, const std::string& type,
                               const std::string& version) {
        auto layer = layers_.append_child("layer");
        layer.append_attribute("id").set_value(id);
        layer.append_attribute("name").set_value(name.c_str());
        layer.append_attribute("type").set_value(type.c_str());
        layer.append_attribute("version").set_value(version.c_str());
        return layer;
    }

    static void add_output_port(pugi::xml_node outputs, int64_t port_id, ElementType type,
                                const std::set<std::string>& names, const PartialShape& shape) {
        auto port = outputs.append_child("port");
        port.append_attribute("id").set_value(port_id);
        port.append_attribute("precision").set_value(ir::precision_name(type).c_str());
        if (!names.empty())
            port.append_attribute("names").set_value(
                ir::join_names({names.begin(), names.end()}).c_str());
        add_dims(port, shape);
    }

    void write_layer(const Node& n, int64_t id) {
        auto layer = begin_layer(id, n.name(), ir::ir_type_name(n.type()), n.version());
        if (!n.attrs().empty()) {
            auto data = layer.append_child("data");
            for (const auto& [k, v] : n.attrs().items())
                data.append_attribute(k.c_str()).set_value(attr_to_string(v).c_str());
        }
        add_layer_rt_info(layer, n.rt_info());
        if (n.input_count()) {
            auto inputs = layer.append_child("input");
            for (size_t i = 0; i < n.input_count(); ++i) {
                auto port = inputs.append_child("port");
                port.append_attribute("id").set_value(static_cast<int64_t>(i));
                port.append_attribute("precision")
                    .set_value(ir::precision_name(n.input_type(i)).c_str());
                add_dims(port, n.input_shape(i));
            }
        }
        if (n.output_count() && n.type() != "Result") {
            auto outputs = layer.append_child("output");
            for (size_t i = 0; i < n.output_count(); ++i)
                add_output_port(outputs, static_cast<int64_t>(n.input_count() + i),
                                n.output_type(i), n.output_info(i).names, n.output_shape(i));
        }
        for (const auto& body : n.bodies()) {
            KILN_CHECK(body, n.context(), " has a null body");
            auto xml_body = layer.append_child("body");
            xml_body.append_attribute("name").set_value(body->name().c_str());
            GraphWriter sub(weights_, options_);
            sub.write(xml_body, *body);
        }
    }

    // Returns where the constant's value is produced (the Const, or the Convert after it).
    std::pair<int64_t, int64_t> write_const(const Node& n, int64_t id) {
        const Tensor& v = n.value();
        const bool compress = options_.compress_to_fp16 && v.element_type() == ElementType::f32;
        WeightsWriter::Blob blob{0, 0};
        ElementType stored = v.element_type();
        if (v.element_type() == ElementType::string) {
            std::string packed = pack_strings(v);
            blob = weights_.add(packed.data(), packed.size());
        } else if (compress) {
            auto half = to_f16_clamped(v);
            blob = weights_.add(reinterpret_cast<const char*>(half.data()),
                                half.size() * sizeof(float16));
            stored = ElementType::f16;
        } else {
            blob = weights_.add(static_cast<const char*>(v.raw_data()), v.byte_size());
        }
        auto layer =
            begin_layer(id, compress ? n.name() + "_compressed" : n.name(), "Const", n.version());
        auto data = layer.append_child("data");
        data.append_attribute("element_type").set_value(std::string(to_string(stored)).c_str());
        data.append_attribute("shape").set_value(join_ints(v.shape()).c_str());
        data.append_attribute("offset").set_value(static_cast<unsigned long long>(blob.offset));
        data.append_attribute("size").set_value(static_cast<unsigned long long>(blob.size));
        if (!compress) add_layer_rt_info(layer, n.rt_info());
        add_output_port(layer.append_child("output"), 0, stored,
                        compress ? std::set<std::string>{} : n.output_info(0).names, v.shape());
        if (!compress) return {id, 0};

        // The decompression Convert takes the constant's name, names and rt_info.
        const int64_t cid = next_id_++;
        auto conv = begin_layer(cid, n.name(), "Convert", "opset1");
        conv.append_child("data").append_attribute("destination_type").set_value("f32");
        auto rt = n.rt_info();
        rt.emplace("decompression", "");
        add_layer_rt_info(conv, rt);
        auto in = conv.append_child("input").append_child("port");
        in.append_attribute("id").set_value(0);
        in.append_attribute("precision").set_value("FP16");
        add_dims(in, v.shape());
        add_output_port(conv.append_child("output"), 1, ElementType::f32, n.output_info(0).names,
                        v.shape());
        auto e = layers_.parent().child("edges").append_child("edge");
        e.append_attribute("from-layer").set_value(id);
        e.append_attribute("from-port").set_value(0);
        e.append_attribute("to-layer").set_value(cid);
        e.append_attribute("to-port").set_value(0);
        return {cid, 1};
    }

    WeightsWriter& weights_;
    const SaveOptions& options_;
    pugi::xml_node layers_;
    int64_t next_id_ = 0;
};

}  // namespace

void save_model(const Model& model, const std::string& xml_path, const SaveOptions& options) {
    pugi::xml_document doc;
    auto decl = doc.append_child(pugi::node_declaration);
    decl.append_attribute("version").set_value("1.0");
    auto net = doc.append_child("net");
    net.append_attribute("name").set_value(model.name().c_str());
    net.append_attribute("version").set_value(11);
    WeightsWriter weights;
    try {
        GraphWriter(weights, options).write(net, model);
    } catch (const Error& e) {
        KILN_THROW("writing IR '", xml_path, "': ", e.what());
    }
    const std::string bin_path = ir::bin_path_for(xml_path);
    {
        std::ofstream bin(bin_path, std::ios::binary | std::ios::trunc);
        KILN_CHECK(bin, "writing IR: cannot create weights file '", bin_path, "'");
        bin.write(weights.bytes().data(), static_cast<std::streamsize>(weights.bytes().size()));
        KILN_CHECK(bin, "writing IR: failed to write weights file '", bin_path, "'");
    }
    KILN_CHECK(doc.save_file(xml_path.c_str(), "\t", pugi::format_default, pugi::encoding_utf8),
               "writing IR: cannot write '", xml_path, "'");
}

}  // namespace kiln
