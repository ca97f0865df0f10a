// rmail(8)'s envelope parser: the UUCP "From user date [remote from
// site]" and ">From ..." lines at the top of a message, folded into one
// bang path sender, and the sendmail command line built from it. As the
// reference's rmail (Debian's postfix package, the BSD rmail):
//   - "remote from <site>" anywhere after the first character of the
//     address part names the site (up to the next blank);
//   - otherwise a bang path "a!b!user" names the site "a!b" (the text up
//     to the last '!', then up to a blank), and the user after it;
//   - the first site is the sending system (-p UUCP:<site>[.UUCP]), every
//     site adds "<site>!" to the path, the last line's user wins ("<>"
//     when empty); the sender is -f<path><user>;
//   - -p and -f arguments are cut at 2047 bytes (the reference formats
//     them into a 2048-byte buffer);
//   - a recipient starting with '-' is refused (exit 64), one holding a
//     comma and no '<' is passed as "<recipient>".
// Errors exit 65 (EX_DATAERR) with the reference's texts ("bang starts
// address: ...", "corrupted From line: ..."), which show the line as the
// reference has cut it up by then.
//
// Trust: every line is hostile (any bytes but NUL and newline, which the
// reader has excluded); sizes are bounded by the line (at most 2046
// bytes) and the path grows by at most one line's length per line.
#pragma once

#include <expected>
#include <string>
#include <string_view>
#include <vector>

namespace pf::rmail {

inline constexpr int kExUsage = 64;
inline constexpr int kExDataErr = 65;
inline constexpr int kExOsErr = 71;
inline constexpr int kExTempFail = 75;

inline constexpr const char* kSendmailPath = "/usr/lib/sendmail";
// fgets() buffer of the reference: a line of 2047 bytes or more (newline
// included) is "too long".
inline constexpr std::size_t kLineBuffer = 2048;

struct Failure {
    int exit_code = kExDataErr;
    std::string message;  // without the "rmail: " prefix
};

// What the From lines said so far.
struct Envelope {
    bool have_sys = false;
    std::string from_sys;   // the first site
    bool have_path = false;
    std::string from_path;  // "site1!site2!"
    std::string from_user;  // the last line's user ("<>" when empty)
};

enum class LineKind { from, forward, other };

// "From " (from), ">From " (forward), anything else (other).
LineKind classify(std::string_view line);

// One From/>From line without its newline. Appends the -T trace lines
// ("remote from: x\n", "bang: x\n", "from_sys: x\n", "from_path: x\n",
// "from_user: x\n") to debug when it is not null.
std::expected<void, Failure> parse_from_line(std::string_view line, Envelope& envelope, std::string* debug);

// The sendmail argument vector (argv[0] = kSendmailPath).
std::expected<std::vector<std::string>, Failure> build_sendmail_args(const Envelope& envelope,
                                                                     std::string_view domain,
                                                                     const std::vector<std::string>& recipients);

}  // namespace pf::rmail
