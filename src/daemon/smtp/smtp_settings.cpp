// Reading the smtp/lmtp client parameters: see smtp_settings.h.
#include "daemon/smtp/smtp_settings.h"

#include "config/config.h"
#include "config/mail_params.h"
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
    bool flag(std::string_view suffix) const {
        std::string name = prefix + std::string(suffix);
        std::string value = config.get(name);
        auto v = config::parse_bool_value(value);
        if (!v) util::msg_fatal("bad boolean configuration: {} = {}", name, value);
        return *v;
    }
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
    return s;
}

}  // namespace pf::smtp_agent
