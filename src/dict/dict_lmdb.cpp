// lmdb:/path: an LMDB file /path.lmdb, as the reference's lmdb_table makes
// and reads it, through the same library:
//  - one file, no lock file (MDB_NOSUBDIR|MDB_NOLOCK), created mode 0644
//    (less the umask), the unnamed database only;
//  - the map size is lmdb_map_size, or the file's size plus 10240 bytes when
//    that is larger; when a change does not fit, the map size is doubled and
//    the change retried (a bulk build starts over: ChangeStatus::restart);
//  - a bulk build (O_TRUNC) empties the database and refills it in one write
//    transaction committed by close(), so readers see the old or the new
//    table, never a mix; other changes commit one by one;
//  - locks are fcntl(2) record locks on the file: shared around each lookup
//    (kLock), taken exclusive then held shared through a bulk build;
//  - keys and values are stored with a trailing NUL (see dict_indexed.h);
//    errors read "open database X.lmdb: <mdb_strerror>".
//
// Trust: the .lmdb file is outside input. LMDB trusts its file's page
// numbers, so before use the file must be as long as its meta page says
// (a shorter file would fault on access); dict_lmdb_check.h walks the tree.
#include "dict/dict_indexed.h"
#include "dict/dict_lmdb_check.h"
#include "dict/dict_registry.h"
#include "util/msg.h"

#include <fcntl.h>
#include <lmdb.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <utility>
#include <vector>

namespace pf::dict {
namespace {

constexpr size_t kMapSlack = 10240;

// Owner of an MDB_env; closes it on destruction.
class Env {
public:
    Env() = default;
    Env(const Env&) = delete;
    Env& operator=(const Env&) = delete;
    ~Env() { reset(); }
    int create() { return mdb_env_create(&env_); }
    MDB_env* get() const { return env_; }
    void reset() {
        if (env_) mdb_env_close(std::exchange(env_, nullptr));
    }

private:
    MDB_env* env_ = nullptr;
};

// Owner of an MDB_txn; aborts it on destruction unless committed.
class Txn {
public:
    Txn() = default;
    Txn(const Txn&) = delete;
    Txn& operator=(const Txn&) = delete;
    ~Txn() { abort(); }
    int begin(MDB_env* env, unsigned flags) {
        abort();
        int rc = mdb_txn_begin(env, nullptr, flags, &txn_);
        if (rc != 0) txn_ = nullptr;
        return rc;
    }
    int commit() {
        if (!txn_) return 0;
        return mdb_txn_commit(std::exchange(txn_, nullptr));
    }
    void abort() {
        if (txn_) mdb_txn_abort(std::exchange(txn_, nullptr));
    }
    MDB_txn* get() const { return txn_; }
    explicit operator bool() const { return txn_ != nullptr; }

private:
    MDB_txn* txn_ = nullptr;
};

// Owner of an MDB_cursor (closed before its transaction ends).
class Cursor {
public:
    Cursor() = default;
    Cursor(const Cursor&) = delete;
    Cursor& operator=(const Cursor&) = delete;
    ~Cursor() { reset(); }
    int open(MDB_txn* txn, MDB_dbi dbi) {
        reset();
        int rc = mdb_cursor_open(txn, dbi, &c_);
        if (rc != 0) c_ = nullptr;
        return rc;
    }
    void reset() {
        if (c_) mdb_cursor_close(std::exchange(c_, nullptr));
    }
    MDB_cursor* get() const { return c_; }

private:
    MDB_cursor* c_ = nullptr;
};

bool record_lock(int fd, short type) {
    struct flock fl {};
    fl.l_type = type;
    fl.l_whence = SEEK_SET;
    while (::fcntl(fd, F_SETLKW, &fl) != 0) {
        if (errno != EINTR) return false;
    }
    return true;
}

MDB_val as_val(std::string_view s) { return MDB_val{s.size(), const_cast<char*>(s.data())}; }

class LmdbDict final : public Dict {
public:
    LmdbDict(std::string name, int open_flags, Flags flags)
        : Dict("lmdb", name, open_flags, flags), db_path_(name + ".lmdb"), source_path_(std::move(name)) {}
    ~LmdbDict() override {
        cursor_.reset();
        seq_txn_.abort();
        bulk_txn_.abort();
    }

