// read_ir: builds a Model from an OpenVINO IR v10/v11 .xml and its memory-mapped .bin.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <charconv>
#include <cstring>
#include <deque>
#include <filesystem>
#include <limits>
#include <map>
#include <pugixml.hpp>

#include "ir/ir_common.hpp"
#include "kiln/ir.hpp"
#include "ops/op_list.hpp"

namespace kiln {
namespace {

// A read-only private mapping of a whole file; constants view it in place.
class MappedFile {
  public:
    explicit MappedFile(const std::string& path) {
        int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
        KILN_CHECK(fd >= 0, "cannot open weights file '", path, "': ", std::strerror(errno));
        struct stat st {};
        if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
            ::close(fd);
            KILN_THROW("weights file '", path, "' is not a regular file");
        }
        size_ = static_cast<size_t>(st.st_size);
        if (size_ > 0) {
            void* p = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd, 0);
            if (p == MAP_FAILED) {
                ::close(fd);
                KILN_THROW("cannot map weights file '", path, "': ", std::strerror(errno));
            }
            addr_ = p;
        }
        ::close(fd);
    }
    ~MappedFile() {
        if (addr_) ::munmap(addr_, size_);
    }
    MappedFile(const MappedFile&) = delete;
    MappedFile& operator=(const MappedFile&) = delete;
    const char* data() const { return static_cast<const char*>(addr_); }
    size_t size() const { return size_; }

  private:
    void* addr_ = nullptr;
    size_t size_ = 0;
};

struct Layer {
    pugi::xml_node xml;
    std::string id, name, type;
    std::vector<int64_t> in_ports, out_ports;          // port ids, in document order
    std::vector<std::pair<size_t, size_t>> producers;  // per input: (layer, output index)
    std::vector<bool> connected;
    std::vector<size_t> consumers;  // one entry per outgoing edge
    std::shared_ptr<Node> node;
};

std::string describe(const Layer& l) {
    return str_cat("layer id=", l.id, " name='", l.name, "' type='", l.type, "'");
}

// Shared state of one read_ir call: the file names and the lazily mapped weights.
struct ReadContext {
    std::string xml_path;
    std::string bin_path;
    std::shared_ptr<MappedFile> bin;

    const std::shared_ptr<MappedFile>& weights() {
        if (!bin) bin = std::make_shared<MappedFile>(bin_path);
        return bin;
    }
};

bool parse_i64(const std::string& s, int64_t& out) {
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return ec == std::errc() && p == s.data() + s.size() && !s.empty();
}

class GraphReader {
  public:
    GraphReader(ReadContext& ctx, std::string scope) : ctx_(ctx), scope_(std::move(scope)) {}

    std::shared_ptr<Model> read(pugi::xml_node graph, const std::string& model_name) {
        auto layers_xml = graph.child("layers");
        if (!layers_xml) fail("has no <layers> element");
        for (auto lx : layers_xml.children("layer")) add_layer(lx);
        auto edges_xml = graph.child("edges");
        if (!edges_xml && layers_.size() > 1) fail("has no <edges> element");
        for (auto ex : edges_xml.children("edge")) add_edge(ex);
        for (auto& l : layers_) {
            for (size_t i = 0; i < l.in_ports.size(); ++i)
                if (!l.connected[i])
                    fail(describe(l), ": input port ", l.in_ports[i], " has no incoming edge");
        }
        build_in_topological_order();

        std::vector<std::shared_ptr<Node>> params, results, sinks;
        for (auto& l : layers_) {
            if (l.type == "Parameter")
                params.push_back(l.node);
            else if (l.type == "Result")
                results.push_back(l.node);
            // Assign, and any other node nothing consumes, must still run: a sink.
            else if (l.type == "Assign" || l.consumers.empty())
                sinks.push_back(l.node);
        }
        std::shared_ptr<Model> model;
        try {
            model = std::make_shared<Model>(results, params, sinks, model_name);
        } catch (const Error& e) {
            fail(e.what());
        }
        read_model_rt_info(graph.child("rt_info"), "", model->rt_info());
        return model;
    }

  private:
    template <class... Args>
    [[noreturn]] void fail(const Args&... args) const {
        KILN_THROW("IR '", ctx_.xml_path, "': ", scope_, args...);
    }

    std::string attr(pugi::xml_node n, const char* name, const std::string& where) const {
        auto a = n.attribute(name);
        if (!a) fail(where, ": missing attribute '", name, "'");
        return a.value();
    }
    int64_t int_attr(pugi::xml_node n, const char* name, const std::string& where) const {
        std::string s = attr(n, name, where);
        int64_t v = 0;
        if (!parse_i64(s, v)) fail(where, ": attribute ", name, "='", s, "' is not an integer");
        return v;
    }

