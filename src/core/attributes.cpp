#include "kiln/attributes.hpp"

#include <charconv>
#include <cmath>
#include <cstdlib>

#include "kiln/error.hpp"

namespace kiln {
namespace {

std::vector<std::string> split_commas(const std::string& s) {
    std::vector<std::string> out;
    if (s.empty()) return out;
    size_t start = 0;
    while (true) {
        size_t pos = s.find(',', start);
        std::string item = s.substr(start, pos == std::string::npos ? std::string::npos : pos - start);
        // IR files written by other tools may put spaces after commas.
        size_t b = item.find_first_not_of(' '), e = item.find_last_not_of(' ');
        out.push_back(b == std::string::npos ? std::string() : item.substr(b, e - b + 1));
        if (pos == std::string::npos) break;
        start = pos + 1;
    }
    return out;
}

int64_t parse_int(const std::string& name, const std::string& s) {
    int64_t v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec == std::errc() && p == s.data() + s.size()) return v;
    if (s == "true") return 1;
    if (s == "false") return 0;
    // Some IR writers spell integer attributes as floats ("1.0"); accept exact integers only.
    char* end = nullptr;
    const double d = std::strtod(s.c_str(), &end);
    if (!s.empty() && end == s.c_str() + s.size() && std::isfinite(d) && d == std::floor(d) &&
        std::fabs(d) < 9.0e18)
        return static_cast<int64_t>(d);
    KILN_THROW("attribute '", name, "': '", s, "' is not an integer");
}

double parse_float(const std::string& name, const std::string& s) {
    if (s == "inf" || s == "+inf") return INFINITY;
    if (s == "-inf") return -INFINITY;
    if (s == "nan" || s == "-nan") return NAN;
    char* end = nullptr;
    double v = std::strtod(s.c_str(), &end);
    KILN_CHECK(!s.empty() && end == s.c_str() + s.size(), "attribute '", name, "': '", s,
               "' is not a number");
    return v;
}

std::string float_text(double v) {
    if (std::isnan(v)) return "nan";
    if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
    char buf[64];
    auto [p, ec] = std::to_chars(buf, buf + sizeof buf, v);
    return std::string(buf, p);
}

[[noreturn]] void wrong_kind(const std::string& name, const char* want) {
    KILN_THROW("attribute '", name, "' is not ", want);
}

}  // namespace

std::string attr_to_string(const AttrValue& v) {
    struct Visitor {
        std::string operator()(bool b) const { return b ? "true" : "false"; }
        std::string operator()(int64_t i) const { return std::to_string(i); }
        std::string operator()(double d) const { return float_text(d); }
        std::string operator()(const std::string& s) const { return s; }
        std::string operator()(const std::vector<int64_t>& v) const {
            std::string s;
            for (size_t i = 0; i < v.size(); ++i) s += (i ? "," : "") + std::to_string(v[i]);
            return s;
        }
        std::string operator()(const std::vector<double>& v) const {
            std::string s;
            for (size_t i = 0; i < v.size(); ++i) s += (i ? "," : "") + float_text(v[i]);
            return s;
        }
        std::string operator()(const std::vector<std::string>& v) const {
            std::string s;
            for (size_t i = 0; i < v.size(); ++i) s += (i ? "," : "") + v[i];
            return s;
        }
    };
    return std::visit(Visitor{}, v);
}

bool Attributes::has(const std::string& name) const { return find(name) != nullptr; }

const AttrValue* Attributes::find(const std::string& name) const {
    for (const auto& [k, v] : items_)
        if (k == name) return &v;
    return nullptr;
}

void Attributes::set(const std::string& name, AttrValue v) {
    for (auto& [k, old] : items_) {
        if (k == name) {
            old = std::move(v);
            return;
        }
    }
    items_.emplace_back(name, std::move(v));
}

void Attributes::erase(const std::string& name) {
    for (auto it = items_.begin(); it != items_.end(); ++it) {
        if (it->first == name) {
            items_.erase(it);
            return;
        }
    }
}

bool Attributes::operator==(const Attributes& o) const {
    if (items_.size() != o.items_.size()) return false;
    for (const auto& [k, v] : items_) {
        const AttrValue* ov = o.find(k);
        if (!ov || attr_to_string(v) != attr_to_string(*ov)) return false;
    }
    return true;
}

