// Source-file reader for postmap and texthash; see table_source.h.
#include "dict/table_source.h"

#include "util/base64.h"
#include "util/msg.h"
#include "util/strings.h"
#include "util/utf8.h"

#include <cerrno>
#include <cstring>

namespace pf::dict {
namespace {

// The reference's ISSPACE in the C locale.
bool space(char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }

bool blank_or_comment(std::string_view line) {
    for (char c : line) {
        if (space(c)) continue;
        return c == '#';
    }
    return true;
}

std::string_view c_string(std::string_view s) {
    auto nul = s.find('\0');
    return nul == std::string_view::npos ? s : s.substr(0, nul);
}

}  // namespace

SourceLines::SourceLines(std::string content, std::string path) : content_(std::move(content)), path_(std::move(path)) {}

std::optional<SourceLine> SourceLines::next() {
    std::string_view text;
    int lineno = 0;
    if (!next_view(text, lineno)) return std::nullopt;
    return SourceLine{std::string(text), lineno};
}

bool SourceLines::next_view(std::string_view& text, int& lineno) {
    if (pos_ == 0) lineno_ = 0;
    // The current logical line: content_[begin, end) while it is one
    // physical line, joined_ once a continuation is appended.
    bool have = false;
    bool joined = false;
    size_t begin = 0;
    size_t end_of_first = 0;
    std::string orphan;
    bool in_orphan = false;
    auto report_orphan = [&] {
        std::string_view t = c_string(orphan);
        util::msg_warn("{}: logical line must not start with whitespace: \"{}{}\"", path_, t.substr(0, 30),
                       t.size() > 30 ? "..." : "");
        in_orphan = false;
        orphan.clear();
    };
    const size_t size = content_.size();
    while (pos_ < size) {
        const char* start = content_.data() + pos_;
        const void* nl = std::memchr(start, '\n', size - pos_);
        size_t end = nl ? static_cast<size_t>(static_cast<const char*>(nl) - content_.data()) : size;
        std::string_view line(start, end - pos_);
        size_t after = nl ? end + 1 : size;
        if (blank_or_comment(line)) {
            ++lineno_;
            pos_ = after;
            continue;
        }
        if (space(line.front())) {
            ++lineno_;
            pos_ = after;
            if (have) {
                if (!joined) {
                    joined_.assign(content_, begin, end_of_first - begin);
                    joined = true;
                }
                joined_.append(line);
            } else {
                in_orphan = true;
                orphan.append(line);
            }
            continue;
        }
        // A new logical line starts here.
        if (have) break;
        if (in_orphan) report_orphan();
        ++lineno_;
        have = true;
        begin = pos_;
        end_of_first = end;
        lineno = lineno_;
        pos_ = after;
    }
    if (in_orphan) report_orphan();
    if (!have) return false;
    text = joined ? std::string_view(joined_) : std::string_view(content_).substr(begin, end_of_first - begin);
    return true;
}

SplitStatus split_key_value(std::string_view line, KeyValue& out) {
    std::string_view key;
    std::string_view value;
    SplitStatus status = split_key_value(line, key, value);
    if (status == SplitStatus::unbalanced_quote) return status;
    out.key = std::string(key);
    out.value = std::string(value);
    return status;
}

SplitStatus split_key_value(std::string_view line, std::string_view& key, std::string_view& value) {
    size_t i = 0;
    bool quoted = false;
    const size_t size = line.size();
    const char* p = line.data();
    while (i < size) {
        char c = p[i];
        if (c == '\\') {
            if (i + 1 < size) {
                i += 2;
                continue;
            }
            ++i;
            break;
        }
        if (c == '"') {
            quoted = !quoted;
        } else if (!quoted && space(c)) {
            break;
        }
        ++i;
    }
    if (quoted) return SplitStatus::unbalanced_quote;
    key = line.substr(0, i);
    std::string_view rest = i < size ? line.substr(i + 1) : std::string_view{};
    size_t b = 0;
    while (b < rest.size() && space(rest[b])) ++b;
    size_t e = rest.size();
    while (e > b && space(rest[e - 1])) --e;
    value = rest.substr(b, e - b);
    if (key.empty() || value.empty()) return SplitStatus::missing_part;
    return SplitStatus::ok;
}

std::optional<std::string> files_to_base64(std::string_view names, std::string& error) {
    std::string joined;
    bool first = true;
    for (auto name : util::split_tokens(names, ", \t\r\n")) {
        std::string path(name);
        std::string data;
        const char* step = nullptr;
        if (!util::read_file(path, data, &step)) {
            error = fmt::format("{} {}: {}", step ? step : "open", path, std::strerror(errno));
            return std::nullopt;
        }
        if (!first) joined += '\n';
        first = false;
        joined += data;
    }
    return util::base64_encode(joined);
}

TableSource::TableSource(std::string content, std::string path, SourceOptions options)
    : lines_(std::move(content), path), path_(std::move(path)), options_(options) {}

std::optional<SourceEntry> TableSource::next() {
    SourceEntryView e;
    if (!next_view(e)) return std::nullopt;
    return SourceEntry{std::string(e.key), std::string(e.value), e.lineno};
}

bool TableSource::next_view(SourceEntryView& entry) {
    std::string_view line;
    int lineno = 0;
    while (lines_.next_view(line, lineno)) {
        std::string_view text = c_string(line);
        if (options_.utf8_check && !util::all_ascii(text) && !util::valid_utf8(line)) {
            util::msg_warn("{}, line {}: non-UTF-8 input \"{}\" -- ignoring this line", path_, lineno, text);
            continue;
        }
        std::string_view key;
        std::string_view value;
        switch (split_key_value(text, key, value)) {
        case SplitStatus::unbalanced_quote:
            util::msg_warn("{}, line {}: unbalanced '\"' in '{}' -- ignoring this line", path_, lineno, text);
            continue;
        case SplitStatus::missing_part:
            util::msg_warn("{}, line {}: expected format: key whitespace value{}", path_, lineno,
                           options_.texthash ? " -- ignoring this line" : "");
            continue;
        case SplitStatus::ok:
            break;
        }
        if (key.back() == ':')
            util::msg_warn("{}, line {}: record is in \"key: value\" format; is this an alias file?", path_, lineno);
        if (options_.rhs_is_file) {
            std::string error;
            auto encoded = files_to_base64(value, error);
            if (!encoded) {
                util::msg_warn("{}, line {}: {}: skipping this entry", path_, lineno, error);
                continue;
            }
            value_buf_ = std::move(*encoded);
            value = value_buf_;
        }
        entry.key = key;
        entry.value = value;
        entry.lineno = lineno;
        return true;
    }
    return false;
}

}  // namespace pf::dict
