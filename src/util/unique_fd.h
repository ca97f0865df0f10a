// An owned file descriptor: closed when its holder goes out of scope, moved
// (never copied) between holders, the house rule "RAII for every fd" in one
// type for every library (ipc::UniqueFd and the tables, queue and command
// helpers use it). Nothing reference-visible: a descriptor is closed exactly
// when the hand-written close it replaces would have closed it.
//
// Trust: none needed; the descriptor is the caller's.
#pragma once

#include <unistd.h>

#include <utility>

namespace pf::util {

class UniqueFd {
public:
    UniqueFd() = default;
    explicit UniqueFd(int fd) : fd_(fd) {}
    UniqueFd(UniqueFd&& other) noexcept : fd_(other.release()) {}
    UniqueFd& operator=(UniqueFd&& other) noexcept {
        if (this != &other) reset(other.release());
        return *this;
    }
    UniqueFd(const UniqueFd&) = delete;
    UniqueFd& operator=(const UniqueFd&) = delete;
    ~UniqueFd() { reset(); }

    int get() const { return fd_; }
    bool valid() const { return fd_ >= 0; }
    explicit operator bool() const { return valid(); }
    // Gives the descriptor up without closing it.
    int release() { return std::exchange(fd_, -1); }
    // Closes the held descriptor (if any) and holds fd instead.
    void reset(int fd = -1) {
        if (fd_ >= 0) ::close(fd_);
        fd_ = fd;
    }
    // Closes now, for callers that check the result (errno set on failure;
    // 0 when nothing was held).
    int close() {
        if (fd_ < 0) return 0;
        return ::close(std::exchange(fd_, -1));
    }

private:
    int fd_ = -1;
};

}  // namespace pf::util