int64_t Attributes::get_int(const std::string& name) const {
    const AttrValue* v = find(name);
    KILN_CHECK(v, "missing attribute '", name, "'");
    if (auto p = std::get_if<int64_t>(v)) return *p;
    if (auto p = std::get_if<bool>(v)) return *p;
    if (auto p = std::get_if<double>(v)) return static_cast<int64_t>(*p);
    if (auto p = std::get_if<std::string>(v)) return parse_int(name, *p);
    wrong_kind(name, "an integer");
}
int64_t Attributes::get_int(const std::string& name, int64_t dflt) const {
    return has(name) ? get_int(name) : dflt;
}

double Attributes::get_float(const std::string& name) const {
    const AttrValue* v = find(name);
    KILN_CHECK(v, "missing attribute '", name, "'");
    if (auto p = std::get_if<double>(v)) return *p;
    if (auto p = std::get_if<int64_t>(v)) return static_cast<double>(*p);
    if (auto p = std::get_if<std::string>(v)) return parse_float(name, *p);
    wrong_kind(name, "a number");
}
double Attributes::get_float(const std::string& name, double dflt) const {
    return has(name) ? get_float(name) : dflt;
}

bool Attributes::get_bool(const std::string& name) const {
    const AttrValue* v = find(name);
    KILN_CHECK(v, "missing attribute '", name, "'");
    if (auto p = std::get_if<bool>(v)) return *p;
    if (auto p = std::get_if<int64_t>(v)) return *p != 0;
    if (auto p = std::get_if<std::string>(v)) {
        if (*p == "true" || *p == "True" || *p == "1") return true;
        if (*p == "false" || *p == "False" || *p == "0") return false;
    }
    wrong_kind(name, "a boolean");
}
bool Attributes::get_bool(const std::string& name, bool dflt) const {
    return has(name) ? get_bool(name) : dflt;
}

std::string Attributes::get_string(const std::string& name) const {
    const AttrValue* v = find(name);
    KILN_CHECK(v, "missing attribute '", name, "'");
    if (auto p = std::get_if<std::string>(v)) return *p;
    return attr_to_string(*v);
}
std::string Attributes::get_string(const std::string& name, const std::string& dflt) const {
    return has(name) ? get_string(name) : dflt;
}

std::vector<int64_t> Attributes::get_ints(const std::string& name) const {
    const AttrValue* v = find(name);
    KILN_CHECK(v, "missing attribute '", name, "'");
    if (auto p = std::get_if<std::vector<int64_t>>(v)) return *p;
    if (auto p = std::get_if<int64_t>(v)) return {*p};
    if (auto p = std::get_if<std::vector<double>>(v)) {
        std::vector<int64_t> out;
        for (double d : *p) out.push_back(static_cast<int64_t>(d));
        return out;
    }
    if (auto p = std::get_if<std::string>(v)) {
        std::vector<int64_t> out;
        for (const auto& s : split_commas(*p)) out.push_back(parse_int(name, s));
        return out;
    }
    wrong_kind(name, "a list of integers");
}
std::vector<int64_t> Attributes::get_ints(const std::string& name,
                                          const std::vector<int64_t>& dflt) const {
    return has(name) ? get_ints(name) : dflt;
}

std::vector<double> Attributes::get_floats(const std::string& name) const {
    const AttrValue* v = find(name);
    KILN_CHECK(v, "missing attribute '", name, "'");
    if (auto p = std::get_if<std::vector<double>>(v)) return *p;
    if (auto p = std::get_if<double>(v)) return {*p};
    if (auto p = std::get_if<std::vector<int64_t>>(v)) return {p->begin(), p->end()};
    if (auto p = std::get_if<std::string>(v)) {
        std::vector<double> out;
        for (const auto& s : split_commas(*p)) out.push_back(parse_float(name, s));
        return out;
    }
    wrong_kind(name, "a list of numbers");
}
std::vector<double> Attributes::get_floats(const std::string& name,
                                           const std::vector<double>& dflt) const {
    return has(name) ? get_floats(name) : dflt;
}

std::vector<std::string> Attributes::get_strings(const std::string& name) const {
    const AttrValue* v = find(name);
    KILN_CHECK(v, "missing attribute '", name, "'");
    if (auto p = std::get_if<std::vector<std::string>>(v)) return *p;
    if (auto p = std::get_if<std::string>(v)) return split_commas(*p);
    wrong_kind(name, "a list of strings");
}

}  // namespace kiln
