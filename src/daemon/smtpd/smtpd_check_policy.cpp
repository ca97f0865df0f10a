// check_policy_service: the policy delegation protocol as the reference's
// smtpd speaks it. One request is "name=value" lines in a fixed order
// (request=smtpd_access_policy, protocol_state, protocol_name,
// client_address, ... policy_context) and an empty line; the answer is
// "action=..." and an empty line. The action is then treated as an access
// table answer. A server that cannot be reached, times out, or answers
// without an action (after smtpd_policy_service_try_limit attempts) gets
// smtpd_policy_service_default_action. Connections stay open across
// requests and sessions, one per server, until it has been idle for
// smtpd_policy_service_max_idle, open for smtpd_policy_service_max_ttl or
// used for smtpd_policy_service_request_limit requests (the reference's
// client closes it then, and connects again when next needed).
// The server may be given with per-server settings, as the reference
// accepts since Postfix 3.0:
//   check_policy_service { inet:host:port, timeout=10s, default_action=DUNNO,
//       try_limit=1, retry_delay=1s, policy_context=text, max_idle=300s,
//       max_ttl=1000s, request_limit=0 }
// they replace the smtpd_policy_service_* parameters for that server,
// which has a connection of its own.
//
// Trust: the policy server is outside input: lines are bounded, the
// action is checked like any table answer.
#include "daemon/smtpd/smtpd_check_impl.h"

#include "config/mail_params.h"
#include "util/brace_tokens.h"
#include "util/msg.h"
#include "util/strings.h"
#include "util/utf8.h"

#include <poll.h>
#include <unistd.h>

#include <fmt/core.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <map>
#include <optional>

namespace pf::smtpd {

namespace {

// The reference's xtext quoting for certificate names.
std::string xtext(std::string_view s) {
    std::string out;
    for (unsigned char c : s) {
        if (c < 33 || c > 126 || c == '+' || c == '=')
            out += fmt::format("+{:02X}", c);
        else
            out += static_cast<char>(c);
    }
    return out;
}

bool write_all(int fd, std::string_view data, int timeout_ms) {
    while (!data.empty()) {
        pollfd p{fd, POLLOUT, 0};
        if (poll(&p, 1, timeout_ms) <= 0) return false;
        ssize_t n = ::write(fd, data.data(), data.size());
        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN) continue;
            return false;
        }
        data.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
}

// Reads "name=value" lines up to an empty line; returns the action or an
// error text.
bool read_reply(int fd, int timeout_ms, std::string& action, std::string& why) {
    std::string buf;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    bool have_action = false;
    for (;;) {
        auto nl = buf.find('\n');
        if (nl != std::string::npos) {
            std::string line = buf.substr(0, nl);
            buf.erase(0, nl + 1);
            if (line.empty()) {
                if (!have_action) why = "missing attribute action";
                return have_action;
            }
            auto eq = line.find('=');
            if (eq == std::string::npos) {
                why = "malformed reply";
                return false;
            }
            if (line.compare(0, eq, "action") == 0) {
                action = line.substr(eq + 1);
                have_action = true;
            }
            continue;
        }
        if (buf.size() > 65536) {
            why = "reply too long";
            return false;
        }
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) {
            why = "timeout";
            return false;
        }
        pollfd p{fd, POLLIN, 0};
        int rc = poll(&p, 1, static_cast<int>(left.count()));
        if (rc == 0) {
            why = "timeout";
            return false;
        }
        if (rc < 0) {
            if (errno == EINTR) continue;
            why = std::strerror(errno);
            return false;
        }
        char tmp[4096];
        ssize_t n = ::read(fd, tmp, sizeof tmp);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            why = n == 0 ? "lost connection" : std::strerror(errno);
            return false;
        }
        buf.append(tmp, static_cast<std::size_t>(n));
    }
}

// One server's settings: the endpoint and the values that replace the
// smtpd_policy_service_* parameters.
struct PolicyServer {
    std::string endpoint;
    std::optional<int> timeout, try_limit, retry_delay, max_idle, max_ttl, request_limit;
    std::optional<std::string> default_action, context;
    bool ok = true;
};

