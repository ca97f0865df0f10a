// The bounce/defer/trace append request (ipc/bounce_client.h) and the log
// file record the bounce daemon writes (daemon/bounce/bounce_append_service.h),
// byte for byte as the reference's defer log for the same recipient.
#include "bounce/bounce_append_service.h"
#include "ipc/bounce_client.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace pf::ipc {
namespace {

BounceAppendRequest sample() {
    BounceAppendRequest r;
    r.queue_id = "5204CA96377";
    r.recipient = {"", "dsn+x@ex.test", "rfc822;dsn+x@ex.test", 0, 235};
    r.dsn = Dsn::simple("4.7.2", "custom dsn text ");
    r.dsn.action = "delayed";
    r.dsn.dtype = "x-unix";
    r.dsn.dtext = "custom dsn text ";
    return r;
}

TEST(DeliveryRequestBounce, AttrRoundTrip) {
    auto back = bounce_append_from_attrs(to_attrs(sample()));
    ASSERT_TRUE(back.has_value()) << back.error();
    EXPECT_EQ(back->recipient.address, "dsn+x@ex.test");
    EXPECT_EQ(back->recipient.offset, 235);
    EXPECT_EQ(back->dsn.dtext, "custom dsn text ");
    AttrList bad{{"request", "append"}};
    EXPECT_FALSE(bounce_append_from_attrs(bad).has_value());
}

// Observed in the reference's defer/5/5204CA96377.
TEST(DeliveryRequestBounce, ReferenceLogRecord) {
    EXPECT_EQ(bounce::format_log_record(sample(), true),
              "\n<dsn+x@ex.test>: custom dsn text \nrecipient=dsn+x@ex.test\noffset=235\n"
              "dsn_orig_rcpt=rfc822;dsn+x@ex.test\nstatus=4.7.2\naction=delayed\ndiag_type=x-unix\n"
              "diag_text=custom dsn text \nreason=custom dsn text \n\n");
    BounceAppendRequest r = sample();
    r.recipient = {"Orig@x", "a b@x", "", 6, 0};
    r.dsn.dtext.clear();
    std::string rec = bounce::format_log_record(r, false);
    EXPECT_EQ(rec, "\nrecipient=\"a b\"@x\noriginal_recipient=Orig@x\nnotify_flags=6\nstatus=4.7.2\n"
                   "action=delayed\nreason=custom dsn text \n\n");
}

TEST(DeliveryRequestBounce, AppendsToHashedFile) {
    char dir_template[] = "/tmp/pf-bounce-test-XXXXXX";
    ASSERT_NE(::mkdtemp(dir_template), nullptr);
    std::string dir = dir_template;
    char old_cwd[4096];
    ASSERT_NE(::getcwd(old_cwd, sizeof(old_cwd)), nullptr);
    ASSERT_EQ(::chdir(dir.c_str()), 0);
    queue::QueueLayout layout;
    layout.queue_directory = dir;
    layout.hash_depth = 1;
    layout.hashed = {"deferred", "defer"};
    auto r = sample();
    ASSERT_TRUE(bounce::append_log_record(layout, "defer", r, true).has_value());
    ASSERT_TRUE(bounce::append_log_record(layout, "defer", r, true).has_value());
    std::ifstream in(dir + "/defer/5/5204CA96377");
    std::stringstream text;
    text << in.rdbuf();
    EXPECT_EQ(text.str(), bounce::format_log_record(r, true) + bounce::format_log_record(r, true));
    EXPECT_FALSE(bounce::append_log_record(layout, "../x", r, true).has_value());
    ASSERT_EQ(::chdir(old_cwd), 0);
    std::string cmd = "rm -rf " + dir;
    EXPECT_EQ(std::system(cmd.c_str()), 0);
}

}  // namespace
}  // namespace pf::ipc
