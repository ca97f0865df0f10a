// postscreen(8)'s last-resort command editing, postscreen_command_filter,
// as the reference's built-in SMTP engine does it: once a whole command
// line is in, and when it is valid UTF-8 (checked only with smtputf8_enable
// on), the line without its leading blanks is looked up in the table
// (opened with locking and fixed-case folding); an answer replaces the
// whole line, logged "[addr]:port: replacing command "<old>" with
// "<new>"" (each shown up to 100 bytes); a table error is fatal.
//
// Trust: the line is a hostile client's; it is only a lookup key and a
// log argument (the log layer makes it printable). The table's answer is
// configuration and is parsed by the engine like any client line.
#include "daemon/postscreen/postscreen_state.h"

#include "mail/address_surrogate.h"
#include "util/msg.h"
#include "util/utf8.h"

#include <fcntl.h>

#include <algorithm>
#include <memory>

namespace pf::postscreen {

namespace {

dict::DictPtr g_filter;

std::string_view head(std::string_view text, std::size_t max) { return text.substr(0, std::min(text.size(), max)); }

}  // namespace

void command_filter_init(const config::Config& cfg) {
    g_filter.reset();
    const std::string name = cfg.get("postscreen_command_filter");
    if (name.empty()) return;
    auto t = mail::open_table_or_surrogate(name, O_RDONLY, dict::kLock | dict::kFoldFixed);
    if (!t) util::msg_fatal("{}", t.error());
    g_filter = std::move(*t);
}

void command_filter_apply(const Session& s, std::string& line) {
    if (!g_filter) return;
    // The reference works on a C string: nothing after a NUL byte.
    if (auto nul = line.find('\0'); nul != std::string::npos) line.resize(nul);
    if (settings().smtputf8 && !util::valid_utf8(line)) return;
    std::string_view key = line;
    std::size_t b = key.find_first_not_of(" \t");
    key.remove_prefix(b == std::string_view::npos ? key.size() : b);
    auto r = g_filter->lookup(key);
    if (r.is_found()) {
        std::string replacement = r.value();
        util::msg_info("[{}]:{}: replacing command \"{}\" with \"{}\"", s.addr, s.port, head(line, 100),
                       head(replacement, 100));
        line = std::move(replacement);
    } else if (r.is_error()) {
        util::msg_fatal("{} lookup error for \"{}\"", g_filter->type_name(), head(line, 100));
    }
}

}  // namespace pf::postscreen
