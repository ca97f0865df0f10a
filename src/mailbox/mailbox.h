// Writing one message into a user's mailbox, shared by the local(8) and
// virtual(8) agents: an mbox file (appended under the configured locks,
// truncated back to its old size when the write fails) or a Maildir
// (written in tmp/, synced, linked into new/). Reproduces the reference's
// mailbox behaviour: which files it refuses (symlinks, FIFOs, files not
// owned by the recipient), the lock styles of mailbox_delivery_lock and
// virtual_mailbox_lock (fcntl, flock, dotlock), the size limit as a file
// size limit (mailbox_size_limit / virtual_mailbox_limit), and the DSN
// status and reason text of each failure ("mailbox full", "cannot update
// mailbox ...", "cannot create maildir file ...").
//
// The caller (the agent) decides the identity: these functions write the
// message with the process's current effective uid/gid and switch to
// lock_identity (when it differs) around the dotlock creation, the
// open/create of the mailbox file and the dotlock removal, as the
// reference's local(8) does for a root-owned spool directory (virtual(8)
// passes the recipient for both). They never change the real uid.
//
// Failure texts: dsn.reason is the reference's low-level text ("cannot
// open file: ...", "unable to create lock file ...", "error writing
// message: ..."); the agent prepends its own context ("delivery failed to
// mailbox <path>: " for virtual, "cannot update mailbox ... " for local),
// as the reference's agents do. `failure` and `error_number` say which
// step failed so that agents can pick their own wording.
//
// Trust: the path and the owner come from the caller (configuration and
// the password database); what is already on disk at that path is hostile
// (a symlink, a FIFO, a directory, another user's file).
#pragma once

#include "ipc/deliver_dsn.h"
#include "ipc/deliver_mail_copy.h"

#include <sys/types.h>

#include <cstdio>
#include <expected>
#include <string>
#include <string_view>

namespace pf::mailbox {

// mailbox_delivery_lock / virtual_mailbox_lock values, a set of styles.
enum LockStyle : unsigned {
    kLockFcntl = 1u << 0,
    kLockFlock = 1u << 1,
    kLockDotlock = 1u << 2,
};

// Parses "fcntl, dotlock" (separators: blanks and commas); an unknown
// name is an error value carrying the reference's fatal text.
std::expected<unsigned, std::string> parse_lock_styles(std::string_view value, std::string_view parameter_name);

// Who a file belongs to, and who creates the dotlock.
struct Identity {
    uid_t uid = 0;
    gid_t gid = 0;
};

// The message to write: the queue file positioned anywhere, the offset of
// its content, the envelope lines and copy flags (From_, Return-Path,
// Delivered-To, X-Original-To, quoting) as ipc::copy_message takes them.
struct MessageSource {
    std::FILE* queue_file = nullptr;
    long data_offset = 0;
    ipc::CopyEnvelope envelope;
    unsigned copy_flags = 0;
};

// The outcome of one mailbox write: delivered, or a DSN with status class
// 4 (defer) or 5 (bounce) and the reference's reason text.
enum class MailboxFailure {
    none,
    open,         // dotlock, open/create, kernel lock, link-count check (maildir: create/link)
    not_regular,  // mbox: the opened file is not a regular file (dsn: 5.2.0 "destination X is not a regular file")
    not_owner,    // mbox: check_owner and another owner (dsn: 4.2.0 "destination X is not owned by recipient")
    write,        // copying failed (read or write error); the file was truncated back
    corrupt,      // the queue file is damaged (warned; the agent marks it corrupt and defers)
};

struct MailboxResult {
    bool delivered = false;
    ipc::Dsn dsn;  // when !delivered: status "4.x.x"/"5.x.x" and reason
    MailboxFailure failure = MailboxFailure::none;  // (added) which step failed
    int error_number = 0;                           // (added) errno of that step, 0 when none
    off_t start_offset = -1;                        // (added) mbox: its size before this message (biff)
};

// (added) The reference's mapping of an errno to a mailbox DSN status:
// EAGAIN/ESTALE 4.2.0, ENOSPC 4.3.0, EDQUOT/EFBIG 5.2.2, else def_status.
std::string mbox_dsn(int error_number, std::string_view def_status);

struct MboxTarget {
    std::string path;            // the mailbox file
    Identity owner;              // a new file is created with this owner, mode 0600
    Identity lock_identity;      // identity for creating <path>.lock
    unsigned lock_styles = kLockFcntl | kLockDotlock;
    off_t size_limit = 0;        // 0: no limit
    int stale_lock_time = 500;   // seconds after which a dotlock is stale
    int deliver_lock_attempts = 20;
    int deliver_lock_delay = 1;  // seconds between lock attempts
    // (added) the status of open/lock failures not mapped by mbox_dsn:
    // virtual(8) "4.2.0", local(8) "5.2.0".
    std::string default_status = "4.2.0";
    // (added) local(8): a dotlock that cannot be created for a reason
    // other than "exists" is only a warning (MBOX_DOT_LOCK_MAY_FAIL).
    bool dotlock_may_fail = false;
    // (added) strict_mailbox_ownership: refuse an existing file owned by
    // another uid than owner.uid.
    bool check_owner = true;
};

// Appends the message (with an mbox "From " line and a trailing blank line
// when the copy flags say so) to target.path.
MailboxResult deliver_to_mbox(const MboxTarget& target, const MessageSource& message);

struct MaildirTarget {
    std::string directory;       // ends in "/" as home_mailbox / virtual_mailbox_maps give it
    Identity owner;
    off_t size_limit = 0;
    std::string hostname;        // the unique file name's host part (the reference: gethostname())
};

// Creates directory/{tmp,new,cur} when missing, writes tmp/<unique>,
// fsyncs it and links it into new/.
MailboxResult deliver_to_maildir(const MaildirTarget& target, const MessageSource& message);

}  // namespace pf::mailbox
