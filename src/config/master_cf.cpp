// master.cf reader; see master_cf.h.
#include "config/master_cf.h"

#include "config/logical_lines.h"
#include "util/msg.h"
#include "util/strings.h"

#include <cerrno>
#include <cstring>

namespace pf::config {

std::vector<std::string> split_master_words(std::string_view text) {
    std::vector<std::string> words;
    size_t i = 0;
    while (i < text.size()) {
        while (i < text.size() && util::is_space(text[i])) ++i;
        if (i >= text.size()) break;
        size_t start = i;
        if (text[i] == '{') {
            int level = 0;
            for (; i < text.size(); ++i) {
                if (text[i] == '{') ++level;
                else if (text[i] == '}' && --level == 0) {
                    ++i;
                    break;
                }
            }
        } else {
            while (i < text.size() && !util::is_space(text[i])) ++i;
        }
        words.emplace_back(text.substr(start, i - start));
    }
    return words;
}

std::vector<MasterEntry> parse_master_cf(std::string_view content, std::string_view origin) {
    std::vector<MasterEntry> entries;
    for (const auto& line : read_logical_lines(content, origin)) {
        auto words = split_master_words(line.text);
        MasterEntry e;
        e.first_line = line.first_line;
        e.last_line = line.last_line;
        std::string* fields[] = {&e.name, &e.type, &e.private_, &e.unpriv, &e.chroot, &e.wakeup, &e.maxproc, &e.command};
        for (size_t k = 0; k < 8 && k < words.size(); ++k) *fields[k] = words[k];
        for (size_t k = 8; k < words.size(); ++k) e.args.push_back(words[k]);
        entries.push_back(std::move(e));
    }
    return entries;
}

std::vector<MasterEntry> load_master_cf(const std::string& path) {
    std::string content;
    if (!util::read_file(path, content)) {
        util::msg_warn("open {}: {}", path, std::strerror(errno));
        return {};
    }
    return parse_master_cf(content, path);
}

}  // namespace pf::config
