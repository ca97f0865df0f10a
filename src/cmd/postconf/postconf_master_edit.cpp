// postconf(1) master.cf editing: -Me (add or replace whole entries), -MX
// (remove), -M# (comment out), -Fe (set one field), -Pe / -PX (set or remove
// a "-o name=value" setting).
//
// Reproduces the reference's observed rewrite of master.cf, line by line:
//  - comment and blank lines are copied where they are, also inside an entry;
//  - lines of entries no request names are copied unchanged;
//  - -Me writes the new entry (in -Mf layout) at the first line of the first
//    entry its pattern or its own name/type matches, later matches are
//    dropped, and an entry that matched nothing is appended;
//  - -MX drops the entry's lines, -M# puts '#' before each of them;
//  - -Fe/-Pe/-PX read the whole entry, change it, and write it in -Mf layout
//    where the next entry starts (so comments inside or after it come first);
//    only those entries are parsed, and a bad one is fatal with a line number
//    that, like the reference's, does not count lines read after the first
//    line of an entry an -F/-P request matched.
// The new file is written to master.cf.tmp and renamed over master.cf.
//
// Trust: master.cf and the command-line arguments are admin input; every
// request is checked before the file is touched.
#include "postconf.h"
#include "postconf_master_format.h"

#include "config/main_cf.h"
#include "util/msg.h"
#include "util/strings.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <optional>

namespace pf::postconf {
namespace {

enum class Mode { entry_set, entry_remove, entry_comment, field_set, param_set, param_remove };

struct Request {
    std::string arg;
    std::vector<std::string> pattern;  // name, type[, field or parameter]
    std::string value;                 // -Me entry text, -Fe/-Pe value
    std::optional<config::MasterEntry> entry;  // -Me
    int field = -1;                    // -Fe
    bool matched = false;
};

bool matches(const std::vector<std::string>& pattern, std::string_view name, std::string_view type) {
    auto part = [](const std::string& p, std::string_view v) { return p == "*" || p == v; };
    return pattern.size() >= 2 && part(pattern[0], name) && part(pattern[1], type);
}

std::pair<std::string, std::string> split_assignment(const std::string& arg) {
    std::string error;
    auto nv = config::split_name_value(arg, error);
    if (!nv) util::msg_fatal("{}: \"{}\"", error, arg);
    return {nv->name, nv->value};
}

std::vector<std::string> service_pattern(const std::string& key, size_t parts, const char* usage) {
    auto p = split_service_pattern(key);
    if (p.size() != parts) util::msg_fatal("{}", usage);
    for (const auto& s : p)
        if (s.empty()) util::msg_fatal("{}", usage);
    return p;
}

std::vector<Request> parse_requests(const State& st, Mode mode) {
    std::vector<Request> out;
    for (const auto& arg : st.opts.args) {
        Request r;
        r.arg = arg;
        switch (mode) {
        case Mode::entry_set: {
            auto [key, value] = split_assignment(arg);
            r.pattern = service_pattern(key, 2, "-Me, -MX or -M# requires service_name/type");
            r.value = value;
            break;
        }
        case Mode::entry_remove:
        case Mode::entry_comment:
            r.pattern = service_pattern(arg, 2, "-Me, -MX or -M# requires service_name/type");
            break;
        case Mode::field_set: {
            auto [key, value] = split_assignment(arg);
            r.pattern = service_pattern(key, 3, "-Fe or -FX requires service_name/type/field_name");
            auto f = config::master_field_index(r.pattern[2]);
            if (!f) util::msg_fatal("invalid service attribute name: \"{}\"", r.pattern[2]);
            r.field = *f;
            if (r.field != config::kMasterFields - 1 && value.find_first_of(" \t\r\n") != std::string::npos)
                util::msg_fatal("-Fe does not accept whitespace in non-command field");
            r.value = value;
            break;
        }
        case Mode::param_set: {
            auto [key, value] = split_assignment(arg);
            r.pattern = service_pattern(key, 3, "-Pe or -PX requires service_name/type/parameter");
            if (value.find_first_of(" \t\r\n") != std::string::npos)
                util::msg_fatal("-Pe does not accept whitespace in parameter value");
            r.value = value;
            break;
        }
        case Mode::param_remove:
            r.pattern = service_pattern(arg, 3, "-Pe or -PX requires service_name/type/parameter");
            break;
        }
        out.push_back(std::move(r));
    }
    return out;
}

// The checks of -Me entries the reference makes after it has created
// master.cf.tmp (a failure leaves that file behind, as there). An -Fe value
// is checked only when it is applied to a matching entry.
void check_request_values(std::vector<Request>& requests, Mode mode) {
    for (auto& r : requests) {
        if (mode == Mode::entry_set) {
            auto e = config::parse_master_entry(r.value);
            if (!e) {
                if (e.error().kind == config::MasterError::field_count)
                    util::msg_fatal("bad field count: \"{}\"", r.arg);
                util::msg_fatal_text(e.error().message);
            }
            r.entry = std::move(*e);
        }
    }
}

// The parameter name an argument "name=value" sets, or empty.
std::string setting_name(const std::string& arg) {
    std::string error;
    auto nv = config::split_name_value(arg, error);
    return nv ? nv->name : std::string();
}

void set_param(config::MasterEntry& e, const std::string& name, const std::string& value) {
    bool found = false;
    for (size_t i = 0; i + 1 < e.args.size() && i < e.options_end; ++i) {
        if (is_option_value(e, i + 1) && setting_name(e.args[i + 1]) == name) {
            e.args[i + 1] = name + "=" + value;
            found = true;
        }
    }
    if (!found) {
        auto at = e.args.begin() + static_cast<long>(e.options_end);
        at = e.args.insert(at, name + "=" + value);
        e.args.insert(at, "-o");
    }
    config::rescan_master_options(e);
}

void remove_param(config::MasterEntry& e, const std::string& name) {
    for (size_t i = 0; i + 1 < e.args.size() && i < e.options_end;) {
        if (is_option_value(e, i + 1) && setting_name(e.args[i + 1]) == name) {
            e.args.erase(e.args.begin() + static_cast<long>(i), e.args.begin() + static_cast<long>(i) + 2);
            config::rescan_master_options(e);
            continue;
        }
        ++i;
    }
    config::rescan_master_options(e);
}

// The first two words of an entry line.
std::pair<std::string_view, std::string_view> name_and_type(std::string_view line) {
    auto words = util::split_tokens(line, " \t\r\n");
    std::string_view name = words.size() > 0 ? words[0] : std::string_view{};
    std::string_view type = words.size() > 1 ? words[1] : std::string_view{};
    return {name, type};
}

// master.cf.tmp, created before the request values are checked and renamed
// over master.cf when the new text is complete.
class TempFile {
public:
    explicit TempFile(std::string path) : path_(std::move(path)), tmp_(path_ + ".tmp") {
        fd_ = ::open(tmp_.c_str(), O_CREAT | O_WRONLY | O_TRUNC, 0600);
        if (fd_ < 0) util::msg_fatal("open {}: {}", tmp_, std::strerror(errno));
    }
    TempFile(const TempFile&) = delete;
    TempFile& operator=(const TempFile&) = delete;
    ~TempFile() {
        if (fd_ >= 0) ::close(fd_);
    }

