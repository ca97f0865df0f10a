// MariaDB's client library, loaded on first use; see mariadb_client.h.
#include "dict/mariadb_client.h"

#include "util/shared_library.h"

namespace pf::dict::mariadb {
namespace {

// MariaDB Connector/C 3.x (Debian's libmariadb3) keeps this name for every
// release of its ABI.
constexpr const char* kSoname = "libmariadb.so.3";

Client load() {
    void* lib = util::load_library(kSoname);
    Client c{};
    auto bind = [&](auto& fn, const char* symbol) { util::bind_library_function(fn, lib, kSoname, symbol); };
    bind(c.init, "mysql_init");
    bind(c.options, "mysql_options");
    bind(c.ssl_set, "mysql_ssl_set");
    bind(c.real_connect, "mysql_real_connect");
    bind(c.error, "mysql_error");
    bind(c.close, "mysql_close");
    bind(c.real_escape_string, "mysql_real_escape_string");
    bind(c.real_query, "mysql_real_query");
    bind(c.store_result, "mysql_store_result");
    bind(c.field_count, "mysql_field_count");
    bind(c.next_result, "mysql_next_result");
    bind(c.free_result, "mysql_free_result");
    bind(c.num_fields, "mysql_num_fields");
    bind(c.fetch_row, "mysql_fetch_row");
    bind(c.fetch_lengths, "mysql_fetch_lengths");
    return c;
}

}  // namespace

const Client& client() {
    static const Client c = load();
    return c;
}

}  // namespace pf::dict::mariadb
