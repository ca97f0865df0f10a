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

#include "smtp/xtext.h"
#include "util/strings.h"

#include <arpa/inet.h>
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

struct Attribute {
    std::string name;   // upper case
    std::string value;  // decoded
};

// Splits "NAME=value" words; on error the reply is returned.
std::optional<std::string> parse_attributes(const std::vector<Token>& args, std::string_view command,
                                            const std::vector<std::string_view>& known, std::vector<Attribute>& out) {
    for (const auto& t : args) {
        auto eq = t.text.find('=');
        if (eq == std::string::npos || eq == 0 || eq + 1 == t.text.size())
            return std::string("501 5.5.4 Error: attribute=value expected");
        std::string name = t.text.substr(0, eq);
        std::string upper_name = name;
        for (auto& c : upper_name)
            if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
        bool ok = false;
        for (auto k : known)
            if (upper_name == k) ok = true;
        if (!ok) return fmt::format("501 5.5.4 Bad {} attribute name: {}", command, name);
        auto value = smtp::xtext_decode(std::string_view(t.text).substr(eq + 1));
        if (!value) return fmt::format("501 5.5.4 Bad {} syntax: {}", upper_name, t.text.substr(eq + 1));
        out.push_back({upper_name, *value});
    }
    return std::nullopt;
}

}  // namespace

bool xclient_allowed(Server& server, const Session& s) {
    return server.settings.xclient_hosts->match(s.name, s.addr) == NamadrList::Result::yes;
}

bool xforward_allowed(Server& server, const Session& s) {
    if (s.xclient_done) return server.settings.xforward_hosts->match(s.real_name, s.real_addr) == NamadrList::Result::yes;
    return server.settings.xforward_hosts->match(s.name, s.addr) == NamadrList::Result::yes;
}

Outcome cmd_xclient(Server& server, Session& s, const std::vector<Token>& args) {
    if (!xclient_allowed(server, s)) return fail(server, s, "550 5.7.0 Error: insufficient authorization");
    if (s.in_mail) return fail(server, s, "503 5.5.1 Error: MAIL transaction in progress");
    if (args.empty()) return fail(server, s, "501 5.5.4 Syntax: XCLIENT attribute=value...");
    std::vector<Attribute> attrs;
    static const std::vector<std::string_view> known = {"NAME", "REVERSE_NAME", "ADDR", "PORT", "PROTO",
                                                        "HELO", "LOGIN", "DESTADDR", "DESTPORT"};
    if (auto err = parse_attributes(args, "XCLIENT", known, attrs)) return fail(server, s, *err);
    // Every value is checked before any is applied.
    std::string name = s.name, reverse_name = s.reverse_name, addr = s.addr, rfc_addr = s.rfc_addr, port = s.port;
    std::string helo = s.helo_name, protocol = "SMTP", server_addr = s.server_addr, server_port = s.server_port;
    int name_status = s.name_status, reverse_status = s.reverse_name_status, family = s.addr_family;
    bool helo_given = false;
    std::optional<std::string> login;
    bool reverse_given = false;
    for (const auto& a : attrs)
        if (a.name == "REVERSE_NAME") reverse_given = true;
    for (const auto& a : attrs) {
        bool unavailable = a.value == kUnavailable;
        bool tempunavail = a.value == kTempUnavail;
        if (a.name == "NAME") {
            if (unavailable || tempunavail) {
                name = "unknown";
                name_status = tempunavail ? 4 : 5;
            } else {
                name = util::to_lower(a.value);
                name_status = 2;
            }
            // Without REVERSE_NAME a real name stands for the reverse name too.
            if (!reverse_given && !unavailable && !tempunavail) {
                reverse_name = name;
                reverse_status = name_status;
            }
        } else if (a.name == "REVERSE_NAME") {
            if (unavailable || tempunavail) {
                reverse_name = "unknown";
                reverse_status = tempunavail ? 4 : 5;
            } else {
                reverse_name = util::to_lower(a.value);
                reverse_status = 2;
            }
        } else if (a.name == "ADDR") {
            if (unavailable) {
                addr = "unknown";
                rfc_addr = "unknown";
                family = 0;
            } else {
                std::string out;
                int f = 0;
                if (!valid_address(a.value, out, f, server.settings.ipv6_enabled)) return fail(server, s, fmt::format("501 5.5.4 Bad ADDR syntax: {}", a.value));
                addr = out;
                rfc_addr = f == AF_INET6 ? "IPv6:" + out : out;
                family = f;
            }
        } else if (a.name == "PORT") {
            if (unavailable) port = "unknown";
            else if (!valid_port(a.value)) return fail(server, s, fmt::format("501 5.5.4 Bad PORT syntax: {}", a.value));
            else port = a.value;
        } else if (a.name == "PROTO") {
            if (unavailable) protocol = "SMTP";
            else if (util::iequals(a.value, "SMTP") || util::iequals(a.value, "ESMTP")) {
                std::string p = a.value;
                for (auto& c : p)
                    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
                protocol = p;
            } else {
                return fail(server, s, fmt::format("501 5.5.4 Bad PROTO syntax: {}", a.value));
            }
        } else if (a.name == "HELO") {
            helo_given = true;
            helo = unavailable ? std::string() : a.value;
        } else if (a.name == "LOGIN") {
            if (!unavailable) login = a.value;   // smtpd_sasl.cpp
        } else if (a.name == "DESTADDR") {
            if (!unavailable) {
                std::string out;
                int f = 0;
                if (!valid_address(a.value, out, f, server.settings.ipv6_enabled))
                    return fail(server, s, fmt::format("501 5.5.4 Bad DESTADDR syntax: {}", a.value));
                server_addr = out;
            }
        } else if (a.name == "DESTPORT") {
            if (!unavailable && !valid_port(a.value))
                return fail(server, s, fmt::format("501 5.5.4 Bad DESTPORT syntax: {}", a.value));
            if (!unavailable) server_port = a.value;
        }
    }
    if (!s.xclient_done) {
        s.real_name = s.name;
        s.real_addr = s.addr;
    }
    s.xclient_done = true;
    s.name = name;
    s.reverse_name = reverse_name;
    s.addr = addr;
    s.rfc_addr = rfc_addr;
    s.port = port;
    s.name_status = name_status;
    s.reverse_name_status = reverse_status;
    s.addr_family = family;
    s.server_addr = server_addr;
    s.server_port = server_port;
    s.namaddr = make_namaddr(s);
    reset_transaction(server, s);
    s.helo_name = helo_given ? helo : std::string();
    s.protocol = protocol;
    s.ehlo_offered_pipelining = false;
    sasl_xclient_login(server, s, login);   // smtpd_sasl.cpp
    server.restrictions->end_session();
    server.restrictions->begin_session();
    greet_client(server, s);
    // The reference counts XCLIENT as a command that did not complete: the
    // session it belonged to is over.
    return Outcome::error;
}