PolicyServer parse_policy_server(std::string_view text) {
    PolicyServer out;
    if (text.empty() || text.front() != '{') {
        out.endpoint = std::string(text);
        return out;
    }
    util::BracedText inner = util::strip_braces(text);
    if (!inner.error.empty()) {
        util::msg_warn("{}", inner.error);
        out.ok = false;
        return out;
    }
    std::string_view cursor = inner.inner;
    bool first = true;
    while (auto token = util::next_braced_token(cursor, ", \t\r\n")) {
        std::string_view word = *token;
        if (first) {
            out.endpoint = std::string(word);
            first = false;
            continue;
        }
        // "name=value", blanks around '=' allowed ("name = value" gives
        // three tokens); a value with blanks comes in braces.
        std::string item(word);
        if (item.find('=') == std::string::npos || item.back() == '=') {
            while (auto more = util::next_braced_token(cursor, ", \t\r\n")) {
                item += std::string(*more);
                if (item.back() != '=') break;
            }
        }
        auto eq = item.find('=');
        if (eq == std::string::npos) {
            util::msg_warn("missing '=' after attribute name: \"{}\"", item);
            out.ok = false;
            continue;
        }
        std::string name(util::trim(std::string_view(item).substr(0, eq)));
        std::string value(util::trim(std::string_view(item).substr(eq + 1)));
        // A braced value keeps its braces, as in the reference (a
        // default_action "{450 ...}" is then no valid action).
        auto time_value = [&](std::optional<int>& slot) {
            auto v = config::parse_time_value(value, 's');
            if (!v || *v < 1) {
                util::msg_warn("invalid {} value: \"{}\"", name, value);
                out.ok = false;
            } else {
                slot = *v;
            }
        };
        if (name == "timeout") time_value(out.timeout);
        else if (name == "retry_delay") time_value(out.retry_delay);
        else if (name == "max_idle") time_value(out.max_idle);
        else if (name == "max_ttl") time_value(out.max_ttl);
        else if (name == "try_limit" || name == "request_limit") {
            auto v = config::parse_int_value(value, 1 << 30);
            if (!v || (name == "try_limit" && *v < 1)) {
                util::msg_warn("invalid {} value: \"{}\"", name, value);
                out.ok = false;
            } else {
                (name == "try_limit" ? out.try_limit : out.request_limit) = static_cast<int>(*v);
            }
        } else if (name == "default_action") out.default_action = value;
        else if (name == "policy_context") out.context = value;
        else {
            util::msg_warn("unknown attribute name: \"{}\"", name);
            out.ok = false;
        }
    }
    return out;
}

// When each open policy connection was made and last used, and how many
// requests it carried (by the same key as policy_fds).
struct ConnUse {
    std::time_t opened = 0;
    std::time_t last_used = 0;
    int requests = 0;
};
std::map<std::string, ConnUse, std::less<>>& conn_use() {
    static std::map<std::string, ConnUse, std::less<>> m;
    return m;
}

}  // namespace

// At the end of a session: the connections stay open for the next one
// (they are retired by age, idleness and use count when next needed).
void SmtpdCheck::Impl::close_policy_connections() {}

