// Client side of anvil(8) (private/anvil), as the reference's smtpd uses
// it to count connections and rates per remote client:
//   {request=connect, ident}     → {status=0, count, rate}
//   {request=disconnect, ident}  → {status=0}
//   {request=message|recipient|newtls|auth, ident} → {status=0, rate}
//   {request=newtls_status, ident} → {status=0, rate}   (counts nothing)
//   {request=lookup, ident}      → {status=0, count, rate, mail, rcpt, newtls, auth}
// The identifier is "<service>:<client address>" with unprintable bytes
// shown as '?'. One connection is kept open for the life of the process:
// anvil ties a connect event to the connection it came on and drops it
// when that connection goes away. A request that fails is tried once more
// on a fresh connection one second later, with the reference's warnings
// ("connect to private/anvil: ...", "problem talking to server
// private/anvil: ..."); the caller then carries on as if there were no
// limit.
//
// Trust: the reply comes from our own anvil; it is still checked (missing
// or non-numeric fields are a failure).
#pragma once

#include "ipc/service_client.h"

#include <expected>
#include <functional>
#include <string>
#include <string_view>

namespace pf::ipc {

// "service:addr", unprintable bytes as '?'.
std::string anvil_ident(std::string_view service, std::string_view addr);

struct AnvilCounts {
    int count = 0;
    int rate = 0;
    int mail = 0;
    int rcpt = 0;
    int newtls = 0;
    int auth = 0;
};

class AnvilClient {
public:
    // queue_directory: where private/anvil lives; timeout: ipc_timeout.
    AnvilClient(std::string queue_directory, int timeout, std::string service = "anvil");

    // Errors are already logged; the value is the reference's "fail".
    std::expected<AnvilCounts, std::string> connect(std::string_view ident);   // count, rate
    std::expected<void, std::string> disconnect(std::string_view ident);
    std::expected<int, std::string> message(std::string_view ident);
    std::expected<int, std::string> recipient(std::string_view ident);
    std::expected<int, std::string> newtls(std::string_view ident);
    std::expected<int, std::string> newtls_status(std::string_view ident);
    std::expected<int, std::string> auth(std::string_view ident);
    std::expected<AnvilCounts, std::string> lookup(std::string_view ident);

    // The pause between the two attempts (tests replace it).
    std::function<void(int seconds)> sleep_for;

private:
    std::expected<AttrList, std::string> call(std::string_view request, std::string_view ident);
    std::expected<int, std::string> rate_call(std::string_view request, std::string_view ident);

    std::string queue_directory_;
    std::string service_;
    int timeout_;
    ServiceConnection conn_;
};

}  // namespace pf::ipc
