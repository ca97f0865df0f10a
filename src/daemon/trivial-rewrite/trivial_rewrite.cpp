// trivial-rewrite(8): the address rewriting and resolving service on
// private/rewrite, a multi-server (one process serves many long-lived
// clients: cleanup, qmgr, smtpd, verify). Requests and replies are the
// attribute lists of services.h, served by ipc::RequestServer; a malformed
// request drops the client.
//
// Privileges: none; tables are opened before the chroot (pre_init).
// Trust: requests come from our own processes, the addresses in them from
// anywhere.
#include "config/mail_params.h"
#include "dict/dict_utf8.h"
#include "dict/dict_watch.h"
#include "ipc/attr.h"
#include "ipc/mail_server.h"
#include "ipc/request_server.h"
#include "ipc/rewrite_client.h"
#include "ipc/services.h"
#include "trivial_rewrite.h"
#include "util/msg.h"

#include <cstdlib>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>

namespace {

// Seconds to read a request that has started to arrive, and to write
// its reply.
constexpr int kRequestDeadline = 100;

std::unique_ptr<pf::rewrite::Settings> g_settings;

// Every 10 seconds: a rebuilt table means a restart (master starts a fresh
// process; the clients reconnect), as the reference does. Its clients stay
// connected for long, so a check before each new client would not do. The
// tables are the ones the settings opened (dict/dict_watch.h); indexed
// files only, under the labels of the lists they came from.
void check_tables() {
    pf::dict::exit_if_table_changed();
    pf::ipc::server_add_timer(10, check_tables);
}
// One request: the reply, or nullopt to drop the client (a request that
// lacks an attribute or names no known command).
std::optional<pf::ipc::AttrList> serve(const pf::ipc::AttrList& req) {
    namespace a = pf::ipc::rewrite_attr;
    using pf::ipc::AttrList;
    std::string request = req.get_or(a::kRequest, "");
    if (request == a::kRequestRewrite) {
        auto rule = req.get(a::kRule);
        auto address = req.get(a::kAddress);
        if (!rule || !address) return std::nullopt;
        auto out = pf::rewrite::rewrite_address(*rule, *address, g_settings->rewrite);
        if (!out) return std::nullopt;
        if (pf::util::msg_verbose) pf::util::msg_info("`{}' `{}' -> `{}'", *rule, *address, *out);
        AttrList reply;
        reply.add(std::string(a::kFlags), 0LL);
        reply.add(std::string(a::kAddress), *out);
        return reply;
    }
    if (request == a::kRequestResolve || request == a::kRequestVerify) {
        auto sender = req.get(a::kSender);
        auto address = req.get(a::kAddress);
        if (!sender || !address) return std::nullopt;
        auto r = pf::rewrite::resolve_address(*sender, *address, request == a::kRequestVerify, g_settings->resolve,
                                              g_settings->rewrite);
        if (pf::util::msg_verbose)
            pf::util::msg_info("`{}' -> `{}' -> (`{}' `{}' `{}' `{}')", *sender, *address, r.transport, r.nexthop,
                               r.recipient, r.flags);
        AttrList reply;
        reply.add(std::string(a::kFlags), static_cast<long long>(r.flags));
        reply.add(std::string(a::kTransport), r.transport);
        reply.add(std::string(a::kNexthop), r.nexthop);
        reply.add(std::string(a::kRecipient), r.recipient);
        return reply;
    }
    pf::util::msg_warn("bad command {:.30}", request);
    return std::nullopt;
}

}  // namespace

int main(int argc, char** argv) {
    pf::ipc::ServerHooks hooks;
    hooks.pre_init = [](pf::ipc::ServerContext& ctx) {
        try {
            // The reference turns UTF-8 support on program-wide from
            // smtputf8_enable (diagnostics, table keys, domain-list folding)
            // before any table is opened.
            bool utf8 = pf::config::parse_bool_value(ctx.config.get("smtputf8_enable")).value_or(false);
            pf::util::msg_set_utf8(utf8);
            pf::dict::set_utf8_support(utf8);
            g_settings = pf::rewrite::Settings::from_config(ctx.config);
        } catch (const std::exception& e) {
            pf::util::msg_fatal("{}", e.what());
        }
    };
    hooks.post_init = [](pf::ipc::ServerContext&) {
        // The reference reads the "*" transport entries after the chroot.
        for (auto* route : {&g_settings->resolve.regular, &g_settings->resolve.verify})
            if (route->transport_maps) route->transport_maps->init_wildcard();
        check_tables();
    };
    // Clients stay connected; every complete request is answered in turn,
    // one that does not decode is logged and drops the client.
    pf::ipc::RequestServer server({.deadline = kRequestDeadline, .warn_read_errors = true},
                                  [](int, const pf::ipc::AttrList& request) { return serve(request); });
    return pf::ipc::run_multi_server(argc, argv, std::move(hooks), server.client_handler());
}
