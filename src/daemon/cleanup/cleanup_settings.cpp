// Reading cleanup's parameters and tables; see cleanup_settings.h.
#include "daemon/cleanup/cleanup_settings.h"

#include "config/config.h"
#include "config/mail_params.h"
#include "dict/dict.h"
#include "util/strings.h"

#include <fmt/format.h>
#include <stdexcept>

namespace pf::cleanup {

unsigned parse_address_classes(std::string_view parameter, std::string_view value) {
    unsigned bits = 0;
    for (std::string_view word : util::split_tokens(value, ", \t\r\n")) {
        if (util::iequals(word, "envelope_sender")) bits |= kEnvFrom;
        else if (util::iequals(word, "envelope_recipient")) bits |= kEnvRcpt;
        else if (util::iequals(word, "header_sender")) bits |= kHdrFrom;
        else if (util::iequals(word, "header_recipient")) bits |= kHdrRcpt;
        else throw std::runtime_error(fmt::format("unknown {} value \"{}\" in \"{}\"", parameter, word, value));
    }
    return bits;
}

namespace {

long number(const config::Config& c, std::string_view name, long fallback) {
    std::string v = c.get(name);
    if (auto n = config::parse_int_value(v, 1LL << 62)) return static_cast<long>(*n);
    return fallback;
}

bool boolean(const config::Config& c, std::string_view name, bool fallback) {
    if (auto b = config::parse_bool_value(c.get(name))) return *b;
    return fallback;
}

std::optional<mail::Maps> maps(const config::Config& c, std::string_view name, dict::Flags flags) {
    std::string value = c.get(name);
    if (util::trim(value).empty()) return std::nullopt;
    auto m = mail::Maps::open(std::string(name), value, flags);
    if (!m) throw std::runtime_error(m.error());
    // A lookup error is logged as the reference's table lists log it
    // ("<type>:<name> lookup error for "<key>""), before cleanup's own line.
    m->set_warn_errors(true);
    return std::move(*m);
}

}  // namespace

std::unique_ptr<CleanupSettings> CleanupSettings::from_config(const config::Config& c) {
    auto s = std::make_unique<CleanupSettings>();
    s->myhostname = c.get("myhostname");
    s->myorigin = c.get("myorigin");
    s->mail_name = c.get("mail_name");
    s->recipient_delimiter = c.get("recipient_delimiter");
    s->line_length_limit = number(c, "line_length_limit", 2048);
    if (s->line_length_limit <= 0) s->line_length_limit = 2048;
    s->header_size_limit = number(c, "header_size_limit", 102400);
    s->hopcount_limit = number(c, "hopcount_limit", 50);
    s->message_size_limit = number(c, "message_size_limit", 10240000);
    s->body_checks_size_limit = number(c, "body_checks_size_limit", 51200);
    if (auto t = config::parse_time_value(c.get("delay_warning_time"), 'h')) s->delay_warning_time = *t;
    s->virtual_recursion_limit = number(c, "virtual_alias_recursion_limit", 1000);
    s->virtual_expansion_limit = number(c, "virtual_alias_expansion_limit", 1000);
    s->virtual_address_length_limit = number(c, "virtual_alias_address_length_limit", 1000);
    s->attribute_count_limit = number(c, "queue_file_attribute_count_limit", 100);
    s->duplicate_filter_limit = number(c, "duplicate_filter_limit", 1000);
    s->always_add_missing_headers = boolean(c, "always_add_missing_headers", false);
    s->enable_original_recipient = boolean(c, "enable_original_recipient", true);
    s->long_queue_ids = boolean(c, "enable_long_queue_ids", false);
    s->replace_stray_cr_lf = boolean(c, "cleanup_replace_stray_cr_lf", true);
    s->disable_mime = boolean(c, "disable_mime_input_processing", false);
    s->header_from_obsolete = util::iequals(util::trim(c.get("header_from_format")), "obsolete");
    s->remote_rewrite = !util::trim(c.get("remote_header_rewrite_domain")).empty();
    std::string prop = c.get("propagate_unmatched_extensions");
    s->propagate_canonical = s->propagate_virtual = false;
    for (std::string_view w : util::split_tokens(prop, ", \t\r\n")) {
        if (util::iequals(w, "canonical")) s->propagate_canonical = true;
        if (util::iequals(w, "virtual")) s->propagate_virtual = true;
    }
    s->verp_bounce_off = boolean(c, "verp_bounce_off", false);
    s->undisclosed_recipients_header = c.get("undisclosed_recipients_header");
    s->always_bcc = c.get("always_bcc");
    s->empty_address_recipient = c.get("empty_address_recipient");
    s->smtputf8_enable = boolean(c, "smtputf8_enable", true);
    s->strict_7bit_headers = boolean(c, "strict_7bit_headers", false);
    s->strict_8bitmime = boolean(c, "strict_8bitmime", false);
    s->strict_8bitmime_body = boolean(c, "strict_8bitmime_body", false);
    s->strict_mime_encoding_domain = boolean(c, "strict_mime_encoding_domain", false);
    s->header_opts = mail::HeaderOptsTable(c.get("message_drop_headers"));

    s->find_ctx.recipient_delimiter = s->recipient_delimiter;
    s->find_ctx.myorigin = s->myorigin;
    s->find_ctx.is_local = mail::mydestination_test(c.get("mydestination"));

    const dict::Flags addr_flags = dict::kLock | dict::kFoldFixed | dict::kUtf8Request;
    s->canonical_maps = maps(c, "canonical_maps", addr_flags);
    s->sender_canonical_maps = maps(c, "sender_canonical_maps", addr_flags);
    s->recipient_canonical_maps = maps(c, "recipient_canonical_maps", addr_flags);
    s->canonical_classes = parse_address_classes("canonical_classes", c.get("canonical_classes"));
    s->sender_canonical_classes = parse_address_classes("sender_canonical_classes", c.get("sender_canonical_classes"));
    s->recipient_canonical_classes =
        parse_address_classes("recipient_canonical_classes", c.get("recipient_canonical_classes"));
    s->virtual_alias_maps = maps(c, "virtual_alias_maps", addr_flags);
    std::string masq = c.get("masquerade_domains");
    if (!util::trim(masq).empty()) s->masquerade.emplace(masq, nullptr);
    if (std::string except = c.get("masquerade_exceptions"); !util::trim(except).empty())
        s->masquerade_exceptions.emplace("masquerade_exceptions", except, mail::DomainList::Style::exact, false);
    s->masquerade_classes = parse_address_classes("masquerade_classes", c.get("masquerade_classes"));
    s->sender_bcc_maps = maps(c, "sender_bcc_maps", addr_flags);
    s->recipient_bcc_maps = maps(c, "recipient_bcc_maps", addr_flags);
    const dict::Flags check_flags = dict::kLock;
    s->header_checks = maps(c, "header_checks", check_flags);
    s->mime_header_checks = maps(c, "mime_header_checks", check_flags);
    s->nested_header_checks = maps(c, "nested_header_checks", check_flags);
    s->body_checks = maps(c, "body_checks", check_flags);
    s->any_header_checks = s->header_checks || s->mime_header_checks || s->nested_header_checks;
    return s;
}

}  // namespace pf::cleanup
