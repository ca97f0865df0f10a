// rmail(8)'s From line parser and sendmail arguments: see rmail_from.h.
// The reference cuts its line buffer up in place (a NUL after the site,
// at the last bang, after the user); `cut` below does the same to a copy
// so that the texts it prints afterwards show the same bytes.
#include "cmd/rmail/rmail_from.h"

namespace pf::rmail {

namespace {

// isascii() && isspace() in the C locale.
bool ascii_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'; }

// The line as the reference's C string functions see it after cuts: the
// text from pos up to the first NUL.
std::string_view c_string(const std::string& buf, std::size_t pos) {
    if (pos >= buf.size()) return {};
    std::size_t end = buf.find('\0', pos);
    return std::string_view(buf).substr(pos, end == std::string::npos ? std::string::npos : end - pos);
}

// The first blank (or cut, or end) at or after pos.
std::size_t word_end(const std::string& buf, std::size_t pos) {
    while (pos < buf.size() && buf[pos] != '\0' && !ascii_space(buf[pos])) ++pos;
    return pos;
}

void cut(std::string& buf, std::size_t pos) {
    if (pos < buf.size()) buf[pos] = '\0';
}

std::string formatted_arg(std::string text) {
    if (text.size() > kLineBuffer - 1) text.resize(kLineBuffer - 1);
    return text;
}

}  // namespace

LineKind classify(std::string_view line) {
    if (line.starts_with("From ")) return LineKind::from;
    if (line.starts_with(">From ")) return LineKind::forward;
    return LineKind::other;
}

std::expected<void, Failure> parse_from_line(std::string_view line, Envelope& envelope, std::string* debug) {
    std::string buf(line);
    std::size_t addr = classify(line) == LineKind::forward ? 6 : 5;
    if (c_string(buf, addr).empty())
        return std::unexpected(Failure{kExDataErr, "corrupted From line: " + std::string(c_string(buf, 0))});

    // "remote from <site>", searched from the second byte of the address.
    std::size_t site = std::string::npos;
    std::size_t remote = c_string(buf, 0).find("remote from ", addr + 1);
    if (remote != std::string::npos) {
        site = remote + 12;
        cut(buf, word_end(buf, site));
        if (debug) *debug += "remote from: " + std::string(c_string(buf, site)) + "\n";
    } else {
        std::string_view rest = c_string(buf, addr);
        if (rest.front() == '!')
            return std::unexpected(Failure{kExDataErr, "bang starts address: " + std::string(rest)});
        std::size_t bang = rest.rfind('!');
        if (bang != std::string_view::npos) {
            bang += addr;
            cut(buf, bang);
            site = addr;
            addr = bang + 1;
            if (c_string(buf, addr).empty())
                return std::unexpected(Failure{kExDataErr, "corrupted From line: " + std::string(c_string(buf, 0))});
            if (debug) *debug += "bang: " + std::string(c_string(buf, site)) + "\n";
        }
    }

    if (site != std::string::npos) {
        std::size_t end = word_end(buf, site);
        cut(buf, end);
        std::string_view name = c_string(buf, site);
        if (!envelope.have_sys) {
            envelope.have_sys = true;
            envelope.from_sys = name;
            if (debug) *debug += "from_sys: " + envelope.from_sys + "\n";
        }
        envelope.have_path = true;
        envelope.from_path += name;
        envelope.from_path += '!';
    }

    cut(buf, word_end(buf, addr));
    std::string_view user = c_string(buf, addr);
    envelope.from_user = user.empty() ? std::string("<>") : std::string(user);
    if (debug) {
        if (envelope.have_path) *debug += "from_path: " + envelope.from_path + "\n";
        *debug += "from_user: " + envelope.from_user + "\n";
    }
    return {};
}

std::expected<std::vector<std::string>, Failure> build_sendmail_args(const Envelope& envelope,
                                                                     std::string_view domain,
                                                                     const std::vector<std::string>& recipients) {
    std::vector<std::string> args{kSendmailPath, "-G", "-oee", "-odq", "-oi"};
    std::string protocol = "-p" + std::string(domain);
    if (envelope.have_sys) {
        protocol += ":" + envelope.from_sys;
        if (envelope.from_sys.find('.') == std::string::npos) protocol += "." + std::string(domain);
    }
    args.push_back(formatted_arg(std::move(protocol)));
    args.push_back(formatted_arg("-f" + (envelope.have_path ? envelope.from_path : std::string()) + envelope.from_user));
    for (const std::string& r : recipients) {
        if (!r.empty() && r.front() == '-')
            return std::unexpected(Failure{kExUsage, "dash precedes argument: " + r});
        if (r.find(',') == std::string::npos || r.find('<') != std::string::npos)
            args.push_back(r);
        else
            args.push_back("<" + r + ">");
    }
    return args;
}

}  // namespace pf::rmail
