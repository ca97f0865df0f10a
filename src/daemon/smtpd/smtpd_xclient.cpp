// XCLIENT and XFORWARD, the reference's extensions for clients that are
// proxies or content filters: XCLIENT replaces what smtpd knows about the
// client (and starts the session over with a new greeting), XFORWARD
// hands over the original client's attributes for the log and the queue
// file of the next message. Both are allowed only to the clients in
// smtpd_authorized_xclient_hosts / smtpd_authorized_xforward_hosts.
//
// Trust: attribute values are client bytes in xtext; each is decoded and
// checked (addresses, ports, protocol and source words) before use.
#include "daemon/smtpd/smtpd_session.h"
#include "daemon/smtpd/smtpd_sasl.h"

#include "config/mail_params.h"
#include "smtp/xtext.h"
#include "util/utf8.h"
#include "util/strings.h"

#include <arpa/inet.h>
#include <expected>
#include <fmt/core.h>
#include <sys/socket.h>

namespace pf::smtpd {

namespace {

constexpr std::string_view kUnavailable = "[UNAVAILABLE]";
constexpr std::string_view kTempUnavail = "[TEMPUNAVAIL]";

// "IPv6:" addresses only when inet_protocols enables IPv6 (otherwise the
// reference takes the text as an IPv4 address, which it is not).
bool valid_address(std::string_view text, std::string& addr, int& family, bool ipv6) {
    std::string s(text);
    unsigned char buf[sizeof(in6_addr)];
    if (ipv6 && util::iequals(std::string_view(s).substr(0, std::min<std::size_t>(5, s.size())), "IPv6:")) {
        std::string v6 = s.substr(5);
        if (inet_pton(AF_INET6, v6.c_str(), buf) != 1) return false;
        char out[INET6_ADDRSTRLEN];
        inet_ntop(AF_INET6, buf, out, sizeof out);
        addr = out;
        family = AF_INET6;
        return true;
    }
    if (inet_pton(AF_INET, s.c_str(), buf) != 1) return false;
    addr = s;
    family = AF_INET;
    return true;
}

// Up to five digits, as the reference checks (99999 passes).
bool valid_port(std::string_view text) {
    if (text.empty() || text.size() > 5) return false;
    for (char c : text)
        if (c < '0' || c > '9') return false;
    return true;
}

// One "NAME=value" word as the reference reads it: the value is xtext
// when it decodes as such (otherwise taken as it is), non-printable bytes
// become '?'. On error the reply is returned.
struct Attribute {
    std::string name;   // as the client wrote it
    std::string value;
};

std::optional<std::string> read_attribute(const Token& t, bool utf8, Attribute& out) {
    auto eq = t.text.find('=');
    if (eq == std::string::npos || eq + 1 == t.text.size())
        return std::string("501 5.5.4 Error: attribute=value expected");
    std::string_view raw = std::string_view(t.text).substr(eq + 1);
    if (raw.size() > 255) return std::string("501 5.5.4 Error: attribute value too long");
    out.name = t.text.substr(0, eq);
    auto decoded = smtp::xtext_decode_lenient(raw);
    std::string value = decoded ? *decoded : std::string(raw);
    // A decoded NUL ends the value, as it ends a C string.
    value.resize(std::min(value.size(), value.find('\0')));
    out.value = util::printable(value, utf8);
    return std::nullopt;
}

// The characters that may not appear in a name or address taken into
// Received: headers and logs: replaced by '?'.
std::string neuter(std::string value) {
    for (auto& c : value)
        if (std::string_view(" <>()\\\";@").find(c) != std::string_view::npos) c = '?';
    return value;
}

bool is_unavailable(std::string_view v) { return util::iequals(v, kUnavailable); }

// NAME and REVERSE_NAME values: 2 (a name), 5 ([UNAVAILABLE]) or 4
// ([TEMPUNAVAIL]).
int name_code(std::string_view v) {
    if (util::iequals(v, kUnavailable)) return 5;
    if (util::iequals(v, kTempUnavail)) return 4;
    return 2;
}

std::string bad_syntax(std::string_view name, std::string_view value) {
    return fmt::format("501 5.5.4 Bad {} syntax: {}", name, value);
}

// An ADDR or DESTADDR value: the address as logged, as in Received: and
// its family; else the reply for the bad value (neutered, as the
// reference shows it).
struct HostAddress {
    std::string addr, rfc_addr;
    int family = 0;
};

std::expected<HostAddress, std::string> host_address(const Server& server, std::string_view attr, const std::string& v) {
    std::string value = neuter(v);
    HostAddress out;
    if (!valid_address(value, out.addr, out.family, server.settings.ipv6_enabled))
        return std::unexpected(bad_syntax(attr, value));
    out.rfc_addr = out.family == AF_INET6 ? "IPv6:" + out.addr : out.addr;
    return out;
}

}  // namespace

// Decided for the client of the connection, and again after each XCLIENT
// that succeeded (not after one that failed half-way).
bool xclient_allowed(Server& server, const Session& s) {
    if (s.xclient_permit < 0)
        s.xclient_permit = server.settings.xclient_hosts->match(s.name, s.addr) == mail::NamadrList::Result::yes;
    return s.xclient_permit == 1;
}

bool xforward_allowed(Server& server, const Session& s) {
    if (s.xclient_done) return server.settings.xforward_hosts->match(s.real_name, s.real_addr) == mail::NamadrList::Result::yes;
    return server.settings.xforward_hosts->match(s.name, s.addr) == mail::NamadrList::Result::yes;
}

// As the reference, each attribute takes effect as it is read: a bad one
// ends the command with an error reply and leaves the earlier ones in
// place (but the session's name[addr] for the log, the permissions and
// the greeting change only when the whole command succeeded).
Outcome cmd_xclient(Server& server, Session& s, const std::vector<Token>& args) {
    if (s.in_mail) return fail(server, s, "503 5.5.1 Error: MAIL transaction in progress");
    if (args.empty()) return fail(server, s, "501 5.5.4 Syntax: XCLIENT attribute=value...");
    if (!xclient_allowed(server, s)) return fail(server, s, "550 5.7.0 Error: insufficient authorization");
    if (!s.xclient_done) {
        s.real_name = s.name;
        s.real_addr = s.addr;
        s.xclient_done = true;
    }
    bool update_namaddr = false, got_helo = false, got_proto = false, got_login = false;
    for (const auto& t : args) {
        Attribute a;
        if (auto err = read_attribute(t, server.settings.smtputf8_enable, a)) return fail(server, s, *err);
        const std::string& v = a.value;
        if (util::iequals(a.name, "NAME")) {
            int code = name_code(v);
            if (code == 2 && !config::valid_hostname(v, false)) return fail(server, s, bad_syntax("NAME", v));
            s.name_status = code;
            s.name = code == 2 ? v : "unknown";
            update_namaddr = true;
            if (code == 2) {
                s.reverse_name = s.name;
                s.reverse_name_status = code;
            }
        } else if (util::iequals(a.name, "REVERSE_NAME")) {
            int code = name_code(v);
            if (code == 2 && !config::valid_hostname(v, false)) return fail(server, s, bad_syntax("REVERSE_NAME", v));
            s.reverse_name_status = code;
            s.reverse_name = code == 2 ? v : "unknown";
        } else if (util::iequals(a.name, "ADDR")) {
            if (is_unavailable(v)) {
                s.addr = "unknown";
                s.rfc_addr = "unknown";
            } else {
                auto host = host_address(server, "ADDR", v);
                if (!host) return fail(server, s, host.error());
                s.addr = host->addr;
                s.rfc_addr = host->rfc_addr;
                s.addr_family = host->family;
            }
            update_namaddr = true;
        } else if (util::iequals(a.name, "PORT")) {
            if (!is_unavailable(v) && !valid_port(v)) return fail(server, s, bad_syntax("PORT", v));
            s.port = is_unavailable(v) ? "unknown" : v;
            update_namaddr = true;
        } else if (util::iequals(a.name, "HELO")) {
            if (is_unavailable(v)) {
                s.helo_name.clear();
            } else {
                s.helo_name = neuter(v);
            }
            got_helo = true;
        } else if (util::iequals(a.name, "PROTO")) {
            if (!util::iequals(v, "SMTP") && !util::iequals(v, "ESMTP")) return fail(server, s, bad_syntax("PROTO", v));
            s.protocol = util::iequals(v, "SMTP") ? "SMTP" : "ESMTP";
            got_proto = true;
        } else if (util::iequals(a.name, "LOGIN")) {
            if (!is_unavailable(v)) {
                sasl_xclient_login(server, s, v);   // smtpd_sasl.cpp
                got_login = true;
            }
        } else if (util::iequals(a.name, "DESTADDR")) {
            if (is_unavailable(v)) {
                s.server_addr = "unknown";
            } else {
                auto host = host_address(server, "DESTADDR", v);
                if (!host) return fail(server, s, host.error());
                s.server_addr = host->addr;
            }
        } else if (util::iequals(a.name, "DESTPORT")) {
            if (!is_unavailable(v) && !valid_port(v)) return fail(server, s, bad_syntax("DESTPORT", v));
            s.server_port = is_unavailable(v) ? "unknown" : v;
        } else {
            return fail(server, s, fmt::format("501 5.5.4 Bad XCLIENT attribute name: {}", a.name));
        }
    }
    if (update_namaddr) s.namaddr = make_namaddr(s);
    s.xclient_permit = -1;
    reset_transaction(server, s);
    if (!got_helo) s.helo_name.clear();
    if (!got_proto) s.protocol = "SMTP";
    if (!got_login) sasl_xclient_login(server, s, std::nullopt);
    s.ehlo_offered_pipelining = false;
    server.restrictions->end_session();
    server.restrictions->begin_session();
    greet_client(server, s);
    // The reference counts XCLIENT as a command that did not complete: the
    // session it belonged to is over.
    return Outcome::error;
}

Outcome cmd_xforward(Server& server, Session& s, const std::vector<Token>& args) {
    if (s.in_mail) return fail(server, s, "503 5.5.1 Error: MAIL transaction in progress");
    if (args.empty()) return fail(server, s, "501 5.5.4 Syntax: XFORWARD attribute=value...");
    if (!xforward_allowed(server, s)) return fail(server, s, "550 5.7.0 Error: insufficient authorization");
    Xforward& xf = s.xforward;
    if (!xf.present) {
        xf = Xforward{};
        xf.present = true;
        xf.name = xf.addr = xf.rfc_addr = xf.port = xf.namaddr = xf.protocol = "unknown";
    }
    bool client = false, domain = false, update_namaddr = false;
    for (const auto& t : args) {
        Attribute a;
        if (auto err = read_attribute(t, server.settings.smtputf8_enable, a)) return fail(server, s, *err);
        const std::string& v = a.value;
        if (util::iequals(a.name, "NAME")) {
            std::string value = is_unavailable(v) ? std::string("unknown") : neuter(v);
            if (!is_unavailable(v) && !config::valid_hostname(value, false)) return fail(server, s, bad_syntax("NAME", value));
            xf.name = value;
            client = update_namaddr = true;
        } else if (util::iequals(a.name, "ADDR")) {
            if (is_unavailable(v)) {
                xf.addr = "unknown";
            } else {
                auto host = host_address(server, "ADDR", v);
                if (!host) return fail(server, s, host.error());
                xf.addr = host->addr;
                xf.rfc_addr = host->rfc_addr;
            }
            client = update_namaddr = true;
        } else if (util::iequals(a.name, "PORT")) {
            if (!is_unavailable(v) && !valid_port(v)) return fail(server, s, bad_syntax("PORT", v));
            xf.port = is_unavailable(v) ? "unknown" : v;
            client = update_namaddr = true;
        } else if (util::iequals(a.name, "HELO")) {
            xf.helo = is_unavailable(v) ? std::nullopt : std::optional<std::string>(neuter(v));
            client = true;
        } else if (util::iequals(a.name, "PROTO")) {
            if (!is_unavailable(v) && v.size() > 64) return fail(server, s, bad_syntax("PROTO", v));
            xf.protocol = is_unavailable(v) ? std::string("unknown") : neuter(v);
            client = true;
        } else if (util::iequals(a.name, "IDENT")) {
            xf.ident = is_unavailable(v) ? std::nullopt : std::optional<std::string>(neuter(v));
        } else if (util::iequals(a.name, "SOURCE")) {
            std::string_view value = is_unavailable(v) ? std::string_view("LOCAL") : std::string_view(v);
            if (util::iequals(value, "LOCAL")) xf.domain = "local";
            else if (util::iequals(value, "REMOTE")) xf.domain = "remote";
            else return fail(server, s, bad_syntax("SOURCE", value));
            domain = true;
        } else {
            return fail(server, s, fmt::format("501 5.5.4 Bad XFORWARD attribute name: {}", a.name));
        }
    }
    xf.client = xf.client || client;
    xf.domain_set = xf.domain_set || domain;
    if (update_namaddr)
        xf.namaddr = xf.addr != "unknown" ? fmt::format("{}[{}]", xf.name, xf.addr) : xf.name;
    reply(server, s, "250 2.0.0 Ok");
    return Outcome::ok;
}

}  // namespace pf::smtpd
