// qmqpd(8)'s session: authorization, the request, the cleanup handoff and
// the reply (qmqpd_session.h).
//
// Trust: everything read from fd is the client's and hostile; lengths are
// bounded by message_size_limit and line_length_limit before any byte of
// the payload is kept.
#include "daemon/qmqpd/qmqpd_session.h"

#include "daemon/qmqpd/qmqpd_content.h"
#include "ipc/services.h"
#include "queue/record.h"
#include "util/msg.h"
#include "util/netstring.h"

#include <fmt/format.h>
#include <sys/time.h>
#include <unistd.h>

#include <optional>
#include <string_view>

namespace pf::qmqpd {

namespace {

namespace rec = queue::rec;
using util::NetstringError;

constexpr char kOk = 'K';
constexpr char kRetry = 'Z';
constexpr char kHard = 'D';

class Session {
public:
    Session(int fd, const Peer& peer, const Settings& settings, const CleanupOpener& opener)
        : fd_(fd), peer_(peer), settings_(settings), opener_(opener),
          reader_(util::NetstringReader::fd_source(fd, settings.timeout)) {
        gettimeofday(&arrival_, nullptr);
    }

    void run();

private:
    // A netstring error ends the session: thrown inside, caught in run().
    struct Abort {
        NetstringError error;
    };
    template <typename T>
    T check(std::expected<T, NetstringError> r) {
        if (!r) throw Abort{r.error()};
        if constexpr (!std::is_void_v<T>) return std::move(*r);
    }

    void receive();
    void open_file();
    void copy_sender();
    void write_attributes();
    void copy_recipients();
    void write_content();
    void close_file();
    void send_status();
    void reply(bool log, char code, std::string_view text);
    void put(char type, std::string_view data) {
        if (err_ == 0 && !cleanup_->write(type, data)) err_ = ipc::kCleanupStatWrite;
    }

