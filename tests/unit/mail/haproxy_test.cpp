// haproxy PROXY header parser (src/mail/haproxy.cpp): version 1 and 2
// headers, the reference's error texts and address normalisation, and the
// peek-parse-consume reader over a socketpair.
#include "mail/haproxy.h"

#include <gtest/gtest.h>

#include <sys/socket.h>
#include <unistd.h>

#include <string>

namespace {

using pf::mail::haproxy_parse;
using pf::mail::HaproxyEndpoints;
using pf::mail::HaproxyFamilies;

struct Parsed {
    const char* err;
    std::size_t used;
    HaproxyEndpoints ep;
};

Parsed parse(std::string_view text, HaproxyFamilies f = {}) {
    Parsed p{nullptr, 0, {}};
    p.err = haproxy_parse(text, f, &p.used, p.ep);
    return p;
}

std::string err_of(std::string_view text, HaproxyFamilies f = {}) {
    const char* e = parse(text, f).err;
    return e ? e : "OK";
}

TEST(Haproxy, V1Ipv4) {
    auto p = parse("PROXY TCP4 192.0.2.7 198.51.100.1 4711 25\r\nEHLO x\r\n");
    ASSERT_EQ(p.err, nullptr);
    EXPECT_EQ(p.used, 43u);
    EXPECT_EQ(p.ep.client_addr, "192.0.2.7");
    EXPECT_EQ(p.ep.server_addr, "198.51.100.1");
    EXPECT_EQ(p.ep.client_port, "4711");
    EXPECT_EQ(p.ep.server_port, "25");
    EXPECT_FALSE(p.ep.non_proxy);
}

TEST(Haproxy, V1Normalises) {
    auto p = parse("PROXY tcp6 2001:DB8:0:0:0:0:0:5 ::FFFF:10.1.2.3 1 65535\n");
    ASSERT_EQ(p.err, nullptr);
    EXPECT_EQ(p.ep.client_addr, "2001:db8::5");
    EXPECT_EQ(p.ep.server_addr, "10.1.2.3");
    // getaddrinfo reads leading zeros as the reference's does.
    p = parse("PROXY TCP4 010.02.03.04 10.0.0.1 7 7\n");
    ASSERT_EQ(p.err, nullptr);
    EXPECT_EQ(p.ep.client_addr, "8.2.3.4");
    // ::ffff: stays when IPv4 is off.
    p = parse("PROXY TCP6 ::ffff:10.1.2.3 ::1 1 2\n", {false, true});
    ASSERT_EQ(p.err, nullptr);
    EXPECT_EQ(p.ep.client_addr, "::ffff:10.1.2.3");
}

TEST(Haproxy, V1Errors) {
    EXPECT_EQ(err_of("PROXY TCP4 1.2.3.4 4.3.2.1 1 2"), "missing protocol header terminator");
    EXPECT_EQ(err_of(std::string("PROXY TCP4 1.2.3.4 4.3.2.1 1 2\0\n", 32)), "missing protocol header terminator");
    EXPECT_EQ(err_of("PROXY UNKNOWN\r\n"), "bad or missing protocol type");
    EXPECT_EQ(err_of("PROXY TCP6 1.2.3.4 ::1 1 2\n"), "bad or missing client address");
    EXPECT_EQ(err_of("PROXY TCP4 1.2.3.4 ::1 1 2\n"), "bad or missing server address");
    EXPECT_EQ(err_of("PROXY TCP4 1.2.3.4\n"), "bad or missing server address");
    EXPECT_EQ(err_of("PROXY TCP4 1.2.3.4 4.3.2.1\n"), "bad or missing client port");
    EXPECT_EQ(err_of("PROXY TCP4 1.2.3.4 4.3.2.1 01 2\n"), "bad or missing client port");
    EXPECT_EQ(err_of("PROXY TCP4 1.2.3.4 4.3.2.1 1 65536\n"), "bad or missing server port");
    EXPECT_EQ(err_of("PROXY TCP4 1.2.3.4 4.3.2.1 1 2x\n"), "bad or missing server port");
    EXPECT_EQ(err_of("PROXY TCP6 ::1 ::2 1 2\n", {true, false}), "bad or missing protocol type");
    EXPECT_EQ(err_of("PROXY\n"), "short protocol header");
    EXPECT_EQ(err_of(""), "short protocol header");
    EXPECT_EQ(err_of("EHLO example.com\r\n"), "unrecognized protocol header");
    // Extra words after the server port are ignored.
    EXPECT_EQ(err_of("PROXY TCP4 1.2.3.4 4.3.2.1 1 2 extra\n"), "OK");
}

std::string v2(unsigned ver_cmd, unsigned fam, std::string body, std::size_t len_field) {
    std::string h("\r\n\r\n\0\r\nQUIT\n", 12);
    h += static_cast<char>(ver_cmd);
    h += static_cast<char>(fam);
    h += static_cast<char>(len_field >> 8);
    h += static_cast<char>(len_field & 0xff);
    return h + body;
}

TEST(Haproxy, V2) {
    std::string v4("\xc0\x00\x02\x07\x0a\x00\x00\x01\x12\x67\x00\x19", 12);
    auto p = parse(v2(0x21, 0x11, v4 + "\r\n", 14) + "EHLO");
    ASSERT_EQ(p.err, nullptr);
    EXPECT_EQ(p.used, 30u);
    EXPECT_EQ(p.ep.client_addr, "192.0.2.7");
    EXPECT_EQ(p.ep.server_addr, "10.0.0.1");
    EXPECT_EQ(p.ep.client_port, "4711");
    EXPECT_EQ(p.ep.server_port, "25");
    std::string v6(36, '\0');
    v6[10] = v6[11] = '\xff';
    v6[12] = 1, v6[13] = 2, v6[14] = 3, v6[15] = 4;
    v6[31] = 1;
    p = parse(v2(0x21, 0x21, v6, 36));
    ASSERT_EQ(p.err, nullptr);
    EXPECT_EQ(p.ep.client_addr, "1.2.3.4");
    EXPECT_EQ(p.ep.server_addr, "::1");
    EXPECT_EQ(p.ep.client_port, "0");
    p = parse(v2(0x20, 0, "", 0));
    ASSERT_EQ(p.err, nullptr);
    EXPECT_TRUE(p.ep.non_proxy);
    EXPECT_EQ(p.used, 16u);
    EXPECT_EQ(err_of(v2(0x11, 0x11, v4, 12)), "unrecognized protocol version");
    EXPECT_EQ(err_of(v2(0x21, 0x11, v4, 13)), "short version 2 protocol header");
    EXPECT_EQ(err_of(v2(0x21, 0x11, v4.substr(0, 8), 8)), "short address field");
    EXPECT_EQ(err_of(v2(0x21, 0x12, v4, 12)), "unsupported network protocol");
    EXPECT_EQ(err_of(v2(0x22, 0x11, v4, 12)), "bad command in proxy header");
    EXPECT_EQ(err_of(v2(0x21, 0x11, v4, 12), {false, true}), "Postfix IPv4 support is disabled");
    EXPECT_EQ(err_of(v2(0x21, 0x21, v6, 36), {true, false}), "Postfix IPv6 support is disabled");
}

TEST(Haproxy, ReceiveConsumesOnlyTheHeader) {
    int sv[2];
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    std::string data = "PROXY TCP4 192.0.2.7 10.0.0.1 4711 25\r\nEHLO x\r\n";
    ASSERT_EQ(::write(sv[1], data.data(), data.size()), static_cast<ssize_t>(data.size()));
    HaproxyEndpoints ep;
    ASSERT_TRUE(pf::mail::haproxy_receive(sv[0], {}, ep));
    EXPECT_EQ(ep.client_addr, "192.0.2.7");
    char buf[64];
    ssize_t n = ::read(sv[0], buf, sizeof buf);
    EXPECT_EQ(std::string(buf, n > 0 ? n : 0), "EHLO x\r\n");
    ::close(sv[1]);
    EXPECT_FALSE(pf::mail::haproxy_receive(sv[0], {}, ep));   // EOF
    ::close(sv[0]);
}

TEST(Haproxy, Families) {
    auto f = pf::mail::haproxy_families("ipv4");
    EXPECT_TRUE(f.ipv4);
    EXPECT_FALSE(f.ipv6);
    f = pf::mail::haproxy_families("all");
    EXPECT_TRUE(f.ipv4 && f.ipv6);
}

}  // namespace
