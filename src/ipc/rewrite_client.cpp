// Client of the trivial-rewrite service with a small answer cache; see
// rewrite_client.h.
#include "ipc/rewrite_client.h"

#include "ipc/service_client.h"
#include "mail/address_quote.h"

#include <unistd.h>

namespace pf::ipc {

namespace a = rewrite_attr;

RewriteClient::RewriteClient(std::string queue_directory, int timeout_seconds)
    : timeout_(timeout_seconds) {
    connector_ = [dir = std::move(queue_directory), timeout_seconds]() -> std::expected<int, std::string> {
        auto c = connect_service(dir, "private", kRewriteService, timeout_seconds);
        if (!c) return std::unexpected(c.error());
        // Take the fd out of the connection object.
        int fd = ::dup(c->fd());
        if (fd < 0) return std::unexpected(std::string("dup: failed"));
        return fd;
    };
}

RewriteClient::RewriteClient(Connector connector, int timeout_seconds)
    : connector_(std::move(connector)), timeout_(timeout_seconds) {}

RewriteClient::~RewriteClient() = default;

void RewriteClient::set_cache_limits(std::size_t entries, std::chrono::seconds max_age) {
    cache_limit_ = entries;
    cache_age_ = max_age;
    clear_cache();
}

void RewriteClient::clear_cache() {
    cache_.clear();
    order_.clear();
}

const AttrList* RewriteClient::cache_find(const std::string& key) {
    if (cache_limit_ == 0) return nullptr;
    auto it = cache_.find(key);
    if (it == cache_.end()) return nullptr;
    if (std::chrono::steady_clock::now() - it->second.when > cache_age_) {
        order_.erase(it->second.order);
        cache_.erase(it);
        return nullptr;
    }
    order_.splice(order_.begin(), order_, it->second.order);
    ++hits_;
    return &it->second.reply;
}

void RewriteClient::cache_store(std::string key, AttrList reply) {
    if (cache_limit_ == 0) return;
    if (auto it = cache_.find(key); it != cache_.end()) {
        order_.erase(it->second.order);
        cache_.erase(it);
    }
    while (cache_.size() >= cache_limit_ && !order_.empty()) {
        cache_.erase(order_.back());
        order_.pop_back();
    }
    order_.push_front(key);
    cache_.emplace(std::move(key), CacheEntry{std::move(reply), std::chrono::steady_clock::now(), order_.begin()});
}

std::expected<AttrList, std::string> RewriteClient::call(const AttrList& request) {
    std::string last_error;
    for (int attempt = 0; attempt < 2; ++attempt) {
        if (!conn_ || !conn_->is_open()) {
            auto fd = connector_();
            if (!fd) {
                last_error = fd.error();
                conn_.reset();
                continue;
            }
            conn_ = std::make_unique<ServiceConnection>(*fd);
        }
        if (auto sent = conn_->send(request, timeout_); !sent) {
            last_error = std::string(attr_error_text(sent.error()));
            conn_.reset();
            continue;
        }
        auto reply = conn_->receive(timeout_);
        if (!reply) {
            last_error = std::string(attr_error_text(reply.error()));
            conn_.reset();
            continue;
        }
        return std::move(*reply);
    }
    return std::unexpected("problem talking to service " + std::string(kRewriteService) + ": " + last_error);
}

std::expected<RewriteReply, std::string> RewriteClient::rewrite(std::string_view rule, std::string_view address) {
    std::string key = "w\n" + std::string(rule) + "\n" + std::string(address);
    const AttrList* reply = cache_find(key);
    AttrList fresh;
    if (!reply) {
        AttrList req;
        req.add(std::string(a::kRequest), std::string(a::kRequestRewrite));
        req.add(std::string(a::kRule), std::string(rule));
        req.add(std::string(a::kAddress), std::string(address));
        auto r = call(req);
        if (!r) return std::unexpected(r.error());
        if (!r->get(a::kAddress) || !r->get_number(a::kFlags))
            return std::unexpected(std::string("malformed reply from service rewrite"));
        fresh = *r;
        cache_store(key, fresh);
        reply = &fresh;
    }
    RewriteReply out;
    out.flags = static_cast<unsigned>(reply->get_number(a::kFlags).value_or(0));
    out.address = std::string(*reply->get(a::kAddress));
    return out;
}

std::expected<RewriteReply, std::string> RewriteClient::rewrite_internal(std::string_view rule,
                                                                         std::string_view internal_address) {
    auto r = rewrite(rule, mail::quote_822_local(internal_address));
    if (!r) return r;
    r->address = mail::unquote_822_local(r->address);
    return r;
}

namespace {
std::expected<ResolveReply, std::string> to_resolve(const AttrList& reply) {
    auto flags = reply.get_number(a::kFlags);
    auto t = reply.get(a::kTransport), n = reply.get(a::kNexthop), r = reply.get(a::kRecipient);
    if (!flags || !t || !n || !r) return std::unexpected(std::string("malformed reply from service rewrite"));
    return ResolveReply{static_cast<unsigned>(*flags), std::string(*t), std::string(*n), std::string(*r)};
}
}  // namespace

std::expected<ResolveReply, std::string> RewriteClient::resolve_request(std::string_view request,
                                                                        std::string_view sender,
                                                                        std::string_view address) {
    std::string key = std::string(request) + "\n" + std::string(sender) + "\n" + std::string(address);
    if (const AttrList* hit = cache_find(key)) return to_resolve(*hit);
    AttrList req;
    req.add(std::string(a::kRequest), std::string(request));
    req.add(std::string(a::kSender), std::string(sender));
    req.add(std::string(a::kAddress), std::string(address));
    auto r = call(req);
    if (!r) return std::unexpected(r.error());
    auto out = to_resolve(*r);
    // A temporary failure is not worth remembering.
    if (out && !out->is_fail()) cache_store(std::move(key), std::move(*r));
    return out;
}

std::expected<ResolveReply, std::string> RewriteClient::resolve(std::string_view sender, std::string_view address) {
    return resolve_request(a::kRequestResolve, sender, address);
}

std::expected<ResolveReply, std::string> RewriteClient::verify(std::string_view sender, std::string_view address) {
    return resolve_request(a::kRequestVerify, sender, address);
}

}  // namespace pf::ipc
