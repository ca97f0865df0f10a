// postscreen_reject_footer and postscreen_reject_footer_maps: text that
// postscreen appends to each 4xx/5xx reply it sends, as the reference's
// smtp_reply_footer does it: each "\n"-separated footer line becomes one
// more reply line with the reply's code and enhanced status code ("\c" at
// the start continues the last line instead), $server_name,
// $client_address, $client_port and $localtime are expanded (their values
// limited to postscreen_expansion_filter characters, others "_"), and a
// reply or footer that does not parse leaves the reply unchanged. The maps
// are searched with the reply text (without CRLF); their answer wins over
// postscreen_reject_footer.
//
// Trust: the footer and filter come from main.cf; the expanded values are
// the client's address and port as postscreen printed them.
#include "daemon/postscreen/postscreen_state.h"

#include "config/expand.h"
#include "ipc/deliver_dsn.h"
#include "mail/maps.h"
#include "util/msg.h"

#include <ctime>
#include <optional>

namespace pf::postscreen {

namespace {

std::string g_footer;
std::string g_filter;
std::optional<mail::Maps> g_maps;
std::string g_myhostname;

// A raw parameter whose value is "$other" takes other's raw value, as the
// reference evaluates these two once at start-up.
std::string raw_once(const config::Config& cfg, const char* name) {
    std::string v = cfg.raw_value(name).value_or("");
    if (v.size() > 1 && v[0] == '$') {
        if (auto other = cfg.raw_value(std::string_view(v).substr(1))) return *other;
    }
    return v;
}

// The reference's unescape(): C escapes and octal.
std::string unescape(std::string_view in) {
    std::string out;
    for (std::size_t i = 0; i < in.size(); ++i) {
        if (in[i] != '\\' || i + 1 >= in.size()) {
            out += in[i];
            continue;
        }
        char c = in[++i];
        switch (c) {
        case 'a': out += '\a'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'v': out += '\v'; break;
        default:
            if (c >= '0' && c <= '7') {
                int v = 0, n = 0;
                while (n < 3 && i < in.size() && in[i] >= '0' && in[i] <= '7') {
                    v = v * 8 + (in[i] - '0');
                    ++i;
                    ++n;
                }
                --i;
                out += static_cast<char>(v);
            } else {
                out += c;
            }
        }
    }
    return out;
}

std::optional<std::string> lookup(std::string_view name, const Session& s) {
    std::string value;
    if (name == "server_name") {
        value = g_myhostname;
    } else if (name == "client_address") {
        value = s.addr;
    } else if (name == "client_port") {
        value = s.port;
    } else if (name == "localtime") {
        std::time_t now = std::time(nullptr);
        std::tm tm{};
        ::localtime_r(&now, &tm);
        char buf[64];
        value.assign(buf, std::strftime(buf, sizeof buf, "%b %d %H:%M:%S", &tm));
    } else {
        util::msg_warn("unknown macro name \"{}\" in expansion request", name);
        return std::nullopt;
    }
    for (char& c : value)
        if (c == '\0' || g_filter.find(c) == std::string::npos) c = '_';
    return value;
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

}  // namespace

void footer_init(const config::Config& cfg) {
    g_footer = raw_once(cfg, "postscreen_reject_footer");
    g_filter = unescape(raw_once(cfg, "postscreen_expansion_filter"));
    g_myhostname = cfg.get("myhostname");
    std::string maps = cfg.get("postscreen_reject_footer_maps");
    if (!maps.empty()) {
        auto m = mail::Maps::open("smtpd_reject_footer_maps", maps, dict::kLock);
        if (!m) util::msg_fatal("{}", m.error());
        g_maps = std::move(*m);
    }
}

void append_footer(std::string& buf, std::size_t start, std::string_view text, const Session& s) {
    if (text.empty() || (text[0] != '4' && text[0] != '5')) return;
    std::string footer;
    if (g_maps) {
        std::string_view key = text;
        if (key.size() >= 2) key.remove_suffix(2);
        auto r = g_maps->find(key);
        if (r.is_found()) footer = r.value();
    }
    if (footer.empty()) footer = g_footer;
    if (footer.empty() || start > buf.size()) return;

    // The reply as it stands: each line "DDD " or "DDD-"; remember the last.
    std::size_t cp = start, code = std::string::npos;
    bool crlf_at_end = false;
    std::size_t line_end;
    for (;;) {
        if (buf.size() - cp < 4 || !is_digit(buf[cp]) || !is_digit(buf[cp + 1]) || !is_digit(buf[cp + 2]) ||
            (buf[cp + 3] != ' ' && buf[cp + 3] != '-'))
            return;
        code = cp;
        std::size_t next = buf.find("\r\n", cp);
        if (next == std::string::npos) {
            line_end = buf.size();
            break;
        }
        cp = next + 2;
        if (cp == buf.size()) {
            crlf_at_end = true;
            line_end = next;
            break;
        }
    }
    buf.resize(line_end);
    std::size_t undo = buf.size();
    std::size_t dsn_len = ipc::dsn_valid(std::string_view(buf).substr(code + 4));
    std::string dsn = buf.substr(code + 4, dsn_len);
    std::string reply_code = buf.substr(code, 3);
    config::ExpandHooks hooks;
    hooks.recurse = false;
    hooks.lookup = [&s](std::string_view name) { return lookup(name, s); };
    bool added = false, failed = false;
    std::string_view rest = footer;
    bool first = true;
    for (;;) {
        std::size_t nl = rest.find("\\n");
        std::string_view line = rest.substr(0, nl);
        bool last = nl == std::string_view::npos;
        if (first && line.substr(0, 2) == "\\c") {
            line.remove_prefix(2);
        } else {
            buf += "\r\n" + reply_code + (last ? " " : "-");
            if (dsn_len > 0) buf += dsn + " ";
            added = true;
        }
        first = false;
        auto r = config::expand(line, hooks);
        if (r.status != config::ExpandStatus::ok) {
            failed = true;
            break;
        }
        buf += r.text;
        if (last) break;
        rest.remove_prefix(nl + 2);
    }
    if (failed)
        buf.resize(undo);
    else if (added)
        buf[code + 3] = '-';
    if (crlf_at_end) buf += "\r\n";
}

}  // namespace pf::postscreen
