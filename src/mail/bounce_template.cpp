// Bounce templates: header/body parsing and checks, the built-in set, file
// loading and the "postconf -t" dump; see bounce_template.h.
#include "mail/bounce_template.h"

#include "mail/bounce_template_defaults.h"
#include "mail/bounce_template_file.h"
#include "util/msg.h"
#include "util/strings.h"

#include <fmt/format.h>

#include <cctype>
#include <cerrno>
#include <cstring>

namespace pf::mail {
namespace {

bool is_blank(std::string_view line) {
    for (unsigned char c : line)
        if (!std::isspace(c)) return false;
    return true;
}

bool has_8bit(std::string_view s) {
    for (unsigned char c : s)
        if (c & 0x80) return true;
    return false;
}

// "Label:" with optional blanks before the colon; the label is printable
// ASCII without blanks or colons. Sets label and value (the text after the
// colon, less leading blanks and colons) when the line is a header.
bool split_header(std::string_view line, std::string_view& label, std::string_view& value) {
    size_t i = 0;
    while (i < line.size()) {
        unsigned char c = static_cast<unsigned char>(line[i]);
        if (c <= 0x20 || c >= 0x7f || c == ':') break;
        ++i;
    }
    if (i == 0) return false;
    size_t j = i;
    while (j < line.size() && (line[j] == ' ' || line[j] == '\t')) ++j;
    if (j >= line.size() || line[j] != ':') return false;
    label = line.substr(0, i);
    while (j < line.size() && (line[j] == ' ' || line[j] == '\t' || line[j] == ':')) ++j;
    value = line.substr(j);
    return true;
}

std::optional<BounceKind> kind_of_entry(std::string_view name) {
    for (BounceKind k : kBounceKinds)
        if (name == fmt::format("{}_template", bounce_kind_name(k))) return k;
    return std::nullopt;
}

}  // namespace

std::string_view bounce_kind_name(BounceKind kind) {
    switch (kind) {
    case BounceKind::failure: return "failure";
    case BounceKind::delay: return "delay";
    case BounceKind::success: return "success";
    case BounceKind::verify: return "verify";
    }
    return "failure";
}

void emit_warning(const WarningSink& sink, std::string_view text) {
    if (sink) sink(text);
    else util::msg_warn_text(text);
}

const BounceTemplate& BounceTemplate::builtin(BounceKind kind) {
    static const std::array<BounceTemplate, 4> builtins = [] {
        std::array<BounceTemplate, 4> all{BounceTemplate(), BounceTemplate(), BounceTemplate(), BounceTemplate()};
        for (BounceKind k : kBounceKinds) {
            BounceTemplate& t = all[static_cast<size_t>(k)];
            t.kind_ = k;
            t.origin_ = std::string(kBuiltinOrigin);
            std::vector<std::string> lines = builtin_template_lines(k);
            size_t i = 0;
            std::string_view label, value;
            for (; i < lines.size() && split_header(lines[i], label, value); ++i) {
                if (util::iequals(label, "Charset")) t.charset_ = value;
                else if (util::iequals(label, "From")) t.from_ = value;
                else if (util::iequals(label, "Subject")) t.subject_ = value;
                else t.postmaster_subject_ = value;
            }
            while (i < lines.size() && is_blank(lines[i])) ++i;
            t.body_.assign(lines.begin() + static_cast<std::ptrdiff_t>(i), lines.end());
        }
        return all;
    }();
    return builtins[static_cast<size_t>(kind)];
}

std::optional<BounceTemplate> BounceTemplate::parse(BounceKind kind, std::string origin,
                                                    const std::vector<std::string>& lines, const WarningSink& warn) {
    BounceTemplate t = builtin(kind);
    t.origin_ = std::move(origin);
    t.charset_ = "us-ascii";
    std::string_view what = bounce_kind_name(kind);
    auto ignore = [&](std::string_view problem) {
        emit_warning(warn, fmt::format("{}: {} in {} template -- ignoring this template", t.origin_, problem, what));
        return std::nullopt;
    };

    size_t i = 0;
    std::string_view label, value;
    for (; i < lines.size() && split_header(lines[i], label, value); ++i) {
        if (has_8bit(value)) return ignore(fmt::format("non-ASCII \"{}\" header value", label));
        if (value.empty()) return ignore(fmt::format("empty \"{}\" header value", label));
        if (util::iequals(label, "Charset")) {
            t.charset_ = value;
        } else if (util::iequals(label, "From")) {
            t.from_ = value;
        } else if (util::iequals(label, "Subject")) {
            t.subject_ = value;
        } else if (util::iequals(label, "Postmaster-Subject")) {
            if (!t.has_postmaster_subject()) return ignore(fmt::format("inapplicable \"{}\" header label", label));
            t.postmaster_subject_ = value;
        } else {
            return ignore(fmt::format("unknown \"{}\" header label", label));
        }
    }
    while (i < lines.size() && is_blank(lines[i])) ++i;
    if (i == lines.size()) return ignore("missing message text");
    t.body_.assign(lines.begin() + static_cast<std::ptrdiff_t>(i), lines.end());

    if (util::iequals(t.charset_, "us-ascii")) {
        for (const auto& line : t.body_) {
            if (!has_8bit(line)) continue;
            emit_warning(warn, fmt::format("{}: 8-bit message text in {} template", t.origin_, what));
            emit_warning(warn, "please specify a charset value other than us-ascii");
            emit_warning(warn, "-- ignoring this template for now");
            return std::nullopt;
        }
    }
    return t;
}

std::string BounceTemplate::dump() const {
    std::string out = fmt::format("{}_template = <<EOF\n", name());
    out += fmt::format("Charset: {}\nFrom: {}\nSubject: {}\n", charset_, from_, subject_);
    if (has_postmaster_subject()) out += fmt::format("Postmaster-Subject: {}\n", postmaster_subject_);
    out += '\n';
    for (const auto& line : body_) {
        out += line;
        out += '\n';
    }
    out += "EOF\n";
    return out;
}

BounceTemplates::BounceTemplates()
    : templates_{BounceTemplate::builtin(BounceKind::failure), BounceTemplate::builtin(BounceKind::delay),
                 BounceTemplate::builtin(BounceKind::success), BounceTemplate::builtin(BounceKind::verify)} {}

std::expected<BounceTemplates, TemplateError> BounceTemplates::load(const std::string& path, const WarningSink& warn) {
    std::string content;
    const char* step = "open";
    if (!util::read_file(path, content, &step))
        return std::unexpected(TemplateError{fmt::format("{} {}: {}", step, path, std::strerror(errno))});

    // The last definition of a template wins; the checks come after the
    // whole file is read, in the fixed order of the kinds.
    std::array<std::optional<std::vector<std::string>>, 4> texts;
    auto read = read_template_file(
        path, content,
        [&](TemplateFileEntry&& entry) {
            if (auto kind = kind_of_entry(entry.name)) {
                texts[static_cast<size_t>(*kind)] = std::move(entry.lines);
            } else {
                emit_warning(warn, fmt::format("{}, line {}: unknown template name: {} -- ignoring this template", path,
                                               entry.line_number, entry.name));
            }
        },
        warn);
    if (!read) return std::unexpected(read.error());

    BounceTemplates result;
    for (BounceKind k : kBounceKinds) {
        auto& text = texts[static_cast<size_t>(k)];
        if (!text) continue;
        if (auto t = BounceTemplate::parse(k, path, *text, warn)) result.templates_[static_cast<size_t>(k)] = std::move(*t);
    }
    return result;
}

}  // namespace pf::mail
