// postscreen_allowlist_interfaces (older name postscreen_whitelist_interfaces):
// the local server addresses on which postscreen may give a client
// allowlist status. A client that connects to any other address (a backup
// MX address) is logged "ALLOWLIST VETO" (or "WHITELIST VETO" per
// respectful_logging), is never passed to smtpd and gets no cache entry;
// a table error counts as no match (fail closed), as the reference's.
//
// Trust: the list comes from main.cf; the server address from the kernel
// or the upstream proxy's header (already parsed).
#include "daemon/postscreen/postscreen_state.h"

#include "mail/namadr_list.h"

#include <memory>

namespace pf::postscreen {

namespace {
std::unique_ptr<mail::NamadrList> g_interfaces;
}  // namespace

void interfaces_init(const config::Config& cfg) {
    g_interfaces = std::make_unique<mail::NamadrList>("postscreen_allowlist_interfaces",
                                                      cfg.get("postscreen_allowlist_interfaces"), false);
}

bool allowlist_interface(const std::string& server_addr) {
    if (!g_interfaces) return true;
    return g_interfaces->match(server_addr, server_addr) == mail::NamadrList::Result::yes;
}

}  // namespace pf::postscreen
