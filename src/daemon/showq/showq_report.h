// The queue listing that showq(8) sends to postqueue(1) and to monitoring
// tools, on the wire exactly as the reference 3.7's showq daemon sends it:
// NUL-separated attributes ("name\0value\0"), a lone NUL ending a group.
//   protocol=mail_queue_list_protocol, NUL
//   per message: queue_name, queue_id, time, size, forced_expire, sender,
//     then recipient, reason pairs, then NUL
//   a final NUL
// The scan visits maildrop (flat), active, incoming, deferred and hold
// (with their one-letter hash subdirectories, depth first, in directory
// order), and for each name that is a queue ID opens the file at the path
// its ID hashes to, if it is a regular file with mode 0700 (the
// reference's mail_open_ok). A message's recipients with a defer log come
// first with their reasons, then the queue file's other pending
// recipients with an empty reason; done recipients do not show. A
// recipient record before any sender record, or a second sender record,
// is warned about as the reference does, and then the whole listing ends
// there, without the final NUL, on the very byte where the reference's
// stream ends: the reference's showq 3.7 dies at that point (its clean-up
// path frees its buffers and reads on) and what its client receives is
// what its 4096-byte stream buffer had written by then (everything up to
// the previous queue file, whose end flushes the stream). Its postqueue
// then prints "malformed showq server response"; we are drop-in for what
// the client sees, without the crash.
//
// Trust: queue files may be damaged or hostile (maildrop is writable by
// the postdrop group); records are read with bounded, checked lengths and
// a bad record ends the listing of that file (only the two sender
// troubles above end the scan).
#pragma once

#include "queue/queue_file.h"

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <sys/stat.h>

namespace pf::config { class Config; }

namespace pf::showq {

inline constexpr std::string_view kProtocolName = "mail_queue_list_protocol";

struct ShowqSettings {
    queue::QueueLayout layout;         // paths relative to the working directory
    long dup_filter_limit = 1000;      // duplicate_filter_limit (0: no limit)
    std::string empty_address = "MAILER-DAEMON";  // empty_address_recipient
    bool utf8 = true;                  // smtputf8_enable: printable() keeps UTF-8

    static ShowqSettings from_config(const config::Config& config);
};

// Collects the encoded stream and hands it to a writer in large chunks;
// once the writer fails (the client went away) everything else is
// dropped. It also keeps track of what the reference's showq would have
// written by now (its stream: a 4096-byte buffer written out when a byte
// finds it full, and flushed after each queue directory entry), so that
// abandon() can end the stream where the reference's would end.
class ShowqOutput {
public:
    using Writer = std::function<bool(std::string_view)>;
    explicit ShowqOutput(Writer writer) : writer_(std::move(writer)) {}

    void attr(std::string_view name, std::string_view value);
    void attr(std::string_view name, long value);
    void end_group();           // the lone NUL
    void flush_point();         // where the reference flushes its stream
    bool flush();               // false once the writer failed
    // Writes what the reference would have written so far, drops the
    // rest and ends the output (failed() is then true).
    void abandon();
    bool failed() const { return failed_; }

    static constexpr std::size_t kReferenceBuffer = 4096;

private:
    std::size_t total() const { return base_ + buffer_.size(); }
    std::size_t reference_written() const;
    void write_to(std::size_t end);  // up to this stream offset

    Writer writer_;
    std::string buffer_;
    std::size_t base_ = 0;         // stream offset of buffer_[0]
    std::size_t flushed_at_ = 0;   // stream offset of the last flush point
    bool failed_ = false;
};

class QueueFileImage;

// Lists one open queue file (queue name, ID, its stat) to out; defer_log:
// the path of its defer log, "" when there is none. Returns false where
// the reference's showq dies (see above): the caller abandons the listing.
bool showq_report(ShowqOutput& out, const ShowqSettings& settings, std::string_view queue, std::string_view id,
                  QueueFileImage& file, const struct stat& st, const std::string& defer_log);

// The whole listing: protocol line, every listable message, final NUL.
// Runs in the queue directory (paths are relative).
void showq_scan(ShowqOutput& out, const ShowqSettings& settings);

}  // namespace pf::showq
