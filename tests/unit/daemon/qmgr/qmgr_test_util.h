// Helpers for the queue manager's unit tests: a temporary directory, a
// capture of diagnostics, and a builder of queue files in the reference's
// record layout.
#pragma once

#include "queue/record.h"
#include "util/msg.h"

#include <fmt/core.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace pf::qmgr::test {

namespace fs = std::filesystem;

struct TempDir {
    fs::path path;
    TempDir() {
        std::string templ = (fs::temp_directory_path() / "qmgr-test-XXXXXX").string();
        path = ::mkdtemp(templ.data());
    }
    ~TempDir() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
};

// Collects "warning: text" / "text" lines while alive.
struct LogCapture {
    std::vector<std::string> lines;
    LogCapture() {
        util::msg_set_stderr(false);
        util::msg_set_sink([this](util::MsgLevel level, std::string_view text) {
            lines.push_back(level == util::MsgLevel::warning ? "warning: " + std::string(text) : std::string(text));
        });
    }
    ~LogCapture() {
        util::msg_set_sink({});
        util::msg_set_stderr(true);
    }
    bool has(std::string_view needle) const {
        for (const auto& l : lines)
            if (l.find(needle) != std::string::npos) return true;
        return false;
    }
    std::string all() const {
        std::string out;
        for (const auto& l : lines) out += l + "\n";
        return out;
    }
};

struct Rcpt {
    std::string address;
    std::string orig;
    char type = queue::rec::kRcpt;
    Rcpt(std::string a, std::string o = {}, char t = queue::rec::kRcpt)
        : address(std::move(a)), orig(std::move(o)), type(t) {}
};

// A queue file as cleanup writes it: C T c? F? S A* [O] R..., M, content, X, E.
struct QueueFileSpec {
    std::string sender = "sender@example.com";
    std::vector<Rcpt> rcpts;
    long arrival = 0;  // 0: now
    std::vector<std::string> attrs;
    std::string filter;     // L record in the envelope
    long warn_time = 0;     // W record when non-zero
    std::vector<std::string> body = {"Subject: test", "", "hello"};
    bool omit_end = false;
    bool omit_sender = false;
};

inline std::string build_queue_file(const QueueFileSpec& spec) {
    using namespace queue;
    std::string env, content;
    long arrival = spec.arrival ? spec.arrival : static_cast<long>(std::time(nullptr));
    append_record(env, rec::kTime, fmt::format("{} 0", arrival));
    append_record(env, rec::kCreateTime, fmt::format("{}", arrival));
    if (!spec.filter.empty()) append_record(env, rec::kFilter, spec.filter);
    if (spec.warn_time) append_record(env, rec::kWarn, fmt::format("{:15}", spec.warn_time));
    if (!spec.omit_sender) append_record(env, rec::kFrom, spec.sender);
    for (const auto& a : spec.attrs) append_record(env, rec::kAttr, a);
    for (const auto& r : spec.rcpts) {
        if (!r.orig.empty()) append_record(env, rec::kOrigRcpt, r.orig);
        append_record(env, r.type, r.address);
    }
    append_record(env, rec::kMessage, "");
    for (const auto& line : spec.body) append_record(content, rec::kNorm, line);
    std::string tail;
    append_record(tail, rec::kExtracted, "");
    if (!spec.omit_end) append_record(tail, rec::kEnd, "");
    // The size record has a fixed width, so its length is known up front.
    std::string size_probe = encode_record(rec::kSize, fmt::format("{:15} {:15} {:15} {:15} {:15} {:15}", 0, 0, 0, 0, 0, 0));
    long data_offset = static_cast<long>(size_probe.size() + env.size());
    long data_size = static_cast<long>(content.size());
    int nrcpt = static_cast<int>(spec.rcpts.size());
    std::string size = encode_record(
        rec::kSize, fmt::format("{:15} {:15} {:15} {:15} {:15} {:15}", data_size, data_offset, nrcpt, 0, data_size, 0));
    return size + env + content + tail;
}

inline void write_file(const fs::path& path, const std::string& data, fs::perms mode = fs::perms::owner_all) {
    fs::create_directories(path.parent_path());
    std::ofstream(path, std::ios::binary) << data;
    fs::permissions(path, mode);
}

}  // namespace pf::qmgr::test
