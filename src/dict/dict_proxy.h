// proxy:type:name — the client side of the proxymap service (dict_proxy of
// the reference): every operation on the table is a request to the
// proxymap daemon (read-only opens) or to proxywrite (opens for writing),
// which opens type:name itself and answers.
//
// Where the client connects: "private/<service>" relative to the working
// directory when that exists (daemons run in queue_directory), otherwise
// "<queue_directory>/private/<service>"; <service> is
// $proxymap_service_name or $proxywrite_service_name. A connect that fails
// is retried as the reference's mail_connect_wait() does: warnings
// "connect #N to subsystem <dir>/<service>: <errno text>" with 10-second
// pauses, and after the 11th failure a fatal error with that text. With
// kNoProxy the table opens type:name directly.
//
// The wire protocol is ours (DESIGN.md §2: internal protocols are ours),
// the attribute lists of ipc/attr.h. The dict library sits below ipc, so
// this file writes the same format itself (lines "name=value", '\\', '\n'
// and NUL escaped as "\\\\", "\\n", "\\0", an empty line ending a message).
// One request, one reply; the connection is kept for the next request:
//
//   request=open     table=<type:name> flags=<instance flags>
//                    -> status=<S> flags=<the table's own flags>
//   request=lookup   table flags key          -> status value
//   request=update   table flags key value    -> status
//   request=delete   table flags key          -> status
//   request=sequence table flags function=first|next -> status key value
//
// status: 0 ok, 1 no such key / end of walk, 2 try again later, 3 bad
// request, 4 table not allowed (not in proxy_read_maps/proxy_write_maps),
// 5 table configuration error. The messages for 3 and 4 are fatal, as the
// reference's ("proxymap service is not configured for table \"T\"", ...).
//
// Trust: the server is another of our processes; a malformed reply is
// treated as a broken connection (reconnect after a second, warn).
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace pf::dict {

enum class ProxyStatus { ok = 0, nokey = 1, retry = 2, bad = 3, deny = 4, config = 5 };

// What the client needs from main.cf. Programs that already read main.cf
// set these; otherwise the first proxy: open reads main.cf itself
// ($MAIL_CONFIG or the default config directory).
struct ProxyClientParams {
    std::string queue_directory = "/var/spool/postfix";
    std::string proxymap_service = "proxymap";
    std::string proxywrite_service = "proxywrite";
    int ipc_timeout = 3600;
};
void set_proxy_client_params(const ProxyClientParams& params);

// The same wire format as ipc::encode_attrs, for the proxy client and its
// tests: one message from name/value pairs.
std::string proxy_encode(const std::vector<std::pair<std::string, std::string>>& attrs);

}  // namespace pf::dict
