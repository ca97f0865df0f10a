// Perl's numification, number printing and warning texts, as the reference
// qshape(1) shows them (see qshape_perl.h). Observed with perl 5.36: a
// string with leading/trailing blanks around a decimal number is numeric,
// anything else warns and counts as its numeric prefix (0 without one);
// the warning shows at most 56 characters of the string, then "..."; a
// byte above 127 shows as "M-" and its low 7 bits unless the locale calls
// it printable (a UTF-8 locale does for 0xA0 and up, C for none).
#include "cmd/qshape/qshape_perl.h"

#include <fmt/core.h>

#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <langinfo.h>
#include <limits>

namespace pf::qshape {
namespace {

std::string g_script = "qshape";

bool is_digit(char c) { return c >= '0' && c <= '9'; }

bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        char x = a[i];
        if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
        if (x != b[i]) return false;
    }
    return true;
}

// Perl's isPRINT_LC for a byte above 127: Latin-1 rules in a UTF-8
// locale (0xA0 and up), the C library's isprint() in any other.
bool high_byte_printable(unsigned ch) {
    static const bool utf8 = std::strcmp(::nl_langinfo(CODESET), "UTF-8") == 0;
    return utf8 ? ch >= 0xa0 : std::isprint(static_cast<int>(ch)) != 0;
}

}  // namespace

bool perl_is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

PerlNumber perl_numify(std::string_view text) {
    std::size_t i = 0;
    const std::size_t n = text.size();
    while (i < n && perl_is_space(text[i])) ++i;
    const std::size_t start = i;
    bool negative = false;
    if (i < n && (text[i] == '+' || text[i] == '-')) negative = text[i++] == '-';
    // Infinity and NaN are numbers to Perl.
    for (std::string_view word : {std::string_view("infinity"), std::string_view("inf"), std::string_view("nan")}) {
        if (n - i >= word.size() && iequals(text.substr(i, word.size()), word)) {
            std::size_t j = i + word.size();
            double value = word == "nan" ? std::numeric_limits<double>::quiet_NaN()
                                         : std::numeric_limits<double>::infinity();
            if (negative) value = -value;
            while (j < n && perl_is_space(text[j])) ++j;
            return {value, j == n};
        }
    }
    std::size_t digits = 0;
    while (i < n && is_digit(text[i])) ++i, ++digits;
    if (i < n && text[i] == '.') {
        ++i;
        while (i < n && is_digit(text[i])) ++i, ++digits;
    }
    if (digits == 0) return {0, false};
    std::size_t end = i;
    if (i < n && (text[i] == 'e' || text[i] == 'E')) {
        std::size_t j = i + 1;
        if (j < n && (text[j] == '+' || text[j] == '-')) ++j;
        if (j < n && is_digit(text[j])) {
            while (j < n && is_digit(text[j])) ++j;
            end = j;
        }
    }
    const std::string number(text.substr(start, end - start));
    const double value = std::strtod(number.c_str(), nullptr);
    std::size_t j = end;
    while (j < n && perl_is_space(text[j])) ++j;
    return {value, j == n};
}

PerlScalar PerlScalar::from_double(double value) {
    PerlScalar s;
    if (value >= 0 && value < 18446744073709551616.0 && std::floor(value) == value) {
        s.integer_ = static_cast<std::uint64_t>(value);
    } else {
        s.floating_ = true;
        s.value_ = value;
    }
    return s;
}

PerlScalar PerlScalar::operator+(const PerlScalar& other) const {
    // Perl adds as integers when both values are exact integers (a
    // floating value with an integral value counts as one) and the sum
    // does not overflow; otherwise in floating point.
    auto as_integer = [](const PerlScalar& s, std::uint64_t& out) {
        if (!s.floating_) {
            out = s.integer_;
            return true;
        }
        if (s.value_ >= 0 && s.value_ < 9223372036854775808.0 && std::floor(s.value_) == s.value_) {
            out = static_cast<std::uint64_t>(s.value_);
            return true;
        }
        return false;
    };
    std::uint64_t a = 0;
    std::uint64_t b = 0;
    PerlScalar sum;
    if (as_integer(*this, a) && as_integer(other, b) && a <= std::numeric_limits<std::uint64_t>::max() - b) {
        sum.integer_ = a + b;
        return sum;
    }
    auto as_double = [](const PerlScalar& s) { return s.floating_ ? s.value_ : static_cast<double>(s.integer_); };
    sum.floating_ = true;
    sum.value_ = as_double(*this) + as_double(other);
    return sum;
}

std::string PerlScalar::to_string() const {
    if (!floating_) return fmt::format("{}", integer_);
    if (std::isnan(value_)) return "NaN";
    if (std::isinf(value_)) return value_ < 0 ? "-Inf" : "Inf";
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.15g", value_);
    return buf;
}

std::string perl_argument_display(std::string_view text) {
    // Perl renders into a 64-byte buffer and stops 8 bytes short of its end.
    constexpr std::size_t kLimit = 56;
    std::string out;
    std::size_t i = 0;
    for (; i < text.size() && out.size() < kLimit; ++i) {
        unsigned ch = static_cast<unsigned char>(text[i]);
        // Bytes above 127 stay as they are where the locale (LC_CTYPE, as
        // perl takes it from the environment) calls them printable.
        if (ch >= 0x80 && !high_byte_printable(ch)) {
            out += "M-";
            ch &= 0x7f;
        }
        if (ch == '\n') out += "\\n";
        else if (ch == '\r') out += "\\r";
        else if (ch == '\f') out += "\\f";
        else if (ch == '\\') out += "\\\\";
        else if (ch == 0) out += "\\0";
        else if ((ch >= 0x20 && ch < 0x7f) || (ch >= 0x80 && high_byte_printable(ch)))
            out += static_cast<char>(ch);
        else {
            out += '^';
            out += static_cast<char>(ch ^ 64);
        }
    }
    if (i < text.size()) out += "...";
    return out;
}

void set_script_name(std::string_view name) { g_script = std::string(name); }
const std::string& script_name() { return g_script; }

void perl_warn(std::string_view text, int line) {
    std::string message = fmt::format("{} at {} line {}.\n", text, g_script, line);
    std::fwrite(message.data(), 1, message.size(), stderr);
}

void perl_warn_numeric(std::string_view text, std::string_view op, int line) {
    perl_warn(fmt::format("Argument \"{}\" isn't numeric in {}", perl_argument_display(text), op), line);
}

}  // namespace pf::qshape
