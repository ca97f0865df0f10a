// The pool of emptied queue files: qmgr moves the file of a message it
// has finished with into <queue_directory>/recycle/ (emptied first)
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
// active/ and is logged "removed". The pool is only an optimisation:
// without the directory, or on any error, both sides fall back to
// creating and removing files.
//
// A pooled file keeps its blocks. Freeing a file's blocks (truncating it
// to nothing) waits, on a filesystem mounted with discard, for the device
// to discard them: done by qmgr, it held qmgr's one event loop, and every
// delivery behind it, for a sixth of its time. So qmgr instead, while the
// file is still active/<id>: sets mode 0600 (never "ready" again), turns
// the file's blocks into ones that read as zeros without freeing them
// (fallocate FALLOC_FL_ZERO_RANGE: on ext4 and XFS the extents become
// "unwritten", metadata only, no data written), and only then renames it
// into the pool. Where the filesystem cannot do that (tmpfs, NFS, ...),
// and for a file above kKeepLimit, it truncates the file as before.
// cleanup takes the file without truncating it, writes its records from
// offset 0 over the zeros, and at commit cuts the file to what it wrote
// (the records' end) before it sets the ready mode and fsyncs (a cut
// that frees blocks, after a longer message, waits for the discard in
// cleanup, which runs as several processes, not in qmgr). A pool entry
// whose mode is not 0600 (from an earlier version, which truncated
// instead) is truncated when taken.
//
// Why nobody ever reads an old message from a pooled file:
//  - no reader takes a queue file with mode 0600 for mail: qmgr, showq
//    and postsuper skip it in every queue (postsuper -p removes it a week
//    later), as they skip any file still being written;
//  - the mode is set, and the content zeroed, before the rename into the
//    pool, and no process touches the file between its rename into the
//    pool and cleanup's rename out of it; a journalling filesystem makes
//    metadata changes durable in order, so if a crash keeps the rename it
//    keeps the zeroing and the mode too;
//  - a crash while the file is still in active/ leaves a file of mode
//    0600 there (qmgr moves it back to incoming/ at start-up and skips
//    it): the message had been delivered, and nothing is sent again;
//  - cleanup's new bytes go into unwritten extents, which the filesystem
//    marks written only once the data is on disk: a crash before the
//    fsync shows zeros (a damaged file, if the ready mode survived), not
//    the old message; a message is acknowledged only after the fsync, as
//    before, so the durability of new mail does not change;
//  - on a filesystem without a journal no order of metadata writes holds
//    across a crash for any file (fsck repairs what it can), with or
//    without the pool.
// cleanup writes every byte up to the records' end and the file is cut
// there, so a committed file is byte for byte what a new file would hold.
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

// The largest file whose blocks the pool keeps: a bigger one is truncated
// (its blocks freed) as it goes in, so that the pool holds at most
// kPoolLimit times this (256 MB) of zeroed blocks.
inline constexpr long kKeepLimit = 64 * 1024;

// The mode of a pooled file whose content qmgr zeroed (or truncated).
inline constexpr mode_t kModePooled = 0600;

// Empties the finished queue file at path (a path in active/) as the
// header comment says (mode kModePooled, blocks zeroed, or truncated where
// zeroing is not supported) and moves it into the pool directory pool_dir
// as name. Returns false when the pool cannot take it; then the file is
// where it was (possibly already emptied, mode 0600) and the caller
// removes it.
bool recycle_queue_file(const std::string& path, const std::string& pool_dir, std::string_view name);

// Takes a file from the pool directory pool_dir, renames it to temp (which
// must not exist) and opens it read-write with mode 0600, positioned at
// offset 0. Its content is zeros: st.st_size bytes of them, which the
// writer must cut off at commit (QueueFileWriter does). Returns the
// descriptor, or -1 when the pool has nothing usable (then the caller
// creates the file). Keeps a small per-process list of the pool's
// names between calls, refilled from the directory; when the pool was
// empty it is not read again for 100 ms. The file's status goes into st.
int take_pooled_file(const std::string& pool_dir, const std::string& temp, struct stat& st);

// Counts the entries of the pool directory (qmgr's check of kPoolLimit).
std::size_t count_pooled_files(const std::string& pool_dir);

}  // namespace pf::queue
