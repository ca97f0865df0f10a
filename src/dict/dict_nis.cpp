// nis:mapname — NIS (YP) maps, as Debian's reference has them built in.
// A host without a NIS domain name (getdomainname() empty or "(none)")
// makes the reference warn once per process "dict_nis_init: NIS domain name
// not set - NIS lookups disabled" when the first nis: table opens, and every
// lookup then finds nothing. Debian 12 no longer ships the YP client
// library (libnsl has no yp_match), so this build always behaves as the
// reference does on a host without a NIS domain. Read-only: another access
// mode is "nis:<name> map requires O_RDONLY access mode".
//
// Trust: the map name comes from main.cf or the command line.
#include "dict/dict_registry.h"
#include "util/msg.h"

#include <fcntl.h>
#include <fmt/core.h>
#include <unistd.h>

namespace pf::dict {
namespace {

class NisDict final : public Dict {
public:
    NisDict(std::string_view name, int open_flags, Flags flags)
        : Dict("nis", std::string(name), open_flags, flags | kFixed) {}

    LookupResult lookup(std::string_view) override {
        set_error({});
        return LookupResult::not_found();
    }
};

void nis_init_once() {
    static bool done = [] {
        char domain[256] = {};
        if (::getdomainname(domain, sizeof(domain) - 1) < 0 || domain[0] == 0 || std::string_view(domain) == "(none)")
            util::msg_warn("dict_nis_init: NIS domain name not set - NIS lookups disabled");
        else
            util::msg_warn("dict_nis_init: NIS client support is not available - NIS lookups disabled");
        return true;
    }();
    (void)done;
}

}  // namespace

void register_nis_type() {
    register_type("nis", [](std::string_view name, int open_flags, Flags flags) -> OpenResult {
        if ((open_flags & O_ACCMODE) != O_RDONLY || (open_flags & (O_CREAT | O_TRUNC)))
            return std::unexpected(Error{Error::Kind::config, fmt::format("nis:{} map requires O_RDONLY access mode", name)});
        nis_init_once();
        return std::make_unique<NisDict>(name, open_flags, flags);
    });
}

}  // namespace pf::dict
