// local(8): final delivery for the local domains, run by master as a
// single-server (one delivery request per connection, from qmgr over
// private/<service>). For each recipient of the request: walk the
// delivery switch (local.h), complete the messages it forwarded
// (local_forward.h), and mark the recipient done in the queue file when
// its outcome is final. Reads the reference's local(8) parameters once at
// start-up.
//
// Privileges: keeps root as real uid and works with the effective ids of
// mail_owner; mailbox, file and .forward accesses take the recipient's
// effective ids, commands run as the recipient (or default_privs) for
// good in their own process, as the reference does.
//
// Trust: requests come from qmgr; everything the expansion reads (alias
// values, include and .forward files) is user or administrator input.
#include "local.h"
#include "local_forward.h"

#include "config/mail_params.h"
#include "dict/dict_watch.h"
#include "ipc/deliver_agent.h"
#include "ipc/mail_server.h"
#include "mail/address_surrogate.h"
#include "mailbox/mailbox.h"
#include "util/msg.h"
#include "util/brace_tokens.h"
#include "util/strings.h"

#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fmt/core.h>

namespace {

using namespace pf;

struct LocalState {
    local::Settings settings;
    ipc::DeliveryAgentSettings agent;
    queue::QueueLayout layout;
    local::AliasMaps aliases;
    std::unique_ptr<ipc::RewriteClient> rewrite;
    local::Forwarder forwarder;
};

LocalState& state() {
    static LocalState s;
    return s;
}

std::string raw(const config::Config& config, std::string_view name) {
    if (auto v = config.raw_value(name)) return *v;
    return config.default_value(name).value_or("");
}

bool flag(const config::Config& config, std::string_view name) {
    std::string value = config.get(name);
    auto b = config::parse_bool_value(value);
    if (!b) util::msg_fatal("bad boolean configuration: {} = {}", name, value);
    return *b;
}

long long number(const config::Config& config, std::string_view name) {
    std::string value = config.get(name);
    auto n = config::parse_int_value(value, 0x7fffffffffffffffLL);
    if (!n) util::msg_fatal("bad numerical configuration: {} = {}", name, value);
    return *n;
}

int seconds(const config::Config& config, std::string_view name) {
    std::string value = config.get(name);
    auto t = config::parse_time_value(value, 's');
    if (!t) util::msg_fatal("invalid {} parameter value {}", name, value);
    return *t;
}

unsigned name_mask(const config::Config& config, std::string_view name,
                   std::initializer_list<std::pair<std::string_view, unsigned>> names) {
    std::string value = config.get(name);
    unsigned mask = 0;
    for (auto word : util::split_tokens(value, ", \t\r\n")) {
        bool known = false;
        for (const auto& [n, bit] : names)
            if (util::iequals(n, word)) {
                mask |= bit;
                known = true;
            }
        if (!known) util::msg_fatal("unknown {} value \"{}\" in \"{}\"", name, word, value);
    }
    return mask;
}

// The owner of the file behind an alias table (0 when none applies).
uid_t table_owner(const std::string& type_name) {
    auto colon = type_name.find(':');
    if (colon == std::string::npos) return 0;
    std::string type = type_name.substr(0, colon);
    std::string path = type_name.substr(colon + 1);
    std::string file;
    if (type == "hash" || type == "btree")
        file = path + ".db";
    else if (type == "lmdb")
        file = path + ".lmdb";
    else if (type == "cdb")
        file = path + ".cdb";
    else if (type == "dbm" || type == "sdbm")
        file = path + ".pag";
    else if (type == "texthash" || type == "regexp" || type == "pcre" || type == "cidr")
        file = path;
    else
        return 0;
    struct stat st;
    if (::stat(file.c_str(), &st) < 0) return 0;
    return st.st_uid;
}

void read_settings(ipc::ServerContext& ctx) {
    const config::Config& c = ctx.config;
    local::Settings& s = state().settings;
    s.service = ctx.service_name;
    s.queue_directory = c.get("queue_directory");
    s.myhostname = c.get("myhostname");
    s.mail_name = c.get("mail_name");
    s.cleanup_service = c.get("cleanup_service_name");
    s.trace_service = c.get("trace_service_name");
    s.bounce_service = c.get("bounce_service_name");
    s.double_bounce_sender = c.get("double_bounce_sender");
    s.log = state().agent.log;
    s.soft_bounce = state().agent.soft_bounce;
    s.ipc_timeout = seconds(c, "ipc_timeout");
    s.home_mailbox = c.get("home_mailbox");
    s.mail_spool_directory = c.get("mail_spool_directory");
    s.mailbox_command = raw(c, "mailbox_command");
    s.mailbox_transport = c.get("mailbox_transport");
    s.fallback_transport = c.get("fallback_transport");
    s.luser_relay = raw(c, "luser_relay");
    s.forward_path = raw(c, "forward_path");
    s.recipient_delimiter = c.get("recipient_delimiter");
    s.local_command_shell = c.get("local_command_shell");
    s.command_execution_directory = raw(c, "command_execution_directory");
    s.command_expansion_filter = c.get("command_expansion_filter");
    s.forward_expansion_filter = c.get("forward_expansion_filter");
    s.execution_directory_expansion_filter = c.get("execution_directory_expansion_filter");
    const std::string exports = c.get("export_environment");
    for (auto w : util::split_tokens(exports, ", \t\r\n")) s.export_environment.emplace_back(w);
    const std::initializer_list<std::pair<std::string_view, unsigned>> kExpand = {
        {"alias", local::kExpandAlias}, {"forward", local::kExpandForward}, {"include", local::kExpandInclude}};
    s.allow_commands = name_mask(c, "allow_mail_to_commands", kExpand);
    s.allow_files = name_mask(c, "allow_mail_to_files", kExpand);
    s.delivered_header = name_mask(c, "prepend_delivered_header",
                                   {{"command", local::kHeaderCommand},
                                    {"file", local::kHeaderFile},
                                    {"forward", local::kHeaderForward}});
    s.ext_prop = name_mask(c, "propagate_unmatched_extensions",
                           {{"canonical", local::kPropCanonical},
                            {"virtual", local::kPropVirtual},
                            {"alias", local::kPropAlias},
                            {"forward", local::kPropForward},
                            {"include", local::kPropInclude},
                            {"generic", local::kPropGeneric}});
    s.expand_owner_alias = flag(c, "expand_owner_alias");
    s.owner_request_special = flag(c, "owner_request_special");
    s.frozen_delivered_to = flag(c, "frozen_delivered_to");
    s.strict_mailbox_ownership = flag(c, "strict_mailbox_ownership");
    s.biff = flag(c, "biff");
    s.enable_original_recipient = flag(c, "enable_original_recipient");
    s.command_time_limit = seconds(c, "command_time_limit");
    s.mailbox_size_limit = static_cast<off_t>(number(c, "mailbox_size_limit"));
    if (s.mailbox_size_limit > 0) {
        long long message_limit = number(c, "message_size_limit");
        if (message_limit <= 0)
            util::msg_fatal("configuration error: mailbox_size_limit is limited but message_size_limit is unlimited");
        if (s.mailbox_size_limit < message_limit)
            util::msg_fatal("configuration error: mailbox_size_limit is smaller than message_size_limit");
    }
    auto locks = mailbox::parse_lock_styles(c.get("mailbox_delivery_lock"), "mailbox_delivery_lock");
    if (!locks) util::msg_fatal("{}", *&locks.error());
    s.lock_styles = *locks;
    if (s.lock_styles == 0)
        util::msg_fatal("parameter mailbox_delivery_lock specifies no applicable mailbox locking method");
    s.stale_lock_time = seconds(c, "stale_lock_time");
    s.deliver_lock_attempts = static_cast<int>(number(c, "deliver_lock_attempts"));
    s.deliver_lock_delay = seconds(c, "deliver_lock_delay");
    s.dup_filter_limit = static_cast<int>(number(c, "duplicate_filter_limit"));

    std::string privs = c.get("default_privs");
    struct passwd* pw = ::getpwnam(privs.c_str());
    if (!pw) util::msg_fatal("unknown default_privs login name: {}", privs);
    s.default_uid = pw->pw_uid;
    s.default_gid = pw->pw_gid;
    if (s.default_uid == 0) util::msg_fatal("default_privs: {}: privileged user", privs);
    std::string owner = c.get("mail_owner");
    pw = ::getpwnam(owner.c_str());
    if (!pw) util::msg_fatal("unknown mail_owner: {}", owner);
    s.owner_uid = pw->pw_uid;
    s.owner_gid = pw->pw_gid;
}

// With kNoProxy a proxy: table is opened directly (the reference's proxy
// client does that silently), so an open failure names the inner table.
std::string_view direct_name(std::string_view name, dict::Flags flags) {
    if ((flags & dict::kNoProxy) && name.starts_with("proxy:")) name.remove_prefix(6);
    return name;
}

// A table list as the reference's maps_create opens it: a table that
// cannot be opened (not allowed here, server down) is logged and replaced
// by a stand-in whose lookups fail, so its mail is deferred.
mail::Maps open_list(std::string title, std::string_view value, dict::Flags flags) {
    std::vector<dict::DictPtr> tables;
    for (const auto& name : util::split_braced_list(value)) {
        auto d = mail::open_table_or_surrogate(direct_name(name, flags), O_RDONLY, flags);
        if (!d) util::msg_fatal("{}", d.error());
        tables.push_back(std::move(*d));
    }
    return mail::Maps::from_tables(std::move(title), std::move(tables));
}

void open_tables(const config::Config& c) {
    const dict::Flags flags = dict::kLock | dict::kFoldFixed | dict::kUtf8Request;
    // The reference's DICT_FLAG_PARANOID: no $n substitution in pattern
    // results, proxy: opens the table directly, no unauthenticated tables
    // (socketmap, tcp, memcache).
    const dict::Flags paranoid = dict::kParanoid | dict::kNoRegSub | dict::kNoProxy | dict::kNoUnauth;
    const std::string alias_maps = c.get("alias_maps");
    for (const auto& name : util::split_braced_list(alias_maps)) {
        local::AliasTable t;
        auto d = mail::open_table_or_surrogate(direct_name(name, flags | paranoid), O_RDONLY, flags | paranoid);
        if (!d) util::msg_fatal("{}", d.error());
        // Named as opened: a proxy: table is opened directly here.
        t.name = (*d)->type_name();
        std::vector<dict::DictPtr> one;
        one.push_back(std::move(*d));
        t.maps = mail::Maps::from_tables("alias_maps", std::move(one));
        t.owner = table_owner(t.name);
        state().aliases.tables.push_back(std::move(t));
    }
    auto open_maps = [&](std::string_view name, mail::Maps& into, dict::Flags extra) {
        std::string value = c.get(name);
        if (util::trim(value).empty()) return;
        into = open_list(std::string(name), value, flags | extra);
        into.set_warn_errors(true);
    };
    local::LocalTables& t = local::local_tables();
    open_maps("mailbox_transport_maps", t.mailbox_transport_maps, dict::kNoRegSub);
    open_maps("mailbox_command_maps", t.mailbox_command_maps, paranoid);
    open_maps("fallback_transport_maps", t.fallback_transport_maps, dict::kNoRegSub);
}

int deliver_message(ipc::DeliveryRequest& request, ipc::DeliveryQueueFile& file) {
    LocalState& st = state();
    ipc::DeliveryRecorder recorder(st.agent, request);
    const std::set<std::string> loop_info = file.delivered_to_headers(request.data_offset);
    int message_status = 0;
    for (const auto& rcpt : request.recipients) {
        local::Context ctx{st.settings, request, file, recorder, *st.rewrite, st.aliases, loop_info, st.forwarder};
        st.forwarder.init();
        local::MsgAttr attr;
        attr.sender = request.sender;
        attr.rcpt = rcpt;
        attr.dsn_envid = request.dsn_envid;
        attr.dsn_ret = request.dsn_ret;
        local::UserAttr usr;
        int status = local::deliver_recipient(ctx, attr, usr);
        status |= st.forwarder.finish(ctx, attr, status);
        message_status |= ipc::finish_recipient(file, rcpt, status, (request.flags & ipc::kDeliverySuccess) != 0);
    }
    return message_status;
}

// mailbox_size_limit bounds every file the process writes, as the
// reference's set_file_limit: mailboxes, /file destinations, and what the
// commands it runs write (they inherit the limit, hard and soft, and
// SIGXFSZ ignored, and see EFBIG). Set once, so the mailbox functions get
// no limit of their own (local_mailbox.cpp).
void set_process_file_limit(off_t limit) {
    if (limit <= 0) return;
    if (::signal(SIGXFSZ, SIG_IGN) == SIG_ERR) util::msg_fatal("signal(SIGXFSZ,SIG_IGN): {}", std::strerror(errno));
    struct rlimit lim {};
    lim.rlim_cur = lim.rlim_max = static_cast<rlim_t>(limit);
    if (::setrlimit(RLIMIT_FSIZE, &lim) < 0) util::msg_fatal("setrlimit: {}", std::strerror(errno));
}

bool local_service(ipc::ServerContext&, int fd) {
    LocalState& st = state();
    return ipc::serve_delivery_request(fd, st.agent, st.layout, deliver_message);
}

}  // namespace

int main(int argc, char** argv) {
    ipc::ServerHooks hooks;
    hooks.pre_accept = [](ipc::ServerContext&) { dict::exit_if_table_changed(); };  // restart on a rebuilt table
    hooks.keep_root = true;
    hooks.pre_init = [](ipc::ServerContext& ctx) {
        LocalState& st = state();
        st.agent = ipc::DeliveryAgentSettings::from_config(ctx.config);
        st.layout = queue::QueueLayout::from_config(ctx.config);
        read_settings(ctx);
        set_process_file_limit(st.settings.mailbox_size_limit);
        open_tables(ctx.config);
        st.rewrite = std::make_unique<ipc::RewriteClient>(st.settings.queue_directory);
        ::signal(SIGPIPE, SIG_IGN);
    };
    hooks.post_init = [](ipc::ServerContext&) { local::restore_eugid(state().settings); };
    return ipc::run_single_server(argc, argv, std::move(hooks), local_service);
}
