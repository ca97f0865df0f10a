// Queue IDs, queue paths and the queue-file writer: see queue_file.h.
//
// Reproduces the reference's naming: short IDs are five upper-case hex
// digits of the microseconds followed by the inode in upper-case hex; long
// IDs are the seconds (base 52, at least six characters), the microseconds
// (base 52, exactly four), 'z', and the inode (base 51, so no 'z' occurs in
// it), all in the vowel-free alphabet 0-9 B-Z b-z. Hashed subdirectories
// take the first hash_queue_depth characters of the short ID; for a long ID,
// of the microseconds re-encoded as the five hex digits a short ID would
// have, so both kinds of ID spread over the same 16 directories per level.
//
// Trust: IDs reaching path() must pass is_queue_id() (callers check names
// from users and directory scans); a bad one here is a broken invariant.
#include "queue/queue_file.h"

#include "queue/queue_file_pool.h"

#include "config/config.h"
#include "config/mail_params.h"
#include "util/msg.h"
#include "util/process_id.h"
#include "util/strings.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <fmt/core.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

namespace pf::queue {
namespace {

// The reference's vowel-free alphabet for long IDs.
constexpr std::string_view kSafeChars = "0123456789BCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxyz";
constexpr int kSecBase = 52;
constexpr std::size_t kSecPad = 6;
constexpr int kUsecBase = 52;
constexpr std::size_t kUsecPad = 4;
constexpr char kInumSep = 'z';
constexpr int kInumBase = 51;
constexpr std::size_t kShortUsecPad = 5;
// Longest name mail_queue_id_ok accepts (a host name's limit).
constexpr std::size_t kMaxIdLength = 255;

std::string safe_encode(unsigned long value, int base, std::size_t pad) {
    std::string out;
    while (value != 0) {
        out.push_back(kSafeChars[value % static_cast<unsigned long>(base)]);
        value /= static_cast<unsigned long>(base);
    }
    while (out.size() < pad) out.push_back('0');
    return std::string(out.rbegin(), out.rend());
}

// Decodes a safe-alphabet number; nullopt on a character outside base.
std::optional<unsigned long> safe_decode(std::string_view text, int base) {
    unsigned long value = 0;
    for (char c : text) {
        auto pos = kSafeChars.find(c);
        if (pos == std::string_view::npos || pos >= static_cast<std::size_t>(base)) return std::nullopt;
        value = value * static_cast<unsigned long>(base) + pos;
    }
    return value;
}

bool is_alnum(char c) {
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

// Makes every missing directory on the way to the file path (not the file).
bool make_parent_dirs(const std::string& path) {
    for (std::size_t pos = path.find('/', 1); pos != std::string::npos; pos = path.find('/', pos + 1)) {
        std::string dir = path.substr(0, pos);
        if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) return false;
    }
    return true;
}

// Renames without replacing an existing file; falls back to rename(2)
// where the file system does not know RENAME_NOREPLACE.
int rename_noreplace(const char* from, const char* to) {
#ifdef RENAME_NOREPLACE
    if (::renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE) == 0) return 0;
    if (errno != EINVAL && errno != ENOSYS) return -1;
#endif
    return ::rename(from, to);
}

}  // namespace

QueueLayout QueueLayout::from_config(const config::Config& config) {
    QueueLayout layout;
    layout.queue_directory = config.get("queue_directory");
    layout.long_ids = config::parse_bool_value(config.get("enable_long_queue_ids")).value_or(false);
    auto depth = config::parse_int_value(config.get("hash_queue_depth"), 1000000);
    layout.hash_depth = depth && *depth >= 1 ? static_cast<int>(*depth) : 1;
    // The value must outlive the views split_tokens returns.
    const std::string names = config.get("hash_queue_names");
    for (auto name : util::split_tokens(names, ", \t\r\n")) layout.hashed.emplace_back(name);
    return layout;
}

std::string QueueLayout::hash_dirs(std::string_view queue, std::string_view id) const {
    bool hashed_queue = false;
    for (const auto& name : hashed)
        if (util::iequals(name, queue)) hashed_queue = true;
    if (!hashed_queue || id.empty()) return {};
    std::string key(id);
    // A long ID: the four base-52 microsecond characters before the last
    // 'z', re-encoded as five hex digits.
    auto sep = id.rfind(kInumSep);
    if (sep != std::string_view::npos && sep >= kSecPad + kUsecPad) {
        auto usec = safe_decode(id.substr(sep - kUsecPad, kUsecPad), kUsecBase);
        key = fmt::format("{:05X}", static_cast<unsigned>(usec.value_or(0)));
    }
    std::string out;
    for (int level = 0; level < hash_depth; ++level) {
        out.push_back(static_cast<std::size_t>(level) < key.size() ? key[level] : '_');
        out.push_back('/');
    }
    return out;
}

