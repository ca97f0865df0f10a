// The client connection of the stand-alone smtpd that sendmail -bs runs:
// commands on standard input, replies on standard output (two pipes or a
// terminal, not a socket), as the reference's single-server skeleton sets
// its stream up for "-S".
//
// Replies are buffered as the reference's stream buffers them: they go out
// when the server needs more input than it has read, when about 4 kB are
// waiting, when more than 10 seconds passed since the last read or write,
// and at the end of the session (flush()). A server that dies before then
// leaves its last replies unsent, as the reference's does.
//
// Trust: the bytes read are the client's, handed to SmtpStream unparsed.
#pragma once

#include "smtp/smtp_stream.h"

#include <ctime>
#include <string>

namespace pf::smtpd {

class StdioTransport : public smtp::StreamTransport {
public:
    StdioTransport(int in_fd, int out_fd) : in_fd_(in_fd), out_fd_(out_fd) {}

    std::expected<std::size_t, smtp::StreamError> read(char* buf, std::size_t len, int timeout) override;
    std::expected<void, smtp::StreamError> write(const char* buf, std::size_t len, int timeout) override;
    bool pending() const override { return false; }
    // Writes what is buffered.
    std::expected<void, smtp::StreamError> flush(int timeout);

private:
    int in_fd_;
    int out_fd_;
    std::string out_;
    std::time_t last_io_ = std::time(nullptr);
};

}  // namespace pf::smtpd
