// postmap(1) and postalias(1): naming and opening tables, start-up steps
// (see postmap.h).
#include "cmd/postmap/postmap.h"

#include "config/config.h"
#include "dict/dict_registry.h"
#include "util/msg.h"
#include "util/strings.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace pf::postmap {

MapSpec split_map(std::string_view arg, const std::string& default_type) {
    auto colon = arg.find(':');
    if (colon == std::string_view::npos) return {default_type, std::string(arg)};
    return {std::string(arg.substr(0, colon)), std::string(arg.substr(colon + 1))};
}

dict::DictPtr open_or_die(const MapSpec& map, int open_flags, dict::Flags flags) {
    auto d = dict::open(map.full(), open_flags, flags);
    if (!d) util::msg_fatal("{}", d.error().text);
    return std::move(*d);
}

// The reference makes sure descriptors 0, 1 and 2 are open.
void open_standard_descriptors() {
    for (int fd = 0; fd < 3; ++fd) {
        if (::fcntl(fd, F_GETFD) >= 0) continue;
        int nfd = ::open("/dev/null", O_RDWR);
        if (nfd != fd) util::msg_fatal("open /dev/null: {}", std::strerror(errno));
    }
}

void import_environment(const config::Config& cfg) {
    for (auto word : util::split_tokens(cfg.get("import_environment"), util::kListSeparators)) {
        auto eq = word.find('=');
        if (eq == std::string_view::npos) continue;
        std::string name(word.substr(0, eq));
        std::string value(word.substr(eq + 1));
        ::setenv(name.c_str(), value.c_str(), 1);
    }
}

}  // namespace pf::postmap