std::string QueueLayout::path(std::string_view queue, std::string_view id, bool relative) const {
    if (!is_queue_id(id)) util::msg_panic("bad queue id: {}", id);
    std::string out;
    if (!relative) {
        out = queue_directory;
        out.push_back('/');
    }
    out.append(queue);
    out.push_back('/');
    out += hash_dirs(queue, id);
    out.append(id);
    return out;
}

std::string make_queue_id(bool long_ids, ino_t inode, long seconds, long microseconds) {
    if (long_ids)
        return safe_encode(static_cast<unsigned long>(seconds), kSecBase, kSecPad) +
               safe_encode(static_cast<unsigned long>(microseconds), kUsecBase, kUsecPad) + kInumSep +
               safe_encode(static_cast<unsigned long>(inode), kInumBase, 0);
    return fmt::format("{:05X}{:X}", static_cast<unsigned>(microseconds), static_cast<unsigned long>(inode));
}

bool is_queue_id(std::string_view name) {
    if (name.empty() || name.size() > kMaxIdLength) return false;
    for (char c : name)
        if (!is_alnum(c) && c != '_') return false;
    return true;
}

std::optional<unsigned long> queue_id_inode(std::string_view id) {
    auto sep = id.rfind(kInumSep);
    if (sep != std::string_view::npos && sep >= kSecPad + kUsecPad)
        return safe_decode(id.substr(sep + 1), kInumBase);
    if (id.size() <= kShortUsecPad) return std::nullopt;
    unsigned long value = 0;
    for (char c : id.substr(kShortUsecPad)) {
        int digit;
        if (c >= '0' && c <= '9') digit = c - '0';
        else if (c >= 'A' && c <= 'F') digit = c - 'A' + 10;
        else if (c >= 'a' && c <= 'f') digit = c - 'a' + 10;
        else return std::nullopt;
        value = value * 16 + static_cast<unsigned long>(digit);
    }
    return value;
}

std::expected<QueueFileWriter, std::string> QueueFileWriter::create(const QueueLayout& layout,
                                                                     std::string_view queue, bool from_pool) {
    const std::string queue_dir = layout.queue_directory + "/" + std::string(queue);
    const int pid = static_cast<int>(util::current_pid());
    std::string temp;
    int fd = -1;
    struct stat st {};
    if (from_pool) {
        struct timeval tv;
        ::gettimeofday(&tv, nullptr);
        temp = fmt::format("{}/{}.{}", queue_dir, static_cast<int>(tv.tv_usec), pid);
        fd = take_pooled_file(layout.queue_directory + "/" + std::string(kRecycle), temp, st);
    }
    const bool pooled = fd >= 0;  // st already describes it
    for (int attempt = 0; fd < 0; ++attempt) {
        struct timeval tv;
        ::gettimeofday(&tv, nullptr);
        temp = fmt::format("{}/{}.{}", queue_dir, static_cast<int>(tv.tv_usec), pid);
        fd = ::open(temp.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, kModeWriting);
        if (fd >= 0) break;
        if ((errno != EEXIST && errno != EISDIR) || attempt > 1000)
            return std::unexpected(fmt::format("create file {}: {}", temp, std::strerror(errno)));
    }
    if (!pooled && ::fstat(fd, &st) != 0) {
        std::string why = fmt::format("fstat {}: {}", temp, std::strerror(errno));
        ::close(fd);
        ::unlink(temp.c_str());
        return std::unexpected(why);
    }
    std::string id;
    std::string path;
    for (int attempt = 0;; ++attempt) {
        struct timeval tv;
        ::gettimeofday(&tv, nullptr);
        id = make_queue_id(layout.long_ids, st.st_ino, tv.tv_sec, tv.tv_usec);
        path = layout.path(queue, id);
        if (rename_noreplace(temp.c_str(), path.c_str()) == 0) break;
        int err = errno;
        if (err == ENOENT && make_parent_dirs(path) && attempt < 1000) continue;
        if ((err == EEXIST || err == EPERM || err == EISDIR) && attempt < 1000) continue;
        std::string why = fmt::format("rename {} to {}: {}", temp, path, std::strerror(err));
        ::close(fd);
        ::unlink(temp.c_str());
        return std::unexpected(why);
    }
    std::FILE* stream = ::fdopen(fd, "r+");
    if (stream == nullptr) {
        std::string why = fmt::format("fdopen {}: {}", path, std::strerror(errno));
        ::close(fd);
        ::unlink(path.c_str());
        return std::unexpected(why);
    }
    QueueFileWriter writer;
    writer.id_ = std::move(id);
    writer.path_ = std::move(path);
    writer.stream_ = stream;
    constexpr std::size_t kBuffer = 16384;
    writer.buffer_ = std::make_unique_for_overwrite<char[]>(kBuffer);
    std::setvbuf(stream, writer.buffer_.get(), _IOFBF, kBuffer);
    writer.offset_ = 0;  // writing starts at offset 0 (a pooled file's zeros follow)
    writer.stale_size_ = pooled ? static_cast<long>(st.st_size) : 0;
    return writer;
}

