// The queue listing of showq(8); see showq_report.h.
#include "daemon/showq/showq_report.h"

#include "config/config.h"
#include "daemon/showq/showq_file.h"
#include "config/mail_params.h"
#include "mail/address_quote.h"
#include "mail/dsn_log.h"
#include "queue/queue_file_reader.h"
#include "util/msg.h"
#include "util/utf8.h"

#include <fmt/core.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <dirent.h>
#include <fcntl.h>
#include <memory>
#include <optional>
#include <string>
#include <unistd.h>
#include <unordered_set>
#include <vector>

namespace pf::showq {

namespace {

// The queues in the order the reference lists them; maildrop is flat.
struct QueueScan {
    std::string_view name;
    bool hashed;
};
constexpr QueueScan kQueues[] = {
    {queue::kMaildrop, false}, {queue::kActive, true}, {queue::kIncoming, true},
    {queue::kDeferred, true},  {queue::kHold, true},
};

// Record data as the reference's C code sees it: up to the first NUL.
std::string_view c_string(const std::string& data) {
    return std::string_view(data.c_str(), std::strlen(data.c_str()));
}

// The length of the UTF-8-shaped sequence at a[i] (a byte from 0xC2 to
// 0xFE and the continuation bytes after it, at least one) that
// util::printable() keeps with UTF-8 on; 0 when it would replace a[i].
std::size_t utf8_kept(std::string_view a, std::size_t i) {
    auto cont = [&a](std::size_t k) {
        return k < a.size() && static_cast<unsigned char>(a[k]) >= 0x80 && static_cast<unsigned char>(a[k]) < 0xc0;
    };
    auto c = static_cast<unsigned char>(a[i]);
    if (c < 0xc2 || c > 0xfe || !cont(i + 1)) return 0;
    std::size_t j = i + 2;
    while (cont(j)) ++j;
    return j - i;
}

// Whether quoting the local-part and replacing unprintable bytes both
// leave the address as it is: a local-part that is a dot-string of
// printable ASCII without specials (no '@' before the last one, no
// leading, trailing or double dot), a domain of printable ASCII; with
// UTF-8 on, UTF-8-shaped sequences may stand anywhere as well (quoting
// leaves 8-bit bytes alone, printable() keeps them). Almost every address
// is; the others take the general path.
// How plain_address() takes each byte of a local-part.
enum ByteClass : unsigned char { kOrdinary, kReject, kDot, kHigh };
constexpr std::array<unsigned char, 256> kLocalPartClass = [] {
    std::array<unsigned char, 256> t{};
    constexpr std::string_view kSpecials = "()<>,;:\\\"[]@";
    for (unsigned c = 0; c < 256; ++c) {
        if (c >= 0x80) t[c] = kHigh;
        else if (c <= ' ' || c == 0x7f || kSpecials.find(static_cast<char>(c)) != kSpecials.npos) t[c] = kReject;
        else if (c == '.') t[c] = kDot;
        else t[c] = kOrdinary;
    }
    return t;
}();

bool plain_address(std::string_view a, bool utf8) {
    if (a.empty() || a.front() == '@') return false;  // a source route, an empty local-part
    std::size_t at = a.rfind('@');
    std::string_view local = a.substr(0, at);
    if (local.empty() || local.front() == '.' || local.back() == '.') return false;
    bool after_dot = false;
    for (std::size_t i = 0; i < local.size(); ++i) {
        switch (kLocalPartClass[static_cast<unsigned char>(local[i])]) {
        case kOrdinary:
            after_dot = false;
            break;
        case kDot:
            if (after_dot) return false;
            after_dot = true;
            break;
        case kHigh: {
            std::size_t n = utf8 ? utf8_kept(a, i) : 0;
            if (n == 0 || i + n > local.size()) return false;
            i += n - 1;
            after_dot = false;
            break;
        }
        default:
            return false;
        }
    }
    if (at != std::string_view::npos)
        for (std::size_t i = at + 1; i < a.size(); ++i) {
            auto c = static_cast<unsigned char>(a[i]);
            if (c >= 0x80 && utf8) {
                std::size_t n = utf8_kept(a, i);
                if (n == 0) return false;
                i += n - 1;
                continue;
            }
            if (c < ' ' || c >= 0x7f) return false;
        }
    return true;
}

// The address as listed, into out: the null address replaced, the
// local-part quoted, unprintable bytes replaced.
void listed_address(std::string& out, std::string_view raw, const ShowqSettings& settings) {
    if (raw.empty()) raw = settings.empty_address;
    if (plain_address(raw, settings.utf8)) {
        out.assign(raw);
        return;
    }
    out.clear();
    mail::quote_822_local_append(out, raw);
    out = util::printable(out, settings.utf8);
}

// Which defer logs exist, from one walk over the defer directory before
// the scan, so that the messages without one (most of a queue) cost no
// failed open(). Every name is kept at the path it was found at, and a
// message's log is looked up at the path its ID hashes to, as the
// reference opens it; one-letter names are entered as hash directories.
// Anything unexpected (the directory unreadable, a subdirectory that does
// not open) disables the index: every log is then opened as before. So
// does a defer directory of more than kMaxEntries names (its memory stays
// bounded; in such a queue most messages have a log anyway).
class DeferLogIndex {
public:
    DeferLogIndex() {
        complete_ = walk(std::string(queue::kDeferLog), 0);
        if (!complete_) paths_.clear();
    }
    // Whether the log at path may exist (a miss in a complete index: it
    // does not, as far as the walk saw).
    bool may_exist(const std::string& path) const { return !complete_ || paths_.contains(path); }
    // Whether the walk found no log at all (then no path need be made).
    bool none() const { return complete_ && paths_.empty(); }

private:
    bool walk(const std::string& dir_path, int depth) {
        DIR* dir = ::opendir(dir_path.c_str());
        if (dir == nullptr) return false;
        bool ok = true;
        errno = 0;
        while (struct dirent* entry = ::readdir(dir)) {
            std::string_view name = entry->d_name;
            if (name == "." || name == "..") continue;
            if (paths_.size() >= kMaxEntries) {
                ok = false;
                break;
            }
            std::string path = dir_path + "/" + entry->d_name;
            if (name.size() == 1 && entry->d_type != DT_REG && depth < 8) {
                bool directory = entry->d_type == DT_DIR;
                if (!directory && entry->d_type == DT_UNKNOWN) {
                    struct stat st {};
                    directory = ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
                }
                if (directory && !walk(path, depth + 1)) {
                    ok = false;
                    break;
                }
            }
            paths_.insert(std::move(path));
            errno = 0;
        }
        if (errno != 0) ok = false;
        ::closedir(dir);
        return ok;
    }

