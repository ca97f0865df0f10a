// MAIL FROM and RCPT TO as the reference's smtpd handles them: the
// argument syntax ("FROM:<addr>", "FROM: <addr>", "FROM:addr"), address
// extraction, the ESMTP parameters (SIZE, BODY, SMTPUTF8, RET, ENVID,
// AUTH; NOTIFY, ORCPT) with the reference's reply for each bad value, the
// recipient limit, the restriction points, and the opening of the cleanup
// stream at the first accepted recipient (smtpd_delay_open_until_valid_rcpt)
// with the envelope records the reference's smtpd writes.
//
// Trust: addresses and parameters are client bytes; they are parsed
// strictly and reach cleanup only in record framing.
#include "daemon/smtpd/smtpd_session.h"
#include "daemon/smtpd/smtpd_sasl.h"
#include "daemon/smtpd/smtpd_anvil.h"
#include "daemon/smtpd/smtpd_proxy.h"

#include "config/mail_params.h"
#include "ipc/command_runner.h"
#include "ipc/services.h"
#include "mail/address_quote.h"
#include "queue/record.h"
#include "smtp/esmtp_params.h"
#include "smtp/xtext.h"
#include "util/msg.h"
#include "util/strings.h"

#include <fmt/core.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

namespace pf::smtpd {

namespace rec = queue::rec;

namespace {

// "FROM:" / "TO:" and the address word: the address may follow the colon
// in the same word or be the next word. Returns the index of the first
// parameter word, or nullopt for a syntax error.
std::optional<std::size_t> split_path_argument(const std::vector<Token>& args, std::string_view keyword,
                                               std::string& address_word) {
    if (args.empty()) return std::nullopt;
    const std::string& first = args.front().text;
    if (first.size() < keyword.size() || !util::iequals(std::string_view(first).substr(0, keyword.size()), keyword))
        return std::nullopt;
    if (first.size() > keyword.size()) {
        address_word = first.substr(keyword.size());
        return 1;
    }
    if (args.size() < 2) return std::nullopt;
    address_word = args[1].text;
    return 2;
}

// Whether a word has an unbalanced quote or angle bracket (the
// reference's tokenizer marks such a word as an error).
bool unbalanced(std::string_view word) {
    int angle = 0;
    bool quoted = false;
    for (std::size_t i = 0; i < word.size(); ++i) {
        char c = word[i];
        if (quoted && c == '\\') {
            ++i;
            continue;
        }
        if (c == '"') quoted = !quoted;
        else if (!quoted && c == '<') ++angle;
        else if (!quoted && c == '>' && angle > 0) {
            --angle;   // a '>' without '<' is no error (the parser drops it)
        }
    }
    return quoted || angle != 0;
}

bool has_unquoted_blank(std::string_view text) {
    bool quoted = false;
    for (std::size_t i = 0; i < text.size(); ++i) {
        char c = text[i];
        if (quoted && c == '\\') {
            ++i;
            continue;
        }
        if (c == '"') quoted = !quoted;
        else if (!quoted && (c == ' ' || c == '\t')) return true;
    }
    return false;
}

// RFC 6533 utf-8-addr-xtext (ORCPT=utf-8;...): "\x{HEX}" stands for the
// code point, in UTF-8; every other byte is itself.
std::optional<std::string> uxtext_decode(std::string_view text) {
    std::string out;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] != '\\') {
            out.push_back(text[i]);
            continue;
        }
        if (i + 2 >= text.size() || text[i + 1] != 'x' || text[i + 2] != '{') return std::nullopt;
        auto close = text.find('}', i + 3);
        if (close == std::string_view::npos || close == i + 3 || close - (i + 3) > 6) return std::nullopt;
        unsigned long cp = 0;
        for (std::size_t j = i + 3; j < close; ++j) {
            char h = text[j];
            int d = h >= '0' && h <= '9' ? h - '0'
                    : h >= 'a' && h <= 'f' ? h - 'a' + 10
                    : h >= 'A' && h <= 'F' ? h - 'A' + 10 : -1;
            if (d < 0) return std::nullopt;
            cp = cp * 16 + static_cast<unsigned long>(d);
        }
        if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return std::nullopt;
        if (cp < 0x80) {
            out.push_back(static_cast<char>(cp));
        } else if (cp < 0x800) {
            out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
            out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
        } else if (cp < 0x10000) {
            out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
            out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
            out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
        } else {
            out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
            out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
            out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
            out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
        }
        i = close;
    }
    return out;
}

