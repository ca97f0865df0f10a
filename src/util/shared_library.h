// Loading a shared library when it is first needed (dlopen) and looking up
// its functions (dlsym), for client libraries that only some lookup tables
// use (MariaDB's, ICU's case folding): a program that never opens such a
// table does not pay at start-up for loading, relocating and initialising
// them (libmariadb alone brings OpenSSL and zlib). The reference gets the
// same effect by loading postfix-mysql.so etc. through dynamicmaps.cf; a
// failure is fatal with the words it uses for a table module that does not
// load ("load_library_symbols: dlopen failure loading ...").
//
// Trust: library and symbol names are compiled in; the dynamic linker looks
// the library up in the system's paths (the program's RUNPATH, ld.so.cache).
#pragma once

#include <string>
#include <string_view>

namespace pf::util {

// The path of a daemon's own module, file, in the directory of the running
// program (/proc/self/exe: read it before a chroot), where it is installed
// and built; without /proc, in fallback_dir (daemon_directory). Used by
// smtpd and smtp for their TLS modules.
std::string module_beside_program(std::string_view fallback_dir, std::string_view file);

// dlopen(soname, RTLD_NOW | RTLD_LOCAL); the loader keeps one copy per
// process however often this is called. Fatal when it cannot be loaded:
// "load_library_symbols: dlopen failure loading SONAME: <dlerror()>".
void* load_library(const char* soname);

// dlsym(handle, symbol). Fatal when missing: "load_library_symbols: dlsym
// failure looking up SYMBOL in SONAME: <dlerror()>".
void* library_symbol(void* handle, const char* soname, const char* symbol);

// Sets fn to the function symbol of the library (see library_symbol).
template <typename Fn>
void bind_library_function(Fn*& fn, void* handle, const char* soname, const char* symbol) {
    fn = reinterpret_cast<Fn*>(library_symbol(handle, soname, symbol));
}

}  // namespace pf::util
