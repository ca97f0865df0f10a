// hash:/path and btree:/path: Berkeley DB 5.3 files /path.db, as the
// reference's hash_table/btree tables make and read them, through the same
// library with the same settings, so either side reads the other's files and
// the library's own diagnostics (e.g. "BDB3037 ./x.db: file size not a
// multiple of the pagesize") come out the same:
//  - a private environment (DB_CREATE|DB_INIT_MPOOL|DB_PRIVATE) whose home is
//    the file's directory; its cache is berkeley_db_create_buffer_size when
//    the file is opened with O_CREAT, berkeley_db_read_buffer_size otherwise
//    (the reference's read cache: with a larger setting it reads fewer
//    pages, as ours does);
//  - hash files get 4096 as the expected element count; the page size and
//    hash function are the library's defaults;
//  - the file is created mode 0644 (less the umask), truncated in place by a
//    bulk build (DB_TRUNCATE), never renamed;
//  - locks are flock(2) locks on the .db file: shared while opening for
//    reading and around each lookup (kLock), exclusive for a whole bulk
//    build, exclusive around each change otherwise;
//  - keys and values are stored with a trailing NUL (see dict_indexed.h);
//    errors read "open database X.db: <strerror>";
//  - a bulk build of a hash file (postmap/postalias without -i) collects the
//    entries and writes the file the reference's put() calls would leave, in
//    one pass when the table is closed (dict_db_hash_build.h); duplicates are
//    found and reported as they come, as the reference's DB_NOOVERWRITE puts
//    find them. What that replay does not cover falls back to libdb's put()
//    for every entry so far, in order.
//
// Trust: the .db file is outside input; Berkeley DB checks its own pages.
#include "dict/dict_db_handles.h"
#include "dict/dict_db_hash_build.h"
#include "dict/dict_indexed.h"
#include "dict/dict_registry.h"
#include "util/msg.h"
#include "util/unique_fd.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <bit>
#include <cerrno>
#include <cstring>
#include <memory>
#include <utility>

namespace pf::dict {
namespace {

constexpr u_int32_t kHashElements = 4096;
// The most memory a bulk hash build holds its entries in (their keys and
// values plus some 30 bytes each: over 10 million short entries); a larger
// build goes on with libdb's put(), as the reference's does.
constexpr size_t kHashBuildMemory = size_t{1} << 30;

// An fd held only for its flock(2) lock; unlocked by closing.
using LockFd = util::UniqueFd;

// flock(2) that retries on EINTR.
bool lock_fd(int fd, int op) {
    while (::flock(fd, op) != 0) {
        if (errno != EINTR) return false;
    }
    return true;
}

class DbDict final : public Dict {
public:
    DbDict(std::string type, std::string db_path, std::string source_path, int open_flags, Flags flags)
        : Dict(std::move(type), db_path, open_flags, flags),
          db_path_(std::move(db_path)),
          source_path_(std::move(source_path)) {}

    std::expected<void, Error> open(DBTYPE db_type);

    LookupResult lookup(std::string_view key) override;
    ChangeStatus update(std::string_view key, std::string_view value) override;
    ChangeStatus remove(std::string_view key) override;
    std::optional<Entry> sequence(SequenceStart where) override;
    std::expected<void, Error> close() override;
    // The library's descriptor of the open file; not for builds.
    int stat_fd() const override { return bulk() || !db_ ? -1 : db_fd_; }

private:
    bool bulk() const { return flags() & kBulkUpdate; }
    // Per-operation lock (kLock), unless a bulk build holds one already.
    bool op_lock(int op) { return bulk() || !(flags() & kLock) || lock_fd(db_fd_, op); }
    void op_unlock() {
        if (!bulk() && (flags() & kLock)) lock_fd(db_fd_, LOCK_UN);
    }
    // kSync (proxywrite, which never closes its tables): each change goes
    // to disk before it is acknowledged, as the reference's sync_update.
    void sync_if_asked() {
        if (!(flags() & kSync)) return;
        if (int err = db_->sync(db_.get(), 0); err != 0)
            util::msg_fatal("{}: flush dictionary: {}", name(), db::error_text(err));
    }
    Error io_error(const char* what, int err) const {
        return Error{Error::Kind::retry, fmt::format("{} {}: {}", what, db_path_, db::error_text(err))};
    }
    // The in-memory hash build (see the file comment).
    void start_hash_build();
    std::optional<Error> flush_hash_build();
    std::optional<Error> finish_hash_build();