    int fd_;
    const Peer& peer_;
    const Settings& settings_;
    const CleanupOpener& opener_;
    util::NetstringReader reader_;
    timeval arrival_{};
    std::optional<ipc::CleanupClient> cleanup_;
    std::string queue_id_;
    unsigned err_ = 0;
    std::string why_rejected_;
    std::string message_;
    std::string buf_;
    std::string sender_;
    std::size_t rcpt_count_ = 0;
    std::optional<std::string> recipient_;
    const char* where_ = "initializing client connection";
};

void Session::open_file() {
    auto opened = opener_(settings_.cleanup_flags);
    if (!opened) util::msg_fatal("unable to connect to the public cleanup service");
    cleanup_.emplace(std::move(*opened));
    queue_id_ = cleanup_->queue_id();
    util::msg_info("{}: client={}", queue_id_, peer_.namaddr);
    (void)cleanup_->write(rec::kTime, fmt::format("{} {}", arrival_.tv_sec, arrival_.tv_usec));
    if (!settings_.content_filter.empty()) (void)cleanup_->write(rec::kFilter, settings_.content_filter);
}

void Session::copy_sender() {
    where_ = "receiving sender address";
    check(reader_.get(buf_, settings_.line_limit));
    VerpSender verp = parse_verp_sender(buf_, settings_.verp_filter);
    if (!verp.error.empty()) {
        err_ |= ipc::kCleanupStatCont;
        why_rejected_ = verp.error;
    }
    put(rec::kFrom, verp.sender);
    if (verp.requested) put(rec::kVerp, verp.delims);
    sender_ = verp.sender;
}

void Session::write_attributes() {
    auto& c = *cleanup_;
    // What the logs and XFORWARD show, then the real client (for milters).
    (void)c.write_attr("log_client_name", peer_.name);
    (void)c.write_attr("log_client_address", peer_.rfc_addr);
    (void)c.write_attr("log_client_port", peer_.port);
    (void)c.write_attr("log_message_origin", peer_.namaddr);
    (void)c.write_attr("log_protocol_name", "QMQP");
    (void)c.write_attr("client_name", peer_.name);
    (void)c.write_attr("client_address", peer_.addr);
    (void)c.write_attr("client_port", peer_.port);
    (void)c.write_attr("client_address_type", std::to_string(peer_.family));
    (void)c.write_attr("protocol_name", "QMQP");
}

void Session::copy_recipients() {
    where_ = "receiving recipient address";
    while (!check(reader_.take_terminator())) {
        check(reader_.get(buf_, settings_.line_limit));
        put(rec::kRcpt, buf_);
        ++rcpt_count_;
        if (!recipient_) recipient_ = buf_;
    }
}

void Session::write_content() {
    put(rec::kMessage, "");
    ReceivedInfo info;
    info.client_name = peer_.name;
    info.client_rfc_addr = peer_.rfc_addr;
    info.myhostname = settings_.myhostname;
    info.mail_name = settings_.mail_name;
    info.queue_id = queue_id_;
    info.arrival = arrival_.tv_sec;
    for (const auto& line : received_header(info, recipient_ ? rcpt_count_ : 0, recipient_.value_or("")))
        put(rec::kNorm, line);
    for (const auto& [type, data] : content_records(message_, static_cast<std::size_t>(settings_.line_limit)))
        put(type, data);
}

void Session::close_file() {
    put(rec::kExtracted, "");
    put(rec::kEnd, "");
    if (err_ == 0) {
        if (!cleanup_->flush()) err_ = ipc::kCleanupStatWrite;
    }
    if (err_ == 0) {
        auto verdict = cleanup_->finish();
        if (!verdict) {
            err_ = ipc::kCleanupStatWrite;
        } else {
            err_ = verdict->status;
            why_rejected_ = verdict->reason;
        }
    }
    // Otherwise the connection closes unfinished: cleanup drops the file.
    cleanup_.reset();
}

void Session::reply(bool log, char code, std::string_view text) {
    if (code == kHard && settings_.soft_bounce) code = kRetry;
    std::string payload(1, code);
    payload += text;
    std::string wire = util::netstring_encode(payload);
    if (log) {
        if (code == kOk)
            util::msg_info("{}: {}: {}", queue_id_, peer_.namaddr, text);
        else
            util::msg_warn("{}: {}: {}", queue_id_, peer_.namaddr, text);
    }
    if (code != kOk && settings_.error_delay > 0) ::sleep(static_cast<unsigned>(settings_.error_delay));
    check(util::netstring_write(fd_, wire, settings_.timeout));
}

void Session::send_status() {
    where_ = "sending completion status";
    // The most severe error of the message, as smtpd orders them.
    if (err_ == 0)
        reply(false, kOk, "Ok: queued as " + queue_id_);
    else if (err_ & ipc::kCleanupStatDefer)
        reply(true, kRetry, "Error: " + why_rejected_);
    else if (err_ & ipc::kCleanupStatBad)
        reply(true, kRetry, fmt::format("Error: internal error {}", err_));
    else if (err_ & ipc::kCleanupStatSize)
        reply(true, kHard, "Error: message too large");
    else if (err_ & ipc::kCleanupStatHops)
        reply(true, kHard, "Error: too many hops");
    else if (err_ & ipc::kCleanupStatCont)
        reply(true, !why_rejected_.empty() && why_rejected_[0] == '4' ? kRetry : kHard, "Error: " + why_rejected_);
    else if (err_ & ipc::kCleanupStatWrite)
        reply(true, kRetry, "Error: queue file write error");
    else if (err_ & ipc::kCleanupStatRcpt)
        reply(true, kHard, "Error: no recipients specified");
    else
        reply(true, kRetry, fmt::format("Error: internal error {}", err_));
}

void Session::receive() {
    open_file();
    where_ = "receiving QMQP packet header";
    (void)check(reader_.get_length());
    where_ = "receiving message content";
    check(reader_.get(message_, settings_.message_limit));
    copy_sender();
    write_attributes();
    copy_recipients();
    if (err_ == 0) write_content();
    close_file();
    send_status();
}

void Session::run() {
    const char* reason = nullptr;
    try {
        auto allowed = settings_.clients ? settings_.clients->match(peer_.name, peer_.addr)
                                         : mail::NamadrList::Result::no;
        if (allowed == mail::NamadrList::Result::yes)
            receive();
        else if (allowed == mail::NamadrList::Result::no)
            reply(false, kHard, fmt::format("Error: {} is not authorized to use this service", peer_.namaddr));
        else
            reply(false, kRetry, "Error: server configuration error");
    } catch (const Abort& abort) {
        switch (abort.error) {
        case NetstringError::eof: reason = "lost connection"; break;
        case NetstringError::timeout: reason = "read/write timeout"; break;
        case NetstringError::format: reason = "netstring format error"; break;
        case NetstringError::size: reason = "netstring length exceeds storage limit"; break;
        }
        if (abort.error == NetstringError::format || abort.error == NetstringError::size) {
            try {
                reply(false, kHard, fmt::format("{} while {}", reason, where_));
            } catch (const Abort&) {
                // The client is gone: only the log line below.
            }
        }
    }
    if (reason)
        util::msg_info("{}: {}: {} while {}", queue_id_.empty() ? "NOQUEUE" : queue_id_, peer_.namaddr, reason,
                       where_);
    cleanup_.reset();
}

}  // namespace

void run_session(int fd, const Peer& peer, const Settings& settings, const CleanupOpener& open_cleanup) {
    Session(fd, peer, settings, open_cleanup).run();
}

}  // namespace pf::qmqpd
