// Client side of the connection cache service scache(8) (private/scache,
// the service named by connection_cache_service_name), as the reference's
// smtp/lmtp client uses it. The requests, with the reference's attribute
// names (our attribute codec, attr.h):
//
//   server → client  {protocol=connection_cache_protocol}   on connect
//   {request=save_endp, ttl, label, property}
//       → {dummy=}, then the client passes the descriptor, → {status}
//   {request=find_endp, label} → {status, property}
//       status 0: client {dummy=}, server passes the descriptor, client {dummy=}
//   {request=save_dest, ttl, label (destination), property, label (endpoint)}
//       → {status}
//   {request=find_dest, label} → {status, property (destination),
//       property (endpoint)}, then as find_endp
//
// status: 0 done, 1 malformed request, 2 not found / failed. The dummy
// messages keep stream writes and descriptor transfers apart (the
// reference does the same on systems where they must not mix).
//
// A failed exchange is tried once more on a fresh connection after a
// second; when that fails too the client warns "disabling connection
// caching" and every later call is a no-op (the reference's behaviour).
// The connection stays open between requests until close().
//
// Trust: the daemon is ours; its replies are still checked.
#pragma once

#include "ipc/fd_passing.h"
#include "ipc/service_client.h"

#include <optional>
#include <string>

namespace pf::ipc {

namespace scache {
inline constexpr const char* kProtocol = "connection_cache_protocol";
inline constexpr const char* kSaveEndp = "save_endp";
inline constexpr const char* kFindEndp = "find_endp";
inline constexpr const char* kSaveDest = "save_dest";
inline constexpr const char* kFindDest = "find_dest";
inline constexpr int kStatOk = 0;
inline constexpr int kStatBad = 1;
inline constexpr int kStatFail = 2;
}  // namespace scache

struct ScacheFound {
    UniqueFd fd;
    std::string dest_prop;   // find_dest only
    std::string endp_prop;
};

class ScacheClient {
public:
    // service: the master.cf name (connection_cache_service_name);
    // timeout: connection_cache_protocol_timeout.
    ScacheClient(std::string queue_directory, std::string service, int timeout)
        : queue_directory_(std::move(queue_directory)), service_(std::move(service)), timeout_(timeout) {}

    // Hands fd to the cache (the descriptor is closed here in any case).
    void save_endp(int ttl, const std::string& endp_label, const std::string& endp_prop, UniqueFd fd);
    void save_dest(int ttl, const std::string& dest_label, const std::string& dest_prop,
                   const std::string& endp_label);
    std::optional<ScacheFound> find_endp(const std::string& endp_label);
    std::optional<ScacheFound> find_dest(const std::string& dest_label);

    bool disabled() const { return disabled_; }
    void close() { conn_ = ServiceConnection(); }

private:
    enum class Outcome { done, not_found, failed };
    // Runs one exchange with retry/disable handling.
    template <typename F> Outcome attempt(F&& exchange);
    // One request and the server's next attribute list; an error text on failure.
    std::expected<AttrList, std::string> request(const AttrList& req);
    // A find request for label: parse copies the reply's properties into
    // found (false: malformed reply); on status OK the descriptor follows.
    using FoundParser = bool (*)(const AttrList& reply, ScacheFound& found);
    std::optional<ScacheFound> find(const char* request_name, const std::string& label, FoundParser parse);
    bool open();
    std::string path() const { return "private/" + service_; }

    std::string queue_directory_;
    std::string service_;
    int timeout_;
    ServiceConnection conn_;
    bool disabled_ = false;
};

}  // namespace pf::ipc
