// postqueue's reading of the showq stream and its two listings, checked
// against text the reference 3.7 printed for the same stream.
#include "cmd/postqueue/postqueue_showq.h"
#include "util/msg.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

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

// The reference's attribute-scanner warnings for a stream that ends early
// or does not parse, observed with its postqueue reading such streams.
std::vector<std::string> warnings_for(const std::string& bytes, ReadStatus expect_status = ReadStatus::malformed) {
    std::vector<std::string> warnings;
    pf::util::msg_set_sink([&warnings](pf::util::MsgLevel, std::string_view t) { warnings.emplace_back(t); });
    std::string text;
    EXPECT_EQ(render(bytes, false, text), expect_status);
    pf::util::msg_set_sink({});
    return warnings;
}

TEST_F(PostqueueShowqTest, EndOfInputWarningsAsTheReference) {
    const std::string u = "unexpected end-of-input from unknown_stream while reading input attribute ";
    const std::string p = "premature end-of-input on unknown_stream while reading input attribute ";
    using V = std::vector<std::string>;
    EXPECT_EQ(warnings_for(""), V{});
    EXPECT_EQ(warnings_for("prot"), V{u + "name"});
    EXPECT_EQ(warnings_for(std::string("protocol\0", 9)), V{p + "value"});
    EXPECT_EQ(warnings_for(std::string("protocol\0mail", 13)), V{u + "value"});
    EXPECT_EQ(warnings_for(kHead.substr(0, 34)), V{p + "name"});
    EXPECT_EQ(warnings_for(kHead), V{});
    std::string msg = one_message("deferred", "ABC", "0", {{"r@x", ""}, {"r2@x", "why"}});
    auto at = [&](const std::string& marker, std::size_t extra) {
        return kHead + msg.substr(0, msg.find(marker) + extra);
    };
    EXPECT_EQ(warnings_for(at("queue_name", 1)), V{u + "name"});
    EXPECT_EQ(warnings_for(at("deferred", 0)), V{p + "value"});
    EXPECT_EQ(warnings_for(at("deferred", 3)), V{u + "value"});
    EXPECT_EQ(warnings_for(at("queue_id", 0)), V{p + "name"});
    // After the sender and after a reason the scan is complete.
    EXPECT_EQ(warnings_for(at("recipient", 0)), V{});
    EXPECT_EQ(warnings_for(at("reason", 0)), V{p + "name"});
    EXPECT_EQ(warnings_for(at("r2@x", 0)), V{p + "value"});
    EXPECT_EQ(warnings_for(kHead + msg), V{});
}

TEST_F(PostqueueShowqTest, MalformedStreamWarningsAsTheReference) {
    using V = std::vector<std::string>;
    auto head = [](const std::string& time, const std::string& expire) {
        return attrs({{"queue_name", "deferred"}, {"queue_id", "ABC"}, {"time", time}, {"size", "2"},
                      {"forced_expire", expire}, {"sender", "s@x"}});
    };
    std::string end2(2, '\0');
    EXPECT_EQ(warnings_for(kHead + attrs({{"queue_name", "deferred"}}) + end2),
              V{"missing attribute queue_id in input from unknown_stream"});
    EXPECT_EQ(warnings_for(kHead + attrs({{"queue_name", "deferred"}, {"queue_idX", "A"}}) + end2),
              V{"unexpected attribute queue_idX from unknown_stream (expecting: queue_id)"});
    EXPECT_EQ(warnings_for(attrs({{"protocol", "other"}}) + std::string(1, '\0') + head("1", "0") + end2),
              V{"unexpected protocol other from unknown_stream (expected: mail_queue_list_protocol)"});
    // Another attribute in place of the protocol's terminator is only
    // warned about; the reading goes on (and here fails on its value).
    EXPECT_EQ(warnings_for(attrs({{"protocol", "mail_queue_list_protocol"}, {"foo", "bar"}}) +
                           std::string(1, '\0') + head("1", "0") + end2),
              (V{"unexpected attribute foo from unknown_stream (expecting: (list terminator))",
                 "unexpected attribute bar from unknown_stream (expecting: queue_name)"}));
    EXPECT_EQ(warnings_for(kHead + head("12x", "0") + end2),
              V{"malformed numerical data from unknown_stream while reading input attribute value: 12x"});
    EXPECT_EQ(warnings_for(kHead + head("1", "0") + attrs({{"recipient", "r"}}) + std::string(3, '\0')),
              V{"missing attribute reason in input from unknown_stream"});
    EXPECT_EQ(warnings_for(kHead + head("1", "0") + attrs({{"reason", "r"}}) + end2),
              V{"unexpected attribute reason from unknown_stream (expecting: recipient)"});
    EXPECT_EQ(warnings_for(kHead + head(" +5", "4294967296") + end2, ReadStatus::ok), V{});
}

TEST_F(PostqueueShowqTest, NumbersAsTheReferenceScansThem) {
    EXPECT_EQ(scan_number("12"), 12UL);
    EXPECT_EQ(scan_number(" \t+7"), 7UL);
    EXPECT_EQ(scan_number("-1"), ~0UL);
    EXPECT_EQ(scan_number("18446744073709551616"), ~0UL);
    EXPECT_EQ(scan_number("-99999999999999999999"), ~0UL);
    EXPECT_FALSE(scan_number(""));
    EXPECT_FALSE(scan_number(" "));
    EXPECT_FALSE(scan_number("-"));
    EXPECT_FALSE(scan_number("5 "));
    EXPECT_FALSE(scan_number("0x10"));
    std::string text;
    std::string bytes = kHead +
                        attrs({{"queue_name", "deferred"}, {"queue_id", "ABC"}, {"time", "-1"},
                               {"size", "99999999999999999999"}, {"forced_expire", "4294967297"}, {"sender", "s@x"}}) +
                        std::string(2, '\0');
    ASSERT_EQ(render(bytes, true, text), ReadStatus::ok);
    EXPECT_EQ(text,
              "{\"queue_name\": \"deferred\", \"queue_id\": \"ABC\", \"arrival_time\": -1, \"message_size\": -1, "
              "\"forced_expire\": true, \"sender\": \"s@x\", \"recipients\": []}\n");
}

// The reference's standard output: a 4096-byte buffer written when full
// (lazily) and at each message's end; stop() prints just that much.
TEST_F(PostqueueShowqTest, ListingOutputStopsWhereTheReferenceStops) {
    for (std::size_t n : {0u, 1u, 4096u, 4097u, 8193u, 200000u}) {
        std::string written;
        ListingOutput out([&written](std::string_view b) {
            written.append(b);
            return true;
        });
        EXPECT_TRUE(out.write("0123456789"));
        out.flush_point();
        for (std::size_t i = 0; i < n; i += 100) EXPECT_TRUE(out.write(std::string(std::min<std::size_t>(100, n - i), 'x')));
        EXPECT_TRUE(out.stop());
        EXPECT_EQ(written.size(), 10 + (n == 0 ? 0 : (n - 1) / 4096 * 4096)) << n;
        EXPECT_FALSE(out.write("more"));
    }
    std::string all;
    ListingOutput out([&all](std::string_view b) {
        all.append(b);
        return true;
    });
    EXPECT_TRUE(out.write(std::string(70000, 'y')));
    EXPECT_TRUE(out.flush());
    EXPECT_EQ(all.size(), 70000u);
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

}  // namespace
