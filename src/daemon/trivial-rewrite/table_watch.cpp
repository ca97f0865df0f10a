// Restart on table changes, as the reference's trivial-rewrite does it: its
// clients (cleanup, qmgr, smtpd) keep their connections for a long time, so
// every 10 seconds it checks whether the file of an indexed table (hash,
// btree, cdb, lmdb) has been rebuilt or removed since it was opened, and if
// so logs "table <type:name(0,<flags>)> has changed -- restarting" and exits;
// master starts a fresh process that reads the new file. Tables read into
// memory at start-up (texthash, regexp, pcre, cidr) and tables that are no
// file (inline, static, proxy, sql) are not watched, as in the reference.
// The label names the table as the reference's table registry does: the
// open flags in octal and the lookup flags of the list the table came from.
//
// Privileges: the files are opened before the chroot; only fstat() is used
// afterwards. Trust: table names come from main.cf.
#include "trivial_rewrite.h"

#include "util/brace_tokens.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/core.h>

#include <algorithm>
#include <utility>

namespace pf::rewrite {

namespace {

// The file behind an indexed table, empty for other types.
std::string table_file(std::string_view type, std::string_view name) {
    if (type == "hash" || type == "btree") return std::string(name) + ".db";
    if (type == "cdb") return std::string(name) + ".cdb";
    if (type == "lmdb") return std::string(name) + ".lmdb";
    return {};
}

}  // namespace

TableWatch::Entry::~Entry() {
    if (fd >= 0) ::close(fd);
}

TableWatch::Entry::Entry(Entry&& other) noexcept
    : label(std::move(other.label)), fd(std::exchange(other.fd, -1)), mtime(other.mtime) {}

TableWatch::Entry& TableWatch::Entry::operator=(Entry&& other) noexcept {
    if (this != &other) {
        if (fd >= 0) ::close(fd);
        label = std::move(other.label);
        fd = std::exchange(other.fd, -1);
        mtime = other.mtime;
    }
    return *this;
}

void TableWatch::add_list(std::string_view value, std::string_view flags_text, bool patterns) {
    for (auto& word : util::split_braced_list(value)) {
        std::string_view w = word;
        if (patterns)
            while (!w.empty() && w.front() == '!') w.remove_prefix(1);
        auto colon = w.find(':');
        if (colon == std::string_view::npos || colon == 0) continue;
        std::string path = table_file(w.substr(0, colon), w.substr(colon + 1));
        if (path.empty()) continue;
        std::string label = fmt::format("{}(0,{})", w, flags_text);
        if (std::any_of(entries_.begin(), entries_.end(), [&](const Entry& e) { return e.label == label; })) continue;
        int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0) continue;  // a missing table is a stand-in, not a file
        struct stat st {};
        if (::fstat(fd, &st) < 0) {
            ::close(fd);
            continue;
        }
        Entry e;
        e.label = std::move(label);
        e.fd = fd;
        e.mtime = st.st_mtime;
        entries_.push_back(std::move(e));
    }
}

std::optional<std::string> TableWatch::changed() const {
    for (const auto& e : entries_) {
        struct stat st {};
        if (::fstat(e.fd, &st) < 0) continue;
        if ((e.mtime > 0 && st.st_mtime != e.mtime) || st.st_nlink == 0) return e.label;
    }
    return std::nullopt;
}

TableWatch TableWatch::from_config(const config::Config& c) {
    // The lookup flags each list opens its tables with in the reference.
    constexpr std::string_view kMatchList = "lock|utf8_request";
    constexpr std::string_view kTransport = "lock|no_regsub|fold_fix|utf8_request";
    constexpr std::string_view kRelocated = "lock|fold_fix|utf8_request";
    TableWatch w;
    for (std::string_view name : {"mydestination", "virtual_alias_domains", "virtual_mailbox_domains", "relay_domains"})
        w.add_list(c.get(name), kMatchList, true);
    for (std::string_view name :
         {"transport_maps", "address_verify_transport_maps", "sender_dependent_relayhost_maps",
          "address_verify_sender_dependent_relayhost_maps", "sender_dependent_default_transport_maps",
          "address_verify_sender_dependent_default_transport_maps"})
        w.add_list(c.get(name), kTransport, false);
    w.add_list(c.get("relocated_maps"), kRelocated, false);
    return w;
}

}  // namespace pf::rewrite
