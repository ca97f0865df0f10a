// sendmail(1)'s message copy: turns the command line's envelope and the
// message on standard input into the record stream that postdrop(1)
// stores in maildrop/, as the reference's sendmail writes it:
//  - envelope: A envelope_id, A ret_flags, A rewrite_context, F, S,
//    A encoding, A trace_flags, V, then per recipient [A notify_flags] R
//    (each command-line argument parsed as an address list; an argument
//    without any address gives one empty recipient);
//  - M, then the content: lines cut at line_length_limit into L records
//    (the rest in the next record), N for a line that ended in LF, L for a
//    last line without LF; leading "From " / ">From " lines dropped; CRs
//    before the LF removed as sendmail_fix_line_endings says; a line "."
//    ends the input unless -i;
//  - with -t, the primary headers are collected (folded lines joined) and
//    written back cut at line_length_limit, To/Cc/Bcc (or Resent-To/Cc/Bcc
//    once a Resent- recipient header was seen) give the recipients that
//    follow X; a last line without LF in the body gets an empty N after it;
//  - -bv: a fixed probe message instead of standard input;
//  - X, extracted recipients, E.
//
// Trust: standard input and the arguments are the user's; every line is
// bounded by line_length_limit and every header by header_size_limit.
#pragma once

#include <cstdio>
#include <expected>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pf::sendmail {

enum class FixEol { always, strict, never };

struct Envelope {
    std::string sender;                  // internal form ("" is the null sender)
    std::optional<std::string> full_name;
    std::string rewrite_context = "local";
    std::optional<std::string> encoding;   // "7bit" / "8bit"
    std::optional<std::string> dsn_envid;
    int dsn_ret = 0;
    int dsn_notify = 0;
    int trace_flags = 0;                   // 512 (-bv), 1024 (-v)
    std::optional<std::string> verp;       // VERP delimiters
    std::vector<std::string> recipients;   // command-line arguments, raw
};

struct CopyOptions {
    bool archaic_eof = true;     // a "." line ends the input (not with -i)
    bool extract = false;        // -t
    bool probe = false;          // -bv: no input, a probe message
    FixEol fix_eol = FixEol::always;
    std::size_t line_limit = 2048;
    std::size_t header_limit = 102400;
};

// Receives one record; false on a write error.
using RecordSink = std::function<bool(char type, std::string_view data)>;

// What went wrong, in the words the reference prints after "sender(uid): ".
struct CopyError {
    enum Kind { write, usage, data } kind;
    std::string text;
};

// The envelope records up to (not including) M. Returns the number of
// recipient records written.
std::expected<int, CopyError> write_envelope(const Envelope& env, const RecordSink& sink);

// M, the content from in, X and the extracted recipients (not E). Returns
// the number of recipients written after X.
std::expected<int, CopyError> copy_content(std::FILE* in, const Envelope& env, const CopyOptions& opts,
                                           const RecordSink& sink);

// The internal form of every address in an address list (command line -f,
// recipients); empty when there is none.
std::vector<std::string> parse_addresses(std::string_view text);

// DSN option values: the reference's NOTIFY and RET bit values; 0 when bad.
int dsn_notify_mask(std::string_view text);
int dsn_ret_code(std::string_view text);

}  // namespace pf::sendmail
