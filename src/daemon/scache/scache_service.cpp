// The scache(8) request protocol: see scache_service.h.
#include "daemon/scache/scache_service.h"

#include "ipc/attr.h"
#include "ipc/scache_client.h"
#include "util/msg.h"

#include <fmt/core.h>

namespace pf::scache {

namespace {

using ipc::AttrList;
namespace proto = ipc::scache;

bool reply(int fd, const AttrList& attrs, int timeout) { return ipc::send_attrs(fd, attrs, timeout).has_value(); }

AttrList status_only(int status) {
    AttrList a;
    a.add("status", static_cast<long long>(status));
    return a;
}

// A positive ttl attribute, or nullopt.
std::optional<int> ttl_of(const AttrList& req) {
    auto t = req.get_number("ttl");
    if (!t || *t <= 0 || *t > (1LL << 30)) return std::nullopt;
    return static_cast<int>(*t);
}

}  // namespace

bool Service::accept(int fd) {
    buffers_[fd].clear();
    AttrList hello;
    hello.add("protocol", proto::kProtocol);
    if (!reply(fd, hello, timeout_)) {
        buffers_.erase(fd);
        return false;
    }
    return true;
}

void Service::note_sizes() {
    Sizes s = store_.sizes();
    dest_count_ = std::max(dest_count_, s.dest_count);
    endp_count_ = std::max(endp_count_, s.endp_count);
    sess_count_ = std::max(sess_count_, s.sess_count);
}

bool Service::one_request(int fd) {
    std::string& buffer = buffers_[fd];
    auto req = ipc::receive_attrs(fd, buffer, timeout_);
    if (!req) {
        if (req.error() != ipc::AttrError::eof)
            util::msg_warn("scache: error reading request: {}", ipc::attr_error_text(req.error()));
        return false;
    }
    const std::string request(req->get_or("request", ""));
    const auto now = Clock::now();
    auto cap = [&](int ttl) { return ttl > ttl_limit_ ? ttl_limit_ : ttl; };

    if (request == proto::kSaveEndp) {
        auto ttl = ttl_of(*req);
        auto label = req->get("label");
        auto prop = req->get("property");
        if (!ttl || !label || !prop) {
            util::msg_warn("scache_save_endp_service: bad or missing request parameter");
            return reply(fd, status_only(proto::kStatBad), timeout_);
        }
        AttrList go;
        go.add("dummy", "");
        if (!reply(fd, go, timeout_)) return false;
        auto got = ipc::receive_fd(fd, timeout_);
        if (!got) {
            util::msg_warn("scache_save_endp_service: unable to receive file descriptor: {}", got.error());
            (void)reply(fd, status_only(proto::kStatFail), timeout_);
            return false;
        }
        store_.save_endp(cap(*ttl), std::string(*label), std::string(*prop), std::move(*got), now);
        if (!reply(fd, status_only(proto::kStatOk), timeout_)) return false;
        note_sizes();
        return true;
    }
    if (request == proto::kSaveDest) {
        auto ttl = ttl_of(*req);
        auto labels = req->get_all("label");
        auto prop = req->get("property");
        if (!ttl || labels.size() != 2 || !prop) {
            util::msg_warn("scache_save_dest_service: bad or missing request parameter");
            return reply(fd, status_only(proto::kStatBad), timeout_);
        }
        store_.save_dest(cap(*ttl), std::string(labels[0]), std::string(*prop), std::string(labels[1]), now);
        if (!reply(fd, status_only(proto::kStatOk), timeout_)) return false;
        note_sizes();
        return true;
    }
    if (request == proto::kFindEndp || request == proto::kFindDest) {
        const bool dest = request == proto::kFindDest;
        auto label = req->get("label");
        auto answer = [&](int status, const Found* f) {
            AttrList a = status_only(status);
            if (dest) a.add("property", f ? f->dest_prop : std::string());
            a.add("property", f ? f->endp_prop : std::string());
            return reply(fd, a, timeout_);
        };
        if (!label) {
            util::msg_warn("scache_find_{}_service: bad or missing request parameter", dest ? "dest" : "endp");
            return answer(proto::kStatBad, nullptr);
        }
        auto found = dest ? store_.find_dest(std::string(*label), now) : store_.find_endp(std::string(*label), now);
        if (!found) {
            (dest ? dest_miss_ : endp_miss_)++;
            return answer(proto::kStatFail, nullptr);
        }
        (dest ? dest_hits_ : endp_hits_)++;
        if (!answer(proto::kStatOk, &*found)) return false;
        // The client's go-ahead, the descriptor, the client's confirmation;
        // our copy of the descriptor closes when found goes.
        auto go = ipc::receive_attrs(fd, buffer, timeout_);
        bool ok = go && go->get("dummy");
        if (ok) {
            auto sent = ipc::send_fd(fd, found->fd.get(), timeout_);
            ok = sent.has_value();
            if (ok) {
                auto confirm = ipc::receive_attrs(fd, buffer, timeout_);
                ok = confirm && confirm->get("dummy");
            }
        }
        if (!ok)
            util::msg_warn("scache_find_{}_service: cannot send file descriptor", dest ? "dest" : "endp");
        return ok;
    }
    util::msg_warn("unrecognized request: \"{}\", ignored", request);
    return reply(fd, status_only(proto::kStatBad), timeout_);
}

bool Service::serve(int fd) {
    if (!buffers_.count(fd)) return accept(fd);
    do {
        if (!one_request(fd)) {
            buffers_.erase(fd);
            return false;
        }
    } while (!buffers_[fd].empty());
    return true;
}

std::vector<std::string> Service::dump_statistics(std::time_t now) {
    std::vector<std::string> out;
    if (dest_hits_ || dest_miss_ || endp_hits_ || endp_miss_ || dest_count_ || endp_count_ || sess_count_) {
        std::tm tm{};
        ::localtime_r(&start_, &tm);
        char when[32];
        std::strftime(when, sizeof when, "%b %e %H:%M:%S", &tm);
        out.push_back(fmt::format("statistics: start interval {}", when));
    }
    if (dest_hits_ || dest_miss_) {
        out.push_back(fmt::format("statistics: domain lookup hits={} miss={} success={}%", dest_hits_, dest_miss_,
                                  dest_hits_ * 100 / (dest_hits_ + dest_miss_)));
        dest_hits_ = dest_miss_ = 0;
    }
    if (endp_hits_ || endp_miss_) {
        out.push_back(fmt::format("statistics: address lookup hits={} miss={} success={}%", endp_hits_, endp_miss_,
                                  endp_hits_ * 100 / (endp_hits_ + endp_miss_)));
        endp_hits_ = endp_miss_ = 0;
    }
    if (dest_count_ || endp_count_ || sess_count_) {
        out.push_back(fmt::format("statistics: max simultaneous domains={} addresses={} connection={}", dest_count_,
                                  endp_count_, sess_count_));
        dest_count_ = endp_count_ = sess_count_ = 0;
    }
    start_ = now;
    return out;
}

}  // namespace pf::scache
