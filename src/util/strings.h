// Small string helpers shared by every library: trimming, splitting on a set
// of delimiters, and case-insensitive comparison. Pure functions, no I/O.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace pf::util {

inline constexpr std::string_view kWhitespace = " \t\r\n\v\f";
// The reference's list separators: whitespace and commas.
inline constexpr std::string_view kListSeparators = ", \t\r\n";

std::string_view trim(std::string_view s, std::string_view chars = kWhitespace);
std::string_view trim_left(std::string_view s, std::string_view chars = kWhitespace);
std::string_view trim_right(std::string_view s, std::string_view chars = kWhitespace);

// Splits on any run of delimiter characters; empty fields are dropped.
std::vector<std::string_view> split_tokens(std::string_view s, std::string_view delims = kWhitespace);

// Joins the whitespace-separated words of s with single spaces.
std::string collapse_whitespace(std::string_view s);

bool is_space(char c);
bool iequals(std::string_view a, std::string_view b);
std::string to_lower(std::string_view s);
// The same into out (its storage reused: no allocation once it is large
// enough), for per-key hot paths; s must not point into out.
void to_lower_into(std::string_view s, std::string& out);

// Reads a whole file; returns false with errno set on failure, and names the
// step that failed ("open" or "read") in failed_step when given.
bool read_file(const std::string& path, std::string& out, const char** failed_step = nullptr);

}  // namespace pf::util
