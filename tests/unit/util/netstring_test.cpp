// Netstrings (util/netstring.h): well-formed input in one piece and byte
// by byte, and each error class the reference's netstring reader has
// (format, size, eof) at each place it can happen.
#include "util/netstring.h"

#include <gtest/gtest.h>

#include <string>

namespace {

using pf::util::NetstringError;
using pf::util::NetstringReader;

TEST(Netstring, EncodeAndDecode) {
    EXPECT_EQ(pf::util::netstring_encode(""), "0:,");
    EXPECT_EQ(pf::util::netstring_encode("hello"), "5:hello,");
    for (std::size_t chunk : {0u, 1u, 2u}) {
        using namespace std::string_literals;
        NetstringReader r(NetstringReader::string_source("5:hello,3:a\0b,"s, chunk));
        std::string out;
        ASSERT_TRUE(r.get(out, 0));
        EXPECT_EQ(out, "hello");
        ASSERT_TRUE(r.get(out, 3));
        EXPECT_EQ(out, std::string("a\0b", 3));
        EXPECT_EQ(r.consumed(), 14u);
        auto end = r.get(out, 0);
        ASSERT_FALSE(end);
        EXPECT_EQ(end.error(), NetstringError::eof);
    }
}

TEST(Netstring, EmptyLengthReadsAsZero) {
    NetstringReader r(NetstringReader::string_source(":,"));
    std::string out = "x";
    ASSERT_TRUE(r.get(out, 0));
    EXPECT_EQ(out, "");
}

TEST(Netstring, FormatErrors) {
    for (const char* bad : {"x:", "5x", "-1:", " 5:hello,", "5:hello;", "5:hello"}) {
        NetstringReader r(NetstringReader::string_source(bad));
        std::string out;
        auto got = r.get(out, 0);
        ASSERT_FALSE(got) << bad;
        EXPECT_EQ(got.error(), std::string_view(bad) == "5:hello" ? NetstringError::eof : NetstringError::format)
            << bad;
    }
}

TEST(Netstring, SizeErrors) {
    {
        NetstringReader r(NetstringReader::string_source("6:hello!,"));
        std::string out;
        auto got = r.get(out, 5);
        ASSERT_FALSE(got);
        EXPECT_EQ(got.error(), NetstringError::size);
        EXPECT_EQ(out, "");   // nothing of the payload kept
    }
    {
        // Past what a signed 64-bit length holds.
        NetstringReader r(NetstringReader::string_source("9223372036854775808:"));
        auto got = r.get_length();
        ASSERT_FALSE(got);
        EXPECT_EQ(got.error(), NetstringError::size);
    }
    {
        NetstringReader r(NetstringReader::string_source("9223372036854775807:"));
        auto got = r.get_length();
        ASSERT_TRUE(got);
        EXPECT_EQ(*got, 9223372036854775807LL);
    }
}

TEST(Netstring, HugeClaimWithLittleDataIsEof) {
    NetstringReader r(NetstringReader::string_source("999999999999:abc"));
    std::string out;
    auto got = r.get(out, 0);
    ASSERT_FALSE(got);
    EXPECT_EQ(got.error(), NetstringError::eof);
    EXPECT_EQ(out, "abc");
}

TEST(Netstring, Terminator) {
    NetstringReader r(NetstringReader::string_source("1:a,,"));
    auto t = r.take_terminator();
    ASSERT_TRUE(t);
    EXPECT_FALSE(*t);
    std::string out;
    ASSERT_TRUE(r.get(out, 0));
    t = r.take_terminator();
    ASSERT_TRUE(t);
    EXPECT_TRUE(*t);
    t = r.take_terminator();
    ASSERT_FALSE(t);
    EXPECT_EQ(t.error(), NetstringError::eof);
}

TEST(Netstring, Strerror) {
    EXPECT_EQ(pf::util::netstring_strerror(NetstringError::format), "input format error");
    EXPECT_EQ(pf::util::netstring_strerror(NetstringError::size), "input exceeds size limit");
}

}  // namespace
