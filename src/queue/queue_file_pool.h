// The pool of emptied queue files: qmgr moves the file of a message it
// has finished with into <queue_directory>/recycle/ (then empties it)
// instead of removing it, and cleanup takes a file from there for its
// next message instead of creating one. The file keeps its inode, so
// the filesystem neither frees nor allocates one per message.
//
// Why: on ext4 without a journal, every inode allocation skips each free
// inode of the directory's block group that was freed within the last
// twelve hours (the kernel's "recently deleted" test, one inode-table
// lookup each). On a busy queue that is every inode of the group: about
// 0.5 ms of kernel time per new file measured on our test machine, the
// single largest cost of a queue file's life there. Elsewhere the pool
// saves the inode's allocation and freeing.
//
// What stays as the reference has it: a new message still gets a file
// named incoming/<temporary name> first, renamed to its queue ID (the
// inode number and the time) once it is known, and written, fsync'ed and
// marked ready as before; a finished message still disappears from
// active/ and is logged "removed". A pooled file holds no mail: qmgr
// truncates it right after the move, and cleanup truncates it again when
// it takes it. The pool is only an optimisation: without the directory,
// or on any error, both sides fall back to creating and removing files.
//
// Trust: the directory is mail_owner's and mode 0700; a pooled entry is
// used only if it is a regular file owned by us with one link.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <sys/stat.h>

namespace pf::queue {

// The pool's directory name under the queue directory.
inline constexpr std::string_view kRecycle = "recycle";

// The most files the pool keeps (qmgr removes files beyond that).
inline constexpr std::size_t kPoolLimit = 4096;

// Moves the finished queue file at path (a path in active/) into the pool
// directory pool_dir as name, and empties it. Returns false, with the file
// where it was, when the pool cannot take it (then the caller removes it).
bool recycle_queue_file(const std::string& path, const std::string& pool_dir, std::string_view name);

// Takes a file from the pool directory pool_dir, renames it to temp (which
// must not exist) and opens it read-write, emptied and with mode 0600.
// Returns the descriptor, or -1 when the pool has nothing usable (then the
// caller creates the file). Keeps a small per-process list of the pool's
// names between calls, refilled from the directory; when the pool was
// empty it is not read again for 100 ms. The file's status goes into st.
int take_pooled_file(const std::string& pool_dir, const std::string& temp, struct stat& st);

// Counts the entries of the pool directory (qmgr's check of kPoolLimit).
std::size_t count_pooled_files(const std::string& pool_dir);

}  // namespace pf::queue
