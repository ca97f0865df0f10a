// unix:passwd.byname and unix:group.byname — the system's user and group
// databases through getpwnam(3)/getgrnam(3) (NSS), as the reference's
// dict_unix: a user is "name:passwd:uid:gid:gecos:home:shell", a group
// "name:passwd:gid:member,member,...". Keys fold with kFoldFixed. Another
// map name is fatal ("unknown table: unix:<name>"); another access mode is
// "unix:<name> map requires O_RDONLY access mode".
//
// Trust: keys are arbitrary bytes (a key with a NUL ends there, as a C
// string); the answers come from the system.
#include "dict/dict_registry.h"

#include <fcntl.h>
#include <fmt/core.h>
#include <grp.h>
#include <pwd.h>

#include <cerrno>
#include <cstring>
#include <vector>

namespace pf::dict {
namespace {

enum class Database { passwd, group };

class UnixDict final : public Dict {
public:
    UnixDict(std::string_view name, int open_flags, Flags flags, Database db)
        : Dict("unix", std::string(name), open_flags, flags | kFixed), db_(db) {}

    LookupResult lookup(std::string_view k) override {
        set_error({});
        std::string key = fold_key(k);
        auto nul = key.find('\0');
        if (nul != std::string::npos) key.resize(nul);
        std::vector<char> buf(16384);
        for (;;) {
            int rc;
            std::string value;
            bool found = false;
            if (db_ == Database::passwd) {
                struct passwd pw {}, *res = nullptr;
                rc = ::getpwnam_r(key.c_str(), &pw, buf.data(), buf.size(), &res);
                if (rc == 0 && res) {
                    found = true;
                    value = fmt::format("{}:{}:{}:{}:{}:{}:{}", pw.pw_name, pw.pw_passwd, static_cast<long>(pw.pw_uid),
                                        static_cast<long>(pw.pw_gid), pw.pw_gecos, pw.pw_dir, pw.pw_shell);
                }
            } else {
                struct group gr {}, *res = nullptr;
                rc = ::getgrnam_r(key.c_str(), &gr, buf.data(), buf.size(), &res);
                if (rc == 0 && res) {
                    found = true;
                    value = fmt::format("{}:{}:{}:", gr.gr_name, gr.gr_passwd, static_cast<long>(gr.gr_gid));
                    for (char** m = gr.gr_mem; m && *m; ++m) {
                        if (m != gr.gr_mem) value += ',';
                        value += *m;
                    }
                }
            }
            if (rc == ERANGE && buf.size() < (1u << 24)) {
                buf.resize(buf.size() * 2);
                continue;
            }
            if (found) return LookupResult::found(std::move(value));
            return LookupResult::not_found();
        }
    }

private:
    Database db_;
};

}  // namespace

void register_unix_type() {
    register_type("unix", [](std::string_view name, int open_flags, Flags flags) -> OpenResult {
        if ((open_flags & O_ACCMODE) != O_RDONLY || (open_flags & (O_CREAT | O_TRUNC)))
            return std::unexpected(Error{Error::Kind::config, fmt::format("unix:{} map requires O_RDONLY access mode", name)});
        Database db;
        if (name == "passwd.byname")
            db = Database::passwd;
        else if (name == "group.byname")
            db = Database::group;
        else
            return std::unexpected(Error{Error::Kind::config, fmt::format("unknown table: unix:{}", name)});
        return std::make_unique<UnixDict>(name, open_flags, flags, db);
    });
}

}  // namespace pf::dict
