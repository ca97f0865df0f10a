// The SMTP/LMTP client's view of a server reply, as the reference's client
// collects it: every line of a (multi-line) reply is kept, joined with
// "\n", including the "NNN-"/"NNN " prefixes (the log and the bounce
// notices quote the reply as the server wrote it, lines joined by a
// space); the code is the last line's three digits; the enhanced status
// code is taken from the first line when it is valid and of the same class
// as the reply code, otherwise "X.0.0" from the reply code's class. Lines
// that do not start with three digits are kept and reading goes on until a
// final "NNN " line. Unprintable bytes are shown as '?'.
//
// Also the EHLO keyword list (PIPELINING, SIZE n, 8BITMIME, DSN, ...).
//
// Trust: the server is remote and hostile: every line is bounded by the
// caller's limit, at most kMaxReplyLines lines are kept.
#pragma once

#include "smtp/smtp_stream.h"

#include <cstdint>
#include <expected>
#include <string>
#include <string_view>

namespace pf::smtp {

struct ClientReply {
    int code = 0;
    std::string dsn;   // "2.0.0", "5.1.1", ...
    std::string text;  // the reply lines, '\n' between them
    // The text with line breaks replaced by spaces (for logs and notices).
    std::string one_line() const;
};

inline constexpr std::size_t kMaxReplyLines = 1000;

// Parses reply lines already split (tests, and read_client_reply).
class ClientReplyBuilder {
public:
    // Adds one line (without CRLF); true when it was the last line.
    bool add_line(std::string_view line);
    ClientReply finish();

private:
    ClientReply reply_;
    std::string first_text_;
    bool have_first_ = false;
    std::size_t lines_ = 0;
};

std::expected<ClientReply, StreamError> read_client_reply(SmtpStream& stream, std::size_t line_limit);

// What the server announced in its EHLO reply.
enum ClientFeature : unsigned {
    kFeatureEsmtp = 1u << 0,
    kFeaturePipelining = 1u << 1,
    kFeatureSize = 1u << 2,
    kFeature8BitMime = 1u << 3,
    kFeatureDsn = 1u << 4,
    kFeatureSmtpUtf8 = 1u << 5,
    kFeatureStartTls = 1u << 6,
    kFeatureAuth = 1u << 7,
    kFeatureXforward = 1u << 8,
    kFeatureEnhancedStatus = 1u << 9,
};

// The XFORWARD attributes a server names after its XFORWARD keyword.
enum XforwardAttr : unsigned {
    kXforwardName = 1u << 0,
    kXforwardAddr = 1u << 1,
    kXforwardPort = 1u << 2,
    kXforwardProto = 1u << 3,
    kXforwardHelo = 1u << 4,
    kXforwardIdent = 1u << 5,
    kXforwardSource = 1u << 6,  // the origin (LOCAL/REMOTE)
};

struct ServerFeatures {
    unsigned flags = 0;
    unsigned xforward = 0;         // XforwardAttr bits (any case in the reply)
    std::uint64_t size_limit = 0;  // SIZE n (0: no limit announced)
    std::string auth_mechanisms;   // for the SASL client (later)
    std::string helo;              // the server's name: first word of the reply's first line
};

// The keywords of an EHLO reply (the first line is the greeting: skipped).
ServerFeatures parse_ehlo_features(std::string_view reply_text);

}  // namespace pf::smtp
