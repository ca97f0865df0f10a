// tcp:host:port — the client of a line-oriented lookup server
// (tcp_table(5) of the reference). A lookup sends "get <key>\n" with '%',
// white space and every non-printable byte of the key written as %XX
// (upper-case hex); the reply is one line of at most 4095 bytes:
//   "200 <value>"   found (value %XX-decoded, hex digits in either case)
//   "500 <text>"    not found
//   "400 <text>"    a temporary error (the connection is closed)
//   otherwise       "malformed reply" / "bad status code" warnings, a
//                   temporary error
// A connection stays open across lookups. A failed connect, an early EOF
// or an over-long line closes it and the lookup tries again after a
// one-second pause, ten attempts in all, then fails temporarily, with the
// reference's warnings ("connect to TCP map <addr>: <errno text>", "read
// TCP map reply from <addr>: unexpected EOF (<errno text>)", "... text
// longer than 4096"). Every read and write has a 100-second time limit.
// Read-only; keys fold only with kFoldMulti.
//
// Trust: the address comes from main.cf or the command line; replies are
// arbitrary bytes, bounded and checked.
#include "dict/dict_registry.h"
#include "dict/dict_tcp_connect.h"
#include "dict/dict_utf8.h"
#include "util/hex.h"
#include "util/msg.h"
#include "util/utf8.h"

#include <fcntl.h>
#include <fmt/core.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace pf::dict {
namespace {

constexpr int kMaxTry = 10;
constexpr int kTimeout = 100;
constexpr size_t kMaxLine = 4096;

std::string hex_quote(std::string_view raw) {
    std::string out;
    for (unsigned char c : raw) {
        if (c != '%' && c > 0x20 && c < 0x7f) {
            out += static_cast<char>(c);
        } else {
            out += '%';
            util::append_hex_byte(out, c);
        }
    }
    return out;
}

using util::hex_digit_value;

// %XX decoding; false on a '%' without two hex digits.
bool hex_unquote(std::string_view hex, std::string& raw) {
    raw.clear();
    for (size_t i = 0; i < hex.size(); ++i) {
        if (hex[i] != '%') {
            raw += hex[i];
            continue;
        }
        int hi = i + 1 < hex.size() ? hex_digit_value(hex[i + 1]) : -1;
        int lo = hi >= 0 && i + 2 < hex.size() ? hex_digit_value(hex[i + 2]) : -1;
        if (hi < 0 || lo < 0) return false;
        raw += static_cast<char>(hi * 16 + lo);
        i += 2;
    }
    return true;
}

// The reference's printable(text, '_'), cut to 100 bytes as its "%.100s".
std::string shown(std::string_view text) {
    std::string s = util::printable(text, utf8_support());
    for (char& c : s)
        if (c == '?') c = '_';
    // printable() marks bad bytes with '?'; a '?' that was in the text
    // stays one.
    for (size_t i = 0; i < s.size() && i < text.size(); ++i)
        if (text[i] == '?') s[i] = '?';
    if (s.size() > 100) s.resize(100);
    return s;
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_space(char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }

class TcpDict final : public Dict {
public:
    TcpDict(std::string_view name, int open_flags, Flags flags)
        : Dict("tcp", std::string(name), open_flags, flags | kPattern) {}

    LookupResult lookup(std::string_view k) override {
        set_error({});
        if (util::msg_verbose) util::msg_info("dict_tcp_lookup: key {}", k);
        std::string key = (flags() & kFoldMulti) ? fold_key(k) : std::string(k);
        auto nul = key.find('\0');
        if (nul != std::string::npos) key.resize(nul);
        std::string line;
        for (int tries = 0;;) {
            if (stream_.is_open() || connect()) {
                std::string request = "get " + hex_quote(key) + "\n";
                if (util::msg_verbose) util::msg_info("dict_tcp_lookup: send: get {}", hex_quote(key));
                int err = last_errno_;
                bool newline = false;
                line.clear();
                if (stream_.write_all(request, err) == TableStream::Status::ok) {
                    for (size_t n = 0; n < kMaxLine; ++n) {
                        char c;
                        TableStream::Status s = stream_.get(c, err);
                        if (s != TableStream::Status::ok) break;
                        if (c == '\n') {
                            newline = true;
                            break;
                        }
                        line += c;
                    }
                }
                if (err) last_errno_ = err;
                if (newline) break;
                // A partial line before EOF counts as over-long, as in the reference.
                if (line.empty())
                    util::msg_warn("read TCP map reply from {}: unexpected EOF ({})", name(), std::strerror(last_errno_));
                else
                    util::msg_warn("read TCP map reply from {}: text longer than {}", name(), kMaxLine);
                stream_.close();
            }
            if (++tries >= kMaxTry) return fail(std::strerror(last_errno_));
            ::sleep(1);
        }
        // The reference handles the line as a C string.
        auto lnul = line.find('\0');
        if (lnul != std::string::npos) line.resize(lnul);
        if (util::msg_verbose) util::msg_info("dict_tcp_lookup: recv: {}", line);
        std::string raw;
        if (line.size() < 4 || !is_digit(line[0]) || !is_digit(line[1]) || !is_digit(line[2]) || !is_space(line[3]) ||
            !hex_unquote(std::string_view(line).substr(4), raw)) {
            util::msg_warn("read TCP map reply from {}: malformed reply: {}", name(), shown(line));
            stream_.close();
            return fail(std::strerror(last_errno_));
        }
        switch (line[0]) {
        case '4':
            if (util::msg_verbose) util::msg_info("dict_tcp_lookup: soft error: {}", shown(line));
            stream_.close();
            return fail(std::strerror(last_errno_));
        case '5':
            if (util::msg_verbose) util::msg_info("dict_tcp_lookup: not found: {}", shown(line));
            return LookupResult::not_found();
        case '2': {
            auto rnul = raw.find('\0');
            if (rnul != std::string::npos) raw.resize(rnul);
            if (util::msg_verbose) util::msg_info("dict_tcp_lookup: found: {}", shown(raw));
            return LookupResult::found(std::move(raw));
        }
        default:
            util::msg_warn("read TCP map reply from {}: bad status code: {}", name(), shown(line));
            stream_.close();
            return fail(std::strerror(last_errno_));
        }
    }

private:
    bool connect() {
        int err = last_errno_;
        int fd = tcp_connect(name(), kTimeout, err);
        last_errno_ = err;
        if (fd < 0) {
            util::msg_warn("connect to TCP map {}: {}", name(), std::strerror(err));
            return false;
        }
        stream_ = TableStream(fd, kTimeout);
        return true;
    }

    LookupResult fail(std::string text) {
        Error e{Error::Kind::retry, std::move(text)};
        set_error(e);
        return LookupResult::failed(std::move(e));
    }

    TableStream stream_;
    int last_errno_ = 0;
};

}  // namespace

void register_tcp_type() {
    register_type("tcp", [](std::string_view name, int open_flags, Flags flags) -> OpenResult {
        if (flags & kNoUnauth)
            return std::unexpected(
                Error{Error::Kind::config, fmt::format("tcp:{} map is not allowed for security sensitive data", name)});
        if ((open_flags & O_ACCMODE) != O_RDONLY || (open_flags & (O_CREAT | O_TRUNC)))
            return std::unexpected(Error{Error::Kind::config, fmt::format("tcp:{} map requires O_RDONLY access mode", name)});
        return std::make_unique<TcpDict>(name, open_flags, flags);
    });
}

}  // namespace pf::dict
