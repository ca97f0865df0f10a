#include "dict/sql_config.h"

#include <fmt/core.h>

#include <cerrno>
#include <cstring>
#include <strings.h>
#include <fstream>
#include <sstream>

namespace pf::dict {
namespace {

std::string trim(const std::string& s) {
    size_t b = s.find_first_not_of(" \t\r\n");
    if (b == std::string::npos) return {};
    size_t e = s.find_last_not_of(" \t\r\n");
    return s.substr(b, e - b + 1);
}

void store(std::map<std::string, std::string>& values, const std::string& logical) {
    std::string line = trim(logical);
    if (line.empty()) return;
    size_t eq = line.find('=');
    if (eq == std::string::npos) return;
    std::string key = trim(line.substr(0, eq));
    std::string value = trim(line.substr(eq + 1));
    if (!key.empty()) values[key] = value;
}

}  // namespace

std::expected<SqlConfig, std::string> SqlConfig::load(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return std::unexpected(fmt::format("open {}: {}", path, std::strerror(errno)));
    SqlConfig cfg;
    cfg.path_ = path;
    std::string line, logical;
    bool have = false;
    while (std::getline(in, line)) {
        std::string t = trim(line);
        if (t.empty() || t[0] == '#') continue;
        if (line[0] == ' ' || line[0] == '\t') {
            if (have) logical += line;  // joined as is: the reference keeps the indentation
            continue;
        }
        if (have) store(cfg.values_, logical);
        logical = line;
        have = true;
    }
    if (have) store(cfg.values_, logical);
    return cfg;
}

std::optional<std::string> SqlConfig::raw(const std::string& key) const {
    auto it = values_.find(key);
    if (it == values_.end()) return std::nullopt;
    return it->second;
}

std::expected<std::string, std::string> SqlConfig::get_str(const std::string& key, const std::string& def, size_t min,
                                                           size_t max) const {
    std::string v = raw(key).value_or(def);
    if (min && v.size() < min)
        return std::unexpected(fmt::format("{}: bad string length {} < {}: {} = {}", path_, v.size(), min, key, v));
    if (max && v.size() > max)
        return std::unexpected(fmt::format("{}: bad string length {} > {}: {} = {}", path_, v.size(), max, key, v));
    return v;
}

std::expected<int, std::string> SqlConfig::get_int(const std::string& key, int def, int min, int max) const {
    auto r = raw(key);
    if (!r) return def;
    char* end = nullptr;
    errno = 0;
    long v = std::strtol(r->c_str(), &end, 10);
    if (r->empty() || *end != 0 || errno)
        return std::unexpected(fmt::format("{}: bad numerical configuration: {} = {}", path_, key, *r));
    if (min && v < min)
        return std::unexpected(fmt::format("{}: invalid {} parameter value {} < {}", path_, key, v, min));
    if (max && v > max)
        return std::unexpected(fmt::format("{}: invalid {} parameter value {} > {}", path_, key, v, max));
    return static_cast<int>(v);
}

std::expected<bool, std::string> SqlConfig::get_bool(const std::string& key, bool def) const {
    auto r = raw(key);
    if (!r) return def;
    if (strcasecmp(r->c_str(), "yes") == 0) return true;
    if (strcasecmp(r->c_str(), "no") == 0) return false;
    return std::unexpected(fmt::format("{}: bad boolean configuration: {} = {}", path_, key, *r));
}

}  // namespace pf::dict
