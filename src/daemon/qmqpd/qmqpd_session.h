// One QMQP session of qmqpd(8), as the reference's qmqpd conducts it:
//   1. the client must match qmqpd_authorized_clients, else the reply is
//      D "Error: <name[addr]> is not authorized to use this service"
//      (Z "Error: server configuration error" when the list could not be
//      searched);
//   2. a queue file is opened with cleanup at once ("<id>: client=..."),
//      the arrival time (and content_filter) written;
//   3. the request: one netstring holding the message netstring (up to
//      message_size_limit), the sender netstring and one netstring per
//      recipient (each up to line_length_limit); the message is kept in
//      memory until the sender and recipients are queued, as the
//      reference does;
//   4. the Received: header and the content go to cleanup, then the
//      verdict comes back as K "Ok: queued as <id>", Z "Error: ..."
//      (retry) or D "Error: ..." (fail; Z with soft_bounce), the errors
//      logged as warnings;
//   5. a malformed request gets D "netstring format error while ..." or
//      "netstring length exceeds storage limit while ...", and every
//      early end is logged "<id|NOQUEUE>: <name[addr]>: <reason> while
//      <what it was doing>".
// Every reply other than K waits qmqpd_error_delay first.
//
// Trust: the client's bytes are hostile (netstring.h parses them);
// cleanup is one of our daemons (ipc/cleanup_client.h).
#pragma once

#include "daemon/qmqpd/qmqpd_peer.h"
#include "ipc/cleanup_client.h"
#include "mail/namadr_list.h"

#include <cstdint>
#include <expected>
#include <functional>
#include <memory>
#include <string>

namespace pf::qmqpd {

struct Settings {
    int timeout = 300;          // qmqpd_timeout
    int error_delay = 1;        // qmqpd_error_delay
    bool port_logging = false;  // qmqpd_client_port_logging
    bool soft_bounce = false;
    std::int64_t message_limit = 10240000;   // message_size_limit (0: none)
    std::int64_t line_limit = 2048;          // line_length_limit
    std::string content_filter;
    std::string verp_filter = "-=+";
    std::string myhostname;
    std::string mail_name = "Postfix";
    unsigned cleanup_flags = 0;
    std::shared_ptr<mail::NamadrList> clients;   // qmqpd_authorized_clients
};

// Opens a cleanup stream with the given flags (public/cleanup in the
// daemon; a fake in tests).
using CleanupOpener = std::function<std::expected<ipc::CleanupClient, std::string>(unsigned flags)>;

// Serves one client on fd (read and write) identified as peer.
void run_session(int fd, const Peer& peer, const Settings& settings, const CleanupOpener& open_cleanup);

}  // namespace pf::qmqpd
