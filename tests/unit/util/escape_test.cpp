// Unit tests for util/escape.h: log-line escaping of outside bytes as the
// reference's escape() shows them (smtpd's pipelining and non-SMTP command
// lines, postscreen, the haproxy parser).
#include "util/escape.h"

#include <gtest/gtest.h>

#include <string>

namespace pf::util {
namespace {

TEST(EscapeBytes, PrintableAsciiAsIsBackslashDoubled) {
    EXPECT_EQ(escape_bytes("MAIL FROM:<a@b>"), "MAIL FROM:<a@b>");
    EXPECT_EQ(escape_bytes("a\\b"), "a\\\\b");
    EXPECT_EQ(escape_bytes(""), "");
}

TEST(EscapeBytes, ControlCharactersWithCEscapes) {
    EXPECT_EQ(escape_bytes("QUIT\r\n"), "QUIT\\r\\n");
    EXPECT_EQ(escape_bytes("\a\b\f\t\v"), "\\a\\b\\f\\t\\v");
}

TEST(EscapeBytes, OtherBytesInOctal) {
    EXPECT_EQ(escape_bytes(std::string("\0\x01\x1b\x7f", 4)), "\\000\\001\\033\\177");
    EXPECT_EQ(escape_bytes("caf\xc3\xa9"), "caf\\303\\251");
    EXPECT_EQ(escape_bytes("\xff"), "\\377");
}

}  // namespace
}  // namespace pf::util
