// local(8): the destinations of an alias value, an :include: file or a
// .forward file, as the reference's deliver_token*: the text is parsed as
// an RFC 822 address list (quotes protect blanks, "|cmd" and "/file"
// included); each address is, after internalizing, a file ("/path", or
// "~/path" under the user's home), a command ("|..." where
// allow_mail_to_commands permits this expansion type, else 5.7.1 "mail to
// command is restricted"), an ":include:" file, or an address to resolve.
// Files are read line by line; lines starting with '#' are comments; the
// first line that fails stops the file.
//
// Trust: the text is user input (.forward, include files): only parsed.
#include "local.h"

#include "mail/address_list.h"
#include "mail/address_token.h"
#include "util/msg.h"
#include "util/strings.h"

#include <fmt/core.h>

namespace pf::local {

namespace {

int deliver_token_home(Context& ctx, const MsgAttr& attr, const UserAttr& usr, const std::string& addr) {
    if (addr.size() < 2 || addr[1] != '/') {
        util::msg_warn("bad home directory syntax for: {}", addr);
        return record_bounce(ctx, attr, ipc::Dsn::simple("5.3.5", "mail system configuration error"));
    }
    if (!usr.home) {
        util::msg_warn("unknown home directory for: {}", addr);
        return record_bounce(ctx, attr, ipc::Dsn::simple("5.3.5", "mail system configuration error"));
    }
    if (*usr.home == "/") return deliver_file(ctx, attr, usr, addr.substr(1));
    return deliver_file(ctx, attr, usr, *usr.home + addr.substr(1));
}

int deliver_token(Context& ctx, const MsgAttr& attr, const UserAttr& usr, const mail::AddressToken& token) {
    std::string addr = mail::internalize_822(token.children);
    static constexpr std::string_view kInclude = ":include:";
    if (!addr.empty() && addr[0] == '/') return deliver_file(ctx, attr, usr, addr);
    if (!addr.empty() && addr[0] == '~') return deliver_token_home(ctx, attr, usr, addr);
    if (!addr.empty() && addr[0] == '|') {
        if ((ctx.settings.allow_commands & attr.exp_type) == 0)
            return record_bounce(ctx, attr, ipc::Dsn::simple("5.7.1", "mail to command is restricted"));
        return deliver_command(ctx, attr, usr, addr.substr(1));
    }
    if (addr.size() >= kInclude.size() && util::iequals(std::string_view(addr).substr(0, kInclude.size()), kInclude))
        return deliver_include(ctx, attr, usr, addr.substr(kInclude.size()));
    return deliver_resolve_addr(ctx, attr, usr, addr);
}

}  // namespace

int deliver_token_string(Context& ctx, const MsgAttr& attr, const UserAttr& usr, std::string_view text, int* count) {
    mail::TokenList tree = mail::parse_822_list(text);
    int status = 0;
    for (const auto& token : tree) {
        if (token.kind != mail::TokenKind::address) continue;
        if (count) ++*count;
        status |= deliver_token(ctx, attr, usr, token);
    }
    return status;
}

int deliver_token_lines(Context& ctx, const MsgAttr& attr, const UserAttr& usr, const std::string& contents,
                        int* count) {
    int status = 0;
    std::size_t start = 0;
    while (start < contents.size()) {
        auto end = contents.find('\n', start);
        std::string_view line = std::string_view(contents).substr(
            start, end == std::string::npos ? std::string::npos : end - start);
        start = end == std::string::npos ? contents.size() : end + 1;
        if (!line.empty() && line[0] == '#') continue;
        status = deliver_token_string(ctx, attr, usr, line, count);
        if (status != 0) break;
    }
    return status;
}

}  // namespace pf::local
