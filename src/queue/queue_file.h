// Queue IDs, queue directories and queue files as the reference lays them
// out on disk, so that a queue left by either implementation is read by
// the other:
//  - short IDs ("%05X%lX": the microseconds of creation, then the inode)
//    and long IDs (enable_long_queue_ids = yes), and a check that a name
//    is a well-formed ID;
//  - paths <queue_directory>/<queue>/[<hash dirs>/]<id>, hashed for the
//    queues named in hash_queue_names to hash_queue_depth levels;
//  - a new file is created under a temporary name, renamed to its ID once
//    its inode is known, written as records, then fsync'ed and marked
//    ready (mode 0700, the reference's "ready" mode) by commit(); a
//    writer destroyed before commit() removes the file (scope guard).
//
// Trust: queue file names come from directory scans and from users of
// postsuper/postcat; every name is checked before it becomes a path.
#pragma once

#include "queue/record.h"

#include <cstdio>
#include <expected>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <sys/stat.h>
#include <vector>

namespace pf::config { class Config; }

namespace pf::queue {

// The queue names of the reference.
inline constexpr std::string_view kMaildrop = "maildrop";
inline constexpr std::string_view kIncoming = "incoming";
inline constexpr std::string_view kActive = "active";
inline constexpr std::string_view kDeferred = "deferred";
inline constexpr std::string_view kHold = "hold";
inline constexpr std::string_view kCorrupt = "corrupt";
inline constexpr std::string_view kBounceLog = "bounce";
inline constexpr std::string_view kDeferLog = "defer";
inline constexpr std::string_view kTraceLog = "trace";
inline constexpr std::string_view kFlushLog = "flush";
inline constexpr std::string_view kSaved = "saved";

// The mode that says "complete, ready to be picked up"; a file being
// written has mode 0600.
inline constexpr mode_t kModeReady = 0700;
inline constexpr mode_t kModeWriting = 0600;

// The settings the layout depends on, read once from the configuration.
struct QueueLayout {
    std::string queue_directory;
    bool long_ids = false;              // enable_long_queue_ids
    int hash_depth = 1;                 // hash_queue_depth
    std::vector<std::string> hashed;    // hash_queue_names

    static QueueLayout from_config(const config::Config& config);

    // "<queue_directory>/<queue>/<hash dirs>/<id>" (relative to the queue
    // directory when relative is set: daemons run chdir'ed there).
    std::string path(std::string_view queue, std::string_view id, bool relative = false) const;
    // The hash subdirectories for id in queue ("" when not hashed), e.g. "A/".
    std::string hash_dirs(std::string_view queue, std::string_view id) const;
};

// A new queue ID for a file with this inode created at this time.
std::string make_queue_id(bool long_ids, ino_t inode, long seconds, long microseconds);
// Whether name is a well-formed short or long queue ID (the reference's
// test: 1-255 characters, letters, digits and '_', which also admits the
// fast-flush log names).
bool is_queue_id(std::string_view name);
// The inode number encoded in a queue ID (short: hex after the five
// microsecond digits; long: base 51 after the last 'z'); nullopt if bad.
std::optional<unsigned long> queue_id_inode(std::string_view id);

// Creates queue files; see the header comment.
class QueueFileWriter {
public:
    // Creates the file in queue (making missing hash directories) with
    // mode kModeWriting; errno-style text on failure. With from_pool, the
    // file is taken from the pool of emptied queue files when it has one
    // (queue_file_pool.h): then it may hold zeros past what is written,
    // which commit() and cut_to_written() remove.
    static std::expected<QueueFileWriter, std::string> create(const QueueLayout& layout, std::string_view queue,
                                                              bool from_pool = false);
    QueueFileWriter(QueueFileWriter&&) noexcept;
    QueueFileWriter& operator=(QueueFileWriter&&) = delete;
    QueueFileWriter(const QueueFileWriter&) = delete;
    ~QueueFileWriter();  // removes the file unless committed

    const std::string& id() const { return id_; }
    const std::string& path() const { return path_; }
    // The stream, for callers that seek or write on their own: offset()
    // asks the stream again afterwards.
    std::FILE* stream() {
        offset_ = -1;
        return stream_;
    }
    long offset();  // current write offset

    bool write(char type, std::string_view data);
    // Flushes and cuts the file at the stream's position when a pooled
    // file's zeros lie beyond it (for readers of a file not committed,
    // e.g. the bounce service); false on error.
    bool cut_to_written();
    // Flushes, cuts as cut_to_written(), sets kModeReady (or ready_mode),
    // fsyncs; the file stays.
    std::expected<void, std::string> commit(mode_t ready_mode = kModeReady);
    // Removes the file now.
    void abandon();

private:
    QueueFileWriter() = default;
    std::string id_;
    std::string path_;
    std::FILE* stream_ = nullptr;
    // stream_'s buffer, ours (no fstat for a block size; a typical message
    // leaves in one write(2)); freed after the fclose.
    std::unique_ptr<char[]> buffer_;
    bool committed_ = false;
    // The size of a pooled file when taken (zeros); 0 once cut, or new.
    long stale_size_ = 0;
    // The write offset as write() advanced it; -1 when unknown (ftell asks
    // the kernel: one lseek per call, and cleanup asks per content line).
    long offset_ = -1;
};

// Marks the record at offset as type (the reference's in-place update of a
// recipient to "done": only the type byte changes). fsyncs unless told not.
std::expected<void, std::string> mark_record(int fd, long offset, char type, bool sync = true);

}  // namespace pf::queue
