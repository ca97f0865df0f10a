// tlsmgr's entropy source and PRNG exchange file (see tlsmgr_prng.h).
//
// Trust: configuration names the files; bytes read are only mixed in.
#include "daemon/tlsmgr/tlsmgr_prng.h"

#include "util/msg.h"

#include <openssl/rand.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

namespace pf::tlsmgr {

namespace {

// Reads up to len bytes within timeout seconds; -1 on error or timeout.
ssize_t timed_read(int fd, unsigned char* buf, std::size_t len, int timeout) {
    pollfd p{fd, POLLIN, 0};
    int n = ::poll(&p, 1, timeout * 1000);
    if (n <= 0) {
        if (n == 0) errno = ETIMEDOUT;
        return -1;
    }
    return ::read(fd, buf, len);
}

}  // namespace

PrngExchange& PrngExchange::operator=(PrngExchange&& o) noexcept {
    if (this != &o) {
        if (fd_ >= 0) ::close(fd_);
        fd_ = o.fd_;
        name_ = std::move(o.name_);
        o.fd_ = -1;
    }
    return *this;
}

PrngExchange::~PrngExchange() {
    if (fd_ >= 0) ::close(fd_);
}

PrngExchange PrngExchange::open(const std::string& name) {
    int fd = ::open(name.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) util::msg_fatal("cannot open PRNG exchange file {}: {}", name, std::strerror(errno));
    return PrngExchange(fd, name);
}

bool PrngExchange::removed() const {
    struct stat st {};
    if (::fstat(fd_, &st) < 0) util::msg_fatal("cannot fstat() the PRNG exchange file: {}", std::strerror(errno));
    return st.st_nlink == 0;
}

void PrngExchange::update() {
    unsigned char buffer[kPrngExchSize];
    if (::flock(fd_, LOCK_EX) != 0)
        util::msg_fatal("cannot lock PRNG exchange file {}: {}", name_, std::strerror(errno));
    if (::lseek(fd_, 0, SEEK_SET) < 0)
        util::msg_fatal("cannot seek PRNG exchange file {}: {}", name_, std::strerror(errno));
    ssize_t count = ::read(fd_, buffer, sizeof buffer);
    if (count < 0) util::msg_fatal("cannot read PRNG exchange file {}: {}", name_, std::strerror(errno));
    if (count > 0) RAND_seed(buffer, static_cast<int>(count));
    if (RAND_bytes(buffer, sizeof buffer) <= 0) util::msg_warn("cannot generate PRNG exchange data");
    if (::lseek(fd_, 0, SEEK_SET) < 0)
        util::msg_fatal("cannot seek PRNG exchange file {}: {}", name_, std::strerror(errno));
    if (::write(fd_, buffer, sizeof buffer) != static_cast<ssize_t>(sizeof buffer))
        util::msg_fatal("cannot write PRNG exchange file {}: {}", name_, std::strerror(errno));
    if (::flock(fd_, LOCK_UN) != 0)
        util::msg_fatal("cannot unlock PRNG exchange file {}: {}", name_, std::strerror(errno));
}

EntropySource& EntropySource::operator=(EntropySource&& o) noexcept {
    if (this != &o) {
        if (fd_ >= 0) ::close(fd_);
        kind_ = o.kind_;
        fd_ = o.fd_;
        path_ = std::move(o.path_);
        spec_ = std::move(o.spec_);
        spec_empty_ = o.spec_empty_;
        o.fd_ = -1;
    }
    return *this;
}

EntropySource::~EntropySource() {
    if (fd_ >= 0) ::close(fd_);
}

EntropySource EntropySource::open(const std::string& spec, int) {
    EntropySource s;
    s.spec_ = spec;
    s.spec_empty_ = spec.empty();
    if (spec.empty()) {
        util::msg_warn("no entropy source specified with parameter tls_random_source");
        util::msg_warn("encryption keys etc. may be predictable");
        return s;
    }
    if (spec.starts_with("dev:")) {
        s.path_ = spec.substr(4);
        s.fd_ = ::open(s.path_.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
        if (s.fd_ < 0) util::msg_warn("cannot open entropy device {}: {}", s.path_, std::strerror(errno));
        else s.kind_ = Kind::kDev;
    } else if (spec.starts_with("egd:")) {
        s.path_ = spec.substr(4);
        int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        bool ok = fd >= 0 && s.path_.size() < sizeof addr.sun_path;
        if (ok) {
            std::memcpy(addr.sun_path, s.path_.c_str(), s.path_.size() + 1);
            ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
        }
        if (!ok) {
            util::msg_warn("cannot connect to EGD server {}: {}", s.path_, std::strerror(errno));
            if (fd >= 0) ::close(fd);
        } else {
            s.fd_ = fd;
            s.kind_ = Kind::kEgd;
        }
    } else {
        s.path_ = spec;
        s.fd_ = ::open(spec.c_str(), O_RDONLY | O_CLOEXEC);
        s.kind_ = Kind::kFile;   // a failure is reported at the first read
    }
    return s;
}

bool EntropySource::reseed(int bytes) {
    if (spec_empty_) return true;
    unsigned char buf[255];
    const std::size_t want = static_cast<std::size_t>(std::clamp(bytes, 1, 255));
    switch (kind_) {
    case Kind::kDev: {
        ssize_t n = timed_read(fd_, buf, want, 10);
        if (n <= 0) {
            util::msg_info("cannot read from entropy device {}: {} -- exiting to reopen", path_,
                           std::strerror(n < 0 ? errno : EIO));
            return false;
        }
        RAND_seed(buf, static_cast<int>(n));
        return true;
    }
    case Kind::kEgd: {
        // EGD "read entropy, non-blocking": 0x01, count; reply: count, bytes.
        unsigned char req[2] = {0x01, static_cast<unsigned char>(want)};
        unsigned char count = 0;
        ssize_t n = -1;
        if (::write(fd_, req, 2) == 2 && timed_read(fd_, &count, 1, 10) == 1 && count > 0)
            n = timed_read(fd_, buf, count, 10);
        if (n <= 0) {
            util::msg_info("lost connection to EGD server {} -- exiting to reconnect", path_);
            return false;
        }
        RAND_seed(buf, static_cast<int>(n));
        return true;
    }
    case Kind::kFile: {
        ssize_t n = fd_ >= 0 ? ::read(fd_, buf, want) : -1;
        if (n <= 0) util::msg_warn("cannot read from entropy file {}: {}", path_, std::strerror(n < 0 ? errno : EIO));
        else RAND_seed(buf, static_cast<int>(n));
        if (fd_ >= 0) ::close(fd_);
        fd_ = -1;
        spec_empty_ = true;   // read once
        kind_ = Kind::kNone;
        return true;
    }
    case Kind::kNone:
        util::msg_info("exiting to reopen external entropy source {}", spec_);
        return false;
    }
    return true;
}

}  // namespace pf::tlsmgr