Outcome cmd_xforward(Server& server, Session& s, const std::vector<Token>& args) {
    if (!xforward_allowed(server, s)) return fail(server, s, "550 5.7.0 Error: insufficient authorization");
    if (s.in_mail) return fail(server, s, "503 5.5.1 Error: MAIL transaction in progress");
    if (args.empty()) return fail(server, s, "501 5.5.4 Syntax: XFORWARD attribute=value...");
    std::vector<Attribute> attrs;
    static const std::vector<std::string_view> known = {"NAME", "ADDR", "PORT", "PROTO", "HELO", "IDENT", "SOURCE"};
    if (auto err = parse_attributes(args, "XFORWARD", known, attrs)) return fail(server, s, *err);
    Xforward xf = s.xforward;
    for (const auto& a : attrs) {
        bool unavailable = a.value == kUnavailable || a.value == kTempUnavail;
        if (a.name == "NAME") {
            xf.name = unavailable ? "unknown" : util::to_lower(a.value);
        } else if (a.name == "ADDR") {
            if (unavailable) {
                xf.addr = "unknown";
            } else {
                std::string out;
                int f = 0;
                if (!valid_address(a.value, out, f, server.settings.ipv6_enabled)) return fail(server, s, fmt::format("501 5.5.4 Bad ADDR syntax: {}", a.value));
                xf.addr = out;
            }
        } else if (a.name == "PORT") {
            if (unavailable) xf.port = "unknown";
            else if (!valid_port(a.value)) return fail(server, s, fmt::format("501 5.5.4 Bad PORT syntax: {}", a.value));
            else xf.port = a.value;
        } else if (a.name == "PROTO") {
            xf.protocol = unavailable ? std::string() : a.value;
        } else if (a.name == "HELO") {
            xf.helo = unavailable ? std::string() : a.value;
        } else if (a.name == "IDENT") {
            xf.ident = unavailable ? std::string() : a.value;
        } else if (a.name == "SOURCE") {
            if (util::iequals(a.value, "LOCAL")) xf.domain = "local";
            else if (util::iequals(a.value, "REMOTE")) xf.domain = "remote";
            else if (!unavailable) return fail(server, s, fmt::format("501 5.5.4 Bad SOURCE syntax: {}", a.value));
        }
    }
    xf.used = true;
    s.xforward = xf;
    reply(server, s, "250 2.0.0 Ok");
    return Outcome::ok;
}

}  // namespace pf::smtpd
