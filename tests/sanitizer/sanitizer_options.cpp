// Built-in defaults for the sanitizer runtimes of a -DPF_SANITIZE=ON build,
// linked into every program of that build (never into a normal build).
//
// Why: master gives its daemons /dev/null as stderr and only the variables
// import_environment names (as the reference does), and the test harnesses
// start commands with a minimal environment, so ASAN_OPTIONS/UBSAN_OPTIONS
// set around a test run do not reach most processes and their reports
// would be lost. Here every process writes its reports to files
// <PF_SANITIZE_LOG_PREFIX>asan.<pid> and ubsan.<pid> instead. Options in the
// environment still win over these defaults.
// Leak checking stays off by default: daemons and commands that end through
// exit() keep their configuration on purpose; ASAN_OPTIONS=detect_leaks=1
// asks for it.
// g++ keeps UBSan in its own runtime (libubsan) beside libasan, and UBSan's
// log_path setting lands in libasan's copy of the report path (both export
// the same function; the first one loaded wins), so UBSan's own report path
// is set here, through libubsan's copy of that function.
// Trusts: the environment's UBSAN_OPTIONS only to see whether it names a
// log_path itself.

#ifdef PF_SANITIZE_LOG_PREFIX

#include <cstring>
#include <cstdlib>
#include <dlfcn.h>

extern "C" {

__attribute__((visibility("default"), used)) const char* __asan_default_options();
__attribute__((visibility("default"), used)) const char* __ubsan_default_options();

const char* __asan_default_options() {
    return "log_path=" PF_SANITIZE_LOG_PREFIX "asan:detect_leaks=0";
}

const char* __ubsan_default_options() {
    return "print_stacktrace=1";
}

}  // extern "C"

namespace {

__attribute__((constructor)) void set_ubsan_report_path() {
    const char* options = std::getenv("UBSAN_OPTIONS");
    if (options != nullptr && std::strstr(options, "log_path") != nullptr) return;
    void* ubsan = ::dlopen("libubsan.so.1", RTLD_NOW | RTLD_NOLOAD);
    if (ubsan == nullptr) return;
    using SetReportPath = void (*)(const char*);
    if (auto set_path = reinterpret_cast<SetReportPath>(::dlsym(ubsan, "__sanitizer_set_report_path")))
        set_path(PF_SANITIZE_LOG_PREFIX "ubsan");
    ::dlclose(ubsan);
}

}  // namespace

#endif
