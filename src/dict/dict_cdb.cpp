// cdb:/path: a constant database /path.cdb (tinycdb format), as the
// reference's cdb_table makes and reads it, through the same library:
//  - opened O_RDONLY to read, or O_CREAT|O_TRUNC (O_WRONLY or O_RDWR) to
//    build; anything else (postmap -i, -d) is refused with the reference's
//    "dict_cdb_open: inappropriate open flags ..." text;
//  - a build writes /path.cdb.tmp (mode 0644 less the umask) under an
//    exclusive flock(2), and close() renames it over /path.cdb, so readers
//    see the old or the new file; readers take no lock;
//  - keys and values are stored without a trailing NUL unless kTryNul alone
//    asks for one (see dict_indexed.h);
//  - duplicates: kept first with a warning (CDB_PUT_INSERT), replaced
//    (CDB_PUT_REPLACE), or with kDupIgnore added unconditionally
//    (CDB_PUT_ADD: the first stays the one found), as the reference does,
//    so both make the same bytes from the same input;
//  - no sequential access ("sequence operation is not supported").
//
// Trust: the .cdb file is outside input; tinycdb checks every position it
// reads against the file size and reports EPROTO.
#include "dict/dict_indexed.h"
#include "dict/dict_registry.h"
#include "util/msg.h"
#include "util/unique_fd.h"

#include <cdb.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace pf::dict {
namespace {

std::string errno_text(int err) { return std::strerror(err); }

using Fd = util::UniqueFd;

class CdbReader final : public Dict {
public:
    CdbReader(std::string source, int open_flags, Flags flags)
        : Dict("cdb", source + ".cdb", open_flags, flags), path_(source + ".cdb"), source_(std::move(source)) {}
    ~CdbReader() override {
        if (ready_) cdb_free(&cdb_);
    }

    std::expected<void, Error> open() {
        fd_.reset(::open(path_.c_str(), O_RDONLY | O_CLOEXEC));
        if (fd_.get() < 0)
            return std::unexpected(Error{Error::Kind::retry, fmt::format("open database {}: {}", path_, errno_text(errno))});
        if (cdb_init(&cdb_, fd_.get()) != 0)
            return std::unexpected(
                Error{Error::Kind::retry, fmt::format("dict_cdbq_open: unable to init {}: {}", path_, errno_text(errno))});
        ready_ = true;
        warn_if_older_than_source(path_, source_);
        return {};
    }

    LookupResult lookup(std::string_view key) override {
        std::string folded = fold_key(c_string(key));
        Flags f = flags();
        LookupResult r = lookup_nul_forms(f, folded, [&](std::string_view k) -> Probe {
            int rc = cdb_find(&cdb_, k.data(), static_cast<unsigned>(k.size()));
            if (rc == 0) return std::optional<std::string>();
            const void* data = rc > 0 ? cdb_get(&cdb_, cdb_datalen(&cdb_), cdb_datapos(&cdb_)) : nullptr;
            if (!data) {
                int err = rc < 0 ? errno : EPROTO;
                util::msg_fatal("error reading {}: {}", path_, errno_text(err));
            }
            return std::optional<std::string>(std::string(static_cast<const char*>(data), cdb_datalen(&cdb_)));
        });
        set_flags(f);
        return r;
    }

    std::optional<Entry> sequence(SequenceStart) override {
        set_error({Error::Kind::config, "table " + type_name() + ": sequence operation is not supported"});
        return std::nullopt;
    }

    int stat_fd() const override { return ready_ ? fd_.get() : -1; }

private:
    std::string path_;
    std::string source_;
    Fd fd_;
    struct cdb cdb_ {};
    bool ready_ = false;
};

class CdbWriter final : public Dict {
public:
    CdbWriter(std::string source, int open_flags, Flags flags)
        : Dict("cdb", source, open_flags, flags), path_(source + ".cdb"), tmp_path_(path_ + ".tmp") {}
    ~CdbWriter() override {
        // Not committed: the half-written file goes (we hold its lock);
        // finishing frees the library's record lists.
        if (fd_.get() >= 0) {
            cdb_make_finish(&make_);
            ::unlink(tmp_path_.c_str());
        }
    }

