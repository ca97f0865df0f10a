// The conversation between sendmail(1) and postdrop(1), byte-compatible
// with the reference's so either side may be the reference's program:
//  - postdrop writes {protocol=postdrop_protocol, queue_id=<id>} once the
//    maildrop file exists;
//  - sendmail writes the record stream (record.h framing), E last;
//  - postdrop writes {status=<bits>, reason=<text>} and exits with the
//    status as its exit code.
// An attribute list is the reference's "attr_print0" form: name NUL value
// NUL per attribute, a NUL after the last. Status bits are the reference's
// cleanup status values (they show as postdrop's exit code).
//
// Trust: each side reads the other's output with bounded lengths; a
// malformed list is an error value.
#pragma once

#include <cstdio>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace pf::ipc::postdrop {

inline constexpr unsigned kStatBad = 1u << 0;
inline constexpr unsigned kStatWrite = 1u << 1;
inline constexpr unsigned kStatSize = 1u << 2;
inline constexpr unsigned kStatNoPerm = 1u << 9;

inline constexpr std::string_view kProtocolName = "postdrop_protocol";

using Attrs = std::vector<std::pair<std::string, std::string>>;

inline std::string encode_attrs0(const Attrs& attrs) {
    std::string out;
    for (const auto& [name, value] : attrs) {
        out += name;
        out += '\0';
        out += value;
        out += '\0';
    }
    out += '\0';
    return out;
}

// Reads one list from in; nullopt at end of input or on a malformed list.
inline std::optional<Attrs> read_attrs0(std::FILE* in, std::size_t limit = 100000) {
    Attrs out;
    for (;;) {
        std::string name;
        int c;
        while ((c = std::getc(in)) != EOF && c != 0) {
            if (name.size() >= limit) return std::nullopt;
            name.push_back(static_cast<char>(c));
        }
        if (c == EOF) return std::nullopt;
        if (name.empty()) return out;
        std::string value;
        while ((c = std::getc(in)) != EOF && c != 0) {
            if (value.size() >= limit) return std::nullopt;
            value.push_back(static_cast<char>(c));
        }
        if (c == EOF) return std::nullopt;
        out.emplace_back(std::move(name), std::move(value));
    }
}

inline std::optional<std::string_view> find_attr(const Attrs& attrs, std::string_view name) {
    for (const auto& [n, v] : attrs)
        if (n == name) return std::string_view(v);
    return std::nullopt;
}

// The reference's cleanup status text for the most severe bit.
inline std::string_view status_text(unsigned status) {
    if (status == 0) return "Success";
    static constexpr std::pair<unsigned, std::string_view> table[] = {
        {1u << 8, "service unavailable"}, {1u << 7, "queue file write error"},
        {kStatBad, "internal protocol error"}, {1u << 6, "no recipients specified"},
        {1u << 4, "too many hops"}, {kStatSize, "message file too big"},
        {1u << 3, "message content rejected"}, {kStatWrite, "queue file write error"},
        {kStatNoPerm, "service denied"}, {1u << 16, "bare <LF> received"},
    };
    for (const auto& [bit, text] : table)
        if (status & bit) return text;
    return "internal protocol error";
}

}  // namespace pf::ipc::postdrop
