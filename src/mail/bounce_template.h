// Bounce message templates: the four kinds of delivery status notification
// (failure, delay, success, verify), each with a Charset, From, Subject,
// optional Postmaster-Subject and a body text, as bounce(5) describes them.
// Reproduces the reference's built-in templates, its reading of a
// bounce_template_file (name = value lines and <<MARKER here-documents), its
// checks of each template's headers and text with their warnings (a bad
// template is ignored in favour of the built-in one), and the "postconf -t"
// dump format.
//
// Trust: the template file is admin-written but parsed strictly; anything
// malformed is reported in the reference's words, never a crash.
#pragma once

#include <array>
#include <expected>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pf::mail {

enum class BounceKind { failure, delay, success, verify };
inline constexpr std::array<BounceKind, 4> kBounceKinds = {BounceKind::failure, BounceKind::delay,
                                                           BounceKind::success, BounceKind::verify};
// "failure", "delay", "success", "verify".
std::string_view bounce_kind_name(BounceKind kind);

// A condition the reference treats as fatal; text is its message without the
// "program: fatal: " prefix.
struct TemplateError {
    std::string text;
};

// Receives each warning line (without the "program: warning: " prefix).
// An empty sink means util::msg_warn.
using WarningSink = std::function<void(std::string_view)>;
void emit_warning(const WarningSink& sink, std::string_view text);

// The origin shown in diagnostics about a built-in template.
inline constexpr std::string_view kBuiltinOrigin = "[built-in]";

class BounceTemplate {
public:
    // The reference's built-in template of a kind.
    static const BounceTemplate& builtin(BounceKind kind);

    // Parses a template's text (its lines, without newlines): header lines
    // (Label: value) up to the first line that is not one, blank lines, then
    // the body. Missing headers come from the built-in template. A template
    // the reference would ignore gives a warning (origin names the file) and
    // nullopt.
    static std::optional<BounceTemplate> parse(BounceKind kind, std::string origin, const std::vector<std::string>& lines,
                                               const WarningSink& warn = {});

    BounceKind kind() const { return kind_; }
    std::string_view name() const { return bounce_kind_name(kind_); }
    // The template file's name as given, or kBuiltinOrigin.
    const std::string& origin() const { return origin_; }
    const std::string& charset() const { return charset_; }
    const std::string& from() const { return from_; }
    const std::string& subject() const { return subject_; }
    // Only failure and delay notices have a copy for the postmaster.
    bool has_postmaster_subject() const { return kind_ == BounceKind::failure || kind_ == BounceKind::delay; }
    const std::string& postmaster_subject() const { return postmaster_subject_; }
    // Body lines, unexpanded.
    const std::vector<std::string>& body() const { return body_; }

    // The "postconf -t" form: "<kind>_template = <<EOF", headers, a blank
    // line, the body, "EOF", each line ending in a newline.
    std::string dump() const;

private:
    BounceTemplate() = default;

    BounceKind kind_ = BounceKind::failure;
    std::string origin_;
    std::string charset_;
    std::string from_;
    std::string subject_;
    std::string postmaster_subject_;
    std::vector<std::string> body_;
};

// The set of four templates a bounce daemon works with.
class BounceTemplates {
public:
    // The built-in templates.
    BounceTemplates();

    // Reads a template file (bounce_template_file). Templates it does not
    // define, or defines badly, stay built-in; what the reference treats as
    // fatal (unreadable file, syntax errors) is the error.
    static std::expected<BounceTemplates, TemplateError> load(const std::string& path, const WarningSink& warn = {});

    const BounceTemplate& find(BounceKind kind) const { return templates_[static_cast<size_t>(kind)]; }

private:
    std::array<BounceTemplate, 4> templates_;
};

}  // namespace pf::mail
