#include "ir/ir_common.hpp"

#include <cctype>
#include <map>

namespace kiln::ir {

std::string precision_name(ElementType t) {
    switch (t) {
        case ElementType::undefined:
        case ElementType::dynamic:
            return "UNSPECIFIED";
        case ElementType::boolean:
            return "BOOL";
        case ElementType::f16:
            return "FP16";
        case ElementType::bf16:
            return "BF16";
        case ElementType::f32:
            return "FP32";
        case ElementType::f64:
            return "FP64";
        case ElementType::i4:
            return "I4";
        case ElementType::u4:
            return "U4";
        case ElementType::u1:
            return "BIN";
        case ElementType::i8:
            return "I8";
        case ElementType::u8:
            return "U8";
        case ElementType::i16:
            return "I16";
        case ElementType::u16:
            return "U16";
        case ElementType::i32:
            return "I32";
        case ElementType::u32:
            return "U32";
        case ElementType::i64:
            return "I64";
        case ElementType::u64:
            return "U64";
        case ElementType::string:
            return "STRING";
    }
    return "UNSPECIFIED";
}

std::string join_names(const std::vector<std::string>& names) {
    std::string out;
    for (const auto& n : names) {
        if (!out.empty()) out += ',';
        for (char c : n) {
            if (c == ',') out += '\\';
            out += c;
        }
    }
    return out;
}

std::vector<std::string> split_names(const std::string& text) {
    std::vector<std::string> out;
    std::string cur;
    auto flush = [&] {
        // OpenVINO tolerates spaces after the separating commas.
        size_t b = cur.find_first_not_of(' '), e = cur.find_last_not_of(' ');
        if (b != std::string::npos) out.push_back(cur.substr(b, e - b + 1));
        cur.clear();
    };
    for (size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '\\' && i + 1 < text.size() && text[i + 1] == ',') {
            cur += ',';
            ++i;
        } else if (text[i] == ',') {
            flush();
        } else {
            cur += text[i];
        }
    }
    flush();
    return out;
}

namespace {
const std::map<std::string, std::string>& ir_spellings() {
    static const std::map<std::string, std::string> m = {
        {"Relu", "ReLU"}, {"PRelu", "PReLU"}, {"Softmax", "SoftMax"}, {"Constant", "Const"}};
    return m;
}
}  // namespace

std::string ir_type_name(const std::string& kiln_type) {
    auto it = ir_spellings().find(kiln_type);
    return it == ir_spellings().end() ? kiln_type : it->second;
}

std::string alternate_type_name(const std::string& type) {
    for (const auto& [a, b] : ir_spellings()) {
        if (type == a) return b;
        if (type == b) return a;
    }
    return "";
}

std::string bin_path_for(const std::string& xml_path) {
    const size_t dot = xml_path.find_last_of('.');
    const size_t slash = xml_path.find_last_of('/');
    if (dot == std::string::npos || (slash != std::string::npos && dot < slash))
        return xml_path + ".bin";
    return xml_path.substr(0, dot) + ".bin";
}

bool is_xml_name(const std::string& s) {
    if (s.empty()) return false;
    auto start_ok = [](unsigned char c) { return std::isalpha(c) || c == '_'; };
    if (!start_ok(static_cast<unsigned char>(s[0]))) return false;
    if (s.size() >= 3 && (s[0] == 'x' || s[0] == 'X') && (s[1] == 'm' || s[1] == 'M') &&
        (s[2] == 'l' || s[2] == 'L'))
        return false;
    for (unsigned char c : s)
        if (!(std::isalnum(c) || c == '_' || c == '-' || c == '.')) return false;
    return true;
}

}  // namespace kiln::ir
