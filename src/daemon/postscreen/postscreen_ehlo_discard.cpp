// postscreen(8)'s EHLO keyword filter, as the reference's built-in SMTP
// engine applies it: postscreen_discard_ehlo_keywords is the default
// mask; postscreen_discard_ehlo_keyword_address_maps, looked up by client
// address at each EHLO, replaces it for that client (logged "[addr]port:
// discarding EHLO keywords: ..." unless the result says silent-discard,
// the reference's missing ':' included); a table error is fatal. STARTTLS
// is always discarded once TLS is on.
//
// Trust: the client address is ours (from the socket or a checked proxy
// header); table results are parsed as keyword lists only.
#include "daemon/postscreen/postscreen_state.h"

#include "mail/address_surrogate.h"
#include "mail/ehlo_mask.h"
#include "mail/maps.h"
#include "util/brace_tokens.h"
#include "util/msg.h"
#include "util/strings.h"

#include <fcntl.h>

#include <memory>

namespace pf::postscreen {

namespace {

std::unique_ptr<mail::Maps> g_maps;

}  // namespace

void ehlo_discard_init(const config::Config& cfg) {
    settings().discard_ehlo_mask = mail::ehlo_mask(cfg.get("postscreen_discard_ehlo_keywords"));
    g_maps.reset();
    const std::string title = "postscreen_discard_ehlo_keyword_address_maps";
    const std::string value = cfg.get(title);
    if (value.empty()) return;
    // A table that does not open answers every lookup with an error (the
    // reference's surrogate), which is fatal at the first EHLO.
    std::vector<dict::DictPtr> tables;
    for (const auto& word : util::split_braced_list(value)) {
        auto t = mail::open_table_or_surrogate(word, O_RDONLY, dict::kLock);
        if (!t) util::msg_fatal("{}", t.error());
        tables.push_back(std::move(*t));
    }
    g_maps = std::make_unique<mail::Maps>(mail::Maps::from_tables(title, std::move(tables)));
    g_maps->set_warn_errors(true);
}

unsigned ehlo_discard_for(Session& s) {
    const unsigned global = settings().discard_ehlo_mask;
    const unsigned tls = (s.flags & kUsingTls) ? mail::kEhloStarttls : 0u;
    unsigned mask = global;
    if (g_maps) {
        auto r = g_maps->find(s.addr);
        if (r.is_found()) {
            unsigned own = mail::ehlo_mask(r.value());
            if (own != global) {
                if (own != 0 && (own & mail::kEhloSilent) == 0)
                    util::msg_info("[{}]{}: discarding EHLO keywords: {}", s.addr, s.port, mail::str_ehlo_mask(own));
                mask = own;
            }
        } else if (r.is_error()) {
            util::msg_fatal("{} lookup error for {}", g_maps->title(), s.addr);
        }
    }
    s.ehlo_discard_mask = mask | tls;
    return s.ehlo_discard_mask;
}

}  // namespace pf::postscreen
