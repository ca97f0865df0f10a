// spawn(8): master's way to run an external command per connection, the
// mail system's inetd (policy servers in master.cf: "policy unix - n n - 0
// spawn user=nobody argv=/usr/bin/policyd"). A single-server: for each
// client connection it runs the argv= command as the user= account with
// the connection as the command's stdin, stdout and stderr
// (spawn_command.h), and logs the reference's warnings when the command
// exits non-zero, dies of a signal or outlives <service>_time_limit
// (default $command_time_limit). The command attributes are parsed at the
// first connection (spawn_attr.h), as the reference does: a bad entry is a
// fatal error of that process.
//
// Privileges: master.cf must run it privileged (unprivileged = n): it keeps
// root as its real uid, to become the user= account in the command's
// process, and works with the effective ids of mail_owner otherwise, as
// the reference does. Run with -u it refuses, with the reference's text.
//
// Trust: master.cf and main.cf (administrator). It never reads or writes
// the connection itself: the client's bytes are the command's business.
#include "spawn_attr.h"
#include "spawn_command.h"

#include "config/config.h"
#include "config/mail_params.h"
#include "dict/dict_watch.h"
#include "ipc/command_runner.h"
#include "ipc/mail_server.h"
#include "util/msg.h"
#include "util/privileges.h"
#include "util/strings.h"

#include <unistd.h>

#include <optional>

extern char** environ;

namespace {

using namespace pf;

struct SpawnState {
    spawn::SpawnOwner owner;
    std::optional<spawn::SpawnAttr> attr;
    int time_limit = 1000;
};

SpawnState& state() {
    static SpawnState s;
    return s;
}

bool serve_client(ipc::ServerContext& ctx, int client_fd) {
    SpawnState& s = state();
    if (util::msg_verbose)
        util::msg_info("spawn_service: service={}, command={}...", ctx.service_name,
                       ctx.args.empty() ? std::string() : ctx.args.front());
    if (!s.attr) {
        s.time_limit = ipc::command_time_limit_for(ctx.config, ctx.service_name);
        auto attr = spawn::parse_spawn_attr(ctx.args, spawn::system_account_lookup(), s.owner);
        if (!attr) util::msg_fatal("{}", attr.error());
        s.attr = std::move(*attr);
        if (util::msg_verbose)
            util::msg_info("get_service_attr: uid {}, gid {}; time {}", static_cast<long>(s.attr->uid),
                           static_cast<long>(s.attr->gid), s.time_limit);
    }
    spawn::SpawnRequest request;
    request.argv = s.attr->argv;
    request.uid = s.attr->uid;
    request.gid = s.attr->gid;
    request.env = ipc::command_environment(ipc::export_environment_list(ctx.config), environ);
    request.time_limit = s.time_limit;
    request.client_fd = client_fd;
    spawn::SpawnOutcome outcome = spawn::spawn_command(request);
    for (const auto& warning : spawn::spawn_exit_warnings(request.argv[0], outcome.wait_status))
        util::msg_warn("{}", warning);
    return false;  // one command per connection
}

}  // namespace

int main(int argc, char** argv) {
    ipc::ServerHooks hooks;
    hooks.pre_accept = [](ipc::ServerContext&) { dict::exit_if_table_changed(); };  // restart on a rebuilt table
    hooks.keep_root = true;
    hooks.privileged = true;
    hooks.takes_args = true;  // the command to run: user=... argv=...
    hooks.pre_init = [](ipc::ServerContext& ctx) {
        std::string owner = ctx.config.get("mail_owner");
        auto account = util::lookup_account(owner);
        if (!account) util::msg_fatal("file {}: parameter mail_owner: {}", ctx.config.main_cf_path(), account.error());
        state().owner = spawn::SpawnOwner{account->uid, account->gid};
    };
    hooks.post_init = [](ipc::ServerContext&) {
        // Root stays the real uid for the command's sake; the daemon itself
        // works as mail_owner.
        if (::getuid() == 0) util::set_eugid(state().owner.uid, state().owner.gid);
    };
    return ipc::run_single_server(argc, argv, std::move(hooks), serve_client);
}
