// postconf(1) listings that are not parameters: -l (mailbox lock methods),
// -a/-A (SASL server/client implementations), -T (TLS library facts), -m
// (the lookup-table types built in, sorted, as the reference lists them with
// every Debian table plugin installed).
// -b/-t (bounce templates) are in postconf_bounce.cpp.
#include "postconf.h"

#include "dict/dict_registry.h"
#include "util/msg.h"

#include <openssl/crypto.h>
#include <openssl/opensslv.h>

#include <cstdio>

namespace pf::postconf {

int show_other(State& st) {
    const Options& o = st.opts;
    if (o.has(kLockTypes)) {
        std::fputs("flock\nfcntl\ndotlock\n", stdout);
        return 0;
    }
    if (o.has(kShowSaslServer)) {
        std::fputs("cyrus\ndovecot\n", stdout);
        return 0;
    }
    if (o.has(kBounceTemplates | kBounceTemplatesT)) return show_bounce_templates(st);
    if (o.has(kMapTypes)) {
        dict::register_builtin_types();
        for (const auto& type : dict::registered_types()) std::printf("%s\n", type.c_str());
        return 0;
    }
    if (o.has(kShowSaslClient)) {
        std::fputs("cyrus\n", stdout);
        return 0;
    }
    if (o.has(kTls)) {
        if (o.tls_mode == "compile-version") {
            std::printf("%s\n", OPENSSL_VERSION_TEXT);
        } else if (o.tls_mode == "run-version") {
            std::printf("%s\n", OpenSSL_version(OPENSSL_VERSION));
        } else if (o.tls_mode == "public-key-algorithms") {
            std::fputs("dsa\necdsa\nrsa\n", stdout);
        } else {
            util::msg_warn("unknown 'postconf -T' mode: {}", o.tls_mode);
            return 1;
        }
        return 0;
    }
    util::msg_fatal("this listing is not implemented yet");
}

}  // namespace pf::postconf
