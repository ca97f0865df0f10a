// One SMTP/LMTP conversation: see smtp_session.h.
#include "daemon/smtp/smtp_session.h"
#include "daemon/smtp/smtp_sasl.h"

#include "mail/address_quote.h"
#include "mail/dsn_log.h"
#include "smtp/xtext.h"
#include "util/msg.h"
#include "util/strings.h"

#include <ctime>

#include <fmt/core.h>

namespace pf::smtp_agent {

namespace {

std::string quoted(std::string_view address) {
    if (address.empty()) return std::string();
    std::size_t at = address.rfind('@');
    if (at == std::string_view::npos) return mail::quote_822_local(address);
    return mail::quote_822_local(address.substr(0, at)) + std::string(address.substr(at));
}

}  // namespace

std::string_view stage_text(int stage) {
    switch (stage) {
        case 0: return "receiving the initial server greeting";
        case 1: return "performing the EHLO handshake";
        case 2: return "sending MAIL FROM";
        case 3: return "sending RCPT TO";
        case 4: return "sending DATA command";
        case 5: return "sending message body";
        case 6: return "sending end of data -- message may be sent more than once";
        case 8: return "sending XFORWARD name/address";
        case 9: return "sending XFORWARD protocol/helo_name";
        default: return "sending QUIT";
    }
}

std::expected<smtp::ClientReply, smtp::StreamError> SmtpSession::reply(int timeout) {
    stream_.set_timeout(timeout);
    return smtp::read_client_reply(stream_, settings_.line_limit);
}

bool SmtpSession::send(const std::string& command, int timeout, smtp::StreamError& error) {
    stream_.set_timeout(timeout);
    stream_.write(command);
    stream_.write("\r\n");
    auto r = stream_.flush();
    if (!r) {
        error = r.error();
        return false;
    }
    return true;
}

void SmtpSession::stream_failure(SessionResult& out, smtp::StreamError error, Stage stage) {
    expire_time_ = 0;  // a broken connection is never cached
    SessionEvent ev;
    ev.dsn.status = "4.4.2";
    if (error == smtp::StreamError::kTimeout)
        ev.dsn.reason = fmt::format("conversation with {} timed out while {}", peer_.namaddr(),
                                    stage_text(static_cast<int>(stage)));
    else
        ev.dsn.reason = fmt::format("lost connection with {} while {}", peer_.namaddr(),
                                    stage_text(static_cast<int>(stage)));
    out.events.push_back(std::move(ev));
}

ipc::Dsn SmtpSession::reply_dsn(const smtp::ClientReply& r, std::string_view command) const {
    ipc::Dsn d;
    d.status = r.dsn;
    d.reason = fmt::format("host {} said: {} (in reply to {} command)", peer_.namaddr(), r.one_line(), command);
    d.dtype = "smtp";
    d.dtext = r.one_line();
    d.mtype = "dns";
    d.mname = peer_.name;
    return d;
}

bool SmtpSession::tls_step(const TlsOutcome& outcome, SessionResult& out, tls::Level level) {
    if (outcome.ok) return true;
    if (outcome.handshake_failed && level == tls::Level::kMay && fallback_allowed_ && !plaintext_) {
        bool credentials = false;
        if (settings_.sasl) {
            SaslLoginContext login;
            login.peer = &peer_;
            login.sender = sender_;
            login.destination = peer_.nexthop;
            login.find_ctx = &settings_.find_ctx;
            credentials = smtp_sasl_have_credentials(*settings_.sasl, login);
        }
        out.retry_plaintext = !credentials;
    }
    SessionEvent ev;
    ev.dsn.status = outcome.status;
    ev.dsn.reason = outcome.reason;
    out.events.push_back(std::move(ev));
    // Without a working TLS session there is no QUIT to send.
    if (!tls_ && outcome.reason.starts_with("Cannot start TLS")) quit_sent_ = true;
    return false;
}

bool SmtpSession::greet_and_helo(SessionResult& out) {
    // TLS (smtp_tls.cpp): the policy for this destination; in wrapper
    // mode the handshake comes before the greeting.
    // The policy is looked up by the next hop as given; the secure
    // level's "nexthop" match uses its bare domain.
    const std::string policy_key = peer_.nexthop.empty() ? peer_.name : peer_.nexthop;
    const std::string nexthop = peer_.nexthop_domain.empty() ? peer_.name : peer_.nexthop_domain;
    TlsPolicy tls_policy;
    if (settings_.tls) tls_policy = tls_policy_for(*settings_.tls, policy_key);
    // The plaintext retry after a failed opportunistic handshake.
    if (plaintext_) tls_policy = TlsPolicy{};
    if (settings_.tls && settings_.tls->wrappermode &&
        !tls_step(smtp_tls_wrapper(*settings_.tls, tls_policy, stream_, tls_, peer_.name, peer_.relay(), nexthop), out,
                  tls::Level::kEncrypt))
        return false;
    auto greeting = reply(settings_.helo_timeout);
    if (!greeting) {
        stream_failure(out, greeting.error(), Stage::greeting);
        return false;
    }
    out.greeted = true;
    if (greeting->code / 100 != 2) {
        // With smtp_skip_5xx_greeting a 5xx greeting counts as a 4xx one
        // (the status class follows): the next server gets a chance.
        SessionEvent ev;
        ev.dsn = reply_dsn(*greeting, "");
        if (greeting->code / 100 == 5 && settings_.skip_5xx_greeting) ev.dsn.status[0] = '4';
        else if (greeting->code / 100 != 5) ev.dsn.status[0] = '4';
        ev.dsn.reason = fmt::format("host {} refused to talk to me: {}", peer_.namaddr(), greeting->one_line());
        out.events.push_back(std::move(ev));
        return false;
    }
    smtp::StreamError err{};
    bool esmtp = settings_.lmtp ||
                 (!settings_.never_send_ehlo &&
                  (settings_.always_send_ehlo || greeting->text.find("ESMTP") != std::string::npos));
    if (esmtp) {
        std::string verb = settings_.lmtp ? "LHLO" : "EHLO";
        if (!send(verb + " " + settings_.helo_name, settings_.helo_timeout, err)) {
            stream_failure(out, err, Stage::helo);
            return false;
        }
        auto r = reply(settings_.helo_timeout);
        if (!r) {
            stream_failure(out, r.error(), Stage::helo);
            return false;
        }
        if (r->code / 100 == 2) {
            features_ = smtp::parse_ehlo_features(r->text);
            // STARTTLS and EHLO again, per the TLS policy (smtp_tls.cpp).
            if (settings_.tls && !settings_.tls->wrappermode)
                return tls_step(smtp_starttls(*settings_.tls, tls_policy, stream_, features_, tls_, peer_.name,
                                              peer_.namaddr(), peer_.relay(), nexthop),
                                out, tls_policy.level);
            return true;
        }
        if (settings_.lmtp || r->code == 421) {
            SessionEvent ev;
            ev.dsn = reply_dsn(*r, verb);
            ev.dsn.reason = fmt::format("host {} refused to talk to me: {}", peer_.namaddr(), r->one_line());
            out.events.push_back(std::move(ev));
            return false;
        }
    }
    if (!send("HELO " + settings_.helo_name, settings_.helo_timeout, err)) {
        stream_failure(out, err, Stage::helo);
        return false;
    }
    auto r = reply(settings_.helo_timeout);
    if (!r) {
        stream_failure(out, r.error(), Stage::helo);
        return false;
    }
    if (r->code / 100 != 2) {
        SessionEvent ev;
        ev.dsn = reply_dsn(*r, "HELO");
        ev.dsn.reason = fmt::format("host {} refused to talk to me: {}", peer_.namaddr(), r->one_line());
        out.events.push_back(std::move(ev));
        return false;
    }
    features_ = smtp::ServerFeatures{};
    // After HELO there is no STARTTLS: a level that requires TLS defers.
    if (settings_.tls && !settings_.tls->wrappermode)
        return tls_step(smtp_starttls(*settings_.tls, tls_policy, stream_, features_, tls_, peer_.name, peer_.namaddr(),
                                      peer_.relay(), nexthop),
                        out, tls_policy.level);
    return true;
}

bool SmtpSession::mime_downgrade(const SessionMessage& m) const {
    return !settings_.disable_mime_oconv && !(features_.flags & smtp::kFeature8BitMime) &&
           !util::iequals(m.encoding, "7BIT");
}

std::string SmtpSession::mail_command(const SessionMessage& m) const {
    std::string cmd = "MAIL FROM:<" + quoted(m.sender) + ">";
    if ((features_.flags & smtp::kFeatureSize) && !mime_downgrade(m)) cmd += fmt::format(" SIZE={}", m.size);
    if (features_.flags & smtp::kFeature8BitMime) {
        if (util::iequals(m.encoding, "8bit") || util::iequals(m.encoding, "8BITMIME")) cmd += " BODY=8BITMIME";
        else if (util::iequals(m.encoding, "7BIT")) cmd += " BODY=7BIT";
    }
    if ((features_.flags & smtp::kFeatureSmtpUtf8) && (m.smtputf8 & kSmtpUtf8Requested)) cmd += " SMTPUTF8";
    if (features_.flags & smtp::kFeatureDsn) {
        if (!m.dsn_envid.empty()) cmd += " ENVID=" + smtp::xtext_encode(m.dsn_envid);
        if (m.dsn_ret == mail::kDsnRetFull) cmd += " RET=FULL";
        else if (m.dsn_ret == mail::kDsnRetHdrs) cmd += " RET=HDRS";
    }
    return cmd;
}

std::string SmtpSession::rcpt_command(const SessionRecipient& r) const {
    std::string cmd = "RCPT TO:<" + quoted(r.address) + ">";
    if (features_.flags & smtp::kFeatureDsn) {
        if (!r.dsn_orcpt.empty()) {
            std::size_t semi = r.dsn_orcpt.find(';');
            if (semi != std::string::npos)
                cmd += " ORCPT=" + r.dsn_orcpt.substr(0, semi) + ";" + smtp::xtext_encode(r.dsn_orcpt.substr(semi + 1));
        }
        if (r.dsn_notify != 0) {
            if (r.dsn_notify & mail::kDsnNotifyNever) {
                cmd += " NOTIFY=NEVER";
            } else {
                std::string words;
                auto add = [&](int bit, const char* w) {
                    if (r.dsn_notify & bit) words += (words.empty() ? "" : ",") + std::string(w);
                };
                add(mail::kDsnNotifySuccess, "SUCCESS");
                add(mail::kDsnNotifyDelay, "DELAY");
                add(mail::kDsnNotifyFailure, "FAILURE");
                cmd += " NOTIFY=" + words;
            }
        }
    }
    return cmd;
}

std::vector<std::string> SmtpSession::xforward_commands(const SessionXforward& x) const {
    std::vector<std::string> out;
    if (!settings_.send_xforward || !(features_.flags & smtp::kFeatureXforward)) return out;
    // "unknown" client names, addresses, ports and protocols are not
    // forwarded (the receiving smtpd would take them literally).
    auto known = [](const std::string& v) { return !v.empty() && !util::iequals(v, "unknown"); };
    auto add = [&](std::string& cmd, unsigned bit, const char* name, const std::string& value, bool ok) {
        if ((features_.xforward & bit) && ok) cmd += fmt::format(" {}={}", name, smtp::xtext_encode(value));
    };
    std::string first = "XFORWARD";
    add(first, smtp::kXforwardName, "NAME", x.name, known(x.name));
    add(first, smtp::kXforwardAddr, "ADDR", x.addr, known(x.addr));
    add(first, smtp::kXforwardPort, "PORT", x.port, known(x.port));
    std::string second = "XFORWARD";
    add(second, smtp::kXforwardProto, "PROTO", x.proto, known(x.proto));
    add(second, smtp::kXforwardHelo, "HELO", x.helo, !x.helo.empty());
    add(second, smtp::kXforwardIdent, "IDENT", x.ident, !x.ident.empty());
    add(second, smtp::kXforwardSource, "SOURCE", x.source, !x.source.empty());
    if (first.size() > 8) out.push_back(std::move(first));
    if (second.size() > 8) out.push_back(std::move(second));
    return out;
}

bool SmtpSession::transaction(const SessionMessage& m, SessionResult& out) {
    const bool pipelining = (features_.flags & smtp::kFeaturePipelining) != 0;
    const std::size_t n = m.recipients.size();

    if ((features_.flags & smtp::kFeatureSize) && features_.size_limit > 0 &&
        static_cast<std::uint64_t>(m.size) > features_.size_limit) {
        for (std::size_t i = 0; i < n; ++i) {
            SessionEvent ev;
            ev.rcpt = static_cast<int>(i);
            ev.dsn.status = "5.3.4";
            ev.dsn.reason = fmt::format("message size {} exceeds size limit {} of server {}", m.size,
                                        features_.size_limit, peer_.namaddr());
            out.events.push_back(std::move(ev));
        }
        return false;  // the reference hangs up without QUIT here
    }
    if ((m.smtputf8 & kSmtpUtf8Requested) && (m.smtputf8 & ~kSmtpUtf8Requested) != 0 &&
        !(features_.flags & smtp::kFeatureSmtpUtf8)) {
        for (std::size_t i = 0; i < n; ++i) {
            SessionEvent ev;
            ev.rcpt = static_cast<int>(i);
            ev.dsn.status = "5.6.7";
            ev.dsn.reason = fmt::format("SMTPUTF8 is required, but was not offered by host {}", peer_.namaddr());
            out.events.push_back(std::move(ev));
        }
        expire_time_ = 0;
        return true;
    }

    // The commands of the transaction; with PIPELINING all go out at once.
    std::vector<std::string> commands = xforward_commands(m.xforward);
    const std::size_t nx = commands.size();
    commands.push_back(mail_command(m));
    for (const auto& r : m.recipients) commands.push_back(rcpt_command(r));
    if (!m.trace_only) commands.push_back("DATA");
    std::size_t sent = 0;
    auto send_upto = [&](std::size_t count, int timeout, Stage stage) {
        if (sent >= count) return true;
        stream_.set_timeout(timeout);
        for (; sent < count; ++sent) {
            stream_.write(commands[sent]);
            stream_.write("\r\n");
        }
        auto r = stream_.flush();
        if (!r) {
            stream_failure(out, r.error(), stage);
            return false;
        }
        return true;
    };
    if (pipelining && !send_upto(commands.size(), nx ? settings_.xforward_timeout : settings_.mail_timeout,
                                 nx ? Stage::xforward_name_addr : Stage::mail))
        return false;

    // XFORWARD: a refusal is logged and the transaction goes on.
    for (std::size_t k = 0; k < nx; ++k) {
        Stage stage = commands[k].find(" NAME=") != std::string::npos || commands[k].find(" ADDR=") != std::string::npos ||
                              commands[k].find(" PORT=") != std::string::npos
                          ? Stage::xforward_name_addr
                          : Stage::xforward_proto_helo;
        if (!send_upto(k + 1, settings_.xforward_timeout, stage)) return false;
        auto xr = reply(settings_.xforward_timeout);
        if (!xr) {
            stream_failure(out, xr.error(), stage);
            return false;
        }
        if (xr->code / 100 != 2)
            util::msg_warn("host {} said: {} (in reply to {})", peer_.relay(), xr->one_line(),
                           stage == Stage::xforward_name_addr ? "XFORWARD name/address command"
                                                              : "XFORWARD helo/protocol command");
    }

    // MAIL FROM.
    if (!send_upto(nx + 1, settings_.mail_timeout, Stage::mail)) return false;
    auto mr = reply(settings_.mail_timeout);
    if (!mr) {
        stream_failure(out, mr.error(), Stage::mail);
        return false;
    }
    bool mail_ok = mr->code / 100 == 2;
    if (!mail_ok) {
        for (std::size_t i = 0; i < n; ++i)
            out.events.push_back({static_cast<int>(i), false, reply_dsn(*mr, "MAIL FROM")});
        if (!pipelining) {
            rset();
            return true;
        }
    }
    // RCPT TO, one reply each.
    std::vector<int> accepted;
    for (std::size_t i = 0; i < n; ++i) {
        if (!send_upto(nx + 2 + i, settings_.rcpt_timeout, Stage::rcpt)) return false;
        auto rr = reply(settings_.rcpt_timeout);
        if (!rr) {
            stream_failure(out, rr.error(), Stage::rcpt);
            return false;
        }
        if (!mail_ok) continue;
        if (rr->code / 100 == 2 && m.trace_only) {
            SessionEvent ev{static_cast<int>(i), true, reply_dsn(*rr, "RCPT TO")};
            ev.dsn.reason = rr->one_line();
            out.events.push_back(std::move(ev));
        } else if (rr->code / 100 == 2)
            accepted.push_back(static_cast<int>(i));
        else
            out.events.push_back({static_cast<int>(i), false, reply_dsn(*rr, "RCPT TO")});
    }
    if (m.trace_only || (!pipelining && accepted.empty())) {
        rset();
        return true;
    }
    // DATA.
    if (!send_upto(commands.size(), settings_.data_init_timeout, Stage::data)) return false;
    auto dr = reply(settings_.data_init_timeout);
    if (!dr) {
        stream_failure(out, dr.error(), Stage::data);
        return false;
    }
    if (!mail_ok || accepted.empty()) {
        if (dr->code / 100 != 3) {
            rset();
            return true;
        }
        // The server wants content nobody asked for: an empty message.
        stream_.set_timeout(settings_.data_done_timeout);
        stream_.write(".\r\n");
        if (!stream_.flush()) return false;
        (void)reply(settings_.data_done_timeout);
        return true;
    }
    if (dr->code / 100 != 3) {
        for (int i : accepted) out.events.push_back({i, false, reply_dsn(*dr, "DATA")});
        rset();
        return true;
    }
    // The content and the final dot.
    stream_.set_timeout(settings_.data_xfer_timeout);
    if (!m.write_content(stream_)) {
        stream_failure(out, smtp::StreamError::kBroken, Stage::body);
        return false;
    }
    stream_.write(".\r\n");
    // With PIPELINING the QUIT goes out with the final dot, as the
    // reference sends it; a cached session has none.
    if (expired()) expire_time_ = 0;
    if (pipelining && expire_time_ == 0) {
        stream_.write("QUIT\r\n");
        quit_sent_ = true;
    }
    if (auto f = stream_.flush(); !f) {
        stream_failure(out, f.error(), Stage::body);
        return false;
    }
    std::size_t replies = settings_.lmtp ? accepted.size() : 1;
    for (std::size_t k = 0; k < replies; ++k) {
        auto er = reply(settings_.data_done_timeout);
        if (!er) {
            // Recipients answered already keep their outcome; the others
            // get the session's failure.
            stream_failure(out, er.error(), Stage::dot);
            return false;
        }
        auto record = [&](int i) {
            if (er->code / 100 == 2) {
                SessionEvent ev;
                ev.rcpt = i;
                ev.ok = true;
                ev.dsn = reply_dsn(*er, "end of DATA");
                ev.dsn.reason = er->one_line();
                out.events.push_back(std::move(ev));
            } else {
                out.events.push_back({i, false, reply_dsn(*er, "end of DATA")});
            }
        };
        if (settings_.lmtp) record(accepted[k]);
        else
            for (int i : accepted) record(i);
    }
    return true;
}

bool SmtpSession::expired() const {
    return expire_time_ > 0 && (expire_time_ < static_cast<long>(std::time(nullptr)) ||
                                (reuse_count_limit_ > 0 && reuse_count_ >= reuse_count_limit_));
}

bool SmtpSession::rset_probe() {
    // Neither a lost connection nor a rejection is logged: the connection
    // is dropped and the client connects as usual (the reference reports
    // stream errors only while it is sending mail).
    smtp::StreamError err{};
    auto r = send("RSET", settings_.rset_timeout, err) ? reply(settings_.rset_timeout)
                                                        : std::expected<smtp::ClientReply, smtp::StreamError>(
                                                              std::unexpected(err));
    if (!r || r->code / 100 != 2) {
        expire_time_ = 0;
        return false;
    }
    return true;
}

void SmtpSession::rset() {
    // The RSET that ends a transaction early: past its limits a cached
    // session gets its QUIT after it.
    if (expired()) expire_time_ = 0;
    smtp::StreamError err{};
    // A connection that breaks here is not cached; a rejected RSET does
    // not change that (the reference's rule).
    if (!send("RSET", settings_.rset_timeout, err)) {
        expire_time_ = 0;
        return;
    }
    if (!reply(settings_.rset_timeout)) expire_time_ = 0;
}

void SmtpSession::quit() {
    // A session for the cache stays open (without QUIT).
    if (quit_sent_ || cacheable()) return;
    smtp::StreamError err{};
    if (!send("QUIT", settings_.quit_timeout, err)) return;
    if (!settings_.skip_quit_response) (void)reply(settings_.quit_timeout);
}

SessionResult SmtpSession::deliver(const SessionMessage& message) {
    SessionResult out;
    sender_ = message.sender;
    if (!from_cache_) {
        if (!greet_and_helo(out)) {
            expire_time_ = 0;
            // A server that greeted (even to refuse) gets a QUIT.
            if (out.greeted) quit();
            return out;
        }
        // This client does not pass TLS sessions through tlsproxy: an
        // encrypted connection is never cached (the reference with
        // smtp_tls_connection_reuse = no).
        if (tls_) expire_time_ = 0;
        // SASL AUTH after EHLO (smtp_sasl.cpp).
        if (settings_.sasl) {
            SaslLoginContext login;
            login.peer = &peer_;
            login.sender = message.sender;
            login.destination = peer_.nexthop;
            login.tls = tls_ != nullptr;
            login.timeout = settings_.helo_timeout;
            login.line_limit = settings_.line_limit;
            login.find_ctx = &settings_.find_ctx;
            if (smtp_sasl_login(*settings_.sasl, login, stream_, features_, out) == SaslLogin::failed) {
                expire_time_ = 0;
                quit();
                return out;
            }
        }
    }
    if (transaction(message, out)) {
        // Past its limits now: QUIT after all.
        if (expired()) expire_time_ = 0;
        quit();
    } else {
        expire_time_ = 0;
    }
    return out;
}

}  // namespace pf::smtp_agent
