// Logical-line reader; see logical_lines.h.
#include "config/logical_lines.h"

#include "util/msg.h"
#include "util/strings.h"

namespace pf::config {

std::vector<std::string_view> physical_lines(std::string_view content) {
    std::vector<std::string_view> lines;
    size_t start = 0;
    while (start < content.size()) {
        size_t nl = content.find('\n', start);
        if (nl == std::string_view::npos) {
            lines.push_back(content.substr(start));
            break;
        }
        lines.push_back(content.substr(start, nl - start));
        start = nl + 1;
    }
    return lines;
}

std::vector<LogicalLine> read_logical_lines(std::string_view content, std::string_view origin) {
    std::vector<LogicalLine> out;
    std::string orphan;  // continuation text with no logical line to continue
    bool in_orphan = false;
    auto flush_orphan = [&] {
        if (in_orphan) util::msg_warn("{}: logical line must not start with whitespace: \"{}\"", origin, orphan);
        in_orphan = false;
        orphan.clear();
    };
    int lineno = 0;
    for (std::string_view line : physical_lines(content)) {
        ++lineno;
        std::string_view body = util::trim_left(line);
        if (body.empty() || body.front() == '#') continue;
        if (util::is_space(line.front())) {
            if (in_orphan || out.empty()) {
                in_orphan = true;
                orphan.append(line);
                continue;
            }
            out.back().text.append(line);
            out.back().last_line = lineno;
        } else {
            flush_orphan();
            out.push_back(LogicalLine{std::string(line), lineno, lineno});
        }
    }
    flush_orphan();
    // Text after a NUL byte is invisible to the reference's C strings.
    for (auto& l : out) {
        auto nul = l.text.find('\0');
        if (nul != std::string::npos) l.text.resize(nul);
    }
    return out;
}

}  // namespace pf::config