    std::expected<void, Error> open() {
        auto fail = [&](int err) {
            return std::unexpected(Error{Error::Kind::retry, fmt::format("open database {}: {}", tmp_path_, errno_text(err))});
        };
        // Another build may rename the file we locked: lock until we hold
        // the file that has the name.
        for (;;) {
            fd_.reset(::open(tmp_path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644));
            if (fd_.get() < 0) return fail(errno);
            while (::flock(fd_.get(), LOCK_EX) != 0) {
                if (errno != EINTR) return fail(errno);
            }
            struct stat fst {};
            struct stat pst {};
            if (::fstat(fd_.get(), &fst) != 0) return fail(errno);
            if (::stat(tmp_path_.c_str(), &pst) == 0 && pst.st_dev == fst.st_dev && pst.st_ino == fst.st_ino) break;
        }
        if (::ftruncate(fd_.get(), 0) != 0 || cdb_make_start(&make_, fd_.get()) != 0) {
            int err = errno;
            fd_.reset();
            return fail(err);
        }
        return {};
    }

    LookupResult lookup(std::string_view) override {
        return LookupResult::failed({Error::Kind::config, "table " + type_name() + ": lookup while building is not supported"});
    }

    ChangeStatus update(std::string_view key, std::string_view value) override {
        Flags f = flags();
        auto [k, v] = stored_pair(fold_key(c_string(key)), value, f, false);
        set_flags(f);
        DupAction dup = dup_action(f);
        cdb_put_mode mode = dup == DupAction::replace ? CDB_PUT_REPLACE
                            : dup == DupAction::ignore ? CDB_PUT_ADD
                                                       : CDB_PUT_INSERT;
        int rc = cdb_make_put(&make_, k.data(), static_cast<unsigned>(k.size()), v.data(), static_cast<unsigned>(v.size()), mode);
        if (rc < 0) {
            set_error({Error::Kind::retry, fmt::format("error writing {}: {}", tmp_path_, errno_text(errno))});
            return ChangeStatus::failed;
        }
        if (rc > 0 && mode == CDB_PUT_INSERT) {
            if (auto failed = duplicate_entry(dup, name(), k)) {
                set_error(std::move(*failed));
                return ChangeStatus::failed;
            }
        }
        return ChangeStatus::done;
    }

    std::optional<Entry> sequence(SequenceStart) override {
        set_error({Error::Kind::config, "table " + type_name() + ": sequence operation is not supported"});
        return std::nullopt;
    }

    std::expected<void, Error> close() override {
        if (fd_.get() < 0) return {};
        auto fail = [&](const std::string& what, int err) {
            ::unlink(tmp_path_.c_str());
            fd_.reset();
            return std::unexpected(Error{Error::Kind::retry, fmt::format("{}: {}", what, errno_text(err))});
        };
        if (cdb_make_finish(&make_) != 0) return fail("error writing " + tmp_path_, errno);
        if (::fsync(fd_.get()) != 0) return fail("error writing " + tmp_path_, errno);
        if (::rename(tmp_path_.c_str(), path_.c_str()) != 0) return fail("rename " + tmp_path_ + " to " + path_, errno);
        fd_.reset();
        return {};
    }

private:
    std::string path_;
    std::string tmp_path_;
    Fd fd_;
    struct cdb_make make_ {};
};

}  // namespace

void register_cdb_type() {
    register_type("cdb", [](std::string_view name, int open_flags, Flags flags) -> OpenResult {
        flags = default_nul_flags(flags) | kFixed;
        if ((open_flags & O_ACCMODE) == O_RDONLY) {
            auto dict = std::make_unique<CdbReader>(std::string(name), open_flags, flags);
            if (auto r = dict->open(); !r) return std::unexpected(r.error());
            return dict;
        }
        if ((open_flags & (O_CREAT | O_TRUNC)) != (O_CREAT | O_TRUNC))
            return std::unexpected(Error{Error::Kind::config,
                                         "dict_cdb_open: inappropriate open flags for cdb database - specify O_RDONLY or "
                                         "O_WRONLY|O_CREAT|O_TRUNC"});
        auto dict = std::make_unique<CdbWriter>(std::string(name), open_flags, flags);
        if (auto r = dict->open(); !r) return std::unexpected(r.error());
        return dict;
    });
}

}  // namespace pf::dict
