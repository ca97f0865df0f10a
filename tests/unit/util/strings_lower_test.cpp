// Unit tests for util::to_lower / to_lower_into (util/strings.h): the same
// bytes as the C library's tolower() in the C locale, which the programs
// run in, for every byte value.
#include "util/strings.h"

#include <gtest/gtest.h>

#include <cctype>
#include <string>

namespace pf::util {
namespace {

TEST(StringsLowerTest, EveryByteAsTheCLocale) {
    std::string all;
    for (int c = 0; c < 256; ++c) all.push_back(static_cast<char>(c));
    std::string expected;
    for (unsigned char c : all) expected.push_back(static_cast<char>(std::tolower(c)));
    EXPECT_EQ(to_lower(all), expected);
    std::string out = "previous contents, longer than the input";
    to_lower_into("MiXeD", out);
    EXPECT_EQ(out, "mixed");
    to_lower_into("", out);
    EXPECT_EQ(out, "");
}

}  // namespace
}  // namespace pf::util
