// showq(8)'s reader of one queue file: the records as the queue library's
// RecordReader returns them with kReadDefault (pointers followed, padding
// skipped, the end of file after 'E'), with its warnings word for word,
// but read from memory: the whole file comes in with one pread() when it
// is not large (almost every queue file), further pieces of 64 KB with
// pread() only when a record, a pointer or the skip over the message
// content reaches beyond what was read. A stdio stream instead costs a
// read per 4 KB, an fstat, and an lseek and a re-read for each skip; over
// a queue of 50,000 messages that was most of the listing's system time.
//
// A read shorter than asked is taken as the end of the file (what a
// regular file on Linux gives). A skip or a pointer beyond the end of the
// file is not an error (as with lseek) and the next read finds the end.
//
// Trust: the file may be damaged or hostile. Record lengths are checked
// as RecordReader checks them, data is collected only as far as the file
// holds bytes, and backward pointer jumps are limited (10000).
#pragma once

#include <string>
#include <string_view>
#include <sys/types.h>

namespace pf::showq {

class QueueFileImage {
public:
    // fd: open for reading, not owned. size: the file's size when it was
    // examined, to size the first read. path: names the file in warnings
    // (kept as a view: it must outlive the reader). buffer, when given,
    // holds the bytes read (a scan reuses one buffer for every file).
    QueueFileImage(int fd, off_t size, std::string_view path) : QueueFileImage(fd, size, path, own_) {}
    QueueFileImage(int fd, off_t size, std::string_view path, std::string& buffer);
    QueueFileImage(const QueueFileImage&) = delete;
    QueueFileImage& operator=(const QueueFileImage&) = delete;

    // The next record's type (0-255), queue::kRecEof or queue::kRecError.
    int get(std::string& data);
    // Moves forward by offset bytes from the current position (fseek with
    // SEEK_CUR); false with errno set when that position cannot exist.
    bool skip(long offset);
    std::string_view path() const { return path_; }

    static constexpr std::size_t kWindow = 64 * 1024;
    static constexpr std::size_t kFirstReadLimit = 1024 * 1024;

private:
    // Whether the byte at pos_ is in the window after loading it if needed.
    bool available() { return in_window() || load(); }
    bool in_window() const {
        return pos_ >= window_start_ && pos_ - window_start_ < static_cast<off_t>(window_.size());
    }
    bool load();
    int next_byte() {
        if (!available()) return -1;
        return static_cast<unsigned char>(window_[static_cast<std::size_t>(pos_++ - window_start_)]);
    }
    // One record as it is in the file (pointers and padding included).
    int read_record(std::string& data);
    int go_to(std::string_view pointer);
    bool seek_end();

    std::string own_;          // the buffer when none is given
    int fd_;
    std::string_view path_;
    std::string& window_;      // bytes of the file from window_start_
    off_t window_start_ = 0;
    off_t pos_ = 0;
    off_t eof_ = -1;           // the end of the file once a read met it
    std::size_t first_read_;
    long saved_offset_ = 0;
    int reverse_jumps_ = 0;
};

}  // namespace pf::showq