    void add_layer(pugi::xml_node lx) {
        Layer l;
        l.xml = lx;
        l.name = lx.attribute("name").value();
        l.id = attr(lx, "id", str_cat("layer '", l.name, "'"));
        l.type = attr(lx, "type", str_cat("layer id=", l.id, " name='", l.name, "'"));
        if (index_.count(l.id)) fail(describe(l), ": duplicate layer id");
        for (auto p : lx.child("input").children("port"))
            l.in_ports.push_back(int_attr(p, "id", describe(l) + " input port"));
        for (auto p : lx.child("output").children("port"))
            l.out_ports.push_back(int_attr(p, "id", describe(l) + " output port"));
        l.producers.resize(l.in_ports.size());
        l.connected.resize(l.in_ports.size(), false);
        index_[l.id] = layers_.size();
        layers_.push_back(std::move(l));
    }

    void add_edge(pugi::xml_node ex) {
        const std::string from = attr(ex, "from-layer", "edge"), to = attr(ex, "to-layer", "edge");
        const int64_t from_port = int_attr(ex, "from-port", "edge");
        const int64_t to_port = int_attr(ex, "to-port", "edge");
        const std::string what = str_cat("edge ", from, ":", from_port, " -> ", to, ":", to_port);
        auto fi = index_.find(from), ti = index_.find(to);
        if (fi == index_.end()) fail(what, ": there is no layer with id ", from);
        if (ti == index_.end()) fail(what, ": there is no layer with id ", to);
        Layer& src = layers_[fi->second];
        Layer& dst = layers_[ti->second];
        auto out_it = std::find(src.out_ports.begin(), src.out_ports.end(), from_port);
        if (out_it == src.out_ports.end())
            fail(what, ": ", describe(src), " has no output port ", from_port);
        auto in_it = std::find(dst.in_ports.begin(), dst.in_ports.end(), to_port);
        if (in_it == dst.in_ports.end())
            fail(what, ": ", describe(dst), " has no input port ", to_port);
        const size_t in_index = static_cast<size_t>(in_it - dst.in_ports.begin());
        if (dst.connected[in_index])
            fail(what, ": ", describe(dst), " input port ", to_port, " has two incoming edges");
        dst.connected[in_index] = true;
        dst.producers[in_index] = {fi->second, static_cast<size_t>(out_it - src.out_ports.begin())};
        src.consumers.push_back(ti->second);
    }

    void build_in_topological_order() {
        std::vector<size_t> pending(layers_.size());
        std::deque<size_t> ready;
        for (size_t i = 0; i < layers_.size(); ++i) {
            pending[i] = layers_[i].in_ports.size();
            if (pending[i] == 0) ready.push_back(i);
        }
        size_t built = 0;
        while (!ready.empty()) {
            const size_t i = ready.front();
            ready.pop_front();
            build_node(layers_[i]);
            ++built;
            for (size_t c : layers_[i].consumers)
                if (--pending[c] == 0) ready.push_back(c);
        }
        if (built == layers_.size()) return;
        for (size_t i = 0; i < layers_.size(); ++i)
            if (pending[i] != 0) fail(describe(layers_[i]), ": the edges form a cycle through it");
    }

