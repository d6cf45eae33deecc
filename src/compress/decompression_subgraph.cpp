#include "compress/decompression_subgraph.hpp"

namespace kiln::compress {
namespace {

Output convert_to_f32(const std::shared_ptr<Node>& c, const std::string& name) {
    auto conv =
        make_node("Convert", {c->output(0)}, {{"destination_type", std::string("f32")}}, {}, name);
    // Marks the Convert as part of a weight decompression: constant folding leaves it alone and
    // the CPU device fuses the subgraph into the layer's kernel.
    conv->rt_info()["decompression"] = "";
    return conv->output(0);
}

Output binary(const char* type, const Output& a, const Output& b, const std::string& name) {
    return make_node(type, {a, b}, {{"auto_broadcast", std::string("numpy")}}, {}, name)->output(0);
}

}  // namespace

Output build_decompression(const QuantizedWeight& q, int64_t n, int64_t k,
                           const std::string& name) {
    Output x = convert_to_f32(make_constant(q.values, name), name + "/convert");
    if (q.zero_point) {
        const Output zp = convert_to_f32(make_constant(q.zero_point, name + "/zero_point"),
                                         name + "/zero_point/convert");
        x = binary("Subtract", x, zp, name + "/subtract");
    }
    x = binary("Multiply", x, make_constant(q.scale, name + "/scale")->output(0),
               name + "/multiply");
    if (q.values.rank() == 3) {
        const auto shape = make_constant(Tensor::from_vector<int64_t>({n, k}), name + "/shape");
        x = make_node("Reshape", {x, shape->output(0)}, {{"special_zero", false}}, {},
                      name + "/reshape")
                ->output(0);
    }
    return x;
}

}  // namespace kiln::compress
