// master.cf reader; see master_cf.h.
#include "config/master_cf.h"

#include "config/logical_lines.h"
#include "config/main_cf.h"
#include "util/brace_tokens.h"
#include "util/msg.h"
#include "util/strings.h"

#include <array>
#include <cerrno>
#include <cstring>

namespace pf::config {
namespace {

// White space as master.cf fields and arguments are split on.
constexpr std::string_view kBlanks = " \t\r\n";

constexpr std::array<std::string_view, kMasterFields> kFieldNames = {
    "service", "type", "private", "unprivileged", "chroot", "wakeup", "process_limit", "command"};

// One argument word after brace removal; braced tells whether it was "{...}".
struct Word {
    std::string text;
    bool braced = false;
};

// Removes the braces of a "{...}" word (warning as the reference does).
Word extract(std::string_view raw) {
    if (raw.empty() || raw.front() != '{') return Word{std::string(raw), false};
    auto b = util::strip_braces(raw);
    if (!b.error.empty()) util::msg_warn("master.cf: {}", b.error);
    return Word{std::string(util::trim(b.inner, kBlanks)), true};
}

bool all_digits(std::string_view s) {
    for (char c : s)
        if (c < '0' || c > '9') return false;
    return true;
}

// A braced "-o" value becomes name=value; other values stay as written.
void normalise_option_value(Word& w) {
    if (!w.braced) return;
    std::string error;
    if (auto nv = split_name_value(w.text, error)) {
        w.text = nv->name + "=" + nv->value;
    } else {
        util::msg_warn("master.cf: {}: \"{}\"", error, w.text);
    }
}

// Whether an option word takes the next word along: "-o..." or a lone "-"
// (the reference tests the letter after the '-' against "o", and a lone "-"
// passes that test with its terminating null).
bool takes_value(std::string_view a) { return a.size() == 1 || a[1] == 'o'; }

// Splits option clusters and "-oname=value" words of the leading options;
// words written in braces are options too but are not split.
void normalise_options(std::vector<Word>& words) {
    size_t i = 0;
    while (i < words.size()) {
        std::string a = words[i].text;
        if (a.empty() || a[0] != '-' || a == "--") break;
        if (!words[i].braced) {
            // "-stuffo..." becomes "-stuff" and "-o...".
            if (size_t p = a.find('o', 2); p != std::string::npos) {
                words.insert(words.begin() + static_cast<long>(i) + 1, Word{"-" + a.substr(p), false});
                a.resize(p);
                words[i].text = a;
            }
            if (a.starts_with("-o") && a.size() > 2) {
                Word value = extract(std::string_view(a).substr(2));
                words[i].text = a = "-o";
                words.insert(words.begin() + static_cast<long>(i) + 1, std::move(value));
            }
        }
        if (takes_value(a) && i + 1 < words.size()) {
            ++i;
            if (a == "-o") normalise_option_value(words[i]);
        }
        ++i;
    }
}

}  // namespace

std::string_view master_field_name(int index) {
    return index >= 0 && index < kMasterFields ? kFieldNames[static_cast<size_t>(index)] : std::string_view{};
}

std::optional<int> master_field_index(std::string_view name) {
    for (int i = 0; i < kMasterFields; ++i)
        if (kFieldNames[static_cast<size_t>(i)] == name) return i;
    return std::nullopt;
}

std::string& MasterEntry::field(int index) {
    std::string* f[] = {&name, &type, &private_, &unpriv, &chroot, &wakeup, &maxproc, &command};
    return *f[index];
}

const std::string& MasterEntry::field(int index) const {
    return const_cast<MasterEntry*>(this)->field(index);
}

const std::string* MasterEntry::param(std::string_view n) const {
    const std::string* found = nullptr;
    for (const auto& p : params)
        if (p.name == n) found = &p.value;
    return found;
}

std::optional<std::string> check_master_field(int index, std::string_view value, std::string_view context) {
    bool ok = true;
    switch (index) {
    case 1:
        ok = value == "inet" || value == "unix" || value == "unix-dgram" || value == "fifo" || value == "pass";
        break;
    case 2:
    case 3:
    case 4:
        ok = value.empty() || value == "y" || value == "n" || value == "-";
        break;
    case 5: {
        std::string_view v = value;
        if (v.ends_with('?')) v.remove_suffix(1);
        ok = v == "-" || all_digits(v);
        break;
    }
    case 6:
        ok = value == "-" || all_digits(value);
        break;
    default:
        break;
    }
    if (ok) return std::nullopt;
    return "invalid " + std::string(master_field_name(index)) + " field \"" + std::string(value) + "\" in \"" +
           std::string(context) + "\"";
}

void rescan_master_options(MasterEntry& e) {
    e.params.clear();
    size_t i = 0;
    const auto& args = e.args;
    while (i < args.size()) {
        const std::string& a = args[i];
        if (a.empty() || a[0] != '-' || a == "--") break;
        if (takes_value(a) && i + 1 < args.size()) {
            ++i;
            std::string error;
            if (a == "-o")
                if (auto nv = split_name_value(args[i], error)) e.params.push_back(MasterParam{nv->name, nv->value});
        }
        ++i;
    }
    e.options_end = i;
}

namespace {

void set_arguments(MasterEntry& e, std::string_view rest) {
    std::vector<Word> words;
    while (auto t = util::next_braced_token(rest, kBlanks)) words.push_back(extract(*t));
    normalise_options(words);
    e.args.clear();
    for (auto& w : words) e.args.push_back(std::move(w.text));
    rescan_master_options(e);
}

// Takes the next word off the front of text; fields too are split on white
// space outside "{...}" (their braces are kept).
std::optional<std::string_view> next_word(std::string_view& text) {
    return util::next_braced_token(text, kBlanks);
}

}  // namespace

bool set_master_command(MasterEntry& e, std::string_view text) {
    auto cmd = next_word(text);
    if (!cmd) return false;
    e.command = std::string(*cmd);
    set_arguments(e, text);
    return true;
}

std::expected<MasterEntry, MasterError> parse_master_entry(std::string_view text) {
    MasterEntry e;
    e.text = std::string(text);
    std::string_view rest = text;
    for (int i = 0; i < kMasterFields; ++i) {
        auto w = next_word(rest);
        if (!w) return std::unexpected(MasterError{MasterError::field_count, "bad field count"});
        e.field(i) = std::string(*w);
    }
    for (int i = 1; i < kMasterFields - 1; ++i) {
        if (auto err = check_master_field(i, e.field(i), text))
            return std::unexpected(MasterError{MasterError::invalid_field, std::move(*err)});
    }
    set_arguments(e, rest);
    return e;
}

std::vector<std::string> split_master_words(std::string_view text) {
    std::vector<std::string> words;
    while (auto t = util::next_braced_token(text, kBlanks)) words.emplace_back(*t);
    return words;
}

std::vector<MasterEntry> parse_master_cf(std::string_view content, std::string_view origin) {
    std::vector<MasterEntry> entries;
    for (const auto& line : read_logical_lines(content, origin)) {
        auto e = parse_master_entry(line.text);
        if (!e) {
            if (e.error().kind == MasterError::field_count)
                util::msg_fatal("file {}: line {}: bad field count", origin, line.first_line);
            util::msg_fatal_text(e.error().message);
        }
        e->first_line = line.first_line;
        e->last_line = line.last_line;
        entries.push_back(std::move(*e));
    }
    return entries;
}

std::vector<MasterEntry> load_master_cf(const std::string& path, bool must_exist) {
    std::string content;
    if (!util::read_file(path, content)) {
        if (must_exist) util::msg_fatal("open {}: {}", path, std::strerror(errno));
        util::msg_warn("open {}: {}", path, std::strerror(errno));
        return {};
    }
    return parse_master_cf(content, path);
}

}  // namespace pf::config
