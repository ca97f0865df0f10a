// Replay of libdb 5.3's hash inserts in memory for bulk builds; see
// dict_db_hash_build.h for the rules and why.
#include "dict/dict_db_hash_build.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace pf::dict::db {
namespace {

constexpr uint32_t kHeaderSize = 26;  // page header: lsn, pgno, prev, next, entries, hf_offset, level, type
constexpr uint8_t kHashPage = 13;     // P_HASH (sorted)
constexpr uint8_t kKeyData = 1;       // H_KEYDATA
constexpr uint32_t kInitialNelem = 4096;
// The meta page fields (HMETA), byte offsets.
constexpr size_t kMagic = 12, kVersion = 16, kPageSize = 20, kEncrypt = 24, kType = 25, kMetaFlags = 26,
                 kFree = 28, kLastPgno = 32, kFlags = 48, kMaxBucket = 72, kHighMask = 76, kLowMask = 80,
                 kFfactor = 84, kNelem = 88, kCharKey = 92, kSpares = 96;

uint32_t get32(const void* p) {
    uint32_t v;
    std::memcpy(&v, p, 4);
    return v;
}
void put32(unsigned char* p, uint32_t v) { std::memcpy(p, &v, 4); }
void put16(unsigned char* p, uint16_t v) { std::memcpy(p, &v, 2); }

// Smallest n with 2^n >= v (libdb's __db_log2).
uint32_t log2_ceil(uint32_t v) {
    uint32_t n = 0;
    while (n < 32 && (uint64_t{1} << n) < v) ++n;
    return n;
}

}  // namespace

uint32_t hash_func5(std::string_view bytes) {
    uint32_t h = 0;
    for (unsigned char c : bytes) {
        h *= 16777619u;
        h ^= c;
    }
    return h;
}

HashBuild::HashBuild(uint32_t page_size) : page_size_(page_size) {
    spares_[0] = 1;
    spares_[1] = 1;
    pages_.resize(3);
    // The fresh file: bucket 1's page written, bucket 0's a hole (libdb
    // reads a hole as an empty page, and writes it once changed).
    init_page(1, kHashPage, 0);
    pages_[1].written = false;
    init_page(2, kHashPage, 0);
}

uint32_t HashBuild::bucket_of(uint32_t hash) const {
    uint32_t b = hash & high_mask_;
    return b > max_bucket_ ? b & low_mask_ : b;
}

uint32_t HashBuild::bucket_page(uint32_t bucket) const { return bucket + spares_[log2_ceil(bucket + 1)]; }

void HashBuild::ensure(uint32_t pgno) {
    if (pgno >= pages_.size()) pages_.resize(std::max<size_t>(pgno + 1, pages_.size() * 2));
}

void HashBuild::init_page(uint32_t pgno, uint8_t type, uint32_t next) {
    ensure(pgno);
    Page& p = pages_[pgno];
    p.items.clear();
    p.prev = 0;
    p.next = next;
    p.free = static_cast<int32_t>(page_size_ - kHeaderSize);
    p.type = type;
    p.written = true;
    p.sorted = true;
}

uint32_t HashBuild::new_page() {
    uint32_t pgno;
    if (free_pgno_ != 0) {
        pgno = free_pgno_;
        free_pgno_ = pages_[pgno].next;
    } else {
        pgno = ++last_pgno_;
    }
    init_page(pgno, kHashPage, 0);
    return pgno;
}

void HashBuild::free_page(uint32_t pgno) {
    if (pgno == last_pgno_) {
        // The last page is given back to the file system.
        init_page(pgno, 0, 0);
        pages_[pgno].written = false;
        --last_pgno_;
        return;
    }
    init_page(pgno, 0, free_pgno_);
    free_pgno_ = pgno;
}

uint32_t HashBuild::add_overflow(uint32_t pgno) {
    uint32_t n = new_page();
    pages_[n].prev = pgno;
    pages_[pgno].next = n;
    return n;
}

void HashBuild::put_on(uint32_t pgno, uint32_t item) {
    Page& p = pages_[pgno];
    p.items.push_back(Slot{item, items_[item].hash});
    p.free -= pair_size(item);
    p.sorted = p.items.size() < 2;
    p.written = true;
}

