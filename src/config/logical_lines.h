// Splits a configuration file into logical lines the way the reference reads
// main.cf and master.cf: a line starting with white space continues the
// previous logical line; blank lines and lines whose first non-blank character
// is '#' are skipped (they do not end a logical line). Text before the first
// logical line that starts with white space is reported and dropped.
//
// Trust: any byte sequence; memory is bounded by the input size.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace pf::config {

struct LogicalLine {
    std::string text;  // physical lines joined without their newlines
    int first_line;    // 1-based number of the first physical line
    int last_line;
};

// origin names the file in warnings ("/etc/postfix/main.cf").
std::vector<LogicalLine> read_logical_lines(std::string_view content, std::string_view origin);

// Physical lines without their newline characters.
std::vector<std::string_view> physical_lines(std::string_view content);

}  // namespace pf::config
