// Scoped process settings used while writing a mailbox:
//  - EffectiveIdentity: the effective uid/gid (and the supplementary
//    group list, when root) of another user for a while, back on scope
//    exit, as the reference's set_eugid pairs; nothing is done when the
//    identity is already the current one. Needs a real or saved uid of 0
//    to switch; failure is fatal (the reference's set_eugid).
//  - FileSizeLimit: RLIMIT_FSIZE lowered to a mailbox size limit (writes
//    beyond it fail with EFBIG; SIGXFSZ ignored meanwhile), as the
//    reference's set_file_limit with mailbox_size_limit /
//    virtual_mailbox_limit; both back on scope exit.
//  - set_file_size_limit: the same limit for the rest of the process, as
//    the reference's virtual(8) sets it once at start-up (an agent that
//    does so passes size_limit 0 to the mailbox functions: no RLIMIT
//    system calls per delivery).
//
// Trust: identities come from the agent (configuration, passwd).
#pragma once

#include "mailbox/mailbox.h"

#include <signal.h>
#include <sys/resource.h>

namespace pf::mailbox {

class EffectiveIdentity {
public:
    explicit EffectiveIdentity(const Identity& to);
    ~EffectiveIdentity();
    EffectiveIdentity(const EffectiveIdentity&) = delete;
    EffectiveIdentity& operator=(const EffectiveIdentity&) = delete;

private:
    bool switched_ = false;
    Identity saved_;
};

// Sets the effective ids (the reference's set_eugid).
void set_eugid(uid_t uid, gid_t gid);

// Lowers RLIMIT_FSIZE's soft limit to limit (> 0) for good, capped by the
// hard limit; the caller ignores SIGXFSZ. False (errno set) on failure.
bool set_file_size_limit(off_t limit);

class FileSizeLimit {
public:
    explicit FileSizeLimit(off_t limit);
    ~FileSizeLimit();
    FileSizeLimit(const FileSizeLimit&) = delete;
    FileSizeLimit& operator=(const FileSizeLimit&) = delete;

private:
    bool active_ = false;
    struct rlimit saved_ {};
    struct sigaction saved_action_ {};
};

}  // namespace pf::mailbox