void HashBuild::sort_page(uint32_t pgno) {
    Page& p = pages_[pgno];
    if (p.sorted) return;
    std::sort(p.items.begin(), p.items.end(), [this](Slot a, Slot b) {
        std::string_view x = item_key(a.item);
        std::string_view y = item_key(b.item);
        int r = std::memcmp(x.data(), y.data(), std::min(x.size(), y.size()));
        return r != 0 ? r < 0 : x.size() < y.size();
    });
    p.sorted = true;
}

bool HashBuild::contains(std::string_view key) const {
    uint32_t h = hash_func5(key);
    for (uint32_t pg = bucket_page(bucket_of(h)); pg != 0; pg = pages_[pg].next) {
        for (Slot s : pages_[pg].items)
            if (s.hash == h && item_key(s.item) == key) return true;
    }
    return false;
}

void HashBuild::add(std::string_view key, std::string_view value) {
    auto item = static_cast<uint32_t>(items_.size());
    const size_t bytes = key.size() + value.size();
    if (arena_left_ < bytes) {
        constexpr size_t kBlock = 1 << 20;  // fits() keeps a pair far below this
        arena_.push_back(std::make_unique_for_overwrite<char[]>(kBlock));
        arena_left_ = kBlock;
    }
    char* data = arena_.back().get() + (size_t{1} << 20) - arena_left_;
    std::memcpy(data, key.data(), key.size());
    std::memcpy(data + key.size(), value.data(), value.size());
    arena_left_ -= bytes;
    arena_used_ += bytes;
    items_.push_back(Item{data, static_cast<uint16_t>(key.size()), static_cast<uint16_t>(value.size()), hash_func5(key)});
    const int32_t need = pair_size(item);
    // The first page with more room than needed, else the last page.
    uint32_t target = 0;
    uint32_t last = 0;
    for (uint32_t pg = bucket_page(bucket_of(items_[item].hash)); pg != 0; pg = pages_[pg].next) {
        if (target == 0 && need < pages_[pg].free) target = pg;
        last = pg;
    }
    if (target == 0) target = last;
    bool grow = false;
    if (pages_[target].free < need) {
        target = add_overflow(target);
        grow = true;
    }
    put_on(target, item);
    ++nelem_;
    if (grow) expand();
}

void HashBuild::expand() {
    const uint32_t new_bucket = max_bucket_ + 1;
    const uint32_t old_bucket = new_bucket & low_mask_;
    const bool new_double = max_bucket_ == high_mask_;
    const uint32_t logn = log2_ceil(new_bucket);
    if (new_double && spares_[logn + 1] == 0) {
        // A new doubling: its pages are reserved at once, the last one written.
        uint32_t pgno = last_pgno_ + 1 + max_bucket_;
        spares_[logn + 1] = (pgno - new_bucket) - max_bucket_;
        last_pgno_ = pgno;
        init_page(pgno, kHashPage, 0);
    }
    max_bucket_ = new_bucket;
    if (new_double) {
        low_mask_ = high_mask_;
        high_mask_ = new_bucket | low_mask_;
    }
    split(old_bucket, new_bucket);
}

void HashBuild::split(uint32_t old_bucket, uint32_t new_bucket) {
    const uint32_t old_page = bucket_page(old_bucket);
    sort_page(old_page);
    scratch_.swap(pages_[old_page].items);
    uint32_t next = pages_[old_page].next;
    init_page(old_page, kHashPage, 0);
    const uint32_t new_page_no = bucket_page(new_bucket);
    init_page(new_page_no, kHashPage, 0);
    uint32_t current[2] = {old_page, new_page_no};
    std::vector<Slot> moving;
    auto move_all = [&](const std::vector<Slot>& slots) {
        for (Slot s : slots) {
            int side = bucket_of(s.hash) == old_bucket ? 0 : 1;
            if (pages_[current[side]].free < pair_size(s.item)) current[side] = add_overflow(current[side]);
            put_on(current[side], s.item);
        }
    };
    moving.swap(scratch_);
    move_all(moving);
    // The rest of the old chain, page by page; each page is freed once
    // emptied.
    while (next != 0) {
        uint32_t pg = next;
        sort_page(pg);
        moving.clear();
        moving.swap(pages_[pg].items);
        next = pages_[pg].next;
        move_all(moving);
        free_page(pg);
    }
    moving.clear();
    scratch_.swap(moving);
}

