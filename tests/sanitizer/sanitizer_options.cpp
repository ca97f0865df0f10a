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
// A daemon that chroots (the stock master.cf jails pickup, cleanup, bounce,
// showq, flush, ...) could no longer reach that folder when a report is
// written (the runtimes open the file only then: "Can't open file", exit 1,
// the report lost on master's /dev/null): chroot() is wrapped here to open
// the process's two report files first and hand their descriptors to the
// runtimes. Such processes leave empty asan.<pid>/ubsan.<pid> files behind:
// only files with content are reports. Their stacks are not symbolised
// (module+offset: addr2line -e <program> <offset>).
// Trusts: the environment's ASAN_OPTIONS/UBSAN_OPTIONS only to see whether
// they name a log_path themselves.

#ifdef PF_SANITIZE_LOG_PREFIX

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <cstdlib>
#include <dlfcn.h>
#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

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

// Opens <prefix><kind>.<pid> now and makes it the report file of the
// runtime in `library` (already loaded), unless the environment chose a
// report path for that runtime.
void open_report_file(const char* library, const char* kind, const char* env) {
    const char* options = std::getenv(env);
    if (options != nullptr && std::strstr(options, "log_path") != nullptr) return;
    void* runtime = ::dlopen(library, RTLD_NOW | RTLD_NOLOAD);
    if (runtime == nullptr) return;
    using SetReportFd = void (*)(void*);
    if (auto set_fd = reinterpret_cast<SetReportFd>(::dlsym(runtime, "__sanitizer_set_report_fd"))) {
        char path[4096];
        std::snprintf(path, sizeof path, "%s%s.%ld", PF_SANITIZE_LOG_PREFIX, kind, static_cast<long>(::getpid()));
        int fd = ::open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (fd >= 0) set_fd(reinterpret_cast<void*>(static_cast<std::uintptr_t>(fd)));
    }
    ::dlclose(runtime);
}

}  // namespace

// Replaces libc's chroot() in the programs of this build (see the top).
extern "C" int chroot(const char* path) noexcept {
    open_report_file("libasan.so.8", "asan", "ASAN_OPTIONS");
    open_report_file("libubsan.so.1", "ubsan", "UBSAN_OPTIONS");
    return static_cast<int>(::syscall(SYS_chroot, path));
}

#endif