    std::expected<void, Error> open();

    LookupResult lookup(std::string_view key) override;
    ChangeStatus update(std::string_view key, std::string_view value) override;
    ChangeStatus remove(std::string_view key) override;
    std::optional<Entry> sequence(SequenceStart where) override;
    std::expected<void, Error> close() override;
    int stat_fd() const override { return bulk() ? -1 : fd_; }

private:
    bool bulk() const { return bulk_txn_.get() != nullptr; }
    Error error(const char* what, int rc) const {
        return Error{Error::Kind::retry, fmt::format("{} {}: {}", what, db_path_, mdb_strerror(rc))};
    }
    bool grow_map();
    int begin_bulk();
    // Begins a read transaction, following a map the writer has grown.
    int begin_read(Txn& txn);

    std::string db_path_;
    std::string source_path_;
    Env env_;
    MDB_dbi dbi_ = 0;
    int fd_ = -1;
    size_t map_size_ = 0;
    Txn bulk_txn_;
    // What the bulk transaction holds, to refill it when the commit finds the
    // map too small.
    std::vector<std::pair<std::string, std::string>> bulk_log_;
    bool bulk_replace_ = false;
    Txn seq_txn_;
    Cursor cursor_;
};

std::expected<void, Error> LmdbDict::open() {
    const bool read_only = (open_flags() & O_ACCMODE) == O_RDONLY;
    map_size_ = static_cast<size_t>(indexed_table_params().lmdb_map_size);
    struct stat st {};
    if (::stat(db_path_.c_str(), &st) == 0 && static_cast<size_t>(st.st_size) + kMapSlack > map_size_)
        map_size_ = static_cast<size_t>(st.st_size) + kMapSlack;

    // Checked before the library sees it: LMDB divides by the page size its
    // header gives and maps pages its header promises.
    if (st.st_size > 0) {
        int fd = ::open(db_path_.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd >= 0) {
            auto verdict = lmdb_check::check_fd(fd);
            ::close(fd);
            if (!verdict)
                return std::unexpected(Error{Error::Kind::retry, fmt::format("open database {}: {}", db_path_, verdict.error())});
        }
    }
    if (int rc = env_.create(); rc != 0) return std::unexpected(error("open database", rc));
    if (int rc = mdb_env_set_mapsize(env_.get(), map_size_); rc != 0) return std::unexpected(error("open database", rc));
    unsigned env_flags = MDB_NOSUBDIR | MDB_NOLOCK | (read_only ? MDB_RDONLY : 0u);
    if (int rc = mdb_env_open(env_.get(), db_path_.c_str(), env_flags, 0644); rc != 0)
        return std::unexpected(error("open database", rc));
    if (int rc = mdb_env_get_fd(env_.get(), &fd_); rc != 0) return std::unexpected(error("open database", rc));

    Txn txn;
    if (int rc = txn.begin(env_.get(), read_only ? MDB_RDONLY : 0u); rc != 0)
        return std::unexpected(error("open database", rc));
    if (int rc = mdb_dbi_open(txn.get(), nullptr, 0, &dbi_); rc != 0) return std::unexpected(error("open database", rc));
    txn.abort();

    if ((flags() & kBulkUpdate) && !read_only && (open_flags() & O_TRUNC)) {
        // Exclusive while taking over the file, then shared for the build.
        record_lock(fd_, F_WRLCK);
        record_lock(fd_, F_RDLCK);
        bulk_replace_ = dup_action(flags()) == DupAction::replace;
        if (int rc = begin_bulk(); rc != 0) return std::unexpected(error("open database", rc));
    }
    if (!(open_flags() & O_CREAT)) warn_if_older_than_source(db_path_, source_path_);
    return {};
}

int LmdbDict::begin_bulk() {
    if (int rc = bulk_txn_.begin(env_.get(), 0); rc != 0) return rc;
    return mdb_drop(bulk_txn_.get(), dbi_, 0);
}

bool LmdbDict::grow_map() {
    map_size_ *= 2;
    return mdb_env_set_mapsize(env_.get(), map_size_) == 0;
}

int LmdbDict::begin_read(Txn& txn) {
    int rc = txn.begin(env_.get(), MDB_RDONLY);
    if (rc == MDB_MAP_RESIZED && mdb_env_set_mapsize(env_.get(), 0) == 0) rc = txn.begin(env_.get(), MDB_RDONLY);
    return rc;
}

LookupResult LmdbDict::lookup(std::string_view key) {
    std::string folded = fold_key(c_string(key));
    const bool lock = (flags() & kLock) && !bulk();
    if (lock && !record_lock(fd_, F_RDLCK)) return LookupResult::failed(error("lock database", errno));
    Flags f = flags();
    LookupResult r = lookup_nul_forms(f, folded, [&](std::string_view k) -> Probe {
        Txn txn;
        MDB_txn* t = bulk_txn_.get();
        if (!t) {
            if (int rc = begin_read(txn); rc != 0) return std::unexpected(error("error reading", rc));
            t = txn.get();
        }
        MDB_val mk = as_val(k);
        MDB_val mv{};
        int rc = mdb_get(t, dbi_, &mk, &mv);
        if (rc == MDB_NOTFOUND) return std::optional<std::string>();
        // As in the reference, a failed read is fatal for the program.
        if (rc != 0) util::msg_fatal("error reading {}: {}", type_name(), mdb_strerror(rc));
        return std::optional<std::string>(std::string(static_cast<const char*>(mv.mv_data), mv.mv_size));
    });
    if (lock) record_lock(fd_, F_UNLCK);
    set_flags(f);
    if (r.is_error()) set_error(r.error());
    return r;
}

ChangeStatus LmdbDict::update(std::string_view key, std::string_view value) {
    Flags f = flags();
    auto [k, v] = stored_pair(fold_key(c_string(key)), value, f, true);
    set_flags(f);
    DupAction dup = dup_action(f);
    unsigned put_flags = dup == DupAction::replace ? 0u : MDB_NOOVERWRITE;
    MDB_val mk = as_val(k);
    MDB_val mv = as_val(v);
    int rc;
    if (bulk()) {
        rc = mdb_put(bulk_txn_.get(), dbi_, &mk, &mv, put_flags);
        if (rc == MDB_MAP_FULL) {
            // Start over in a larger map; the caller replays its source.
            bulk_txn_.abort();
            bulk_log_.clear();
            if (!grow_map() || begin_bulk() != 0) {
                set_error(error("error writing", rc));
                return ChangeStatus::failed;
            }
            return ChangeStatus::restart;
        }
        if (rc == 0) bulk_log_.emplace_back(k, v);
    } else {
        for (;;) {
            Txn txn;
            rc = txn.begin(env_.get(), 0);
            if (rc == 0) rc = mdb_put(txn.get(), dbi_, &mk, &mv, put_flags);
            if (rc == 0) rc = txn.commit();
            if (rc != MDB_MAP_FULL) break;
            txn.abort();
            if (!grow_map()) break;
        }
    }
    if (rc == MDB_KEYEXIST) {
        if (auto failed = duplicate_entry(dup, type_name(), k)) {
            set_error(std::move(*failed));
            return ChangeStatus::failed;
        }
        return ChangeStatus::done;
    }
    if (rc != 0) {
        set_error(error("error writing", rc));
        return ChangeStatus::failed;
    }
    return ChangeStatus::done;
}

ChangeStatus LmdbDict::remove(std::string_view key) {
    std::string folded = fold_key(c_string(key));
    Flags f = flags();
    auto removed = remove_nul_forms(f, folded, [&](std::string_view k) -> std::expected<bool, Error> {
        MDB_val mk = as_val(k);
        int rc;
        if (bulk()) {
            rc = mdb_del(bulk_txn_.get(), dbi_, &mk, nullptr);
        } else {
            Txn txn;
            rc = txn.begin(env_.get(), 0);
            if (rc == 0) rc = mdb_del(txn.get(), dbi_, &mk, nullptr);
            if (rc == 0) rc = txn.commit();
        }
        if (rc != 0 && rc != MDB_NOTFOUND) return std::unexpected(error("error deleting from", rc));
        return rc == 0;
    });
    set_flags(f);
    if (!removed) {
        set_error(removed.error());
        return ChangeStatus::failed;
    }
    return *removed ? ChangeStatus::done : ChangeStatus::not_found;
}

std::optional<Entry> LmdbDict::sequence(SequenceStart where) {
    MDB_cursor_op op = MDB_NEXT;
    if (where == SequenceStart::first || !cursor_.get()) {
        cursor_.reset();
        seq_txn_.abort();
        MDB_txn* t = bulk_txn_.get();
        if (!t) {
            if (int rc = begin_read(seq_txn_); rc != 0) {
                set_error(error("error reading", rc));
                return std::nullopt;
            }
            t = seq_txn_.get();
        }
        if (int rc = cursor_.open(t, dbi_); rc != 0) {
            set_error(error("error reading", rc));
            return std::nullopt;
        }
        op = MDB_FIRST;
    }
    MDB_val mk{};
    MDB_val mv{};
    int rc = mdb_cursor_get(cursor_.get(), &mk, &mv, op);
    if (rc != 0) {
        cursor_.reset();
        seq_txn_.abort();
        set_error(rc == MDB_NOTFOUND ? Error{} : error("error reading", rc));
        return std::nullopt;
    }
    return stored_entry(std::string_view(static_cast<const char*>(mk.mv_data), mk.mv_size),
                        std::string_view(static_cast<const char*>(mv.mv_data), mv.mv_size));
}

std::expected<void, Error> LmdbDict::close() {
    cursor_.reset();
    seq_txn_.abort();
    int rc = 0;
    if (bulk()) {
        rc = bulk_txn_.commit();
        while (rc == MDB_MAP_FULL) {
            // The commit itself needs more room: refill a larger map.
            if (!grow_map() || (rc = begin_bulk()) != 0) break;
            unsigned put_flags = bulk_replace_ ? 0u : MDB_NOOVERWRITE;
            for (auto& [k, v] : bulk_log_) {
                MDB_val mk = as_val(k);
                MDB_val mv = as_val(v);
                rc = mdb_put(bulk_txn_.get(), dbi_, &mk, &mv, put_flags);
                if (rc == MDB_KEYEXIST) rc = 0;
                if (rc != 0) break;
            }
            if (rc == MDB_MAP_FULL) {
                bulk_txn_.abort();
                continue;
            }
            if (rc != 0) break;
            rc = bulk_txn_.commit();
        }
        bulk_txn_.abort();
        bulk_log_.clear();
    }
    env_.reset();
    fd_ = -1;
    if (rc != 0) return std::unexpected(error("error writing", rc));
    return {};
}

}  // namespace

void register_lmdb_type() {
    register_type("lmdb", [](std::string_view name, int open_flags, Flags flags) -> OpenResult {
        auto dict = std::make_unique<LmdbDict>(std::string(name), open_flags, default_nul_flags(flags) | kFixed);
        if (auto r = dict->open(); !r) return std::unexpected(r.error());
        return dict;
    });
}

}  // namespace pf::dict
