// Unit tests of sasl/sasl_server: the mechanism filter, the security
// option words, and the Cyrus back end run in-process against a sasldb
// made with saslpasswd2 (skipped when sasl2-bin is missing): PLAIN and
// LOGIN logins, a bad password, an unknown user (reported as any failed
// login), malformed base64, an unknown mechanism, noplaintext.
#include "sasl/sasl_server.h"

#include "util/msg.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace pf::sasl {
namespace {

TEST(SaslMechanismFilter, Default) {
    EXPECT_EQ(filter_mechanisms("PLAIN LOGIN EXTERNAL CRAM-MD5", "!external, static:rest"), "PLAIN LOGIN CRAM-MD5");
    EXPECT_EQ(filter_mechanisms("PLAIN LOGIN", ""), "PLAIN LOGIN");
    EXPECT_EQ(filter_mechanisms("PLAIN LOGIN CRAM-MD5", "login plain"), "PLAIN LOGIN");
    EXPECT_EQ(filter_mechanisms("PLAIN LOGIN", "!plain !login static:rest"), "");
    EXPECT_EQ(filter_mechanisms("", "static:rest"), "");
}

TEST(SaslSecurityOptions, Words) {
    EXPECT_NE(security_flags("noanonymous, noplaintext", "x"), 0u);
    EXPECT_EQ(security_flags("", "x"), 0u);
    util::msg_fatal_throws(true);
    EXPECT_THROW(security_flags("noanonymous bogus", "smtpd_sasl_security_options"), util::FatalError);
    util::msg_fatal_throws(false);
}

std::string b64(std::string_view s) {
    static const char* abc = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    std::size_t i = 0;
    for (; i + 2 < s.size(); i += 3) {
        unsigned v = (unsigned char)s[i] << 16 | (unsigned char)s[i + 1] << 8 | (unsigned char)s[i + 2];
        out += abc[v >> 18 & 63];
        out += abc[v >> 12 & 63];
        out += abc[v >> 6 & 63];
        out += abc[v & 63];
    }
    if (i + 1 == s.size()) {
        unsigned v = (unsigned char)s[i] << 16;
        out += abc[v >> 18 & 63];
        out += abc[v >> 12 & 63];
        out += "==";
    } else if (i + 2 == s.size()) {
        unsigned v = (unsigned char)s[i] << 16 | (unsigned char)s[i + 1] << 8;
        out += abc[v >> 18 & 63];
        out += abc[v >> 12 & 63];
        out += abc[v >> 6 & 63];
        out += '=';
    }
    return out;
}

class CyrusServer : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        if (access("/usr/sbin/saslpasswd2", X_OK) != 0) return;
        dir_ = std::filesystem::temp_directory_path() / ("sasl-unit-" + std::to_string(getpid()));
        std::filesystem::create_directories(dir_ / "sasl");
        std::string db = (dir_ / "sasldb2").string();
        std::ofstream(dir_ / "sasl" / "unit.conf") << "pwcheck_method: auxprop\nauxprop_plugin: sasldb\n"
                                                   << "sasldb_path: " << db << "\nmech_list: PLAIN LOGIN CRAM-MD5\n";
        std::string cmd = "echo secret | /usr/sbin/saslpasswd2 -f " + db + " -c -p -u example.com alice";
        if (std::system(cmd.c_str()) != 0) return;
        backend_ = server_backend("cyrus", "unit", dir_.string()).release();
    }
    static void TearDownTestSuite() {
        if (!dir_.empty()) std::filesystem::remove_all(dir_);
    }
    void SetUp() override {
        if (!backend_) GTEST_SKIP() << "saslpasswd2 (sasl2-bin) not available";
    }
    std::unique_ptr<ServerSession> session(const std::string& options = "noanonymous") {
        SessionParams p;
        p.server_fqdn = "mail.example.com";
        p.user_realm = "example.com";
        p.security_options = options;
        auto s = backend_->create(p);
        EXPECT_TRUE(s.has_value());
        return std::move(*s);
    }
    static inline std::filesystem::path dir_;
    static inline ServerBackend* backend_ = nullptr;
};

TEST_F(CyrusServer, PlainAndLogin) {
    auto s = session();
    EXPECT_EQ(s->mechanism_list(), "PLAIN LOGIN CRAM-MD5");   // mech_list order
    std::string reply;
    EXPECT_EQ(s->first("PLAIN", b64(std::string("\0alice\0secret", 13)), reply), AuthStatus::done);
    EXPECT_EQ(s->username(), "alice@example.com");
    auto l = session();
    EXPECT_EQ(l->first("LOGIN", std::nullopt, reply), AuthStatus::more);
    EXPECT_EQ(reply, "VXNlcm5hbWU6");
    EXPECT_EQ(l->next(b64("alice"), reply), AuthStatus::more);
    EXPECT_EQ(l->next(b64("secret"), reply), AuthStatus::done);
}

TEST_F(CyrusServer, Failures) {
    std::string reply;
    EXPECT_EQ(session()->first("PLAIN", b64(std::string("\0alice\0wrong", 12)), reply), AuthStatus::fail);
    EXPECT_EQ(reply, "authentication failure");
    EXPECT_EQ(session()->first("PLAIN", b64(std::string("\0nobody\0x", 9)), reply), AuthStatus::fail);
    EXPECT_EQ(reply, "authentication failure");
    EXPECT_EQ(session()->first("PLAIN", std::string_view("!!!notbase64"), reply), AuthStatus::fail);
    EXPECT_EQ(reply, "bad protocol / cancel");
    EXPECT_EQ(session()->first("FOOBAR", std::nullopt, reply), AuthStatus::fail);
    EXPECT_EQ(reply, "no mechanism available");
    auto l = session();
    EXPECT_EQ(l->first("LOGIN", std::nullopt, reply), AuthStatus::more);
    EXPECT_EQ(l->next("###", reply), AuthStatus::fail);
    EXPECT_EQ(reply, "another step is needed in authentication");
    // Hostile: a long response of garbage.
    auto p = session();
    EXPECT_EQ(p->first("PLAIN", std::nullopt, reply), AuthStatus::more);
    EXPECT_NE(p->next(std::string(20000, 'A'), reply), AuthStatus::done);
}

TEST_F(CyrusServer, NoPlaintext) {
    auto s = session("noanonymous, noplaintext");
    EXPECT_EQ(s->mechanism_list(), "CRAM-MD5");
    std::string reply;
    EXPECT_EQ(s->first("PLAIN", b64(std::string("\0alice\0secret", 13)), reply), AuthStatus::fail);
    EXPECT_EQ(reply, "encryption needed to use mechanism");
}

}  // namespace
}  // namespace pf::sasl