std::string printable(std::string_view text) {
    std::string out(text);
    for (auto& c : out) {
        unsigned char u = static_cast<unsigned char>(c);
        if (u < 32 || u == 127) c = '?';
    }
    return out;
}

// sendmail -bs: the stand-alone server pipes the message through
// postdrop (smtpd_sink.h); postdrop adds the arrival time itself, and
// smtpd sends only the sender and the body encoding before the
// recipients (no DSN envelope, rewrite context or client attributes, as
// the reference's stand-alone server). A postdrop that does not start is
// fatal, as for the reference.
bool open_postdrop(Server& server, Session& s) {
    const config::Config& config = *server.config;
    std::vector<std::string> argv{config.get("command_directory") + "/postdrop"};
    std::string command = argv.front();
    if (util::msg_verbose) {
        argv.emplace_back("-v");
        command += " -v";
    }
    std::vector<std::string> exported;
    const std::string export_list = config.get("export_environment");
    for (auto word : util::split_tokens(export_list, " \t\r\n,")) exported.emplace_back(word);
    auto opened = PostdropClient::open(argv, ipc::command_environment(exported, environ));
    if (!opened) util::msg_fatal("unable to execute {}", command);
    s.cleanup.emplace(std::move(*opened));
    s.queue_id = s.cleanup->queue_id();
    s.arrival_time = std::time(nullptr);
    auto& c = *s.cleanup;
    (void)c.write(rec::kFrom, s.sender);
    if (!s.encoding.empty()) (void)c.write_attr("encoding", s.encoding);
    util::msg_info("{}: client={}", s.queue_id, s.namaddr);
    return true;
}

