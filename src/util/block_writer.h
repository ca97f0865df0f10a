// Standard output the way the reference's stream library writes it: bytes
// collect in a 4096-byte buffer that goes out whenever it is full, and at a
// normal end. A fatal error exits without flushing, so a program that dies
// half-way shows only the whole blocks it had written, as the reference does
// (e.g. "postconf -b" stopping at a bad template line).
#pragma once

#include <string>
#include <string_view>

namespace pf::util {

class BlockWriter {
public:
    static constexpr size_t kBlockSize = 4096;

    explicit BlockWriter(int fd) : fd_(fd) {}
    BlockWriter(const BlockWriter&) = delete;
    BlockWriter& operator=(const BlockWriter&) = delete;
    // Whatever was not flushed is dropped, as on the reference's fatal exit.
    ~BlockWriter() = default;

    // Appends; every full block is written at once. False on a write error.
    bool write(std::string_view bytes);
    // Writes what is buffered. False on a write error.
    bool flush();

private:
    int fd_;
    std::string buffer_;
};

}  // namespace pf::util