    void build_node(Layer& l) {
        OutputVector inputs;
        for (const auto& [pl, po] : l.producers) {
            const Layer& p = layers_[pl];
            if (po >= p.node->output_count())
                fail(describe(l), ": input comes from output ", po, " of ", describe(p),
                     " which has only ", p.node->output_count(), " outputs");
            inputs.push_back(p.node->output(po));
        }
        auto data = l.xml.child("data");
        try {
            if (l.type == "Parameter") {
                l.node = make_parameter_node(l, data);
            } else if (l.type == "Const") {
                l.node = make_constant(read_constant(l, data), l.name);
            } else {
                Attributes attrs;
                for (auto a : data.attributes()) attrs.set(a.name(), std::string(a.value()));
                std::vector<std::shared_ptr<Model>> bodies;
                size_t b = 0;
                for (auto child : l.xml.children()) {
                    std::string tag = child.name();
                    if (tag == "body" || (tag.size() > 5 && tag.ends_with("_body")) ||
                        (tag.rfind("body", 0) == 0 && tag.size() > 4 &&
                         std::isdigit(static_cast<unsigned char>(tag[4])))) {
                        GraphReader sub(ctx_,
                                        str_cat(scope_, "body ", b++, " of ", describe(l), ": "));
                        const char* body_name = child.attribute("name").value();
                        bodies.push_back(sub.read(child, *body_name ? body_name : tag));
                    }
                }
                std::string type = l.type;
                if (!op_registry().find(type)) {
                    std::string alt = ir::alternate_type_name(type);
                    if (!alt.empty() && op_registry().find(alt)) type = alt;
                }
                if (!op_registry().find(type))
                    fail(describe(l), ": unknown operation type '", l.type, "'");
                l.node = make_node(type, inputs, attrs, bodies, l.name);
            }
        } catch (const Error& e) {
            std::string msg = e.what();
            // Errors from nested bodies already carry the file and the path to them.
            if (msg.rfind("IR '", 0) == 0) throw;
            fail(describe(l), ": ", msg);
        }
        if (l.out_ports.size() > l.node->output_count())
            fail(describe(l), ": the file lists ", l.out_ports.size(),
                 " output ports but the op has ", l.node->output_count());
        size_t i = 0;
        for (auto p : l.xml.child("output").children("port")) {
            for (auto& n : ir::split_names(p.attribute("names").value()))
                l.node->output_info(i).names.insert(n);
            ++i;
        }
        for (auto a : l.xml.child("rt_info").children()) {
            std::string key = a.attribute("name") ? a.attribute("name").value() : a.name();
            l.node->rt_info()[key] = a.attribute("value").value();
        }
    }

    // Element type and shape of a Parameter/Const: the data attributes, or for older files the
    // output port's precision and dims.
    ElementType port_type(const Layer& l, pugi::xml_node data) const {
        std::string t = data.attribute("element_type").value();
        if (t.empty()) t = l.xml.child("output").child("port").attribute("precision").value();
        if (t.empty()) fail(describe(l), ": no element_type");
        return element_type_from_string(t);
    }
    PartialShape port_shape(const Layer& l, pugi::xml_node data) const {
        if (data.attribute("shape")) return parse_partial_shape(data.attribute("shape").value());
        std::vector<Dimension> dims;
        for (auto d : l.xml.child("output").child("port").children("dim")) {
            int64_t v = 0;
            if (!parse_i64(d.text().get(), v)) v = -1;
            dims.emplace_back(v);
        }
        return PartialShape(dims);
    }

    std::shared_ptr<Node> make_parameter_node(const Layer& l, pugi::xml_node data) {
        auto node = make_parameter(port_type(l, data), port_shape(l, data), l.name);
        for (auto a : data.attributes()) {
            std::string k = a.name();
            if (k != "element_type" && k != "shape") node->attrs().set(k, std::string(a.value()));
        }
        return node;
    }

    Tensor read_constant(const Layer& l, pugi::xml_node data);

    ReadContext& ctx_;
    std::string scope_;
    std::vector<Layer> layers_;
    std::map<std::string, size_t> index_;

  public:
    static void read_model_rt_info(pugi::xml_node node, const std::string& prefix,
                                   std::map<std::string, std::string>& out) {
        for (auto c : node.children()) {
            if (c.type() != pugi::node_element) continue;
            std::string key = std::string(c.name()) == "info" && c.attribute("name")
                                  ? c.attribute("name").value()
                                  : c.name();
            key = prefix + key;
            if (c.attribute("value")) out[key] = c.attribute("value").value();
            read_model_rt_info(c, key + "/", out);
        }
    }
};