// Opens the cleanup stream and writes the envelope head the reference's
// smtpd writes: arrival time, content_filter, log_ident, rewrite_context,
// DSN envelope attributes, the sender, the body encoding and the client attributes.
bool open_cleanup(Server& server, Session& s) {
    if (server.standalone) return open_postdrop(server, s);
    unsigned flags = server.cleanup_flags;
    if (s.smtputf8) flags |= ipc::kCleanupSmtputf8;
    auto opened = ipc::CleanupClient::open(server.settings.queue_directory, server.settings.cleanup_service, flags);
    if (!opened) {
        util::msg_warn("connect to {}/{}: {}", "public", server.settings.cleanup_service, opened.error());
        return false;
    }
    s.cleanup.emplace(std::move(*opened));
    s.queue_id = s.cleanup->queue_id();
    timeval now{};
    gettimeofday(&now, nullptr);
    s.arrival_time = now.tv_sec;
    auto& c = *s.cleanup;
    (void)c.write(rec::kTime, fmt::format("{} {}", now.tv_sec, now.tv_usec));
    if (!server.settings.content_filter.empty()) (void)c.write(rec::kFilter, server.settings.content_filter);
    (void)c.write_attr("log_ident", s.xforward.ident.value_or(s.queue_id));
    (void)c.write_attr("rewrite_context", s.xforward.domain_set ? s.xforward.domain : s.rewrite_context);
    sasl_cleanup_attributes(s, *c.cleanup());   // smtpd_sasl.cpp
    if (!s.dsn_envid.empty()) (void)c.write_attr("envelope_id", s.dsn_envid);
    if (s.dsn_ret) (void)c.write_attr("ret_flags", std::to_string(s.dsn_ret));
    (void)c.write(rec::kFrom, s.sender);
    if (!s.encoding.empty()) (void)c.write_attr("encoding", s.encoding);
    // Log attributes: the forwarded client's once XFORWARD gave any of
    // them, else the session's.
    const Xforward& xf = s.xforward;
    bool fw = xf.client;
    std::string log_name = fw ? xf.name : s.name;
    std::string log_addr = fw ? xf.rfc_addr : s.addr;
    std::string log_port = fw ? xf.port : s.port;
    std::string log_helo = fw ? xf.helo.value_or("") : s.helo_name;
    std::string log_proto = fw ? xf.protocol : s.protocol;
    (void)c.write_attr("log_client_name", log_name);
    (void)c.write_attr("log_client_address", log_addr);
    (void)c.write_attr("log_client_port", log_port);
    (void)c.write_attr("log_message_origin", fw ? xf.namaddr : s.namaddr);
    if (!log_helo.empty()) (void)c.write_attr("log_helo_name", log_helo);
    (void)c.write_attr("log_protocol_name", log_proto);
    (void)c.write_attr("client_name", s.name);
    (void)c.write_attr("reverse_client_name", s.reverse_name);
    (void)c.write_attr("client_address", s.addr);
    (void)c.write_attr("client_port", s.port);
    (void)c.write_attr("server_address", s.server_addr);
    (void)c.write_attr("server_port", s.server_port);
    if (!s.helo_name.empty()) (void)c.write_attr("helo_name", s.helo_name);
    (void)c.write_attr("protocol_name", s.protocol);
    (void)c.write_attr("client_address_type", std::to_string(s.addr_family));
    // orig_queue_id with a forwarded IDENT, orig_client with forwarded
    // client attributes (XFORWARD SOURCE alone adds neither).
    util::msg_info("{}: client={}{}{}{}", s.queue_id, s.namaddr, sasl_log_suffix(s),
                   xf.ident ? ", orig_queue_id=" + *xf.ident : std::string(),
                   fw ? ", orig_client=" + xf.namaddr : std::string());
    return true;
}

}  // namespace

ExtractedAddress extract_address(Server& server, const Session& s, std::string_view arg, bool allow_empty) {
    ExtractedAddress out;
    if (unbalanced(arg)) {
        out.status = ExtractedAddress::Status::bad;
        return out;
    }
    std::string_view external = arg;
    bool bracketed = false;
    while (external.size() >= 2 && external.front() == '<' && external.back() == '>') {
        external = external.substr(1, external.size() - 2);
        bracketed = true;
    }
    if (!bracketed) {
        // The reference's RFC 822 parser takes "phrase <address>" as the
        // address in brackets, and drops a '>' that opens nothing.
        auto lt = external.find('<');
        auto gt = lt == std::string_view::npos ? lt : external.find('>', lt);
        // Words after the '>' would be a second address: an error, below.
        bool tail = gt != std::string_view::npos &&
                    external.substr(gt + 1).find_first_not_of(" \t") != std::string_view::npos;
        if (lt != std::string_view::npos && gt != std::string_view::npos && !tail &&
            external.find('"') == std::string_view::npos) {
            external = external.substr(lt + 1, gt - lt - 1);
            bracketed = true;
        } else if (lt == std::string_view::npos && external.find('"') == std::string_view::npos) {
            while (!external.empty() && external.back() == '>') external.remove_suffix(1);
        }
    }
    auto illegal = [&]() {
        util::msg_warn("Illegal address syntax from {} in {} command: {}", s.namaddr, s.where, printable(arg));
        out.status = ExtractedAddress::Status::illegal;
        return out;
    };
    if (!bracketed && has_unquoted_blank(external)) return illegal();
    // strict_rfc821_envelopes: MAIL FROM and RCPT TO need <address>.
    bool strict = s.where != "VRFY" && server.config &&
                  config::parse_bool_value(server.config->get("strict_rfc821_envelopes")).value_or(false);
    if (strict && arg.substr(0, 1) != "<") return illegal();
    // A source route "@a,@b:" is dropped.
    if (!external.empty() && external.front() == '@') {
        auto colon = external.find(':');
        if (colon != std::string_view::npos) external.remove_prefix(colon + 1);
    }
    out.external = std::string(external);
    out.address = mail::unquote_822_local(external);
    if (out.address.empty()) {
        if (!allow_empty) return illegal();
        return out;
    }
    if (strict && out.address.front() == '@') return illegal();
    if (has_unquoted_blank(external)) return illegal();
    // (trivial-rewrite's verdict is not asked for by the stand-alone server)
    if (server.rewrite && !server.standalone) {
        auto resolved = server.rewrite->resolve(s.sender, out.address);
        if (resolved && resolved->is_error()) return illegal();
    }
    return out;
}

