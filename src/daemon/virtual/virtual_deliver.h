// One delivery request through virtual(8), recipient by recipient, as the
// reference's virtual agent does it:
//  - the lookup key is the recipient folded to lower case, searched in
//    virtual_mailbox_maps with the reference's address search order
//    (full address, without the extension, @domain); not found:
//    bounce 5.1.1 `unknown user: "<address>"`; a table error: defer
//    4.3.5 "mail system configuration error" with a warning;
//  - virtual_uid_maps / virtual_gid_maps the same way (not found: warn
//    "recipient X: not found in virtual_uid_maps", a uid below
//    virtual_minimum_uid or a gid <= 0: warn "recipient X: bad uid N in
//    virtual_uid_maps"; each deferred 4.3.5);
//  - the mailbox is virtual_mailbox_base "/" <result>; a result ending in
//    "/" is a Maildir; both are written as the recipient's uid/gid
//    (src/mailbox); address probes are answered "delivers to mailbox" /
//    "delivers to maildir" without writing;
//  - outcomes: "delivered to mailbox" / "delivered to maildir" (2.0.0);
//    failures prefixed "delivery failed to mailbox <path>: " or "maildir
//    delivery failed: ", deferred for a 4.x.x status and bounced for a
//    5.x.x one; a damaged queue file defers without a log line.
// The reference's virtual(8) has no Delivered-To: loop check; neither
// has this one.
//
// Privileges: called with the mail_owner effective ids and a real uid of
// 0; switches to the recipient around each mailbox write.
// Trust: the request comes from qmgr, table answers from the administrator;
// the mailbox tree is hostile (src/mailbox).
#pragma once

#include "virtual_settings.h"

#include "ipc/deliver_completion.h"
#include "ipc/deliver_queue_file.h"
#include "ipc/delivery_request.h"
#include "mailbox/mailbox.h"

#include <functional>
#include <string>

namespace pf::virtual_agent {

struct VirtualContext {
    const VirtualSettings& settings;
    ipc::DeliveryRecorder& recorder;
    std::string service;        // relay= of the log lines (the master.cf service name)
    uid_t owner_uid = 0;        // mail_owner, to come back to after a write
    gid_t owner_gid = 0;
    // Tests replace the identity switch (default: mailbox::set_eugid).
    std::function<void(uid_t, gid_t)> set_identity;
};

// Delivers to one recipient: 0 when it is finished (mark it done), -1
// when it stays in the queue.
int deliver_recipient(VirtualContext& ctx, const ipc::DeliveryRequest& request, std::FILE* queue_file,
                      const ipc::DeliveryRecipient& rcpt, bool* corrupt);

}  // namespace pf::virtual_agent