bool HashBuild::meta_is_fresh(std::string_view meta) const {
    if (meta.size() < page_size_ || meta.size() < kSpares + 32 * 4) return false;
    const char* m = meta.data();
    static constexpr char kCharKeyText[] = "%$sniglet^&";  // libdb's CHARKEY, with its NUL
    if (get32(m + kMagic) != 0x061561 || get32(m + kVersion) != 9 || get32(m + kPageSize) != page_size_) return false;
    if (m[kEncrypt] != 0 || m[kType] != 8 || m[kMetaFlags] != 0 || get32(m + kFlags) != 0) return false;
    if (get32(m + kFree) != 0 || get32(m + kLastPgno) != 2) return false;
    if (get32(m + kMaxBucket) != 1 || get32(m + kHighMask) != 1 || get32(m + kLowMask) != 0) return false;
    if (get32(m + kFfactor) != 0 || get32(m + kNelem) != kInitialNelem) return false;
    if (get32(m + kCharKey) != hash_func5(std::string_view(kCharKeyText, sizeof kCharKeyText))) return false;
    for (int i = 0; i < 32; ++i) {
        if (get32(m + kSpares + 4 * i) != (i < 2 ? 1u : 0u)) return false;
    }
    return true;
}

void HashBuild::render(uint32_t pgno, unsigned char* out) {
    Page& p = pages_[pgno];
    std::memset(out, 0, page_size_);
    if (!p.written) return;
    put32(out + 4, 1);  // LSN (0, 1): not logged
    put32(out + 8, pgno);
    put32(out + 12, p.prev);
    put32(out + 16, p.next);
    out[25] = p.type;
    sort_page(pgno);
    uint32_t offset = page_size_;
    unsigned char* index = out + kHeaderSize;
    for (Slot s : p.items) {
        for (std::string_view part : {key(s.item), value(s.item)}) {
            offset -= static_cast<uint32_t>(part.size()) + 1;
            out[offset] = kKeyData;
            std::memcpy(out + offset + 1, part.data(), part.size());
            put16(index, static_cast<uint16_t>(offset));
            index += 2;
        }
    }
    put16(out + 20, static_cast<uint16_t>(p.items.size() * 2));
    put16(out + 22, static_cast<uint16_t>(offset));
}

int HashBuild::write(int fd, std::string_view meta) {
    constexpr size_t kChunk = 1 << 20;
    const size_t pages_per_chunk = std::max<size_t>(1, kChunk / page_size_);
    std::string buf(pages_per_chunk * page_size_, '\0');
    auto* out = reinterpret_cast<unsigned char*>(buf.data());
    off_t file_offset = 0;
    uint32_t pgno = 0;
    ensure(last_pgno_);
    while (pgno <= last_pgno_) {
        size_t n = 0;
        for (; n < pages_per_chunk && pgno <= last_pgno_; ++n, ++pgno) {
            unsigned char* page = out + n * page_size_;
            if (pgno != 0) {
                render(pgno, page);
                continue;
            }
            std::memcpy(page, meta.data(), page_size_);
            put32(page + kFree, free_pgno_);
            put32(page + kLastPgno, last_pgno_);
            put32(page + kMaxBucket, max_bucket_);
            put32(page + kHighMask, high_mask_);
            put32(page + kLowMask, low_mask_);
            put32(page + kNelem, nelem_);
            for (int i = 0; i < 32; ++i) put32(page + kSpares + 4 * i, spares_[i]);
        }
        const char* data = buf.data();
        size_t left = n * page_size_;
        while (left > 0) {
            ssize_t w = ::pwrite(fd, data, left, file_offset);
            if (w < 0) {
                if (errno == EINTR) continue;
                return errno;
            }
            data += w;
            left -= static_cast<size_t>(w);
            file_offset += w;
        }
    }
    if (::ftruncate(fd, file_offset) != 0) return errno;
    return 0;
}

}  // namespace pf::dict::db
