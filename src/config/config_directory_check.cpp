// See config_directory_check.h.
#include "config/config_directory_check.h"

#include "config/config.h"
#include "config/logical_lines.h"
#include "config/main_cf.h"
#include "util/msg.h"
#include "util/strings.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>

namespace pf::config {

bool running_with_borrowed_rights() {
    if (::getuid() == 0 && ::geteuid() == 0) return false;
    return ::geteuid() != ::getuid() || ::getgid() != ::getegid();
}

void check_config_directory_allowed(const std::string& dir, bool untrusted) {
    if (dir == kDefaultConfigDirectory || !(untrusted || running_with_borrowed_rights()) || ::geteuid() == 0) return;
    std::string path = std::string(kDefaultConfigDirectory) + "/main.cf";
    std::ifstream in(path, std::ios::binary);
    if (!in) util::msg_fatal("open file {}: {}", path, std::strerror(errno));
    std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    // Every definition of either parameter counts, as written (no
    // expansion), as the reference scans the file.
    bool found = false;
    for (const auto& line : read_logical_lines(content, path)) {
        std::string error;
        auto nv = split_name_value(line.text, error);
        if (!nv || (nv->name != "alternate_config_directories" && nv->name != "multi_instance_directories")) continue;
        for (auto word : util::split_tokens(nv->value, ", \t\r\n"))
            if (word == dir) found = true;
    }
    if (!found) {
        util::msg_error("unauthorized configuration directory name: {}", dir);
        util::msg_fatal("specify \"alternate_config_directories = {}\" or \"multi_instance_directories = {}\" in {}",
                        dir, dir, path);
    }
}

}  // namespace pf::config
