// Wakeup timers (master.cf field 6): every N seconds master writes a
// wakeup request ("W") to the service's own socket or FIFO, which makes a
// process run (or wakes the one that is). The first wakeup goes out at
// once; with "N?" wakeups start only after the service has been used.
// inet services get no wakeups (as the reference).
//
// Trust: none needed; the socket is our own.
#include "daemon/master/master.h"

#include "ipc/service_client.h"
#include "util/msg.h"

#include <chrono>

namespace pf::master {

void Master::send_wakeup(const ServicePtr& s) {
    if (s->wakeup_conditional && !s->used) return;
    if (s->throttled || s->socket_paths.empty() || s->type == "inet") return;
    const std::string& path = s->socket_paths.front();
    auto slash = path.rfind('/');
    auto dir_end = path.rfind('/', slash - 1);
    std::string queue = path.substr(0, dir_end);
    std::string class_dir = path.substr(dir_end + 1, slash - dir_end - 1);
    std::string name = path.substr(slash + 1);
    if (s->type == "unix-dgram") return;
    auto sent = ipc::send_trigger(queue, class_dir, name, "W", 1);
    if (!sent && util::msg_verbose) util::msg_info("wakeup {}: {}", path, sent.error());
}

void Master::schedule_wakeup(const ServicePtr& s, bool first) {
    if (s->wakeup <= 0) return;
    auto delay = first ? std::chrono::seconds(0) : std::chrono::seconds(s->wakeup);
    s->wakeup_timer = loop_.add_timer(delay, [this, s] {
        s->wakeup_timer = 0;
        send_wakeup(s);
        schedule_wakeup(s, false);
    });
}

}  // namespace pf::master
