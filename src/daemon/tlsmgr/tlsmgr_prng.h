// tlsmgr's randomness upkeep, as the reference's: an external entropy
// source (tls_random_source: "dev:/path" a device read tls_random_bytes at
// a time, "egd:/path" an EGD socket, anything else a file read once) mixed
// into OpenSSL's pool at random intervals up to tls_random_reseed_period,
// and the PRNG exchange file (tls_random_exchange_name, 1024 bytes)
// updated read-stir-write under an exclusive lock at random intervals up
// to tls_random_prng_update_period, so that the pool survives restarts
// and is shared with other programs.
//
// Trust: the files are configuration; their content is only entropy.
#pragma once

#include <cstddef>
#include <string>

namespace pf::tlsmgr {

inline constexpr std::size_t kPrngExchSize = 1024;

// The exchange file (fd owned).
class PrngExchange {
public:
    PrngExchange() = default;
    PrngExchange(int fd, std::string name) : fd_(fd), name_(std::move(name)) {}
    PrngExchange(PrngExchange&& o) noexcept : fd_(o.fd_), name_(std::move(o.name_)) { o.fd_ = -1; }
    PrngExchange& operator=(PrngExchange&& o) noexcept;
    ~PrngExchange();

    // Opens (creating, mode 0600) the file; fatal on failure as the reference.
    static PrngExchange open(const std::string& name);
    bool is_open() const { return fd_ >= 0; }
    // Read, stir into the pool, write fresh bytes back (fatal on I/O errors).
    void update();
    // The file was removed (its link count is 0).
    bool removed() const;
    const std::string& name() const { return name_; }

private:
    int fd_ = -1;
    std::string name_;
};

// The external source.
class EntropySource {
public:
    EntropySource() = default;
    EntropySource(EntropySource&& o) noexcept
        : kind_(o.kind_), fd_(o.fd_), path_(std::move(o.path_)), spec_(std::move(o.spec_)), spec_empty_(o.spec_empty_) {
        o.fd_ = -1;
    }
    EntropySource& operator=(EntropySource&& o) noexcept;
    ~EntropySource();

    // Opens tls_random_source (empty: none, with the reference's warnings);
    // a device or EGD socket that cannot be opened is warned about.
    static EntropySource open(const std::string& spec, int timeout);
    // One reseed; false when the source failed and the process should
    // restart to reopen it (after the reference's log line).
    bool reseed(int bytes);
    bool configured() const { return !spec_empty_; }

private:
    enum class Kind { kNone, kDev, kEgd, kFile } kind_ = Kind::kNone;
    int fd_ = -1;
    std::string path_;
    std::string spec_;
    bool spec_empty_ = true;
};

}  // namespace pf::tlsmgr
