// Dovecot auth protocol lines: parsing and formatting (see
// dovecot_protocol.h for what the reference's plug-in exchanges).
//
// Trust: lines are hostile; splitting never reads past the view, numbers
// are parsed with overflow checks, text kept for logs is made printable.
#include "sasl/dovecot_protocol.h"

#include "util/strings.h"
#include "util/utf8.h"

#include <fmt/core.h>

#include <charconv>

namespace pf::sasl::dovecot {

namespace {

std::vector<std::string_view> split_tabs(std::string_view line) {
    std::vector<std::string_view> out;
    std::size_t start = 0;
    for (;;) {
        auto tab = line.find('\t', start);
        out.push_back(line.substr(start, tab == std::string_view::npos ? std::string_view::npos : tab - start));
        if (tab == std::string_view::npos) break;
        start = tab + 1;
    }
    return out;
}

std::optional<unsigned> parse_unsigned(std::string_view text) {
    if (text.empty() || text.size() > 10) return std::nullopt;
    unsigned value = 0;
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || ptr != text.data() + text.size()) return std::nullopt;
    return value;
}

struct PropName {
    const char* name;
    unsigned bit;
};

// MECH line words and the property each one stands for.
const PropName kMechProps[] = {
    {"plaintext", kNoPlaintext}, {"active", kNoActive},           {"dictionary", kNoDictionary},
    {"anonymous", kNoAnonymous}, {"forward-secrecy", kForwardSecrecy}, {"mutual-auth", kMutualAuth},
};

// Security option words.
const PropName kOptionProps[] = {
    {"noplaintext", kNoPlaintext}, {"noactive", kNoActive},       {"nodictionary", kNoDictionary},
    {"noanonymous", kNoAnonymous}, {"forward_secrecy", kForwardSecrecy}, {"mutual_auth", kMutualAuth},
};

}  // namespace

Handshake::State Handshake::feed(std::string_view line) {
    auto words = split_tabs(line);
    std::string_view cmd = words.front();
    if (cmd == "VERSION") {
        std::optional<unsigned> major, minor;
        if (words.size() >= 3) {
            major = parse_unsigned(words[1]);
            minor = parse_unsigned(words[2]);
        }
        if (!major || !minor) {
            error_ = "Protocol version error";
            return State::error;
        }
        if (*major != kMajorVersion) {
            error_ = fmt::format("Protocol version mismatch ({} vs. {})", *major, kMajorVersion);
            return State::error;
        }
        version_seen_ = true;
        return State::more;
    }
    if (cmd == "MECH" && words.size() >= 2) {
        Mechanism m;
        m.name = util::printable(words[1], false);
        for (std::size_t i = 2; i < words.size(); ++i)
            for (const auto& p : kMechProps)
                if (words[i] == p.name) m.props |= p.bit;
        // A server announcing endless mechanisms must not grow our memory
        // without bound: past kMaxMechanisms, further MECH lines are dropped.
        if (!m.name.empty() && mechanisms_.size() < kMaxMechanisms) mechanisms_.push_back(std::move(m));
        return State::more;
    }
    if (cmd == "DONE") {
        if (!version_seen_) {
            error_ = "Protocol version error";
            return State::error;
        }
        return State::done;
    }
    return State::more;   // SPID, CUID, COOKIE and anything new: ignored
}

std::string client_handshake(unsigned pid) {
    return fmt::format("VERSION\t{}\t{}\nCPID\t{}\n", kMajorVersion, kMinorVersion, pid);
}

std::string mechanism_list(const std::vector<Mechanism>& mechanisms, unsigned wanted) {
    unsigned positive = wanted & kPositiveProps;
    unsigned negative = wanted & ~kPositiveProps;
    std::string out;
    for (const auto& m : mechanisms) {
        if ((m.props & positive) != positive || (m.props & negative) != 0) continue;
        if (!out.empty()) out.push_back(' ');
        out += m.name;
    }
    return out;
}

std::string auth_request(const AuthRequest& r) {
    std::string line = fmt::format("AUTH\t{}\t{}\tservice={}\tnologin\tlip={}\trip={}", r.id, r.mechanism, r.service,
                                   r.local_ip, r.remote_ip);
    if (r.secured) line += "\tsecured";
    if (r.initial) line += "\tresp=" + *r.initial;
    line.push_back('\n');
    return line;
}

std::string cont_request(unsigned id, std::string_view response) {
    return fmt::format("CONT\t{}\t{}\n", id, response);
}

bool base64_chars_only(std::string_view text) {
    for (char c : text) {
        bool ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '+' ||
                  c == '/' || c == '=';
        if (!ok) return false;
    }
    return true;
}

std::optional<Answer> parse_answer(std::string_view line) {
    auto words = split_tabs(line);
    Answer a;
    if (words.front() == "OK") a.kind = Answer::Kind::ok;
    else if (words.front() == "CONT") a.kind = Answer::Kind::cont;
    else if (words.front() == "FAIL") a.kind = Answer::Kind::fail;
    else return std::nullopt;
    if (words.size() < 2) return std::nullopt;
    auto id = parse_unsigned(words[1]);
    if (!id) return std::nullopt;
    a.id = *id;
    if (a.kind == Answer::Kind::cont) {
        if (words.size() >= 3) a.data = std::string(words[2]);
        return a;
    }
    for (std::size_t i = 2; i < words.size(); ++i) {
        std::string_view w = words[i];
        if (w.starts_with("user=")) a.user = util::printable(w.substr(5), false);
        else if (w.starts_with("reason=")) a.reason = util::printable(w.substr(7), false);
        else if (w == "temp") a.temp = true;
    }
    return a;
}

SecOptions security_options(std::string_view text) {
    SecOptions out;
    for (auto word : util::split_tokens(text, " \t\r\n,")) {
        bool known = false;
        for (const auto& p : kOptionProps)
            if (util::iequals(word, p.name)) {
                out.bits |= p.bit;
                known = true;
            }
        if (!known && out.bad_word.empty()) out.bad_word = std::string(word);
    }
    return out;
}

}  // namespace pf::sasl::dovecot
