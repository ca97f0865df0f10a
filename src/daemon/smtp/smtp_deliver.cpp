// The smtp/lmtp client's work on one delivery request: see smtp_deliver.h.
#include "daemon/smtp/smtp_deliver.h"

#include "daemon/smtp/smtp_session.h"
#include "ipc/deliver_agent.h"
#include "ipc/deliver_mail_copy.h"
#include "mail/dsn_log.h"
#include "smtp/smtp_client_connect.h"
#include "smtp/smtp_client_dest.h"
#include "util/msg.h"

#include <optional>

#include <unistd.h>

#include <fmt/core.h>

namespace pf::smtp_agent {

namespace {

struct Candidate {
    smtp::ServerAddress address;
    unsigned port = 0;
    bool unix_socket = false;
};

struct Reason {
    ipc::Dsn dsn;
    std::string relay{ipc::kNoRelay};
};

class FdCloser {
public:
    explicit FdCloser(int fd) : fd_(fd) {}
    ~FdCloser() { if (fd_ >= 0) ::close(fd_); }
    FdCloser(const FdCloser&) = delete;
    FdCloser& operator=(const FdCloser&) = delete;

private:
    int fd_;
};

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

    // The servers to try: the next-hop first, then the fallback relays.
    std::vector<std::string> hops;
    hops.push_back(request.nexthop);
    for (const auto& f : settings.fallback_relays) hops.push_back(f);
    std::vector<Candidate> servers;
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
        for (auto& a : found.addresses) servers.push_back({std::move(a), dest->port, dest->unix_socket});
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
    for (const auto& r : request.recipients) message.recipients.push_back({r.address, r.dsn_orcpt, r.dsn_notify});
    message.write_content = [&](smtp::SmtpStream& stream) {
        bool failed = false;
        // Lines longer than smtp_line_length_limit are broken with
        // CRLF SPACE, as the reference does (logged once per message).
        std::size_t column = 0;
        bool broke = false;
        std::string out;
        auto copied = ipc::copy_message(file.stream(), request.data_offset, ipc::CopyEnvelope{}, ipc::kCopyDot, "\r\n",
                                        [&](std::string_view chunk) {
                                            out.clear();
                                            for (char ch : chunk) {
                                                if (ch == '\n' || ch == '\r') {
                                                    column = 0;
                                                } else {
                                                    if (settings.content_line_limit > 0 &&
                                                        column >= settings.content_line_limit) {
                                                        out += "\r\n ";
                                                        column = 1;
                                                        broke = true;
                                                    }
                                                    ++column;
                                                }
                                                out += ch;
                                            }
                                            stream.write(out);
                                            if (!stream.flush()) {
                                                failed = true;
                                                return false;
                                            }
                                            return true;
                                        });
        if (broke) util::msg_info("{}: breaking line > {} bytes with <CR><LF>SPACE", request.queue_id,
                                  settings.content_line_limit);
        if (copied.corrupt || copied.read_error)
            util::msg_warn("{}: error reading queue file {}", request.queue_id, file.path());
        return !failed && !copied.write_error && !copied.corrupt && !copied.read_error;
    };

    for (std::size_t k = 0; k < servers.size() && pending(); ++k) {
        const bool final_server = k + 1 == servers.size();
        const Candidate& c = servers[k];
        // A UNIX-domain server is named after this host, as the reference
        // names it.
        SessionPeer peer{c.unix_socket ? settings.myhostname : c.address.hostname, c.address.addr_text, c.port,
                         c.unix_socket};
        // Only the recipients still open take part in this session.
        SessionMessage this_message = message;
        std::vector<std::size_t> index;
        this_message.recipients.clear();
        for (std::size_t i = 0; i < n; ++i)
            if (!done[i]) {
                index.push_back(i);
                this_message.recipients.push_back(message.recipients[i]);
            }

        auto fd = smtp::connect_server(c.address, settings.connect_timeout);
        if (!fd) {
            std::string where = c.unix_socket ? peer.namaddr() : peer.namaddr() + ":" + std::to_string(c.port);
            site = Reason{ipc::Dsn::simple("4.4.1", fmt::format("connect to {}: {}", where, fd.error())),
                          std::string(ipc::kNoRelay)};
            continue;
        }
        FdCloser closer(*fd);
        request.times.conn_setup_done = ipc::TimeStamp::now();
        SmtpSession session(settings, peer, *fd);
        SessionResult outcome = session.deliver(this_message);
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
                    ev.dsn.action = "relayed";
                finish(i, recorder.sent(copy, peer.relay(), ev.dsn), mark_sent);
            } else if (ev.dsn.status[0] == '5') {
                finish(i, recorder.bounce(rcpt, peer.relay(), ev.dsn));
            } else if (final_server) {
                finish(i, recorder.defer(rcpt, peer.relay(), ev.dsn));
            } else {
                rcpt_soft[i] = Reason{ev.dsn, peer.relay()};
            }
        }
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
