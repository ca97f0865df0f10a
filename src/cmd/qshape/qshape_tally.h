// qshape(1)'s table: counts per domain and age bucket, the bucket
// arithmetic, and the printed report, as the reference prints it: a
// heading row ("T", then each bucket's upper age limit in minutes, the
// last one with "+"), then TOTAL and one row per domain, most addresses
// first, shorter names first among equal counts; columns right-aligned,
// each as wide as its heading or its TOTAL (at least 3, one blank before);
// domain names right-aligned in what the terminal width leaves (at least
// 18), cut on the left to "+" (".+" for a parent domain) when too long.
// Where the reference leaves the order to its hash (same count, same
// length) we sort by name.
//
// Trust: domain names come from queue files; they are printed as they are.
#pragma once

#include "cmd/qshape/qshape_perl.h"

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace pf::qshape {

struct TallyOptions {
    bool sender = false;       // -s
    bool parents = false;      // -p
    bool linear = false;       // -l
    double bucket_count = 10;  // -b (a Perl number: may be fractional)
    double tick = 5;           // -t, minutes
    double width = 80;         // -w
    double min_subdomains = 5; // -m
    double top_domains = 0;    // -n on a terminal (20 by default), else 0: all
};

// Perl runs out of memory (or never ends) building rows this wide: -b or
// -w of ten million and more end with its message and status 1.
inline constexpr double kMaxColumns = 1e7;
[[noreturn]] void out_of_memory();

// The bucket of a message queued at queue_time (seconds) seen at now:
// 1 for less than one tick, then 2 + floor(log2(age/tick)) (or, linear,
// 1 + floor(age/tick)), at most bucket_count.
std::size_t bucket_of(double queue_time, double now, const TallyOptions& options);

// The heading labels, "T" first.
std::vector<std::string> bucket_headings(const TallyOptions& options);

class Tally {
public:
    explicit Tally(TallyOptions options);

    // Counts one message's addresses (lower-cased here) in its bucket.
    // An undefined address (a sender the reference did not find) counts
    // as "".
    void add(std::size_t bucket, const std::vector<std::optional<std::string>>& addresses);

    // The report; clear is written first (the terminal's clear-screen
    // sequence for intermediate results, or nothing).
    std::string render(const std::string& clear) const;

private:
    std::vector<long>& row(const std::string& key);

    TallyOptions options_;
    std::size_t columns_;  // buckets 0 (total) .. bucket_count
    std::unordered_map<std::string, std::vector<long>> counts_;
    std::unordered_map<std::string, long> subdomains_;
};

}  // namespace pf::qshape
