// local(8) delivery to "|command" destinations and to mailbox_command, as
// the reference's deliver_command: once per (user, uid, command); with the
// delivery rights (default_privs when they are still root's); the message
// with From_, Return-Path:, X-Original-To: and (prepend_delivered_header
// "command") Delivered-To:; the environment HOME, LOGNAME, USER, SENDER,
// RECIPIENT, LOCAL, SHELL, DOMAIN, EXTENSION, ORIGINAL_RECIPIENT and the
// CLIENT_* / SASL_* values of the request, each value passed through
// command_expansion_filter; the working directory from
// command_execution_directory. Success logs "delivered to command: <cmd>".
//
// Trust: the values exported come from the message envelope (outside
// input) and are filtered; nothing is interpreted by a shell except the
// administrator's or user's own command text.
#include "local.h"
#include "local_command_run.h"

#include "util/msg.h"

#include <sys/stat.h>

#include <fmt/core.h>

namespace pf::local {

int deliver_command(Context& ctx, MsgAttr attr, UserAttr usr, const std::string& command) {
    const Settings& s = ctx.settings;
    attr.level++;
    if (ctx.been_here(fmt::format("command {}:{} {}", attr.user, static_cast<long>(usr.uid), command))) return 0;
    if (ctx.request.flags & (ipc::kDeliveryMtaVerify | ipc::kDeliveryUserVerify))
        return record_sent(ctx, attr, ipc::Dsn::simple("2.0.0", fmt::format("delivers to command: {}", command)));
    if (usr.uid == 0) usr.uid = s.default_uid;
    if (usr.gid == 0) usr.gid = s.default_gid;
    if (usr.uid == 0) util::msg_panic("privileged default user id");
    if (usr.gid == 0) util::msg_panic("privileged default group id");

    unsigned flags = ipc::kCopyFrom | ipc::kCopyReturnPath | ipc::kCopyOrigRcpt;
    if (s.delivered_header & kHeaderCommand) flags |= ipc::kCopyDelivered;

    CommandJob job;
    job.command = command;
    job.shell = s.local_command_shell;
    job.uid = usr.uid;
    job.gid = usr.gid;
    job.export_names = s.export_environment;
    job.time_limit = s.command_time_limit;
    auto add = [&](const char* name, const std::string& value) { job.env.emplace_back(name, value); };
    if (usr.home) add("HOME", *usr.home);
    add("LOGNAME", attr.user);
    add("USER", attr.user);
    add("SENDER", attr.sender);
    add("RECIPIENT", attr.rcpt.address);
    add("LOCAL", attr.local);
    if (usr.shell) add("SHELL", *usr.shell);
    if (attr.domain) add("DOMAIN", *attr.domain);
    if (attr.extension) add("EXTENSION", *attr.extension);
    if (!attr.rcpt.orig_addr.empty()) add("ORIGINAL_RECIPIENT", attr.rcpt.orig_addr);
    const ipc::DeliveryRequest& rq = ctx.request;
    auto add_if = [&](const char* name, const std::string& value) {
        if (!value.empty()) add(name, value);
    };
    add_if("CLIENT_HOSTNAME", rq.client_name);
    add_if("CLIENT_ADDRESS", rq.client_addr);
    add_if("CLIENT_HELO", rq.client_helo);
    add_if("CLIENT_PROTOCOL", rq.client_proto);
    add_if("SASL_METHOD", rq.sasl_method);
    add_if("SASL_SENDER", rq.sasl_sender);
    add_if("SASL_USERNAME", rq.sasl_username);
    if (!s.command_expansion_filter.empty())
        for (auto& [name, value] : job.env)
            for (char& c : value)
                if (s.command_expansion_filter.find(c) == std::string::npos) c = '_';

    LocalExpansion dir = local_expand(s.command_execution_directory, attr, usr, s.execution_directory_expansion_filter);
    if (dir.status & kExpandError) {
        util::msg_warn("bad parameter value syntax for command_execution_directory: {}",
                       s.command_execution_directory);
        return bounce_workaround(ctx, attr, ipc::Dsn::simple("4.3.5", "mail system configuration error"));
    }
    job.cwd = dir.text;

    ipc::CopyEnvelope envelope;
    envelope.sender = attr.sender;
    envelope.orig_recipient = attr.rcpt.orig_addr;
    envelope.delivered = attr.delivered.value_or(attr.rcpt.address);
    envelope.enable_original_recipient = s.enable_original_recipient;

    CommandResult result = run_local_command(job, ctx.file.stream(), rq.data_offset, envelope, flags);
    switch (result.verdict) {
    case CommandVerdict::ok:
        return record_sent(ctx, attr, ipc::Dsn::simple("2.0.0", fmt::format("delivered to command: {}", command)));
    case CommandVerdict::bounce:
    case CommandVerdict::defer:
        return bounce_workaround(ctx, attr, result.dsn);
    case CommandVerdict::corrupt:
        util::msg_warn("corrupted queue file: {}", ctx.file.path());
        return -1;
    }
    return -1;
}

}  // namespace pf::local
