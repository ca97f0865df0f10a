// check_policy_service: the policy delegation protocol as the reference's
// smtpd speaks it. One request is "name=value" lines in a fixed order
// (request=smtpd_access_policy, protocol_state, protocol_name,
// client_address, ... policy_context) and an empty line; the answer is
// "action=..." and an empty line. The action is then treated as an access
// table answer. A server that cannot be reached, times out, or answers
// without an action (after smtpd_policy_service_try_limit attempts) gets
// smtpd_policy_service_default_action. Connections stay open across
// requests and sessions, one per server.
//
// Trust: the policy server is outside input: lines are bounded, the
// action is checked like any table answer.
#include "daemon/smtpd/smtpd_check_impl.h"

#include "util/msg.h"
#include "util/strings.h"
#include "util/utf8.h"

#include <poll.h>
#include <unistd.h>

#include <fmt/core.h>

#include <cerrno>
#include <chrono>
#include <cstring>

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

}  // namespace

void SmtpdCheck::Impl::close_policy_connections() {
    for (auto& [name, fd] : policy_fds)
        if (fd >= 0) ::close(fd);
    policy_fds.clear();
}

Status SmtpdCheck::Impl::check_policy_service(Eval& e, std::string_view server, std::string_view reply_name,
                                              std::string_view reply_class, std::string_view def_acl) {
    const CheckState& s = e.in;
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
    add("helo_name", e.helo.value_or(""));
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
    add("policy_context", params.policy_context);
    request += '\n';

    // As the reference's attribute client: each failed attempt warns about
    // the connection and, on the last attempt or an unusual error, about
    // the conversation; attempts are smtpd_policy_service_retry_delay apart.
    std::string key(server);
    std::string_view endpoint = server;
    if (endpoint.starts_with("inet:") || endpoint.starts_with("unix:")) endpoint.remove_prefix(5);
    std::string action;
    bool ok = false;
    int tries = params.policy_try_limit > 0 ? params.policy_try_limit : 1;
    int timeout_ms = params.policy_timeout * 1000;
    for (int attempt = 1;; ++attempt) {
        int& fd = policy_fds.try_emplace(key, -1).first->second;
        int err = 0;
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
            fd = services.policy_connect(server);
            if (fd < 0) {
                err = errno;
                util::msg_warn("connect to {}: {}", endpoint, std::strerror(err));
            }
        }
        if (fd >= 0) {
            std::string why;
            errno = 0;
            if (write_all(fd, request, timeout_ms) && read_reply(fd, timeout_ms, action, why)) {
                ok = true;
                break;
            }
            err = why == "timeout" ? ETIMEDOUT : errno;
            ::close(fd);
            fd = -1;
        }
        bool last = attempt >= tries;
        if (last || (err != 0 && err != EPIPE && err != ENOENT && err != ECONNRESET))
            util::msg_warn("problem talking to server {}: {}", endpoint, std::strerror(err));
        if (last) break;
        services.sleep(params.policy_retry_delay);
    }
    if (ok && params.smtputf8_enable && !util::valid_utf8(action)) {
        util::msg_warn("malformed UTF-8 in policy server {} response: \"{}\"", server, action);
        ok = false;
    }
    if (!ok) {
        ++policy_nesting;
        Status st = table_result(e, server,
                                 policy_nesting == 1 ? std::string_view(params.policy_default_action)
                                                     : std::string_view("451 4.3.5 Server configuration problem"),
                                 "policy query", reply_name, reply_class, def_acl);
        --policy_nesting;
        return st;
    }
    return table_result(e, server, action, "policy query", reply_name, reply_class, def_acl);
}

}  // namespace pf::smtpd
