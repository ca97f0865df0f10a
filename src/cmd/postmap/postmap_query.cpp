// postmap(1) reading and changing tables: -q key, -q - (keys from standard
// input), -d key, -d - and -s, as the reference does them:
//  - -q key asks each table in turn, opening it only when the previous ones
//    did not have the key; it prints the value; exit 0 when found, 1 if not;
//  - -q - reads one key per line (a NUL ends the key) and prints
//    "key<TAB>value" for the first table that has it; tables open on first
//    use; exit 0 when some key was found;
//  - -d key deletes the key from every table (exit 0 when one had it); -d -
//    opens every table first, then deletes each line's key from all;
//  - -s lists the first table as "key<TAB>value" lines;
//  - postalias shares these with "key:<TAB>value" lines (pair_separator);
//  - an empty value warns "table T:N: key K: empty string result is not
//    allowed" and "table T:N should return NO RESULT in case of NOT FOUND"
//    and is printed; with -F values are base64-decoded for output;
//  - errors are fatal: "table T:N: query error[: reason]", "delete error",
//    "sequence error", or the table's own "operation is not supported".
//
// Trust: keys from standard input are arbitrary bytes; values are printed
// as the table holds them.
#include "cmd/postmap/postmap.h"

#include "util/base64.h"
#include "util/msg.h"

#include <fcntl.h>

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <vector>

namespace pf::postmap {
namespace {

std::string_view c_string(std::string_view s) {
    auto nul = s.find('\0');
    return nul == std::string_view::npos ? s : s.substr(0, nul);
}

// Standard output as the reference buffers it: written in 4096-byte
// blocks and when a command is done; what is still buffered when a fatal
// error ends the program is lost, as with the reference.
class Output {
public:
    void put(std::string_view text) {
        while (!text.empty()) {
            size_t n = std::min(text.size(), kSize - buf_.size());
            buf_.append(text.substr(0, n));
            text.remove_prefix(n);
            if (buf_.size() == kSize) flush();
        }
    }
    void flush() {
        size_t off = 0;
        while (off < buf_.size()) {
            ssize_t n = ::write(1, buf_.data() + off, buf_.size() - off);
            if (n < 0) {
                if (errno == EINTR) continue;
                break;
            }
            off += static_cast<size_t>(n);
        }
        buf_.clear();
    }

private:
    static constexpr size_t kSize = 4096;
    std::string buf_;
};

Output& out() {
    static Output o;
    return o;
}

void print(std::string_view text) { out().put(text); }

}  // namespace

void print_output(std::string_view text) { out().put(text); }
void flush_output() { out().flush(); }

namespace {

void print_line(std::string_view a) {
    print(c_string(a));
    print("\n");
}

void print_pair(std::string_view key, std::string_view value, const Options& opts) {
    print(c_string(key));
    print(opts.pair_separator);
    print(c_string(value));
    print("\n");
}

// Standard input read in large blocks (read(2), no per-byte stdio call),
// split at newlines. The end of input, or a read error, is final, as for
// the stdio stream it replaces.
class StdinLines {
public:
    // One line without its newline; false at the end.
    bool next(std::string& line) {
        line.clear();
        bool any = false;
        for (;;) {
            if (pos_ == len_ && !fill()) return any;
            any = true;
            const char* start = buf_ + pos_;
            const void* nl = std::memchr(start, '\n', len_ - pos_);
            if (nl) {
                size_t n = static_cast<size_t>(static_cast<const char*>(nl) - start);
                line.append(start, n);
                pos_ += n + 1;
                return true;
            }
            line.append(start, len_ - pos_);
            pos_ = len_;
        }
    }

private:
    bool fill() {
        if (done_) return false;
        for (;;) {
            ssize_t n = ::read(0, buf_, sizeof buf_);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) {
                done_ = true;
                return false;
            }
            pos_ = 0;
            len_ = static_cast<size_t>(n);
            return true;
        }
    }

    char buf_[65536];
    size_t pos_ = 0;
    size_t len_ = 0;
    bool done_ = false;
};

bool read_line(std::string& line) {
    static StdinLines input;
    return input.next(line);
}

[[noreturn]] void query_failed(const dict::Dict& d, const dict::Error& e) {
    if (e.kind == dict::Error::Kind::config || e.text.empty()) util::msg_fatal("table {}: query error", d.type_name());
    util::msg_fatal("table {}: query error: {}", d.type_name(), e.text);
}

void warn_empty(std::string_view table, std::string_view key) {
    util::msg_warn("table {}: key {}: empty string result is not allowed", table, key);
    util::msg_warn("table {} should return NO RESULT in case of NOT FOUND", table);
}

// A lookup as postmap makes it: with -F the value is decoded, and a value
// that does not decode is an error of the table.
struct Answer {
    bool found = false;
    bool failed = false;
    dict::Error error{dict::Error::Kind::config, {}};
    std::string value;
};

Answer ask(dict::Dict& d, std::string_view key, const Options& opts) {
    dict::LookupResult r = d.lookup(key);
    Answer a;
    if (r.is_error()) {
        a.failed = true;
        a.error = r.error();
        return a;
    }
    if (r.is_not_found()) return a;
    a.found = true;
    a.value = r.value();
    if (opts.dict_flags & dict::kSrcRhsIsFile) {
        auto decoded = decode_file_value(d, key, a.value);
        if (!decoded) {
            a.found = false;
            a.failed = true;
            return a;
        }
        a.value = std::move(*decoded);
    }
    return a;
}

int delete_flags(const MapSpec& map) { return map.type == "proxy" ? (O_RDWR | O_CREAT) : O_RDWR; }

// Deletes key from d; true when it was there.
bool delete_one(dict::Dict& d, std::string_view key) {
    dict::ChangeStatus s = d.remove(key);
    if (s == dict::ChangeStatus::failed) {
        const dict::Error& e = d.last_error();
        if (e.kind == dict::Error::Kind::retry) util::msg_fatal("table {}: delete error: {}", d.type_name(), e.text);
        util::msg_fatal("{}", e.text);
    }
    return s == dict::ChangeStatus::done;
}

void close_or_die(dict::Dict& d) {
    if (auto r = d.close(); !r) util::msg_fatal("{}", r.error().text);
}

}  // namespace

