// The queue-file reading of the reference qshape(1) (see qshape_envelope.h):
// a small buffered cursor with absolute and relative seeks, the script's
// record framing, and its walk over the records.
#include "cmd/qshape/qshape_envelope.h"

#include "cmd/qshape/qshape_perl.h"
#include "queue/record.h"
#include "util/unique_fd.h"

#include <cerrno>
#include <cmath>
#include <cstdint>
#include <fcntl.h>
#include <fmt/core.h>
#include <sys/stat.h>
#include <unistd.h>

namespace pf::qshape {
namespace {

namespace rec = pf::queue::rec;

// Byte reader over a file with seeks, as Perl's buffered IO::File.
class Cursor {
public:
    explicit Cursor(int fd) : fd_(fd) {}

    int getc() {
        if (pos_ >= buf_start_ + static_cast<std::int64_t>(buf_len_) || pos_ < buf_start_) {
            if (!fill()) return -1;
        }
        return static_cast<unsigned char>(buf_[pos_++ - buf_start_]);
    }

    // Reads up to n bytes; returns how many it got.
    std::size_t read(std::size_t n, std::string& out) {
        out.clear();
        while (out.size() < n) {
            const int c = getc();
            if (c < 0) break;
            out += static_cast<char>(c);
            // Copy the rest of the buffer in one go.
            const std::int64_t avail = buf_start_ + static_cast<std::int64_t>(buf_len_) - pos_;
            const std::size_t want = std::min<std::size_t>(n - out.size(), static_cast<std::size_t>(avail));
            out.append(buf_ + (pos_ - buf_start_), want);
            pos_ += static_cast<std::int64_t>(want);
        }
        return out.size();
    }

    bool seek_to(double offset) {
        if (!(offset >= 0) || offset > 9.0e18) return false;
        pos_ = static_cast<std::int64_t>(offset);
        return true;
    }
    bool seek_by(double delta) { return seek_to(static_cast<double>(pos_) + std::trunc(delta)); }
    std::int64_t tell() const { return pos_; }

private:
    bool fill() {
        ssize_t got;
        do got = ::pread(fd_, buf_, sizeof buf_, pos_);
        while (got < 0 && errno == EINTR);
        if (got <= 0) return false;
        buf_start_ = pos_;
        buf_len_ = static_cast<std::size_t>(got);
        return true;
    }

