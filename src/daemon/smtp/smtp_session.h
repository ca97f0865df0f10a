// One SMTP or LMTP conversation with one server, as the reference's client
// holds it: the greeting (4xx, or 5xx with smtp_skip_5xx_greeting: "server
// refused to talk to me", try the next server), EHLO (when
// smtp_always_send_ehlo or the greeting says ESMTP; never with
// smtp_never_send_ehlo) with a fall-back to HELO, LHLO for LMTP; the
// server's SIZE limit checked before MAIL; MAIL FROM with SIZE=, BODY=,
// ENVID=, RET=; one RCPT TO per recipient with NOTIFY= and ORCPT= when the
// server offers DSN; DATA, the content, the final dot; with PIPELINING
// the MAIL, RCPT and DATA commands go out in one write and the replies are
// read in order afterwards. After the dot SMTP has one reply for all
// accepted recipients, LMTP one per accepted recipient. QUIT ends the
// session (its reply is not awaited with smtp_skip_quit_response).
//
// The session reports what it learnt in the order it learnt it (events),
// with the reference's texts: "host H[A] said: <reply> (in reply to RCPT
// TO command)", "lost connection with H[A] while sending MAIL FROM",
// "conversation with H[A] timed out while ...", so that the caller can log
// and record them in the same order as the reference.
//
// With smtp_send_xforward_command and a server that offers XFORWARD, the
// original client's attributes go first, in at most two XFORWARD commands
// (part of the pipelined batch); a refused XFORWARD is only a warning.
//
// Connection caching (smtp_cache.h): a session allowed to be cached ends
// without QUIT after its final "." (or its RSET) and is handed to
// scache(8); one taken from the cache resumes with its EHLO features and
// is probed with RSET before its transaction. Past its reuse time or
// count limit, on any error, and with TLS, a session is not cached.
//
// Trust: the server is remote and hostile: replies are bounded and every
// read and write has a time limit.
#pragma once

#include "daemon/smtp/smtp_settings.h"
#include "daemon/smtp/smtp_tls.h"
#include "ipc/deliver_dsn.h"
#include "smtp/smtp_client_reply.h"
#include "smtp/smtp_stream.h"

#include <functional>
#include <string>
#include <vector>

namespace pf::smtp_agent {

struct SessionPeer {
    std::string name;   // host name (the path for a unix socket)
    std::string addr;   // numeric address (the path for a unix socket)
    unsigned port = 0;
    bool unix_socket = false;

    // The next-hop destination this server serves, as the request (or
    // smtp_fallback_relay) gives it: "[host]:port", "domain" (the
    // smtp_tls_policy_maps and smtp_sasl_password_maps key); empty: the
    // host name.
    std::string nexthop{};
    // That destination's host or domain without brackets and port (the
    // secure level's "nexthop" match); empty: the host name.
    std::string nexthop_domain{};

    std::string namaddr() const { return name + "[" + addr + "]"; }
    // The log's relay= value.
    std::string relay() const { return unix_socket ? namaddr() : namaddr() + ":" + std::to_string(port); }
};

struct SessionRecipient {
    std::string address;    // internal form
    std::string dsn_orcpt;  // "rfc822;user@domain" ("" when none)
    int dsn_notify = 0;
};

// The reference's SMTPUTF8 request bits: requested by the client, then
// which parts need it (headers, sender, recipients).
inline constexpr int kSmtpUtf8Requested = 1 << 0;

// The original client, for XFORWARD ("" when not available).
struct SessionXforward {
    std::string name, addr, port, proto, helo, ident;
    std::string source;     // "LOCAL" or "REMOTE"
};

struct SessionMessage {
    std::string sender;     // internal form, "" for the null sender
    std::string encoding;   // "", "7BIT", "8BITMIME"
    std::string dsn_envid;
    int dsn_ret = 0;
    long size = 0;
    int smtputf8 = 0;       // the request's SMTPUTF8 bits (kSmtpUtf8Requested, ...)
    std::vector<SessionRecipient> recipients;
    SessionXforward xforward;
    // An address probe (sendmail -bv, verify): MAIL and RCPT only, then
    // RSET; an accepted recipient is "deliverable" with its RCPT reply.
    bool trace_only = false;
    // Writes the message content (CRLF lines, dot-stuffed, without the
    // final dot) into the stream (write + flush); false on a write error.
    std::function<bool(smtp::SmtpStream&)> write_content;
};

// What happened to one recipient, or to the whole session (rcpt == -1).
struct SessionEvent {
    int rcpt = -1;
    bool ok = false;        // delivered (for a recipient)
    ipc::Dsn dsn;           // status, reason (and diagnostics)
};

// What a cached session needs to go on (smtp_cache.cpp encodes it).
struct SessionResume {
    smtp::ServerFeatures features;
    long expire_time = 0;   // wall clock: no reuse after this
    int reuse_count = 0;    // times reused so far
};

struct SessionResult {
    std::vector<SessionEvent> events;    // in order of occurrence
    bool greeted = false;                // the server sent a 2xx greeting
    // Opportunistic TLS failed in the handshake and the fallback is
    // allowed: the same server is to be tried again in plaintext (the
    // session event is then not the final word).
    bool retry_plaintext = false;
};

class SmtpSession {
public:
    SmtpSession(const SmtpSettings& settings, SessionPeer peer, int fd)
        : settings_(settings), peer_(std::move(peer)), stream_(fd, settings.helo_timeout) {}

