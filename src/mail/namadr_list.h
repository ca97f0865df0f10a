// Client lists matched by host name and address together (shared by the
// daemons that check clients: qmqpd's qmqpd_authorized_clients, smtpd's
// mynetworks, authorized XCLIENT/XFORWARD hosts and exception lists), as
// the reference's namadr lists (mynetworks, permit_mx_backup_networks, ...):
// a list of patterns (commas/blanks, braces kept), each tried against the
// client name and then its address; "!" negates (a negated match ends the
// search with "no match"); "/file/name" contributes the file's words;
// "type:table" looks the name up (and, for exact-match tables, its parent
// domains) and the address up; "name" matches the name (with parent style,
// also its subdomains; ".name" matches subdomains otherwise);
// "1.2.3.4", "[1.2.3.4]", "net/len", "[ipv6::]/len" match the address.
// A table error ends the search with an error, never "no match".
//
// Trust: patterns come from main.cf; names and addresses from the network.
#pragma once

#include "dict/dict.h"

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace pf::mail {

class NamadrList {
public:
    enum class Result { no, yes, error };
    // name: the parameter name, for diagnostics.
    NamadrList(std::string name, std::string_view patterns, bool parent_style);

    Result match(std::string_view hostname, std::string_view address) const;
    const std::string& name() const { return name_; }

private:
    struct Item {
        bool negate = false;
        std::string pattern;                 // lower case
        std::shared_ptr<dict::Dict> table;   // type:table patterns
    };
    void parse(std::string_view text, bool negate, int depth);
    int match_hostname(const Item& item, const std::string& name) const;  // 1, 0, -1 (error)
    int match_hostaddr(const Item& item, const std::string& addr) const;

    std::string name_;
    bool parent_;
    std::vector<Item> items_;
};

}  // namespace pf::mail
