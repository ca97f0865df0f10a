// pipe(8) command attributes (pipe_attr.h).
#include "pipe_attr.h"

#include "util/strings.h"

#include <grp.h>
#include <pwd.h>

#include <fmt/core.h>

#include <optional>

namespace pf::pipe {

namespace {

bool has_prefix(std::string_view word, std::string_view prefix) {
    return word.size() >= prefix.size() && util::iequals(word.substr(0, prefix.size()), prefix);
}

// A size in bytes: decimal digits only, no overflow.
std::optional<long long> parse_size(std::string_view text) {
    if (text.empty()) return std::nullopt;
    long long v = 0;
    for (char c : text) {
        if (c < '0' || c > '9') return std::nullopt;
        if (v > (static_cast<long long>(9e18) - (c - '0')) / 10) return std::nullopt;
        v = v * 10 + (c - '0');
    }
    return v;
}

}  // namespace

std::string unescape(std::string_view in) {
    std::string out;
    for (std::size_t i = 0; i < in.size(); ++i) {
        char ch = in[i];
        if (ch == '\\') {
            if (++i >= in.size()) break;
            ch = in[i];
            switch (ch) {
            case 'a': ch = '\a'; break;
            case 'b': ch = '\b'; break;
            case 'f': ch = '\f'; break;
            case 'n': ch = '\n'; break;
            case 'r': ch = '\r'; break;
            case 't': ch = '\t'; break;
            case 'v': ch = '\v'; break;
            case '0': case '1': case '2': case '3': case '4': case '5': case '6': case '7': {
                int value = ch - '0';
                for (int n = 0; n < 2 && i + 1 < in.size() && in[i + 1] >= '0' && in[i + 1] <= '7'; ++n)
                    value = (value << 3) | (in[++i] - '0');
                ch = static_cast<char>(value);
                break;
            }
            default: break;
            }
        }
        out.push_back(ch);
    }
    return out;
}

std::expected<PipeAttr, std::string> parse_pipe_attr(const std::vector<std::string>& words,
                                                     const PipeIdentityLimits& limits) {
    constexpr std::string_view kFn = "get_service_attr";
    PipeAttr attr;
    bool have_user = false;
    bool have_command = false;
    for (std::size_t i = 0; i < words.size(); ++i) {
        std::string_view word = words[i];
        if (has_prefix(word, "flags=")) {
            for (char c : word.substr(6)) {
                switch (c) {
                case 'B': attr.flags |= kFlagBlank; break;
                case 'D': attr.flags |= kFlagDelivered; break;
                case 'F': attr.flags |= kFlagFrom; break;
                case 'O': attr.flags |= kFlagOrigRcpt; break;
                case 'R': attr.flags |= kFlagReturnPath; break;
                case 'X': attr.flags |= kFlagFinal; break;
                case '.': attr.flags |= kFlagDot; break;
                case '>': attr.flags |= kFlagQuoteFrom; break;
                case 'h': attr.flags |= kFlagFoldHost; break;
                case 'q': attr.flags |= kFlagQuoteLocal; break;
                case 'u': attr.flags |= kFlagFoldUser; break;
                default: return std::unexpected(fmt::format("unknown flag: {} (ignored)", c));
                }
            }
        } else if (has_prefix(word, "user=")) {
            std::string user(word.substr(5));
            std::string group;
            if (auto colon = user.find(':'); colon != std::string::npos) {
                group = user.substr(colon + 1);
                user.erase(colon);
            }
            struct passwd* pw = ::getpwnam(user.c_str());
            if (!pw) return std::unexpected(fmt::format("{}: unknown username: {}", kFn, user));
            attr.uid = pw->pw_uid;
            attr.gid = pw->pw_gid;
            if (!group.empty()) {
                struct group* gr = ::getgrnam(group.c_str());
                if (!gr) return std::unexpected(fmt::format("{}: unknown group: {}", kFn, group));
                attr.gid = gr->gr_gid;
            }
            have_user = true;
        } else if (has_prefix(word, "directory=")) {
            attr.exec_dir = std::string(word.substr(10));
        } else if (has_prefix(word, "chroot=")) {
            attr.chroot_dir = std::string(word.substr(7));
        } else if (has_prefix(word, "eol=")) {
            attr.eol = unescape(word.substr(4));
        } else if (has_prefix(word, "null_sender=")) {
            attr.null_sender = std::string(word.substr(12));
        } else if (has_prefix(word, "size=")) {
            auto size = parse_size(word.substr(5));
            if (!size) return std::unexpected(fmt::format("{}: bad size= value: {}", kFn, word.substr(5)));
            attr.size_limit = *size;
        } else if (has_prefix(word, "argv=")) {
            attr.command.emplace_back(word.substr(5));
            for (std::size_t j = i + 1; j < words.size(); ++j) attr.command.push_back(words[j]);
            have_command = true;
            break;
        } else {
            return std::unexpected(fmt::format("unknown attribute name: {}", word));
        }
    }
    if (!have_user) return std::unexpected(std::string("missing user= command-line attribute"));
    if (!have_command) return std::unexpected(std::string("missing argv= command-line attribute"));
    if (attr.uid == 0) return std::unexpected(std::string("user= command-line attribute specifies root privileges"));
    if (attr.uid == limits.owner_uid)
        return std::unexpected(
            fmt::format("user= command-line attribute specifies mail system owner {}", limits.mail_owner));
    if (attr.gid == 0)
        return std::unexpected(std::string("user= command-line attribute specifies privileged group id 0"));
    if (attr.gid == limits.owner_gid)
        return std::unexpected(fmt::format("user= command-line attribute specifies mail system owner {} group id {}",
                                           limits.mail_owner, static_cast<long>(attr.gid)));
    if (attr.gid == limits.setgid_gid)
        return std::unexpected(fmt::format("user= command-line attribute specifies mail system {} group id {}",
                                           limits.setgid_group, static_cast<long>(attr.gid)));
    return attr;
}

}  // namespace pf::pipe
