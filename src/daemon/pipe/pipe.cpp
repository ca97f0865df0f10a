// pipe(8): delivery to external commands, run by master as a single-server
// (one delivery request per connection, from qmgr over private/<service>).
// For each request: check the recipient-count rules of flags D and O, the
// size= limit, address probes, the Delivered-To: loop (flag D); expand the
// argv= macros (pipe_argv.h); run the command as the user= account
// (pipe_command.h); log and record each recipient
// (ipc/deliver_completion.h) with relay=<service name> and, on success,
// "delivered via <service> service[ (output)]", and mark delivered
// recipients done in the queue file.
//
// Privileges: keeps root as real uid (to become the user= account in the
// command's process) and works with the effective ids of mail_owner, as
// the reference does. Per-transport parameter: <service>_time_limit
// (default $command_time_limit).
//
// Trust: delivery requests come from qmgr; the queue file may be damaged;
// the command's output is untrusted text.
#include "pipe_argv.h"
#include "pipe_attr.h"
#include "pipe_command.h"

#include "config/config.h"
#include "config/mail_params.h"
#include "dict/dict_watch.h"
#include "ipc/deliver_agent.h"
#include "ipc/deliver_completion.h"
#include "ipc/deliver_mail_copy.h"
#include "ipc/deliver_queue_file.h"
#include "ipc/delivery_request.h"
#include "util/msg.h"
#include "util/strings.h"

#include <grp.h>

#include <fmt/core.h>
#include <optional>

extern char** environ;

