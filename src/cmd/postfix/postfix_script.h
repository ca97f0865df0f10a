// The administrative commands of postfix(1), done in process instead of
// through a shell script, with the reference's (postfix-script's) messages:
// they are logged as "<syslog_name>/postfix-script" and copied to stderr
// when stderr is a terminal ("postfix/postfix-script: starting the Postfix
// mail system"). Exit status 0 on success, 1 on a fatal message.
//
// Trust: run by root on admin-written configuration; the queue tree is
// inspected, never trusted (symlinks are not followed when fixing).
#pragma once

#include "config/config.h"

#include <string>
#include <vector>

namespace pf::postfix_cmd {

struct Context {
    config::Config& config;
    std::string config_directory{};
    std::string command_directory{};
    std::string daemon_directory{};
    std::string queue_directory{};
    std::string data_directory{};
    std::string meta_directory{};
    std::string shlib_directory{};
    std::string mail_owner{};
    std::string setgid_group{};
    bool check_shared_files = true;
    int verbose = 0;
};

// Runs one command ("start", "stop", ...) with its extra arguments.
int run_command(Context& ctx, const std::string& command, const std::vector<std::string>& args);

// postfix_check.cpp: the start-up checks and the queue tree.
// Creates missing queue/data directories (post-install create-missing);
// false when one could not be made.
bool create_missing(Context& ctx);
// Sets owners and modes of the queue tree, data_directory and the set-gid
// commands (post-install set-permissions).
bool set_permissions(Context& ctx);
// check-fatal: true when the system may start.
bool check_fatal(Context& ctx);
// check-warn: warnings only.
void check_warn(Context& ctx);

// Runs a program (no shell) and returns its exit status (-1: not run).
int run_program(const std::string& path, const std::vector<std::string>& argv, bool wait = true);
// master -t done in process: true when a master holds the pid-file lock.
bool master_running(const Context& ctx);
// The pid in queue_directory/pid/master.pid, 0 when unreadable.
long master_pid(const Context& ctx);

}  // namespace pf::postfix_cmd
