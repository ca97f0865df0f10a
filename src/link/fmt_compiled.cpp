// libfmt's compiled part (the formatting entry points, floating-point and
// locale helpers) built into a program, so that a short-lived command
// does not load libfmt.so at start-up (see "Short-lived commands" in the
// top-level CMakeLists.txt). <fmt/format-inl.h> holds the definitions that
// libfmt.so is built from; the templates that format.h declares extern are
// instantiated here for both character types, as the library does. Linked
// into a program before libfmt.so: every libfmt symbol the program uses is
// then defined here, and --as-needed leaves libfmt.so out of its
// dependencies. Written for fmt 9 (CMakeLists.txt checks the version).
//
// Trust: no input; code only.
#include <fmt/format-inl.h>

#if FMT_VERSION < 90000 || FMT_VERSION >= 100000
#error "src/link/fmt_compiled.cpp is written for fmt 9"
#endif

FMT_BEGIN_NAMESPACE
namespace detail {

template auto thousands_sep_impl<char>(locale_ref) -> thousands_sep_result<char>;
template auto thousands_sep_impl<wchar_t>(locale_ref) -> thousands_sep_result<wchar_t>;
template auto decimal_point_impl(locale_ref) -> char;
template auto decimal_point_impl(locale_ref) -> wchar_t;

}  // namespace detail
FMT_END_NAMESPACE
