// anvil's bookkeeping: per remote client ("service:address" identifier)
// the number of simultaneous connections and, within one
// anvil_rate_time_unit window, the connection, message, recipient, new TLS
// session and AUTH request rates, as the reference's anvil(8) keeps them:
// a window starts at the first event after the previous window ran out; an
// entry whose connection count reaches zero is forgotten one time unit
// later; each anvil client (an smtpd process) holds at most one connection
// at a time, and when it goes away its connection is dropped. The peaks
// since the last report are logged as "statistics: max connection rate
// 3/60s for (smtp:192.0.2.1) at Nov 28 07:00:00" and the like.
//
// Time is passed in by the caller (seconds), so tests need no clock.
// Trust: identifiers come from local clients; they are only used as keys.
#pragma once

#include <ctime>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace pf::anvil {

struct Remote {
    int count = 0;       // simultaneous connections
    int rate = 0;        // connections in this window
    int mail = 0;        // MAIL FROM in this window
    int rcpt = 0;        // RCPT TO in this window
    int ntls = 0;        // new TLS sessions in this window
    int auth = 0;        // AUTH requests in this window
    std::time_t start = 0;
    std::time_t expire_at = 0;   // when count is 0: forget after this time
};

class AnvilTable {
public:
    explicit AnvilTable(int time_unit) : time_unit_(time_unit) {}

    // A new connection from a client of anvil (client: our own handle for
    // the smtpd process talking to anvil).
    const Remote& connect(int client, std::string_view ident, std::time_t now);
    void disconnect(int client, std::string_view ident, std::time_t now);
    // The anvil client went away: its connection ends.
    void client_gone(int client, std::time_t now);

    enum class Event { mail, rcpt, newtls, auth };
    // Counts one event; returns its rate in this window.
    int event(int client, Event what, std::string_view ident, std::time_t now);
    // The new TLS session rate without counting one (newtls_report).
    int newtls_rate(std::string_view ident, std::time_t now);
    // Everything known about ident (zeros when unknown).
    Remote lookup(std::string_view ident, std::time_t now);

    // Forgets idle entries whose time is up.
    void expire(std::time_t now);
    // The "statistics: ..." lines since the last report; resets the peaks.
    std::vector<std::string> status_report();

    std::size_t size() const { return remotes_.size(); }

private:
    struct Peak {
        int value = 0;
        std::string ident;
        std::time_t when = 0;
    };
    Remote& conn_update(int client, std::string_view ident, std::time_t now);
    void drop_one(Remote& r, std::time_t now);
    void bump(int Remote::*what, Remote& r, std::time_t now);
    static void peak(Peak& p, int value, std::string_view ident, std::time_t now);

    int time_unit_;
    std::map<std::string, Remote, std::less<>> remotes_;
    std::map<int, std::string> client_remote_;   // anvil client → its current ident
    Peak conn_rate_, conn_count_, mail_rate_, rcpt_rate_, ntls_rate_, auth_rate_;
    int max_cache_ = 0;
    std::time_t max_cache_time_ = 0;
};

}  // namespace pf::anvil
