// virtual(8)'s configuration, read once at start-up as the reference's
// daemon reads its parameter tables: the three lookup tables (titles are
// the parameter names, as the reference's warnings show them), the base
// directory, the minimum uid, the mailbox size limit (checked against
// message_size_limit with the reference's fatal texts), the lock styles
// (an unknown name is fatal, named "mailbox_delivery_lock" as the
// reference does), strict_mailbox_ownership and the lock retry settings.
//
// Trust: main.cf is the administrator's; errors are exceptions (start-up).
#pragma once

#include "mail/mail_addr_find.h"
#include "mail/maps.h"

#include <sys/types.h>

#include <optional>
#include <string>

namespace pf::config { class Config; }

namespace pf::virtual_agent {

struct VirtualSettings {
    std::optional<mail::Maps> mailbox_maps;
    std::optional<mail::Maps> uid_maps;
    std::optional<mail::Maps> gid_maps;
    std::string mailbox_base;
    long minimum_uid = 100;
    off_t mailbox_limit = 51200000;
    unsigned lock_styles = 0;
    bool strict_mailbox_ownership = true;
    int lock_attempts = 20;
    int lock_delay = 1;
    int stale_lock_time = 500;
    bool enable_original_recipient = true;
    std::string hostname;   // the Maildir file names' host part
    mail::AddrFindContext find_ctx;

    // Throws std::runtime_error with the reference's fatal text.
    static VirtualSettings from_config(const config::Config& config);
};

}  // namespace pf::virtual_agent