Outcome cmd_mail(Server& server, Session& s, const std::vector<Token>& args) {
    const Settings& cfg = server.settings;
    if (cfg.helo_required && s.helo_name.empty()) return fail(server, s, "503 5.5.1 Error: send HELO/EHLO first");
    if (s.in_mail) return fail(server, s, "503 5.5.1 Error: nested MAIL command");
    if (s.bdat_active || s.bdat_failed) return fail(server, s, "503 5.5.1 Error: MAIL after BDAT");
    s.sasl_sender.clear();   // MAIL's AUTH= value (smtpd_sasl.cpp)
    std::string word;
    auto first_param = split_path_argument(args, "from:", word);
    if (!first_param) return fail(server, s, "501 5.5.4 Syntax: MAIL FROM:<address>");
    if (anvil_message_refused(server, s)) return Outcome::error;   // anvil: message rate
    auto addr = extract_address(server, s, word, true);
    if (addr.status != ExtractedAddress::Status::ok) return fail(server, s, "501 5.1.7 Bad sender address syntax");
    std::string encoding, envid;
    int ret = 0;
    bool smtputf8 = false;
    // A SIZE= value sticks until the transaction is reset (RSET, the end
    // of a message, a refused sender), as the reference's: a MAIL refused
    // for its SIZE= makes the next MAIL without one refused too.
    std::uint64_t size = s.declared_size;
    for (std::size_t i = *first_param; i < args.size(); ++i) {
        auto p = smtp::parse_esmtp_param(args[i].text);
        if (p.has_value && util::iequals(p.keyword, "BODY")) {
            if (util::iequals(p.value, "8BITMIME")) encoding = "8bit";
            else if (util::iequals(p.value, "7BIT")) encoding = "7bit";
            else return fail(server, s, fmt::format("555 5.5.4 Unsupported option: {}", p.text));
        } else if (p.has_value && util::iequals(p.keyword, "SIZE")) {
            auto n = smtp::parse_size(p.value);
            bool digits = !p.value.empty() && p.value.find_first_not_of("0123456789") == std::string::npos;
            if (!digits) return fail(server, s, "501 5.5.4 Bad message size syntax");
            // Past the largest file offset: refused at once.
            if (!n || *n > static_cast<std::uint64_t>(INT64_MAX))
                return fail(server, s, "552 5.3.4 Message size exceeds file system imposed limit");
            size = *n;
            s.declared_size = size;
        } else if (!p.has_value && util::iequals(p.keyword, "SMTPUTF8") && cfg.smtputf8_enable &&
                   !(s.ehlo_discard_mask & kSmtputf8)) {
            smtputf8 = true;
        } else if (p.has_value && (util::iequals(p.keyword, "RET") || util::iequals(p.keyword, "ENVID")) &&
                   (s.ehlo_discard_mask & kDsn)) {
            return fail(server, s, "501 5.7.1 DSN support is disabled");
        } else if (p.has_value && util::iequals(p.keyword, "RET")) {
            auto r = smtp::parse_dsn_ret(p.value);
            if (!r || ret) return fail(server, s, "501 5.5.4 Bad RET parameter syntax");
            ret = *r;
        } else if (p.has_value && util::iequals(p.keyword, "ENVID")) {
            auto v = smtp::xtext_decode(p.value);
            bool printable_ok = v && !v->empty();
            if (v)
                for (char c : *v)
                    if (static_cast<unsigned char>(c) < 32 || static_cast<unsigned char>(c) > 126) printable_ok = false;
            if (!printable_ok || !envid.empty()) return fail(server, s, "501 5.5.4 Bad ENVID parameter syntax");
            envid = *v;
        } else if (p.has_value && util::iequals(p.keyword, "AUTH")) {
            // Without SASL the AUTH= parameter is accepted and ignored.
            if (sasl_active(server)) {   // smtpd_sasl.cpp
                if (auto err = sasl_mail_option(server, s, p.value)) return fail(server, s, *err);
            }
        } else {
            return fail(server, s, fmt::format("555 5.5.4 Unsupported option: {}", p.text));
        }
    }
    s.sender = addr.address;
    s.declared_size = size;
    CheckState st = check_state(s);
    st.has_sender = true;
    st.message_size = size;
    if (size > 0 && apply_check(server, s, server.restrictions->check_size(st))) {
        s.sender.clear();
        return Outcome::error;
    }
    // (The stand-alone server of sendmail -bs checks the size only.)
    if (!server.standalone && apply_check(server, s, server.restrictions->check_mail(st))) {
        s.sender.clear();
        s.declared_size = 0;
        server.restrictions->reset_transaction();
        return Outcome::error;
    }
    // local_header_rewrite_clients decides how cleanup rewrites this
    // transaction's headers ("local" or "remote"); a table error refuses MAIL.
    if (!server.standalone && apply_check(server, s, server.restrictions->check_rewrite(st, s.rewrite_context))) {
        s.sender.clear();
        s.declared_size = 0;
        server.restrictions->reset_transaction();
        return Outcome::error;
    }
    s.in_mail = true;
    {
        // check_policy_service's "instance": one per transaction.
        timeval now{};
        gettimeofday(&now, nullptr);
        s.instance = fmt::format("{:x}.{:x}.{:x}.{:x}", static_cast<unsigned>(::getpid()),
                                 static_cast<unsigned long>(now.tv_sec), static_cast<unsigned long>(now.tv_usec),
                                 s.instance_seqno++);
    }
    s.encoding = encoding;
    s.dsn_envid = envid;
    s.dsn_ret = ret;
    s.smtputf8 = smtputf8;
    if (proxy_enabled(server)) {   // smtpd_proxy.cpp: a before-queue filter takes the transaction
        s.proxy_mail = s.command_line;
        if (!cfg.delay_open_until_valid_rcpt && !proxy_open(server, s)) {
            reset_transaction(server, s);
            return Outcome::error;
        }
        reply(server, s, "250 2.1.0 Ok");
        return Outcome::ok;
    }
    if (!cfg.delay_open_until_valid_rcpt && !open_cleanup(server, s)) {
        reset_transaction(server, s);
        return fail(server, s, "451 4.3.0 Error: queue file write error");
    }
    reply(server, s, "250 2.1.0 Ok");
    return Outcome::ok;
}

