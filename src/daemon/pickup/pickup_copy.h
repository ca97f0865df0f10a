// pickup(8)'s work on one maildrop file and on the maildrop directory, as
// the reference's pickup does it:
//  - a scan takes every name that is a queue ID, skips what is not a
//    regular file ("not a regular file" warning) or not ready (owner
//    permissions other than rwx), and repeats while it removed files;
//  - a file is opened read-only, a cleanup connection is made, and the
//    records are copied: an optional L (content_filter) first, the
//    envelope (a T with the file's mtime before the first S when the file
//    has none, L and > records dropped), the sender logged as
//    "<id>: uid=<owner> from=<sender>" (", orig_id=<file>" for mail that
//    "postsuper -r" put back), M, our two Received: lines, the content
//    (an empty line first when it starts with a blank), X, the extracted
//    records (r, e and attributes other than the DSN ones dropped), E;
//  - the file is removed once cleanup reports success, or when it is
//    malformed, has no sender, or cleanup rejects it as bad or without
//    recipients; it is kept for a later scan on other cleanup errors.
//
// Trust: maildrop files are written by users through postdrop(8) (or put
// there by anyone in the postdrop group): every record is bounded by
// line_length_limit and checked against its segment.
#pragma once

#include "ipc/cleanup_client.h"

#include <ctime>
#include <expected>
#include <functional>
#include <string>
#include <sys/stat.h>

namespace pf::pickup {

struct PickupSettings {
    std::string myhostname;
    std::string mail_name = "Postfix";
    std::string content_filter;     // content_filter
    uid_t mail_owner_uid = 0;
    unsigned cleanup_flags = 0;     // after receive_override_options
    std::size_t line_limit = 2048;
};

// Opens a cleanup conversation with the given flags (pickup uses
// CleanupClient::open; tests use a socketpair).
using CleanupOpener = std::function<std::expected<ipc::CleanupClient, std::string>(unsigned flags)>;

enum class Disposition { remove, keep };

// Copies the maildrop file path (relative to the queue directory) to
// cleanup. st is its lstat() result.
Disposition pickup_file(const std::string& path, const struct stat& st, const PickupSettings& settings,
                        const CleanupOpener& open_cleanup, std::time_t now);

// One scan of maildrop_dir (normally "maildrop"), repeated while files
// were removed. Returns how many files were removed in all.
int pickup_scan(const std::string& maildrop_dir, const PickupSettings& settings,
                const CleanupOpener& open_cleanup);

// The cleanup flags pickup asks for: bounce, header/body checks, milters,
// automatic BCC and address mapping, less what receive_override_options
// turns off (no_header_body_checks, no_milters, no_address_mappings).
unsigned pickup_cleanup_flags(std::string_view receive_override_options,
                              std::string_view autodetect_classes = {});

}  // namespace pf::pickup
