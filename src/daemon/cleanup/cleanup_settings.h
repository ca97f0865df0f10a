// What the cleanup daemon reads from main.cf, read once at start-up (the
// reference reads these at process start too; a changed table makes it
// restart). Tables are opened here, before privileges are dropped.
//
// Trust: main.cf is the admin's; a bad value is fatal at start-up
// (config exceptions, caught in main).
#pragma once

#include "mail/address_domain_list.h"
#include "mail/header_opts.h"
#include "mail/mail_addr_find.h"
#include "mail/maps.h"
#include "mail/masquerade.h"

#include <memory>
#include <optional>
#include <string>

namespace pf::config { class Config; }

namespace pf::cleanup {

// Which address kinds a mapping applies to (the *_classes parameters).
enum AddressClass : unsigned {
    kEnvFrom = 1u << 0,
    kEnvRcpt = 1u << 1,
    kHdrFrom = 1u << 2,
    kHdrRcpt = 1u << 3,
};
unsigned parse_address_classes(std::string_view parameter, std::string_view value);

struct CleanupSettings {
    std::string myhostname;
    std::string myorigin;
    std::string mail_name = "Postfix";
    std::string recipient_delimiter;
    long line_length_limit = 2048;
    long header_size_limit = 102400;
    long hopcount_limit = 50;
    long message_size_limit = 10240000;
    long body_checks_size_limit = 51200;
    long delay_warning_time = 0;          // seconds
    long virtual_recursion_limit = 1000;
    long virtual_expansion_limit = 1000;
    long virtual_address_length_limit = 1000;
    long attribute_count_limit = 100;
    long duplicate_filter_limit = 1000;   // 0: no limit
    bool always_add_missing_headers = false;
    bool enable_original_recipient = true;
    bool long_queue_ids = false;
    bool replace_stray_cr_lf = true;
    bool disable_mime = false;
    bool header_from_obsolete = false;    // header_from_format = obsolete
    bool remote_rewrite = false;          // remote_header_rewrite_domain is set
    bool propagate_canonical = true;      // propagate_unmatched_extensions
    bool propagate_virtual = true;
    bool verp_bounce_off = false;
    std::string undisclosed_recipients_header;
    std::string always_bcc;
    std::string empty_address_recipient = "MAILER-DAEMON";  // replaces an empty envelope recipient
    bool smtputf8_enable = true;
    // MIME checks of mail that header/body checks apply to (strict_*).
    bool strict_7bit_headers = false;
    bool strict_8bitmime = false;
    bool strict_8bitmime_body = false;
    bool strict_mime_encoding_domain = false;

    mail::HeaderOptsTable header_opts;
    mail::AddrFindContext find_ctx;

    std::optional<mail::Maps> canonical_maps, sender_canonical_maps, recipient_canonical_maps;
    unsigned canonical_classes = kEnvFrom | kEnvRcpt | kHdrFrom | kHdrRcpt;
    unsigned sender_canonical_classes = kEnvFrom | kHdrFrom;
    unsigned recipient_canonical_classes = kEnvRcpt | kHdrRcpt;
    std::optional<mail::Maps> virtual_alias_maps;
    std::optional<mail::Masquerade> masquerade;
    // masquerade_exceptions: a string list (literals, type:table,
    // /file/name, !negation) of local-parts never masqueraded.
    std::optional<mail::DomainList> masquerade_exceptions;
    unsigned masquerade_classes = kEnvFrom | kHdrFrom | kHdrRcpt;
    std::optional<mail::Maps> sender_bcc_maps, recipient_bcc_maps;
    std::optional<mail::Maps> header_checks, mime_header_checks, nested_header_checks, body_checks;
    // Which of the *_checks parameters were set (the reference turns on
    // MIME nesting reports when any is).
    bool any_header_checks = false;

    // Reads everything; throws std::runtime_error with the reference's
    // wording when a table cannot be opened.
    static std::unique_ptr<CleanupSettings> from_config(const config::Config& config);
};

}  // namespace pf::cleanup