    std::string db_path_;
    std::string source_path_;
    db::Env env_;
    db::Db db_;
    db::Cursor cursor_;
    int db_fd_ = -1;
    LockFd bulk_lock_;
    std::string key_buf_;  // the key of the current lookup/update, folded
    std::string val_buf_;  // the value of the current update
    std::unique_ptr<db::HashBuild> hash_build_;
    std::string hash_meta_;  // the meta page libdb wrote at creation
};

// A bulk build of a new hash file on a little-endian host, with a page size
// the replay knows and the fresh meta page it starts from.
void DbDict::start_hash_build() {
    if constexpr (std::endian::native != std::endian::little) return;
    if (!bulk() || !(open_flags() & O_TRUNC) || (flags() & kSync) || bulk_lock_.get() < 0) return;
    u_int32_t page_size = 0;
    if (db_->get_pagesize(db_.get(), &page_size) != 0 || page_size < 512 || page_size > 32768) return;
    auto build = std::make_unique<db::HashBuild>(page_size);
    std::string meta(page_size, '\0');
    if (::pread(bulk_lock_.get(), meta.data(), page_size, 0) != static_cast<ssize_t>(page_size)) return;
    if (!build->meta_is_fresh(meta)) return;
    hash_meta_ = std::move(meta);
    hash_build_ = std::move(build);
}

// Back to libdb: every entry collected so far is put, in order.
std::optional<Error> DbDict::flush_hash_build() {
    if (!hash_build_) return std::nullopt;
    std::unique_ptr<db::HashBuild> build = std::move(hash_build_);
    for (uint32_t i = 0; i < build->size(); ++i) {
        std::string_view k = build->key(i);
        std::string_view v = build->value(i);
        DBT dk{};
        DBT dv{};
        dk.data = const_cast<char*>(k.data());
        dk.size = static_cast<u_int32_t>(k.size());
        dv.data = const_cast<char*>(v.data());
        dv.size = static_cast<u_int32_t>(v.size());
        if (int err = db_->put(db_.get(), nullptr, &dk, &dv, DB_NOOVERWRITE); err != 0)
            return io_error("error writing", err);
    }
    return std::nullopt;
}

// At close: libdb's handles are closed already (so that it writes nothing
// more); the file is written whole, then flushed to disk.
std::optional<Error> DbDict::finish_hash_build() {
    std::unique_ptr<db::HashBuild> build = std::move(hash_build_);
    const int fd = bulk_lock_.get();
    if (int err = build->write(fd, hash_meta_); err != 0) return io_error("close database", err);
    if (::fdatasync(fd) != 0) return io_error("close database", errno);
    return std::nullopt;
}

std::expected<void, Error> DbDict::open(DBTYPE db_type) {
    const int acc = open_flags() & O_ACCMODE;
    const bool creating = open_flags() & O_CREAT;
    auto open_error = [&](int err) {
        env_.quiet();
        return std::unexpected(Error{Error::Kind::retry, fmt::format("open database {}: {}", db_path_, db::error_text(err))});
    };

    // The open lock: on the existing file, before the library opens it.
    LockFd open_lock;
    if (acc == O_RDONLY) {
        int fd = ::open(db_path_.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0) return open_error(errno);
        open_lock = LockFd(fd);
        if ((flags() & kLock) && !lock_fd(fd, LOCK_SH)) return open_error(errno);
    } else {
        int fd = ::open(db_path_.c_str(), O_RDWR | O_CLOEXEC);
        if (fd >= 0) {
            open_lock = LockFd(fd);
            if (!lock_fd(fd, LOCK_EX)) return open_error(errno);
        } else if (errno != ENOENT || !creating) {
            return open_error(errno);
        }
    }

    if (open_lock.get() >= 0 && !db::header_is_sane(open_lock.get()))
        return std::unexpected(Error{Error::Kind::retry, fmt::format("open database {}: {}", db_path_, db::kCorruptText)});
    auto [home, file] = db::split_path(db_path_);
    const IndexedTableParams& params = indexed_table_params();
    auto env = db::Env::create(
        home, creating ? params.berkeley_db_create_buffer_size : params.berkeley_db_read_buffer_size);
    if (!env) return open_error(env.error());
    env_ = std::move(*env);
    auto handle = db::Db::create(env_);
    if (!handle) return open_error(handle.error());
    db_ = std::move(*handle);
    if (db_type == DB_HASH) {
        if (int err = db_->set_h_nelem(db_.get(), kHashElements); err != 0) return open_error(err);
    }
    u_int32_t db_flags = DB_FCNTL_LOCKING;
    if (acc == O_RDONLY) db_flags |= DB_RDONLY;
    if (creating) db_flags |= DB_CREATE;
    if (open_flags() & O_TRUNC) db_flags |= DB_TRUNCATE;
    if (int err = db_->open(db_.get(), nullptr, file.c_str(), nullptr, db_type, db_flags, 0644); err != 0)
        return open_error(err);
    if (int err = db_->fd(db_.get(), &db_fd_); err != 0) return open_error(err);
    // Berkeley DB trusts the pages it reads; a damaged page can make it read
    // outside its buffers. Before reading a file that someone other than
    // root or us may have written, the library's own verifier walks it
    // (quietly); a file that fails is not used.
    if (acc == O_RDONLY && db::needs_verification(db_fd_) && !db::verify_quietly(db_path_))
        return std::unexpected(Error{Error::Kind::retry, fmt::format("open database {}: {}", db_path_, db::kCorruptText)});

    if (bulk() && acc != O_RDONLY) {
        // The whole build runs under an exclusive lock on the file.
        if (open_lock.get() < 0) {
            int fd = ::open(db_path_.c_str(), O_RDWR | O_CLOEXEC);
            if (fd < 0) return open_error(errno);
            open_lock = LockFd(fd);
            if (!lock_fd(fd, LOCK_EX)) return open_error(errno);
        }
        bulk_lock_ = std::move(open_lock);
        if (db_type == DB_HASH) start_hash_build();
    }
    open_lock.reset();
    if (!creating) warn_if_older_than_source(db_path_, source_path_);
    return {};
}

// The NUL rules of dict_indexed.h (lookup_nul_forms, stored_pair) spelled
// out on the table's own buffers: a lookup or an update allocates nothing
// once the buffers have grown, and the library is called directly.
LookupResult DbDict::lookup(std::string_view key) {
    if (auto failed = flush_hash_build()) {
        set_error(*failed);
        return LookupResult::failed(std::move(*failed));
    }
    fold_key_into(c_string(key), key_buf_);
    if (!op_lock(LOCK_SH)) return LookupResult::failed(io_error("lock database", errno));
    Flags f = flags();
    const size_t n = key_buf_.size();
    key_buf_.push_back('\0');
    LookupResult r = LookupResult::not_found();
    // kTryNul first (n + 1 bytes), then kTryNoNul (n bytes); the first
    // form that finds something is the only one tried from then on.
    for (bool with_nul : {true, false}) {
        if (!(f & (with_nul ? kTryNul : kTryNoNul))) continue;
        DBT dk{};
        DBT dv{};
        dk.data = key_buf_.data();
        dk.size = static_cast<u_int32_t>(with_nul ? n + 1 : n);
        int err = db_->get(db_.get(), nullptr, &dk, &dv, 0);
        if (err == DB_NOTFOUND) continue;
        if (err != 0) {
            r = LookupResult::failed(io_error("error reading", err));
            break;
        }
        f &= with_nul ? ~kTryNoNul : ~kTryNul;
        r = LookupResult::found(std::string(c_string(std::string_view(static_cast<const char*>(dv.data), dv.size))));
        break;
    }
    op_unlock();
    set_flags(f);
    if (r.is_error()) set_error(r.error());
    return r;
}

ChangeStatus DbDict::update(std::string_view key, std::string_view value) {
    Flags f = flags();
    fold_key_into(c_string(key), key_buf_);
    val_buf_.assign(c_string(value));
    if (update_with_nul(f, true)) {
        key_buf_.push_back('\0');
        val_buf_.push_back('\0');
    }
    set_flags(f);
    DupAction dup = dup_action(f);
    if (hash_build_) {
        // The replay holds every pair in memory: past kHashBuildMemory
        // bytes the build goes on with libdb alone.
        if (hash_build_->fits(key_buf_.size(), val_buf_.size()) && hash_build_->memory() < kHashBuildMemory) {
            if (!hash_build_->contains(key_buf_)) {
                hash_build_->add(key_buf_, val_buf_);
                return ChangeStatus::done;
            }
            // A duplicate leaves the table as it is, unless it replaces.
            if (dup != DupAction::replace) {
                if (auto failed = duplicate_entry(dup, db_path_, key_buf_)) {
                    set_error(std::move(*failed));
                    return ChangeStatus::failed;
                }
                return ChangeStatus::done;
            }
        }
        if (auto failed = flush_hash_build()) {
            set_error(std::move(*failed));
            return ChangeStatus::failed;
        }
    }
    DBT dk{};
    DBT dv{};
    dk.data = key_buf_.data();
    dk.size = static_cast<u_int32_t>(key_buf_.size());
    dv.data = val_buf_.data();
    dv.size = static_cast<u_int32_t>(val_buf_.size());
    if (!op_lock(LOCK_EX)) {
        set_error(io_error("lock database", errno));
        return ChangeStatus::failed;
    }
    int err = db_->put(db_.get(), nullptr, &dk, &dv, dup == DupAction::replace ? 0 : DB_NOOVERWRITE);
    op_unlock();
    if (err == DB_KEYEXIST) {
        if (auto failed = duplicate_entry(dup, db_path_, key_buf_)) {
            set_error(std::move(*failed));
            return ChangeStatus::failed;
        }
        return ChangeStatus::done;
    }
    if (err != 0) {
        set_error(io_error("error writing", err));
        return ChangeStatus::failed;
    }
    sync_if_asked();
    return ChangeStatus::done;
}

ChangeStatus DbDict::remove(std::string_view key) {
    if (auto failed = flush_hash_build()) {
        set_error(std::move(*failed));
        return ChangeStatus::failed;
    }
    std::string folded = fold_key(c_string(key));
    if (!op_lock(LOCK_EX)) {
        set_error(io_error("lock database", errno));
        return ChangeStatus::failed;
    }
    Flags f = flags();
    auto removed = remove_nul_forms(f, folded, [&](std::string_view k) -> std::expected<bool, Error> {
        DBT dk{};
        dk.data = const_cast<char*>(k.data());
        dk.size = static_cast<u_int32_t>(k.size());
        int err = db_->del(db_.get(), nullptr, &dk, 0);
        if (err != 0 && err != DB_NOTFOUND) return std::unexpected(io_error("error deleting from", err));
        return err == 0;
    });
    op_unlock();
    set_flags(f);
    if (!removed) {
        set_error(removed.error());
        return ChangeStatus::failed;
    }
    if (!*removed) return ChangeStatus::not_found;
    sync_if_asked();
    return ChangeStatus::done;
}

std::optional<Entry> DbDict::sequence(SequenceStart where) {
    if (auto failed = flush_hash_build()) {
        set_error(std::move(*failed));
        return std::nullopt;
    }
    if (where == SequenceStart::first || !cursor_) {
        cursor_.reset();
        auto c = db::Cursor::open(db_);
        if (!c) {
            set_error(io_error("error reading", c.error()));
            return std::nullopt;
        }
        cursor_ = std::move(*c);
        where = SequenceStart::first;
    }
    DBT dk{};
    DBT dv{};
    if (!op_lock(LOCK_SH)) {
        set_error(io_error("lock database", errno));
        return std::nullopt;
    }
    int err = cursor_->get(cursor_.get(), &dk, &dv, where == SequenceStart::first ? DB_FIRST : DB_NEXT);
    op_unlock();
    if (err == DB_NOTFOUND) {
        cursor_.reset();
        set_error({});
        return std::nullopt;
    }
    if (err != 0) {
        cursor_.reset();
        set_error(io_error("error reading", err));
        return std::nullopt;
    }
    return stored_entry(std::string_view(static_cast<const char*>(dk.data), dk.size),
                        std::string_view(static_cast<const char*>(dv.data), dv.size));
}

std::expected<void, Error> DbDict::close() {
    cursor_.reset();
    if (!db_) return {};
    int err = db_->sync(db_.get(), 0);
    int close_err = db_.close();
    int env_err = env_.close();
    if (err == 0) err = close_err;
    if (err == 0) err = env_err;
    if (err == 0 && hash_build_) {
        if (auto failed = finish_hash_build()) {
            bulk_lock_.reset();
            return std::unexpected(std::move(*failed));
        }
    }
    hash_build_.reset();
    bulk_lock_.reset();
    if (err != 0) return std::unexpected(io_error("close database", err));
    return {};
}

OpenResult open_db(const char* type, DBTYPE db_type, std::string_view name, int open_flags, Flags flags) {
    std::string source(name);
    auto dict = std::make_unique<DbDict>(type, source + ".db", source, open_flags, default_nul_flags(flags) | kFixed);
    if (auto r = dict->open(db_type); !r) return std::unexpected(r.error());
    return dict;
}

}  // namespace

void register_hash_type() {
    register_type("hash", [](std::string_view name, int open_flags, Flags flags) {
        return open_db("hash", DB_HASH, name, open_flags, flags);
    });
}

void register_btree_type() {
    register_type("btree", [](std::string_view name, int open_flags, Flags flags) {
        return open_db("btree", DB_BTREE, name, open_flags, flags);
    });
}

}  // namespace pf::dict
