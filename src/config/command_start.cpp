// Command start-up steps: see command_start.h.
#include "config/command_start.h"

#include "config/config.h"
#include "config/host_defaults.h"
#include "util/msg.h"
#include "util/strings.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <string>
#include <sys/stat.h>
#include <unistd.h>

namespace pf::config {

const char* command_start(char** argv, const char* fallback_name) {
    if (argv[0] == nullptr || argv[0][0] == 0) argv[0] = const_cast<char*>(fallback_name);
    if (const char* slash = std::strrchr(argv[0], '/'); slash && slash[1]) argv[0] = const_cast<char*>(slash + 1);
    util::msg_set_program(argv[0]);
    set_process_name(argv[0]);
    return argv[0];
}

void open_standard_descriptors() {
    for (int fd = 0; fd < 3; ++fd) {
        struct stat st;
        if (::fstat(fd, &st) == 0) continue;
        int opened = ::open("/dev/null", O_RDWR);
        if (opened != fd) util::msg_fatal("open /dev/null: {}", std::strerror(errno));
    }
}

void import_environment(const Config& config) {
    // The value outlives the words that point into it.
    const std::string setting = config.get("import_environment");
    for (auto word : util::split_tokens(setting, util::kListSeparators)) {
        auto eq = word.find('=');
        if (eq == std::string_view::npos) continue;
        std::string name(word.substr(0, eq));
        std::string value(word.substr(eq + 1));
        if (name.empty()) util::msg_fatal("update_env: missing attribute name in: {}", word);
        ::setenv(name.c_str(), value.c_str(), 1);
    }
}

}  // namespace pf::config
