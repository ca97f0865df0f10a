// smtp-sink's byte-at-a-time recognisers: where a command line and the
// message data end, and which DATA bytes reach a dump file (the reference
// 3.7.11 sink's tables: bare LF ends nothing, "\r\n.\r\n" ends data, a
// leading dot and every CR are dropped from the capture).
#include "cmd/smtp-sink/sink_scan.h"

#include <gtest/gtest.h>

#include <string>

namespace pf::smtp_sink {
namespace {

// Feeds DATA bytes from the state DATA starts in; returns the kept bytes
// and where the end was seen (npos: not seen).
std::pair<std::string, std::size_t> scan_data(const std::string& in) {
    DataState st = DataState::cr_lf;
    std::string kept;
    for (std::size_t i = 0; i < in.size(); ++i) {
        unsigned char ch = static_cast<unsigned char>(in[i]);
        st = data_step(st, ch);
        if (data_byte_kept(st, ch)) kept.push_back(in[i]);
        if (st == DataState::cr_lf_dot_cr_lf) return {kept, i + 1};
    }
    return {kept, std::string::npos};
}

TEST(SinkScan, EndOfDataAndCapture) {
    struct Case {
        std::string in, kept;
        std::size_t end;
    } cases[] = {
        {"Subject: x\r\n\r\nbody\r\n.\r\n", "Subject: x\n\nbody\n\n", 23},
        {".\r\n", "\n", 3},                           // empty message
        {"..dot\r\n.\r\nQUIT\r\n", ".dot\n\n", 10},   // stuffed dot undone
        {"a\nb\n.\n", "a\nb\n.\n", std::string::npos},  // bare LF ends nothing
        {"x\r\n.\rmore\r\n.\r\n", "x\nmore\n\n", 14},
        {"x\r\r\n.\r\n", "x\n\n", 7},                 // CR CR LF still a line end
        {"x\r\n.x\r\n", "x\nx\n", std::string::npos},
    };
    for (const auto& c : cases) {
        auto [kept, end] = scan_data(c.in);
        EXPECT_EQ(kept, c.kept) << c.in;
        EXPECT_EQ(end, c.end) << c.in;
    }
}

TEST(SinkScan, CommandLineEnd) {
    auto ends_at = [](const std::string& in) {
        DataState st = DataState::any;
        for (std::size_t i = 0; i < in.size(); ++i) {
            st = line_step(st, static_cast<unsigned char>(in[i]));
            if (st == DataState::cr_lf) return i + 1;
        }
        return std::string::npos;
    };
    EXPECT_EQ(ends_at("HELO x\r\n"), 8u);
    EXPECT_EQ(ends_at("HELO x\n"), std::string::npos);
    EXPECT_EQ(ends_at("A\rB\r\n"), 5u);
    EXPECT_EQ(ends_at("\r\r\n"), 3u);
    EXPECT_EQ(ends_at("\n\r\n"), 3u);
}

}  // namespace
}  // namespace pf::smtp_sink
