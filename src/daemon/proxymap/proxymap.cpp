// proxymap(8): the shared lookup-table service behind "proxy:" tables, a
// multi-server (one process, many long-lived clients) that answers under two
// service names as the reference does: "proxymap" (read-only: open, lookup,
// sequence of the tables in proxy_read_maps) and "proxywrite" (also update
// and delete, for the tables in proxy_write_maps; master.cf gives it one
// process so that file tables have a single writer). Which one a process is
// follows from its master.cf service name; any other name is fatal.
//
// Tables are opened on demand after the chroot, kept open and shared by all
// clients (proxymap_tables.h). Before it accepts a new client, the
// read-only service checks whether a table file it holds has been rebuilt;
// if so it logs "table <name> has changed -- restarting" and exits, and
// master gives the waiting client to a fresh process. The writer puts itself
// in a session of its own so that a signal to master's process group cannot
// stop it in the middle of an update, as the reference.
//
// Privileges: none; runs as mail_owner (chrooted when master.cf says so,
// which limits it to tables inside the jail).
// Trust: requests come from any local process that can reach the socket;
// proxymap_service.h checks them.
#include "ipc/attr.h"
#include "ipc/mail_server.h"
#include "ipc/request_server.h"
#include "proxymap_acl.h"
#include "proxymap_service.h"
#include "proxymap_tables.h"
#include "util/msg.h"

#include <unistd.h>

#include <cstdlib>
#include <memory>

namespace {

using namespace pf;

// One process serves every client: a request that has started to arrive
// must be complete, and its reply written, within this many seconds, so
// that a stalled client cannot hold up the others (the reference's
// one-second request deadline).
constexpr int kRequestDeadline = 1;

struct State {
    std::unique_ptr<proxymap::TableCache> tables;
    std::unique_ptr<proxymap::ProxyService> service;
};

State& state() {
    static State s;
    return s;
}

}  // namespace

int main(int argc, char** argv) {
    ipc::ServerHooks hooks;
    hooks.post_init = [](ipc::ServerContext& ctx) {
        bool writer = false;
        if (ctx.service_name == "proxywrite")
            writer = true;
        else if (ctx.service_name != "proxymap")
            util::msg_fatal("service name must be one of proxymap or proxymap");
        const char* param = writer ? "proxy_write_maps" : "proxy_read_maps";
        auto approved = proxymap::ApprovedTables::from_list(ctx.config.get(param), param);
        state().tables = std::make_unique<proxymap::TableCache>(std::move(approved), writer);
        state().service = std::make_unique<proxymap::ProxyService>(*state().tables);
        if (writer) ::setsid();
    };
    hooks.pre_accept = [](ipc::ServerContext&) {
        if (state().tables->writer()) return;
        if (auto table = state().tables->changed_name()) {
            util::msg_info("table {} has changed -- restarting", *table);
            std::exit(0);
        }
    };
    // Every complete request a client has sent is answered in turn; a
    // request that does not decode is logged and drops the client.
    ipc::RequestServer server({.deadline = kRequestDeadline, .warn_read_errors = true},
                              [](int, const ipc::AttrList& request) { return state().service->handle(request); });
    return ipc::run_multi_server(argc, argv, std::move(hooks), server.client_handler());
}