    void commit(const std::string& content) {
        size_t done = 0;
        while (done < content.size()) {
            ssize_t n = ::write(fd_, content.data() + done, content.size() - done);
            if (n < 0) {
                if (errno == EINTR) continue;
                util::msg_fatal("write {}: {}", tmp_, std::strerror(errno));
            }
            done += static_cast<size_t>(n);
        }
        if (::fchmod(fd_, 0644) < 0 || ::fsync(fd_) < 0) util::msg_fatal("write {}: {}", tmp_, std::strerror(errno));
        int fd = fd_;
        fd_ = -1;
        if (::close(fd) < 0) util::msg_fatal("close {}: {}", tmp_, std::strerror(errno));
        if (::rename(tmp_.c_str(), path_.c_str()) < 0)
            util::msg_fatal("rename {} to {}: {}", tmp_, path_, std::strerror(errno));
    }

private:
    std::string path_;
    std::string tmp_;
    int fd_ = -1;
};

}  // namespace

int edit_master(State& st) {
    const Options& o = st.opts;
    Mode mode;
    if (o.has(kMaster)) mode = o.has(kEdit) ? Mode::entry_set : (o.has(kExclude) ? Mode::entry_remove : Mode::entry_comment);
    else if (o.has(kFields)) mode = Mode::field_set;
    else mode = o.has(kEdit) ? Mode::param_set : Mode::param_remove;

    std::vector<Request> requests = parse_requests(st, mode);
    const bool collects = mode == Mode::field_set || mode == Mode::param_set || mode == Mode::param_remove;

    const std::string path = st.config.master_cf_path();
    std::string content;
    if (!util::read_file(path, content)) util::msg_fatal("open {} for reading: {}", path, std::strerror(errno));
    TempFile tmp(path);
    check_request_values(requests, mode);

    enum class State { copy, skip, comment_out, collect } state = State::copy;
    std::string out;
    std::string buffer;       // the entry being collected, lines with newlines
    int buffer_line = 0;      // its line number as the reference reports it
    std::vector<Request*> buffer_requests;
    int lineno = 0;

    auto finish = [&] {
        if (state != State::collect) return;
        auto e = config::parse_master_entry(buffer);
        if (!e) {
            if (e.error().kind == config::MasterError::field_count)
                util::msg_fatal("file {}: line {}: bad field count", path, buffer_line);
            util::msg_fatal_text(e.error().message);
        }
        for (Request* r : buffer_requests) {
            if (mode == Mode::field_set) {
                if (auto err = config::check_master_field(r->field, r->value, r->value)) util::msg_fatal_text(*err);
                if (r->field == config::kMasterFields - 1) {
                    if (!config::set_master_command(*e, r->value)) util::msg_fatal("-Fe requires a command");
                } else {
                    e->field(r->field) = r->value;
                }
            } else if (mode == Mode::param_set) {
                set_param(*e, r->pattern[2], r->value);
            } else {
                remove_param(*e, r->pattern[2]);
            }
        }
        out += format_master_entry(*e, display_args(nullptr, nullptr, *e), true);
        buffer.clear();
        buffer_requests.clear();
    };

    size_t pos = 0;
    while (pos < content.size()) {
        size_t nl = content.find('\n', pos);
        size_t end = nl == std::string::npos ? content.size() : nl + 1;
        std::string_view line(content.data() + pos, end - pos);
        pos = end;
        // What follows a NUL byte is invisible to the reference, which also
        // copies such a line without its newline.
        std::string_view text = line.substr(0, line.find('\0'));
        if (text.size() != line.size()) line = text;
        std::string_view body = util::trim_left(text, " \t\r\n\v\f");
        if (body.empty() || body.front() == '#') {
            out += line;
            if (state != State::collect) ++lineno;
            continue;
        }
        if (util::is_space(text.front())) {
            switch (state) {
            case State::copy: out += line; break;
            case State::skip: break;
            case State::comment_out: out += '#'; out += line; break;
            case State::collect: buffer += text; break;
            }
            if (state != State::collect) ++lineno;
            continue;
        }
        finish();
        ++lineno;
        auto [name, type] = name_and_type(text);
        if (type.empty()) util::msg_fatal("file {}: line {}: specify service name and type on the same line", path, lineno);
        state = State::copy;
        switch (mode) {
        case Mode::entry_set: {
            // The first entry a request matches gets its text (the last such
            // request wins); later entries it matches are dropped.
            Request* writer = nullptr;
            for (auto& r : requests) {
                bool hit = matches(r.pattern, name, type) || (r.entry->name == name && r.entry->type == type);
                if (!hit) {
                    // The reference reads the new entry again for every
                    // entry it does not replace (its warnings repeat).
                    (void)config::parse_master_entry(r.value);
                    continue;
                }
                if (!r.matched) writer = &r;
                r.matched = true;
                state = State::skip;
            }
            if (writer) out += format_master_entry(*writer->entry, display_args(nullptr, nullptr, *writer->entry), true);
            break;
        }
        case Mode::entry_remove:
        case Mode::entry_comment:
            for (auto& r : requests) {
                if (!matches(r.pattern, name, type)) continue;
                r.matched = true;
                state = mode == Mode::entry_remove ? State::skip : State::comment_out;
            }
            break;
        default:
            for (auto& r : requests) {
                if (!matches(r.pattern, name, type)) continue;
                r.matched = true;
                buffer_requests.push_back(&r);
                state = State::collect;
            }
            break;
        }
        switch (state) {
        case State::copy: out += line; break;
        case State::skip: break;
        case State::comment_out: out += '#'; out += line; break;
        case State::collect:
            buffer = std::string(text);
            buffer_line = lineno;
            break;
        }
    }
    finish();
    if (mode == Mode::entry_set) {
        for (auto& r : requests)
            if (!r.matched) out += format_master_entry(*r.entry, display_args(nullptr, nullptr, *r.entry), true);
    }
    if (collects) {
        for (const auto& r : requests)
            if (!r.matched) util::msg_warn("unmatched service_name/type: \"{}\"", r.arg);
    }
    tmp.commit(out);
    return 0;
}

}  // namespace pf::postconf
