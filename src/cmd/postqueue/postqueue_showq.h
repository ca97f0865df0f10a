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

class AttrStream {
public:
    explicit AttrStream(ReadFn read) : read_(std::move(read)) {}
    // 1: an attribute follows; 0: a group terminator was consumed; -1:
    // end of input or error.
    int more();
    // Reads "name\0value\0"; nullopt at end of input or when too long.
    std::optional<std::pair<std::string, std::string>> attribute();

private:
    int peek();
    std::optional<std::string> cstring();

    ReadFn read_;
    std::string buffer_;
    std::size_t pos_ = 0;
    bool eof_ = false;
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

// Renders messages as they arrive; output goes to out (false: write
// error, errno set).
class Listing {
public:
    using Output = std::function<bool(std::string_view)>;
    virtual ~Listing() = default;
    virtual bool message(const ListedMessage& msg) = 0;
    virtual bool finish() = 0;
};

class MailqListing : public Listing {
public:
    MailqListing(Output out, bool long_ids) : out_(std::move(out)), long_ids_(long_ids) {}
    bool message(const ListedMessage& msg) override;
    bool finish() override;

private:
    Output out_;
    bool long_ids_;
    unsigned long count_ = 0;
    unsigned long total_size_ = 0;
};

class JsonListing : public Listing {
public:
    JsonListing(Output out, bool utf8) : out_(std::move(out)), utf8_(utf8) {}
    bool message(const ListedMessage& msg) override;
    bool finish() override { return true; }

private:
    Output out_;
    bool utf8_;
};

// The reference's JSON string escaping, then printable().
std::string json_quote(std::string_view text, bool utf8);

enum class ReadStatus { ok, malformed, output_error };

// Reads the whole listing from in and renders it. utf8 selects how
// received strings are made printable.
ReadStatus read_listing(AttrStream& in, Listing& listing, bool utf8);

}  // namespace pf::postqueue
