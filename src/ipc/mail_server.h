// The skeleton every daemon runs under master, in three shapes as the
// reference has them: a multi-server (many clients at once through one
// event loop: cleanup, trivial-rewrite, delivery agents...), a
// single-server (one client at a time: pipe, smtpd...) and a
// trigger-server (wakeup bytes: pickup, qmgr, flush).
//
// What master gives a daemon (our own convention, both sides are ours):
//  - argv: <command> -n <service name> -t <service type> [-v]... [-D]
//    [-o name=value]... then the master.cf arguments (which may hold more
//    -o options); MAIL_CONFIG in the environment names config_directory;
//  - the listening sockets from fd kListenFd (6) upward, kListenCount in
//    the environment ("PF_LISTEN_FDS", default 1);
//  - a status pipe on fd kStatusFd (5): the daemon writes
//    "<pid> <0|1>\n" (1: busy with a client, 0: available again) so master
//    knows when to spawn more within maxproc.
// The skeleton reads main.cf with the -o overrides, checks the mail
// parameters, opens logging as "<syslog_name>/<service>", changes to
// queue_directory, chroots when master.cf says so, drops to mail_owner
// (unless the hooks say to keep root), then serves until max_use clients,
// max_idle seconds without a client, or SIGTERM / master going away.
//
// The working directory is queue_directory in every case. In a chrooted
// daemon (-c, master.cf chroot = y, when run as root) queue_directory reads
// as "/" after the chroot (the jail's root is the queue), so paths built
// from config.get("queue_directory") stay valid; anything else outside the
// queue must be opened in pre_init.
//
// Run by hand with -S (stand-alone, for tests): no master, the daemon
// listens itself on the socket named by -s <path> (a UNIX stream socket;
// with -t fifo a FIFO, -t unix-dgram a datagram socket, -t inet a
// "host:port"). -S without -s serves one client on stdin/stdout and exits
// (ServerContext::on_stdin; the handler gets fd 0 and answers on fd 1).
//
// Options the skeleton reads (master passes the first ones): -n service,
// -t type, -c (chroot to queue_directory), -u (drop to mail_owner), -l
// (maxproc 1), -z (maxproc 0), -v (more verbose), -D (debug: ignored),
// -o name=value, -S, -s path. Option parsing stops at the first word
// that does not start with '-' (or after "--"); the rest is ctx.args.
//
// Services of type unix-dgram and fifo have no connections: a multi-server
// handler is then called with the listening fd itself whenever it is
// readable and must read one datagram / what is there; the skeleton never
// closes that fd. Trigger servers read the trigger bytes themselves.
//
// Timers are one-shot: re-arm from the callback for a periodic one.
#pragma once

#include "config/config.h"
#include "util/event_loop.h"

#include <functional>
#include <string>
#include <vector>
#include <utility>

namespace pf::ipc {

inline constexpr int kStatusFd = 5;
inline constexpr int kListenFd = 6;

struct ServerContext {
    config::Config& config;
    std::string service_name;   // -n
    std::string service_type;   // -t: inet, unix, unix-dgram, fifo, pass
    std::string program_name;   // argv[0]'s basename
    bool chrooted = false;
    // Added by the implementation (additive):
    // The words after the leading options (pipe's "flags=... argv=...").
    std::vector<std::string> args{};
    bool standalone = false;    // -S
    int max_use = 100;          // requests before exiting; 0: no limit
    int max_idle = 100;         // seconds without a client before exiting
    // -S without -s: the one client is on stdin (reads) and stdout
    // (replies), e.g. smtpd run by sendmail -bs; the handler gets fd 0.
    bool on_stdin = false;
    // Added (pscreen2): a "pass" service's client came with these
    // connection attributes (postscreen's client_address, client_port,
    // server_address, server_port); replaced for each client.
    std::vector<std::pair<std::string, std::string>> passed_attrs{};
};

struct ServerHooks {
    // After the configuration is read, before privileges are dropped
    // (open tables, files that need root).
    std::function<void(ServerContext&)> pre_init;
    // After privileges are dropped and the chroot is made.
    std::function<void(ServerContext&)> post_init;
    // Keep root (local, virtual, pipe): the daemon drops per delivery.
    bool keep_root = false;
    // Added (spawn): the daemon cannot work unprivileged; run with -u
    // (master.cf unprivileged = y) it stops at start-up with the
    // reference's "service <name> requires privileged operation".
    bool privileged = false;
    // -S on stdin: diagnostics go to the mail log only, from the start
    // (smtpd run by sendmail -bs, whose stderr is the user's), unless
    // stderr is a terminal.
    bool quiet_on_stdin = false;
    // Called every max_idle seconds of quiet for multi/trigger servers
    // when set (qmgr's queue scans use this).
    std::function<void(ServerContext&)> on_idle;
    // Added: the daemon reads the words after the options itself (pipe,
    // spawn). Every other daemon, as in the reference, takes none: the
    // skeleton ends it with "fatal: unexpected command-line argument:
    // <first word>" where the reference's service routine would first run
    // (a single or trigger server when a client or trigger arrives, a
    // multi-server when a client first sends something, stand-alone on
    // stdin at once), not at start-up: master has then seen the process
    // busy, and throttles the service as a bad start-up.
    bool takes_args = false;
    // Added (proxymap): called when a connection is waiting, before it is
    // accepted (the reference's pre_accept; proxymap exits there when a
    // table changed, leaving the connection to a fresh process). Trigger
    // servers call it also before reading a FIFO or datagram trigger.
    std::function<void(ServerContext&)> pre_accept;
};

// A connected client: the stream fd is the callee's to read and write; the
// skeleton closes it when the callback returns (single/multi) or when the
// callback asks to keep it open (multi: return true to keep watching it).
using ClientHandler = std::function<bool(ServerContext&, int client_fd)>;
// Trigger servers get the bytes one client wrote.
using TriggerHandler = std::function<void(ServerContext&, std::string_view bytes)>;

int run_single_server(int argc, char** argv, ServerHooks hooks, ClientHandler handler);
int run_multi_server(int argc, char** argv, ServerHooks hooks, ClientHandler handler);
int run_trigger_server(int argc, char** argv, ServerHooks hooks, TriggerHandler handler);

// For daemons that need timers or extra fds in their loop (qmgr): register
// before serving; called from the skeleton's single event loop.
void server_add_timer(int seconds, std::function<void()> callback);
void server_watch_fd(int fd, std::function<void()> on_readable);
void server_unwatch_fd(int fd);
// The skeleton's event loop itself, for timers with milliseconds and
// cancellation (qmgr): they cost no system call, unlike a timerfd.
util::EventLoop& server_event_loop();

// Added (tablewatch, postscreen): a multi-server stops taking clients and
// finishes the ones it has "in the background", as the reference's
// event_server_drain(): with clients connected, the process forks and the
// parent exits at once (master starts a fresh process for new clients),
// the child closes its listening sockets, no longer reports to master and
// exits after its last client; without clients it exits at once. false
// when fork() failed (nothing changed; try again later). busy: the
// daemon's own clients (postscreen keeps its sessions itself), counted
// with the skeleton's.
bool server_drain(std::function<bool()> busy = {});

}  // namespace pf::ipc
