// flush(8): the fast-flush server (master.cf "flush unix n - y 1000? 0
// flush"), one client at a time under the single-server skeleton. It
// keeps per-destination logs of deferred mail for the destinations in
// fast_flush_domains (flush_logs.h) and answers the requests of
// flush_client.h (flush_service.h): agents add queue IDs when they defer
// a recipient, postqueue -s / sendmail -qR / ETRN send a site, postqueue
// -i sends one file, postqueue -f and master's wakeup refresh the logs.
// A wakeup from master is the single byte "W" (with or without a NUL)
// instead of an attribute list. Nothing is logged except problems, as the
// reference.
//
// Privileges: none beyond mail_owner; it may run chrooted in
// queue_directory (every path it uses is relative to it). Tables of
// fast_flush_domains are opened before the chroot.
// Trust: see flush_service.h; the client gets a status and nothing else.
#include "config/mail_params.h"
#include "daemon/flush/flush_logs.h"
#include "daemon/flush/flush_service.h"
#include "ipc/mail_server.h"
#include "ipc/service_client.h"
#include "mail/address_domain_list.h"
#include "queue/queue_file.h"
#include "util/msg.h"

#include <cerrno>
#include <memory>
#include <poll.h>
#include <stdexcept>
#include <string>
#include <unistd.h>

namespace {

using namespace pf;

struct State {
    std::unique_ptr<mail::DomainList> domains;
    std::unique_ptr<flush::FlushLogs> logs;
    std::unique_ptr<flush::FlushService> service;
    std::string qmgr_service = "qmgr";
    int ipc_timeout = 3600;
};

State& state() {
    static State s;
    return s;
}

// The first bytes a client sends; false on timeout, error or EOF.
bool read_some(int fd, std::string& buffer, int timeout) {
    pollfd p{fd, POLLIN, 0};
    int n;
    do {
        n = ::poll(&p, 1, timeout > 0 ? timeout * 1000 : -1);
    } while (n < 0 && errno == EINTR);
    if (n <= 0) return false;
    char chunk[512];
    ssize_t got;
    do {
        got = ::read(fd, chunk, sizeof chunk);
    } while (got < 0 && errno == EINTR);
    if (got <= 0) return false;
    buffer.append(chunk, static_cast<std::size_t>(got));
    return true;
}

bool flush_service(ipc::ServerContext&, int fd) {
    State& st = state();
    std::string buffer;
    if (!read_some(fd, buffer, st.ipc_timeout)) return false;
    // A wakeup is "W", from our master (which then closes) or with a NUL
    // after it, as the reference's master writes it (which then waits for
    // the server to close): never the start of an attribute list, whose
    // names are lower case. Nobody waits for an answer.
    if (buffer[0] == 'W') {
        st.service->run_refresh(st.service->wakeup().refresh_max_age.value_or(0));
        return false;
    }
    auto request = ipc::receive_attrs(fd, buffer, st.ipc_timeout);
    flush::FlushOutcome outcome;
    if (request) {
        outcome = st.service->handle(*request);
    } else if (request.error() == ipc::AttrError::eof) {
        return false;
    } else if (request.error() == ipc::AttrError::timeout) {
        util::msg_warn("timeout while waiting for data from client");
        return false;
    }
    (void)ipc::send_attrs(fd, ipc::AttrList{{"status", std::to_string(static_cast<int>(outcome.status))}},
                          st.ipc_timeout);
    if (outcome.refresh_max_age) st.service->run_refresh(*outcome.refresh_max_age);
    return false;
}

}  // namespace

int main(int argc, char** argv) {
    ipc::ServerHooks hooks;
    hooks.pre_init = [](ipc::ServerContext& ctx) {
        State& st = state();
        const auto& c = ctx.config;
        try {
            st.domains = std::make_unique<mail::DomainList>(
                "fast_flush_domains", c.get("fast_flush_domains"), mail::DomainList::Style::hostname,
                mail::parent_domain_style(c.get("parent_domain_matches_subdomains"), "fast_flush_domains"));
        } catch (const std::exception& e) {
            util::msg_fatal("{}", e.what());
        }
        st.qmgr_service = c.get("queue_service_name");
        st.ipc_timeout = config::parse_time_value(c.get("ipc_timeout"), 's').value_or(3600);
        flush::FlushTimes times;
        auto refresh = config::parse_time_value(c.get("fast_flush_refresh_time"), 'h');
        if (!refresh || *refresh <= 0)
            util::msg_fatal("invalid fast_flush_refresh_time parameter value: \"{}\"", c.get("fast_flush_refresh_time"));
        auto purge = config::parse_time_value(c.get("fast_flush_purge_time"), 'd');
        if (!purge || *purge <= 0)
            util::msg_fatal("invalid fast_flush_purge_time parameter value: \"{}\"", c.get("fast_flush_purge_time"));
        times.refresh_time = *refresh;
        times.purge_time = *purge;
        auto layout = queue::QueueLayout::from_config(c);
        auto trigger = [](std::string_view bytes) {
            State& s = state();
            auto sent = ipc::send_trigger(".", "public", s.qmgr_service, bytes, s.ipc_timeout);
            if (!sent && util::msg_verbose) util::msg_info("trigger public/{}: {}", s.qmgr_service, sent.error());
        };
        st.logs = std::make_unique<flush::FlushLogs>(std::move(layout), true, trigger);
        st.service = std::make_unique<flush::FlushService>(
            *st.logs, [](std::string_view site) { return state().domains->match(site); }, times);
    };
    return ipc::run_single_server(argc, argv, std::move(hooks), flush_service);
}
