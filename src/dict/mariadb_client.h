// The MariaDB client library's functions that mysql: tables call, looked up
// in libmariadb.so.3 when the first mysql: table is opened rather than linked
// into every program: libmariadb brings OpenSSL and zlib, whose loading and
// initialisation made up half of a postmap's start-up although few programs
// ever open a mysql: table. The reference gets the same effect by loading
// postfix-mysql.so through dynamicmaps.cf when a mysql: table is first used.
//
// Trust: the library is the system's (found by the dynamic linker).
#pragma once

#include <mysql.h>

namespace pf::dict::mariadb {

struct Client {
    decltype(&::mysql_init) init;
    decltype(&::mysql_options) options;
    decltype(&::mysql_ssl_set) ssl_set;
    decltype(&::mysql_real_connect) real_connect;
    decltype(&::mysql_error) error;
    decltype(&::mysql_close) close;
    decltype(&::mysql_real_escape_string) real_escape_string;
    decltype(&::mysql_real_query) real_query;
    decltype(&::mysql_store_result) store_result;
    decltype(&::mysql_field_count) field_count;
    decltype(&::mysql_next_result) next_result;
    decltype(&::mysql_free_result) free_result;
    decltype(&::mysql_num_fields) num_fields;
    decltype(&::mysql_fetch_row) fetch_row;
    decltype(&::mysql_fetch_lengths) fetch_lengths;
};

// Loads the library on the first call (fatal, in the reference's words for a
// table module that does not load, when it or one of the functions is
// missing) and returns its functions.
const Client& client();

}  // namespace pf::dict::mariadb
