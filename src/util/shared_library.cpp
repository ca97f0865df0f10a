// Loading a shared library on first use; see shared_library.h.
#include "util/shared_library.h"

#include "util/msg.h"

#include <dlfcn.h>
#include <unistd.h>

#include <climits>

namespace pf::util {
namespace {

const char* last_dl_error() {
    const char* e = ::dlerror();
    return e ? e : "unknown error";
}

}  // namespace

void* load_library(const char* soname) {
    void* handle = ::dlopen(soname, RTLD_NOW | RTLD_LOCAL);
    if (!handle) msg_fatal("load_library_symbols: dlopen failure loading {}: {}", soname, last_dl_error());
    return handle;
}

void* library_symbol(void* handle, const char* soname, const char* symbol) {
    ::dlerror();
    void* p = ::dlsym(handle, symbol);
    if (!p) msg_fatal("load_library_symbols: dlsym failure looking up {} in {}: {}", symbol, soname, last_dl_error());
    return p;
}

std::string module_beside_program(std::string_view fallback_dir, std::string_view file) {
    char buf[PATH_MAX];
    ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
    std::string path = n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string(fallback_dir) + "/";
    path.resize(path.rfind('/') + 1);
    path += file;
    return path;
}

}  // namespace pf::util
