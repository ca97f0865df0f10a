// The scache(8) protocol on private/scache (see ipc/scache_client.h for
// the exchange): announces "connection_cache_protocol" to each client,
// then serves save_endp, find_endp, save_dest and find_dest requests
// against the Store, capping every time to live at
// connection_cache_ttl_limit, and counts what the reference's statistics
// report: destination and address lookup hits and misses and the largest
// numbers of destinations, addresses and connections held at once. A
// client may send several requests back to back (or the confirmation of a
// find together with its next request): everything buffered is served
// before the handler returns.
//
// Trust: clients are our smtp/lmtp processes (the socket is private); a
// malformed request gets status 1 and a warning, a broken exchange drops
// the client.
#pragma once

#include "daemon/scache/scache_store.h"

#include <ctime>
#include <map>
#include <string>
#include <vector>

namespace pf::scache {

class Service {
public:
    Service(int ttl_limit, int timeout) : ttl_limit_(ttl_limit), timeout_(timeout) {}

    // A new client: the protocol announcement.
    bool accept(int fd);
    // The client's socket is readable: serve what it sent; false when the
    // client is gone (the caller closes fd).
    bool serve(int fd);
    bool knows(int fd) const { return buffers_.count(fd) != 0; }

    // The statistics lines of the interval since the last dump (none when
    // nothing happened), then a new interval starts at now.
    std::vector<std::string> dump_statistics(std::time_t now);
    void start_interval(std::time_t now) { start_ = now; }

    Store& store() { return store_; }

private:
    bool one_request(int fd);
    void note_sizes();

    int ttl_limit_;
    int timeout_;
    Store store_;
    std::map<int, std::string> buffers_;
    std::time_t start_ = 0;
    long dest_hits_ = 0, dest_miss_ = 0, endp_hits_ = 0, endp_miss_ = 0;
    std::size_t dest_count_ = 0, endp_count_ = 0, sess_count_ = 0;
};

}  // namespace pf::scache
