// The smtp/lmtp client's work on one delivery request: see smtp_deliver.h.
#include "daemon/smtp/smtp_deliver.h"

#include "daemon/smtp/smtp_cache.h"
#include "daemon/smtp/smtp_cli_attr.h"
#include "daemon/smtp/smtp_content.h"
#include "daemon/smtp/smtp_session.h"
#include "ipc/deliver_agent.h"
#include "ipc/deliver_mail_copy.h"
#include "mail/address_quote.h"
#include "mail/dsn_log.h"
#include "mail/mail_addr_find.h"
#include "smtp/smtp_client_connect.h"
#include "smtp/smtp_client_dest.h"
#include "util/msg.h"

#include <ctime>
#include <memory>
#include <optional>
#include <utility>

#include <unistd.h>

#include <fmt/core.h>

namespace pf::smtp_agent {

namespace {

struct Candidate {
    smtp::ServerAddress address;
    unsigned port = 0;
    bool unix_socket = false;
    std::string nexthop;         // the next hop it serves, as given
    std::string nexthop_domain;  // its host or domain, bare
};

struct Reason {
    ipc::Dsn dsn;
    std::string relay{ipc::kNoRelay};
};

// smtp_generic_maps for one address (internal form): the first address
// of the table's answer; nullopt when the table has none. A table that
// fails is fatal, as in the reference (the request is tried again).
std::optional<std::string> generic_map(const SmtpSettings& settings, const std::string& internal) {
    if (!settings.generic_maps || internal.empty()) return std::nullopt;
    bool error = false;
    const std::string& myorigin = settings.find_ctx.myorigin;
    auto found = mail::mail_addr_map(
        *settings.generic_maps, mail::quote_822_local(internal), settings.generic_propagate, settings.find_ctx,
        [&](const std::string& a) { return a.find('@') != std::string::npos ? a : a + "@" + myorigin; }, &error);
    if (!found || found->empty()) {
        if (error) util::msg_fatal("{} map lookup problem for {}", settings.generic_maps->title(), internal);
        return std::nullopt;
    }
    if (found->size() > 1) util::msg_warn("multi-valued {} result for {}", settings.generic_maps->title(), internal);
    return mail::unquote_822_local(found->front());
}

std::string generic_or_same(const SmtpSettings& settings, const std::string& internal) {
    auto r = generic_map(settings, internal);
    return r ? *r : internal;
}

// Output of the content lines: dot-stuffing, CRLF, and lines longer than
// smtp_line_length_limit broken with CRLF SPACE (logged once per message),
// as the reference sends them. The stream holds the output until 64 KB have
// gathered: the rest goes out with the final "." in one write, as the
// reference's does (two writes, content then ".", meet the peer's delayed
// acknowledgement under Nagle's algorithm and cost each delivery ~40 ms).
class LineOut {
public:
    LineOut(smtp::SmtpStream& stream, std::size_t limit) : stream_(stream), limit_(limit) {}

