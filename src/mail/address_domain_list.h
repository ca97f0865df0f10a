// Domain lists as the reference matches address domains against
// mydestination, virtual_alias_domains, virtual_mailbox_domains and
// relay_domains: a list of patterns separated by commas/blanks, each a
// literal name, "type:table" (a lookup of the name finds it), "/file/name"
// (its words are patterns), or any of these after "!" (a match of a
// negated pattern ends the search with "no match"). Names are compared
// without regard to case. Two styles, as the reference has them:
//  - exact (string lists: mydestination, virtual_*_domains): literal
//    equality or a table lookup of the whole name;
//  - hostname (domain lists: relay_domains): also ".example.com" matches
//    any subdomain, and with parent style (the list's name is in
//    parent_domain_matches_subdomains) "example.com" matches its
//    subdomains too; tables with exact keys are also asked for the parent
//    domains ("a.b.c" → ".b.c"/"b.c" → ".c"/"c").
// A table error is reported as an error (callers defer), never as "no
// match".
//
// Trust: the patterns come from main.cf (trusted); names come from mail.
#pragma once

#include "dict/dict.h"

#include <expected>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace pf::mail {

enum class DomainMatch { no, yes, error };

class DomainList {
public:
    enum class Style { exact, hostname };
    // name: the parameter name (for messages); patterns: its value.
    // Tables are opened here; an open failure is a config error (thrown as
    // std::runtime_error with the reference's text, for start-up).
    DomainList(std::string name, std::string_view patterns, Style style, bool parent_style);
    ~DomainList();
    DomainList(DomainList&&) noexcept;
    DomainList& operator=(DomainList&&) noexcept;

    DomainMatch match(std::string_view domain) const;
    bool empty() const { return items_.empty(); }
    const std::string& name() const { return name_; }

private:
    struct Item {
        bool negate = false;
        std::string literal;          // lower case
        std::shared_ptr<dict::Dict> table;
    };
    void add(std::string_view pattern, bool negate, int depth);
    DomainMatch match_item(const Item& item, const std::string& name) const;

    std::string name_;
    Style style_;
    bool parent_;
    std::vector<Item> items_;
};

// True when list_name appears in the parent_domain_matches_subdomains value.
bool parent_domain_style(std::string_view parent_domain_matches_subdomains, std::string_view list_name);

}  // namespace pf::mail
