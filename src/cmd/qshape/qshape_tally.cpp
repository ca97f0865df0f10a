// Counting and printing for qshape(1) (see qshape_tally.h). The widths and
// the order are the reference's; numbers are Perl numbers where options
// can make them fractional (-b, -t, -w), truncated where Perl truncates.
#include "cmd/qshape/qshape_tally.h"

#include "cmd/qshape/qshape_domain.h"

#include <fmt/core.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace pf::qshape {
namespace {

constexpr double kMinDomainWidth = 18;

std::size_t column_count(double bucket_count) {
    // for (i = 0; i <= bucket_count; ) ...: floor(bucket_count) + 1 columns.
    if (!(bucket_count <= kMaxColumns)) out_of_memory();
    return static_cast<std::size_t>(std::floor(bucket_count)) + 1;
}

// Perl's substr(s, offset, length) for offset and length inside or past s.
std::string substr(const std::string& s, double offset, double length) {
    const long off = static_cast<long>(offset);
    const long len = static_cast<long>(length);
    if (off < 0 || static_cast<std::size_t>(off) > s.size() || len <= 0) return {};
    return s.substr(static_cast<std::size_t>(off), static_cast<std::size_t>(len));
}

}  // namespace

void out_of_memory() {
    std::fflush(stdout);
    std::fputs("Out of memory!\n", stderr);
    std::exit(1);
}

std::size_t bucket_of(double queue_time, double now, const TallyOptions& options) {
    const double m = (now - queue_time) / (60 * options.tick);
    if (m < 1) return 1;
    const double b = options.linear ? std::trunc(m + 1) : 2 + std::trunc(std::log(m) / std::log(2.0));
    const double chosen = b < options.bucket_count ? b : options.bucket_count;
    return static_cast<std::size_t>(chosen);
}

std::vector<std::string> bucket_headings(const TallyOptions& options) {
    std::vector<std::string> heads;
    const PerlScalar tick = PerlScalar::from_double(options.tick);
    PerlScalar t;
    std::string label;
    bool labelled = false;  // t became "t+"
    for (double i = 0; i <= options.bucket_count;) {
        heads.push_back(i == 0 ? std::string("T") : labelled ? label : t.to_string());
        if (++i < options.bucket_count) {
            t = t + ((!t.is_zero() && !options.linear) ? t : tick);
        } else {
            label = (labelled ? label : t.to_string()) + "+";
            labelled = true;
        }
    }
    return heads;
}

Tally::Tally(TallyOptions options) : options_(options), columns_(column_count(options.bucket_count)) {}

std::vector<long>& Tally::row(const std::string& key) {
    auto& counts = counts_[key];
    // One spare column: with -b below 1 the reference counts young mail
    // in a bucket it never prints.
    if (counts.empty()) counts.assign(std::max<std::size_t>(columns_, 2), 0);
    return counts;
}

void Tally::add(std::size_t bucket, const std::vector<std::optional<std::string>>& addresses) {
    if (bucket >= std::max<std::size_t>(columns_, 2)) bucket = columns_ - 1;
    for (const auto& address : addresses) {
        std::vector<long>& total = row("TOTAL");
        ++total[0];
        ++total[bucket];
        std::string name = address ? lower_ascii(*address) : std::string();
        if (name.empty()) name = "MAILER-DAEMON";
        name = address_domain(name);
        bool is_new_child = false;
        do {
            std::vector<long>& counts = row(name);
            const bool seen_before = ++counts[0] > 1;
            ++counts[bucket];
            if (is_new_child) ++subdomains_[name];
            is_new_child = !seen_before;
        } while (options_.parents && parent_domain(name));
    }
}

std::string Tally::render(const std::string& clear) const {
    std::vector<long> zero(columns_, 0);
    auto total_it = counts_.find("TOTAL");
    const std::vector<long>& total = total_it != counts_.end() ? total_it->second : zero;

    const std::vector<std::string> heads = bucket_headings(options_);
    std::vector<std::size_t> widths;
    double domain_width = options_.width;
    for (std::size_t i = 0; i < heads.size(); ++i) {
        std::size_t l = fmt::format("{}", i < total.size() ? total[i] : 0).size();
        if (heads[i].size() >= l) l = heads[i].size();
        l = l > 2 ? l + 1 : 3;
        widths.push_back(l);
        domain_width -= static_cast<double>(l);
    }
    if (domain_width < kMinDomainWidth) domain_width = kMinDomainWidth;

    std::string out = clear;
    auto print_row = [&](const std::string& name, const std::vector<std::string>& cells) {
        const double len = static_cast<double>(name.size());
        if (len > domain_width) {
            if (name[0] == '.') out += ".+" + substr(name, len - domain_width + 2, domain_width - 2);
            else out += "+" + substr(name, len - domain_width + 1, domain_width - 1);
        } else {
            // Perl's " " x (width - length), including what it says of a
            // count it cannot use (-w inf, -w 1e300).
            const double pad = domain_width - len;
            if (!std::isfinite(pad)) perl_warn("Non-finite repeat count does nothing", line::kRepeat);
            else if (pad >= 9223372036854775808.0) perl_warn("Negative repeat count does nothing", line::kRepeat);
            else if (pad > kMaxColumns) out_of_memory();
            else if (pad >= 1) out.append(static_cast<std::size_t>(pad), ' ');
            out += name;
        }
        for (std::size_t i = 0; i < widths.size(); ++i) {
            const std::string cell = i < cells.size() ? cells[i] : std::string("0");
            if (cell.size() < widths[i]) out.append(widths[i] - cell.size(), ' ');
            out += cell;
        }
        out += '\n';
    };
    print_row("", heads);

    std::vector<const std::pair<const std::string, std::vector<long>>*> rows;
    rows.reserve(counts_.size() + 1);
    for (const auto& entry : counts_) rows.push_back(&entry);
    static const std::pair<const std::string, std::vector<long>> empty_total{"TOTAL", {}};
    if (total_it == counts_.end()) rows.push_back(&empty_total);
    auto count_of = [](const std::vector<long>& v) { return v.empty() ? 0L : v[0]; };
    std::sort(rows.begin(), rows.end(), [&](const auto* a, const auto* b) {
        const long ca = count_of(a->second);
        const long cb = count_of(b->second);
        if (ca != cb) return ca > cb;
        if (a->first.size() != b->first.size()) return a->first.size() < b->first.size();
        return a->first < b->first;
    });

    long shown = 0;
    for (const auto* entry : rows) {
        const std::string& name = entry->first;
        if (!name.empty() && name[0] == '.') {
            auto sub = subdomains_.find(name);
            if (sub == subdomains_.end())
                perl_warn(fmt::format("Use of uninitialized value $sub{{\"{}\"}} in numeric lt (<)", name),
                          line::kMinSubCheck);
            const double n = sub == subdomains_.end() ? 0 : static_cast<double>(sub->second);
            if (n < options_.min_subdomains) continue;
        }
        if (options_.top_domains > 0 && static_cast<double>(++shown) > options_.top_domains) break;
        // A row with counts past the last column (young mail with -b below
        // 1) has more values than the format has fields.
        for (std::size_t i = columns_; i < entry->second.size(); ++i) {
            if (entry->second[i] != 0) {
                perl_warn("Redundant argument in printf", line::kPrintf);
                break;
            }
        }
        std::vector<std::string> cells;
        cells.reserve(columns_);
        for (std::size_t i = 0; i < columns_; ++i)
            cells.push_back(fmt::format("{}", i < entry->second.size() ? entry->second[i] : 0));
        print_row(name, cells);
    }
    return out;
}

}  // namespace pf::qshape
