// Client side of the cleanup conversation: see cleanup_client.h.
#include "ipc/cleanup_client.h"

#include "ipc/services.h"
#include "queue/record.h"

#include <cerrno>
#include <cstring>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace pf::ipc {
namespace {

// Records are sent in blocks of about this size.
constexpr std::size_t kFlushSize = 64 * 1024;

struct StatusText {
    unsigned bit;
    std::string_view text;
};

// Most severe first: only one text is reported.
constexpr StatusText kStatusTexts[] = {
    {kCleanupStatDefer, "service unavailable"},
    {kCleanupStatProxy, "queue file write error"},
    {kCleanupStatBad, "internal protocol error"},
    {kCleanupStatRcpt, "no recipients specified"},
    {kCleanupStatHops, "too many hops"},
    {kCleanupStatSize, "message file too big"},
    {kCleanupStatCont, "message content rejected"},
    {kCleanupStatWrite, "queue file write error"},
};

std::string attr_failure(std::string_view what, AttrError error) {
    return std::string(what) + ": " + std::string(attr_error_text(error));
}

}  // namespace

std::string_view cleanup_strerror(unsigned status) {
    if (status == 0) return "Success";
    for (const auto& entry : kStatusTexts)
        if (status & entry.bit) return entry.text;
    return "internal protocol error";
}

std::expected<CleanupClient, std::string> CleanupClient::open(const std::string& queue_directory,
                                                              std::string_view service, unsigned flags,
                                                              int timeout) {
    auto conn = connect_service(queue_directory, "public", service, timeout);
    if (!conn) return std::unexpected(conn.error());
    return attach(std::move(*conn), flags, timeout);
}

std::expected<CleanupClient, std::string> CleanupClient::attach(ServiceConnection connection, unsigned flags,
                                                                int timeout) {
    CleanupClient client;
    client.connection_ = std::move(connection);
    client.timeout_ = timeout;
    auto greeting = client.connection_.receive(timeout);
    if (!greeting) return std::unexpected(attr_failure("receive cleanup greeting", greeting.error()));
    auto status = greeting->get_number("status");
    auto id = greeting->get("queue_id");
    if (!status || *status != 0 || !id || id->empty())
        return std::unexpected(std::string("cleanup service could not create a queue file"));
    client.queue_id_ = std::string(*id);
    // The flags leave with the first block of records (cleanup expects
    // nothing else in between): one send and one wakeup of cleanup less
    // per message. A client that closes before writing still sends them.
    AttrList request;
    request.add("flags", static_cast<long long>(flags));
    client.pending_ = encode_attrs(request);
    return client;
}

CleanupClient::~CleanupClient() { drain(); }

CleanupClient& CleanupClient::operator=(CleanupClient&& other) noexcept {
    if (this != &other) {
        drain();
        connection_ = std::move(other.connection_);
        queue_id_ = std::move(other.queue_id_);
        pending_ = std::move(other.pending_);
        error_ = std::move(other.error_);
        timeout_ = other.timeout_;
    }
    return *this;
}

void CleanupClient::drain() noexcept {
    if (!connection_.is_open() || pending_.empty() || !error_.empty()) return;
    try {
        (void)flush();
    } catch (...) {
    }
    pending_.clear();
}

std::expected<void, std::string> CleanupClient::write(char type, std::string_view data) {
    if (!error_.empty()) return std::unexpected(error_);
    queue::append_record(pending_, type, data);
    if (pending_.size() >= kFlushSize) return flush();
    return {};
}

std::expected<void, std::string> CleanupClient::write_attr(std::string_view name, std::string_view value) {
    std::string data(name);
    data += '=';
    data += value;
    return write(queue::rec::kAttr, data);
}

std::expected<void, std::string> CleanupClient::flush() {
    if (!error_.empty()) return std::unexpected(error_);
    std::size_t off = 0;
    int fd = connection_.fd();
    while (off < pending_.size()) {
        if (timeout_ > 0) {
            pollfd p{fd, POLLOUT, 0};
            int n = ::poll(&p, 1, timeout_ * 1000);
            if (n == 0) {
                error_ = "write to cleanup service: timeout";
                return std::unexpected(error_);
            }
            if (n < 0 && errno == EINTR) continue;
        }
        ssize_t n = ::send(fd, pending_.data() + off, pending_.size() - off, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN) continue;
            // Not a socket (tests with pipes): plain write.
            if (errno == ENOTSOCK) n = ::write(fd, pending_.data() + off, pending_.size() - off);
            if (n < 0) {
                error_ = std::string("write to cleanup service: ") + std::strerror(errno);
                return std::unexpected(error_);
            }
        }
        off += static_cast<std::size_t>(n);
    }
    pending_.clear();
    return {};
}

std::expected<CleanupReply, std::string> CleanupClient::finish() {
    if (auto flushed = flush(); !flushed) return std::unexpected(flushed.error());
    auto reply = connection_.receive(timeout_);
    if (!reply) return std::unexpected(attr_failure("receive cleanup status", reply.error()));
    auto status = reply->get_number("status");
    if (!status || *status < 0) return std::unexpected(std::string("malformed cleanup status"));
    CleanupReply out;
    out.status = static_cast<unsigned>(*status);
    out.reason = reply->get_or("reason", "");
    return out;
}

}  // namespace pf::ipc
