// The list of open file-backed tables and change detection; see
// dict_watch.h.
#include "dict/dict_watch.h"

#include "util/msg.h"

#include <sys/stat.h>

#include <fmt/core.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <utility>
#include <vector>

namespace pf::dict {
namespace {

struct Watched {
    std::string label;
    const Dict* table = nullptr;
    time_t mtime = 0;
    bool multi_writer = false;
};

// Never destroyed: tables held in static storage leave the list from their
// destructors at exit, after any ordinary static would be gone.
std::vector<Watched>& watched() {
    static auto* list = new std::vector<Watched>;
    return *list;
}

}  // namespace

std::string flags_text(Flags flags) {
    static const std::pair<Flags, const char*> kNames[] = {
        {kDupWarn, "warn_dup"},         {kDupIgnore, "ignore_dup"},
        {kTryNoNul, "try0null"},        {kTryNul, "try1null"},
        {kFixed, "fixed"},              {kPattern, "pattern"},
        {kLock, "lock"},                {kDupReplace, "replace"},
        {kSync, "sync_update"},         {kNoRegSub, "no_regsub"},
        {kNoProxy, "no_proxy"},         {kNoUnauth, "no_unauth"},
        {kFoldFixed, "fold_fix"},       {kFoldMulti, "fold_mul"},
        {kBulkUpdate, "bulk_update"},   {kMulWriter, "multi_writer"},
        {kUtf8Request, "utf8_request"}, {kUtf8Active, "utf8_active"},
        {kSrcRhsIsFile, "src_rhs_is_file"},
    };
    std::string out;
    for (const auto& [bit, name] : kNames) {
        if (!(flags & bit)) continue;
        if (!out.empty()) out += '|';
        out += name;
    }
    return out;
}

std::string watch_label(std::string_view type_name, int open_flags, Flags flags) {
    return fmt::format("{}({:o},{})", type_name, open_flags, flags_text(flags));
}

void watch_table(std::string label, const Dict& table) {
    auto& list = watched();
    auto it = std::find_if(list.begin(), list.end(), [&](const Watched& w) { return w.table == &table; });
    if (it != list.end()) {
        it->label = std::move(label);
        return;
    }
    const int fd = table.stat_fd();
    if (fd < 0) return;
    struct stat st {};
    if (::fstat(fd, &st) < 0) return;
    list.push_back(Watched{std::move(label), &table, st.st_mtime,
                           table.type() == "lmdb" || (table.flags() & kMulWriter) != 0});
}

void unwatch_table(const Dict& table) {
    auto& list = watched();
    if (list.empty()) return;
    std::erase_if(list, [&](const Watched& w) { return w.table == &table; });
}

std::optional<std::string> changed_table() {
    for (const Watched& w : watched()) {
        const int fd = w.table->stat_fd();
        if (fd < 0) continue;  // closed since (a bulk table's close())
        if (w.mtime == 0) util::msg_warn("dict_changed_name: table {}: null time stamp", w.label);
        struct stat st {};
        if (::fstat(fd, &st) < 0) util::msg_fatal("dict_changed_name: fstat: {}", std::strerror(errno));
        if ((!w.multi_writer && st.st_mtime != w.mtime) || st.st_nlink == 0) return w.label;
    }
    return std::nullopt;
}

std::size_t watched_tables() { return watched().size(); }

void exit_if_table_changed() {
    if (auto label = changed_table()) {
        util::msg_info("table {} has changed -- restarting", *label);
        std::exit(0);
    }
}

}  // namespace pf::dict
