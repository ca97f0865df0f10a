// Unit tests for tls/tls_level.h: level names and the server side's
// use/enforce decision shared by smtpd, postscreen and tlsproxy.
#include "tls/tls_level.h"

#include <gtest/gtest.h>

namespace pf::tls {
namespace {

TEST(TlsLevel, LookupIsCaseInsensitive) {
    EXPECT_EQ(level_lookup("MAY"), Level::kMay);
    EXPECT_EQ(level_lookup("dane-only"), Level::kDaneOnly);
    EXPECT_FALSE(level_lookup("maybe").has_value());
    EXPECT_STREQ(level_name(Level::kEncrypt), "encrypt");
}

TEST(TlsLevel, ServerLevelOverridesTheLegacySwitches) {
    const ServerTls legacy{true, true};
    auto empty = server_tls_from_level("smtpd_tls_security_level", "", legacy);
    EXPECT_TRUE(empty.use && empty.enforce);
    auto none = server_tls_from_level("smtpd_tls_security_level", "none", legacy);
    EXPECT_FALSE(none.use || none.enforce);
    auto may = server_tls_from_level("smtpd_tls_security_level", "may", {});
    EXPECT_TRUE(may.use);
    EXPECT_FALSE(may.enforce);
    auto encrypt = server_tls_from_level("smtpd_tls_security_level", "encrypt", {});
    EXPECT_TRUE(encrypt.use && encrypt.enforce);
    // A client-only level warns and acts as encrypt.
    auto verify = server_tls_from_level("postscreen_tls_security_level", "verify", {});
    EXPECT_TRUE(verify.use && verify.enforce);
}

TEST(TlsLevel, DaneOrUnknownServerLevelIsFatal) {
    EXPECT_DEATH(server_tls_from_level("tlsproxy_tls_security_level", "dane", {}), "Invalid TLS level");
    EXPECT_DEATH(server_tls_from_level("tlsproxy_tls_security_level", "bogus", {}), "Invalid TLS level");
}

}  // namespace
}  // namespace pf::tls
