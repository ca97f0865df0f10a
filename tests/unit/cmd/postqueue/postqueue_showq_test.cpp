// postqueue's reading of the showq stream and its two listings, checked
// against text the reference 3.7 printed for the same stream.
#include "cmd/postqueue/postqueue_acl.h"
#include "cmd/postqueue/postqueue_showq.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <string>

namespace {

using namespace pf::postqueue;

std::string attrs(std::initializer_list<std::pair<std::string, std::string>> list) {
    std::string out;
    for (const auto& [n, v] : list) out += n + '\0' + v + '\0';
    return out;
}

const std::string kHead = std::string("protocol\0mail_queue_list_protocol\0\0", 35);

std::string one_message(const std::string& queue, const std::string& id, const std::string& expire,
                        std::initializer_list<std::pair<std::string, std::string>> rcpts) {
    std::string out = attrs({{"queue_name", queue}, {"queue_id", id}, {"time", "1795847215"}, {"size", "269"},
                             {"forced_expire", expire}, {"sender", "alice@example.com"}});
    for (const auto& [a, r] : rcpts) out += attrs({{"recipient", a}, {"reason", r}});
    return out + std::string(1, '\0');
}

// Runs a listing over bytes delivered in small pieces.
ReadStatus render(const std::string& bytes, bool json, std::string& text, bool long_ids = false) {
    std::size_t pos = 0;
    AttrStream in([&](char* buf, std::size_t size) -> long {
        std::size_t n = std::min<std::size_t>({size, 7, bytes.size() - pos});
        std::memcpy(buf, bytes.data() + pos, n);
        pos += n;
        return static_cast<long>(n);
    });
    auto out = [&text](std::string_view s) {
        text.append(s);
        return true;
    };
    if (json) {
        JsonListing listing(out, true);
        return read_listing(in, listing, true);
    }
    MailqListing listing(out, long_ids);
    return read_listing(in, listing, true);
}

class PostqueueShowqTest : public ::testing::Test {
protected:
    void SetUp() override {
        ::setenv("TZ", "UTC", 1);
        ::tzset();
    }
};

TEST_F(PostqueueShowqTest, MailqFormatAsTheReference) {
    std::string bytes = kHead +
                        one_message("deferred", "597ECA921F3", "0",
                                    {{"carol@example.net", "deferred transport"}, {"bob@example.org", "deferred transport"}}) +
                        one_message("hold", "5D0BCA921F0", "1", {{"x@y", ""}, {"z@y", "later"}, {"w@y", ""}}) +
                        std::string(1, '\0');
    std::string text;
    ASSERT_EQ(render(bytes, false, text), ReadStatus::ok);
    std::string pad41(41, ' ');
    std::string expected =
        "-Queue ID-  --Size-- ----Arrival Time---- -Sender/Recipient-------\n"
        "597ECA921F3     269 Sat Nov 28 06:26:55  alice@example.com\n" +
        std::string(76 - 18, ' ') + "(deferred transport)\n" + pad41 + "carol@example.net\n" + pad41 +
        "bob@example.org\n\n"
        "5D0BCA921F0!#     269 Sat Nov 28 06:26:55  alice@example.com\n" +
        pad41 + "x@y\n" + std::string(71, ' ') + "(later)\n" + pad41 + "z@y\n" + std::string(76 - 18, ' ') +
        "(reason unavailable)\n" + pad41 + "w@y\n" + "\n-- 0 Kbytes in 2 Requests.\n";
    EXPECT_EQ(text, expected);
}

TEST_F(PostqueueShowqTest, EmptyQueue) {
    std::string text;
    ASSERT_EQ(render(kHead + std::string(1, '\0'), false, text), ReadStatus::ok);
    EXPECT_EQ(text, "Mail queue is empty\n");
    text.clear();
    ASSERT_EQ(render(kHead + std::string(1, '\0'), true, text), ReadStatus::ok);
    EXPECT_EQ(text, "");
}

TEST_F(PostqueueShowqTest, LongIdColumns) {
    std::string text;
    ASSERT_EQ(render(kHead + one_message("active", "4Ss9Xb1Yz9zAbC", "0", {{"r@x", ""}}) + std::string(1, '\0'),
                     false, text, true),
              ReadStatus::ok);
    EXPECT_EQ(text,
              "----Queue ID----- --Size-- ---Arrival Time---- --Sender/Recipient------\n"
              "4Ss9Xb1Yz9zAbC*        269 Sat Nov 28 06:26:55 alice@example.com\n" +
                  std::string(47, ' ') + "r@x\n\n-- 0 Kbytes in 1 Request.\n");
}

// Received strings are made printable before they are quoted, so control
// characters show as '?' (the reference scans with ATTR_FLAG_PRINTABLE).
TEST_F(PostqueueShowqTest, JsonAsTheReference) {
    std::string text;
    ASSERT_EQ(render(kHead + one_message("deferred", "597ECA921F3", "0", {{"carol@example.net", "deferred transport"},
                                                                         {"q\"\\\t\x01@x", ""}}) +
                         std::string(1, '\0'),
                     true, text),
              ReadStatus::ok);
    EXPECT_EQ(text,
              "{\"queue_name\": \"deferred\", \"queue_id\": \"597ECA921F3\", \"arrival_time\": 1795847215, "
              "\"message_size\": 269, \"forced_expire\": false, \"sender\": \"alice@example.com\", \"recipients\": "
              "[{\"address\": \"carol@example.net\", \"delay_reason\": \"deferred transport\"}, "
              "{\"address\": \"q\\\"\\\\??@x\"}]}\n");
}

TEST_F(PostqueueShowqTest, JsonQuoting) {
    EXPECT_EQ(json_quote("a\"b\\c\n\r\t\b\f\x7f", false), "a\\\"b\\\\c\\n\\r\\t\\b\\f\\u007F");
    EXPECT_EQ(json_quote("j\xc3\xb6rg", true), "j\xc3\xb6rg");
    EXPECT_EQ(json_quote("j\xc3\xb6rg", false), "j??rg");
}

TEST_F(PostqueueShowqTest, MalformedStreams) {
    std::string text;
    EXPECT_EQ(render("", false, text), ReadStatus::malformed);
    EXPECT_EQ(render(attrs({{"protocol", "other"}}) + std::string(1, '\0'), false, text), ReadStatus::malformed);
    // Missing final terminator.
    EXPECT_EQ(render(kHead + one_message("hold", "A1", "0", {}), false, text), ReadStatus::malformed);
    // Fields out of order.
    EXPECT_EQ(render(kHead + attrs({{"queue_id", "A"}, {"queue_name", "hold"}}) + std::string(2, '\0'), false, text),
              ReadStatus::malformed);
    // A number that is not one.
    EXPECT_EQ(render(kHead +
                         attrs({{"queue_name", "hold"}, {"queue_id", "A"}, {"time", "12x"}, {"size", "1"},
                                {"forced_expire", "0"}, {"sender", "s"}}) +
                         std::string(2, '\0'),
                     false, text),
              ReadStatus::malformed);
    // A recipient without its reason.
    EXPECT_EQ(render(kHead +
                         attrs({{"queue_name", "hold"}, {"queue_id", "A"}, {"time", "1"}, {"size", "1"},
                                {"forced_expire", "0"}, {"sender", "s"}, {"recipient", "r"}}) +
                         std::string(2, '\0'),
                     false, text),
              ReadStatus::malformed);
}

TEST_F(PostqueueShowqTest, OutputErrorStopsReading) {
    std::string bytes = kHead + one_message("hold", "A1", "0", {{"r@x", ""}}) + std::string(1, '\0');
    std::size_t pos = 0;
    AttrStream in([&](char* buf, std::size_t size) -> long {
        std::size_t n = std::min(size, bytes.size() - pos);
        std::memcpy(buf, bytes.data() + pos, n);
        pos += n;
        return static_cast<long>(n);
    });
    MailqListing listing([](std::string_view) { return false; }, false);
    EXPECT_EQ(read_listing(in, listing, true), ReadStatus::output_error);
}

TEST(PostqueueAclTest, ListsDecideByFirstMatch) {
    EXPECT_EQ(check_user_acl("static:anyone", 12345), std::nullopt);
    EXPECT_EQ(check_user_acl_name("root, alice", "Alice"), std::nullopt);
    EXPECT_EQ(check_user_acl_name("root, alice", "bob"), std::optional<std::string>("bob"));
    EXPECT_EQ(check_user_acl_name("!bob, static:anyone", "bob"), std::optional<std::string>("bob"));
    EXPECT_EQ(check_user_acl_name("!bob, static:anyone", "carol"), std::nullopt);
    EXPECT_EQ(check_user_acl_name("", "carol"), std::optional<std::string>("carol"));
}

}  // namespace
