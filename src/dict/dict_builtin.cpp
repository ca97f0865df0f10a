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

void register_builtin_types() {
    static bool done = [] {
        register_static_type();
        register_fail_type();
        register_hash_type();
        register_btree_type();
        register_lmdb_type();
        register_cdb_type();
        return true;
    }();
    (void)done;
}

}  // namespace pf::dict
