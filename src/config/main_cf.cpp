// main.cf reader; see main_cf.h.
#include "config/main_cf.h"

#include "config/logical_lines.h"
#include "util/msg.h"
#include "util/strings.h"

#include <cerrno>
#include <cstring>

namespace pf::config {

std::optional<NameValue> split_name_value(std::string_view text, std::string& error) {
    std::string_view s = util::trim_left(text);
    size_t end = 0;
    while (end < s.size() && !util::is_space(s[end]) && s[end] != '=') ++end;
    std::string_view name = s.substr(0, end);
    std::string_view rest = util::trim_left(s.substr(end));
    if (name.empty()) {
        error = "missing attribute name";
        return std::nullopt;
    }
    if (rest.empty() || rest.front() != '=') {
        error = "missing '=' after attribute name";
        return std::nullopt;
    }
    return NameValue{std::string(name), std::string(util::trim(rest.substr(1)))};
}

MainCf MainCf::parse(std::string_view content, std::string_view origin, const std::vector<Assignment>& seed) {
    MainCf cf;
    for (const auto& a : seed) cf.set(a.name, a.value);
    for (const auto& line : read_logical_lines(content, origin)) {
        std::string error;
        auto nv = split_name_value(line.text, error);
        if (!nv) util::msg_fatal("{}, line {}: {}: \"{}\"", origin, line.first_line, error, line.text);
        auto it = cf.index_.find(nv->name);
        if (it != cf.index_.end()) {
            auto& old = cf.entries_[it->second];
            if (old.value != nv->value)
                util::msg_warn("{}, line {}: overriding earlier entry: {}={}", origin, line.first_line, old.name,
                           old.value);
            cf.entries_.erase(cf.entries_.begin() + static_cast<long>(it->second));
            cf.index_.clear();
            for (size_t i = 0; i < cf.entries_.size(); ++i) cf.index_[cf.entries_[i].name] = i;
        }
        cf.index_[nv->name] = cf.entries_.size();
        cf.entries_.push_back(Assignment{std::move(nv->name), std::move(nv->value), line.first_line});
    }
    return cf;
}

MainCf MainCf::load(const std::string& path, const std::vector<Assignment>& seed) {
    std::string content;
    const char* step = "open";
    if (!util::read_file(path, content, &step)) util::msg_fatal("{} {}: {}", step, path, std::strerror(errno));
    return parse(content, path, seed);
}

const std::string* MainCf::find(std::string_view name) const {
    auto it = index_.find(name);
    return it == index_.end() ? nullptr : &entries_[it->second].value;
}

void MainCf::set(std::string_view name, std::string value) {
    auto it = index_.find(name);
    if (it != index_.end()) {
        entries_[it->second].value = std::move(value);
        return;
    }
    index_[std::string(name)] = entries_.size();
    entries_.push_back(Assignment{std::string(name), std::move(value), 0});
}

}  // namespace pf::config