Status SmtpdCheck::Impl::check_policy_service(Eval& e, std::string_view server, std::string_view reply_name,
                                              std::string_view reply_class, std::string_view def_acl) {
    const CheckState& s = e.in;
    const PolicyServer options = parse_policy_server(server);
    std::string where = e.where == "BDAT" ? "DATA" : e.where;
    bool data_stage = util::iequals(e.where, "DATA") || util::iequals(e.where, "BDAT") ||
                      util::iequals(e.where, "END-OF-MESSAGE");
    bool tls = !s.tls_protocol.empty();
    auto cn = [&](const std::string& v) { return tls && s.ccert_verified && !v.empty() ? xtext(v) : std::string(); };
    std::string request;
    auto add = [&](std::string_view name, std::string_view value) {
        request += name;
        request += '=';
        request += value;
        request += '\n';
    };
    add("request", "smtpd_access_policy");
    add("protocol_state", where);
    add("protocol_name", s.protocol);
    add("client_address", s.client_addr);
    add("client_name", s.client_name);
    add("client_port", s.client_port);
    add("reverse_client_name", s.reverse_name);
    add("server_address", s.server_addr);
    add("server_port", s.server_port);
    // The session's HELO name, or the one being checked (after XCLIENT
    // HELO=, the CONNECT-stage request names it too).
    add("helo_name", e.helo ? std::string_view(*e.helo) : std::string_view(s.helo_name));
    add("sender", e.sender.value_or(""));
    add("recipient", e.recipient.value_or(""));
    add("recipient_count", data_stage ? std::to_string(s.recipient_count) : "0");
    add("queue_id", s.queue_id);
    add("instance", s.instance);
    add("size", std::to_string(s.message_size));
    add("etrn_domain", e.etrn.value_or(""));
    add("stress", params.stress);
    add("sasl_method", s.sasl_method);
    add("sasl_username", s.sasl_username);
    add("sasl_sender", s.sasl_sender);
    add("ccert_subject", cn(s.ccert_subject));
    add("ccert_issuer", cn(s.ccert_issuer));
    add("ccert_fingerprint", tls ? s.ccert_fingerprint : "");
    add("ccert_pubkey_fingerprint", tls ? s.ccert_pubkey_fingerprint : "");
    add("encryption_protocol", tls ? s.tls_protocol : "");
    add("encryption_cipher", tls ? s.tls_cipher : "");
    add("encryption_keysize", std::to_string(tls ? s.tls_cipher_bits : 0));
    add("policy_context", options.context.value_or(params.policy_context));
    request += '\n';

    // As the reference's attribute client: each failed attempt warns about
    // the connection and, on the last attempt or an unusual error, about
    // the conversation; attempts are smtpd_policy_service_retry_delay apart.
    std::string key(server);
    std::string_view endpoint = options.endpoint;
    if (endpoint.starts_with("inet:") || endpoint.starts_with("unix:")) endpoint.remove_prefix(5);
    std::string action;
    bool ok = false;
    int tries = options.try_limit.value_or(params.policy_try_limit > 0 ? params.policy_try_limit : 1);
    int timeout_ms = options.timeout.value_or(params.policy_timeout) * 1000;
    if (!options.ok) tries = 0;
    for (int attempt = 1; tries > 0; ++attempt) {
        int& fd = policy_fds.try_emplace(key, -1).first->second;
        ConnUse& use = conn_use()[key];
        int err = 0;
        std::time_t now = std::time(nullptr);
        if (fd >= 0) {
            int max_idle = options.max_idle.value_or(params.policy_max_idle);
            int max_ttl = options.max_ttl.value_or(params.policy_max_ttl);
            int limit = options.request_limit.value_or(params.policy_request_limit);
            if (now - use.last_used >= max_idle || now - use.opened >= max_ttl || (limit > 0 && use.requests >= limit)) {
                ::close(fd);
                fd = -1;
            }
        }
        if (fd >= 0) {
            // A server that closed an idle connection: reconnect quietly.
            pollfd p{fd, POLLIN, 0};
            if (poll(&p, 1, 0) > 0) {
                ::close(fd);
                fd = -1;
            }
        }
        if (fd < 0) {
            errno = 0;
            fd = services.policy_connect(options.endpoint);
            use = ConnUse{now, now, 0};
            if (fd < 0) {
                err = errno;
                util::msg_warn("connect to {}: {}", endpoint, std::strerror(err));
            }
        }
        if (fd >= 0) {
            std::string why;
            errno = 0;
            use.last_used = now;
            ++use.requests;
            if (write_all(fd, request, timeout_ms) && read_reply(fd, timeout_ms, action, why)) {
                use.last_used = std::time(nullptr);
                ok = true;
                break;
            }
            err = why == "timeout" ? ETIMEDOUT : errno;
            ::close(fd);
            fd = -1;
        }
        bool last = attempt >= tries;
        if (last || (err != 0 && err != EPIPE && err != ENOENT && err != ECONNRESET))
            // errno 0 (the server closed without answering) reads as the
            // reference's %m shows it.
            util::msg_warn("problem talking to server {}: {}", endpoint,
                           err != 0 ? std::strerror(err) : "Application error");
        if (last) break;
        services.sleep(options.retry_delay.value_or(params.policy_retry_delay));
    }
    if (ok && params.smtputf8_enable && !util::valid_utf8(action)) {
        util::msg_warn("malformed UTF-8 in policy server {} response: \"{}\"", server, action);
        ok = false;
    }
    if (!ok) {
        ++policy_nesting;
        Status st = table_result(e, server,
                                 policy_nesting == 1 ? std::string_view(options.default_action.value_or(
                                                           params.policy_default_action))
                                                     : std::string_view("451 4.3.5 Server configuration problem"),
                                 "policy query", reply_name, reply_class, def_acl);
        --policy_nesting;
        return st;
    }
    return table_result(e, server, action, "policy query", reply_name, reply_class, def_acl);
}

}  // namespace pf::smtpd
