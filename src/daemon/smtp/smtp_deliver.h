// One delivery request of the smtp/lmtp client, as the reference's client
// works through it: the next-hop, then each smtp_fallback_relay, becomes
// a list of server addresses (MX hosts by preference, their addresses);
// each server is tried in turn until no recipient is left: a failed
// connect ("connect to H[A]:P: Connection refused"), a refused greeting
// or a lost session moves on to the next server; per-recipient 4xx
// replies keep the recipient for the next server except at the last one.
// Every outcome goes through DeliveryRecorder (sent / bounce / defer with
// the reference's log lines, bounce and defer logs), in the order the
// session learnt them; what is left at the end is deferred with the last
// reason seen. A name that does not exist (5.4.4) bounces, a name-service
// failure (4.4.3) defers. master.cf flags=DORX (smtp_cli_attr.h): D and O
// defer a request of several recipients (4.3.5), D bounces a recipient
// already named in a Delivered-To: header (5.4.6); R, O and D put their
// headers before the content; X makes an LMTP success "delivered".
//
// Trust: the request comes from qmgr; the queue file is read bounded by
// copy_message; everything from the network goes through SmtpSession.
#pragma once

#include "daemon/smtp/smtp_settings.h"
#include "ipc/deliver_completion.h"
#include "ipc/deliver_queue_file.h"
#include "ipc/delivery_request.h"

namespace pf::smtp_agent {

int deliver_request(const SmtpSettings& settings, const ipc::DeliveryAgentSettings& agent,
                    ipc::DeliveryRequest& request, ipc::DeliveryQueueFile& file);

}  // namespace pf::smtp_agent
