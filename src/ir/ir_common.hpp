#pragma once
// Helpers shared by the IR reader and writer: spellings OpenVINO uses in IR files.
#include <string>
#include <vector>

#include "kiln/element_type.hpp"

namespace kiln::ir {

/// Port `precision` attribute as OpenVINO writes it ("FP32", "I64", "BOOL", "BIN", ...).
std::string precision_name(ElementType t);

/// Tensor names are joined with ',' in the `names` attribute; a comma inside a name is written
/// as "\," (OpenVINO's escape_delim).
std::string join_names(const std::vector<std::string>& names);
std::vector<std::string> split_names(const std::string& text);

/// OpenVINO IR spells a few op types differently from the op class names.
std::string ir_type_name(const std::string& kiln_type);
/// The other spelling of a type name, or "" when it has none.
std::string alternate_type_name(const std::string& type);

/// The weights file beside an .xml: the extension replaced by .bin.
std::string bin_path_for(const std::string& xml_path);

/// True if `s` can be an XML element name (used for model rt_info keys).
bool is_xml_name(const std::string& s);

}  // namespace kiln::ir
