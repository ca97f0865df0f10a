// Reading the smtp/lmtp client parameters: see smtp_settings.h.
#include "daemon/smtp/smtp_settings.h"
#include "daemon/smtp/smtp_tls.h"
#include "daemon/smtp/smtp_sasl.h"
#include "daemon/smtp/smtp_cache.h"

#include "config/config.h"
#include "config/mail_params.h"
#include "dict/dict.h"
#include "util/msg.h"
#include "util/strings.h"

namespace pf::smtp_agent {

namespace {

struct Reader {
    const config::Config& config;
    std::string prefix;

    std::string str(std::string_view suffix) const { return config.get(prefix + std::string(suffix)); }
    int time(std::string_view suffix) const {
        std::string name = prefix + std::string(suffix);
        std::string value = config.get(name);
        auto v = config::parse_time_value(value, 's');
        if (!v || *v < 0) util::msg_fatal("invalid {} parameter value: \"{}\"", name, value);
        return *v;
    }
    bool flag(std::string_view suffix) const { return config::get_bool_param(config, prefix + std::string(suffix)); }
};

}  // namespace

SmtpSettings SmtpSettings::from_config(const config::Config& config, bool lmtp) {
    SmtpSettings s;
    s.lmtp = lmtp;
    Reader r{config, lmtp ? "lmtp_" : "smtp_"};
    s.default_port = lmtp ? r.str("tcp_port") : std::string("smtp");
    s.connect_timeout = r.time("connect_timeout");
    s.helo_timeout = r.time(lmtp ? "lhlo_timeout" : "helo_timeout");
    s.mail_timeout = r.time("mail_timeout");
    s.rcpt_timeout = r.time("rcpt_timeout");
    s.data_init_timeout = r.time("data_init_timeout");
    s.data_xfer_timeout = r.time("data_xfer_timeout");
    s.data_done_timeout = r.time("data_done_timeout");
    s.quit_timeout = r.time("quit_timeout");
    s.rset_timeout = r.time("rset_timeout");
    s.xforward_timeout = r.time("xforward_timeout");
    {
        // Not every configuration knows the name: then the default.
        std::string value = config.raw_value("minimal_backoff_time") ? config.get("minimal_backoff_time") : "300s";
        auto v = config::parse_time_value(value, 's');
        if (!v || *v < 1) util::msg_fatal("invalid minimal_backoff_time parameter value: \"{}\"", value);
        s.min_backoff = *v;
    }
    s.send_xforward = r.flag("send_xforward_command");
    s.disable_mime_oconv = config::get_bool_param(config, "disable_mime_output_conversion");
    if (std::string generic = r.str("generic_maps"); !util::trim(generic).empty()) {
        auto m = mail::Maps::open(r.prefix + "generic_maps", generic,
                                  dict::kLock | dict::kFoldFixed | dict::kUtf8Request);
        if (!m) util::msg_fatal("{}", m.error());
        s.generic_maps = std::make_shared<mail::Maps>(std::move(*m));
    }
    auto checks = [&](std::string_view suffix) -> std::shared_ptr<mail::Maps> {
        std::string value = r.str(suffix);
        if (util::trim(value).empty()) return nullptr;
        auto m = mail::Maps::open(r.prefix + std::string(suffix), value, dict::kLock);
        if (!m) util::msg_fatal("{}", m.error());
        return std::make_shared<mail::Maps>(std::move(*m));
    };
    s.header_checks = checks("header_checks");
    s.mime_header_checks = checks("mime_header_checks");
    s.nested_header_checks = checks("nested_header_checks");
    s.body_checks = checks("body_checks");
    const std::string propagate = config.get("propagate_unmatched_extensions");  // outlives the views
    for (std::string_view w : util::split_tokens(propagate, ", \t\r\n"))
        if (util::iequals(w, "generic")) s.generic_propagate = true;
    s.find_ctx.recipient_delimiter = config.get("recipient_delimiter");
    s.find_ctx.myorigin = config.get("myorigin");
    s.find_ctx.is_local = mail::mydestination_test(config.get("mydestination"));
    s.helo_name = r.str(lmtp ? "lhlo_name" : "helo_name");
    s.skip_5xx_greeting = r.flag("skip_5xx_greeting");
    if (!lmtp) {
        s.always_send_ehlo = r.flag("always_send_ehlo");
        s.never_send_ehlo = r.flag("never_send_ehlo");
    }
    const std::string fallback = r.str("fallback_relay");
    for (auto word : util::split_tokens(fallback, " \t\r\n,")) s.fallback_relays.emplace_back(word);
    s.skip_quit_response = r.flag("skip_quit_response");
    {
        std::string name = std::string(lmtp ? "lmtp_" : "smtp_") + "line_length_limit";
        auto v = config::parse_int_value(config.get(name), 1000000000);
        if (!v || *v < 0) util::msg_fatal("invalid {} parameter value: \"{}\"", name, config.get(name));
        s.content_line_limit = static_cast<std::size_t>(*v);
    }
    s.myhostname = config.get("myhostname");
    std::string protocols = util::to_lower(config.get("inet_protocols"));
    if (protocols == "ipv4") s.ipv6 = false;
    else if (protocols == "ipv6") s.ipv4 = false;
    s.tls = SmtpTlsSettings::from_config(config, lmtp);   // smtp_tls.cpp
    s.sasl = SmtpSaslSettings::from_config(config, lmtp ? "lmtp_" : "smtp_");   // smtp_sasl.cpp
    s.cache = SmtpCacheSettings::from_config(config, lmtp);   // smtp_cache.cpp
    s.tls->helo_name = s.helo_name;
    s.tls->helo_timeout = s.helo_timeout;
    return s;
}

}  // namespace pf::smtp_agent
