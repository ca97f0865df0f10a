// proxymap(8) requests; see proxymap_service.h.
#include "proxymap_service.h"

#include "util/msg.h"

#include <charconv>
#include <initializer_list>
#include <string>
#include <string_view>

namespace pf::proxymap {
namespace {

using dict::ProxyStatus;
using ipc::AttrList;

long long code(ProxyStatus s) { return static_cast<long long>(s); }

// The request's attributes, checked as the reference's strict attribute
// scan: exactly "request" and the names given, each once.
struct Fields {
    std::string table;
    dict::Flags flags = 0;
    std::string key;
    std::string value;
    std::string function;
};

bool scan(const AttrList& request, std::initializer_list<std::string_view> names, Fields& out) {
    if (request.items().size() != names.size() + 1) return false;
    for (std::string_view name : names) {
        auto all = request.get_all(name);
        if (all.size() != 1) return false;
        std::string_view v = all.front();
        if (name == "table") {
            out.table = v;
        } else if (name == "flags") {
            unsigned long long n = 0;
            auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
            if (ec != std::errc() || end != v.data() + v.size() || v.empty() || n > 0xffffffffULL) return false;
            out.flags = static_cast<dict::Flags>(n);
        } else if (name == "key") {
            out.key = v;
        } else if (name == "value") {
            out.value = v;
        } else if (name == "function") {
            out.function = v;
        }
    }
    return true;
}

// Flags the request asks for, set on the open table.
void apply_request_flags(dict::Dict& table, dict::Flags request_flags, dict::Flags extra = 0) {
    table.set_flags((table.flags() & ~kRequestFlags) | (request_flags & kRequestFlags) | extra);
}

ProxyStatus error_status(const dict::Error& e) {
    return e.kind == dict::Error::Kind::retry ? ProxyStatus::retry : ProxyStatus::config;
}

}  // namespace

std::optional<AttrList> ProxyService::handle(const AttrList& request) {
    auto name = request.get("request");
    if (!name) return std::nullopt;
    if (*name == "lookup") return lookup(request);
    if (*name == "update") return change(request, true);
    if (*name == "delete") return change(request, false);
    if (*name == "sequence") return sequence(request);
    if (*name == "open") return open(request);
    util::msg_warn("unrecognized request: \"{}\", ignored", *name);
    AttrList reply;
    reply.add("status", code(ProxyStatus::bad));
    return reply;
}

AttrList ProxyService::open(const AttrList& request) {
    Fields f;
    ProxyStatus status = ProxyStatus::bad;
    dict::Flags flags = 0;
    if (scan(request, {"table", "flags"}, f)) {
        auto found = tables_.find(f.table, f.flags, true);
        status = found.status;
        if (found.table) flags = found.table->flags();
    }
    AttrList reply;
    reply.add("status", code(status));
    reply.add("flags", static_cast<long long>(flags));
    return reply;
}

AttrList ProxyService::lookup(const AttrList& request) {
    Fields f;
    ProxyStatus status = ProxyStatus::bad;
    std::string value;
    if (scan(request, {"table", "flags", "key"}, f)) {
        auto found = tables_.find(f.table, f.flags, false);
        status = found.status;
        if (found.table) {
            apply_request_flags(*found.table, f.flags);
            dict::LookupResult r = found.table->lookup(f.key);
            if (r.is_found()) {
                status = ProxyStatus::ok;
                value = r.value();
            } else if (r.is_not_found()) {
                status = ProxyStatus::nokey;
            } else {
                status = error_status(r.error());
            }
        }
    }
    AttrList reply;
    reply.add("status", code(status));
    reply.add("value", std::move(value));
    return reply;
}

AttrList ProxyService::change(const AttrList& request, bool is_update) {
    Fields f;
    ProxyStatus status = ProxyStatus::bad;
    bool scanned = is_update ? scan(request, {"table", "flags", "key", "value"}, f)
                             : scan(request, {"table", "flags", "key"}, f);
    if (!scanned) {
        status = ProxyStatus::bad;
    } else if (!tables_.writer()) {
        util::msg_warn("refusing {} {} request on non-proxywrite service", f.table, is_update ? "update" : "delete");
        status = ProxyStatus::deny;
    } else if (auto found = tables_.find(f.table, f.flags, false); !found.table) {
        status = found.status;
    } else {
        dict::Dict& table = *found.table;
        apply_request_flags(table, f.flags, is_update ? dict::kSync | dict::kDupReplace : dict::kSync);
        dict::ChangeStatus s = is_update ? table.update(f.key, f.value) : table.remove(f.key);
        if (s == dict::ChangeStatus::done) status = ProxyStatus::ok;
        else if (s == dict::ChangeStatus::not_found) status = ProxyStatus::nokey;
        else if (s == dict::ChangeStatus::restart) status = ProxyStatus::retry;
        else status = error_status(table.last_error());
    }
    AttrList reply;
    reply.add("status", code(status));
    return reply;
}

AttrList ProxyService::sequence(const AttrList& request) {
    Fields f;
    ProxyStatus status = ProxyStatus::bad;
    std::string key;
    std::string value;
    if (scan(request, {"table", "flags", "function"}, f) && (f.function == "first" || f.function == "next")) {
        auto found = tables_.find(f.table, f.flags, false);
        status = found.status;
        if (found.table) {
            apply_request_flags(*found.table, f.flags);
            auto entry = found.table->sequence(f.function == "first" ? dict::SequenceStart::first
                                                                     : dict::SequenceStart::next);
            if (entry) {
                status = ProxyStatus::ok;
                key = std::move(entry->key);
                value = std::move(entry->value);
            } else if (found.table->last_error().text.empty()) {
                status = ProxyStatus::nokey;
            } else {
                status = error_status(found.table->last_error());
            }
        }
    }
    AttrList reply;
    reply.add("status", code(status));
    reply.add("key", std::move(key));
    reply.add("value", std::move(value));
    return reply;
}

}  // namespace pf::proxymap