    // text: bytes of the output that may hold line ends already.
    bool put(std::string_view text) {
        out_.clear();
        for (char ch : text) {
            if (ch == '\n' || ch == '\r') {
                column_ = 0;
            } else {
                if (limit_ > 0 && column_ >= limit_) {
                    out_ += "\r\n ";
                    column_ = 1;
                    broke_ = true;
                }
                ++column_;
            }
            out_ += ch;
        }
        stream_.write(out_);
        unflushed_ += out_.size();
        if (unflushed_ < kFlushAt) return true;
        unflushed_ = 0;
        return stream_.flush().has_value();
    }
    bool line(std::string_view text) {
        std::string l;
        l.reserve(text.size() + 3);
        if (!text.empty() && text.front() == '.') l += '.';
        l += text;
        l += "\r\n";
        return put(l);
    }
    bool broke() const { return broke_; }

private:
    static constexpr std::size_t kFlushAt = 65536;
    smtp::SmtpStream& stream_;
    std::size_t limit_;
    std::size_t unflushed_ = 0;
    std::size_t column_ = 0;
    bool broke_ = false;
    std::string out_;
};

// The headers that master.cf flags=R, O and D put before the content,
// in that order, addresses rewritten with smtp_generic_maps and quoted.
std::vector<std::string> flag_headers(const SmtpSettings& settings, const ipc::DeliveryRequest& request) {
    std::vector<std::string> out;
    auto address = [&](const std::string& a) { return mail::quote_822_local(generic_or_same(settings, a)); };
    if (settings.cli_flags & kCliReturnPath) out.push_back(fmt::format("Return-Path: <{}>", address(request.sender)));
    if (request.recipients.empty()) return out;
    if (settings.cli_flags & kCliOrigRcpt)
        out.push_back(fmt::format("X-Original-To: {}", address(request.recipients.front().orig_addr)));
    if (settings.cli_flags & kCliDeliveredTo)
        out.push_back(fmt::format("Delivered-To: {}", address(request.recipients.front().address)));
    return out;
}

bool write_message(smtp::SmtpStream& stream, const SmtpSettings& settings, const ipc::DeliveryRequest& request,
                   ipc::DeliveryQueueFile& file, bool downgrade) {
    LineOut out(stream, settings.content_line_limit);
    const std::vector<std::string> prepend = flag_headers(settings, request);
    bool failed = false;
    ipc::CopyResult copied;
    const bool checks = settings.header_checks || settings.mime_header_checks || settings.nested_header_checks ||
                        settings.body_checks;
    bool check_failed = false;
    if (!downgrade && !settings.generic_maps && !checks) {
        for (const auto& h : prepend)
            if (!failed && !out.line(h)) failed = true;
        copied = ipc::copy_message(file.stream(), request.data_offset, ipc::CopyEnvelope{}, ipc::kCopyDot, "\r\n",
                                   [&](std::string_view chunk) {
                                       if (!out.put(chunk)) failed = true;
                                       return !failed;
                                   });
    } else {
        ContentOptions opts;
        opts.downgrade = downgrade;
        if (settings.generic_maps)
            opts.generic = [&settings](const std::string& a) { return generic_map(settings, a); };
        opts.header_checks = settings.header_checks.get();
        opts.mime_header_checks = settings.mime_header_checks.get();
        opts.nested_header_checks = settings.nested_header_checks.get();
        opts.body_checks = settings.body_checks.get();
        opts.queue_id = request.queue_id;
        SmtpContent content(std::move(opts), [&](std::string_view l) {
            if (!failed && !out.line(l)) failed = true;
        });
        for (const auto& h : prepend) content.line(h);
        std::string pending;
        copied = ipc::copy_message(file.stream(), request.data_offset, ipc::CopyEnvelope{}, 0, "\n",
                                   [&](std::string_view chunk) {
                                       pending += chunk;
                                       std::size_t start = 0;
                                       for (std::size_t nl; (nl = pending.find('\n', start)) != std::string::npos;
                                            start = nl + 1)
                                           content.line(std::string_view(pending).substr(start, nl - start));
                                       pending.erase(0, start);
                                       return !failed;
                                   });
        if (!pending.empty()) content.line(pending);
        content.end();
        check_failed = content.failed();
    }
    if (out.broke())
        util::msg_info("{}: breaking line > {} bytes with <CR><LF>SPACE", request.queue_id,
                       settings.content_line_limit);
    if (copied.corrupt || copied.read_error)
        util::msg_warn("{}: error reading queue file {}", request.queue_id, file.path());
    return !failed && !check_failed && !copied.write_error && !copied.corrupt && !copied.read_error;
}

}  // namespace

int deliver_request(const SmtpSettings& settings, const ipc::DeliveryAgentSettings& agent,
                    ipc::DeliveryRequest& request, ipc::DeliveryQueueFile& file) {
    ipc::DeliveryRecorder recorder(agent, request);
    const std::size_t n = request.recipients.size();
    std::vector<bool> done(n, false);
    std::vector<std::optional<Reason>> rcpt_soft(n);
    std::optional<Reason> site;
    int result = 0;
    const bool mark_sent = (request.flags & ipc::kDeliverySuccess) != 0;

    auto finish = [&](std::size_t i, int status, bool mark = true) {
        done[i] = true;
        result |= ipc::finish_recipient(file, request.recipients[i], status, mark);
    };
    auto pending = [&] {
        for (bool d : done)
            if (!d) return true;
        return false;
    };

    // master.cf flags=D and flags=O need one recipient per request; D also
    // refuses a recipient that a Delivered-To: header already names. The
    // whole request fails, each recipient with the service as the relay,
    // as the reference's reject_deliver_request does.
    auto reject_all = [&](const ipc::Dsn& dsn) {
        for (std::size_t i = 0; i < n; ++i)
            finish(i, dsn.status[0] == '4' ? recorder.defer(request.recipients[i], settings.service, dsn)
                                          : recorder.bounce(request.recipients[i], settings.service, dsn));
        return result;
    };
    for (auto [flag, letter] : {std::pair{kCliDeliveredTo, 'D'}, std::pair{kCliOrigRcpt, 'O'}}) {
        if (!(settings.cli_flags & flag) || n <= 1) continue;
        util::msg_warn("flag `{}' requires {}_destination_recipient_limit = 1", letter, settings.service);
        return reject_all(ipc::Dsn::simple("4.3.5", "mail system configuration error"));
    }
    if ((settings.cli_flags & kCliDeliveredTo) && n == 1) {
        auto headers = file.delivered_to_headers(request.data_offset);
        const auto& rcpt = request.recipients.front();
        if (ipc::delivered_to_loop(headers, generic_or_same(settings, rcpt.address)))
            return reject_all(ipc::Dsn::simple("5.4.6", fmt::format("mail forwarding loop for {}", rcpt.address)));
    }

    // The servers to try: the next-hop first, then the fallback relays.
    std::vector<std::string> hops;
    hops.push_back(request.nexthop);
    for (const auto& f : settings.fallback_relays) hops.push_back(f);
    std::vector<Candidate> servers;
    std::string first_domain;  // the first next-hop's bare domain (connection cache policy)
    std::optional<Reason> lookup_failure;
    bool lookup_permanent = false;
    for (std::size_t h = 0; h < hops.size(); ++h) {
        auto dest = smtp::parse_client_destination(hops[h], settings.default_port, settings.lmtp);
        if (!dest) {
            util::msg_warn("{}: bad next-hop {}: {}", request.queue_id, hops[h], dest.error());
            if (!lookup_failure) {
                lookup_failure = Reason{ipc::Dsn::simple("4.3.5", "mail system configuration error"), std::string(ipc::kNoRelay)};
                lookup_permanent = false;
            }
            continue;
        }
        auto found = smtp::lookup_server_addresses(*dest, settings.ipv4, settings.ipv6);
        if (!found.ok) {
            if (h == 0) {
                lookup_failure = Reason{ipc::Dsn::simple(found.dsn, found.why), std::string(ipc::kNoRelay)};
                lookup_permanent = found.permanent;
            }
            continue;
        }
        if (h == 0) first_domain = dest->host;
        for (auto& a : found.addresses) servers.push_back({std::move(a), dest->port, dest->unix_socket, hops[h], dest->host});
    }
    if (servers.empty()) {
        Reason why = lookup_failure ? *lookup_failure
                                    : Reason{ipc::Dsn::simple("4.4.3", "no server addresses"), std::string(ipc::kNoRelay)};
        for (std::size_t i = 0; i < n; ++i) {
            int st = lookup_permanent ? recorder.bounce(request.recipients[i], why.relay, why.dsn)
                                      : recorder.defer(request.recipients[i], why.relay, why.dsn);
            finish(i, st);
        }
        return result;
    }

    SessionMessage message;
    message.sender = request.sender;
    message.encoding = request.encoding;
    message.dsn_envid = request.dsn_envid;
    message.dsn_ret = request.dsn_ret;
    message.size = request.data_size;
    message.smtputf8 = request.smtputf8;
    message.trace_only = (request.flags & (ipc::kDeliveryMtaVerify | ipc::kDeliveryUserVerify)) != 0;
    for (const auto& r : request.recipients)
        message.recipients.push_back({generic_or_same(settings, r.address), r.dsn_orcpt, r.dsn_notify});
    message.sender = generic_or_same(settings, request.sender);
    message.xforward = {request.client_name, request.client_addr, request.client_port, request.client_proto,
                        request.client_helo, request.log_ident,
                        request.rewrite_context.empty() || request.rewrite_context == "local" ? "LOCAL" : "REMOTE"};
    // The plain copy, or (downgrade, generic maps) the line-by-line one;
    // which one is known once the server's EHLO reply is.
    auto write_content = [&](smtp::SmtpStream& stream, bool downgrade) {
        return write_message(stream, settings, request, file, downgrade);
    };

    // The reference's plaintext fallback after a failed opportunistic TLS
    // handshake: for an address probe, or a message that waited
    // minimal_backoff_time before the queue manager took it (a fresh
    // message defers, the next attempt falls back).
    const bool tls_fallback =
        (request.flags & (ipc::kDeliveryMtaVerify | ipc::kDeliveryUserVerify)) != 0 ||
        request.times.active_arrival.sec - request.times.incoming_arrival.sec >= settings.min_backoff;
    // The same server again, in plaintext (set by a session that asks for it).
    bool again_plaintext = false;

    // Connection caching (smtp_cache.h). SASL credentials may depend on
    // the sender: then it is part of the cache labels.
    const std::string sender_key = settings.sasl ? request.sender : std::string();
    CachePolicy policy;
    if (settings.cache && !first_domain.empty())
        policy = cache_policy(*settings.cache, request, first_domain, sender_key);
    bool dest_lookup_done = false;
    // A cached connection for server k (or for the next-hop), probed with
    // RSET; nullopt when there is none or the probe failed.
    auto reuse = [&](const SessionPeer& peer) -> std::optional<ReusedConnection> {
        if (!policy.load || !settings.cache || !settings.cache->client) return std::nullopt;
        for (int how = 0; how < 2; ++how) {
            std::optional<ipc::ScacheFound> found;
            if (how == 0) {
                if (dest_lookup_done || policy.dest_label.empty()) continue;
                dest_lookup_done = true;
                found = settings.cache->client->find_dest(policy.dest_label);
            } else {
                found = settings.cache->client->find_endp(endpoint_label(*settings.cache, peer, sender_key));
            }
            if (!found) continue;
            auto conn = decode_session(std::move(found->fd), found->endp_prop);
            if (!conn) {
                util::msg_warn("{}: bad cached session attribute for {}", request.queue_id, peer.namaddr());
                continue;
            }
            SmtpSession probe(settings, conn->peer, conn->fd.get());
            probe.resume(conn->resume, settings.cache->reuse_count_limit);
            if (probe.rset_probe()) return conn;
        }
        return std::nullopt;
    };
    for (std::size_t k = 0; k < servers.size() && pending(); k += again_plaintext ? 0 : 1) {
        const bool plaintext = std::exchange(again_plaintext, false);
        const bool final_server = k + 1 == servers.size();
        const Candidate& c = servers[k];
        // A UNIX-domain server is named after this host, as the reference
        // names it.
        SessionPeer peer{c.unix_socket ? settings.myhostname : c.address.hostname, c.address.addr_text, c.port,
                         c.unix_socket, c.nexthop, c.nexthop_domain};
        // Only the recipients still open take part in this session.
        SessionMessage this_message = message;
        std::vector<std::size_t> index;
        this_message.recipients.clear();
        for (std::size_t i = 0; i < n; ++i)
            if (!done[i]) {
                index.push_back(i);
                this_message.recipients.push_back(message.recipients[i]);
            }

        std::optional<ReusedConnection> reused = plaintext ? std::nullopt : reuse(peer);
        ipc::UniqueFd conn;
        if (reused) {
            peer = reused->peer;
            conn = std::move(reused->fd);
        } else {
            auto fd = smtp::connect_server(c.address, settings.connect_timeout);
            if (!fd) {
                std::string where = c.unix_socket ? peer.namaddr() : peer.namaddr() + ":" + std::to_string(c.port);
                site = Reason{ipc::Dsn::simple("4.4.1", fmt::format("connect to {}: {}", where, fd.error())),
                              std::string(ipc::kNoRelay)};
                // Logged at once, without the queue ID, as the reference
                // does for TCP servers; a UNIX-domain server's failure shows
                // only in the deferral's reason.
                if (!c.unix_socket) util::msg_info("{}", site->dsn.reason);
                continue;
            }
            conn.reset(*fd);
        }
        request.times.conn_setup_done = ipc::TimeStamp::now();
        SmtpSession session(settings, peer, conn.get());
        session.set_tls_fallback(tls_fallback, plaintext);
        if (reused)
            session.resume(reused->resume, settings.cache->reuse_count_limit);
        else if (policy.store)
            session.allow_caching(static_cast<long>(std::time(nullptr)) + settings.cache->reuse_time_limit,
                                  settings.cache->reuse_count_limit);
        request.times.reuse_count = session.reuse_count();
        this_message.write_content = [&](smtp::SmtpStream& stream) {
            return write_content(stream, session.mime_downgrade(this_message));
        };
        SessionResult outcome = session.deliver(this_message);
        if (outcome.retry_plaintext) {
            // Not the final word: logged as for a server that is not the
            // last one, then the same server without TLS.
            for (const auto& ev : outcome.events)
                if (ev.rcpt < 0) util::msg_info("{}: {}", request.queue_id, ev.dsn.reason);
            again_plaintext = true;
            continue;
        }
        for (auto& ev : outcome.events) {
            if (ev.rcpt < 0) {
                // Whole-session trouble; a server that is not the last
                // one gets an info line before the next is tried.
                Reason why{ev.dsn, peer.relay()};
                if (ev.dsn.status[0] != '5' && !final_server)
                    util::msg_info("{}: {}", request.queue_id, ev.dsn.reason);
                if (ev.dsn.status[0] == '5') {
                    for (std::size_t i = 0; i < n; ++i)
                        if (!done[i]) finish(i, recorder.bounce(request.recipients[i], why.relay, why.dsn));
                } else {
                    site = why;
                }
                continue;
            }
            std::size_t i = index[static_cast<std::size_t>(ev.rcpt)];
            if (done[i]) continue;
            const auto& rcpt = request.recipients[i];
            if (ev.ok) {
                // A server with DSN takes over NOTIFY=SUCCESS; without it
                // the success notice says "relayed".
                ipc::DeliveryRecipient copy = rcpt;
                if (session.features().flags & smtp::kFeatureDsn)
                    copy.dsn_notify &= ~mail::kDsnNotifySuccess;
                else if (rcpt.dsn_notify & mail::kDsnNotifySuccess)
                    ev.dsn.action = settings.lmtp && (settings.cli_flags & kCliFinalDelivery) ? "delivered" : "relayed";
                finish(i, recorder.sent(copy, peer.relay(), ev.dsn), mark_sent);
            } else if (ev.dsn.status[0] == '5') {
                finish(i, recorder.bounce(rcpt, peer.relay(), ev.dsn));
            } else if (final_server) {
                finish(i, recorder.defer(rcpt, peer.relay(), ev.dsn));
            } else {
                rcpt_soft[i] = Reason{ev.dsn, peer.relay()};
            }
        }
        // The connection goes to the cache or is closed; a good session
        // ends the search for one to cache under the next-hop.
        bool good = outcome.greeted || session.reuse_count() > 0;
        for (const auto& ev : outcome.events)
            if (ev.rcpt < 0) good = false;
        if (session.cacheable() && settings.cache)
            save_session(*settings.cache, policy, peer, session.passivate(), std::move(conn), sender_key);
        if (good) policy.dest_label.clear();
        request.times.reuse_count = 0;
    }
    for (std::size_t i = 0; i < n; ++i) {
        if (done[i]) continue;
        Reason why = site ? *site
                          : (rcpt_soft[i] ? *rcpt_soft[i]
                                          : Reason{ipc::Dsn::simple("4.4.2", "delivery was not completed"),
                                                   std::string(ipc::kNoRelay)});
        finish(i, recorder.defer(request.recipients[i], why.relay, why.dsn));
    }
    return result;
}

}  // namespace pf::smtp_agent