Tensor GraphReader::read_constant(const Layer& l, pugi::xml_node data) {
    const ElementType type = port_type(l, data);
    const PartialShape ps = port_shape(l, data);
    if (!ps.is_static()) fail(describe(l), ": constant shape ", to_string(ps), " is not static");
    const Shape shape = ps.to_shape();
    if (type == ElementType::undefined || type == ElementType::dynamic)
        fail(describe(l), ": constant has element type ", to_string(type));
    uint64_t count = 1;
    for (int64_t d : shape) {
        if (d != 0 && count > (uint64_t{1} << 48) / static_cast<uint64_t>(d))
            fail(describe(l), ": constant shape ", to_string(shape), " is too large");
        count *= static_cast<uint64_t>(d);
    }
    const int64_t offset = int_attr(data, "offset", describe(l));
    const int64_t size = int_attr(data, "size", describe(l));
    if (offset < 0 || size < 0) fail(describe(l), ": negative offset or size");
    // OpenVINO writes empty constants with a 1-byte placeholder; their bytes are never read.
    if (count == 0) return Tensor(type, shape);
    if (type != ElementType::string && static_cast<uint64_t>(size) != byte_size(type, count))
        fail(describe(l), ": size=", size, " does not match ", to_string(type), to_string(shape),
             " (", byte_size(type, count), " bytes)");
    std::shared_ptr<MappedFile> bin;
    try {
        bin = ctx_.weights();
    } catch (const Error& e) {
        fail(describe(l), ": ", e.what());
    }
    const auto uoff = static_cast<uint64_t>(offset), usize = static_cast<uint64_t>(size);
    if (uoff > bin->size() || usize > bin->size() - uoff)
        fail(describe(l), ": weights file '", ctx_.bin_path,
             "' is too short: the constant needs bytes [", offset, ", ", uoff + usize,
             ") but the file has ", bin->size(), " bytes");
    const char* ptr = bin->data() + uoff;

    if (type == ElementType::string) {
        // Packed layout: i32 count, i32 offsets[count + 1], characters.
        auto read_i32 = [&](uint64_t i) {
            int32_t v;
            std::memcpy(&v, ptr + 4 * i, 4);
            return v;
        };
        if (usize < 8 || static_cast<uint64_t>(read_i32(0)) != count || usize < 4 * (count + 2))
            fail(describe(l), ": malformed packed string constant (size ", size, ", ", count,
                 " strings expected)");
        const uint64_t chars_at = 4 * (count + 2), chars_len = usize - chars_at;
        Tensor t(type, shape);
        auto* out = t.data<std::string>();
        for (uint64_t i = 0; i < count; ++i) {
            const int32_t b = read_i32(1 + i), e = read_i32(2 + i);
            if (b < 0 || e < b || static_cast<uint64_t>(e) > chars_len)
                fail(describe(l), ": malformed packed string constant (bad offsets of string ", i,
                     ")");
            out[i].assign(ptr + chars_at + b, static_cast<size_t>(e - b));
        }
        return t;
    }
    const size_t bits = bit_width(type);
    const size_t align = bits >= 8 ? bits / 8 : 1;
    bool copy = reinterpret_cast<uintptr_t>(ptr) % align != 0;
    if (type == ElementType::boolean) {
        // A bool object holding anything but 0 or 1 is undefined behavior: normalize a copy.
        for (uint64_t i = 0; i < usize && !copy; ++i) copy = static_cast<unsigned char>(ptr[i]) > 1;
        if (copy) {
            Tensor t(type, shape);
            auto* out = static_cast<unsigned char*>(t.raw_data());
            for (uint64_t i = 0; i < usize; ++i) out[i] = ptr[i] != 0;
            return t;
        }
    }
    if (copy) {
        Tensor t(type, shape);
        std::memcpy(t.raw_data(), ptr, usize);
        return t;
    }
    return Tensor(type, shape, const_cast<char*>(ptr), bin);
}

}  // namespace

std::shared_ptr<Model> read_ir(const std::string& xml_path, const std::string& bin_path) {
    ReadContext ctx;
    ctx.xml_path = xml_path;
    ctx.bin_path = bin_path.empty() ? ir::bin_path_for(xml_path) : bin_path;
    pugi::xml_document doc;
    // Attribute text must come back exactly: no whitespace normalization of tabs and newlines.
    pugi::xml_parse_result res =
        doc.load_file(xml_path.c_str(), pugi::parse_default & ~pugi::parse_wconv_attribute);
    if (res.status == pugi::status_file_not_found || res.status == pugi::status_io_error)
        KILN_THROW("IR '", xml_path, "': cannot read the file");
    if (!res)
        KILN_THROW("IR '", xml_path, "': malformed XML at byte ", res.offset, ": ",
                   res.description());
    auto net = doc.child("net");
    if (!net) KILN_THROW("IR '", xml_path, "': no <net> root element");
    int64_t version = 0;
    if (!parse_i64(net.attribute("version").value(), version) || version < 10 || version > 11)
        KILN_THROW("IR '", xml_path, "': unsupported IR version '",
                   net.attribute("version").value(), "' (Kiln reads versions 10 and 11)");
    GraphReader reader(ctx, "");
    return reader.read(net, net.attribute("name").value());
}

std::string ir_in_folder(const std::string& folder) {
    for (const char* name : {"model.xml", "openvino_model.xml"}) {
        const std::filesystem::path ir = std::filesystem::path(folder) / name;
        if (std::filesystem::is_regular_file(ir)) return ir.string();
    }
    return {};
}

}  // namespace kiln
