#pragma once
/// \file Operation attributes: an ordered name -> value map. Values read from IR files arrive as
/// strings and are parsed on access, so every attribute round-trips through IR text exactly.
#include <cstdint>
#include <initializer_list>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace kiln {

using AttrValue = std::variant<bool, int64_t, double, std::string, std::vector<int64_t>,
                               std::vector<double>, std::vector<std::string>>;

class Attributes {
public:
    Attributes() = default;
    Attributes(std::initializer_list<std::pair<std::string, AttrValue>> init) {
        for (const auto& [k, v] : init) set(k, v);
    }
    bool has(const std::string& name) const;
    void set(const std::string& name, AttrValue v);
    void erase(const std::string& name);
    const AttrValue* find(const std::string& name) const;

    int64_t get_int(const std::string& name) const;
    int64_t get_int(const std::string& name, int64_t dflt) const;
    double get_float(const std::string& name) const;
    double get_float(const std::string& name, double dflt) const;
    bool get_bool(const std::string& name) const;
    bool get_bool(const std::string& name, bool dflt) const;
    std::string get_string(const std::string& name) const;
    std::string get_string(const std::string& name, const std::string& dflt) const;
    std::vector<int64_t> get_ints(const std::string& name) const;
    std::vector<int64_t> get_ints(const std::string& name, const std::vector<int64_t>& dflt) const;
    std::vector<double> get_floats(const std::string& name) const;
    std::vector<double> get_floats(const std::string& name, const std::vector<double>& dflt) const;
    std::vector<std::string> get_strings(const std::string& name) const;

    const std::vector<std::pair<std::string, AttrValue>>& items() const { return items_; }
    bool empty() const { return items_.empty(); }
    bool operator==(const Attributes& o) const;

private:
    std::vector<std::pair<std::string, AttrValue>> items_;
};

/// Text form used in IR files: "1,2,3", "true", shortest round-trip decimal for floats.
std::string attr_to_string(const AttrValue& v);

}  // namespace kiln
