// The connection cache itself, as the reference's scache(8) keeps it: a
// destination label (a next-hop such as "smtp\n[filter.example]\n...")
// is bound to one or more endpoint labels (a server address and port),
// and an endpoint label holds one or more open connections (descriptors
// with a property string: what the client needs to resume the session).
// Every binding and every connection has its own time to live; a lookup
// hands the oldest matching connection over and forgets it (the caller
// owns the descriptor from then on). Saving a destination→endpoint binding
// that exists already only renews its time to live.
//
// No I/O and no timers: the daemon calls expire() from its timer and
// gives the current time to every call (unit-testable).
//
// Trust: labels and properties come from our smtp/lmtp client; they are
// opaque strings here.
#pragma once

#include "ipc/fd_passing.h"

#include <chrono>
#include <list>
#include <map>
#include <optional>
#include <string>

namespace pf::scache {

using Clock = std::chrono::steady_clock;

struct Sizes {
    std::size_t dest_count = 0;   // destination labels with a binding
    std::size_t endp_count = 0;   // endpoint labels with a connection
    std::size_t sess_count = 0;   // connections held
};

struct Found {
    ipc::UniqueFd fd;
    std::string dest_prop;
    std::string endp_prop;
};

class Store {
public:
    void save_endp(int ttl, const std::string& endp_label, const std::string& endp_prop, ipc::UniqueFd fd,
                   Clock::time_point now);
    std::optional<Found> find_endp(const std::string& endp_label, Clock::time_point now);
    void save_dest(int ttl, const std::string& dest_label, const std::string& dest_prop,
                   const std::string& endp_label, Clock::time_point now);
    // The first destination binding (oldest first) whose endpoint still
    // has a connection.
    std::optional<Found> find_dest(const std::string& dest_label, Clock::time_point now);

    // Drops (closes) what has outlived its time to live.
    void expire(Clock::time_point now);
    // When the next entry expires (nullopt: nothing held).
    std::optional<Clock::time_point> next_expiry() const;
    Sizes sizes() const;

private:
    struct Session {
        ipc::UniqueFd fd;
        std::string prop;
        Clock::time_point expires;
    };
    struct Binding {
        std::string endp_label;
        std::string prop;
        Clock::time_point expires;
    };
    std::map<std::string, std::list<Session>> endpoints_;
    std::map<std::string, std::list<Binding>> destinations_;
};

}  // namespace pf::scache
