// The request protocol between a program that wants TLS on a connection
// it holds (postscreen's built-in SMTP engine after STARTTLS) and
// tlsproxy(8). Both ends are ours, so this is our own small exchange in
// the attribute format of ipc/attr.h, on a connection to
// private/$tlsproxy_service_name:
//
//   1. requester -> tlsproxy: one attribute message
//        remote_endpoint=[addr]:port   the remote peer, for the log lines
//        flags=N                       kRoleServer (the only role served)
//        handshake_timeout=N           seconds for the TLS handshake
//        session_timeout=N             seconds of silence on both sides
//                                      before tlsproxy gives up
//        server_id=NAME                session cache partition ("smtpd")
//   2. tlsproxy -> requester: one message "status=1" (TLS available) or
//      "status=0" (no TLS: tlsproxy then waits for the requester to close)
//   3. requester -> tlsproxy: the remote peer's descriptor (SCM_RIGHTS,
//      ipc/fd_passing.h), after which the requester closes its own copy.
//   4. tlsproxy does the handshake with the peer; from then on the
//      connection of step 1 carries the plaintext in both directions, and
//      either side closing it (or the peer going away) ends the session.
//
// The read in step 2 separates the request bytes from the descriptor, as
// the reference's hand-off does (no assumption about how a UNIX socket
// groups a message with its control data).
//
// Trust: both ends are our processes; tlsproxy still checks every
// attribute (sizes, numbers, printable endpoint) before use.
#pragma once

#include "ipc/attr.h"

#include <optional>
#include <string>
#include <string_view>

namespace pf::tlsproxy {

inline constexpr char kAttrEndpoint[] = "remote_endpoint";
inline constexpr char kAttrFlags[] = "flags";
inline constexpr char kAttrHandshakeTimeout[] = "handshake_timeout";
inline constexpr char kAttrSessionTimeout[] = "session_timeout";
inline constexpr char kAttrServerId[] = "server_id";
inline constexpr char kAttrStatus[] = "status";

inline constexpr long kRoleServer = 1;   // tlsproxy plays the TLS server
inline constexpr long kRoleClient = 2;   // reserved: not served yet

// Seconds each side waits for the other's step 1-3 messages.
inline constexpr int kInitTimeout = 10;

inline constexpr std::size_t kMaxEndpoint = 300;
inline constexpr std::size_t kMaxServerId = 100;
inline constexpr long kMaxTimeout = 86400;

// The step 1 message, decoded.
struct Request {
    std::string endpoint;       // "[addr]:port"
    long flags = 0;
    int handshake_timeout = 0;
    int session_timeout = 0;
    std::string server_id;
};

inline ipc::AttrList encode_request(const Request& r) {
    ipc::AttrList a;
    a.add(kAttrEndpoint, r.endpoint);
    a.add(kAttrFlags, static_cast<long long>(r.flags));
    a.add(kAttrHandshakeTimeout, static_cast<long long>(r.handshake_timeout));
    a.add(kAttrSessionTimeout, static_cast<long long>(r.session_timeout));
    a.add(kAttrServerId, r.server_id);
    return a;
}

// Printable, no blanks, bounded: safe to log and to name a cache entry.
inline bool plausible_word(std::string_view text, std::size_t max) {
    if (text.empty() || text.size() > max) return false;
    for (unsigned char c : text)
        if (c <= 0x20 || c >= 0x7F) return false;
    return true;
}

// nullopt when an attribute is missing, not a number, out of range or
// not a plausible word.
inline std::optional<Request> decode_request(const ipc::AttrList& a) {
    Request r;
    auto endpoint = a.get(kAttrEndpoint);
    auto server_id = a.get(kAttrServerId);
    auto flags = a.get_number(kAttrFlags);
    auto hs = a.get_number(kAttrHandshakeTimeout);
    auto ss = a.get_number(kAttrSessionTimeout);
    if (!endpoint || !plausible_word(*endpoint, kMaxEndpoint)) return std::nullopt;
    if (!server_id || !plausible_word(*server_id, kMaxServerId)) return std::nullopt;
    if (!flags || *flags < 0 || *flags > 0xffff) return std::nullopt;
    if (!hs || *hs < 0 || *hs > kMaxTimeout || !ss || *ss < 0 || *ss > kMaxTimeout) return std::nullopt;
    r.endpoint = std::string(*endpoint);
    r.server_id = std::string(*server_id);
    r.flags = static_cast<long>(*flags);
    r.handshake_timeout = static_cast<int>(*hs);
    r.session_timeout = static_cast<int>(*ss);
    return r;
}

}  // namespace pf::tlsproxy
