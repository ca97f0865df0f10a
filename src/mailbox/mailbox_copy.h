// Internal to src/mailbox: the message copy shared by the mbox and
// Maildir writers (ipc::copy_message to a descriptor, fsync, truncation
// back to orig_length on failure, the reference's mail_copy texts).
#pragma once

#include "mailbox/mailbox.h"

namespace pf::mailbox {

MailboxResult copy_to_file(int fd, off_t orig_length, const MessageSource& message, bool truncate_on_error);

}  // namespace pf::mailbox
