// smtp-sink(1) option helpers; see sink_config.h.
#include "sink_config.h"

#include "util/msg.h"

#include <cctype>
#include <climits>
#include <cstdlib>
#include <strings.h>

namespace pf::smtp_sink {

namespace {

bool same_name(std::string_view a, const char* b) {
    std::string_view bv(b);
    if (a.size() != bv.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(bv[i])))
            return false;
    return true;
}

CommandSpec& lookup_or_die(SinkConfig& cfg, std::string_view name) {
    int i = find_command(cfg, name);
    if (i < 0) util::msg_fatal("unknown command: {}", name);
    return cfg.commands[static_cast<std::size_t>(i)];
}

// Splits text at any of the separator characters, skipping empty pieces.
template <typename F>
void for_each_token(std::string_view text, std::string_view seps, F&& fn) {
    std::size_t pos = 0;
    while (pos < text.size()) {
        std::size_t start = text.find_first_not_of(seps, pos);
        if (start == std::string_view::npos) break;
        std::size_t end = text.find_first_of(seps, start);
        if (end == std::string_view::npos) end = text.size();
        fn(text.substr(start, end - start));
        pos = end;
    }
}

}  // namespace

int find_command(const SinkConfig& cfg, std::string_view name) {
    for (std::size_t i = 0; i < cfg.commands.size(); ++i)
        if (same_name(name, cfg.commands[i].name)) return static_cast<int>(i);
    return -1;
}

void set_commands_flags(SinkConfig& cfg, std::string_view list, unsigned flags) {
    for_each_token(list, ", \t\r\n", [&](std::string_view name) { lookup_or_die(cfg, name).flags |= flags; });
}

void clear_command_flags(SinkConfig& cfg, std::string_view name, unsigned flags) {
    lookup_or_die(cfg, name).flags &= ~flags;
}

void set_command_delay(SinkConfig& cfg, std::string_view name, int delay, int odds) {
    CommandSpec& spec = lookup_or_die(cfg, name);
    if (delay <= 0) util::msg_fatal("non-positive '{}' delay", name);
    if (odds < 0 || odds > 99) util::msg_fatal("delay odds for '{}' out of range", name);
    spec.delay = delay;
    spec.delay_odds = odds;
}

void set_command_delay_arg(SinkConfig& cfg, std::string_view arg) {
    // command, then delay, each after skipping ':'; the odds are the rest.
    std::size_t p = arg.find_first_not_of(':');
    std::string_view cmd, delay, odds;
    bool have_odds = false;
    if (p != std::string_view::npos) {
        std::size_t e = arg.find(':', p);
        cmd = arg.substr(p, e == std::string_view::npos ? arg.size() - p : e - p);
        p = e == std::string_view::npos ? arg.size() : e + 1;
        std::size_t q = arg.find_first_not_of(':', p);
        if (q != std::string_view::npos) {
            std::size_t f = arg.find(':', q);
            delay = arg.substr(q, f == std::string_view::npos ? arg.size() - q : f - q);
            if (f != std::string_view::npos && f + 1 < arg.size()) {
                odds = arg.substr(f + 1);
                have_odds = true;
            }
        }
    }
    if (cmd.empty() || delay.empty()) util::msg_fatal("invalid command delay argument: {}", arg);
    set_command_delay(cfg, cmd, c_atoi(delay), have_odds ? c_atoi(odds) : 0);
}

std::string unescape(std::string_view text) {
    std::string out;
    std::size_t i = 0;
    auto is_octal = [](char c) { return c >= '0' && c <= '7'; };
    while (i < text.size() && text[i] != '\0') {
        char ch = text[i++];
        if (ch == '\\') {
            if (i >= text.size() || text[i] == '\0') break;
            ch = text[i++];
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
                for (int n = 0; n < 2 && i < text.size() && is_octal(text[i]); ++n, ++i)
                    value = (value << 3) | (text[i] - '0');
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

int c_atoi(std::string_view text) {
    std::string copy(text);
    long v = std::strtol(copy.c_str(), nullptr, 10);
    if (v > INT_MAX) return INT_MAX;
    if (v < INT_MIN) return INT_MIN;
    return static_cast<int>(v);
}

}  // namespace pf::smtp_sink
