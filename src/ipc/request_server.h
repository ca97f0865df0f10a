// The client loop of a request/response service on the attribute codec
// (tlsmgr, verify, anvil, and any multi-server that answers each request
// with one reply): a client stays connected across requests, every
// complete request it has sent is answered in turn, and it is dropped when
// it goes away, sends something that does not decode, is refused by the
// service, or does not take its reply within the deadline, as the
// reference's request services behave. Unread bytes are kept per client
// between events, so requests split over several reads are served once
// whole. Run stand-alone on stdin (-S), replies go to stdout.
//
// Trust: requests come from local mail-system processes; the codec checks
// their framing, the service handler checks their content.
#pragma once

#include "ipc/attr.h"
#include "ipc/mail_server.h"

#include <functional>
#include <map>
#include <optional>
#include <string>

namespace pf::ipc {

class RequestServer {
public:
    // The reply to one request, or nullopt to drop the client unanswered.
    using Handler = std::function<std::optional<AttrList>(int client_fd, const AttrList& request)>;
    // Called once for each client that is dropped (state keyed on its fd).
    using Gone = std::function<void(int client_fd)>;

    struct Options {
        int deadline = 10;              // seconds to read a request and to write a reply
        bool warn_read_errors = false;  // warn about a request that does not decode (not on EOF)
    };

    RequestServer(Options options, Handler handler, Gone gone = {});

    // The skeleton's ClientHandler: serves what is buffered, true while the
    // client stays connected. (Extra master.cf arguments are refused by the
    // skeleton before this runs: ServerHooks::takes_args.)
    bool serve(ServerContext& ctx, int client_fd);

    // For run_multi_server: a ClientHandler that forwards to this server,
    // which must outlive the skeleton's loop.
    ClientHandler client_handler();

private:
    bool drop(int client_fd);

    Options options_;
    Handler handler_;
    Gone gone_;
    std::map<int, std::string> buffers_;  // unread bytes per client
};

}  // namespace pf::ipc
