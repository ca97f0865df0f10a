// postqueue(1)'s side of the showq protocol (the reference 3.7's byte
// format, see src/daemon/showq/showq_report.h): a reader of NUL-separated
// attributes from a stream, a strict parser of the listing (the protocol
// announcement, then per message the six properties in their order and
// recipient/reason pairs), and the two renderings the reference prints:
//  - mailq (-p): the heading line, "<id>[*!][#] size date sender", a
//    "(reason)" line right-aligned to column 76 whenever the reason
//    changes from the previous recipient's ("reason unavailable" for an
//    empty one after a non-empty one), recipients indented, a blank line
//    between messages, then "-- N Kbytes in N Request(s)." or "Mail queue
//    is empty"; the column widths depend on enable_long_queue_ids;
//  - JSON (-j): one object per line, fields in the reference's order,
//    strings escaped as the reference escapes them.
// Every received string is made printable ('?' for bytes that are neither
// printable ASCII nor, with UTF-8 on, UTF-8 shaped), as the reference does.
//
// A stream that ends early (the reference's showq dies on some damaged
// queue files, and ours then ends its listing the same way) or does not
// parse gives the reference's attribute-scanner warning and "malformed
// showq server response"; the messages complete before it are printed.
//
// Trust: the stream comes from the showq daemon (ours or the
// reference's); anything that does not parse is "malformed showq server
// response" and no further bytes are interpreted.
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pf::postqueue {

// A source of bytes: read up to size bytes into buf, return the count, 0
// at end of input, -1 on error.
using ReadFn = std::function<long(char* buf, std::size_t size)>;

// The reference's conversion of a numeric attribute ("%lu" then nothing
// more): leading white space and a sign are accepted, a value out of range
// becomes ULONG_MAX, anything after the digits makes it malformed.
std::optional<unsigned long> scan_number(std::string_view text);

// A reader of the NUL-separated attribute stream that reports trouble as
// the reference's attribute scanner does (its warnings, word for word,
// name the stream: "unknown_stream" for the pipe from a showq run by
// hand, "public/showq socket" for the service).
class AttrStream {
public:
    explicit AttrStream(ReadFn read, std::string stream_name = "unknown_stream")
        : read_(std::move(read)), name_(std::move(stream_name)) {}
    // 1: an attribute follows; 0: a group terminator was consumed; -1:
    // end of input or error (silently).
    int more();

    enum class Kind { string, long_number, int_number };
    struct Expect {
        std::string_view name;
        Kind kind = Kind::string;
    };
    // Called with each value read (index into expect); false fails the
    // scan with -1 (the callback gives its own warning).
    using Check = std::function<bool(std::size_t index, const std::string& value)>;
    // Reads the expected attributes in their order into values[0], values[1],
    // ... (values grows to expect.size() and keeps its strings from call
    // to call; entries beyond those read are left over). Returns how many were
    // read when the group ends early ("missing attribute") or another name
    // comes ("unexpected attribute", its value left unread), -1 at end of
    // input (warned, except before the very first name) or on a malformed
    // number. until_end: the group terminator is read as well (a name in
    // its place is "unexpected"); otherwise the scan stops after the last
    // expected value.
    int scan(const std::vector<Expect>& expect, std::vector<std::string>& values, bool until_end,
             const Check& check = {});
    const std::string& name() const { return name_; }

private:
    enum class Got { ok, eof_at_start, eof_inside, too_long };
    int peek();
    Got cstring(std::string& out);

    ReadFn read_;
    std::string name_;
    std::string buffer_;
    std::size_t pos_ = 0;
    bool eof_ = false;
    std::string attr_name_;  // the name being read (reused)
};

struct ListedRecipient {
    std::string address;
    std::string reason;
};

struct ListedMessage {
    std::string queue_name;
    std::string queue_id;
    long arrival_time = 0;
    long size = 0;
    bool forced_expire = false;
    std::string sender;
    std::vector<ListedRecipient> recipients;
};

// Renders messages as they arrive, piece by piece in the order the
// reference prints them: mailq's blank line or heading before a message is
// read, a message's header line (mailq) or the start of its object (JSON)
// once its six properties are in, then each recipient as it is read, then
// the end of the message. Output goes to out (false: write error, errno
// set); reserve, when set, is told before each piece that the reference
// formats with a field width or a number (its output buffer then makes
// room for that many bytes ahead, see ListingOutput).
class Listing {
public:
    using Output = std::function<bool(std::string_view)>;
    using Reserve = std::function<void(std::size_t)>;
    explicit Listing(Output out) : out_(std::move(out)) {}
    virtual ~Listing() = default;
    void set_reserve(Reserve reserve) { reserve_ = std::move(reserve); }

    virtual bool message_begin() { return true; }
    virtual bool message_header(const ListedMessage& msg) = 0;  // recipients not used
    virtual bool recipient_begin() { return true; }
    virtual bool recipient(const ListedRecipient& rcpt) = 0;
    virtual bool recipients_end() { return true; }
    virtual bool message_end() { return true; }
    virtual bool finish() = 0;
    // A whole message at once.
    bool message(const ListedMessage& msg);

protected:
    bool put(std::string_view text) { return out_(text); }
    // A piece formatted with room reserved for it ahead.
    bool formatted(std::size_t reserve, std::string_view text) {
        if (reserve_) reserve_(reserve);
        return out_(text);
    }
    // "%-Ns"/"%Ns" of a string: padded to width; formatted only when the
    // string is shorter than the width (or a precision is given).
    bool padded(std::string_view text, int width, bool left, bool precision = false);

private:
    Output out_;
    Reserve reserve_;
};

class MailqListing : public Listing {
public:
    MailqListing(Output out, bool long_ids) : Listing(std::move(out)), long_ids_(long_ids) {}
    bool message_begin() override;
    bool message_header(const ListedMessage& msg) override;
    bool recipient(const ListedRecipient& rcpt) override;
    bool finish() override;

private:
    bool long_ids_;
    std::string id_status_;  // the queue ID and its marks (reused)
    unsigned long count_ = 0;
    unsigned long total_size_ = 0;
    std::string saved_reason_;
};

class JsonListing : public Listing {
public:
    JsonListing(Output out, bool utf8) : Listing(std::move(out)), utf8_(utf8) {}
    bool message_header(const ListedMessage& msg) override;
    bool recipient_begin() override;
    bool recipient(const ListedRecipient& rcpt) override;
    bool recipients_end() override { return put("]"); }
    bool message_end() override { return put("}\n"); }
    bool finish() override { return true; }

private:
    // text as json_quote() makes it (a view of text itself or of scratch_).
    std::string_view quoted(std::string_view text);

    bool utf8_;
    int recipients_ = 0;
    std::string scratch_;
};

// Standard output for a listing, written in large pieces, that also works
// out what the reference's postqueue would have written by now. Its output
// buffer starts at 4096 bytes and is written whole when a byte finds it
// full; a piece formatted with a width or a number first reserves room: if
// the free space is short, whole 4096-byte blocks beyond the first are
// written out and the buffer grows to make room (so that it may then hold
// more than 4096 bytes); the end of each message flushes it. When the
// listing then turns out malformed the reference stops with the rest
// unwritten; stop() writes just as much.
class ListingOutput {
public:
    using Writer = std::function<bool(std::string_view)>;
    explicit ListingOutput(Writer writer) : writer_(std::move(writer)) {}
    bool write(std::string_view bytes);  // false: write error
    void reserve(std::size_t want);
    void flush_point();
    bool flush();                        // everything
    bool stop();                         // what the reference wrote; the rest is dropped

    static constexpr std::size_t kReferenceBuffer = 4096;

private:
    std::size_t total() const { return base_ + buffer_.size(); }
    bool write_to(std::size_t end);

    Writer writer_;
    std::string buffer_;
    std::size_t base_ = 0;
    // The reference's buffer: its size, the bytes in it, and how much it
    // has written in all.
    std::size_t ref_len_ = 0;
    std::size_t ref_used_ = 0;
    std::size_t ref_written_ = 0;
    bool failed_ = false;
};

// The reference's JSON string escaping, then printable().
std::string json_quote(std::string_view text, bool utf8);

enum class ReadStatus { ok, malformed, output_error };

// Reads the whole listing from in and renders it. utf8 selects how
// received strings are made printable. message_done, when set, is called
// after each message's end: where the reference flushes its standard
// output (what it had not written yet is lost when it then stops on a
// malformed response).
ReadStatus read_listing(AttrStream& in, Listing& listing, bool utf8,
                        const std::function<void()>& message_done = {});

}  // namespace pf::postqueue
