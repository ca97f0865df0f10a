// One SMTP conversation, as the reference's smtpd runs it: the client's
// name and address, "connect from", the greeting, the command loop (bad
// syntax, smtpd_noop_commands, forbidden non-SMTP commands, improper
// pipelining, unknown commands, the error limits, the junk command
// limit), and at the end "lost connection/timeout/too many errors after X"
// and the "disconnect from" line with the per-command counters.
//
// Trust: every byte from the socket is hostile: lines are bounded by
// line_length_limit and only compared, copied or logged (escaped).
#include "daemon/smtpd/smtpd_session.h"
#include "daemon/smtpd/smtpd_sasl.h"

#include "daemon/smtpd/smtpd_anvil.h"
#include "daemon/smtpd/smtpd_stdio.h"
#include "daemon/smtpd/smtpd_upstream.h"

#include "mail/address_hostaddr.h"
#include "mail/mail_date.h"
#include "smtp/smtp_reply.h"
#include "util/escape.h"
#include "util/msg.h"
#include "util/strings.h"
#include "util/utf8.h"

#include <arpa/inet.h>
#include <fmt/core.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <optional>

namespace pf::smtpd {

namespace {

// Printable address and port of a socket address; IPv4-mapped IPv6
// addresses read as IPv4.
void sockaddr_text(const sockaddr_storage& ss, std::string& addr, std::string& port, int& family) {
    char buf[INET6_ADDRSTRLEN] = "";
    if (ss.ss_family == AF_INET) {
        auto* sin = reinterpret_cast<const sockaddr_in*>(&ss);
        inet_ntop(AF_INET, &sin->sin_addr, buf, sizeof buf);
        port = std::to_string(ntohs(sin->sin_port));
        family = AF_INET;
    } else if (ss.ss_family == AF_INET6) {
        auto* sin6 = reinterpret_cast<const sockaddr_in6*>(&ss);
        if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) {
            in_addr v4;
            std::memcpy(&v4, &sin6->sin6_addr.s6_addr[12], 4);
            inet_ntop(AF_INET, &v4, buf, sizeof buf);
            family = AF_INET;
        } else {
            inet_ntop(AF_INET6, &sin6->sin6_addr, buf, sizeof buf);
            family = AF_INET6;
        }
        port = std::to_string(ntohs(sin6->sin6_port));
    } else {
        return;
    }
    addr = buf;
}

// The reference's peer lookup: reverse name, then the forward check that
// the name maps back to the address; "unknown" otherwise.
void lookup_peer_name(Server& server, Session& s, int fd, bool known);

// The endpoints come from postscreen's passed attributes, an upstream
// proxy's header (smtpd_upstream.h) or the socket; false when the upstream
// proxy gave no usable header (the session then ends with a 421).
bool lookup_peer(Server& server, Session& s, int fd) {
    ProxyPeer proxy = peer_from_pass_attributes(server, s) ? ProxyPeer::proxied
                                                           : peer_from_upstream_proxy(server, s, fd);
    lookup_peer_name(server, s, fd, proxy == ProxyPeer::proxied);
    return proxy != ProxyPeer::failed;
}

void lookup_peer_name(Server& server, Session& s, int fd, bool known) {
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    if (known) {
        // The address the proxy named, for the name lookup.
        addrinfo hints{};
        hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
        hints.ai_socktype = SOCK_STREAM;
        addrinfo* res = nullptr;
        if (int rc = getaddrinfo(s.addr.c_str(), s.port.c_str(), &hints, &res); rc != 0 || !res)
            util::msg_fatal("cannot convert client address/port to string: {}", gai_strerror(rc));
        std::memcpy(&ss, res->ai_addr, std::min<std::size_t>(res->ai_addrlen, sizeof ss));
        len = static_cast<socklen_t>(res->ai_addrlen);
        freeaddrinfo(res);
    } else if (getpeername(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0 ||
        (ss.ss_family != AF_INET && ss.ss_family != AF_INET6)) {
        // Not a network connection (stand-alone on a pipe): local client.
        s.name = "localhost";
        s.reverse_name = "localhost";
        s.addr = "127.0.0.1";
        s.rfc_addr = "127.0.0.1";
        s.port = "unknown";
        s.name_status = s.reverse_name_status = 2;
        s.addr_family = AF_INET;
        return;
    }
    if (!known) {
        sockaddr_text(ss, s.addr, s.port, s.addr_family);
        s.rfc_addr = s.addr_family == AF_INET6 ? "IPv6:" + s.addr : s.addr;
        sockaddr_storage local{};
        socklen_t llen = sizeof local;
        if (getsockname(fd, reinterpret_cast<sockaddr*>(&local), &llen) == 0) {
            int f = 0;
            sockaddr_text(local, s.server_addr, s.server_port, f);
        }
    }
    if (!server.settings.peername_lookup) return;
    char host[NI_MAXHOST];
    int rc = getnameinfo(reinterpret_cast<sockaddr*>(&ss), len, host, sizeof host, nullptr, 0, NI_NAMEREQD);
    if (rc != 0) {
        s.reverse_name_status = s.name_status = (rc == EAI_AGAIN) ? 4 : 5;
        return;
    }
    std::string name = util::to_lower(host);
    // A PTR record naming an address is no name (both names stay unknown).
    if (mail::valid_hostaddr(name, false)) {
        util::msg_warn("numeric hostname: {}", name);
        s.reverse_name_status = s.name_status = 5;
        return;
    }
    s.reverse_name = name;
    s.reverse_name_status = 2;
    // The forward lookup asks for the families inet_protocols enables.
    addrinfo hints{};
    hints.ai_family = server.settings.ipv4_enabled == server.settings.ipv6_enabled ? AF_UNSPEC
                      : server.settings.ipv4_enabled                              ? AF_INET
                                                                                  : AF_INET6;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* res = nullptr;
    rc = getaddrinfo(host, nullptr, &hints, &res);
    if (rc != 0) {
        util::msg_warn("hostname {} does not resolve to address {}: {}", name, s.addr, gai_strerror(rc));
        s.name_status = rc == EAI_AGAIN ? 4 : 5;
        return;
    }
    bool match = false;
    for (addrinfo* ai = res; ai; ai = ai->ai_next) {
        sockaddr_storage cand{};
        std::memcpy(&cand, ai->ai_addr, std::min<std::size_t>(ai->ai_addrlen, sizeof cand));
        std::string a, p;
        int f = 0;
        sockaddr_text(cand, a, p, f);
        if (a == s.addr) match = true;
    }
    freeaddrinfo(res);
    if (!match) {
        util::msg_warn("hostname {} does not resolve to address {}", name, s.addr);
        s.name_status = 6;
        return;
    }
    s.name = name;
    s.name_status = 2;
}

std::string upper(std::string_view text) {
    std::string out(text);
    for (auto& c : out)
        if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    return out;
}

// The command table, in the reference's order (the order of the counters
// in the disconnect line).
struct Command {
    const char* name;
    Outcome (*handler)(Server&, Session&, const std::vector<Token>&);
    bool limit;   // counts against smtpd_junk_command_limit
    bool last;    // input after it must wait for its reply
};

const Command kCommands[] = {
    {"helo", cmd_helo, true, true},     {"ehlo", cmd_ehlo, true, true},
    {"xclient", cmd_xclient, false, false}, {"xforward", cmd_xforward, false, false},
    {"starttls", cmd_starttls, false, false}, {"auth", cmd_auth, false, false},
    {"mail", cmd_mail, false, false},   {"rcpt", cmd_rcpt, false, false},
    {"data", cmd_data, false, true},    {"bdat", cmd_bdat, false, false},
    {"rset", cmd_rset, true, false},    {"noop", cmd_noop, true, true},
    {"vrfy", cmd_vrfy, true, true},     {"etrn", cmd_etrn, true, false},
    {"quit", cmd_quit, false, true},
};

// RFC 822 header name followed by ':' (the reference's is_header).
bool looks_like_header(std::string_view word) {
    std::size_t i = 0;
    while (i < word.size()) {
        unsigned char c = static_cast<unsigned char>(word[i]);
        if (c == ':') return i > 0;
        if (c <= ' ' || c >= 127) return false;
        ++i;
    }
    return false;
}

bool forbidden_command(Server& server, std::string_view word) {
    if (looks_like_header(word)) return true;
    std::string lower = util::to_lower(word);
    for (const auto& w : server.settings.forbidden_words)
        if (w == lower) return true;
    for (const auto& table : server.settings.forbidden_tables) {
        auto r = table->lookup(word);
        if (r.is_found()) return true;
    }
    return false;
}

std::string counters_text(const Session& s) {
    std::string out;
    auto add = [&](const char* name, int ok, int total) {
        if (total == 0) return;
        if (ok == total) out += fmt::format(" {}={}", name, ok);
        else out += fmt::format(" {}={}/{}", name, ok, total);
    };
    for (const auto& c : s.counts) add(c.name, c.ok, c.total);
    add(s.unknown.name, s.unknown.ok, s.unknown.total);
    if (s.commands_ok == s.commands_total && s.commands_total > 0) out += fmt::format(" commands={}", s.commands_ok);
    else out += fmt::format(" commands={}/{}", s.commands_ok, s.commands_total);
    return out;
}

}  // namespace

std::string make_namaddr(const Session& s) { return fmt::format("{}[{}]", s.name, s.addr); }

// smtpd_reject_footer with the session's values for $client_address,
// $client_name, $client_port, $reverse_client_name, $helo_name and
// $protocol, other $names from main.cf; "\n" starts another line.
std::string expand_footer(Server& server, const Session& s) {
    const std::string& raw = server.settings.reject_footer;
    std::string out;
    for (std::size_t i = 0; i < raw.size(); ++i) {
        char c = raw[i];
        if (c == '\\' && i + 1 < raw.size() && raw[i + 1] == 'n') {
            out.push_back('\n');
            ++i;
            continue;
        }
        if (c != '$' || i + 1 >= raw.size()) {
            out.push_back(c);
            continue;
        }
        std::string name;
        std::size_t j = i + 1;
        if (raw[j] == '{' || raw[j] == '(') {
            char close = raw[j] == '{' ? '}' : ')';
            auto end = raw.find(close, j);
            if (end == std::string::npos) {
                out.push_back(c);
                continue;
            }
            name = raw.substr(j + 1, end - j - 1);
            i = end;
        } else {
            while (j < raw.size() && (std::isalnum(static_cast<unsigned char>(raw[j])) || raw[j] == '_')) name.push_back(raw[j++]);
            if (name.empty()) {
                out.push_back(c);
                continue;
            }
            i = j - 1;
        }
        if (name == "client_address") out += s.addr;
        else if (name == "client_name") out += s.name;
        else if (name == "client_port") out += s.port;
        else if (name == "reverse_client_name") out += s.reverse_name;
        else if (name == "helo_name") out += s.helo_name;
        else if (name == "protocol") out += s.protocol;
        else if (server.config) out += server.config->get(name);
    }
    return out;
}

// A 4xx/5xx reply with smtpd_reject_footer: one more line per footer line,
// each with the reply's code and enhanced status code.
std::string with_footer(Server& server, const Session& s, std::string_view text) {
    std::string footer = expand_footer(server, s);
    std::string code(text.substr(0, 3));
    std::string_view rest = text.size() > 4 ? text.substr(4) : std::string_view();
    std::size_t dsn_len = smtp::enhanced_status_length(rest);
    std::string prefix = dsn_len ? std::string(rest.substr(0, dsn_len)) + " " : std::string();
    std::vector<std::string> lines{std::string(rest)};
    std::size_t start = 0;
    for (;;) {
        auto nl = footer.find('\n', start);
        lines.push_back(prefix + footer.substr(start, nl == std::string::npos ? std::string::npos : nl - start));
        if (nl == std::string::npos) break;
        start = nl + 1;
    }
    std::string out;
    for (std::size_t i = 0; i < lines.size(); ++i)
        out += code + (i + 1 < lines.size() ? "-" : " ") + lines[i] + "\r\n";
    return out;
}

void reply(Server& server, Session& s, std::string_view text) {
    bool error_reply = text.starts_with('4') || text.starts_with('5');
    if (error_reply && server.settings.error_sleep_time > 0 && s.error_count >= server.settings.soft_error_limit)
        ::sleep(static_cast<unsigned>(server.settings.error_sleep_time));
    if (error_reply && !server.settings.reject_footer.empty() && text.size() >= 4) {
        s.stream.write(with_footer(server, s, text));
    } else {
        s.stream.write(text);
        s.stream.write("\r\n");
    }
    (void)s.stream.flush();
    // 421 and 521 end the conversation (the reference hangs up after them).
    if (text.starts_with("421") || text.starts_with("521")) s.want_quit = true;
    // Once the conversation is over the client learns it at once (after
    // the TLS close_notify, smtpd_tls.cpp).
    if (s.want_quit) {
        smtpd_tls_stop(server, s);
        // (-S on stdin: the replies still wait in StdioTransport; they go
        // out at the end of the session.)
        if (s.stream.fd() != 0) ::shutdown(s.stream.fd(), SHUT_WR);
    }
}

Outcome fail(Server& server, Session& s, std::string_view text) {
    s.error_count++;
    reply(server, s, text);
    return Outcome::error;
}

CheckState check_state(const Session& s) {
    CheckState c;
    c.client_name = s.name;
    c.reverse_name = s.reverse_name;
    c.client_addr = s.addr;
    c.peer_addr = s.xclient_done ? s.real_addr : s.addr;
    c.client_port = s.port;
    c.name_status = static_cast<NameStatus>(s.name_status);
    c.reverse_name_status = static_cast<NameStatus>(s.reverse_name_status);
    c.server_addr = s.server_addr;
    c.server_port = s.server_port;
    c.address_family = s.addr_family;
    c.where = s.where;
    c.helo_name = s.helo_name;
    c.protocol = s.protocol;
    c.pipelining_violation = s.ill_pipelining;
    c.smtputf8 = s.smtputf8;
    c.has_sender = s.in_mail;
    c.sender = s.sender;
    c.recipient = s.recipient;
    c.queue_id = s.queue_id;
    c.message_size = s.declared_size;
    c.recipient_count = static_cast<std::size_t>(s.rcpt_count);
    c.instance = s.instance;   // smtpd_check_policy.cpp
    c.sasl_method = s.sasl_method;
    c.sasl_username = s.sasl_username;
    c.sasl_sender = s.sasl_sender;
    tls_check_state(s, c);   // TLS facts (smtpd_tls.cpp)
    return c;
}

bool apply_check(Server& server, Session& s, const CheckResult& result) {
    for (const auto& line : result.log) util::msg_info_text(line);
    if (result.hangup) {
        s.want_quit = true;
        return true;
    }
    if (!result.rejected()) return false;
    fail(server, s, result.reply);
    return true;
}

void reset_transaction(Server& server, Session& s) {
    s.cleanup.reset();   // closing without E: cleanup removes the file
    s.proxy.reset();     // smtpd_proxy.cpp: the filter connection closes without QUIT
    s.proxy_mail.clear();
    s.in_mail = false;
    s.sender.clear();
    s.encoding.clear();
    s.dsn_envid.clear();
    s.dsn_ret = 0;
    s.smtputf8 = false;
    s.declared_size = 0;
    s.queue_id.clear();
    s.cleanup_error.clear();
    s.rcpt_count = 0;
    s.recipient.clear();
    s.bdat_active = false;
    s.bdat_failed = false;
    s.bdat_total = 0;
    s.bdat_prev_cr = false;
    s.bdat_line.clear();
    s.in_header = true;
    s.saw_bare_lf = false;
    s.xforward = Xforward{};
    s.instance.clear();   // policy "instance"
    s.sasl_sender.clear();   // smtpd_sasl.cpp
    server.restrictions->reset_transaction();
}

void greet_client(Server& server, Session& s) {
    s.access_denied = false;
    // The stand-alone server (sendmail -bs) applies no client check.
    if (server.standalone) {
        reply(server, s, fmt::format("220 {}", server.settings.banner));
        return;
    }
    // anvil: connection count and rate limits (also for the client that
    // XCLIENT names); a 421 replaces the greeting.
    if (!anvil_connect(server, s)) return;
    CheckResult check = server.restrictions->check_client(check_state(s));
    for (const auto& line : check.log) util::msg_info_text(line);
    if (check.hangup) {
        s.want_quit = true;
        return;
    }
    if (check.rejected()) {
        // The refusal takes the greeting's place.
        s.access_denied = true;
        s.error_count++;
        reply(server, s, check.reply);
        return;
    }
    reply(server, s, fmt::format("220 {}", server.settings.banner));
}

void smtpd_session(Server& server, int fd) {
    const Settings& cfg = server.settings;
    Session s(fd, cfg.timeout);
    // sendmail -bs: commands on stdin (fd), replies on stdout.
    std::optional<StdioTransport> stdio;
    if (fd == 0) {
        stdio.emplace(0, 1);
        s.stream.set_transport(&*stdio);
    }
    for (const auto& c : kCommands) s.counts.push_back(CommandCount{c.name});
    bool peer_ok = lookup_peer(server, s, fd);
    s.namaddr = make_namaddr(s);
    util::msg_info("connect from {}", s.namaddr);
    ehlo_discard_setup(server, s);   // smtpd_commands.cpp
    server.restrictions->begin_session();
    // A client that talks before the greeting has violated the protocol:
    // logged once as pipelining "after CONNECT", as the reference checks
    // first thing (before the SASL set-up and the greeting). Not for the
    // stand-alone server, nor on a wrapper-mode TLS port, nor for a client
    // passed by postscreen (which ran its own pregreet test).
    if (peer_ok && !server.standalone && !server.passed && !cfg.tls.wrappermode && s.stream.input_pending()) {
        s.ill_pipelining = true;
        util::msg_info("improper command pipelining after {} from {}: {}", s.where, s.namaddr,
                       util::escape_bytes(s.stream.peek_buffered(100)));
    }
    sasl_connect(server, s);   // smtpd_sasl.cpp: SASL state, before the greeting

    // Greeting (smtpd_delay_reject=no client rejects come through check_client).
    // TLS wrapper mode (port 465): the handshake comes first (smtpd_tls.cpp).
    // greet_client() asks anvil about the connection limits.
    // An upstream proxy that sent no usable header: 421 in its place.
    // The header's bytes stay unread: the reference closes without a
    // shutdown first, so the client sees a reset after the reply.
    if (!peer_ok) {
        s.stream.write(fmt::format("421 4.3.0 {} Server local error\r\n", cfg.myhostname));
        (void)s.stream.flush();
        s.want_quit = true;
    } else if (!cfg.tls.wrappermode || smtpd_wrapper_start(server, s)) {
        greet_client(server, s);
    }

    std::string& end_reason = s.end_reason;
    for (;;) {
        if (s.want_quit) break;
        if (s.error_count >= cfg.hard_error_limit) {
            end_reason = "too many errors";
            reply(server, s, fmt::format("421 4.7.0 {} Error: too many errors", cfg.myhostname));
            break;
        }
        auto line = s.stream.read_line(cfg.line_limit, true);
        if (!line) {
            if (line.error() == smtp::StreamError::kTimeout) {
                end_reason = "timeout";
                reply(server, s, fmt::format("421 4.4.2 {} Error: timeout exceeded", cfg.myhostname));
            } else {
                end_reason = "lost connection";
            }
            break;
        }
        if (line->end == smtp::LineEnd::kNone && line->text.size() < cfg.line_limit) {
            // The client closed after a partial line: nothing to execute.
            end_reason = "lost connection";
            break;
        }
        if (line->text.size() >= cfg.line_limit)
            util::msg_warn("{}: request longer than {}: {:.30}...", s.namaddr, cfg.line_limit, line->text);
        if (line->end == smtp::LineEnd::kBareLf && cfg.bare_newline == BareNewline::reject &&
            cfg.bare_newline_exclusions->match(s.name, s.addr) != mail::NamadrList::Result::yes) {
            CheckState st = check_state(s);
            std::string log = reject_log_line(st, s.where, "bare <LF> received", s.in_mail, !s.recipient.empty());
            // The reference writes the text without a reply code here.
            util::msg_info_text(log);
            s.want_quit = true;
            reply(server, s, fmt::format("{} 5.5.2 {} Error: bare <LF> received", cfg.bare_newline_reject_code,
                                         cfg.myhostname));
            break;
        }
        s.command_line = line->text;
        // With SMTPUTF8 on, a command must be valid UTF-8; such a line is
        // refused before it counts as a command.
        if (cfg.smtputf8_enable && !util::valid_utf8(line->text)) {
            fail(server, s, "500 5.5.2 Error: bad UTF-8 syntax");
            continue;
        }
        // From here the reference handles the command as a C string: a NUL
        // byte ends it (its non-SMTP command warning shows the whole line).
        std::string whole_line;
        if (auto nul = line->text.find('\0'); nul != std::string::npos) {
            whole_line = line->text;
            line->text.resize(nul);
            s.command_line = line->text;
        }
        auto args = tokenize_command(line->text);
        if (args.empty()) {
            fail(server, s, "500 5.5.2 Error: bad syntax");
            continue;
        }
        std::string verb = util::to_lower(args.front().text);
        bool is_noop_command = false;
        for (const auto& n : cfg.noop_commands)
            if (n == verb) is_noop_command = true;
        if (is_noop_command) {
            reply(server, s, "250 2.0.0 Ok");
            if (s.junk_cmds++ > cfg.junk_command_limit) s.error_count++;
            continue;
        }
        const Command* cmd = nullptr;
        std::size_t index = 0;
        for (std::size_t i = 0; i < std::size(kCommands); ++i)
            if (verb == kCommands[i].name) {
                cmd = &kCommands[i];
                index = i;
            }
        s.commands_total++;
        if (!cmd) {
            s.unknown.total++;
            s.where = "UNKNOWN";
            if (forbidden_command(server, args.front().text)) {
                std::string_view shown = whole_line.empty() ? std::string_view(line->text) : std::string_view(whole_line);
                util::msg_warn("non-SMTP command from {}: {}", s.namaddr, util::escape_bytes(shown).substr(0, 100));
                s.want_quit = true;
                reply(server, s, "221 2.7.0 Error: I can break rules, too. Goodbye.");
                break;
            }
        } else {
            s.counts[index].total++;
        }
        // A client refused at connect time (smtpd_delay_reject = no) is
        // refused every command but QUIT, unknown ones included.
        if (s.access_denied && (!cmd || cmd->handler != cmd_quit)) {
            fail(server, s, fmt::format("503 5.7.0 Error: access denied for {}", s.namaddr));
            continue;
        }
        if (!cmd) {
            fail(server, s, "500 5.5.2 Error: command not recognized");
            continue;
        }
        // TLS level encrypt: only these commands before STARTTLS (smtpd_tls.cpp).
        if (cfg.tls.enforce_tls && !s.tls_active && cmd->handler != cmd_helo && cmd->handler != cmd_ehlo &&
            cmd->handler != cmd_xclient && cmd->handler != cmd_starttls && cmd->handler != cmd_noop &&
            cmd->handler != cmd_quit) {
            fail(server, s, "530 5.7.0 Must issue a STARTTLS command first");
            continue;
        }
        // Input that arrived before our reply to a command after which the
        // client must wait, or to any command outside an ESMTP session (a
        // known command: an unknown one is not checked).
        if (!server.standalone && !s.ill_pipelining && (cmd->last || !util::iequals(s.protocol, "ESMTP")) && s.stream.input_pending()) {
            s.ill_pipelining = true;
            std::string pending = s.stream.peek_buffered(100);  // the reference shows at most 100 bytes
            util::msg_info("improper command pipelining after {} from {}: {}", upper(cmd->name), s.namaddr,
                           util::escape_bytes(pending));
        }
        if (cmd->limit && s.junk_cmds++ > cfg.junk_command_limit) s.error_count++;
        s.where = upper(cmd->name);
        args.erase(args.begin());
        if (cmd->handler(server, s, args) == Outcome::ok) {
            s.counts[index].ok++;
            s.commands_ok++;
        }
        if (cmd->handler == cmd_quit) break;
    }
    anvil_disconnect(server, s);   // anvil: the connection ends
    smtpd_tls_stop(server, s);     // TLS: close_notify
    if (end_reason == "hangup") end_reason.clear();
    // A client that leaves right after a message is not worth a line
    // (the reference's END-OF-MESSAGE state); a timeout there is.
    if (!end_reason.empty() && !(s.where == "END-OF-MESSAGE" && end_reason == "lost connection")) {
        std::string where = s.where;
        if (s.where == "DATA content" || s.where == "BDAT content")
            where = fmt::format("{} ({} bytes)", s.where.substr(0, 4), s.data_bytes);
        util::msg_info("{} after {} from {}", end_reason, where, s.namaddr);
    }
    reset_transaction(server, s);
    server.restrictions->end_session();
    util::msg_info("disconnect from {}{}", s.namaddr, counters_text(s));
    if (stdio) (void)stdio->flush(cfg.timeout);
}

}  // namespace pf::smtpd
