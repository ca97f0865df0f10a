// smtpd's per-client connection and rate limits, enforced with anvil(8)
// as the reference's smtpd does: smtpd_client_connection_count_limit and
// smtpd_client_connection_rate_limit when a client connects,
// smtpd_client_message_rate_limit at MAIL, smtpd_client_recipient_rate_limit
// at RCPT and VRFY, smtpd_client_auth_rate_limit at AUTH and
// smtpd_client_new_tls_session_rate_limit around STARTTLS and wrapper
// mode. Clients in smtpd_client_event_limit_exceptions, and clients
// authorised for XCLIENT, are not counted at all. anvil is used only when
// one of the limits is set; connect and disconnect events are sent then
// even when the connection limits themselves are off (anvil forgets
// message and recipient rates of clients that are not connected).
//
// The replies and warnings are the reference's:
//   421 4.7.0 <myhostname> Error: too many connections from <addr>
//     "Connection concurrency limit exceeded: N from name[addr] for service S"
//     "Connection rate limit exceeded: N from name[addr] for service S"
//   450 4.7.1 Error: too much mail from <addr>
//     "Message delivery request rate limit exceeded: ..."
//   450 4.7.1 Error: too many recipients from <addr>
//     "Recipient address rate limit exceeded: ..."
//   450 4.7.1 Error: too many AUTH commands from <addr>
//     "AUTH command rate limit exceeded: ..."
//   454 4.7.0 Error: too many new TLS sessions from name[addr]
//     "Refusing STARTTLS request from name[addr] for service S"
//   421 4.7.0 <myhostname> Error: too many new TLS sessions from name[addr]
//     "New TLS session rate limit exceeded: ..."
// When anvil cannot be reached the request is logged as failed and the
// client is let through.
//
// Trust: the client's address comes from the socket (or XCLIENT); anvil's
// answers come from our own daemon.
#pragma once

#include "daemon/smtpd/smtpd_session.h"

#include <string>

namespace pf::ipc { class AnvilClient; }

namespace pf::smtpd {

// Once per process, after the chroot (private/anvil is found from
// queue_directory): reads the limits and the exception list. service is
// the master.cf service name (the first half of anvil's identifier, and
// the "for service S" of the warnings).
void anvil_init(const config::Config& config, std::string service);
// Tests: replace the client (nullptr: no anvil).
void anvil_set_client(std::unique_ptr<ipc::AnvilClient> client);

// At connection time, before the greeting: the connect event and the
// connection count and rate limits. false: the 421 reply was sent and the
// session must end without a greeting.
bool anvil_connect(Server& server, Session& s);
// When the session ends: the disconnect event.
void anvil_disconnect(Server& server, Session& s);

// MAIL (after its syntax check): true when the command is refused (the
// 450 reply was sent; the caller counts it as an error).
bool anvil_message_refused(Server& server, Session& s);
// RCPT and VRFY (after their syntax checks): likewise.
bool anvil_recipient_refused(Server& server, Session& s);
// AUTH (before the mechanism is started): likewise.
bool anvil_auth_refused(Server& server, Session& s);

// STARTTLS, before its "220 2.0.0 Ready to start TLS": true when the
// client already started too many new TLS sessions (the 454 reply was
// sent; the caller counts it as an error and stays in plain text).
bool anvil_starttls_refused(Server& server, Session& s);
// Wrapper mode (smtpd_tls_wrappermode), before the handshake: true when
// the client is refused (warning logged, no reply: the caller hangs up).
bool anvil_wrapper_refused(Server& server, Session& s);
// After every TLS handshake attempt except one that resumed a cached
// session (a failed handshake counts too, as in the reference): counts a
// new TLS session; true when the client is over the limit (the warning is
// logged and, when tls_active, the 421 reply is sent over TLS; the caller
// then ends the session without another word).
bool anvil_newtls_over_limit(Server& server, Session& s, bool tls_active);

}  // namespace pf::smtpd
