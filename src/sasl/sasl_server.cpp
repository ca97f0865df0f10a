// The choice of SASL server back end (smtpd_sasl_type), the Cyrus
// security flags of smtpd_sasl_security_options, and the reference's
// smtpd_sasl_mechanism_filter.
//
// Trust: configuration text only.
#include "sasl/sasl_server.h"
#include "dict/dict_registry.h"

#include "util/msg.h"
#include "util/strings.h"

#include <sasl/sasl.h>

#include <functional>
#include <map>

namespace pf::sasl {

std::unique_ptr<ServerBackend> make_cyrus_backend(std::string_view app_name, std::string_view config_directory);
std::unique_ptr<ServerBackend> make_dovecot_backend(std::string_view path);

std::unique_ptr<ServerBackend> server_backend(std::string_view type, std::string_view path,
                                              std::string_view config_directory) {
    if (util::iequals(type, "cyrus")) return make_cyrus_backend(path, config_directory);
    if (util::iequals(type, "dovecot")) return make_dovecot_backend(path);
    util::msg_fatal("unsupported SASL server implementation: {}", type);
}

unsigned security_flags(std::string_view options, std::string_view parameter) {
    struct Name {
        const char* word;
        unsigned flag;
    };
    static const Name kNames[] = {
        {"noplaintext", SASL_SEC_NOPLAINTEXT},   {"noactive", SASL_SEC_NOACTIVE},
        {"nodictionary", SASL_SEC_NODICTIONARY}, {"noanonymous", SASL_SEC_NOANONYMOUS},
        {"forward_secrecy", SASL_SEC_FORWARD_SECRECY}, {"mutual_auth", SASL_SEC_MUTUAL_AUTH},
    };
    unsigned flags = 0;
    for (auto word : util::split_tokens(options, " \t\r\n,")) {
        bool known = false;
        for (const auto& n : kNames)
            if (util::iequals(word, n.word)) {
                flags |= n.flag;
                known = true;
            }
        if (!known) util::msg_fatal("unknown {} value \"{}\" in \"{}\"", parameter, word, options);
    }
    return flags;
}

namespace {

// A "type:name" pattern of a mechanism filter matches a mechanism that the
// table has (or when the lookup fails, as the reference's list matcher
// returns a match on error). Tables stay open for the process.
bool table_matches(std::string_view pattern, std::string_view mechanism) {
    static std::map<std::string, dict::DictPtr, std::less<>> tables;
    auto it = tables.find(pattern);
    if (it == tables.end()) {
        dict::register_builtin_types();
        auto opened = dict::open(pattern, 0, dict::kFoldMulti);
        if (!opened) util::msg_fatal("{}", opened.error().text);
        it = tables.emplace(std::string(pattern), std::move(*opened)).first;
    }
    auto answer = it->second->lookup(util::to_lower(mechanism));
    return answer.is_found() || answer.is_error();
}

}  // namespace

std::string filter_mechanisms(std::string_view mechanisms, std::string_view filter) {
    auto patterns = util::split_tokens(filter, " \t\r\n,");
    if (patterns.empty()) return std::string(mechanisms);
    std::string out;
    for (auto mech : util::split_tokens(mechanisms, " ")) {
        bool keep = false;
        for (auto pattern : patterns) {
            bool negate = pattern.starts_with('!');
            if (negate) pattern.remove_prefix(1);
            bool table = pattern.find(':') != std::string_view::npos;
            if (table ? table_matches(pattern, mech) : util::iequals(pattern, mech)) {
                keep = !negate;
                break;
            }
        }
        if (!keep) continue;
        if (!out.empty()) out.push_back(' ');
        out += mech;
    }
    return out;
}

}  // namespace pf::sasl
