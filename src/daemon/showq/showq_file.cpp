// showq(8)'s in-memory queue file reader; see showq_file.h. The length
// decoding and the warning texts are those of queue::RecordReader::get
// (the reference's record reader): at most five 7-bit length groups summed
// in a C int, pointers as decimal offsets, 10000 backward jumps at most.
#include "daemon/showq/showq_file.h"

#include "queue/queue_file_reader.h"
#include "queue/record.h"
#include "util/msg.h"

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdint>
#include <cstring>
#include <unistd.h>

namespace pf::showq {

namespace {

constexpr int kReverseJumpLimit = 10000;

}  // namespace

QueueFileImage::QueueFileImage(int fd, off_t size, std::string_view path, std::string& buffer)
    : fd_(fd), path_(path), window_(buffer) {
    window_.clear();
    // The size plus one byte, so that a file that did not grow since it
    // was examined ends with a short read: no second read for its end.
    off_t want = size < 0 ? 0 : size + 1;
    first_read_ = static_cast<std::size_t>(std::clamp<off_t>(want, 4096, static_cast<off_t>(kFirstReadLimit)));
}

bool QueueFileImage::load() {
    if (pos_ < 0 || (eof_ >= 0 && pos_ >= eof_)) return false;
    std::size_t want = first_read_ != 0 ? first_read_ : kWindow;
    first_read_ = 0;
    ssize_t got = 0;
    window_.resize_and_overwrite(want, [this, &got](char* p, std::size_t n) {
        do got = ::pread(fd_, p, n, pos_);
        while (got < 0 && errno == EINTR);
        return got > 0 ? static_cast<std::size_t>(got) : 0;
    });
    window_start_ = pos_;
    // A short read: the end of the file (a read error ends it as well, as
    // it ends a stdio stream's reading).
    if (got < static_cast<ssize_t>(want)) eof_ = pos_ + (got > 0 ? got : 0);
    return got > 0;
}

int QueueFileImage::read_record(std::string& data) {
    // The common case first: the type, a length of at most four bytes and
    // the data all in the window (such a length cannot be negative), taken
    // at once. Anything else goes byte by byte below, from the same place.
    if (in_window()) {
        std::size_t at = static_cast<std::size_t>(pos_ - window_start_);
        const unsigned char* p = reinterpret_cast<const unsigned char*>(window_.data()) + at;
        std::size_t avail = window_.size() - at;
        std::size_t n = 1;
        std::size_t len = 0;
        for (unsigned shift = 0; shift <= 21 && n < avail; shift += 7) {
            unsigned char byte = p[n++];
            len |= static_cast<std::size_t>(byte & 0x7f) << shift;
            if ((byte & 0x80) == 0) {
                if (len > avail - n) break;
                data.assign(reinterpret_cast<const char*>(p + n), len);
                pos_ += static_cast<off_t>(n + len);
                return p[0];
            }
        }
    }
    int type = next_byte();
    if (type < 0) return queue::kRecEof;
    // Sum the groups as a C int, then widen, as the reference does.
    long len = 0;
    for (unsigned shift = 0;; shift += 7) {
        if (shift >= 32) {
            util::msg_warn("{}: too many length bits, record type {}", path_, type);
            return queue::kRecError;
        }
        int byte = next_byte();
        if (byte < 0) {
            util::msg_warn("{}: unexpected EOF reading length, record type {}", path_, type);
            return queue::kRecError;
        }
        auto group = static_cast<std::uint32_t>(byte & 0x7f) << shift;
        len |= static_cast<long>(static_cast<std::int32_t>(group));
        if ((byte & 0x80) == 0) break;
    }
    if (len < 0) {
        util::msg_warn("{}: illegal length {}, record type {}", path_, len, type);
        return queue::kRecError;
    }
    // Only as many bytes as the file holds are collected.
    data.clear();
    std::size_t want = static_cast<std::size_t>(len);
    while (data.size() < want && available()) {
        std::size_t at = static_cast<std::size_t>(pos_ - window_start_);
        std::size_t n = std::min(want - data.size(), window_.size() - at);
        data.append(window_, at, n);
        pos_ += static_cast<off_t>(n);
    }
    if (data.size() != want) {
        util::msg_warn("{}: unexpected EOF in data, record type {} length {}", path_, type, len);
        return queue::kRecError;
    }
    return type;
}

int QueueFileImage::get(std::string& data) {
    for (;;) {
        int type = read_record(data);
        if (type < 0) return type;
        if (type == queue::rec::kPointer) {
            type = go_to(data);
            if (type != queue::kRecError) continue;
        }
        if (type == queue::rec::kPadding) continue;
        if (type == queue::rec::kEnd && !seek_end()) {
            util::msg_warn("{}: seek error after reading END record: {}", path_, std::strerror(errno));
            return queue::kRecError;
        }
        return type;
    }
}

int QueueFileImage::go_to(std::string_view pointer) {
    std::string_view text;
    long offset = queue::parse_pointer(pointer, text);
    if (offset < 0) {
        util::msg_warn("{}: malformed pointer record value: {}", path_, text);
        return queue::kRecError;
    }
    if (offset == 0) return 0;  // a placeholder that points nowhere
    if (offset <= saved_offset_ && ++reverse_jumps_ > kReverseJumpLimit) {
        util::msg_warn("{}: too many reverse jump records", path_);
        return queue::kRecError;
    }
    // Beyond what was read, the kernel says whether such an offset exists.
    if (offset > window_start_ + static_cast<off_t>(window_.size()) && ::lseek(fd_, offset, SEEK_SET) < 0) {
        util::msg_warn("{}: seek error after pointer record: {}", path_, std::strerror(errno));
        return queue::kRecError;
    }
    pos_ = offset;
    saved_offset_ = offset;
    return 0;
}

bool QueueFileImage::skip(long offset) {
    if (offset < 0 ? offset < -pos_ : pos_ > LONG_MAX - offset) {
        errno = EINVAL;
        return false;
    }
    off_t target = pos_ + offset;
    if (target > window_start_ + static_cast<off_t>(window_.size()) && ::lseek(fd_, target, SEEK_SET) < 0)
        return false;
    pos_ = target;
    return true;
}

bool QueueFileImage::seek_end() {
    if (eof_ < 0) {
        off_t end = ::lseek(fd_, 0, SEEK_END);
        if (end < 0) return false;
        eof_ = end;
    }
    pos_ = eof_;
    return true;
}

}  // namespace pf::showq