    static constexpr std::size_t kMaxEntries = 100000;
    bool complete_ = false;
    std::unordered_set<std::string> paths_;
};

struct DirCloser {
    void operator()(DIR* dir) const { ::closedir(dir); }
};
using DirHandle = std::unique_ptr<DIR, DirCloser>;

DirHandle open_dir_or_die(const std::string& path) {
    DirHandle dir(::opendir(path.c_str()));
    if (!dir) util::msg_fatal("open directory {}: {}", path, std::strerror(errno));
    return dir;
}

// The reference's mail_open_ok on what lstat() says of the file at path,
// where the ID hashes to: whether it may be listed.
bool stat_is_listable(const std::string& path, const struct stat& st) {
    if (!S_ISREG(st.st_mode)) {
        util::msg_warn("{}: uid {}: not a regular file", path, static_cast<long>(st.st_uid));
        return false;
    }
    if ((st.st_mode & S_IRWXU) != queue::kModeReady) return false;
    if (st.st_nlink > 1) {
        if (util::msg_verbose)
            util::msg_info("{}: uid {}: file has {} links", path, static_cast<long>(st.st_uid),
                           static_cast<int>(st.st_nlink));
        else if (st.st_ctime < std::time(nullptr) - 60)
            util::msg_warn("{}: uid {}: file has {} links", path, static_cast<long>(st.st_uid),
                           static_cast<int>(st.st_nlink));
    }
    return true;
}

bool file_is_listable(const std::string& path, struct stat& st) {
    if (::lstat(path.c_str(), &st) < 0) {
        if (errno != ENOENT) util::msg_warn("{}: {}", path, std::strerror(errno));
        return false;
    }
    return stat_is_listable(path, st);
}

// The queue files' descriptors, closed in runs: each close is a system
// call whose fixed cost (entry and exit; in a virtual machine most of
// the close) was an eighth of a listing's time. So up to kHeld of them
// are held, then each run of consecutive descriptors among them (the
// kernel hands out the lowest free one, so one file after another mostly
// gets the next number) is closed with one close_range(). A run only
// spans descriptors held here, so nothing else can be closed. When
// close_range() fails they are closed one by one, and a close that fails
// is warned about as before (a little later than before: for a file
// opened read-only this does not happen).
class FileCloser {
public:
    FileCloser() = default;
    FileCloser(const FileCloser&) = delete;
    FileCloser& operator=(const FileCloser&) = delete;
    ~FileCloser() { flush(); }

