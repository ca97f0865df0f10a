// Local-part quoting between internal and external address forms; see
// address_quote.h for the rules (the reference's quote_822_local).
#include "mail/address_quote.h"

namespace pf::mail {

namespace {

// Where the local-part starts: after a source route "@a,@b:" when present.
std::size_t route_end(std::string_view address) {
    if (!address.empty() && address.front() == '@') {
        auto colon = address.find(':');
        if (colon != std::string_view::npos) return colon + 1;
    }
    return 0;
}

bool is_ctrl(unsigned char c) { return c < 0x20 || c == 0x7f; }

}  // namespace

bool is_822_dot_string(std::string_view local, unsigned flags) {
    if (local.empty() || local.front() == '.' || local.back() == '.') return false;
    for (std::size_t i = 0; i < local.size(); ++i) {
        auto c = static_cast<unsigned char>(local[i]);
        if (c == 0) break;  // the reference stops at a NUL
        if (c == '.' && i + 1 < local.size() && local[i + 1] == '.') return false;
        if (c > 127 && !(flags & kQuote8BitClean)) return false;
        if (c == ' ' || is_ctrl(c)) return false;
        switch (c) {
        case '(': case ')': case '<': case '>': case ',': case ';': case ':':
        case '\\': case '"': case '[': case ']':
            return false;
        case '@':
            if (!(flags & kQuoteExposeAt)) return false;
            break;
        default:
            break;
        }
    }
    return true;
}

void quote_822_local_append(std::string& out, std::string_view address, unsigned flags) {
    std::size_t start = route_end(address);
    std::size_t end = address.size();
    if (!(flags & kQuoteBareLocalpart)) {
        auto at = address.rfind('@');
        if (at != std::string_view::npos && at >= start) end = at;
    }
    std::string_view local = address.substr(start, end - start);
    if (is_822_dot_string(local, flags)) {
        out.append(address);
        return;
    }
    out.append(address.substr(0, start));
    out.push_back('"');
    for (char ch : local) {
        auto c = static_cast<unsigned char>(ch);
        if ((c > 127 && !(flags & kQuote8BitClean)) || c == '"' || c == '\\' || c == '\r') out.push_back('\\');
        out.push_back(ch);
    }
    out.push_back('"');
    out.append(address.substr(end));
}

std::string quote_822_local(std::string_view address, unsigned flags) {
    std::string out;
    out.reserve(address.size() + 2);
    quote_822_local_append(out, address, flags);
    return out;
}

std::string address_for_log(std::string_view internal) {
    return internal.empty() ? std::string() : quote_822_local(internal);
}

std::string unquote_822_local(std::string_view address) {
    std::size_t start = route_end(address);
    std::string out(address.substr(0, start));
    bool in_quote = false;
    std::size_t at_out = std::string::npos;  // position of the last bare '@' in out
    std::size_t at_in = 0;
    for (std::size_t i = start; i < address.size(); ++i) {
        char c = address[i];
        if (c == '"') {
            in_quote = !in_quote;
            continue;
        }
        if (c == '@') {
            if (!in_quote) {
                at_out = out.size();
                at_in = i;
            }
        } else if (c == '\\') {
            if (i + 1 >= address.size()) continue;
            ++i;
            c = address[i];
        }
        out.push_back(c);
    }
    if (at_out != std::string::npos) {
        out.resize(at_out);
        out.append(address.substr(at_in));
    }
    return out;
}

}  // namespace pf::mail
