// postsuper(1): what the command's parts share. postsuper.cpp parses the
// command line, reads the configuration, drops to mail_owner and runs the
// operations in the order the user gave them; postsuper_by_id.cpp does the
// operations on one named queue ID (-d -e -f -h -H -r with an ID or "-");
// postsuper_scan.cpp walks whole queue directories (the "ALL" forms, -p,
// -s, -S); postsuper_files.cpp holds the file primitives they share;
// postsuper_queue_id.cpp reads the inode number out of a queue file name
// and makes the name that matches a file's inode; postsuper_release_pool
// closes descriptors of unlinked files on worker threads.
//
// Reproduces the reference 3.7.11: the same queues by default, the same
// per-queue rules (which queues hold messages, which may be hashed), the
// same counters behind the summary lines, the same log texts.
//
// Trust: postsuper runs as root and then as mail_owner. Queue IDs come from
// the command line or standard input and are checked (letters, digits and
// '_' only) before they become paths; directory entries are treated the
// same way. Nothing is read from inside queue files.
#pragma once

#include "queue/queue_file.h"

#include <string>
#include <string_view>
#include <sys/stat.h>
#include <vector>

namespace pf::postsuper {

// Operation bits (one per option form).
enum Action : unsigned {
    kStruct = 1u << 0,       // -s: fix names and hash positions
    kPurge = 1u << 1,        // -p: remove old temporary files
    kDeleteOne = 1u << 2,    // -d id
    kDeleteAll = 1u << 3,    // -d ALL
    kRequeueOne = 1u << 4,   // -r id
    kRequeueAll = 1u << 5,   // -r ALL
    kHoldOne = 1u << 6,      // -h id
    kHoldAll = 1u << 7,      // -h ALL
    kReleaseOne = 1u << 8,   // -H id
    kReleaseAll = 1u << 9,   // -H ALL
    kStructRed = 1u << 10,   // -S: long names must match the inode too
    kExpireOne = 1u << 11,   // -e id
    kExpireAll = 1u << 12,   // -e ALL
    kExpRelOne = 1u << 13,   // -f id
    kExpRelAll = 1u << 14,   // -f ALL
};
inline constexpr unsigned kDefaultActions = kStruct | kPurge;
inline constexpr unsigned kActionsById =
    kDeleteOne | kRequeueOne | kHoldOne | kReleaseOne | kExpireOne | kExpRelOne;
inline constexpr unsigned kActionsByWildcard =
    kDeleteAll | kRequeueAll | kHoldAll | kReleaseAll | kExpireAll | kExpRelAll;
inline constexpr unsigned kActionsForRepair = kPurge | kStruct | kStructRed;

// Temporary files older than this are purged (-p), in seconds.
inline constexpr long kMaxTempAge = 7L * 24 * 60 * 60;

// The group-execute bit that marks a queue file for forced expiration.
inline constexpr mode_t kModeExpire = S_IXGRP;

// What postsuper knows about a queue directory.
struct QueueInfo {
    std::string_view name;
    mode_t perms;   // kModeReady for message queues, 0600 for log queues
    bool recurse;   // may be hashed (subdirectories are entered)
    bool message_queue() const { return perms == queue::kModeReady; }
};
// The entry for a queue name; fatal "invalid directory name: <name>".
const QueueInfo& find_queue_info(std::string_view name);

// The queues scanned when none are named, in the reference's order (log
// directories first, so they are in place before message files move).
const std::vector<std::string>& default_queues();
// The per-message log directories removed or renamed with a message.
inline constexpr std::string_view kLogQueues[] = {queue::kBounceLog, queue::kDeferLog, queue::kTraceLog};

// Counters behind the summary lines.
struct Counters {
    int requeued = 0;
    int held = 0;
    int released = 0;
    int deleted = 0;
    int expired = 0;
    int inode_fixed = 0;
    int inode_mismatch = 0;
    int position_mismatch = 0;
};

// The state every operation needs.
struct Context {
    queue::QueueLayout layout;   // queue_directory, hashing, long IDs
    long now = 0;                // time(nullptr) when needed, for -p
    Counters counters;

    // "<queue>/<hash dirs>/<id>", relative to the queue directory (the
    // process runs there).
    std::string path(std::string_view queue, std::string_view id) const { return layout.path(queue, id, true); }
};

// ---- postsuper_files.cpp: file primitives "with extreme prejudice": an
// error other than ENOENT is fatal; ENOENT returns -1 quietly.
int post_remove(const std::string& path);
// As post_remove, for an entry of an open directory (dir_fd) whose full
// relative path is path (for messages).
int post_remove_at(int dir_fd, const char* name, const std::string& path);
// rename(2); when the target directory is missing, makes it (mode 0700)
// and tries once more.
int post_rename(const std::string& from, const std::string& to);
int post_rename_at(int dir_fd, const char* name, const std::string& from, const std::string& to);
int post_rmdir(const std::string& path);
// Sets the expire bit on a ready queue file: 0 when set now, -1 when the
// file is gone, not ready, already expired, or cannot be changed (warned).
int post_expire(const std::string& path);
// Makes the missing parent directories of path, mode 0700; -1 on error.
int make_parent_dirs(const std::string& path);

// The reference's mail_open_ok(): 0 when queue/id is a regular file with
// mode 0700 (owner bits), its path in path_out; warns about odd files.
bool mail_open_ok(const Context& ctx, std::string_view queue, std::string_view id, struct stat& st,
                  std::string& path_out);

// ---- postsuper_by_id.cpp
void delete_one(Context& ctx, const std::vector<std::string>& queues, const std::string& id);
void requeue_one(Context& ctx, const std::vector<std::string>& queues, const std::string& id);
void hold_one(Context& ctx, const std::vector<std::string>& queues, const std::string& id);
void release_one(Context& ctx, const std::vector<std::string>& queues, const std::string& id);
void expire_one(Context& ctx, const std::vector<std::string>& queues, const std::string& id);
void expire_release_one(Context& ctx, const std::vector<std::string>& queues, const std::string& id);

// ---- postsuper_scan.cpp: one pass over the named queues doing action
// (one wildcard operation, or the repair operations together).
void scan_queues(Context& ctx, const std::vector<std::string>& queues, unsigned action);

// ---- postsuper_queue_id.cpp
struct InodeOfName {
    unsigned long inode = 0;
    bool long_form = false;
    bool error = false;
};
// The inode number a queue file name claims, decoded as the reference does
// (short: hexadecimal after five characters, as strtoul(3) reads it; long:
// base 51 after the last 'z', when at least ten characters precede it).
InodeOfName inode_of_name(std::string_view name);
// The name a file called id should have, given its inode: short names keep
// their first five characters, long names their time part; a long name
// becomes short when long IDs are off.
std::string name_for_inode(std::string_view id, unsigned long inode, bool long_ids);

}  // namespace pf::postsuper
