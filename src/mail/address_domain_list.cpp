// Domain-list matching (the reference's string and domain lists); see
// address_domain_list.h.
#include "mail/address_domain_list.h"

#include "dict/dict_registry.h"
#include "dict/dict_utf8.h"
#include "mail/address_fold.h"
#include "mail/address_surrogate.h"
#include "util/brace_tokens.h"
#include "util/msg.h"

#include <fcntl.h>

#include <fstream>
#include <sstream>
#include <stdexcept>

namespace pf::mail {

using util::msg_warn;
using util::msg_info;
using util::msg_panic;

namespace {

// Case folding of patterns and names: full Unicode folding with UTF-8
// support on (smtputf8_enable), ASCII lower case otherwise.
std::string fold(std::string_view text) {
    return dict::utf8_support() ? dict::casefold_utf8(text) : lowercase_ascii(text);
}

bool is_table(std::string_view p) {
    if (p.empty() || p.front() == '[') return false;
    auto colon = p.find(':');
    return colon != std::string_view::npos && colon > 0;
}

}  // namespace

bool parent_domain_style(std::string_view value, std::string_view list_name) {
    for (const auto& w : util::split_braced_list(value))
        if (w == list_name) return true;
    return false;
}

DomainList::DomainList(std::string name, std::string_view patterns, Style style, bool parent_style)
    : name_(std::move(name)), style_(style), parent_(parent_style) {
    for (const auto& w : util::split_braced_list(patterns)) add(w, false, 0);
}

DomainList::~DomainList() = default;
DomainList::DomainList(DomainList&&) noexcept = default;
DomainList& DomainList::operator=(DomainList&&) noexcept = default;

void DomainList::add(std::string_view pattern, bool negate, int depth) {
    while (!pattern.empty() && pattern.front() == '!') {
        negate = !negate;
        pattern.remove_prefix(1);
    }
    if (pattern.empty()) return;
    if (pattern.front() == '/' && depth < 10) {
        std::ifstream in{std::string(pattern)};
        if (!in) throw std::runtime_error(fmt::format("open file {}: No such file or directory", pattern));
        std::string line;
        while (std::getline(in, line)) {
            auto hash = line.find('#');
            if (hash != std::string::npos) line.resize(hash);
            for (const auto& w : util::split_braced_list(line)) add(w, negate, depth + 1);
        }
        return;
    }
    Item item;
    item.negate = negate;
    if (is_table(pattern)) {
        dict::register_builtin_types();
        // As the reference's match lists: no key folding by the table (the
        // name is folded before the search), UTF-8 checks when enabled.
        auto opened = open_table_or_surrogate(pattern, O_RDONLY, dict::kLock | dict::kUtf8Request);
        if (!opened) throw std::runtime_error(opened.error());
        item.table = std::shared_ptr<dict::Dict>(std::move(*opened));
    } else {
        item.literal = fold(pattern);
    }
    items_.push_back(std::move(item));
}

DomainMatch DomainList::match_item(const Item& item, const std::string& name) const {
    if (item.table) {
        auto& d = *item.table;
        const bool fixed = (d.flags() & dict::kFixed) != 0;
        std::size_t pos = 0;
        while (true) {
            std::string_view entry = std::string_view(name).substr(pos);
            if (entry.empty()) break;
            if (pos == 0 || (style_ == Style::hostname && fixed)) {
                auto r = d.lookup(entry);
                if (r.is_found()) return DomainMatch::yes;
                if (r.is_error()) {
                    msg_warn("{}: {}:{}: table lookup problem", name_, d.type(), d.name());
                    return DomainMatch::error;
                }
            }
            if (style_ != Style::hostname) break;
            auto next = name.find('.', pos + 1);
            if (next == std::string::npos) break;
            pos = parent_ ? next + 1 : next;
        }
        return DomainMatch::no;
    }
    const std::string& pat = item.literal;
    if (name == pat) return DomainMatch::yes;
    if (style_ == Style::hostname && name.size() > pat.size()) {
        std::size_t off = name.size() - pat.size();
        if (name.compare(off, pat.size(), pat) == 0) {
            if (parent_) {
                if (name[off - 1] == '.') return DomainMatch::yes;
            } else if (!pat.empty() && pat.front() == '.') {
                return DomainMatch::yes;
            }
        }
    }
    return DomainMatch::no;
}

DomainMatch DomainList::match(std::string_view domain) const {
    std::string name = fold(domain);
    for (const auto& item : items_) {
        auto m = match_item(item, name);
        if (m == DomainMatch::error) return m;
        if (m == DomainMatch::yes) return item.negate ? DomainMatch::no : DomainMatch::yes;
    }
    return DomainMatch::no;
}

}  // namespace pf::mail
