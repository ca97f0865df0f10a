// The list of table types built into this program. A new type adds its
// register_<type>_type() here.
#include "dict/dict_registry.h"

namespace pf::dict {

void register_static_type();
void register_fail_type();
void register_hash_type();
void register_btree_type();
void register_lmdb_type();
void register_cdb_type();
void register_mysql_type();
void register_pcre_type();
void register_regexp_type();
void register_cidr_type();
void register_texthash_type();
void register_inline_type();
void register_environ_type();
void register_randmap_type();
void register_unionmap_type();
void register_pipemap_type();
void register_socketmap_type();
void register_tcp_type();
void register_unix_type();
void register_internal_type();
void register_nis_type();
void register_memcache_type();
void register_proxy_type();

void register_builtin_types() {
    static bool done = [] {
        register_static_type();
        register_fail_type();
        register_hash_type();
        register_btree_type();
        register_lmdb_type();
        register_cdb_type();
        register_mysql_type();
        register_pcre_type();
        register_regexp_type();
        register_cidr_type();
        register_texthash_type();
        register_inline_type();
        register_environ_type();
        register_randmap_type();
        register_unionmap_type();
        register_pipemap_type();
        register_socketmap_type();
        register_tcp_type();
        register_unix_type();
        register_internal_type();
        register_nis_type();
        register_memcache_type();
        register_proxy_type();
        return true;
    }();
    (void)done;
}

}  // namespace pf::dict
