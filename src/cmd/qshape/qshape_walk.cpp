// File::Find's visiting order for qshape(1) (see qshape_walk.h).
#include "cmd/qshape/qshape_walk.h"

#include "cmd/qshape/qshape_perl.h"

#include <fmt/core.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <dirent.h>
#include <memory>
#include <sys/stat.h>
#include <vector>

namespace pf::qshape {
namespace {

using Visit = std::function<void(const std::string&, const std::string&)>;

// File::Find's warnings: the message (ending in a newline), then
// " at SCRIPT line N." on a line of its own.
void find_warning(const std::string& text) { perl_warn(text + "\n", line::kFind); }

void walk_dir(const std::string& dir, const Visit& visit) {
    std::unique_ptr<DIR, int (*)(DIR*)> handle(::opendir(dir.c_str()), ::closedir);
    if (!handle) {
        find_warning(fmt::format("Can't opendir({}): {}", dir, std::strerror(errno)));
        return;
    }
    std::vector<std::string> subdirs;
    while (const dirent* entry = ::readdir(handle.get())) {
        const std::string name = entry->d_name;
        if (name == "." || name == "..") continue;
        const std::string path = dir + "/" + name;
        bool is_dir = entry->d_type == DT_DIR;
        if (entry->d_type == DT_UNKNOWN) {
            struct stat st;
            is_dir = ::lstat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
        }
        if (is_dir) subdirs.push_back(path);
        else visit(path, name);
    }
    handle.reset();
    for (const std::string& sub : subdirs) walk_dir(sub, visit);
}

}  // namespace

void walk_queue(const std::string& top, const Visit& visit) {
    struct stat st;
    const bool found = ::lstat(top.c_str(), &st) == 0;
    const int error = errno;
    std::string item = top;
    if (item.size() > 1 && item.back() == '/') item.pop_back();
    if (!found) {
        find_warning(fmt::format("Can't stat {}: {}", item, std::strerror(error)));
        return;
    }
    if (S_ISDIR(st.st_mode)) {
        walk_dir(item, visit);
        return;
    }
    const std::size_t slash = item.rfind('/');
    visit(item, slash == std::string::npos ? item : item.substr(slash + 1));
}

}  // namespace pf::qshape
