// String helpers; see strings.h.
#include "util/strings.h"

#include <cctype>
#include <cerrno>
#include <fcntl.h>
#include <unistd.h>

namespace pf::util {

std::string_view trim_left(std::string_view s, std::string_view chars) {
    auto p = s.find_first_not_of(chars);
    return p == std::string_view::npos ? std::string_view{} : s.substr(p);
}

std::string_view trim_right(std::string_view s, std::string_view chars) {
    auto p = s.find_last_not_of(chars);
    return p == std::string_view::npos ? std::string_view{} : s.substr(0, p + 1);
}

std::string_view trim(std::string_view s, std::string_view chars) {
    return trim_right(trim_left(s, chars), chars);
}

std::vector<std::string_view> split_tokens(std::string_view s, std::string_view delims) {
    std::vector<std::string_view> out;
    size_t i = 0;
    while (i < s.size()) {
        i = s.find_first_not_of(delims, i);
        if (i == std::string_view::npos) break;
        size_t j = s.find_first_of(delims, i);
        if (j == std::string_view::npos) j = s.size();
        out.push_back(s.substr(i, j - i));
        i = j;
    }
    return out;
}

std::string collapse_whitespace(std::string_view s) {
    std::string out;
    for (auto w : split_tokens(s, " \t\r\n\v\f")) {
        if (!out.empty()) out += ' ';
        out += w;
    }
    return out;
}

bool is_space(char c) {
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i)
        if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i])))
            return false;
    return true;
}

// The programs never call setlocale(), so tolower() is the C locale's: only
// 'A'..'Z' change. Done here without a libc call per byte.
namespace {
inline char ascii_lower(char c) {
    return static_cast<unsigned char>(c - 'A') < 26 ? static_cast<char>(c + ('a' - 'A')) : c;
}
}  // namespace

void to_lower_into(std::string_view s, std::string& out) {
    out.resize(s.size());
    char* d = out.data();
    for (size_t i = 0; i < s.size(); ++i) d[i] = ascii_lower(s[i]);
}

std::string to_lower(std::string_view s) {
    std::string out;
    to_lower_into(s, out);
    return out;
}

bool read_file(const std::string& path, std::string& out, const char** failed_step) {
    if (failed_step) *failed_step = "open";
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return false;
    if (failed_step) *failed_step = "read";
    out.clear();
    char buf[65536];
    for (;;) {
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0) {
            if (errno == EINTR) continue;
            int saved = errno;
            ::close(fd);
            errno = saved;
            return false;
        }
        if (n == 0) break;
        out.append(buf, static_cast<size_t>(n));
    }
    ::close(fd);
    return true;
}

}  // namespace pf::util
