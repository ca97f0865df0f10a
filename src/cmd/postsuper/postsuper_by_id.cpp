// postsuper(1): operations on one message named by its queue ID, as the
// reference 3.7.11 does them:
//   -d: in the first of the named message queues that holds a ready file
//       with that name, remove its bounce, defer and trace logs, then the
//       file ("<id>: removed");
//   -r: move it to maildrop with fresh time stamps ("<id>: requeued");
//       pickup and cleanup then copy it to a new queue file;
//   -h: move it to hold (not from maildrop: unsanitised mail must not be
//       mixed with mail cleanup has seen) ("<id>: placed on hold");
//   -H: move it from hold to deferred ("<id>: released from hold");
//   -e: set its expire bit, not in maildrop ("<id>: expired");
//   -f: -e, then -H.
// Every search but -H is made twice: the file may be moving between
// queues (qmgr) while we look. A malformed ID is a warning and is skipped.
//
// Trust: the ID is user input (command line or standard input) and is
// checked before it becomes a path.
#include "cmd/postsuper/postsuper.h"

#include "util/msg.h"

#include <cerrno>
#include <cstring>
#include <ctime>
#include <sys/time.h>
#include <utime.h>

namespace pf::postsuper {
namespace {

bool id_ok(const std::string& id) {
    if (queue::is_queue_id(id)) return true;
    util::msg_warn("invalid mail queue id: {}", id);
    return false;
}

}  // namespace

void delete_one(Context& ctx, const std::vector<std::string>& queues, const std::string& id) {
    if (!id_ok(id)) return;
    bool found = false;
    for (int tries = 0; !found && tries < 2; ++tries) {
        for (const auto& name : queues) {
            if (!find_queue_info(name).message_queue()) continue;
            struct stat st;
            std::string path;
            if (!mail_open_ok(ctx, name, id, st, path)) continue;
            // Logs first, and only when the message file exists: this keeps
            // the window for removing another message's logs (queue IDs are
            // reused) small.
            for (auto log : kLogQueues) post_remove(ctx.path(log, id));
            if (post_remove(path) == 0) {
                found = true;
                util::msg_info("{}: removed", id);
                break;
            }
        }
    }
    ctx.counters.deleted += found;
}

void requeue_one(Context& ctx, const std::vector<std::string>& queues, const std::string& id) {
    if (!id_ok(id)) return;
    bool found = false;
    for (int tries = 0; !found && tries < 2; ++tries) {
        for (const auto& name : queues) {
            if (name == queue::kMaildrop) continue;
            if (!find_queue_info(name).message_queue()) continue;
            struct stat st;
            std::string path;
            if (!mail_open_ok(ctx, name, id, st, path)) continue;
            std::string target = ctx.path(queue::kMaildrop, id);
            if (post_rename(path, target) == 0) {
                // pickup takes the file's time as the arrival time.
                std::time_t now = std::time(nullptr);
                struct utimbuf times{now, now};
                if (::utime(target.c_str(), &times) < 0)
                    util::msg_warn("{}: reset time stamps: {}", target, std::strerror(errno));
                util::msg_info("{}: requeued", id);
                found = true;
                break;
            }
        }
    }
    ctx.counters.requeued += found;
}

void hold_one(Context& ctx, const std::vector<std::string>& queues, const std::string& id) {
    if (!id_ok(id)) return;
    bool found = false;
    for (int tries = 0; !found && tries < 2; ++tries) {
        for (const auto& name : queues) {
            if (name == queue::kMaildrop || name == queue::kHold) continue;
            if (!find_queue_info(name).message_queue()) continue;
            struct stat st;
            std::string path;
            if (!mail_open_ok(ctx, name, id, st, path)) continue;
            if (post_rename(path, ctx.path(queue::kHold, id)) == 0) {
                util::msg_info("{}: placed on hold", id);
                found = true;
                break;
            }
        }
    }
    ctx.counters.held += found;
}

void release_one(Context& ctx, const std::vector<std::string>& queues, const std::string& id) {
    if (!id_ok(id)) return;
    bool found = false;
    for (const auto& name : queues) {
        if (name != queue::kHold) continue;
        struct stat st;
        std::string path;
        if (!mail_open_ok(ctx, name, id, st, path)) continue;
        if (post_rename(path, ctx.path(queue::kDeferred, id)) == 0) {
            util::msg_info("{}: released from hold", id);
            found = true;
            break;
        }
    }
    ctx.counters.released += found;
}

void expire_one(Context& ctx, const std::vector<std::string>& queues, const std::string& id) {
    if (!id_ok(id)) return;
    bool found = false;
    for (int tries = 0; !found && tries < 2; ++tries) {
        for (const auto& name : queues) {
            if (!find_queue_info(name).message_queue()) continue;
            if (name == queue::kMaildrop) continue;
            struct stat st;
            std::string path;
            if (!mail_open_ok(ctx, name, id, st, path)) continue;
            if (post_expire(path) == 0) {
                found = true;
                util::msg_info("{}: expired", id);
                break;
            }
        }
    }
    ctx.counters.expired += found;
}

void expire_release_one(Context& ctx, const std::vector<std::string>& queues, const std::string& id) {
    expire_one(ctx, queues, id);
    release_one(ctx, queues, id);
}

}  // namespace pf::postsuper
