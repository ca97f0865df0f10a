// Fast bulk build of a hash: table (dict_db.cpp), with the file the
// reference's build makes: the same buckets, overflow chains, page numbers,
// free list and items in the same order, so that its postmap -s lists the
// entries in the same order and its lookups find them.
//
// Why: the reference feeds Berkeley DB one put() per entry through a cache of
// berkeley_db_create_buffer_size; on a table larger than that cache nearly
// every put reads and writes a page (a 1,000,000-entry table: ~440,000 pread
// and ~444,000 pwrite calls). The layout of the result only depends on the
// order of the puts and on libdb's rules, which this replays in memory
// (Berkeley DB 5.3, hash version 9, fill factor 0, no checksums, host byte
// order), then writes each page once.
//
// The rules replayed (libdb 5.3 hash_page.c, hash.c, db_meta.c; observed on
// the reference's files, which this reproduces page for page):
//  - two buckets at first (pages 1 and 2; page 1 stays a hole until used);
//    a key goes to bucket hash & high_mask, or hash & low_mask when that is
//    beyond max_bucket (hash: 32-bit FNV-1a variant "multiply then xor");
//  - a put goes to the first page of its bucket's chain with more free bytes
//    than the pair needs, else to the last page if it fits there exactly,
//    else to a new overflow page linked after the last one, and then the
//    table grows by one bucket (linear hashing): bucket max_bucket+1 is
//    split off bucket (max_bucket+1) & low_mask, moving each item of the old
//    chain (page by page, each page in key order) to the old or the new
//    bucket, a new overflow page whenever the current one is full; the old
//    chain's overflow pages are freed as they are emptied;
//  - page allocation: the head of the free list, else the page after the
//    last; freeing the last page shortens the file instead; a new doubling
//    of the bucket count reserves its pages at once (spares[]);
//  - items on a page are kept sorted (memcmp order, shorter first) and laid
//    out from the end of the page in that order; a pair costs
//    key + data + 2 type bytes + 2 index slots of 2 bytes;
//  - meta: nelem starts at 4096 (the set_h_nelem() value, unused with fill
//    factor 0) and counts the puts.
// Anything else (an item larger than a quarter page, which libdb stores off
// page; a replacing duplicate; a template meta page that is not the fresh
// one expected) is not handled here: the caller falls back to libdb's put()
// in the same order, which gives the same result.
//
// Trust: keys and values are the caller's (the admin's source file); no
// file is read except the meta page libdb itself just wrote.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace pf::dict::db {

class HashBuild {
public:
    // page_size: the file's page size (512 to 32768, a power of two).
    explicit HashBuild(uint32_t page_size);

    // Whether a pair of these stored sizes is one this replay handles
    // (neither over a quarter page).
    bool fits(size_t key_size, size_t value_size) const {
        return key_size <= page_size_ / 4 && value_size <= page_size_ / 4;
    }
    // Whether key (stored form) was put already.
    bool contains(std::string_view key) const;
    // Adds a pair that fits() and is not contained(), as put() would.
    void add(std::string_view key, std::string_view value);
    size_t size() const { return items_.size(); }
    // Bytes held for the pairs so far (the caller caps it).
    size_t memory() const { return arena_used_ + items_.size() * (sizeof(Item) + 8); }
    // The pairs in the order they were added (for the fallback).
    std::string_view key(uint32_t item) const { return {items_[item].data, items_[item].key_size}; }
    std::string_view value(uint32_t item) const {
        return {items_[item].data + items_[item].key_size, items_[item].value_size};
    }

    // Checks that meta (the first page_size bytes of the file libdb has just
    // created and closed) is the fresh hash meta page this replay starts
    // from.
    bool meta_is_fresh(std::string_view meta) const;
    // Writes the whole file to fd, page by page from page 0, using meta
    // (checked by meta_is_fresh) for the fields libdb chose (file id, ...).
    // Returns 0 or an errno value.
    int write(int fd, std::string_view meta);

private:
    struct Item {
        const char* data;  // key then value, in arena_
        uint16_t key_size;
        uint16_t value_size;
        uint32_t hash;
    };
    // An item on a page, with its hash next to it (the duplicate check
    // scans these).
    struct Slot {
        uint32_t item;
        uint32_t hash;
    };
    struct Page {
        std::vector<Slot> items;
        uint32_t prev = 0;
        uint32_t next = 0;
        int32_t free = 0;
        uint8_t type = 0;  // 0: free-list page, 13: sorted hash page
        bool written = false;  // libdb wrote it (else a hole: zeros)
        bool sorted = true;
    };

    std::string_view item_key(uint32_t i) const { return key(i); }
    int32_t pair_size(uint32_t i) const { return items_[i].key_size + items_[i].value_size + 6; }
    uint32_t bucket_of(uint32_t hash) const;
    uint32_t bucket_page(uint32_t bucket) const;
    void ensure(uint32_t pgno);
    void init_page(uint32_t pgno, uint8_t type, uint32_t next);
    uint32_t new_page();
    void free_page(uint32_t pgno);
    uint32_t add_overflow(uint32_t pgno);
    void put_on(uint32_t pgno, uint32_t item);
    void sort_page(uint32_t pgno);
    void expand();
    void split(uint32_t old_bucket, uint32_t new_bucket);
    void render(uint32_t pgno, unsigned char* out);

    uint32_t page_size_;
    // Blocks of pair bytes that never move; items_ grows without copying.
    std::vector<std::unique_ptr<char[]>> arena_;
    size_t arena_left_ = 0;
    size_t arena_used_ = 0;
    std::deque<Item> items_;
    std::vector<Page> pages_;
    uint32_t spares_[32] = {};
    uint32_t max_bucket_ = 1;
    uint32_t high_mask_ = 1;
    uint32_t low_mask_ = 0;
    uint32_t last_pgno_ = 2;
    uint32_t free_pgno_ = 0;
    uint32_t nelem_ = 4096;
    std::vector<Slot> scratch_;
};

// libdb's hash function for hash version 5 and later (__ham_func5).
uint32_t hash_func5(std::string_view bytes);

}  // namespace pf::dict::db
