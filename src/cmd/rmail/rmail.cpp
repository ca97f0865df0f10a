// rmail(8): the UUCP mail entry point. Reads the "From ... remote from ..."
// lines at the top of a message from standard input, folds them into one
// sender (rmail_from.h) and hands the rest of the message to
//   /usr/lib/sendmail -G -oee -odq -oi -p<protocol> -f<sender> recipient...
// As the reference (the BSD rmail that Debian's postfix package ships):
//   rmail [-T] [-D domain] user ...
// - input lines are read as fgets() with a 2048-byte buffer: a line of
//   2047 bytes or more, a last line without a newline, or a NUL before the
//   newline is "line too long" (65); end of input among the From lines
//   exits 65 silently; a first line that is no From line is "missing or
//   empty From line: <line>" (65);
// - -T traces the parse and prints "Sendmail arguments:" and each
//   argument on stderr;
// - standard input that is a regular file is positioned after the From
//   lines and handed to sendmail by execv (failure: "rmail:
//   /usr/lib/sendmail", 71); otherwise the message goes down a pipe to a
//   sendmail child, each chunk of input written up to its first NUL byte
//   (as the reference's "%s" does); the child's exit status N shows as
//   "/usr/lib/sendmail: terminated with N (non-zero) status" with exit
//   status 0 (the reference exits with the raw wait status, whose low
//   byte is 0), a signal as "did not terminate normally" (71).
// Diagnostics are "rmail: <text>" on stderr, bytes as they are (the
// reference's own err(), not Postfix's logging), usage without prefix.
//
// Trust: standard input and the arguments come from UUCP (remote, hostile);
// sendmail runs with execv and an argument vector, never a shell.
#include "cmd/rmail/rmail_from.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace pf::rmail {
namespace {

void write_stderr(std::string_view text) {
    while (!text.empty()) {
        ssize_t n = ::write(2, text.data(), text.size());
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return;
        text.remove_prefix(static_cast<std::size_t>(n));
    }
}

[[noreturn]] void fail(int exit_code, std::string_view text) {
    write_stderr("rmail: " + std::string(text) + "\n");
    std::exit(exit_code);
}

[[noreturn]] void usage() {
    write_stderr("usage: rmail [-T] [-D domain] user ...\n");
    std::exit(kExUsage);
}

// Standard input read as the reference's fgets(buf, 2048, stdin) does:
// a chunk ends after a newline or at 2047 bytes.
class ChunkReader {
public:
    // false at end of input or on a read error (error() says which).
    bool next(std::string& chunk) {
        chunk.clear();
        while (chunk.size() < kLineBuffer - 1) {
            if (pos_ == len_ && !fill()) break;
            std::size_t want = std::min(len_ - pos_, kLineBuffer - 1 - chunk.size());
            const char* start = buf_ + pos_;
            const void* nl = std::memchr(start, '\n', want);
            std::size_t take = nl ? static_cast<std::size_t>(static_cast<const char*>(nl) - start) + 1 : want;
            chunk.append(start, take);
            pos_ += take;
            consumed_ += take;
            if (nl) return true;
        }
        // As glibc's fgets: a read error loses the partial chunk.
        if (error_ != 0) return false;
        return !chunk.empty();
    }
    int error() const { return error_; }
    long long consumed() const { return consumed_; }

private:
    bool fill() {
        if (eof_ || error_ != 0) return false;
        for (;;) {
            ssize_t n = ::read(0, buf_, sizeof buf_);
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) {
                error_ = errno;
                return false;
            }
            if (n == 0) {
                eof_ = true;
                return false;
            }
            pos_ = 0;
            len_ = static_cast<std::size_t>(n);
            return true;
        }
    }

    char buf_[65536];
    std::size_t pos_ = 0;
    std::size_t len_ = 0;
    long long consumed_ = 0;
    bool eof_ = false;
    int error_ = 0;
};

// The pipe to the sendmail child, buffered as the reference's stdio
// stream; after a write error it writes nothing more.
class PipeWriter {
public:
    explicit PipeWriter(int fd) : fd_(fd) {}
    // The chunk up to its first NUL byte.
    void put_c_string(const std::string& chunk) {
        std::size_t n = chunk.find('\0');
        append(std::string_view(chunk).substr(0, n));
    }
    // Flushes and closes; false when any write failed.
    bool close() {
        flush();
        if (::close(fd_) < 0 && error_ == 0) error_ = errno;
        return error_ == 0;
    }

private:
    void append(std::string_view text) {
        if (error_ != 0) return;
        buffer_ += text;
        if (buffer_.size() >= 4096) flush();
    }
    void flush() {
        std::string_view rest = buffer_;
        while (!rest.empty() && error_ == 0) {
            ssize_t n = ::write(fd_, rest.data(), rest.size());
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) {
                error_ = errno;
                break;
            }
            rest.remove_prefix(static_cast<std::size_t>(n));
        }
        buffer_.clear();
    }
    int fd_;
    int error_ = 0;
    std::string buffer_;
};

