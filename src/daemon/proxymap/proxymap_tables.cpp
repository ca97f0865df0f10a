// The open tables of a proxymap(8) process; see proxymap_tables.h.
#include "proxymap_tables.h"

#include "dict/dict_registry.h"
#include "dict/dict_watch.h"
#include "util/msg.h"

#include <fcntl.h>

#include <utility>

namespace pf::proxymap {
namespace {

using dict::Flags;

// A table that could not be opened: every operation warns and fails with
// a temporary error (the reference's surrogate table).
class UnavailableTable final : public dict::Dict {
public:
    UnavailableTable(std::string type, std::string name, int open_flags, Flags flags, std::string reason)
        : Dict(std::move(type), std::move(name), open_flags, (flags | dict::kPattern) & ~dict::kFixed),
          reason_(std::move(reason)) {}

    dict::LookupResult lookup(std::string_view) override { return dict::LookupResult::failed(fail()); }
    dict::ChangeStatus update(std::string_view, std::string_view) override {
        fail();
        return dict::ChangeStatus::failed;
    }
    dict::ChangeStatus remove(std::string_view) override {
        fail();
        return dict::ChangeStatus::failed;
    }
    std::optional<dict::Entry> sequence(dict::SequenceStart) override {
        fail();
        return std::nullopt;
    }

private:
    dict::Error fail() {
        util::msg_warn("{}:{} is unavailable. {}", type(), name(), reason_);
        dict::Error e{dict::Error::Kind::retry, reason_};
        set_error(e);
        return e;
    }
    std::string reason_;
};

}  // namespace

// One open table.
struct TableCache::Entry {
    dict::DictPtr table;
};

std::string flags_text(Flags flags) { return dict::flags_text(flags); }

TableCache::TableCache(ApprovedTables approved, bool writer, TableOpener opener)
    : approved_(std::move(approved)), writer_(writer), opener_(std::move(opener)) {
    // The tables are listed for change detection under proxymap's own
    // names (find), not as a parameter's tables.
    if (!opener_) opener_ = [](std::string_view n, int o, Flags f) { return dict::open_unwatched(n, o, f); };
}

TableCache::~TableCache() = default;

TableCache::Found TableCache::find(std::string_view requested_name, Flags flags, bool at_open) {
    std::string_view type_name = strip_proxy_prefixes(requested_name);
    auto colon = type_name.find(':');
    if (colon == std::string_view::npos) return {nullptr, dict::ProxyStatus::bad};
    if (!approved_.allows(type_name)) {
        util::msg_warn("request for unapproved table: \"{}\"", type_name);
        util::msg_warn("to approve this table for {} access, list proxy:{} in main.cf:{}",
                       writer_ ? "read-write" : "read-only", type_name,
                       writer_ ? "proxy_write_maps" : "proxy_read_maps");
        return {nullptr, dict::ProxyStatus::deny};
    }
    // The reference's client sends only the instance flags with "open";
    // ours sends more, so keep to what the reference's table would see.
    if (at_open) flags &= kInstanceFlags;
    // A client with UTF-8 active folds keys before they reach the
    // reference's server: the table is opened without folding then.
    if (flags & dict::kUtf8Active) flags &= ~(dict::kFoldFixed | dict::kFoldMulti);
    std::string key = std::string(type_name) + ":" + flags_text(flags & kInstanceFlags);
    if (util::msg_verbose) util::msg_info("proxy_map_find: {}", key);
    auto it = tables_.find(key);
    if (it != tables_.end()) return {it->second->table.get(), dict::ProxyStatus::ok};

    std::string_view type = type_name.substr(0, colon);
    std::string_view name = type_name.substr(colon + 1);
    if (type.empty() || name.empty())
        util::msg_fatal("open dictionary: expecting \"type:name\" form instead of \"{}\"", type_name);
    const int open_flags = writer_ ? O_RDWR | O_CREAT : O_RDONLY;
    // UTF-8 checks happen in the client; the table must not repeat them.
    const Flags table_flags = flags & ~(dict::kUtf8Request | dict::kUtf8Active | kImplFlags);
    auto entry = std::make_unique<Entry>();
    auto opened = opener_(type_name, open_flags, table_flags);
    if (opened) {
        entry->table = std::move(*opened);
        if (!writer_) dict::watch_table(key, *entry->table);
    } else {
        util::msg_error("{}", opened.error().text);
        entry->table = std::make_unique<UnavailableTable>(std::string(type), std::string(name), open_flags, table_flags,
                                                          opened.error().text);
    }
    dict::Dict* table = entry->table.get();
    tables_.emplace(std::move(key), std::move(entry));
    return {table, dict::ProxyStatus::ok};
}

std::optional<std::string> TableCache::changed_name() const { return dict::changed_table(); }

}  // namespace pf::proxymap
