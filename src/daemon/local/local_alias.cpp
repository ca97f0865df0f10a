// local(8) alias expansion, as the reference's deliver_alias: look the
// name up in each alias_maps table in turn; on a hit
//  - an address probe reports "aliased to <value>" without expanding;
//  - |command and /file rights: default_privs for a root-owned table,
//    else the table owner's;
//  - an owner-<name> alias makes that owner (or its expansion with
//    expand_owner_alias) the envelope sender of what follows, and resets
//    ENVID, RET, ORCPT and the original recipient (a mailing list);
//  - NOTIFY loses SUCCESS on the way down; the alias itself reports
//    "alias expanded" (action expanded, or delivered for a list) to a
//    NOTIFY=SUCCESS sender;
//  - an alias that names itself is delivered as a user instead; an empty
//    expansion defers 4.3.0 "alias database unavailable", as does a table
//    error (also one met looking for owner-<name>).
//
// Trust: alias values are administrator input but parsed as hostile text.
#include "local.h"

#include "util/msg.h"
#include "util/strings.h"

#include <fmt/core.h>

namespace pf::local {

dict::LookupResult AliasMaps::find(std::string_view key) const {
    for (const auto& t : tables) {
        auto r = t.maps.find(key);
        // A search of the whole list reports a table error as the
        // reference's maps_find does.
        if (r.is_error()) util::msg_warn("{} lookup error for \"{}\"", t.name, key);
        if (!r.is_not_found()) return r;
    }
    return dict::LookupResult::not_found();
}

namespace {

std::string canon_internal(Context& ctx, const std::string& address) {
    auto r = ctx.rewrite.rewrite_internal("local", address);
    if (!r) {
        util::msg_warn("{}", r.error());
        return address;
    }
    return r->address;
}

}  // namespace

bool deliver_alias(Context& ctx, MsgAttr attr, UserAttr usr, const std::string& name, int& status) {
    attr.level++;
    if (attr.exp_from && util::iequals(*attr.exp_from, name)) return false;
    if (attr.level > 100) {
        util::msg_warn("alias database loop for {}", name);
        status = record_bounce(ctx, attr, ipc::Dsn::simple("5.4.6", fmt::format("alias database loop for {}", name)));
        return true;
    }
    attr.exp_from = name;

    for (const auto& table : ctx.aliases.tables) {
        auto found = table.maps.find(name);
        if (found.is_error()) {
            util::msg_warn("{}: lookup of '{}' failed", table.name, name);
            status = record_defer(ctx, attr, ipc::Dsn::simple("4.3.0", "alias database unavailable"));
            return true;
        }
        if (!found.is_found()) continue;
        const std::string value = found.value();

        if (ctx.request.flags & ipc::kDeliveryMtaVerify) {
            status = record_sent(ctx, attr, ipc::Dsn::simple("2.0.0", fmt::format("aliased to {}", value)));
            return true;
        }
        attr.exp_type = kExpandAlias;

        if (table.owner == 0) {
            reset_user_attr(usr);
        } else {
            PasswdLookup pw = passwd_by_uid(table.owner);
            if (!pw.entry) {
                util::msg_warn("cannot find alias database owner for {}", table.name);
                status = record_defer(ctx, attr, ipc::Dsn::simple("4.3.0", "cannot find alias database owner"));
                return true;
            }
            set_user_attr(usr, *pw.entry);
        }

        std::optional<std::string> canon_owner;
        if (ctx.settings.owner_request_special) {
            std::string owner_name = "owner-" + name;
            auto owner = ctx.aliases.find(owner_name);
            if (owner.is_error()) {
                // Who owns the list is unknown: not now.
                status = record_defer(ctx, attr, ipc::Dsn::simple("4.3.0", "alias database unavailable"));
                return true;
            }
            if (owner.is_found())
                canon_owner = canon_internal(ctx, ctx.settings.expand_owner_alias ? owner.value() : owner_name);
        }
        if (canon_owner) {
            attr.sender = *canon_owner;
            attr.owner = *canon_owner;
        } else {
            attr.owner.reset();
        }

        if (!ctx.settings.frozen_delivered_to) attr.delivered = attr.rcpt.address;

        const int saved_notify = attr.rcpt.dsn_notify;
        const std::string saved_envid = attr.dsn_envid;
        const int saved_ret = attr.dsn_ret;
        const std::string saved_orcpt = attr.rcpt.dsn_orcpt;
        const std::string saved_orig = attr.rcpt.orig_addr;
        attr.rcpt.dsn_notify = saved_notify == 2 ? 1 : (saved_notify & ~2);
        MsgAttr down = attr;
        if (canon_owner) {
            down.dsn_envid.clear();
            down.dsn_ret = 0;
            down.rcpt.dsn_orcpt.clear();
            down.rcpt.orig_addr.clear();
        }
        int count = 0;
        status = deliver_token_string(ctx, down, usr, value, &count);
        if (count < 1) {
            util::msg_warn("no recipient in alias lookup result for {}", name);
            status = record_defer(ctx, attr, ipc::Dsn::simple("4.3.0", "alias database unavailable"));
        } else if (saved_notify & 2) {
            MsgAttr report = attr;
            report.rcpt.dsn_notify = saved_notify;
            report.dsn_envid = saved_envid;
            report.dsn_ret = saved_ret;
            report.rcpt.dsn_orcpt = saved_orcpt;
            report.rcpt.orig_addr = saved_orig;
            ipc::Dsn dsn = ipc::Dsn::simple("2.0.0", "alias expanded");
            dsn.action = canon_owner ? "delivered" : "expanded";
            record_trace(ctx, report, dsn);
        }
        return true;
    }
    return false;
}

}  // namespace pf::local
