// Reading a DNS response to an A query for dnsblog(8): the A records of
// the answer section with their TTLs, and for a negative answer (NXDOMAIN
// or no A record) the negative-caching TTL of the SOA record in the
// authority section (the TTL of that record itself, as the reference
// reports it); -1 when there is none.
//
// Trust: the response comes from the network; every length and offset is
// checked against the buffer before use, names are skipped by their
// labels (compression pointers included) without reading past the end.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace pf::dnsblog {

struct Answer {
    enum class Status { ok, not_found, error };
    Status status = Status::error;
    int rcode = -1;
    std::vector<std::pair<std::string, long>> addresses;  // dotted IPv4, TTL
    long negative_ttl = -1;
};

Answer parse_a_answer(std::span<const uint8_t> response);

}  // namespace pf::dnsblog
