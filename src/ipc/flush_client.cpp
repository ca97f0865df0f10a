// Client side of the fast-flush service (flush_client.h), with the
// reference's client-side policy: add and send_site ask the service only
// for destinations that fast_flush_domains lists (any other site is
// "unknown" without a connection), refresh and purge only when
// fast_flush_domains is not empty, send_file always. The request goes to
// public/$flush_service_name with a limit of $ipc_timeout.
//
// Trust: site and queue ID are forwarded as given (the daemon checks
// them); the domain list comes from main.cf. A table error in the list
// is a failure ("try again"), never "not eligible". With
// compatibility_level below 2 and neither relay_domains nor
// fast_flush_domains set, each eligible use is noted as the reference
// does ("using backwards-compatible default setting ...").
#include "ipc/flush_client.h"

#include "config/config.h"
#include "config/expand.h"
#include "config/mail_params.h"
#include "config/main_cf.h"
#include "ipc/service_client.h"
#include "mail/address_domain_list.h"
#include "util/msg.h"

#include <memory>
#include <stdexcept>
#include <string>

namespace pf::ipc {

namespace {

// The fast_flush_domains list of the last configuration asked about: made
// once per process (its tables stay open), again when the value changes.
struct CachedList {
    const config::Config* config = nullptr;
    std::string patterns;
    std::string parents;
    std::unique_ptr<mail::DomainList> list;
    bool broken = false;  // a table could not be opened
    bool compat_note = false;  // eligible only through the pre-2 default
};

// Whether fast_flush_domains has its value only from the compatibility
// default relay_domains = $mydestination (compatibility_level below 2,
// neither parameter set): the reference then notes each use.
bool compat_default(const config::Config& config) {
    auto below = config::compare_compat_levels(config.get("compatibility_level"), "2");
    if (!below || *below >= 0) return false;
    auto is_set = [&](std::string_view name) {
        return config.main_cf().find(name) != nullptr || config.overrides().find(name) != config.overrides().end();
    };
    return !is_set("relay_domains") && !is_set("fast_flush_domains");
}

CachedList& cached_list(const config::Config& config) {
    static CachedList cache;
    std::string patterns = config.get("fast_flush_domains");
    std::string parents = config.get("parent_domain_matches_subdomains");
    bool note = compat_default(config);
    if (cache.config != &config || cache.patterns != patterns || cache.parents != parents ||
        cache.compat_note != note) {
        cache.config = &config;
        cache.patterns = patterns;
        cache.parents = parents;
        cache.list.reset();
        cache.broken = false;
        cache.compat_note = note;
        try {
            cache.list = std::make_unique<mail::DomainList>(
                "fast_flush_domains", patterns, mail::DomainList::Style::hostname,
                mail::parent_domain_style(parents, "fast_flush_domains"));
        } catch (const std::exception& e) {
            util::msg_warn("{}", e.what());
            cache.broken = true;
        }
    }
    return cache;
}

// Whether site may have a fast-flush log: kOk (yes), kUnknown, kFail.
// purpose completes the compatibility note ("to flush mail").
FlushStatus eligible(const config::Config& config, std::string_view site, std::string_view purpose) {
    CachedList& c = cached_list(config);
    if (c.broken) return FlushStatus::kFail;
    switch (c.list->match(site)) {
    case mail::DomainMatch::yes:
        if (c.compat_note)
            util::msg_info("using backwards-compatible default setting relay_domains=$mydestination to {} "
                           "for domain \"{}\"", purpose, site);
        return FlushStatus::kOk;
    case mail::DomainMatch::no:
        return FlushStatus::kUnknown;
    case mail::DomainMatch::error:
        break;
    }
    return FlushStatus::kFail;
}

// One request to the service and its status; kFail when the service
// cannot be reached or answers nonsense.
FlushStatus call(const config::Config& config, const AttrList& request) {
    int timeout = config::parse_time_value(config.get("ipc_timeout"), 's').value_or(3600);
    const std::string service = config.get("flush_service_name");
    auto conn = connect_service(config.get("queue_directory"), "public", service, timeout);
    if (!conn) {
        // The reference's connect warning, with the service's relative path.
        util::msg_warn("connect to public/{}: {}", service, conn.error());
        return FlushStatus::kFail;
    }
    std::expected<AttrList, AttrError> reply = std::unexpected(AttrError::io);
    if (conn->send(request, timeout)) reply = conn->receive(timeout);
    if (!reply) {
        if (util::msg_verbose) util::msg_info("flush request: {}", attr_error_text(reply.error()));
        return FlushStatus::kFail;
    }
    auto status = reply->get_number("status");
    if (!status || *status < 0 || *status > static_cast<int>(FlushStatus::kDeny)) return FlushStatus::kFail;
    return static_cast<FlushStatus>(*status);
}

FlushStatus verbose_result(std::string_view what, FlushStatus status) {
    if (util::msg_verbose) util::msg_info("{}: status {}", what, static_cast<int>(status));
    return status;
}

}  // namespace

void flush_init(const config::Config& config) { (void)cached_list(config); }

FlushStatus flush_add(const config::Config& config, std::string_view site, std::string_view queue_id) {
    if (util::msg_verbose) util::msg_info("flush_add: site {} id {}", site, queue_id);
    FlushStatus ok = eligible(config, site, "update fast-flush logfile");
    if (ok != FlushStatus::kOk) return verbose_result("flush_add", ok);
    return verbose_result("flush_add", call(config, AttrList{{"request", "add"},
                                                             {"site", std::string(site)},
                                                             {"queue_id", std::string(queue_id)}}));
}

FlushStatus flush_send_site(const config::Config& config, std::string_view site) {
    if (util::msg_verbose) util::msg_info("flush_send_site: site {}", site);
    FlushStatus ok = eligible(config, site, "flush mail");
    if (ok != FlushStatus::kOk) return verbose_result("flush_send_site", ok);
    return verbose_result("flush_send_site",
                          call(config, AttrList{{"request", "send_site"}, {"site", std::string(site)}}));
}

FlushStatus flush_send_file(const config::Config& config, std::string_view queue_id) {
    if (util::msg_verbose) util::msg_info("flush_send_file: queue_id {}", queue_id);
    return verbose_result("flush_send_file",
                          call(config, AttrList{{"request", "send_file"}, {"queue_id", std::string(queue_id)}}));
}

FlushStatus flush_refresh(const config::Config& config) {
    if (config.get("fast_flush_domains").empty()) return FlushStatus::kUnknown;
    return verbose_result("flush_refresh", call(config, AttrList{{"request", "refresh"}}));
}

FlushStatus flush_purge(const config::Config& config) {
    if (config.get("fast_flush_domains").empty()) return FlushStatus::kUnknown;
    return verbose_result("flush_purge", call(config, AttrList{{"request", "purge"}}));
}

}  // namespace pf::ipc
