// The queue manager's view of the queue directories: scans of incoming/
// and deferred/ (descending into the one-character hash directories, as
// the reference's scanner does), the reference's test of whether a queue
// file may be opened (a well-formed queue ID, a regular file with a single
// link, owner permissions exactly rwx: "ready"), and moving a file between
// queues (making a missing hash directory on the way).
//
// A scan is a snapshot of the names present when it starts; a request to
// scan again while one runs restarts it when it ends (the reference's
// QMGR_SCAN_START in nflags).
//
// Trust: names come from directory listings, which anyone with write
// access to the queue can influence; every name is checked before it
// becomes a path, and only regular files are considered.
#pragma once

#include "queue/queue_file.h"

#include <deque>
#include <string>
#include <string_view>
#include <sys/stat.h>

namespace pf::qmgr {

// Queue file paths: absolute, or relative to queue_directory (a daemon runs
// chdir'ed there, perhaps chrooted, and the reference's messages show the
// relative form).
struct QueuePaths {
    queue::QueueLayout layout;
    bool relative = false;

    std::string path(std::string_view queue, std::string_view id) const { return layout.path(queue, id, relative); }
    std::string dir(std::string_view queue) const {
        return relative ? std::string(queue) : layout.queue_directory + "/" + std::string(queue);
    }
};

class QueueScan {
public:
    explicit QueueScan(std::string queue) : queue_(std::move(queue)) {}

    const std::string& queue() const { return queue_; }
    unsigned flags() const { return flags_; }
    bool active() const { return running_; }

    // A scan request with ScanFlags bits (qmgr_scheduler.h).
    void request(const QueuePaths& paths, unsigned flags);
    // The next queue ID of the running scan; "" when it is done (and no
    // restart was requested).
    std::string next(const QueuePaths& paths);

private:
    void start(const QueuePaths& paths);

    std::string queue_;
    unsigned flags_ = 0;   // of the running scan
    unsigned nflags_ = 0;  // for the next scan
    bool running_ = false;
    std::deque<std::string> names_;
};

// All file names in a queue directory and its hash subdirectories.
std::deque<std::string> list_queue(const QueuePaths& paths, std::string_view queue);

// The reference's mail_open_ok(): true when the file may be opened; warns
// as the reference does about odd files.
bool queue_file_ok(const QueuePaths& paths, std::string_view queue, std::string_view id, struct stat& st);

// Renames id from one queue to another; 0 or an errno value.
int move_queue_file(const QueuePaths& paths, std::string_view id, std::string_view from,
                    std::string_view to);
// Removes id from a queue; 0 or an errno value.
int remove_queue_file(const QueuePaths& paths, std::string_view queue, std::string_view id);

}  // namespace pf::qmgr
