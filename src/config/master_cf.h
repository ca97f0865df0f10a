// master.cf(5) reader: one service per logical line, eight fields followed by
// the command's arguments. Arguments may be grouped with "{ ... }" as the
// reference allows ("-o { name = value with spaces }").
//
// Trust: admin-written but arbitrary bytes; malformed entries are reported in
// the reference's words.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace pf::config {

struct MasterEntry {
    std::string name;     // service name (or address:port for inet)
    std::string type;     // inet unix unix-dgram fifo pass
    std::string private_; // y n -
    std::string unpriv;
    std::string chroot;
    std::string wakeup;
    std::string maxproc;
    std::string command;  // daemon name, first word of field 8
    std::vector<std::string> args;  // the words after the command, braces kept
    int first_line = 0;
    int last_line = 0;
};

// Splits text into words on white space; "{ ... }" groups (nested) stay one word.
std::vector<std::string> split_master_words(std::string_view text);

// Parses master.cf content. Returns the entries in file order.
std::vector<MasterEntry> parse_master_cf(std::string_view content, std::string_view origin);
// Reads a file; a missing file warns as the reference does and gives no entries.
std::vector<MasterEntry> load_master_cf(const std::string& path);

}  // namespace pf::config
