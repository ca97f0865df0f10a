// The client loop of an attribute request/response service: see
// request_server.h.
#include "ipc/request_server.h"

#include "util/msg.h"

namespace pf::ipc {

RequestServer::RequestServer(Options options, Handler handler, Gone gone)
    : options_(options), handler_(std::move(handler)), gone_(std::move(gone)) {}

bool RequestServer::drop(int client_fd) {
    if (gone_) gone_(client_fd);
    buffers_.erase(client_fd);
    return false;
}

bool RequestServer::serve(ServerContext&, int client_fd) {
    std::string& buffer = buffers_[client_fd];
    const int out_fd = client_fd == 0 ? 1 : client_fd;  // -S on stdin answers on stdout
    for (;;) {
        auto request = receive_attrs(client_fd, buffer, options_.deadline);
        // A master wakeup ("W" and end of input) or a broken client: close.
        if (!request) {
            if (options_.warn_read_errors && request.error() != AttrError::eof)
                util::msg_warn("read request: {}", attr_error_text(request.error()));
            return drop(client_fd);
        }
        auto reply = handler_(client_fd, *request);
        if (!reply || !send_attrs(out_fd, *reply, options_.deadline)) return drop(client_fd);
        std::size_t used = 0;
        if (!decode_attrs(buffer, used)) return true;  // nothing whole buffered: wait for more
    }
}

ClientHandler RequestServer::client_handler() {
    return [this](ServerContext& ctx, int client_fd) { return serve(ctx, client_fd); };
}

}  // namespace pf::ipc
