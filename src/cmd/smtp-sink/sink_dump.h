// smtp-sink(1) -d / -D capture files: one file per mail transaction named
// by the strftime(3) expansion of the template plus eight random hex
// digits (-d), or the same file unlinked at once and appended, when the
// transaction completes, to the file the template names (-D). Missing
// parent directories are made. Layout as the reference 3.7.11: the -S
// string, X-Client-Addr, X-Client-Proto, X-Helo-Args, X-Mail-Args,
// X-Rcpt-Args..., a three-line Received: header, the content, an empty line.
//
// Trust: the template and -S string are the operator's; the argument texts
// are client text already made printable by the session.
#pragma once
#include <cstdio>
#include <ctime>
#include <optional>
#include <string>
#include <string_view>

namespace pf::smtp_sink {

struct SinkConfig;

// strftime(3) of a template in local time (no length limit).
std::string expand_template(const std::string& tmpl, std::time_t when);
// Makes every missing directory of path (mkdir -p); false with errno set.
bool make_dirs(const std::string& path, mode_t mode);

class DumpFile {
public:
    struct Client {
        std::string addr;   // with "ipv6:" prefix when IPv6
        std::string proto;  // SMTP, ESMTP, LMTP
        std::optional<std::string> helo;
    };
    // Opens the file for a transaction that starts now (fatal on failure).
    DumpFile(const SinkConfig& cfg, const Client& client);
    ~DumpFile();
    DumpFile(const DumpFile&) = delete;
    DumpFile& operator=(const DumpFile&) = delete;

    void header(std::string_view name, std::string_view value);
    void finish_header(const std::string& hostname);
    void put(char ch) {
        if (std::putc(ch, fp_) == EOF) fail_append();
    }
    void write(const char* data, std::size_t len) {
        if (std::fwrite(data, 1, len, fp_) != len) fail_append();
    }
    // End of DATA: for -D, append the capture to the shared file.
    void finish();
    // Abandoned transaction: a -d file is removed.
    void reset();

private:
    [[noreturn]] void fail_append();
    const SinkConfig& cfg_;
    Client client_;
    std::time_t start_;
    unsigned id_;
    std::string path_;
    std::FILE* fp_ = nullptr;
};

}  // namespace pf::smtp_sink
