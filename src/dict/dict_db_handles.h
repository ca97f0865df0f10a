// Move-only owners of Berkeley DB 5.3 objects (DB_ENV, DB, DBC) for the
// hash and btree tables (dict_db.cpp). Destructor policy: each handle closes
// its object with flags 0 when it still owns it; close() reports the
// library's result. A Db must be closed before the Env it was created in
// (members are declared env first, so destruction order does this).
//
// Trust: none needed; these only wrap library calls.
#pragma once

#include <db.h>

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <expected>
#include <string>
#include <utility>

namespace pf::dict::db {

// Text of a library or errno result, as the reference prints it with %m.
inline std::string error_text(int err) { return std::strerror(err); }

// "dir/file.db" -> {"dir", "file.db"}; "file.db" -> {".", "file.db"}.
inline std::pair<std::string, std::string> split_path(const std::string& path) {
    auto slash = path.rfind('/');
    if (slash == std::string::npos) return {".", path};
    if (slash == 0) return {"/", path.substr(1)};
    return {path.substr(0, slash), path.substr(slash + 1)};
}

// What a file that fails verification draws (the reference has no word for
// it: it reads such a file and may fault).
inline constexpr const char* kCorruptText = "database is corrupt (Berkeley DB verification failed)";

// Whether a read-only open must run the verifier first. A file that only
// root or this process's own user can change is as trusted as main.cf (the
// admin made it; the reference reads it without a check), and walking every
// page of a large table on each open costs more than all the lookups of a
// short-lived postmap -q. A file that anybody else may write (another owner,
// or group/world write permission) is checked. always_verify() forces the
// check (the fuzzing harness, whose files stand for hostile ones).
inline bool& always_verify() {
    static bool on = false;
    return on;
}
inline bool needs_verification(int fd) {
    if (always_verify()) return true;
    struct stat st {};
    if (::fstat(fd, &st) != 0) return true;
    bool trusted_owner = st.st_uid == 0 || st.st_uid == ::geteuid();
    return !trusted_owner || (st.st_mode & (S_IWGRP | S_IWOTH)) != 0;
}

// Runs DB->verify on path without messages; true when the file is sound.
inline bool verify_quietly(const std::string& path) {
    DB* v = nullptr;
    if (db_create(&v, nullptr, 0) != 0) return false;
    v->set_errcall(v, [](const DB_ENV*, const char*, const char*) {});
    // The verifier keeps what it learns about each page in a scratch
    // database; with the default small cache that spills to /var/tmp (one
    // write per page). A cache the size of the file, up to 64 MB, keeps it in
    // memory (touched only as used).
    struct stat st {};
    u_int32_t cache = 1u << 20;
    if (::stat(path.c_str(), &st) == 0 && st.st_size > static_cast<off_t>(cache))
        cache = static_cast<u_int32_t>(std::min<off_t>(st.st_size, off_t{64} << 20));
    (void)v->set_cachesize(v, 0, cache, 1);
    // verify() destroys the handle whatever it returns.
    return v->verify(v, path.c_str(), nullptr, nullptr, DB_NOORDERCHK) == 0;
}

// The header fields Berkeley DB divides by, checked before it opens a file:
// with a hash or btree magic number (either byte order) the page size must
// be a power of two from 512 to 65536. False for a file that would make the
// library fault (the reference dies of SIGFPE on one).
inline bool header_is_sane(int fd) {
    unsigned char h[24];
    ssize_t n = ::pread(fd, h, sizeof h, 0);
    if (n < static_cast<ssize_t>(sizeof h)) return true;  // the library rejects short files itself
    auto u32 = [&](int off, bool swap) {
        uint32_t v = uint32_t{h[off]} | uint32_t{h[off + 1]} << 8 | uint32_t{h[off + 2]} << 16 | uint32_t{h[off + 3]} << 24;
        return swap ? __builtin_bswap32(v) : v;
    };
    for (bool swap : {false, true}) {
        uint32_t magic = u32(12, swap);
        if (magic != 0x061561 && magic != 0x053162) continue;
        uint32_t psize = u32(20, swap);
        return psize >= 512 && psize <= 65536 && (psize & (psize - 1)) == 0;
    }
    return true;
}

class Env {
public:
    Env() = default;
    Env(Env&& o) noexcept : env_(std::exchange(o.env_, nullptr)) {}
    Env& operator=(Env&& o) noexcept {
        if (this != &o) {
            close();
            env_ = std::exchange(o.env_, nullptr);
        }
        return *this;
    }
    ~Env() { close(); }

    // A private environment in home with a memory pool; cache_bytes 0 keeps
    // the library's default cache size.
    static std::expected<Env, int> create(const std::string& home, long cache_bytes) {
        Env e;
        if (int err = db_env_create(&e.env_, 0); err != 0) {
            e.env_ = nullptr;
            return std::unexpected(err);
        }
        if (cache_bytes > 0) {
            if (int err = e.env_->set_cachesize(e.env_, 0, static_cast<u_int32_t>(cache_bytes), 1); err != 0)
                return std::unexpected(err);
        }
        if (int err = e.env_->open(e.env_, home.c_str(), DB_CREATE | DB_INIT_MPOOL | DB_PRIVATE, 0); err != 0)
            return std::unexpected(err);
        return e;
    }

    DB_ENV* get() const { return env_; }
    // No more library messages (used when giving up after a failed open:
    // the reference exits there without closing, so says nothing more).
    void quiet() {
        if (env_) env_->set_errcall(env_, [](const DB_ENV*, const char*, const char*) {});
    }
    int close() {
        if (!env_) return 0;
        DB_ENV* e = std::exchange(env_, nullptr);
        return e->close(e, 0);
    }

private:
    DB_ENV* env_ = nullptr;
};

class Db {
public:
    Db() = default;
    Db(Db&& o) noexcept : db_(std::exchange(o.db_, nullptr)) {}
    Db& operator=(Db&& o) noexcept {
        if (this != &o) {
            close();
            db_ = std::exchange(o.db_, nullptr);
        }
        return *this;
    }
    ~Db() { close(); }

    static std::expected<Db, int> create(const Env& env) {
        Db d;
        if (int err = db_create(&d.db_, env.get(), 0); err != 0) {
            d.db_ = nullptr;
            return std::unexpected(err);
        }
        return d;
    }

    DB* get() const { return db_; }
    DB* operator->() const { return db_; }
    explicit operator bool() const { return db_ != nullptr; }
    int close() {
        if (!db_) return 0;
        DB* d = std::exchange(db_, nullptr);
        return d->close(d, 0);
    }

private:
    DB* db_ = nullptr;
};

class Cursor {
public:
    Cursor() = default;
    Cursor(Cursor&& o) noexcept : c_(std::exchange(o.c_, nullptr)) {}
    Cursor& operator=(Cursor&& o) noexcept {
        if (this != &o) {
            reset();
            c_ = std::exchange(o.c_, nullptr);
        }
        return *this;
    }
    ~Cursor() { reset(); }

    static std::expected<Cursor, int> open(const Db& db) {
        Cursor c;
        if (int err = db->cursor(db.get(), nullptr, &c.c_, 0); err != 0) {
            c.c_ = nullptr;
            return std::unexpected(err);
        }
        return c;
    }

    DBC* get() const { return c_; }
    DBC* operator->() const { return c_; }
    explicit operator bool() const { return c_ != nullptr; }
    void reset() {
        if (!c_) return;
        DBC* c = std::exchange(c_, nullptr);
        c->close(c);
    }

private:
    DBC* c_ = nullptr;
};

}  // namespace pf::dict::db
