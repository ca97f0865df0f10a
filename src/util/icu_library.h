// ICU's libicuuc, loaded on first use through util/shared_library.h by the
// code that needs it (UTF-8 case folding of table keys, IDNA conversion):
// its soname and the names its functions are exported under. ICU exports
// them with its major version appended ("ucasemap_open_72") and its headers
// define the plain names as macros for those; PF_ICU_SYMBOL spells such a
// macro out as the string dlsym needs.
//
// Trust: names are compiled in.
#pragma once

#include "util/shared_library.h"

#include <unicode/uvernum.h>

#define PF_ICU_STRINGIFY_(x) #x
#define PF_ICU_SYMBOL(x) PF_ICU_STRINGIFY_(x)

namespace pf::util {

inline constexpr const char* kIcuUcSoname = "libicuuc.so." PF_ICU_SYMBOL(U_ICU_VERSION_MAJOR_NUM);

// libicuuc's handle, loaded at the first call. Fatal as load_library is.
inline void* icu_uc_library() {
    static void* const lib = load_library(kIcuUcSoname);
    return lib;
}

// Sets fn to libicuuc's function exported as symbol (see PF_ICU_SYMBOL).
template <typename Fn>
void bind_icu_function(Fn*& fn, const char* symbol) {
    bind_library_function(fn, icu_uc_library(), kIcuUcSoname, symbol);
}

}  // namespace pf::util
