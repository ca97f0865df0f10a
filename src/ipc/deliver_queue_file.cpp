// The agents' queue-file handle (deliver_queue_file.h).
#include "ipc/deliver_queue_file.h"

#include "mail/address_quote.h"
#include "queue/record.h"
#include "util/strings.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fmt/core.h>

namespace pf::ipc {

namespace {

constexpr std::size_t kMaxRecord = 1 << 24;
constexpr std::size_t kMaxDeliveredHeaders = 1000;

bool queue_name_ok(std::string_view name) {
    if (name.empty() || name.size() > 100) return false;
    for (char c : name)
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
            return false;
    return true;
}

// "Name:" at the start of a header line: printable non-blank bytes, then
// optional blanks, then ':'. Returns the length of the name, 0 if none.
std::size_t header_name_length(std::string_view line) {
    std::size_t n = 0;
    while (n < line.size() && static_cast<unsigned char>(line[n]) > ' ' && static_cast<unsigned char>(line[n]) < 127 &&
           line[n] != ':')
        ++n;
    if (n == 0) return 0;
    std::size_t p = n;
    while (p < line.size() && (line[p] == ' ' || line[p] == '\t')) ++p;
    return p < line.size() && line[p] == ':' ? n : 0;
}

}  // namespace

std::expected<DeliveryQueueFile, DeliveryQueueFile::Failure> DeliveryQueueFile::open(
    const queue::QueueLayout& layout, std::string_view queue_name, std::string_view queue_id) {
    if (!queue_name_ok(queue_name) || !queue::is_queue_id(queue_id))
        return std::unexpected(Failure{OpenError::bad_name, fmt::format("bad queue file name: {} {}", queue_name, queue_id)});
    std::string path = layout.path(queue_name, queue_id, true);
    // fopen, not open + fdopen (one fcntl less), and a buffer of our own
    // (no fstat for the block size) that holds a typical queue file whole:
    // one read(2) for envelope and content, seeks inside the buffer.
    constexpr std::size_t kBuffer = 16384;
    std::FILE* stream = std::fopen(path.c_str(), "r+e");
    if (!stream) {
        int err = errno;
        return std::unexpected(Failure{err == ENOENT ? OpenError::not_found : OpenError::failed,
                                       fmt::format("open {} {}: {}", queue_name, queue_id, std::strerror(err))});
    }
    DeliveryQueueFile file;
    file.stream_ = stream;
    file.buffer_ = std::make_unique_for_overwrite<char[]>(kBuffer);
    std::setvbuf(stream, file.buffer_.get(), _IOFBF, kBuffer);
    if (::flock(::fileno(stream), LOCK_SH | LOCK_NB) < 0) {
        int err = errno;
        return std::unexpected(Failure{OpenError::failed, fmt::format("shared lock {}: {}", path, std::strerror(err))});
    }
    file.path_ = std::move(path);
    return file;
}

DeliveryQueueFile::DeliveryQueueFile(DeliveryQueueFile&& other) noexcept
    : stream_(other.stream_), buffer_(std::move(other.buffer_)), path_(std::move(other.path_)) {
    other.stream_ = nullptr;
}

DeliveryQueueFile& DeliveryQueueFile::operator=(DeliveryQueueFile&& other) noexcept {
    if (this != &other) {
        if (stream_) std::fclose(stream_);
        stream_ = other.stream_;
        buffer_ = std::move(other.buffer_);
        path_ = std::move(other.path_);
        other.stream_ = nullptr;
    }
    return *this;
}

DeliveryQueueFile::~DeliveryQueueFile() {
    if (stream_) std::fclose(stream_);
}

int DeliveryQueueFile::fd() const { return stream_ ? ::fileno(stream_) : -1; }

std::expected<void, std::string> DeliveryQueueFile::mark_done(long offset) {
    if (offset == -1) return {};
    if (offset <= 0) return std::unexpected(fmt::format("bad recipient offset {}", offset));
    // The reference flushes without fsync here; the queue manager fsyncs
    // nothing either: a lost mark means one more delivery, never a loss.
    auto marked = queue::mark_record(fd(), offset, queue::rec::kDone, false);
    if (!marked) return std::unexpected(fmt::format("update queue file {}: {}", path_, marked.error()));
    return {};
}

std::set<std::string> DeliveryQueueFile::delivered_to_headers(long data_offset) {
    std::set<std::string> found;
    if (std::fseek(stream_, data_offset, SEEK_SET) != 0) return found;
    char prev = queue::rec::kNorm;
    while (found.size() < kMaxDeliveredHeaders) {
        auto record = queue::read_record(stream_, kMaxRecord);
        if (!record || (record->type != queue::rec::kNorm && record->type != queue::rec::kCont)) break;
        char type = record->type;
        bool continued = prev == queue::rec::kCont;
        prev = type;
        if (continued) continue;
        const std::string& line = record->data;
        if (std::size_t n = header_name_length(line); n > 0) {
            if (util::iequals(std::string_view(line).substr(0, n), "Delivered-To") && n == 12 && line.size() > 12 &&
                line[12] == ':') {
                std::string_view value = std::string_view(line).substr(13);
                while (!value.empty() && util::is_space(value.front())) value.remove_prefix(1);
                found.insert(util::to_lower(value));
            }
        } else if (!line.empty() && (line[0] == ' ' || line[0] == '\t')) {
            continue;
        } else {
            break;
        }
    }
    return found;
}

bool delivered_to_loop(const std::set<std::string>& headers, std::string_view address) {
    return headers.contains(util::to_lower(mail::quote_822_local(address)));
}

}  // namespace pf::ipc
