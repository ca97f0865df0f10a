// Client side of the trivial-rewrite service (private/rewrite; the
// protocol is in services.h), for cleanup, qmgr, smtpd, sendmail helpers
// and the verify service:
//   rewrite: {request=rewrite, rule=local|remote, address=A}
//            → {flags, address=A'}     A and A' in EXTERNAL (quoted) form;
//   resolve: {request=resolve|verify, sender=S, address=A}
//            → {flags, transport, nexthop, recipient}
//            S, A and recipient in INTERNAL (unquoted) form.
// rewrite_internal() takes and returns the internal form (it quotes
// before sending and unquotes the answer, as the reference's client does).
//
// A small cache keeps the most recent answers (keyed on the whole
// request) so that a message with many recipients in one domain costs one
// round trip per distinct address; entries older than a few seconds are
// dropped because the server may have been restarted with new tables.
// The connection is kept open and reopened once on failure; a second
// failure is returned as an error (the caller defers, never bounces).
//
// Trust: the server is one of ours; a malformed reply is an error.
#pragma once

#include "ipc/attr.h"
#include "ipc/services.h"

#include <chrono>
#include <cstddef>
#include <expected>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <string>
#include <string_view>

namespace pf::ipc {

class ServiceConnection;

inline constexpr std::string_view kRewriteService = "rewrite";  // private/rewrite
inline constexpr std::string_view kRewriteRuleLocal = "local";
inline constexpr std::string_view kRewriteRuleRemote = "remote";

struct RewriteReply {
    unsigned flags = 0;       // ResolveFlags (kResolveFail/kResolveError)
    std::string address;      // external form (rewrite) / internal (rewrite_internal)
};

struct ResolveReply {
    unsigned flags = 0;       // ResolveFlags: class bits, final, routed, error, fail
    std::string transport;    // e.g. "smtp", "local", "error"
    std::string nexthop;      // e.g. "example.com", "[relay]:25", error text for "error"
    std::string recipient;    // the recipient address (internal form) after resolving

    bool is_error() const { return (flags & kResolveError) != 0; }  // bad address syntax
    bool is_fail() const { return (flags & kResolveFail) != 0; }    // try again later
    unsigned address_class() const { return flags & 0xff00u; }
};

class RewriteClient {
public:
    // How to reach the server: returns a connected socket fd (owned by the
    // caller) or an error text. The default connects to
    // <queue_directory>/private/rewrite.
    using Connector = std::function<std::expected<int, std::string>()>;

    explicit RewriteClient(std::string queue_directory, int timeout_seconds = 100);
    // For tests: a connector of one's own (e.g. a socketpair to an
    // in-process server).
    RewriteClient(Connector connector, int timeout_seconds);
    ~RewriteClient();
    RewriteClient(const RewriteClient&) = delete;
    RewriteClient& operator=(const RewriteClient&) = delete;

    // rule: "local" or "remote" (the rewrite context). External form in
    // and out.
    std::expected<RewriteReply, std::string> rewrite(std::string_view rule, std::string_view external_address);
    // The same with internal (unquoted) forms in and out.
    std::expected<RewriteReply, std::string> rewrite_internal(std::string_view rule, std::string_view internal_address);

    // Resolves a recipient (internal form) for delivery; sender (internal,
    // may be empty) selects sender-dependent relayhost/default transport.
    std::expected<ResolveReply, std::string> resolve(std::string_view sender, std::string_view internal_address);
    // The same for address verification (the reference's "verify" request:
    // the same routing, asked for probes).
    std::expected<ResolveReply, std::string> verify(std::string_view sender, std::string_view internal_address);

    // Cache tuning (defaults: 100 entries, 30 s); 0 entries disables it.
    void set_cache_limits(std::size_t entries, std::chrono::seconds max_age);
    void clear_cache();
    std::size_t cache_hits() const { return hits_; }

private:
    std::expected<AttrList, std::string> call(const AttrList& request);
    std::expected<ResolveReply, std::string> resolve_request(std::string_view request, std::string_view sender,
                                                             std::string_view address);
    const AttrList* cache_find(const std::string& key);
    void cache_store(std::string key, AttrList reply);

    Connector connector_;
    int timeout_;
    std::unique_ptr<ServiceConnection> conn_;
    struct CacheEntry {
        AttrList reply;
        std::chrono::steady_clock::time_point when;
        std::list<std::string>::iterator order;
    };
    std::map<std::string, CacheEntry, std::less<>> cache_;
    std::list<std::string> order_;  // most recent first
    std::size_t cache_limit_ = 100;
    std::chrono::seconds cache_age_{30};
    std::size_t hits_ = 0;
};

// Encoding helpers shared with the server (trivial-rewrite) so both sides
// agree on attribute names.
namespace rewrite_attr {
inline constexpr std::string_view kRequest = "request";
inline constexpr std::string_view kRule = "rule";
inline constexpr std::string_view kAddress = "address";
inline constexpr std::string_view kSender = "sender";
inline constexpr std::string_view kFlags = "flags";
inline constexpr std::string_view kTransport = "transport";
inline constexpr std::string_view kNexthop = "nexthop";
inline constexpr std::string_view kRecipient = "recipient";
inline constexpr std::string_view kRequestRewrite = "rewrite";
inline constexpr std::string_view kRequestResolve = "resolve";
inline constexpr std::string_view kRequestVerify = "verify";
}  // namespace rewrite_attr

}  // namespace pf::ipc
