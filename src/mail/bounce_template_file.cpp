// Bounce template file reader; see bounce_template_file.h.
//
// One oddity of the reference is reproduced on purpose: its "missing "X" end
// marker" warning does not always show the marker. The reference keeps the
// marker as a pointer into its line buffer, which later lines overwrite; the
// buffer starts at 100 bytes and doubles when a line does not fit, after
// which the pointer is left on the old buffer. LineBuffer models exactly
// that, so the warning names what the reference names.
#include "mail/bounce_template_file.h"

#include "util/strings.h"

#include <fmt/format.h>

#include <cctype>
#include <optional>

namespace pf::mail {
namespace {

// The text of a line as the reference's C strings see it.
std::string_view c_string(std::string_view bytes) { return bytes.substr(0, bytes.find('\0')); }

bool is_space(unsigned char c) { return std::isspace(c) != 0; }

// The reference's line buffer and the marker pointer into it.
class LineBuffer {
public:
    void store(std::string_view raw) {
        if (raw.size() > capacity_) {
            // The buffer moves; a marker pointer keeps the old contents,
            // which by then are the first capacity_ bytes of this line.
            if (tracking_ && !frozen_) frozen_ = std::string(text_at(raw.substr(0, capacity_), offset_));
            while (raw.size() > capacity_) capacity_ *= 2;
            bytes_.resize(capacity_ + 1, '\0');
        }
        bytes_.replace(0, raw.size(), raw);
        bytes_[raw.size()] = '\0';
    }

    // The marker starts at offset of the line just stored and is length
    // bytes long (the reference ends it with a NUL in place).
    void track(size_t offset, size_t length) {
        tracking_ = true;
        frozen_.reset();
        offset_ = offset;
        bytes_[offset + length] = '\0';
    }

    std::string marker() const {
        if (frozen_) return *frozen_;
        return std::string(text_at(std::string_view(bytes_).substr(0, capacity_), offset_));
    }

private:
    static std::string_view text_at(std::string_view bytes, size_t offset) {
        if (offset >= bytes.size()) return {};
        return c_string(bytes.substr(offset));
    }

    size_t capacity_ = 100;
    std::string bytes_ = std::string(101, '\0');
    bool tracking_ = false;
    size_t offset_ = 0;
    std::optional<std::string> frozen_;
};

class Reader {
public:
    explicit Reader(std::string_view content) : content_(content) {}

    bool at_end() const { return pos_ >= content_.size(); }

    // The next raw line (without its newline); sets terminated.
    std::string_view next(bool& terminated) {
        size_t nl = content_.find('\n', pos_);
        terminated = nl != std::string_view::npos;
        size_t end = terminated ? nl : content_.size();
        std::string_view raw = content_.substr(pos_, end - pos_);
        pos_ = terminated ? nl + 1 : content_.size();
        ++lines_read_;
        buffer_.store(raw);
        return raw;
    }

    // What the reference calls the current line in its diagnostics.
    int line_number() const { return lines_read_ + 1; }
    LineBuffer& buffer() { return buffer_; }

private:
    std::string_view content_;
    size_t pos_ = 0;
    int lines_read_ = 0;
    LineBuffer buffer_;
};

}  // namespace

std::expected<void, TemplateError> read_template_file(std::string_view origin, std::string_view content,
                                                      const std::function<void(TemplateFileEntry&&)>& on_entry,
                                                      const WarningSink& warn) {
    Reader reader(content);
    while (!reader.at_end()) {
        bool terminated = false;
        std::string_view line = c_string(reader.next(terminated));

        // Blank lines and comments.
        size_t start = 0;
        while (start < line.size() && is_space(static_cast<unsigned char>(line[start]))) ++start;
        if (start == line.size() || line[start] == '#') continue;

        // name = value
        size_t name_end = start;
        while (name_end < line.size() && line[name_end] != '=' && !is_space(static_cast<unsigned char>(line[name_end])))
            ++name_end;
        if (name_end == start)
            return std::unexpected(TemplateError{
                fmt::format("{}, line {}: missing attribute name: \"{}\"", origin, reader.line_number(), line)});
        size_t eq = name_end;
        while (eq < line.size() && is_space(static_cast<unsigned char>(line[eq]))) ++eq;
        if (eq >= line.size() || line[eq] != '=')
            return std::unexpected(TemplateError{
                fmt::format("{}, line {}: missing '=' after attribute name: \"{}\"", origin, reader.line_number(), line)});
        size_t value_start = eq + 1;
        while (value_start < line.size() && is_space(static_cast<unsigned char>(line[value_start]))) ++value_start;
        size_t value_end = line.size();
        while (value_end > value_start && is_space(static_cast<unsigned char>(line[value_end - 1]))) --value_end;
        std::string_view value = line.substr(value_start, value_end - value_start);

        TemplateFileEntry entry;
        entry.name = std::string(line.substr(start, name_end - start));
        if (!value.starts_with("<<")) {
            entry.lines.emplace_back(value);
        } else {
            size_t marker_start = value_start + 2;
            while (marker_start < value_end && is_space(static_cast<unsigned char>(line[marker_start]))) ++marker_start;
            std::string marker(line.substr(marker_start, value_end - marker_start));
            if (marker.empty())
                return std::unexpected(
                    TemplateError{fmt::format("{}, line {}: missing end marker after <<", origin, reader.line_number())});
            reader.buffer().track(marker_start, marker.size());
            // Lines up to the marker. Reaching the end of the file, even on
            // an unterminated marker line, earns the warning.
            bool hit_end = !terminated;
            while (!hit_end) {
                if (reader.at_end()) {
                    hit_end = true;
                    break;
                }
                std::string_view text = c_string(reader.next(terminated));
                if (!terminated) hit_end = true;
                if (text == marker) break;
                entry.lines.emplace_back(text);
            }
            if (hit_end)
                emit_warning(warn, fmt::format("{}, line {}: missing \"{}\" end marker", origin, reader.line_number(),
                                               reader.buffer().marker()));
        }
        entry.line_number = reader.line_number();
        on_entry(std::move(entry));
    }
    return {};
}

}  // namespace pf::mail
