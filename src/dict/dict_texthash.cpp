// texthash:/path — a postmap source file read into memory when the table is
// opened, answering as the hash: table postmap would build from it
// (dict_thash in the reference). Same source format (table_source.h), with
// the texthash wording of the format warning; duplicate keys follow the dup
// flags, warning "<path>, line N: duplicate entry: "<key as written>"";
// read-only ("texthash:x map requires O_RDONLY access mode"); a file that
// cannot be opened is "open database <path>: <reason>". Lookups fold the
// key as the entries were folded (kFoldFixed). Walks go in file order (the
// reference's order is its hash table's, different from run to run).
//
// Trust: the file is admin-written; see table_source.h.
#include "dict/dict_memory.h"
#include "dict/dict_registry.h"
#include "dict/table_source.h"
#include "util/msg.h"
#include "util/strings.h"

#include <fcntl.h>
#include <fmt/core.h>

#include <cerrno>
#include <cstring>

namespace pf::dict {
namespace {

class TexthashDict final : public MemoryDict {
public:
    TexthashDict(std::string_view name, int open_flags, Flags flags)
        : MemoryDict("texthash", std::string(name), open_flags, flags) {}

    std::expected<void, Error> load() {
        std::string content;
        const char* step = nullptr;
        if (!util::read_file(name(), content, &step)) {
            std::string why = std::strerror(errno);
            if (std::string_view(step) == "open")
                return std::unexpected(Error{Error::Kind::retry, fmt::format("open database {}: {}", name(), why)});
            return std::unexpected(Error{Error::Kind::retry, fmt::format("read {}: {}", name(), why)});
        }
        SourceOptions options;
        options.utf8_check = flags() & kUtf8Active;
        options.rhs_is_file = flags() & kSrcRhsIsFile;
        options.texthash = true;
        TableSource source(std::move(content), name(), options);
        while (auto e = source.next()) {
            std::string key = fold_key(e->key);
            if (add(key, e->value)) continue;
            if (flags() & kDupIgnore) continue;
            if (flags() & kDupReplace) {
                put(std::move(key), std::move(e->value));
                continue;
            }
            if (flags() & kDupWarn) {
                util::msg_warn("{}, line {}: duplicate entry: \"{}\"", name(), e->lineno, e->key);
                continue;
            }
            util::msg_fatal("{}, line {}: duplicate entry: \"{}\"", name(), e->lineno, e->key);
        }
        return {};
    }
};

}  // namespace

void register_texthash_type() {
    register_type("texthash", [](std::string_view name, int open_flags, Flags flags) -> OpenResult {
        if ((open_flags & O_ACCMODE) != O_RDONLY)
            return std::unexpected(Error{Error::Kind::config, fmt::format("texthash:{} map requires O_RDONLY access mode", name)});
        auto dict = std::make_unique<TexthashDict>(name, open_flags, flags | kFixed);
        if (auto r = dict->load(); !r) return std::unexpected(r.error());
        // The reference keeps the entries in an internal: table of its own.
        if (util::msg_verbose) util::msg_info("dict_open: internal:{}", name);
        return dict;
    });
}

}  // namespace pf::dict
