// Unit tests for util/base64.h and util/utf8.h: the reference's base64
// decoding (length a multiple of 4, stop at the first padded group), strict
// UTF-8 validity, and its looser printable() rule for diagnostics.
#include "util/base64.h"
#include "util/utf8.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace pf::util {
namespace {

TEST(Base64Test, RoundTrip) {
    for (const std::string& s : std::vector<std::string>{"", "a", "ab", "abc", "hello\n", std::string("a\0b\n", 4)}) {
        auto d = base64_decode(base64_encode(s));
        ASSERT_TRUE(d);
        EXPECT_EQ(*d, s);
    }
    EXPECT_EQ(base64_encode("hello\n"), "aGVsbG8K");
}

TEST(Base64Test, DecodesAsTheReference) {
    EXPECT_EQ(base64_decode("aGVsbG8="), "hello");
    EXPECT_FALSE(base64_decode("aGVsbG8"));
    EXPECT_FALSE(base64_decode("aGVsbA="));
    EXPECT_FALSE(base64_decode("aGVsbG8=="));
    EXPECT_EQ(base64_decode("aGV=bG8="), "he");
    EXPECT_EQ(base64_decode("YQ==YQ=="), "a");
    EXPECT_FALSE(base64_decode("===="));
    EXPECT_FALSE(base64_decode("_-_-"));
    EXPECT_EQ(base64_decode("+/+/"), "\xfb\xff\xbf");
}

TEST(Utf8Test, StrictValidity) {
    EXPECT_TRUE(valid_utf8("caf\xc3\xa9"));
    EXPECT_TRUE(valid_utf8("\xf4\x8f\xbf\xbf"));
    EXPECT_FALSE(valid_utf8("\xf4\x90\x80\x80"));
    EXPECT_FALSE(valid_utf8("\xed\xa0\x80"));
    EXPECT_FALSE(valid_utf8("\xc0\xaf"));
    EXPECT_FALSE(valid_utf8("\xe0\x80\x80"));
    EXPECT_FALSE(valid_utf8("\xc3"));
    EXPECT_FALSE(valid_utf8("\xff"));
}

TEST(Utf8Test, PrintableKeepsUtf8ShapedBytes) {
    EXPECT_EQ(printable("a\tb\x01", false), "a?b?");
    EXPECT_EQ(printable("caf\xc3\xa9", false), "caf??");
    EXPECT_EQ(printable("caf\xc3\xa9", true), "caf\xc3\xa9");
    EXPECT_EQ(printable("\xed\xa0\x80", true), "\xed\xa0\x80");
    EXPECT_EQ(printable("\xf8\x80\x80\x80\x80", true), "\xf8\x80\x80\x80\x80");
    EXPECT_EQ(printable("\xe0\x80 x", true), "\xe0\x80 x");
    EXPECT_EQ(printable("\xc1\xbf", true), "??");
    EXPECT_EQ(printable("\xfe", true), "?");
    EXPECT_EQ(printable("\xff\x80", true), "??");
}

}  // namespace
}  // namespace pf::util
