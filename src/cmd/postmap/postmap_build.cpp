// postmap(1) building a table: "postmap type:/path" reads /path and makes
// the table anew (O_TRUNC, kBulkUpdate); "postmap -i type:/path" adds the
// entries read from standard input ("stdin" in warnings). As the reference:
//  - the source file is opened first ("open <path>: <reason>"), then the
//    table type is checked: unknown types are "unsupported dictionary type:
//    T. Is the postfix-T package installed?" when dynamicmaps.cf exists in
//    meta_directory ("unsupported map type for this operation: T"
//    otherwise), types that cannot be built "unsupported dictionary type: T
//    does not support bulk-mode creation.", proxy "can't create maps via the
//    proxy service";
//  - run by root on a source file owned by someone else, the build runs as
//    that owner (-o: as root); the new file gets the source's group/other
//    read and execute rights at most (-p: the umask alone);
//  - build_table_with() does all this for postmap and postalias, with a
//    loader for the source format between opening and closing the table;
//  - each entry is one update(); an error is fatal ("table T:N: write
//    error: <reason>"); a table that answers "restart" is fed again from the
//    first line, warnings and all; close() commits.
//
// Trust: the source file is admin-written (table_source.h); the table file
// is created with the caller's (or the source owner's) rights.
#include "cmd/postmap/postmap.h"

#include "dict/dict_registry.h"
#include "dict/table_source.h"
#include "util/msg.h"

#include <fcntl.h>
#include <grp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace pf::postmap {
namespace {

// Reads all of an open descriptor (the caller reserves room for regular
// files, so that the text is not moved as it grows).
bool read_all(int fd, std::string& out) {
    char buf[65536];
    for (;;) {
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0) {
            if (errno == EINTR) continue;
            return false;
        }
        if (n == 0) return true;
        out.append(buf, static_cast<size_t>(n));
    }
}

// A descriptor closed when the build is done.
class SourceFd {
public:
    explicit SourceFd(int fd, bool owned) : fd_(fd), owned_(owned) {}
    SourceFd(const SourceFd&) = delete;
    SourceFd& operator=(const SourceFd&) = delete;
    ~SourceFd() {
        if (owned_ && fd_ >= 0) ::close(fd_);
    }
    int get() const { return fd_; }

private:
    int fd_;
    bool owned_;
};

// Become uid/gid for the rest of the run (effective ids), as the
// reference's set_eugid().
void become(uid_t uid, gid_t gid) {
    if (::seteuid(0) < 0) util::msg_fatal("seteuid(0): {}", std::strerror(errno));
    if (::setegid(gid) < 0) util::msg_fatal("setegid({}): {}", gid, std::strerror(errno));
    if (::setgroups(1, &gid) < 0) util::msg_fatal("setgroups(1, &{}): {}", gid, std::strerror(errno));
    if (::seteuid(uid) < 0) util::msg_fatal("seteuid({}): {}", uid, std::strerror(errno));
}

bool dynamicmaps_present(const Options& opts) {
    struct stat st {};
    return ::stat((opts.meta_directory + "/dynamicmaps.cf").c_str(), &st) == 0;
}

void check_buildable(const std::string& type, const Options& opts) {
    if (!dict::is_registered(type)) {
        if (dynamicmaps_present(opts))
            util::msg_fatal("unsupported dictionary type: {}. Is the postfix-{} package installed?", type, type);
        util::msg_fatal("unsupported map type for this operation: {}", type);
    }
    if (!dict::supports_bulk_create(type))
        util::msg_fatal("unsupported dictionary type: {} does not support bulk-mode creation.", type);
}

}  // namespace

// Stops the build on a failed update (restart is the caller's business).
dict::ChangeStatus update_or_die(dict::Dict& table, std::string_view key, std::string_view value) {
    dict::ChangeStatus s = table.update(key, value);
    if (s == dict::ChangeStatus::failed) {
        const dict::Error& e = table.last_error();
        if (e.kind == dict::Error::Kind::retry)
            util::msg_fatal("table {}: write error: {}", table.type_name(), e.text);
        util::msg_fatal("{}", e.text);
    }
    return s;
}

void build_table(const MapSpec& map, const Options& opts) {
    build_table_with(map, opts, [](dict::Dict& table, std::string content, const std::string& source_path, dict::Flags flags) {
        dict::SourceOptions so;
        so.utf8_check = table.flags() & dict::kUtf8Active;
        so.rhs_is_file = flags & dict::kSrcRhsIsFile;
        dict::TableSource source(std::move(content), source_path, so);
        dict::SourceEntryView entry;
        while (source.next_view(entry)) {
            if (update_or_die(table, entry.key, entry.value) == dict::ChangeStatus::restart) source.rewind();
        }
    });
}

void build_table_with(const MapSpec& map, const Options& opts, const SourceLoader& load) {
    const bool incremental = !(opts.open_flags & O_TRUNC);
    dict::Flags flags = opts.dict_flags;
    std::string source_path;
    int fd;
    bool owned;
    if (!incremental) {
        if (map.type == "proxy") util::msg_fatal("can't create maps via the proxy service");
        flags |= dict::kBulkUpdate;
        source_path = map.name;
        fd = ::open(source_path.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0) util::msg_fatal("open {}: {}", source_path, std::strerror(errno));
        owned = true;
    } else {
        source_path = "stdin";
        fd = 0;
        owned = false;
    }
    SourceFd source_fd(fd, owned);
    struct stat st {};
    if (::fstat(fd, &st) < 0) util::msg_fatal("fstat {}: {}", source_path, std::strerror(errno));

    mode_t saved_umask = 0;
    const bool regular = S_ISREG(st.st_mode);
    if (opts.save_perm && regular) saved_umask = ::umask(022 | (~st.st_mode & 055));
    if (opts.as_owner && ::getuid() == 0 && (st.st_uid != ::geteuid() || st.st_gid != ::getegid()))
        become(st.st_uid, st.st_gid);

    check_buildable(map.type, opts);
    if (util::msg_verbose) util::msg_info("open {} {}", map.type, map.name);
    dict::DictPtr table = open_or_die(map, opts.open_flags, flags);
    if (opts.save_perm && regular) ::umask(saved_umask);

    // A read error ends the input, as end-of-file does for the reference
    // (a folder given as source makes an empty table).
    std::string content;
    if (regular && st.st_size > 0) content.reserve(static_cast<size_t>(st.st_size));
    (void)read_all(fd, content);
    load(*table, std::move(content), source_path, flags);
    if (auto r = table->close(); !r) util::msg_fatal("{}", r.error().text);
}

}  // namespace pf::postmap