    void close(int fd, std::string_view queue, std::string_view id) {
        if (count_ == kHeld) flush();
        held_[count_].fd = fd;
        held_[count_].queue = queue;
        held_[count_].id.assign(id);
        ++count_;
    }
    void flush() {
        std::sort(held_.begin(), held_.begin() + count_, [](const Held& x, const Held& y) { return x.fd < y.fd; });
        for (std::size_t i = 0; i < count_;) {
            std::size_t j = i + 1;
            while (j < count_ && held_[j].fd == held_[j - 1].fd + 1) ++j;
            if (j - i == 1 || ::close_range(static_cast<unsigned>(held_[i].fd),
                                            static_cast<unsigned>(held_[j - 1].fd), 0) != 0) {
                for (std::size_t k = i; k < j; ++k)
                    if (::close(held_[k].fd) != 0)
                        util::msg_warn("close file {} {}: {}", held_[k].queue, held_[k].id, std::strerror(errno));
            }
            i = j;
        }
        count_ = 0;
    }

private:
    static constexpr std::size_t kHeld = 64;
    struct Held {
        int fd = -1;
        std::string_view queue;  // one of kQueues' names
        std::string id;
    };
    std::array<Held, kHeld> held_;
    std::size_t count_ = 0;
};

// The directory entry being listed: the directory's path and open
// descriptor, the entry's type as readdir() tells it.
struct Entry {
    std::string_view dir_path;
    int dir_fd;
    unsigned char type;
};

// False: the listing must end here (see showq_report).
bool list_one(ShowqOutput& out, const ShowqSettings& settings, const DeferLogIndex& defer_logs,
              FileCloser& closer, std::string_view queue, const std::string& id, const Entry& entry) {
    if (!queue::is_queue_id(id)) return true;
    std::string path = settings.layout.path(queue, id, true);
    struct stat st {};
    int fd = -1;
    // A regular file where its ID hashes to (as nearly always): opened
    // first, relative to its directory, and the open file examined, which
    // saves a path lookup per file. Anything else, or a failed open, goes
    // the reference's way: lstat(), the checks, then open().
    if (entry.type == DT_REG && path.size() == entry.dir_path.size() + 1 + id.size() &&
        path.starts_with(entry.dir_path) && path[entry.dir_path.size()] == '/') {
        fd = ::openat(entry.dir_fd, id.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
        if (fd < 0 && errno == ENOENT) return true;
        if (fd >= 0 && ::fstat(fd, &st) < 0) {
            ::close(fd);
            fd = -1;
        }
        if (fd >= 0 && !stat_is_listable(path, st)) {
            ::close(fd);
            return true;
        }
    }
    if (fd < 0) {
        if (!file_is_listable(path, st)) return true;
        fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            if (errno != ENOENT) util::msg_warn("open {} {}: {}", queue, id, std::strerror(errno));
            return true;
        }
    }
    static std::string buffer;  // the bytes of each file in turn
    QueueFileImage file(fd, st.st_size, path, buffer);
    std::string log_path;
    if (!defer_logs.none()) {
        log_path = settings.layout.path(queue::kDeferLog, id, true);
        if (!defer_logs.may_exist(log_path)) log_path.clear();
    }
    bool go_on = showq_report(out, settings, queue, id, file, st, log_path);
    closer.close(fd, queue, id);
    return go_on;
}

// Walks one queue as the reference's scanner does: one-letter names are
// hash subdirectories, entered where they are met in directory order.
// False: the listing was abandoned.
bool scan_queue(ShowqOutput& out, const ShowqSettings& settings, const DeferLogIndex& defer_logs,
                FileCloser& closer, const QueueScan& q) {
    std::string last;
    bool loop_seen = false;
    // Depth-first with an explicit stack of open directories.
    struct Level {
        std::string path;
        DirHandle dir;
    };
    std::vector<Level> stack;
    stack.push_back({std::string(q.name), open_dir_or_die(std::string(q.name))});
    while (!stack.empty() && !loop_seen && !out.failed()) {
        Level& top = stack.back();
        errno = 0;
        struct dirent* entry = ::readdir(top.dir.get());
        if (entry == nullptr) {
            stack.pop_back();
            continue;
        }
        std::string name = entry->d_name;
        if (name == "." || name == "..") continue;
        if (q.hashed && name.size() == 1) {
            std::string sub = top.path + "/" + name;
            stack.push_back({sub, open_dir_or_die(sub)});
            continue;
        }
        if (!last.empty() && last == name) {
            util::msg_warn("readdir loop on queue {} id {}", q.name, name);
            loop_seen = true;
            break;
        }
        last = name;
        if (!list_one(out, settings, defer_logs, closer, q.name, name,
                      {top.path, ::dirfd(top.dir.get()), entry->d_type})) {
            out.abandon();
            return false;
        }
        out.flush_point();
    }
    return true;
}

}  // namespace

ShowqSettings ShowqSettings::from_config(const config::Config& config) {
    ShowqSettings s;
    s.layout = queue::QueueLayout::from_config(config);
    if (auto v = config::parse_int_value(config.get("duplicate_filter_limit"), 1LL << 30)) s.dup_filter_limit = *v;
    s.empty_address = config.get("empty_address_recipient");
    s.utf8 = config::parse_bool_value(config.get("smtputf8_enable")).value_or(false);
    return s;
}

namespace {
// Large writes: fewer wake-ups of a reader on the other end.
constexpr std::size_t kWriteChunk = 32768;
}  // namespace

void ShowqOutput::attr(std::string_view name, std::string_view value) {
    if (failed_) return;
    buffer_.append(name);
    buffer_.push_back('\0');
    // A value cannot carry a NUL on this protocol; the reference's C
    // strings end there.
    buffer_.append(value.substr(0, value.find('\0')));
    buffer_.push_back('\0');
    // Only what the reference would have written already may go out
    // before the next flush point (abandon() relies on it).
    if (std::size_t end = reference_written(); end - base_ >= kWriteChunk) write_to(end);
}

void ShowqOutput::attr(std::string_view name, long value) {
    char text[24];
    auto end = std::to_chars(text, text + sizeof(text), value).ptr;
    attr(name, std::string_view(text, static_cast<std::size_t>(end - text)));
}

void ShowqOutput::end_group() {
    if (!failed_) buffer_.push_back('\0');
}

void ShowqOutput::flush_point() {
    flushed_at_ = total();
    if (buffer_.size() >= kWriteChunk) write_to(total());
}

// The reference's stream writes its full buffer only when another byte
// needs room: n bytes after a flush leave (n - 1) / 4096 whole buffers
// written.
std::size_t ShowqOutput::reference_written() const {
    std::size_t n = total() - flushed_at_;
    return n == 0 ? flushed_at_ : flushed_at_ + (n - 1) / kReferenceBuffer * kReferenceBuffer;
}

void ShowqOutput::write_to(std::size_t end) {
    if (failed_ || end <= base_) return;
    std::size_t n = end - base_;
    if (!writer_(std::string_view(buffer_).substr(0, n))) {
        failed_ = true;
        buffer_.clear();
        return;
    }
    buffer_.erase(0, n);
    base_ = end;
}

bool ShowqOutput::flush() {
    write_to(total());
    if (failed_) buffer_.clear();
    return !failed_;
}

void ShowqOutput::abandon() {
    write_to(reference_written());
    buffer_.clear();
    failed_ = true;
}

bool showq_report(ShowqOutput& out, const ShowqSettings& settings, std::string_view queue, std::string_view id,
                  QueueFileImage& reader, const struct stat& st, const std::string& defer_log) {
    long arrival_time = 0;
    long msg_size = static_cast<long>(st.st_size);
    bool msg_size_ok = false;
    int sender_seen = 0;
    // The buffers live as long as the process (one listing at a time):
    // no allocation per record or per address.
    static std::string quoted;  // the last address listed (also in warnings)
    static std::string data;
    quoted.clear();
    std::optional<std::unordered_set<std::string>> dup_filter;

    auto finish = [&] {
        if (sender_seen > 0) out.end_group();
    };

    int type;
    while (!out.failed() && (type = reader.get(data)) > 0) {
        std::string_view start = c_string(data);
        if (util::msg_verbose)
            util::msg_info("record {} {}", static_cast<char>(type), util::printable(start, settings.utf8));
        switch (type) {
        case queue::rec::kTime:
            if (arrival_time == 0) arrival_time = std::atol(data.c_str());
            break;
        case queue::rec::kSize:
            if (!msg_size_ok) {
                msg_size_ok = start.find_first_not_of("0123456789 ") == std::string_view::npos &&
                              (msg_size = std::atol(data.c_str())) >= 0;
                if (!msg_size_ok) {
                    util::msg_warn("{}: malformed size record: {:.100} -- using file size instead", id,
                                   util::printable(start, settings.utf8));
                    msg_size = static_cast<long>(st.st_size);
                }
            }
            break;
        case queue::rec::kFrom:
            listed_address(quoted, start, settings);
            if (sender_seen++ > 0) {
                util::msg_warn("{}: duplicate sender address: {} -- skipping remainder of this file", id, quoted);
                finish();
                return false;  // the reference's showq dies here
            }
            out.attr("queue_name", queue);
            out.attr("queue_id", id);
            out.attr("time", arrival_time > 0 ? arrival_time : static_cast<long>(st.st_mtime));
            out.attr("size", msg_size);
            out.attr("forced_expire", static_cast<long>((st.st_mode & S_IXGRP) != 0));
            out.attr("sender", quoted);
            break;
        case queue::rec::kRcpt: {
            if (sender_seen == 0) {
                util::msg_warn("{}: missing sender address: {} -- skipping remainder of this file", id, quoted);
                finish();
                return false;  // the reference's showq dies here
            }
            listed_address(quoted, start, settings);
            if (!dup_filter || !dup_filter->contains(quoted)) {
                out.attr("recipient", quoted);
                out.attr("reason", std::string_view());
            }
            break;
        }
        case queue::rec::kMessage:
            if (msg_size_ok && !reader.skip(msg_size))
                util::msg_fatal("seek file {}: {}", reader.path(), std::strerror(errno));
            break;
        default:
            break;
        }

        // Right after the sender: the recipients of the defer log with
        // their reasons; the queue file's copies of them are then skipped.
        if (type == queue::rec::kFrom && !defer_log.empty()) {
            const std::string& log_path = defer_log;
            int fd = ::open(log_path.c_str(), O_RDONLY | O_CLOEXEC);
            if (fd >= 0) {
                std::string content;
                char buf[8192];
                ssize_t n;
                while ((n = ::read(fd, buf, sizeof(buf))) > 0) content.append(buf, static_cast<std::size_t>(n));
                ::close(fd);
                if (dup_filter) util::msg_panic("showq_report: attempt to reuse duplicate filter");
                dup_filter.emplace();
                for (const auto& entry : mail::parse_dsn_log(content, true, log_path, settings.utf8)) {
                    if (settings.dup_filter_limit == 0 ||
                        static_cast<long>(dup_filter->size()) < settings.dup_filter_limit)
                        dup_filter->insert(entry.address);
                    out.attr("recipient", entry.address);
                    out.attr("reason", entry.reason);
                }
            }
        }
    }
    finish();
    return true;
}

void showq_scan(ShowqOutput& out, const ShowqSettings& settings) {
    out.attr("protocol", kProtocolName);
    out.end_group();
    DeferLogIndex defer_logs;
    FileCloser closer;
    for (const auto& q : kQueues) {
        if (out.failed()) break;
        if (!scan_queue(out, settings, defer_logs, closer, q)) return;  // abandoned: no final NUL
    }
    closer.flush();
    out.end_group();
    out.flush();
}

}  // namespace pf::showq
