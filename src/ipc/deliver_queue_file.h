// A delivery agent's handle on the queue file named in its request: open
// read-write (to mark recipients done), with a shared non-blocking lock as
// the reference's agents take (qmgr holds an exclusive lock only while it
// moves a file into active/, so a lock failure means trouble), closed on
// exec so a piped command never inherits it; and the scans agents make of
// the content: the Delivered-To: headers for pipe's and local's loop check.
//
// Trust: the queue name and ID come from qmgr but are checked before they
// become a path; the file's records may be damaged and are bounded.
#pragma once

#include "queue/queue_file.h"

#include <cstdio>
#include <expected>
#include <memory>
#include <set>
#include <string>
#include <string_view>

namespace pf::ipc {

class DeliveryQueueFile {
public:
    enum class OpenError { not_found, bad_name, failed };
    struct Failure {
        OpenError kind;
        std::string text;  // "open active 1234ABC: No such file or directory"
    };

    // Opens <queue_name>/<hash>/<queue_id> relative to the current directory
    // (agents run in queue_directory).
    static std::expected<DeliveryQueueFile, Failure> open(const queue::QueueLayout& layout, std::string_view queue_name,
                                                          std::string_view queue_id);
    DeliveryQueueFile(DeliveryQueueFile&& other) noexcept;
    DeliveryQueueFile& operator=(DeliveryQueueFile&& other) noexcept;
    DeliveryQueueFile(const DeliveryQueueFile&) = delete;
    ~DeliveryQueueFile();

    int fd() const;
    std::FILE* stream() { return stream_; }
    const std::string& path() const { return path_; }

    // Marks the recipient record at offset as done (the reference's
    // "deliver_completed"); offset -1 is ignored (recipients not from the
    // file). An error text on a bad offset or write failure.
    std::expected<void, std::string> mark_done(long offset);

    // The addresses of the Delivered-To: headers of the message's primary
    // header block, folded to lower case (at most 1000).
    std::set<std::string> delivered_to_headers(long data_offset);

private:
    DeliveryQueueFile() = default;
    std::FILE* stream_ = nullptr;
    std::unique_ptr<char[]> buffer_;  // stream_'s buffer (freed after the fclose)
    std::string path_;
};

// Whether address (internal form) appears among headers as returned by
// delivered_to_headers: compared in quoted external form, lower case.
bool delivered_to_loop(const std::set<std::string>& headers, std::string_view address);

}  // namespace pf::ipc
