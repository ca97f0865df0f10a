// Structural check of an LMDB file; see dict_lmdb_check.h. The layout
// constants are those of LMDB 0.9's file format on 64-bit hosts (16-byte page
// header, 8-byte node header, meta record of 136 bytes after the header).
#include "dict/dict_lmdb_check.h"

#include <lmdb.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <vector>

namespace pf::dict::lmdb_check {
namespace {

constexpr size_t kPageHeader = 16;
constexpr size_t kNodeHeader = 8;
constexpr uint32_t kMagic = 0xBEEFC0DE;
constexpr uint32_t kVersion = 1;
constexpr uint16_t kBranch = 0x01, kLeaf = 0x02, kOverflow = 0x04, kMeta = 0x08, kLeaf2 = 0x20;
constexpr uint16_t kBigData = 0x01, kSubData = 0x02, kDupData = 0x04;
constexpr uint64_t kInvalidPage = ~uint64_t{0};
constexpr int kMaxDepth = 64;

template <typename T>
T get(const unsigned char* p) {
    T v;
    std::memcpy(&v, p, sizeof v);
    return v;
}

struct Meta {
    uint32_t psize = 0;
    uint64_t roots[2] = {kInvalidPage, kInvalidPage};  // free, main
    uint64_t last_pg = 0;
    uint64_t txnid = 0;
    bool valid = false;
    bool version_ok = true;
};

// Meta record offsets after the page header.
Meta read_meta(const unsigned char* page, size_t avail) {
    Meta m;
    if (avail < kPageHeader + 136) return m;
    const unsigned char* r = page + kPageHeader;
    if (!(get<uint16_t>(page + 10) & kMeta)) return m;
    if (get<uint32_t>(r) != kMagic) return m;
    m.version_ok = get<uint32_t>(r + 4) == kVersion;
    if (!m.version_ok) return m;
    // MDB_db records at r+24 (free) and r+72 (main): md_pad is the page
    // size in the free record; md_root is the last field (offset 40).
    m.psize = get<uint32_t>(r + 24);
    m.roots[0] = get<uint64_t>(r + 24 + 40);
    m.roots[1] = get<uint64_t>(r + 72 + 40);
    m.last_pg = get<uint64_t>(r + 120);
    m.txnid = get<uint64_t>(r + 128);
    m.valid = true;
    return m;
}

class Walker {
public:
    // The caller has checked that pages 0..last_pg lie inside the data.
    Walker(const unsigned char* data, const Meta& m)
        : data_(data), psize_(m.psize), last_pg_(m.last_pg), seen_(m.last_pg + 1, false) {}

    bool tree(uint64_t root) {
        if (root == kInvalidPage) return true;
        return page(root, 0);
    }

private:
    bool claim(uint64_t pgno, uint64_t count) {
        if (pgno < 2 || pgno > last_pg_ || count == 0 || count > last_pg_ + 1 - pgno) return false;
        for (uint64_t i = 0; i < count; ++i) {
            if (seen_[pgno + i]) return false;
            seen_[pgno + i] = true;
        }
        return true;
    }

    bool page(uint64_t pgno, int depth) {
        if (depth > kMaxDepth || !claim(pgno, 1)) return false;
        const unsigned char* p = data_ + pgno * psize_;
        if (get<uint64_t>(p) != pgno) return false;
        uint16_t flags = get<uint16_t>(p + 10);
        uint16_t lower = get<uint16_t>(p + 12);
        uint16_t upper = get<uint16_t>(p + 14);
        if ((flags & (kLeaf2 | kOverflow | kMeta)) || !(flags & (kBranch | kLeaf)) || (flags & kBranch && flags & kLeaf))
            return false;
        if (lower < kPageHeader || lower > upper || upper > psize_ || (lower - kPageHeader) % 2) return false;
        size_t n = (lower - kPageHeader) / 2;
        if (n == 0 && (flags & kBranch)) return false;
        for (size_t i = 0; i < n; ++i) {
            size_t off = get<uint16_t>(p + kPageHeader + 2 * i);
            if (off < upper || off + kNodeHeader > psize_) return false;
            const unsigned char* node = p + off;
            uint16_t lo = get<uint16_t>(node), hi = get<uint16_t>(node + 2);
            uint16_t nflags = get<uint16_t>(node + 4);
            size_t ksize = get<uint16_t>(node + 6);
            if (off + kNodeHeader + ksize > psize_) return false;
            if (flags & kBranch) {
                uint64_t child = uint64_t{lo} | (uint64_t{hi} << 16) | (uint64_t{nflags} << 32);
                if (!page(child, depth + 1)) return false;
                continue;
            }
            if (nflags & (kSubData | kDupData)) return false;
            size_t dsize = size_t{lo} | (size_t{hi} << 16);
            size_t data_off = off + kNodeHeader + ksize;
            if (nflags & kBigData) {
                if (data_off + 8 > psize_) return false;
                uint64_t ov = get<uint64_t>(p + data_off);
                if (ov < 2 || ov > last_pg_) return false;
                const unsigned char* op = data_ + ov * psize_;
                if (get<uint64_t>(op) != ov || !(get<uint16_t>(op + 10) & kOverflow)) return false;
                uint64_t pages = get<uint32_t>(op + 12);
                if (!claim(ov, pages) || kPageHeader + dsize > pages * psize_) return false;
            } else if (data_off + dsize > psize_) {
                return false;
            }
        }
        return true;
    }

    const unsigned char* data_;
    size_t psize_;
    uint64_t last_pg_;
    std::vector<bool> seen_;
};

}  // namespace

std::expected<void, std::string> check_bytes(const unsigned char* data, size_t size) {
    const std::string invalid = mdb_strerror(MDB_INVALID);
    const std::string corrupt = mdb_strerror(MDB_CORRUPTED);
    Meta m0 = read_meta(data, size);
    if (!m0.version_ok) return std::unexpected(std::string(mdb_strerror(MDB_VERSION_MISMATCH)));
    if (!m0.valid) return std::unexpected(invalid);
    if (m0.psize < 512 || m0.psize > 65536 || (m0.psize & (m0.psize - 1))) return std::unexpected(invalid);
    if (size < 2 * size_t{m0.psize}) return std::unexpected(corrupt);
    Meta m1 = read_meta(data + m0.psize, size - m0.psize);
    const Meta& m = (m1.valid && m1.txnid > m0.txnid) ? m1 : m0;
    if (m.psize != m0.psize) return std::unexpected(corrupt);
    if (m.last_pg < 1 || m.last_pg >= size / m.psize) return std::unexpected(corrupt);
    Walker w(data, m);
    if (!w.tree(m.roots[0]) || !w.tree(m.roots[1])) return std::unexpected(corrupt);
    return {};
}

std::expected<void, std::string> check_fd(int fd) {
    struct stat st {};
    if (::fstat(fd, &st) != 0) return std::unexpected(std::string(std::strerror(errno)));
    size_t size = static_cast<size_t>(st.st_size);
    if (size == 0) return std::unexpected(std::string(mdb_strerror(MDB_INVALID)));
    void* map = ::mmap(nullptr, size, PROT_READ, MAP_SHARED, fd, 0);
    if (map == MAP_FAILED) return std::unexpected(std::string(std::strerror(errno)));
    auto result = check_bytes(static_cast<const unsigned char*>(map), size);
    ::munmap(map, size);
    return result;
}

}  // namespace pf::dict::lmdb_check
