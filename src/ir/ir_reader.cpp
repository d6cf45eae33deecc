#include "kiln/ir.hpp"

namespace kiln {
std::shared_ptr<Model> read_ir(const std::string& xml_path, const std::string&) {
    KILN_THROW("reading IR '", xml_path, "' is not available yet");
}
void save_model(const Model&, const std::string& xml_path, const SaveOptions&) {
    KILN_THROW("writing IR '", xml_path, "' is not available yet");
}
}  // namespace kiln
