// master.cf(5) reader: one service per logical line, eight fields followed by
// the command's arguments, checked and normalised the way postconf(1) of the
// reference reads them (postconf -M/-F/-P display and the master.cf edits).
//
// What the reference does, as observed on Postfix 3.7.11:
//  - The line is split on white space outside "{...}"; fewer than eight is
//    "bad field count". The type must be inet, unix, unix-dgram, fifo or pass;
//    private, unprivileged and chroot one of y, n, - (or empty); wakeup
//    digits or "-", optionally followed by one "?"; process_limit digits or
//    "-". A bad value is "invalid <field> field \"v\" in \"<entry>\"".
//  - Arguments after the command are split on white space outside "{...}";
//    every "{...}" argument loses its braces and surrounding blanks ("missing
//    '}'" and "syntax error after '}'" are warnings).
//  - Leading options (up to the first word not starting with '-', or "--")
//    are normalised: "-vDo x" becomes "-vD" "-o" "x", every 'o' after the
//    first letter of an option word starts a new "-o", "-oname=value" becomes
//    "-o" "name=value"; the word after "-o" (or after a lone "-") is its value.
//    A "-o" value that was written in braces is rewritten as name=value
//    without blanks around '=' ("missing attribute name" / "missing '=' after
//    attribute name" are warnings).
//  - Diagnostics about braces and -o values name "master.cf", not the path.
//
// Trust: admin-written but arbitrary bytes (NULs, huge lines); malformed
// entries are reported in the reference's words, never a crash. Memory is
// linear in the input.
#pragma once

#include <cstddef>
#include <expected>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pf::config {

inline constexpr int kMasterFields = 8;

// The names postconf -F uses for the eight fields, in order.
std::string_view master_field_name(int index);
// Index of a field name, or nullopt.
std::optional<int> master_field_index(std::string_view name);

struct MasterParam {
    std::string name;
    std::string value;
};

struct MasterEntry {
    std::string name;     // service name (or address:port for inet)
    std::string type;     // inet unix unix-dgram fifo pass
    std::string private_; // y n -
    std::string unpriv;
    std::string chroot;
    std::string wakeup;
    std::string maxproc;
    std::string command;  // daemon name, first word of field 8
    // Arguments after the command, braces removed and options normalised
    // (see above). A "-o" is always followed by its value when it has one.
    std::vector<std::string> args;
    // Index into args of the first word after the leading options (the word
    // that ended them), or args.size() when every argument is an option.
    size_t options_end = 0;
    // "-o name=value" settings among the leading options, in order; a name may
    // repeat (the last one counts).
    std::vector<MasterParam> params;
    std::string text;     // the logical line as read, for diagnostics
    int first_line = 0;
    int last_line = 0;

    std::string& field(int index);
    const std::string& field(int index) const;
    // The value of the last "-o name=..." setting, or nullptr.
    const std::string* param(std::string_view name) const;
};

// Why an entry could not be read. field_count: fewer than eight fields;
// invalid_field: message holds the whole diagnostic text.
struct MasterError {
    enum Kind { field_count, invalid_field } kind;
    std::string message;
};

// Checks one field's value (index 1..6 are checked; others always pass).
// On error returns "invalid <field> field \"value\" in \"context\"".
std::optional<std::string> check_master_field(int index, std::string_view value, std::string_view context);

// Parses one logical line (continuation lines joined). Brace and -o warnings
// are issued as the text is read.
std::expected<MasterEntry, MasterError> parse_master_entry(std::string_view text);

// Replaces the command and its arguments by those in text ("cmd args...").
// Returns false when text holds no command.
bool set_master_command(MasterEntry& e, std::string_view text);

// Recomputes options_end and params from args after args were edited in
// their normalised form (nothing is re-split or re-parsed).
void rescan_master_options(MasterEntry& e);

// Splits text into words on white space; "{ ... }" groups (nested) stay one
// word, braces kept.
std::vector<std::string> split_master_words(std::string_view text);

// Parses master.cf content. Every entry must be well formed: a bad one is
// fatal ("file <origin>: line <n>: bad field count", or the field message).
std::vector<MasterEntry> parse_master_cf(std::string_view content, std::string_view origin);
// Reads a file. A missing or unreadable file warns and gives no entries, or
// is fatal when must_exist (as postconf -M/-F/-P).
std::vector<MasterEntry> load_master_cf(const std::string& path, bool must_exist = false);

}  // namespace pf::config
