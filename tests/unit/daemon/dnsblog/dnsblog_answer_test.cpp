// dnsblog's reading of DNS responses: A records with TTLs, the SOA TTL of
// negative answers, and malformed responses (hostile input).
#include "daemon/dnsblog/dnsblog_answer.h"

#include <gtest/gtest.h>

#include <vector>

namespace pf::dnsblog {
namespace {

using Bytes = std::vector<uint8_t>;

void name(Bytes& b, std::initializer_list<const char*> labels) {
    for (const char* l : labels) {
        std::string s(l);
        b.push_back(static_cast<uint8_t>(s.size()));
        b.insert(b.end(), s.begin(), s.end());
    }
    b.push_back(0);
}

void u16(Bytes& b, unsigned v) {
    b.push_back(static_cast<uint8_t>(v >> 8));
    b.push_back(static_cast<uint8_t>(v));
}

void u32(Bytes& b, unsigned long v) {
    u16(b, static_cast<unsigned>(v >> 16));
    u16(b, static_cast<unsigned>(v & 0xFFFF));
}

Bytes header(unsigned rcode, unsigned an, unsigned ns) {
    Bytes b = {0x12, 0x34, 0x81, static_cast<uint8_t>(0x80 | rcode)};
    u16(b, 1);
    u16(b, an);
    u16(b, ns);
    u16(b, 0);
    name(b, {"2", "0", "0", "127", "zen", "example"});
    u16(b, 1);
    u16(b, 1);
    return b;
}

void a_record(Bytes& b, unsigned long ttl, std::initializer_list<uint8_t> addr) {
    b.push_back(0xC0);
    b.push_back(12);  // pointer to the question name
    u16(b, 1);
    u16(b, 1);
    u32(b, ttl);
    u16(b, 4);
    b.insert(b.end(), addr);
}

TEST(DnsblogAnswer, Listed) {
    Bytes b = header(0, 2, 0);
    a_record(b, 300, {127, 0, 0, 2});
    a_record(b, 60, {127, 0, 0, 10});
    Answer a = parse_a_answer(b);
    ASSERT_EQ(a.status, Answer::Status::ok);
    ASSERT_EQ(a.addresses.size(), 2u);
    EXPECT_EQ(a.addresses[0].first, "127.0.0.2");
    EXPECT_EQ(a.addresses[0].second, 300);
    EXPECT_EQ(a.addresses[1].first, "127.0.0.10");
    EXPECT_EQ(a.addresses[1].second, 60);
}

TEST(DnsblogAnswer, NxdomainWithSoa) {
    Bytes b = header(3, 0, 1);
    name(b, {"example"});
    u16(b, 6);
    u16(b, 1);
    u32(b, 900);
    Bytes rdata;
    name(rdata, {"ns", "example"});
    name(rdata, {"admin", "example"});
    for (int i = 0; i < 4; ++i) u32(rdata, 1000);
    u32(rdata, 120);
    u16(b, static_cast<unsigned>(rdata.size()));
    b.insert(b.end(), rdata.begin(), rdata.end());
    Answer a = parse_a_answer(b);
    EXPECT_EQ(a.status, Answer::Status::not_found);
    EXPECT_EQ(a.negative_ttl, 900);
    EXPECT_TRUE(a.addresses.empty());
}

TEST(DnsblogAnswer, NodataWithoutSoa) {
    Answer a = parse_a_answer(header(0, 0, 0));
    EXPECT_EQ(a.status, Answer::Status::not_found);
    EXPECT_EQ(a.negative_ttl, -1);
}

TEST(DnsblogAnswer, ServfailIsError) {
    Answer a = parse_a_answer(header(2, 0, 0));
    EXPECT_EQ(a.status, Answer::Status::error);
    EXPECT_EQ(a.rcode, 2);
}

TEST(DnsblogAnswer, TruncatedAndLoopingInputs) {
    Bytes b = header(0, 1, 0);
    a_record(b, 300, {127, 0, 0, 2});
    for (std::size_t n = 0; n < b.size(); ++n) {
        Answer a = parse_a_answer(std::span<const uint8_t>(b.data(), n));
        EXPECT_NE(a.status, Answer::Status::ok) << n;
    }
    // A name made of compression pointers only ends at the buffer.
    Bytes loop = {0, 0, 0x81, 0x80, 0, 1, 0, 0, 0, 0, 0, 0, 0xC0, 12};
    EXPECT_EQ(parse_a_answer(loop).status, Answer::Status::error);
    // An A record whose data is not 4 bytes is skipped.
    Bytes odd = header(0, 1, 0);
    odd.push_back(0xC0);
    odd.push_back(12);
    u16(odd, 1);
    u16(odd, 1);
    u32(odd, 5);
    u16(odd, 3);
    odd.insert(odd.end(), {1, 2, 3});
    Answer a = parse_a_answer(odd);
    EXPECT_EQ(a.status, Answer::Status::not_found);
}

}  // namespace
}  // namespace pf::dnsblog
