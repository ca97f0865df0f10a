// qmgr(8): the queue manager daemon, a trigger server under master (the
// reference's master.cf line "qmgr unix n - n 300 1 qmgr"; also "fifo").
// It keeps no client connections: the wakeup bytes it reads are handled by
// QueueManager::trigger (qmgr_manager.h), everything else runs from timers
// and descriptor callbacks in the skeleton's single event loop. Like the
// reference it never exits on its own for max_use or max_idle.
//
// Privileges: none beyond mail_owner (the skeleton drops them; the daemon
// may run chrooted in queue_directory: every path it uses is relative).
#include "daemon/qmgr/qmgr_events.h"
#include "daemon/qmgr/qmgr_manager.h"
#include "daemon/qmgr/qmgr_settings.h"
#include "dict/dict_watch.h"
#include "ipc/flush_client.h"
#include "ipc/mail_server.h"
#include "queue/queue_file.h"
#include "util/msg.h"

namespace {

using namespace pf;

// The events are the skeleton's own loop, timers included: they live in
// memory and bound its poll timeout (a timerfd cost system calls per timer
// change and per expiry). Both live until the process ends and are
// deliberately never destroyed: the manager's destructor unwatches
// descriptors on the skeleton's event loop, a function-local static that
// is constructed after these globals and so destroyed before them by
// exit() (a use after free under ASan).
qmgr::LoopEvents* g_events = nullptr;
qmgr::QueueManager* g_manager = nullptr;

}  // namespace

int main(int argc, char** argv) {
    ipc::ServerHooks hooks;
    hooks.pre_accept = [](ipc::ServerContext&) { dict::exit_if_table_changed(); };  // restart on a rebuilt table
    hooks.post_init = [](ipc::ServerContext& ctx) {
        // The reference's qmgr neither exits after a number of triggers
        // nor after idle time.
        ctx.max_use = 0;
        ctx.max_idle = 0;
        auto lookup = qmgr::config_lookup(ctx.config);
        auto settings = qmgr::QmgrSettings::from_lookup(lookup);
        qmgr::QueuePaths paths{queue::QueueLayout::from_config(ctx.config), true};
        // The skeleton runs us chdir'ed to queue_directory (maybe chrooted):
        // relative paths work either way.
        paths.layout.queue_directory.clear();
        paths.layout.queue_directory.push_back('.');
        g_events = new qmgr::LoopEvents(ipc::server_event_loop());
        auto manager_hooks = qmgr::QueueManager::default_hooks(settings, ".");
        manager_hooks.flush_add = [&config = ctx.config](std::string_view site, const std::string& queue_id) {
            auto status = ipc::flush_add(config, site, queue_id);
            if (status != ipc::FlushStatus::kOk && status != ipc::FlushStatus::kUnknown)
                util::msg_warn("{}: {} service failure", queue_id, config.get("flush_service_name"));
        };
        g_manager = new qmgr::QueueManager(settings, lookup, paths, *g_events, std::move(manager_hooks));
        g_manager->start();
    };
    hooks.on_idle = [](ipc::ServerContext&) {};
    return ipc::run_trigger_server(argc, argv, std::move(hooks), [](ipc::ServerContext&, std::string_view bytes) {
        if (g_manager) g_manager->trigger(bytes);
    });
}