    int fd_;
    std::int64_t pos_ = 0;
    std::int64_t buf_start_ = 0;
    std::size_t buf_len_ = 0;
    char buf_[8192];
};

struct Rec {
    char type = 0;
    std::string data;
};

// The script's rec_get: false at end of file, on a type byte "0" (false to
// Perl), a length of more than three groups, or short data.
bool rec_get(Cursor& in, Rec& r) {
    const int type = in.getc();
    if (type < 0 || type == '0') return false;
    std::size_t length = 0;
    int shift = 0;
    for (int byte; (byte = in.getc()) >= 0;) {
        length |= static_cast<std::size_t>(byte & 0x7f) << shift;
        if ((byte & 0x80) == 0) break;
        shift += 7;
        if (shift > 14) return false;
    }
    r.type = static_cast<char>(type);
    r.data.clear();
    return length == 0 || in.read(length, r.data) == length;
}

// The first field of split(/\s+/, text): none when text is all blanks.
std::optional<std::string> first_field(const std::string& text) {
    bool all_blank = true;
    for (char c : text) all_blank = all_blank && perl_is_space(c);
    if (all_blank) return std::nullopt;
    std::size_t end = 0;
    while (end < text.size() && !perl_is_space(text[end])) ++end;
    return text.substr(0, end);
}

// /^\s*(\d+)\s+\d+\s+\d+/ on the size record: its first number.
std::optional<std::string> content_size(const std::string& text) {
    std::size_t i = 0;
    const std::size_t n = text.size();
    auto digits = [&](std::size_t& at) {
        const std::size_t from = at;
        while (at < n && text[at] >= '0' && text[at] <= '9') ++at;
        return at > from;
    };
    auto blanks = [&](std::size_t& at) {
        const std::size_t from = at;
        while (at < n && perl_is_space(text[at])) ++at;
        return at > from;
    };
    blanks(i);
    const std::size_t start = i;
    if (!digits(i)) return std::nullopt;
    const std::size_t end = i;
    if (!blanks(i) || !digits(i) || !blanks(i) || !digits(i)) return std::nullopt;
    return text.substr(start, end - start);
}

// A "p" record with a positive offset moves the cursor; false when the
// seek fails or the file loops.
enum class Jump { none, moved, failed };
Jump follow_pointer(Cursor& in, const Rec& r, int line, int& back_jumps) {
    const PerlNumber offset = perl_numify(r.data);
    if (!offset.numeric) perl_warn_numeric(r.data, "numeric gt (>)", line);
    if (!(offset.value > 0)) return Jump::none;
    if (std::trunc(offset.value) < static_cast<double>(in.tell()) && ++back_jumps > kMaxBackJumps)
        return Jump::failed;
    return in.seek_to(offset.value) ? Jump::moved : Jump::failed;
}

}  // namespace

bool looks_like_queue_file(std::string_view name) {
    // (^|/)[A-Za-z0-9]{6,}$ ; "$" also before a final newline.
    if (!name.empty() && name.back() == '\n') name.remove_suffix(1);
    std::size_t run = 0;
    for (std::size_t i = name.size(); i > 0; --i) {
        const char c = name[i - 1];
        const bool alnum = (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
        if (!alnum) return run >= 6 && c == '/';
        ++run;
    }
    return run >= 6;
}

Envelope read_envelope(const std::string& path) {
    Envelope none;
    struct stat st;
    if (::lstat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode) || (st.st_mode & 0733) != 0700) return none;
    util::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC));
    if (!fd) return none;
    Cursor in(fd.get());

    Envelope env;
    std::optional<std::string> time;
    std::optional<std::string> sender;
    std::optional<std::string> dlen;
    Rec r;
    if (!rec_get(in, r)) {
        perl_warn("Use of uninitialized value $r in string eq", line::kFirstRecordC);
        perl_warn("Use of uninitialized value $r in string eq", line::kFirstRecordSF);
        perl_warn("Use of uninitialized value $r in string eq", line::kFirstRecordSF);
        env.kind = Envelope::Kind::undefined;
        return env;
    }
    if (r.type == rec::kSize) {
        dlen = content_size(r.data);
        if (!rec_get(in, r) || r.type != rec::kTime) return none;
        time = first_field(r.data);
    } else if (r.type == rec::kFrom || r.type == rec::kFullName) {
        time = fmt::format("{}", static_cast<long long>(st.st_mtime));
        if (r.type != rec::kFrom && (!rec_get(in, r) || r.type != rec::kFrom)) return none;
        sender = r.data;
    } else {
        env.kind = Envelope::Kind::undefined;
        return env;
    }

    int back_jumps = 0;
    while (rec_get(in, r)) {
        if (r.type == rec::kPointer && follow_pointer(in, r, line::kPointer, back_jumps) == Jump::failed)
            return none;
        if (r.type == rec::kRcpt) {
            env.recipients.push_back(r.data);
        } else if (r.type == rec::kFrom) {
            sender = r.data;
        } else if (r.type == rec::kMessage) {
            if (!sender) break;
            bool ok;
            if (dlen) {
                if (!in.seek_by(perl_numify(*dlen).value)) return none;
                ok = rec_get(in, r);
            } else {
                while ((ok = rec_get(in, r)) &&
                       (r.type == rec::kNorm || r.type == rec::kCont || r.type == rec::kPointer)) {
                    if (r.type == rec::kPointer &&
                        follow_pointer(in, r, line::kContentPointer, back_jumps) == Jump::failed)
                        return none;
                }
            }
            if (!ok || r.type != rec::kExtracted) return none;
        } else if (r.type == rec::kEnd) {
            if (!time || !sender || env.recipients.empty()) break;
            env.kind = Envelope::Kind::found;
            env.time = std::move(time);
            env.sender = std::move(*sender);
            return env;
        }
    }
    return none;
}

}  // namespace pf::qshape
