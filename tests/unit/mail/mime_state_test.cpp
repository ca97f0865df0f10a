// Unit tests for the header/body/MIME segmentation (mail/mime_state.h), with
// the reference's answers to postmap -h/-b/-m as observed from 3.7.11.
#include "mail/mime_state.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace pf::mail {
namespace {

// "H:" headers and "B:" body lines, in order.
std::vector<std::string> run(const std::vector<std::string>& lines, bool mime, size_t limit = 102400) {
    std::vector<std::string> out;
    MimeState::Callbacks cb;
    cb.header = [&](HeaderClass, std::string_view h) { out.push_back("H:" + std::string(h)); };
    cb.body = [&](std::string_view b) { out.push_back("B:" + std::string(b)); };
    MimeState m(mime, limit, cb);
    for (const auto& l : lines) m.line(l);
    m.end();
    return out;
}

using Out = std::vector<std::string>;

TEST(MimeStateTest, HeaderNames) {
    EXPECT_EQ(header_name_length("Subject: x"), 7u);
    EXPECT_EQ(header_name_length("X-A : 1"), 3u);
    EXPECT_EQ(header_name_length("X B: 2"), 0u);
    EXPECT_EQ(header_name_length(":x"), 0u);
    EXPECT_EQ(header_name_length("X-\xc3\xa9: 8bit"), 0u);
    EXPECT_EQ(header_name_length("A(B: v"), 3u);
    EXPECT_EQ(header_name_length("nocolon"), 0u);
}

TEST(MimeStateTest, PrimaryHeadersAndBody) {
    EXPECT_EQ(run({"X-A : 1", "Subject: a", " b", "", "body"}, false),
              (Out{"H:X-A: 1", "H:Subject: a\n b", "B:", "B:body"}));
    // A non-header line ends the headers after an empty body line.
    EXPECT_EQ(run({"A: 1", "bad", "body"}, false), (Out{"H:A: 1", "B:", "B:bad", "B:body"}));
    EXPECT_EQ(run({" cont", "A: 1"}, false), (Out{"B:", "B: cont", "B:A: 1"}));
}

TEST(MimeStateTest, LongHeadersStopGrowing) {
    EXPECT_EQ(run({"A: 12345", "\tmore", "\tmore2"}, false, 10), (Out{"H:A: 12345\n\tmore"}));
}

TEST(MimeStateTest, Multipart) {
    std::vector<std::string> msg = {"Content-Type: multipart/mixed; boundary=\"XX\"", "", "pre", "--XX",
                                    "P: 1", "notheader", "--XXjunk", "", "b", "--XX--tail", "epi", "--XX", "C: 3"};
    EXPECT_EQ(run(msg, true), (Out{"H:Content-Type: multipart/mixed; boundary=\"XX\"", "B:", "B:pre", "B:--XX", "H:P: 1",
                                   "B:notheader", "B:--XXjunk", "B:", "B:b", "B:--XX--tail", "B:epi", "B:--XX", "B:C: 3"}));
    // Without MIME processing the parts are body.
    EXPECT_EQ(run(msg, false).size(), 13u);
}

TEST(MimeStateTest, NestedMessagesAndDigests) {
    EXPECT_EQ(run({"Content-Type: message/rfc822", "", "N: 1", "", "nb"}, true),
              (Out{"H:Content-Type: message/rfc822", "B:", "H:N: 1", "B:", "B:nb"}));
    EXPECT_EQ(run({"Content-Type: multipart/digest; boundary=D", "", "--D", "", "I: 1", "", "x", "--D--"}, true),
              (Out{"H:Content-Type: multipart/digest; boundary=D", "B:", "B:--D", "B:", "H:I: 1", "B:", "B:x", "B:--D--"}));
    EXPECT_EQ(run({"Content-Type: message/partial; id=1", "", "N: 1"}, true),
              (Out{"H:Content-Type: message/partial; id=1", "B:", "B:N: 1"}));
}

TEST(MimeStateTest, EveryBoundaryParameterCounts) {
    auto out = run({"Content-Type: multipart/mixed; boundary=A", "Content-Type: multipart/mixed; (c) BOUNDARY=\"B\"", "",
                    "--A", "P: 1", "", "--B", "Q: 1"},
                   true);
    EXPECT_EQ(out, (Out{"H:Content-Type: multipart/mixed; boundary=A", "H:Content-Type: multipart/mixed; (c) BOUNDARY=\"B\"",
                        "B:", "B:--A", "H:P: 1", "B:", "B:--B", "B:Q: 1"}));
}

}  // namespace
}  // namespace pf::mail
