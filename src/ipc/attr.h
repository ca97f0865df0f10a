// The internal request protocol between our programs and daemons: a message
// is a list of named attributes. On the wire each attribute is one line
// "name=value\n" with '\\', '\n' and NUL in the value written as "\\\\",
// "\\n" and "\\0"; an empty line ends the message. Names are [a-z0-9_].
//
// Trust: the peer is another of our processes, but a malformed message
// (bad name, bad escape, over the size limits) is an error value and the
// receiver drops the connection (OpenSMTPD's rule).
#pragma once

#include <cstddef>
#include <expected>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace pf::ipc {

inline constexpr std::size_t kMaxAttrValue = 1 << 20;  // one value
inline constexpr std::size_t kMaxAttrCount = 10000;    // attributes per message

class AttrList {
public:
    AttrList() = default;
    AttrList(std::initializer_list<std::pair<std::string, std::string>> init) : items_(init) {}

    AttrList& add(std::string name, std::string value);
    AttrList& add(std::string name, long long value);

    // The first value of name; nullopt when absent.
    std::optional<std::string_view> get(std::string_view name) const;
    std::string get_or(std::string_view name, std::string_view fallback) const;
    // A decimal value; nullopt when absent or not a number.
    std::optional<long long> get_number(std::string_view name) const;
    // Every value of a repeated name, in order.
    std::vector<std::string_view> get_all(std::string_view name) const;

    const std::vector<std::pair<std::string, std::string>>& items() const { return items_; }
    bool empty() const { return items_.empty(); }

private:
    std::vector<std::pair<std::string, std::string>> items_;
};

enum class AttrError { eof, truncated, malformed, too_large, io, timeout };

std::string_view attr_error_text(AttrError error);

std::string encode_attrs(const AttrList& attrs);
// Decodes one message from the front of buf; truncated means "need more".
std::expected<AttrList, AttrError> decode_attrs(std::string_view buf, std::size_t& consumed);

// Blocking send/receive on a stream socket with a timeout in seconds
// (0: none). Receive keeps unread bytes in the caller's buffer.
std::expected<void, AttrError> send_attrs(int fd, const AttrList& attrs, int timeout);
std::expected<AttrList, AttrError> receive_attrs(int fd, std::string& buffer, int timeout);

}  // namespace pf::ipc
