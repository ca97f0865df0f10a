// A structural check of an LMDB file before the library maps it. LMDB trusts
// its file: a truncated file (the reference faults with SIGBUS on one) or a
// page number, node offset or value size out of range makes it read outside
// the map. check_fd() parses the two meta pages of the LMDB 0.9 on-disk
// format (64-bit), takes the newer valid one as the library does, and walks
// the main and free-page B+trees: every page inside the file and visited
// once, every node and value inside its page or its overflow pages, depth
// bounded. Memory: one bit per page of the file.
//
// Trust: the file is outside input; nothing it says is used before it has
// been checked against the file's size.
#pragma once

#include <expected>
#include <string>

namespace pf::dict::lmdb_check {

// Ok, or the reason in LMDB's own words (mdb_strerror of MDB_INVALID or
// MDB_CORRUPTED), or the errno text when the file cannot be read.
std::expected<void, std::string> check_fd(int fd);
// The same on bytes in memory (tests and the fuzz harness).
std::expected<void, std::string> check_bytes(const unsigned char* data, size_t size);

}  // namespace pf::dict::lmdb_check
