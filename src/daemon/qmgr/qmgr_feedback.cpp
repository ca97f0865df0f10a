// Parsing of the concurrency feedback settings; see qmgr_feedback.h.
#include "daemon/qmgr/qmgr_feedback.h"

#include "util/msg.h"

#include <cctype>
#include <charconv>
#include <climits>
#include <cstdlib>
#include <optional>

namespace pf::qmgr {

namespace {

std::string_view trim_left(std::string_view s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
    return s;
}

// A leading floating-point number (as scanf's %lf would take it); the rest
// of the text is left in s.
std::optional<double> take_number(std::string_view& s) {
    s = trim_left(s);
    std::string copy(s);
    char* end = nullptr;
    double value = std::strtod(copy.c_str(), &end);
    if (end == copy.c_str()) return std::nullopt;
    s.remove_prefix(static_cast<std::size_t>(end - copy.c_str()));
    return value;
}

bool within(double value, double low, double high) { return value >= low && value <= high; }

}  // namespace

Feedback parse_feedback(std::string_view text, std::string_view warn_name) {
    Feedback fb;
    double base = -1;
    std::string_view rest = text;
    if (auto number = take_number(rest)) {
        rest = trim_left(rest);
        if (rest.empty()) {
            base = *number;
        } else if (rest.front() == '/') {
            rest.remove_prefix(1);
            rest = trim_left(rest);
            // The denominator is one word; nothing may follow it.
            std::size_t len = 0;
            while (len < rest.size() && !std::isspace(static_cast<unsigned char>(rest[len]))) ++len;
            std::string_view denom = rest.substr(0, len);
            std::string_view after = rest.substr(len);
            if (!denom.empty() && len <= 30 && after.empty()) {
                if (denom == "concurrency") {
                    fb.per_window = true;
                    base = *number;
                } else if (within(*number, 0, INT_MAX)) {
                    std::string_view d = denom;
                    auto dv = take_number(d);
                    if (dv && d.empty() && within(*dv, 1.0 / INT_MAX, INT_MAX)) base = *number / *dv;
                }
            }
        }
    }
    if (!within(base, 0, 1)) {
        util::msg_warn("{}: ignoring malformed or unreasonable feedback: {}", warn_name, text);
        fb.per_window = false;
        base = 1;
    }
    fb.base = base;
    return fb;
}

}  // namespace pf::qmgr