Outcome cmd_rcpt(Server& server, Session& s, const std::vector<Token>& args) {
    const Settings& cfg = server.settings;
    if (!s.in_mail) return fail(server, s, "503 5.5.1 Error: need MAIL command");
    if (s.bdat_active || s.bdat_failed) return fail(server, s, "503 5.5.1 Error: RCPT after BDAT");
    std::string word;
    auto first_param = split_path_argument(args, "to:", word);
    if (!first_param) return fail(server, s, "501 5.5.4 Syntax: RCPT TO:<address>");
    if (anvil_recipient_refused(server, s)) return Outcome::error;   // anvil: recipient rate
    auto addr = extract_address(server, s, word, false);
    if (addr.status != ExtractedAddress::Status::ok) return fail(server, s, "501 5.1.3 Bad recipient address syntax");
    int notify = 0;
    std::string orcpt;
    bool dsn_ok = !(s.ehlo_discard_mask & kDsn);
    for (std::size_t i = *first_param; i < args.size(); ++i) {
        auto p = smtp::parse_esmtp_param(args[i].text);
        if (p.has_value && (util::iequals(p.keyword, "NOTIFY") || util::iequals(p.keyword, "ORCPT")) && !dsn_ok) {
            return fail(server, s, "501 5.7.1 DSN support is disabled");
        } else if (p.has_value && util::iequals(p.keyword, "NOTIFY")) {
            auto n = smtp::parse_dsn_notify(p.value);
            if (!n || notify) {
                // The reference names the first word it does not know.
                if (!p.value.empty()) {
                    for (auto w : util::split_tokens(p.value, ",")) {
                        if (!util::iequals(w, "NEVER") && !util::iequals(w, "SUCCESS") && !util::iequals(w, "FAILURE") &&
                            !util::iequals(w, "DELAY")) {
                            util::msg_warn("unknown DSN NOTIFY command value \"{}\" in \"{}\"", w, p.value);
                            break;
                        }
                    }
                }
                return fail(server, s, "501 5.5.4 Error: Bad NOTIFY parameter syntax");
            }
            notify = *n;
        } else if (p.has_value && util::iequals(p.keyword, "ORCPT")) {
            auto semi = p.value.find(';');
            std::optional<std::string> decoded;
            if (semi != std::string::npos && semi > 0) {
                std::string_view coded = std::string_view(p.value).substr(semi + 1);
                decoded = util::iequals(std::string_view(p.value).substr(0, semi), "utf-8") ? uxtext_decode(coded)
                                                                                            : smtp::xtext_decode(coded);
            }
            // An empty address is accepted (as the reference does); a NUL
            // byte in the decoded address is not.
            if (!decoded || decoded->find('\0') != std::string::npos || !orcpt.empty())
                return fail(server, s, "501 5.5.4 Error: Bad ORCPT parameter syntax");
            orcpt = p.value.substr(0, semi) + ";" + *decoded;
        } else {
            return fail(server, s, fmt::format("555 5.5.4 Unsupported option: {}", p.text));
        }
    }
    if (s.rcpt_count >= cfg.recipient_limit) {
        reply(server, s, "452 4.5.3 Error: too many recipients");
        // The reference counts the first smtpd_recipient_overshoot_limit
        // of these as completed commands, the rest as errors.
        if (s.rcpt_overshoot++ < cfg.recipient_overshoot_limit) return Outcome::ok;
        s.error_count++;
        return Outcome::error;
    }
    CheckState st = check_state(s);
    st.recipient = addr.address;
    if (!server.standalone && apply_check(server, s, server.restrictions->check_rcpt(st))) return Outcome::error;
    if (proxy_enabled(server)) return proxy_rcpt(server, s, addr.address);   // smtpd_proxy.cpp
    if (!s.cleanup) {
        if (!open_cleanup(server, s)) return fail(server, s, "451 4.3.0 Error: queue file write error");
    }
    auto& c = *s.cleanup;
    if (notify) (void)c.write_attr("notify_flags", std::to_string(notify));
    (void)c.write_attr("dsn_orig_rcpt", orcpt.empty() ? "rfc822;" + addr.external : orcpt);
    (void)c.write(rec::kRcpt, addr.address);
    s.rcpt_count++;
    s.recipient = addr.address;
    reply(server, s, "250 2.1.5 Ok");
    return Outcome::ok;
}

}  // namespace pf::smtpd
