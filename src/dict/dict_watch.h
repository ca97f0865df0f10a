// Which open tables have changed on disk: the process-wide list of the
// file-backed tables a program has open, and the one question every
// long-running daemon asks of it before it takes its next client (the
// reference's table registry and dict_changed_name()).
//
// A table is listed under a label that names it as the reference's
// registry does: for the tables of a parameter or a match list,
// "type:name(<open flags in octal>,<flag names>)", e.g.
// "hash:/etc/postfix/access(0,lock|fold_fix|utf8_request)"; the parts of a
// unionmap/pipemap and a server access list by "type:name" alone; a
// proxymap table by "type:name:<instance flags>". dict::open() lists every
// table it opens read-only under the first form (dict_registry.h);
// open_unwatched() leaves it to the caller.
//
// Only tables with a file a rebuild replaces are watched (hash, btree, cdb,
// lmdb: Dict::stat_fd()); pattern and text tables are read once. A table
// has changed when fstat() of its open file shows another modification
// time than at open (not for tables safe for several writers: lmdb), or no
// link left (the file was replaced or removed). A table leaves the list
// when it is destroyed.
//
// Trust: the labels come from main.cf and from the programs themselves;
// nothing here reads outside input.
#pragma once

#include "dict/dict.h"

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace pf::dict {

// The reference's names of flag bits ("lock|fold_fix|utf8_request"), in
// its order.
std::string flags_text(Flags flags);

// "type:name(<open_flags octal>,<flags_text(flags)>)".
std::string watch_label(std::string_view type_name, int open_flags, Flags flags);

// Lists table under label when it is file-backed (nothing otherwise); the
// time stamp is the one its open file has now. A table listed already
// takes the new label (the last caller names it, as the reference's
// registry names a table by the name it was registered under).
void watch_table(std::string label, const Dict& table);

// Drops table from the list (Dict's destructor does this).
void unwatch_table(const Dict& table);

// The label of the first listed table whose file changed since it was
// listed; nullopt when none did. fstat() failing on an open file is fatal,
// as in the reference.
std::optional<std::string> changed_table();

// How many tables are listed (tests).
std::size_t watched_tables();

// The daemons' check before a new client (pre_accept): when a table
// changed, logs "table <label> has changed -- restarting" and exits 0, so
// that master starts a fresh process that opens the new file.
void exit_if_table_changed();

}  // namespace pf::dict
