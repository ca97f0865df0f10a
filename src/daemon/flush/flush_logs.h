// The fast-flush logs of flush(8): one file per destination under
// $queue_directory/flush/, named after the (lower-case) site with every
// character other than a letter or digit replaced by '_' (the reference's
// "remote_test" for "remote.test"), mode 0600, holding one queue ID per
// line, appended to under an exclusive flock().
//
// Sending a log (the reference's behaviour, observed and documented):
// under the lock, every distinct well-formed queue ID read from it is
// "touched" (access and modification time set to now) in deferred/ (or,
// when a concurrent flush already moved it, in incoming/) and moved from
// deferred/ to incoming/; a log that had lines is truncated, and its
// time stamps are updated; qmgr is then triggered to scan incoming/.
// A send on behalf of a user (send_site) first asks qmgr to forget dead
// destinations and transports ('F'); a single-file send (send_file)
// instead marks the file with the group-read bit, which makes qmgr
// unthrottle that message's transports and destinations when it reads it.
// A refresh sends the non-empty logs not read for max_age seconds and
// removes the empty ones not changed for purge_time seconds.
//
// Trust: sites and queue IDs come from clients (possibly a remote ETRN
// client through smtpd, or a local user through postqueue); both are
// checked by the caller with is_queue_id() (after the site-to-name
// mapping) before they become paths. Log contents are checked line by
// line; queue files are never opened through symbolic links.
#pragma once

#include "ipc/flush_client.h"
#include "queue/queue_file.h"

#include <ctime>
#include <functional>
#include <string>
#include <string_view>

namespace pf::flush {

// How a send treats qmgr's memory of dead destinations.
enum SendHow : unsigned {
    kRefreshOnly = 0,            // just move the mail (refresh)
    kUnthrottleBefore = 1u << 0, // qmgr forgets dead sites first (send_site)
    kUnthrottleAfter = 1u << 1,  // mark the file for a per-message unthrottle (send_file)
};

// The group-read bit the reference uses on a queue file to mean "unthrottle
// what this message needs" (qmgr clears it).
inline constexpr mode_t kModeUnthrottle = S_IRGRP;

// The log file name for a site (already lower-cased by the caller).
std::string site_to_name(std::string_view site);

class FlushLogs {
public:
    // Writes trigger bytes to qmgr.
    using Trigger = std::function<void(std::string_view bytes)>;
    using Clock = std::function<std::time_t()>;

    // layout: the queue layout, paths relative to the working directory
    // when relative is set (the daemon runs in queue_directory).
    FlushLogs(queue::QueueLayout layout, bool relative, Trigger trigger, Clock clock = {});

    // Appends queue_id to the log of the file name (site_to_name()).
    ipc::FlushStatus add(std::string_view name, std::string_view queue_id);
    // Sends the mail listed in the log of name.
    ipc::FlushStatus send(std::string_view name, unsigned how);
    // Sends one deferred message.
    ipc::FlushStatus send_file(std::string_view queue_id);
    // Sends logs unread for max_age seconds; removes empty logs unchanged
    // for purge_time seconds.
    void refresh(long max_age, long purge_time);

    std::string log_path(std::string_view name) const { return layout_.path(queue::kFlushLog, name, relative_); }

private:
    // Touches and moves one queue file; true when something was done.
    bool one_file(std::string_view queue_id, std::time_t now, unsigned how);
    std::string path(std::string_view queue, std::string_view id) const { return layout_.path(queue, id, relative_); }
    int move_to_incoming(std::string_view queue_id);
    std::time_t now() const { return clock_ ? clock_() : std::time(nullptr); }

    queue::QueueLayout layout_;
    bool relative_;
    Trigger trigger_;
    Clock clock_;
};

}  // namespace pf::flush