std::vector<char*> c_argv(std::vector<std::string>& args) {
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    return argv;
}

int run(int argc, char** argv) {
    bool debug = false;
    std::string domain = "UUCP";
    int ch;
    while ((ch = ::getopt(argc, argv, "D:T")) != -1) {
        switch (ch) {
        case 'T': debug = true; break;
        case 'D': domain = optarg; break;
        default: usage();
        }
    }
    if (argc - optind < 1) usage();
    std::vector<std::string> recipients(argv + optind, argv + argc);

    // Where stdin's stream position starts (-1: not seekable, as ftell).
    const off_t base = ::lseek(0, 0, SEEK_CUR);
    ChunkReader reader;
    Envelope envelope;
    std::string chunk;
    std::string trace;
    long long offset = 0;
    for (;;) {
        if (!reader.next(chunk)) std::exit(kExDataErr);
        std::size_t nl = chunk.find('\n');
        std::size_t nul = chunk.find('\0');
        if (nl == std::string::npos || (nul != std::string::npos && nul < nl)) fail(kExDataErr, "line too long");
        std::string_view line = std::string_view(chunk).substr(0, nl);
        LineKind kind = classify(line);
        if (kind == LineKind::other) {
            if (offset == 0) fail(kExDataErr, "missing or empty From line: " + std::string(line));
            break;  // the first line of the message proper, kept in chunk
        }
        auto parsed = parse_from_line(line, envelope, debug ? &trace : nullptr);
        if (!trace.empty()) {
            write_stderr(trace);
            trace.clear();
        }
        if (!parsed) fail(parsed.error().exit_code, parsed.error().message);
        if (offset != -1) offset = base < 0 ? -1 : base + reader.consumed();
    }

    auto built = build_sendmail_args(envelope, domain, recipients);
    if (!built) fail(built.error().exit_code, built.error().message);
    std::vector<std::string> args = std::move(*built);
    if (debug) {
        std::string text = "Sendmail arguments:\n";
        for (const std::string& a : args) text += "\t" + a + "\n";
        write_stderr(text);
    }
    std::vector<char*> exec_argv = c_argv(args);

    // A regular file: sendmail reads the message from where the From
    // lines end.
    struct stat st {};
    if (::fstat(0, &st) == 0 && S_ISREG(st.st_mode)) {
        if (::lseek(0, static_cast<off_t>(offset), SEEK_SET) != static_cast<off_t>(offset))
            fail(kExTempFail, "stdin seek");
        ::execv(kSendmailPath, exec_argv.data());
        fail(kExOsErr, kSendmailPath);
    }

    int pipe_fds[2];
    if (::pipe(pipe_fds) < 0) fail(kExOsErr, "");
    pid_t pid = ::fork();
    if (pid < 0) fail(kExOsErr, "");
    if (pid == 0) {
        if (pipe_fds[0] != 0) {
            ::dup2(pipe_fds[0], 0);
            ::close(pipe_fds[0]);
        }
        ::close(pipe_fds[1]);
        ::execv(kSendmailPath, exec_argv.data());
        ::_exit(127);
    }
    ::close(pipe_fds[0]);
    PipeWriter out(pipe_fds[1]);
    do {
        out.put_c_string(chunk);
    } while (reader.next(chunk));
    if (reader.error() != 0) fail(kExTempFail, std::string("stdin: ") + std::strerror(reader.error()));
    if (!out.close()) fail(kExOsErr, "");
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) fail(kExOsErr, kSendmailPath);
    }
    if (!WIFEXITED(status)) fail(kExOsErr, std::string(kSendmailPath) + ": did not terminate normally");
    if (WEXITSTATUS(status) != 0) {
        // The reference exits with the raw wait status: its low byte,
        // 0 for a child that exited.
        fail(status & 0xff, std::string(kSendmailPath) + ": terminated with " + std::to_string(WEXITSTATUS(status)) +
                                " (non-zero) status");
    }
    return 0;
}

}  // namespace
}  // namespace pf::rmail

int main(int argc, char** argv) { return pf::rmail::run(argc, argv); }
