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
    if (pos_ == 0) lineno_ = 0;
    std::optional<SourceLine> current;
    std::string orphan;
    bool in_orphan = false;
    auto report_orphan = [&] {
        std::string_view text = c_string(orphan);
        util::msg_warn("{}: logical line must not start with whitespace: \"{}{}\"", path_, text.substr(0, 30),
                       text.size() > 30 ? "..." : "");
        in_orphan = false;
        orphan.clear();
    };
    while (pos_ < content_.size()) {
        size_t nl = content_.find('\n', pos_);
        size_t end = nl == std::string::npos ? content_.size() : nl;
        std::string_view line(content_.data() + pos_, end - pos_);
        size_t after = nl == std::string::npos ? content_.size() : nl + 1;
        if (blank_or_comment(line)) {
            ++lineno_;
            pos_ = after;
            continue;
        }
        if (space(line.front())) {
            ++lineno_;
            pos_ = after;
            if (current) {
                current->text.append(line);
            } else {
                in_orphan = true;
                orphan.append(line);
            }
            continue;
        }
        // A new logical line starts here.
        if (current) return current;
        if (in_orphan) report_orphan();
        ++lineno_;
        pos_ = after;
        current = SourceLine{std::string(line), lineno_};
    }
    if (in_orphan) report_orphan();
    return current;
}

SplitStatus split_key_value(std::string_view line, KeyValue& out) {
    size_t i = 0;
    bool quoted = false;
    while (i < line.size()) {
        char c = line[i];
        if (c == '\\') {
            if (i + 1 < line.size()) {
                i += 2;
                continue;
            }
            ++i;
            break;
        }
        if (space(c) && !quoted) break;
        if (c == '"') quoted = !quoted;
        ++i;
    }
    if (quoted) return SplitStatus::unbalanced_quote;
    out.key = std::string(line.substr(0, i));
    std::string_view rest = i < line.size() ? line.substr(i + 1) : std::string_view{};
    size_t b = 0;
    while (b < rest.size() && space(rest[b])) ++b;
    size_t e = rest.size();
    while (e > b && space(rest[e - 1])) --e;
    out.value = std::string(rest.substr(b, e - b));
    if (out.key.empty() || out.value.empty()) return SplitStatus::missing_part;
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
    while (auto line = lines_.next()) {
        std::string_view text = c_string(line->text);
        if (options_.utf8_check && !util::all_ascii(text) && !util::valid_utf8(line->text)) {
            util::msg_warn("{}, line {}: non-UTF-8 input \"{}\" -- ignoring this line", path_, line->lineno, text);
            continue;
        }
        KeyValue kv;
        switch (split_key_value(text, kv)) {
        case SplitStatus::unbalanced_quote:
            util::msg_warn("{}, line {}: unbalanced '\"' in '{}' -- ignoring this line", path_, line->lineno, text);
            continue;
        case SplitStatus::missing_part:
            util::msg_warn("{}, line {}: expected format: key whitespace value{}", path_, line->lineno,
                           options_.texthash ? " -- ignoring this line" : "");
            continue;
        case SplitStatus::ok:
            break;
        }
        if (kv.key.back() == ':')
            util::msg_warn("{}, line {}: record is in \"key: value\" format; is this an alias file?", path_, line->lineno);
        if (options_.rhs_is_file) {
            std::string error;
            auto encoded = files_to_base64(kv.value, error);
            if (!encoded) {
                util::msg_warn("{}, line {}: {}: skipping this entry", path_, line->lineno, error);
                continue;
            }
            kv.value = std::move(*encoded);
        }
        return SourceEntry{std::move(kv.key), std::move(kv.value), line->lineno};
    }
    return std::nullopt;
}

}  // namespace pf::dict
