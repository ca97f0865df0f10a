// How the bounce daemon posts a notice: a new message handed to the
// cleanup service (public/$cleanup_service_name), as the reference's
// post_mail() does it for its internal mail. The cleanup flags are those
// of internal mail (address mapping on; header/body checks only when
// internal_mail_filter_classes names "bounce"); the envelope is the
// arrival time (seconds and microseconds), log_origin=local,
// trace_flags=0, the sender, the one recipient and the start of the
// content; the content starts with
//   Received: by <myhostname> (<mail_name>)
//   \tid <new queue id>; <date>
//   Date: <date>
// and ends with an empty extracted segment and the end record.
//
// Trust: cleanup is one of our daemons; its reply is parsed strictly.
#pragma once

#include "config/config.h"
#include "ipc/cleanup_client.h"

#include <optional>
#include <string>
#include <string_view>

namespace pf::bounce {

class PostedNotice {
public:
    // Connects to cleanup and writes the envelope and the first headers;
    // nullopt (after a warning) when cleanup cannot be reached, which
    // means "try again later".
    static std::optional<PostedNotice> open(const config::Config& config, std::string_view sender,
                                            std::string_view recipient, int sendopts);

    const std::string& queue_id() const { return client_.queue_id(); }
    // One content record.
    void put(char type, std::string_view data);
    // Ends the message and returns cleanup's status (0: queued).
    unsigned close();

private:
    explicit PostedNotice(ipc::CleanupClient client) : client_(std::move(client)) {}
    ipc::CleanupClient client_;
    bool failed_ = false;
};

// The cleanup flags of a notice (internal mail from the bounce daemon).
unsigned notice_cleanup_flags(const config::Config& config, int sendopts);

}  // namespace pf::bounce