QueueFileWriter::QueueFileWriter(QueueFileWriter&& other) noexcept
    : id_(std::move(other.id_)),
      path_(std::move(other.path_)),
      stream_(other.stream_),
      buffer_(std::move(other.buffer_)),
      committed_(other.committed_),
      stale_size_(other.stale_size_),
      offset_(other.offset_) {
    other.stream_ = nullptr;
    other.committed_ = true;  // the moved-from writer owns nothing to remove
    other.path_.clear();
}

QueueFileWriter::~QueueFileWriter() {
    if (!committed_) abandon();
    if (stream_ != nullptr) std::fclose(stream_);
}

long QueueFileWriter::offset() {
    if (stream_ == nullptr) return -1;
    if (offset_ < 0) offset_ = std::ftell(stream_);
    return offset_;
}

bool QueueFileWriter::write(char type, std::string_view data) {
    if (stream_ == nullptr) return false;
    if (!write_record(stream_, type, data)) {
        offset_ = -1;  // a partial write: ask the stream next time
        return false;
    }
    if (offset_ >= 0) offset_ += static_cast<long>(encoded_record_size(data.size()));
    return true;
}

bool QueueFileWriter::cut_to_written() {
    if (stream_ == nullptr || std::fflush(stream_) != 0) return false;
    if (stale_size_ == 0) return true;
    // The stream's position is the end of what was written: writers only
    // append through the stream (the first record's rewrite uses pwrite).
    long end = offset();
    if (end < 0) return false;
    if (end < stale_size_ && ::ftruncate(::fileno(stream_), static_cast<off_t>(end)) != 0) return false;
    stale_size_ = 0;
    return true;
}

std::expected<void, std::string> QueueFileWriter::commit(mode_t ready_mode) {
    if (stream_ == nullptr) return std::unexpected(std::string("queue file is closed"));
    int fd = ::fileno(stream_);
    if (std::fflush(stream_) != 0 || std::ferror(stream_))
        return std::unexpected(fmt::format("write queue file {}: {}", path_, std::strerror(errno)));
    // Before the ready mode: a ready file never holds a pooled file's zeros.
    if (!cut_to_written())
        return std::unexpected(fmt::format("truncate queue file {}: {}", path_, std::strerror(errno)));
    if (::fchmod(fd, ready_mode) != 0)
        return std::unexpected(fmt::format("chmod queue file {}: {}", path_, std::strerror(errno)));
    if (::fsync(fd) != 0)
        return std::unexpected(fmt::format("fsync queue file {}: {}", path_, std::strerror(errno)));
    committed_ = true;
    return {};
}

void QueueFileWriter::abandon() {
    if (!path_.empty() && !committed_) ::unlink(path_.c_str());
    committed_ = true;
    offset_ = -1;
    if (stream_ != nullptr) {
        std::fclose(stream_);
        stream_ = nullptr;
    }
}

std::expected<void, std::string> mark_record(int fd, long offset, char type, bool sync) {
    if (offset < 0) return std::unexpected(fmt::format("bad record offset {}", offset));
    ssize_t n = ::pwrite(fd, &type, 1, static_cast<off_t>(offset));
    if (n != 1)
        return std::unexpected(fmt::format("update record at offset {}: {}", offset,
                                           n < 0 ? std::strerror(errno) : "short write"));
    if (sync && ::fsync(fd) != 0)
        return std::unexpected(fmt::format("fsync after record update: {}", std::strerror(errno)));
    return {};
}

}  // namespace pf::queue