namespace {

using namespace pf;

// The master.cf arguments, parsed at the first request.
std::optional<pipe::PipeAttr>& pipe_attr() {
    static std::optional<pipe::PipeAttr> attr;
    return attr;
}

// Records every recipient with the same outcome; returns the OR of the
// per-recipient results (0: all finished).
int record_all(ipc::DeliveryRecorder& recorder, ipc::DeliveryQueueFile* file, const ipc::DeliveryRequest& request,
               const std::string& service, const ipc::Dsn& dsn, bool success) {
    int result = 0;
    for (const auto& rcpt : request.recipients) {
        int status = success ? recorder.sent(rcpt, service, dsn) : recorder.bounce_or_defer(rcpt, service, dsn);
        bool mark = file && (!success || (request.flags & ipc::kDeliverySuccess));
        result |= file ? ipc::finish_recipient(*file, rcpt, status, mark) : status;
    }
    return result;
}

int deliver_message(ipc::ServerContext& ctx, ipc::DeliveryRequest& request, ipc::DeliveryQueueFile& file) {
    const ipc::DeliveryAgent& agent = ipc::delivery_agent();
    std::optional<pipe::PipeAttr>& parsed = pipe_attr();
    const std::string& service = ctx.service_name;
    if (request.nexthop.empty()) util::msg_fatal("empty nexthop hostname");
    if (request.recipients.empty()) util::msg_fatal("recipient count: 0");
    if (!parsed) {
        pipe::PipeIdentityLimits limits;
        limits.owner_uid = agent.owner_uid;
        limits.owner_gid = agent.owner_gid;
        limits.mail_owner = ctx.config.get("mail_owner");
        limits.setgid_group = ctx.config.get("setgid_group");
        if (struct group* gr = ::getgrnam(limits.setgid_group.c_str())) limits.setgid_gid = gr->gr_gid;
        auto attr = pipe::parse_pipe_attr(ctx.args, limits);
        if (!attr) util::msg_fatal("{}", attr.error());
        parsed = std::move(*attr);
    }
    const pipe::PipeAttr& attr = *parsed;
    ipc::DeliveryRecorder recorder(agent.settings, request);
    auto defer_config = [&](std::string_view warning) {
        int status = record_all(recorder, &file, request, service,
                                ipc::Dsn::simple("4.3.5", "mail system configuration error"), false);
        if (!warning.empty()) util::msg_warn("{}", warning);
        return status;
    };

    if ((attr.flags & pipe::kFlagDelivered) && request.recipients.size() > 1)
        return defer_config(fmt::format("pipe flag `D' requires {}_destination_recipient_limit = 1", service));
    if ((attr.flags & pipe::kFlagOrigRcpt) && request.recipients.size() > 1)
        return defer_config(fmt::format("pipe flag `O' requires {}_destination_recipient_limit = 1", service));
    if (attr.size_limit != 0 && request.data_size > attr.size_limit)
        return record_all(recorder, &file, request, service, ipc::Dsn::simple("5.2.3", "message too large"), false);
    if (request.flags & (ipc::kDeliveryMtaVerify | ipc::kDeliveryUserVerify)) {
        ipc::Dsn dsn = ipc::Dsn::simple("2.0.0", fmt::format("delivers to command: {}", attr.command[0]));
        return record_all(recorder, &file, request, service, dsn, true);
    }
    if (attr.flags & pipe::kFlagDelivered) {
        auto headers = file.delivered_to_headers(request.data_offset);
        const auto& rcpt = request.recipients.front();
        if (ipc::delivered_to_loop(headers, rcpt.address))
            return record_all(recorder, &file, request, service,
                              ipc::Dsn::simple("5.4.6", fmt::format("mail forwarding loop for {}", rcpt.address)),
                              false);
    }

    pipe::MacroContext mctx;
    mctx.service = service;
    mctx.config_directory = ctx.config.config_directory();
    mctx.flags = attr.flags;
    mctx.recipient_delimiter = ctx.config.get("recipient_delimiter");
    mctx.double_bounce_sender = ctx.config.get("double_bounce_sender");
    mctx.owner_request_special =
        config::parse_bool_value(ctx.config.get("owner_request_special")).value_or(true);
    mctx.null_sender = attr.null_sender;
    auto argv = pipe::expand_pipe_argv(attr.command, request, mctx,
                                       [](const std::string& text) { util::msg_warn("{}", text); });
    if (!argv) return defer_config({});

    pipe::CommandSpec spec;
    spec.argv = std::move(*argv);
    spec.uid = attr.uid;
    spec.gid = attr.gid;
    spec.cwd = attr.exec_dir;
    spec.chroot = attr.chroot_dir;
    spec.env = pipe::command_environment(ipc::export_environment_list(ctx.config), environ);
    spec.time_limit = ipc::command_time_limit_for(ctx.config, service);
    if (util::msg_verbose)
        for (const auto& e : spec.env) util::msg_info("deliver_message: environment {}", e);

    ipc::CopyEnvelope envelope;
    envelope.sender = request.sender.empty() ? attr.null_sender : request.sender;
    envelope.orig_recipient = request.recipients.front().orig_addr;
    envelope.delivered = request.recipients.front().address;
    envelope.enable_original_recipient =
        config::parse_bool_value(ctx.config.get("enable_original_recipient")).value_or(true);
    unsigned copy_flags = 0;
    if (attr.flags & pipe::kFlagBlank) copy_flags |= ipc::kCopyBlank;
    if (attr.flags & pipe::kFlagDelivered) copy_flags |= ipc::kCopyDelivered;
    if (attr.flags & pipe::kFlagFrom) copy_flags |= ipc::kCopyFrom;
    if (attr.flags & pipe::kFlagOrigRcpt) copy_flags |= ipc::kCopyOrigRcpt;
    if (attr.flags & pipe::kFlagReturnPath) copy_flags |= ipc::kCopyReturnPath;
    if (attr.flags & pipe::kFlagDot) copy_flags |= ipc::kCopyDot;
    if (attr.flags & pipe::kFlagQuoteFrom) copy_flags |= ipc::kCopyQuote;

    pipe::CommandRun run = pipe::run_command(spec, file.stream(), request.data_offset, envelope, copy_flags, attr.eol);
    pipe::CommandOutcome outcome = pipe::map_command_result(run, spec.argv[0]);
    switch (outcome.status) {
    case pipe::CommandStatus::ok: {
        std::string output(util::trim_right(outcome.dsn.reason));
        std::string suffix = output.empty() ? std::string() : fmt::format(" ({})", output.substr(0, 100));
        ipc::Dsn dsn;
        dsn.status = "2.0.0";
        dsn.action = (attr.flags & pipe::kFlagFinal) ? "delivered" : "relayed";
        dsn.reason = fmt::format("delivered via {} service{}", service, suffix);
        return record_all(recorder, &file, request, service, dsn, true);
    }
    case pipe::CommandStatus::bounce:
    case pipe::CommandStatus::defer:
        return record_all(recorder, &file, request, service, outcome.dsn, false);
    case pipe::CommandStatus::corrupt:
        ipc::mark_corrupt(file);
        return -1;
    }
    return -1;
}

}  // namespace

int main(int argc, char** argv) {
    // Root stays the real uid for the command's sake.
    ipc::DeliveryAgentHooks hooks;
    hooks.pre_accept = [](ipc::ServerContext&) { dict::exit_if_table_changed(); };  // restart on a rebuilt table
    hooks.keep_root = true;
    hooks.takes_args = true;
    return ipc::run_delivery_agent(argc, argv, std::move(hooks), deliver_message);
}
