// main.cf(5) reader: "name = value" logical lines into an ordered list of
// assignments, with the reference's diagnostics (missing '=', a later entry
// overriding an earlier one).
//
// Trust: the file is admin-written but may hold any bytes; nothing here
// crashes or allocates more than a small multiple of the input.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pf::config {

struct Assignment {
    std::string name;
    std::string value;  // trimmed, continuation lines joined as read
    int line;           // first physical line
};

class MainCf {
public:
    // Parses content; diagnostics name origin. A malformed line is fatal, as
    // in the reference.
    // seed holds entries that precede the file (config_directory from -c).
    static MainCf parse(std::string_view content, std::string_view origin, const std::vector<Assignment>& seed = {});
    // Reads path; a file that cannot be read is fatal, as in the reference.
    static MainCf load(const std::string& path, const std::vector<Assignment>& seed = {});

    const std::vector<Assignment>& entries() const { return entries_; }  // last wins, in file order
    const std::string* find(std::string_view name) const;
    void set(std::string_view name, std::string value);

private:
    std::vector<Assignment> entries_;
    std::map<std::string, size_t, std::less<>> index_;
};

// Splits "name = value"; nullopt with a reason when malformed.
struct NameValue {
    std::string name;
    std::string value;
};
std::optional<NameValue> split_name_value(std::string_view text, std::string& error);

}  // namespace pf::config
