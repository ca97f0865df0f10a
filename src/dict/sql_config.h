// The configuration file of an SQL table (mysql:/path; later pgsql, sqlite):
// main.cf syntax ("name = value", '#' comment lines, continuation lines that
// start with white space), read once at open. Accessors check values as the
// reference's cfg_get_* do and report its wording ("<file>: bad string length
// 0 < 1: dbname = ", "bad numerical configuration", "bad boolean
// configuration").
#pragma once

#include <expected>
#include <map>
#include <optional>
#include <string>

namespace pf::dict {

class SqlConfig {
public:
    static std::expected<SqlConfig, std::string> load(const std::string& path);

    const std::string& name() const { return path_; }
    std::optional<std::string> raw(const std::string& key) const;
    // min/max: length bounds (0 = none); failing: the whole fatal text.
    std::expected<std::string, std::string> get_str(const std::string& key, const std::string& def, size_t min,
                                                    size_t max) const;
    std::expected<int, std::string> get_int(const std::string& key, int def, int min, int max) const;
    std::expected<bool, std::string> get_bool(const std::string& key, bool def) const;

private:
    std::string path_;
    std::map<std::string, std::string> values_;
};

}  // namespace pf::dict
