// The bounce daemon's request loop; see bounce_server.h.
#include "bounce_server.h"

#include "bounce_append_service.h"
#include "bounce_notice_service.h"
#include "bounce_params.h"

#include "config/mail_params.h"
#include "ipc/bounce_client.h"
#include "ipc/mail_server.h"
#include "mail/bounce_template.h"
#include "queue/queue_file.h"
#include "util/msg.h"

#include <unistd.h>

#include <cerrno>
#include <memory>
#include <optional>

namespace pf::bounce {
namespace {

struct State {
    queue::QueueLayout layout;
    bool old_format_line = true;
    mail::BounceTemplates templates;
    std::unique_ptr<NoticeContext> notice;
};

State& state() {
    static State s;
    return s;
}

// Removes the log a failed "clean" request was about.
void clean_log(std::string_view service, const std::string& queue_id) {
    if (!queue::is_queue_id(queue_id)) return;
    std::string path = state().layout.path(service, queue_id, true);
    if (::unlink(path.c_str()) < 0 && errno != ENOENT)
        util::msg_warn("{}: remove {}: {}", queue_id, path, std::strerror(errno));
}

bool handle(ipc::ServerContext& ctx, int fd) {
    State& st = state();
    int timeout = config::parse_time_value(ctx.config.get("ipc_timeout"), 's').value_or(3600);
    std::string buffer;
    auto attrs = ipc::receive_attrs(fd, buffer, timeout);
    if (!attrs) {
        if (attrs.error() != ipc::AttrError::eof)
            util::msg_warn("malformed request: {}", ipc::attr_error_text(attrs.error()));
        return false;
    }
    auto request_name = attrs->get_or("request", "");
    int status = -1;
    unsigned flags = 0;
    std::string queue_id;
    if (request_name == "append") {
        auto request = ipc::bounce_append_from_attrs(*attrs);
        if (!request) {
            util::msg_warn("malformed request: {}", request.error());
        } else {
            flags = request->flags;
            queue_id = request->queue_id;
            if (util::msg_verbose)
                util::msg_info("{}: append {} {} {}", ctx.service_name, request->queue_id, request->recipient.address,
                               request->dsn.status);
            // The reference backs off hard when it cannot record: fatal.
            if (auto done = append_log_record(st.layout, ctx.service_name, *request, st.old_format_line); !done)
                util::msg_fatal("{}", done.error());
            status = 0;
        }
    } else {
        auto request = ipc::bounce_notice_from_attrs(*attrs);
        if (!request) {
            util::msg_warn("{}", request.error());
        } else {
            flags = request->flags;
            queue_id = request->queue_id;
            status = notice_service(*st.notice, ctx.service_name, *request);
        }
    }
    bool sent = static_cast<bool>(ipc::send_attrs(fd, ipc::AttrList{{"status", std::to_string(status)}}, timeout));
    if ((flags & ipc::kBounceFlagClean) && (status != 0 || !sent)) clean_log(ctx.service_name, queue_id);
    return false;
}

}  // namespace

int run_bounce_server(int argc, char** argv) {
    ipc::ServerHooks hooks;
    hooks.pre_init = [](ipc::ServerContext& ctx) {
        State& st = state();
        check_bounce_params(ctx.config);
        st.layout = queue::QueueLayout::from_config(ctx.config);
        st.layout.queue_directory.assign(1, '.');
        st.old_format_line =
            config::parse_bool_value(ctx.config.get("backwards_bounce_logfile_compatibility")).value_or(true);
        std::string path = ctx.config.get("bounce_template_file");
        if (!path.empty()) {
            auto loaded = mail::BounceTemplates::load(path);
            if (!loaded) util::msg_fatal_text(loaded.error().text);
            st.templates = std::move(*loaded);
        }
        st.notice = std::make_unique<NoticeContext>(make_notice_context(ctx.config, st.templates));
    };
    return ipc::run_single_server(argc, argv, std::move(hooks), handle);
}

}  // namespace pf::bounce
