// The bounce daemon run by master(8) as the bounce, defer and trace
// services: a single-server that reads one request per connection
// (ipc/bounce_client.h), serves it (bounce_append_service.h for
// "append", bounce_notice_service.h for the notices) and answers
// {status}. A request with the "clean" flag that fails removes the log
// file it was about, as in the reference, so that a half-made notice
// leaves no log behind for a message the client will not keep.
//
// Privileges: those of mail_owner after the skeleton's drop; the template
// file is read before the drop.
// Trust: clients are our own daemons; a malformed request is answered
// with a non-zero status and a warning.
#pragma once

namespace pf::bounce {

// The daemon proper; argv as master passes it.
int run_bounce_server(int argc, char** argv);

}  // namespace pf::bounce
