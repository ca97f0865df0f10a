// pipe(8)'s command attributes, the words after the daemon options in its
// master.cf entry: flags=, user=name[:group], directory=, chroot=, eol=,
// null_sender=, size=, and argv=command... (last; the rest of the words).
// Names are matched without regard to case, as the reference does; its
// fatal texts for bad values are kept (see pipe_attr.cpp).
//
// Trust: master.cf is written by the administrator; the checks refuse
// root, the mail system owner and the set-gid group as command identity.
#pragma once

#include <sys/types.h>

#include <expected>
#include <string>
#include <vector>

namespace pf::pipe {

// Message-copy and address flags from flags=.
enum PipeFlags : unsigned {
    kFlagBlank = 1u << 0,         // B
    kFlagDelivered = 1u << 1,     // D
    kFlagFrom = 1u << 2,          // F
    kFlagOrigRcpt = 1u << 3,      // O
    kFlagReturnPath = 1u << 4,    // R
    kFlagFinal = 1u << 5,         // X
    kFlagDot = 1u << 6,           // .
    kFlagQuoteFrom = 1u << 7,     // >
    kFlagFoldHost = 1u << 8,      // h
    kFlagQuoteLocal = 1u << 9,    // q
    kFlagFoldUser = 1u << 10,     // u
};

struct PipeAttr {
    std::vector<std::string> command;   // argv= and the words after it
    uid_t uid = 0;
    gid_t gid = 0;
    unsigned flags = 0;
    std::string exec_dir;               // directory=
    std::string chroot_dir;             // chroot=
    std::string eol = "\n";             // eol= (unescaped)
    std::string null_sender = "MAILER-DAEMON";
    long long size_limit = 0;           // size= (0: none)
};

// What the identity checks compare with.
struct PipeIdentityLimits {
    uid_t owner_uid = 0;
    gid_t owner_gid = 0;
    gid_t setgid_gid = 0;
    std::string mail_owner = "postfix";
    std::string setgid_group = "postdrop";
};

// Parses the words; the error is the reference's fatal text.
std::expected<PipeAttr, std::string> parse_pipe_attr(const std::vector<std::string>& words,
                                                     const PipeIdentityLimits& limits);

// The reference's backslash unescaping (\a \b \f \n \r \t \v \ooo, \x → x).
std::string unescape(std::string_view text);

}  // namespace pf::pipe
