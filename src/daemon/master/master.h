// master(8): the resident process that owns every service's listening
// socket (from master.cf) and runs daemon_directory/<command> on demand,
// within each service's process limit. Shared declarations of its parts:
// master_service.cpp (master.cf to services, listeners), master_spawn.cpp
// (children, the status pipe, throttling), master_wakeup.cpp (wakeup
// timers), master.cpp (options, lock and pid file, signals, reload).
//
// Privileges: master runs as root and keeps root (it opens privileged
// ports and starts daemons that drop privileges themselves).
#pragma once

#include "config/config.h"
#include "config/master_cf.h"
#include "util/event_loop.h"

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <sys/types.h>
#include <vector>

namespace pf::master {

struct Service {
    std::string name;        // master.cf service name (inet: [host:]port)
    std::string type;        // inet unix unix-dgram fifo pass
    bool private_ = true;
    bool unpriv = true;
    bool chroot = true;
    int wakeup = 0;          // seconds, 0: none
    bool wakeup_conditional = false;  // "?": only once the service was used
    int max_proc = 0;        // 0: no limit
    std::string path;        // the program to run
    std::vector<std::string> argv;  // argv[0] is the command name
    std::string listen_key;  // what the sockets depend on (reload keeps them when equal)
    std::string spawn_key;   // everything else that makes a different service
    std::vector<int> listen_fds;
    std::vector<std::string> socket_paths;

    // Run time.
    int total_proc = 0;
    int avail_proc = 0;
    bool used = false;       // a process has been started at least once
    bool throttled = false;
    bool listening = false;  // listen fds are in the event loop
    util::EventLoop::TimerId wakeup_timer = 0;
    util::EventLoop::TimerId throttle_timer = 0;
    // Last "has reached its process limit" warning (at most one per 1000 s).
    std::chrono::steady_clock::time_point busy_warned{};
    bool busy_warned_ever = false;
    bool local_only = false;    // UNIX/FIFO, or inet on loopback only: no such warning
    std::string limit_name;     // "(private/smtp)", "(25)" in that warning
};

using ServicePtr = std::shared_ptr<Service>;

struct Child {
    pid_t pid = 0;
    ServicePtr service;      // null once a reload let the process go
    std::string path;        // for log lines after the service is gone
    int status_fd = -1;      // our end of the status channel; -1 when let go
    bool avail = true;
    bool ever_busy = false;
    std::string status_buffer;
};

class Master {
public:
    Master(std::string config_directory, int verbose);

    // Reads main.cf and master.cf(.d); fatal on errors.
    void read_config();
    // Opens the listeners of services that have none yet and takes over the
    // sockets of unchanged ones from old_services.
    void build_services(std::vector<ServicePtr> old_services);
    void start_services();
    void reload();
    void terminate_children(int signal);
    void reap_children();
    void run();

    config::Config& config() { return *config_; }
    const std::string& config_directory() const { return config_directory_; }
    util::EventLoop& loop() { return loop_; }

private:
    friend struct MasterAccess;
    // master_service.cpp
    std::vector<ServicePtr> load_services();
    bool open_listeners(Service& s);
    void close_listeners(Service& s);
    // master_spawn.cpp
    void update_listen(Service& s);
    void spawn(const ServicePtr& s);
    void on_status(pid_t pid);
    void release_child(Child& c);
    void child_exited(pid_t pid, int status);
    void throttle(const ServicePtr& s);
    // master_wakeup.cpp
    void schedule_wakeup(const ServicePtr& s, bool first);
    void send_wakeup(const ServicePtr& s);

    std::string config_directory_;
    int verbose_;
    std::unique_ptr<config::Config> config_;
    std::vector<config::MasterEntry> entries_;
    std::vector<ServicePtr> services_;
    std::map<pid_t, Child> children_;
    util::EventLoop loop_;
    std::string daemon_directory_;
    std::string queue_directory_;
    uid_t owner_uid_ = 0;
    gid_t owner_gid_ = 0;
    int throttle_time_ = 60;
    std::vector<std::string> child_env_;
    // inet_interfaces / inet_protocols as at start-up: a reload keeps them.
    std::map<std::string, std::string> start_values_;
};

// The reference's version string in log lines.
inline constexpr const char* kMailVersion = "3.7.11";

}  // namespace pf::master
