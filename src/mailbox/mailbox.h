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
// The caller (the agent) decides the identity: these functions run with
// the process's current effective uid/gid for the message file and switch
// to lock_identity only around dotlock creation and removal. They never
// change the real uid.
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
struct MailboxResult {
    bool delivered = false;
    ipc::Dsn dsn;  // when !delivered: status "4.x.x"/"5.x.x" and reason
};

struct MboxTarget {
    std::string path;            // the mailbox file
    Identity owner;              // a new file is created with this owner, mode 0600
    Identity lock_identity;      // identity for creating <path>.lock
    unsigned lock_styles = kLockFcntl | kLockDotlock;
    off_t size_limit = 0;        // 0: no limit
    int stale_lock_time = 500;   // seconds after which a dotlock is stale
    int deliver_lock_attempts = 20;
    int deliver_lock_delay = 1;  // seconds between lock attempts
};

// Appends the message (with an mbox "From " line and a trailing blank line
// when the copy flags say so) to target.path.
MailboxResult deliver_to_mbox(const MboxTarget& target, const MessageSource& message);

struct MaildirTarget {
    std::string directory;       // ends in "/" as home_mailbox / virtual_mailbox_maps give it
    Identity owner;
    off_t size_limit = 0;
    std::string hostname;        // myhostname, for the unique file name
};

// Creates directory/{tmp,new,cur} when missing, writes tmp/<unique>,
// fsyncs it and links it into new/.
MailboxResult deliver_to_maildir(const MaildirTarget& target, const MessageSource& message);

}  // namespace pf::mailbox
