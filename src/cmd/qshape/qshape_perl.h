// The few pieces of Perl semantics the reference qshape(1) (a Perl script)
// shows to its users: how a string becomes a number (options, time stamps
// and pointer offsets are strings there), how a number is printed (the
// bucket headings), and the text of the warnings Perl prints for an
// undefined or non-numeric value ("... at SCRIPT line N."). Reproducing
// them keeps our stdout and stderr the reference's for the same input.
//
// Trust: every string here may come from a damaged queue file.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace pf::qshape {

// A string as Perl's numeric operators see it.
struct PerlNumber {
    double value = 0;
    bool numeric = true;  // false: Perl warns "isn't numeric"
};
PerlNumber perl_numify(std::string_view text);

// Perl's \s on a byte string: blank, tab, newline, CR, FF, VT.
bool perl_is_space(char c);

// A number being summed as Perl sums it: integer arithmetic while both
// sides are exact integers, floating point otherwise; printed as an
// integer, or with "%.15g" once it came out of floating point.
class PerlScalar {
public:
    PerlScalar() = default;
    static PerlScalar from_double(double value);
    PerlScalar operator+(const PerlScalar& other) const;
    bool is_zero() const { return floating_ ? value_ == 0 : integer_ == 0; }
    std::string to_string() const;

private:
    bool floating_ = false;
    std::uint64_t integer_ = 0;  // only non-negative values arise here
    double value_ = 0;
};

// The string inside Perl's 'Argument "..." isn't numeric' warning.
std::string perl_argument_display(std::string_view text);

// The name Perl's warnings and die messages give the script ($0).
void set_script_name(std::string_view name);
const std::string& script_name();

// "TEXT at SCRIPT line LINE.\n" on stderr, as Perl's warn does.
void perl_warn(std::string_view text, int line);
// 'Argument "X" isn't numeric in OP at SCRIPT line LINE.'
void perl_warn_numeric(std::string_view text, std::string_view op, int line);

// The reference's source lines that its warnings name.
namespace line {
inline constexpr int kPostconf = 172;
inline constexpr int kWidth = 181;
inline constexpr int kBuckets = 182;
inline constexpr int kTick = 183;
inline constexpr int kMinSub = 184;
inline constexpr int kFirstRecordC = 223;
inline constexpr int kFirstRecordSF = 232;
inline constexpr int kPointer = 250;
inline constexpr int kContentPointer = 262;
inline constexpr int kAge = 282;
inline constexpr int kLowerCase = 294;
inline constexpr int kRepeat = 330;
inline constexpr int kPrintf = 332;
inline constexpr int kMinSubCheck = 367;
inline constexpr int kFind = 375;
}  // namespace line

}  // namespace pf::qshape
