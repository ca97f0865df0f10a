// Unit tests for MariaDB's client library loaded on first use
// (dict/mariadb_client.h): every function the mysql: table calls is found,
// and a handle made through them can escape a key without a server.
#include "dict/mariadb_client.h"

#include <gtest/gtest.h>

#include <string>

namespace pf::dict::mariadb {
namespace {

TEST(MariadbClientTest, LoadsEveryFunction) {
    const Client& c = client();
    EXPECT_NE(c.init, nullptr);
    EXPECT_NE(c.options, nullptr);
    EXPECT_NE(c.ssl_set, nullptr);
    EXPECT_NE(c.real_connect, nullptr);
    EXPECT_NE(c.error, nullptr);
    EXPECT_NE(c.close, nullptr);
    EXPECT_NE(c.real_escape_string, nullptr);
    EXPECT_NE(c.real_query, nullptr);
    EXPECT_NE(c.store_result, nullptr);
    EXPECT_NE(c.field_count, nullptr);
    EXPECT_NE(c.next_result, nullptr);
    EXPECT_NE(c.free_result, nullptr);
    EXPECT_NE(c.num_fields, nullptr);
    EXPECT_NE(c.fetch_row, nullptr);
    EXPECT_NE(c.fetch_lengths, nullptr);
    // Loaded once: the same table of functions every time.
    EXPECT_EQ(&client(), &c);
}

TEST(MariadbClientTest, EscapesWithoutAServer) {
    const Client& c = client();
    MYSQL* m = c.init(nullptr);
    ASSERT_NE(m, nullptr);
    std::string in = "o'neil\\x";
    std::string out(2 * in.size() + 1, '\0');
    unsigned long n = c.real_escape_string(m, out.data(), in.data(), static_cast<unsigned long>(in.size()));
    out.resize(n);
    EXPECT_EQ(out, "o\\'neil\\\\x");
    c.close(m);
}

}  // namespace
}  // namespace pf::dict::mariadb
