// Running spawn(8)'s command for one client, as the reference's
// spawn_command does it for spawn: fork; in the child take root back,
// become the user= account for good (gid, groups = that gid only, uid),
// start a new session, make the client connection stdin, stdout and
// stderr, replace the environment (export_environment, then
// PATH=/usr/bin:/bin) and execvp the argv (a name without '/' is searched
// in that PATH; no shell). The parent waits at most time_limit seconds;
// past that it logs "<command>: process id <pid>: command time limit
// exceeded", sends SIGKILL to the command's process group with its own
// effective ids (those of mail_owner: as with the reference, the kill of a
// command running as another user is refused, and the wait goes on until
// the command exits by itself) and waits for it.
//
// Trust: the command is the administrator's; the client's bytes go to the
// command only; nothing reaches a shell.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace pf::spawn {

struct SpawnRequest {
    std::vector<std::string> argv;
    uid_t uid = 0;
    gid_t gid = 0;
    std::vector<std::string> env;  // "NAME=value", the command's whole environment
    int time_limit = 1000;         // seconds
    int client_fd = -1;
};

// What the command's wait status says, for the log.
struct SpawnOutcome {
    int wait_status = 0;
};

SpawnOutcome spawn_command(const SpawnRequest& request);

// The reference's warnings for an abnormal exit: "command X exit status N",
// "command X killed by signal N"; empty for a normal exit (status 0).
std::vector<std::string> spawn_exit_warnings(const std::string& command, int wait_status);

}  // namespace pf::spawn