    // Runs the whole conversation for message. Recipients not named in
    // any event got no answer (only when a session-wide event is present).
    SessionResult deliver(const SessionMessage& message);
    const smtp::ServerFeatures& features() const { return features_; }
    // Whether the content goes out converted to 7bit (the server has no
    // 8BITMIME, the message is not declared 7BIT, and
    // disable_mime_output_conversion is off); then MAIL FROM has no SIZE.
    bool mime_downgrade(const SessionMessage& message) const;
    // The reference's plaintext fallback for opportunistic TLS: allowed
    // says whether this message may fall back (an address probe, or it
    // waited minimal_backoff_time before the queue manager took it; the
    // SASL condition is checked here); plaintext turns TLS off for this
    // session (the retry).
    void set_tls_fallback(bool allowed, bool plaintext) {
        fallback_allowed_ = allowed;
        plaintext_ = plaintext;
    }

    // Connection caching (smtp_cache.h). allow_caching: a new session
    // may be cached until expire_time (wall clock), reused at most
    // count_limit times (0: no limit).
    void allow_caching(long expire_time, int count_limit) {
        expire_time_ = expire_time;
        reuse_count_limit_ = count_limit;
    }
    // A session taken from the cache: no greeting, EHLO or AUTH.
    void resume(const SessionResume& r, int count_limit) {
        features_ = r.features;
        from_cache_ = true;
        expire_time_ = r.expire_time;
        reuse_count_ = r.reuse_count + 1;
        reuse_count_limit_ = count_limit;
    }
    // The RSET probe of a resumed session; false when the server rejected
    // it or the connection failed (nothing is reported either way).
    bool rset_probe();
    // After deliver(): the connection may go to the cache.
    bool cacheable() const { return expire_time_ > 0 && !tls_; }
    SessionResume passivate() const { return SessionResume{features_, expire_time_, reuse_count_}; }
    int reuse_count() const { return reuse_count_; }

private:
    enum class Stage { greeting, helo, mail, rcpt, data, body, dot, quit, xforward_name_addr, xforward_proto_helo };
    // The session is cached but past its time or count limit.
    bool expired() const;

    bool greet_and_helo(SessionResult& out);
    bool transaction(const SessionMessage& message, SessionResult& out);
    void quit();
    void rset();
    // Records a stream failure for the whole session.
    void stream_failure(SessionResult& out, smtp::StreamError error, Stage stage);
    std::expected<smtp::ClientReply, smtp::StreamError> reply(int timeout);
    bool send(const std::string& command, int timeout, smtp::StreamError& error);
    ipc::Dsn reply_dsn(const smtp::ClientReply& r, std::string_view command) const;
    std::string mail_command(const SessionMessage& message) const;
    std::string rcpt_command(const SessionRecipient& rcpt) const;
    // The XFORWARD commands for this message (none, one or two), in the
    // reference's grouping: NAME ADDR PORT, then PROTO HELO IDENT SOURCE.
    std::vector<std::string> xforward_commands(const SessionXforward& x) const;

    const SmtpSettings& settings_;
    SessionPeer peer_;
    smtp::SmtpStream stream_;
    smtp::ServerFeatures features_;
    bool quit_sent_ = false;
    // TLS (smtp_tls.cpp): the session once STARTTLS or wrapper mode
    // succeeded; its failures become session events.
    std::unique_ptr<TlsClientSession> tls_;
    bool fallback_allowed_ = false;
    bool plaintext_ = false;
    std::string sender_;    // for the SASL password lookup
    // Connection caching: 0 = not cached.
    long expire_time_ = 0;
    int reuse_count_ = 0;
    int reuse_count_limit_ = 0;
    bool from_cache_ = false;
    bool tls_step(const TlsOutcome& outcome, SessionResult& out, tls::Level level);
};

// The words of the reference's "while ..." texts, by stage.
std::string_view stage_text(int stage);

}  // namespace pf::smtp_agent