std::optional<std::string> decode_file_value(const dict::Dict& d, std::string_view key, std::string_view value) {
    auto decoded = util::base64_decode(value);
    if (!decoded) util::msg_warn("table {}: key {}: malformed BASE64 value: {}", d.type_name(), key, value);
    return decoded;
}

int query_key(char** maps, int count, const Options& opts) {
    for (int i = 0; i < count; ++i) {
        MapSpec map = split_map(maps[i], opts.default_type);
        auto d = open_or_die(map, O_RDONLY, opts.dict_flags | dict::kLock);
        std::string_view key = c_string(opts.query);
        Answer a = ask(*d, key, opts);
        if (a.found) {
            if (a.value.empty()) warn_empty(map.full(), key);
            print_line(a.value);
        }
        if (a.failed) query_failed(*d, a.error);
        out().flush();
        close_or_die(*d);
        if (a.found) return 0;
    }
    return 1;
}

int query_stdin(char** maps, int count, const Options& opts) {
    std::vector<dict::DictPtr> dicts(static_cast<size_t>(count));
    bool found_any = false;
    std::string line;
    while (read_line(line)) {
        std::string_view key = c_string(line);
        for (int i = 0; i < count; ++i) {
            auto& d = dicts[static_cast<size_t>(i)];
            if (!d) d = open_or_die(split_map(maps[i], opts.default_type), O_RDONLY, opts.dict_flags | dict::kLock);
            Answer a = ask(*d, key, opts);
            if (a.found) {
                if (a.value.empty()) warn_empty(d->type_name(), key);
                print_pair(key, a.value, opts);
                found_any = true;
                break;
            }
            if (a.failed) query_failed(*d, a.error);
        }
    }
    out().flush();
    for (auto& d : dicts)
        if (d) close_or_die(*d);
    return found_any ? 0 : 1;
}

int delete_key(char** maps, int count, const Options& opts) {
    bool found = false;
    std::string_view key = c_string(opts.delete_key);
    for (int i = 0; i < count; ++i) {
        MapSpec map = split_map(maps[i], opts.default_type);
        auto d = open_or_die(map, delete_flags(map), opts.dict_flags | dict::kLock);
        if (delete_one(*d, key)) found = true;
        close_or_die(*d);
    }
    return found ? 0 : 1;
}

int delete_stdin(char** maps, int count, const Options& opts) {
    std::vector<dict::DictPtr> dicts;
    for (int i = 0; i < count; ++i) {
        MapSpec map = split_map(maps[i], opts.default_type);
        dicts.push_back(open_or_die(map, delete_flags(map), opts.dict_flags | dict::kLock));
    }
    bool found = false;
    std::string line;
    while (read_line(line)) {
        std::string_view key = c_string(line);
        for (auto& d : dicts)
            if (delete_one(*d, key)) found = true;
    }
    for (auto& d : dicts) close_or_die(*d);
    return found ? 0 : 1;
}

void show_table(const MapSpec& map, const Options& opts) {
    if (map.type == "proxy") util::msg_fatal("can't sequence maps via the proxy service");
    auto d = open_or_die(map, O_RDONLY, opts.dict_flags | dict::kLock);
    auto where = dict::SequenceStart::first;
    while (auto e = d->sequence(where)) {
        where = dict::SequenceStart::next;
        if (c_string(e->key).empty()) util::msg_warn("table {}: empty lookup key value is not allowed", map.full());
        std::string value = e->value;
        if (c_string(value).empty()) warn_empty(map.full(), c_string(e->key));
        if (opts.dict_flags & dict::kSrcRhsIsFile) {
            auto decoded = util::base64_decode(value);
            if (!decoded) {
                util::msg_warn("table {}: key {}: malformed BASE64 value: {}", d->type_name(), c_string(e->key), value);
                continue;
            }
            value = std::move(*decoded);
        }
        print_pair(e->key, value, opts);
    }
    const dict::Error& err = d->last_error();
    if (!err.text.empty()) {
        if (err.kind == dict::Error::Kind::retry) util::msg_fatal("table {}: sequence error: {}", d->type_name(), err.text);
        util::msg_fatal("{}", err.text);
    }
    out().flush();
    close_or_die(*d);
}

}  // namespace pf::postmap
