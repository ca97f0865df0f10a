// Reads what qshape(1) needs from one queue file: the arrival time, the
// sender and the recipients still to deliver, the way the reference's
// script does it. That script has its own record framing (a length of at
// most three 7-bit groups; end of file inside the length ends it early)
// and its own notion of a usable file (a name of six or more letters and
// digits, a regular file whose mode has 0700 and nothing of 033; first
// record C then T, or S, or F then S; content skipped with the C record's
// size or read through; E after a sender and a recipient). A file whose
// first record is of another type is "undefined" to it: counted in sender
// mode as MAILER-DAEMON at the oldest age. Done recipients (D) are not R
// records, so they do not count.
//
// Trust: files in any queue may be damaged or hostile. Every length is
// bounded, and pointer records may jump backwards at most kMaxBackJumps
// times (the reference loops forever on a pointer loop; we skip the file).
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace pf::qshape {

struct Envelope {
    enum class Kind {
        none,       // not a usable queue file: nothing counted
        undefined,  // the reference's "return undef": counted without a time
        found,
    };
    Kind kind = Kind::none;
    std::optional<std::string> time;  // the T record's first field, or the mtime
    std::string sender;
    std::vector<std::string> recipients;
};

inline constexpr int kMaxBackJumps = 10000;

// True when the last path component has the shape of a queue ID.
bool looks_like_queue_file(std::string_view name);

// Reads path (already known to match looks_like_queue_file). Perl's
// warnings for undefined and non-numeric values go to stderr.
Envelope read_envelope(const std::string& path);

}  // namespace pf::qshape
