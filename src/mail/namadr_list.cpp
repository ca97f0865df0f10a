// Host name and address lists (mynetworks and friends); see
// namadr_list.h.
#include "mail/namadr_list.h"

#include "dict/cidr_match.h"
#include "mail/address_fold.h"
#include "mail/address_surrogate.h"
#include "util/brace_tokens.h"
#include "util/msg.h"

#include <fcntl.h>

#include <fstream>

namespace pf::mail {

namespace {

bool is_table_pattern(std::string_view p) {
    return !p.empty() && p.front() != '[' && p.find(':') != std::string_view::npos;
}

constexpr std::string_view kV4Chars = "01234567890.";
constexpr std::string_view kV6Chars = "01234567890.abcdefABCDEF:";

}  // namespace

NamadrList::NamadrList(std::string name, std::string_view patterns, bool parent_style)
    : name_(std::move(name)), parent_(parent_style) {
    parse(patterns, false, 0);
}

void NamadrList::parse(std::string_view text, bool negate, int depth) {
    for (const auto& word : util::split_braced_list(text)) {
        std::string_view item = word;
        if (item.front() == '#') {
            util::msg_warn("{}: comment at end of line is not supported: {}", name_, item);
            break;
        }
        bool neg = negate;
        while (!item.empty() && item.front() == '!') {
            neg = !neg;
            item.remove_prefix(1);
        }
        if (item.empty()) util::msg_fatal("{}: no pattern after '!'", name_);
        if (item.front() == '/' && depth < 10) {
            std::ifstream in{std::string(item)};
            if (!in) {
                util::msg_warn("{}: open file {}: No such file or directory", name_, item);
                continue;
            }
            std::string line;
            while (std::getline(in, line))
                if (!line.empty() && line.front() != '#') parse(line, neg, depth + 1);
            continue;
        }
        Item it;
        it.negate = neg;
        if (is_table_pattern(item)) {
            auto t = open_table_or_surrogate(item, O_RDONLY, dict::kLock | dict::kUtf8Request);
            if (!t) util::msg_fatal("{}", t.error());
            it.table = std::move(*t);
            it.pattern = std::string(item);
        } else {
            it.pattern = lowercase_ascii(item);
        }
        items_.push_back(std::move(it));
    }
}

int NamadrList::match_hostname(const Item& item, const std::string& name) const {
    if (item.table) {
        bool fixed = (item.table->flags() & dict::kFixed) != 0;
        std::string_view entry = name;
        while (!entry.empty()) {
            auto r = item.table->lookup(entry);
            if (r.is_found()) return 1;
            if (r.is_error()) {
                util::msg_warn("{}: {}: table lookup problem", name_, item.pattern);
                return -1;
            }
            if (!fixed) return 0;
            auto dot = entry.find('.', 1);
            if (dot == std::string_view::npos) break;
            entry.remove_prefix(parent_ ? dot + 1 : dot);
        }
        return 0;
    }
    const std::string& p = item.pattern;
    if (name == p) return 1;
    if (p.size() < name.size()) {
        std::string_view tail = std::string_view(name).substr(name.size() - p.size());
        if (parent_) {
            if (name[name.size() - p.size() - 1] == '.' && tail == p) return 1;
        } else if (p.front() == '.' && tail == p) {
            return 1;
        }
    }
    return 0;
}

int NamadrList::match_hostaddr(const Item& item, const std::string& addr) const {
    if (addr.find_first_not_of(kV6Chars) != std::string::npos) return 0;
    if (item.table) {
        auto r = item.table->lookup(addr);
        if (r.is_found()) return 1;
        if (r.is_error()) {
            util::msg_warn("{}: {}: table lookup problem", name_, item.pattern);
            return -1;
        }
        return 0;
    }
    const std::string& p = item.pattern;
    if (p.front() != '[') {
        if (addr == p) return 1;
    } else if (p.size() == addr.size() + 2 && p.compare(1, addr.size(), addr) == 0 && p.back() == ']') {
        return 1;
    }
    bool addr_v6 = addr.find(':') != std::string::npos;
    bool pat_v6 = p.find(':') != std::string::npos;
    if (addr_v6 != pat_v6 || p.find_first_of(":/") == std::string::npos ||
        p.find_first_not_of(kV4Chars) == std::string::npos ||
        p.find_first_not_of(std::string(kV6Chars) + "[]/") != std::string::npos)
        return 0;
    auto pattern = dict::parse_cidr_pattern(p);
    if (!pattern) {
        util::msg_warn("{}: {}", name_, pattern.error());
        return -1;
    }
    auto a = dict::parse_cidr_address(addr);
    return a && dict::cidr_matches(*pattern, *a) ? 1 : 0;
}

NamadrList::Result NamadrList::match(std::string_view hostname, std::string_view address) const {
    std::string name = lowercase_ascii(hostname);
    std::string addr = lowercase_ascii(address);
    for (const auto& item : items_) {
        int m = match_hostname(item, name);
        if (m < 0) return Result::error;
        if (m == 0) {
            m = match_hostaddr(item, addr);
            if (m < 0) return Result::error;
        }
        if (m > 0) return item.negate ? Result::no : Result::yes;
    }
    return Result::no;
}

}  // namespace pf::mail
