// The delivery request codec (ipc/delivery_request.h), the log line of
// delivery agents (ipc/deliver_log.h) with the reference's delay format,
// DSN splitting, the completion rules (ipc/deliver_completion.h) and the
// message copy (ipc/deliver_mail_copy.h).
#include "ipc/deliver_completion.h"
#include "ipc/deliver_dsn.h"
#include "ipc/deliver_log.h"
#include "ipc/deliver_mail_copy.h"
#include "ipc/delivery_request.h"
#include "queue/record.h"

#include <gtest/gtest.h>

#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <thread>

namespace pf::ipc {
namespace {

DeliveryRequest sample_request() {
    DeliveryRequest r;
    r.queue_name = "active";
    r.queue_id = "0E0DDA965D5";
    r.data_offset = 321;
    r.data_size = 298;
    r.nexthop = "nh.example";
    r.sender = "snd@example.org";
    r.client_addr = "192.0.2.1";
    r.sasl_username = "bob\nline";
    r.times.incoming_arrival = {1700000000, 120000};
    r.times.active_arrival = {1700000013, 0};
    r.recipients.push_back({"Orig@example", "user+ext@pipe.test", "rfc822;user+ext@pipe.test", 6, 246});
    r.recipients.push_back({"", "b@pipe.test", "", 0, 300});
    return r;
}

TEST(DeliveryRequest, RoundTrip) {
    DeliveryRequest r = sample_request();
    std::string wire = encode_attrs(to_attrs(r));
    std::size_t used = 0;
    auto attrs = decode_attrs(wire, used);
    ASSERT_TRUE(attrs.has_value());
    EXPECT_EQ(used, wire.size());
    auto back = delivery_request_from_attrs(*attrs);
    ASSERT_TRUE(back.has_value()) << back.error();
    EXPECT_EQ(back->queue_id, r.queue_id);
    EXPECT_EQ(back->data_offset, 321);
    EXPECT_EQ(back->data_size, 298);
    EXPECT_EQ(back->sasl_username, "bob\nline");
    EXPECT_EQ(back->times.incoming_arrival.sec, 1700000000);
    EXPECT_EQ(back->times.incoming_arrival.usec, 120000);
    EXPECT_FALSE(back->times.agent_handoff.is_set());
    ASSERT_EQ(back->recipients.size(), 2u);
    EXPECT_EQ(back->recipients[0].orig_addr, "Orig@example");
    EXPECT_EQ(back->recipients[0].dsn_notify, 6);
    EXPECT_EQ(back->recipients[1].offset, 300);
    EXPECT_EQ(back->flags, kDeliveryDefault);
}

TEST(DeliveryRequest, RejectsMalformed) {
    AttrList attrs = to_attrs(sample_request());
    AttrList missing;
    for (const auto& [n, v] : attrs.items())
        if (n != "queue_id") missing.add(n, v);
    EXPECT_FALSE(delivery_request_from_attrs(missing).has_value());

    AttrList short_list;
    bool dropped = false;
    for (const auto& [n, v] : attrs.items()) {
        if (n == "rcpt_offset" && !dropped) {
            dropped = true;
            continue;
        }
        short_list.add(n, v);
    }
    EXPECT_FALSE(delivery_request_from_attrs(short_list).has_value());

    AttrList bad_number;
    for (const auto& [n, v] : attrs.items()) bad_number.add(n, n == "offset" ? std::string("12x") : v);
    EXPECT_FALSE(delivery_request_from_attrs(bad_number).has_value());

    AttrList no_rcpt;
    for (const auto& [n, v] : attrs.items())
        if (!n.starts_with("rcpt_")) no_rcpt.add(n, v);
    no_rcpt.add("rcpt_count", 0LL);
    EXPECT_FALSE(delivery_request_from_attrs(no_rcpt).has_value());
}

TEST(DeliveryRequest, ConversationOverSocket) {
    int fds[2];
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
    std::thread agent([fd = fds[1]] {
        std::string buf;
        auto req = receive_delivery_request(fd, buf, 10);
        DeliveryReply reply;
        reply.status = req && req->recipients.size() == 2 ? 0 : 1;
        (void)send_delivery_reply(fd, reply, 10);
        ::close(fd);
    });
    std::string buf;
    auto reply = run_delivery_request(fds[0], buf, sample_request(), 10);
    agent.join();
    ::close(fds[0]);
    ASSERT_TRUE(reply.has_value()) << reply.error();
    EXPECT_EQ(reply->status, 0);
}

// Values observed in the reference's logs and its format rules.
TEST(DeliverLog, DelayFormat) {
    EXPECT_EQ(format_delay(0, 0, 2, 2), "0");
    EXPECT_EQ(format_delay(0, 4000, 2, 2), "0");
    EXPECT_EQ(format_delay(0, 5000, 2, 2), "0.01");
    EXPECT_EQ(format_delay(0, 14999, 2, 2), "0.01");
    EXPECT_EQ(format_delay(0, 15000, 2, 2), "0.02");
    EXPECT_EQ(format_delay(0, 123456, 2, 2), "0.12");
    EXPECT_EQ(format_delay(0, 123456, 2, 6), "0.12");
    EXPECT_EQ(format_delay(0, 1234, 2, 6), "0.0012");
    EXPECT_EQ(format_delay(1, 234567, 2, 2), "1.2");
    EXPECT_EQ(format_delay(1, 0, 2, 2), "1");
    EXPECT_EQ(format_delay(9, 960000, 2, 2), "10");
    EXPECT_EQ(format_delay(13, 400000, 2, 2), "13");
    EXPECT_EQ(format_delay(13, 600000, 2, 2), "14");
    EXPECT_EQ(format_delay(250, 0, 2, 2), "250");
    EXPECT_EQ(format_delay(0, 995000, 2, 2), "1");
    EXPECT_EQ(format_delay(0, 50000, 2, 0), "0");
    EXPECT_EQ(format_delay(0, 600000, 2, 0), "1");
}

TEST(DeliverLog, Line) {
    MessageTimes t;
    t.incoming_arrival = {1000, 0};
    t.active_arrival = {1013, 10000};
    t.agent_handoff = {1013, 20000};
    DeliveryRecipient rcpt{"Orig@Example", "c d@multi.test", "", 0, 1};
    Dsn dsn = Dsn::simple("2.0.0", "delivered via recmulti service");
    std::string line = delivery_log_line("QID", t, rcpt, "recmulti", dsn, "sent", DeliveryLogSettings{},
                                         TimeStamp{1013, 60000});
    EXPECT_EQ(line,
              "QID: to=<\"c d\"@multi.test>, orig_to=<Orig@Example>, relay=recmulti, delay=13, "
              "delays=13/0.01/0/0.04, dsn=2.0.0, status=sent (delivered via recmulti service)");
    // Same address but for case: no orig_to; internal form unquoted.
    DeliveryRecipient same{"USER@x", "user@x", "", 0, 1};
    DeliveryLogSettings internal;
    internal.external_addresses = false;
    line = delivery_log_line("QID", t, same, "none", dsn, "sent", internal, TimeStamp{1013, 60000});
    EXPECT_EQ(line.find("orig_to"), std::string::npos);
    // No qmgr time stamps: everything is "before qmgr".
    MessageTimes only_arrival;
    only_arrival.incoming_arrival = {1000, 0};
    line = delivery_log_line("QID", only_arrival, same, "none", dsn, "sent", internal, TimeStamp{1002, 0});
    EXPECT_NE(line.find("delay=2, delays=2/0/0/0,"), std::string::npos) << line;
}

TEST(DeliverDsn, ValidAndSplit) {
    EXPECT_EQ(dsn_valid("4.7.2 text"), 5u);
    EXPECT_EQ(dsn_valid("5.2.2"), 5u);
    EXPECT_EQ(dsn_valid("5.123.456 x"), 9u);
    EXPECT_EQ(dsn_valid("3.1.1 x"), 0u);
    EXPECT_EQ(dsn_valid("5.1234.1"), 0u);
    EXPECT_EQ(dsn_valid("5.1.1x"), 0u);
    EXPECT_EQ(dsn_valid("5.1."), 0u);
    EXPECT_EQ(dsn_valid(""), 0u);
    auto s = dsn_split("5.0.0", "5.7.1 custom err");
    EXPECT_EQ(s.status, "5.7.1");
    EXPECT_EQ(s.text, "custom err");
    s = dsn_split("4.0.0", "  later on");
    EXPECT_EQ(s.status, "4.0.0");
    EXPECT_EQ(s.text, "later on");
    s = dsn_split("2.0.0", "4.4.1");
    EXPECT_EQ(s.status, "4.4.1");
    EXPECT_EQ(s.text, "");
}

struct Recorded {
    std::vector<std::string> logs;
    std::vector<std::string> appends;  // "service status action reason"
};

DeliveryRecorder make_recorder(const DeliveryAgentSettings& settings, const DeliveryRequest& request, Recorded& rec,
                               bool append_ok = true) {
    DeliveryRecorder r(settings, request);
    r.set_log_sink([&rec](const std::string& line) { rec.logs.push_back(line); });
    r.set_append_call([&rec, append_ok](std::string_view service, unsigned, const DeliveryRecipient&, const Dsn& dsn) {
        rec.appends.push_back(std::string(service) + " " + dsn.status + " " + dsn.action + " " + dsn.reason);
        return append_ok;
    });
    r.set_now(TimeStamp{1700000013, 100000});
    return r;
}

TEST(DeliverCompletion, SentBounceDefer) {
    DeliveryAgentSettings settings;
    DeliveryRequest request = sample_request();
    Recorded rec;
    auto recorder = make_recorder(settings, request, rec);
    const auto& rcpt = request.recipients[1];
    EXPECT_EQ(recorder.sent(rcpt, "recpipe", Dsn::simple("2.0.0", "delivered via recpipe service")), 0);
    EXPECT_TRUE(rec.appends.empty());
    ASSERT_EQ(rec.logs.size(), 1u);
    EXPECT_NE(rec.logs[0].find("status=sent (delivered via recpipe service)"), std::string::npos);

    EXPECT_EQ(recorder.bounce_or_defer(rcpt, "recexit", Dsn::simple("5.1.1", "user unknown")), 0);
    EXPECT_EQ(rec.appends.back(), "bounce 5.1.1 failed user unknown");
    EXPECT_NE(rec.logs.back().find("dsn=5.1.1, status=bounced (user unknown)"), std::string::npos);

    EXPECT_EQ(recorder.bounce_or_defer(rcpt, "recexit", Dsn::simple("4.3.0", "temporary failure")), -1);
    EXPECT_EQ(rec.appends.back(), "defer 4.3.0 delayed temporary failure");
    EXPECT_NE(rec.logs.back().find("status=deferred (temporary failure)"), std::string::npos);

    // Wrong class: the reference's replacement codes.
    EXPECT_EQ(recorder.bounce(rcpt, "none", Dsn::simple("4.1.1", "x")), 0);
    EXPECT_EQ(rec.appends.back(), "bounce 5.0.0 failed x");
    EXPECT_EQ(recorder.defer(rcpt, "none", Dsn::simple("5.1.1", "y")), -1);
    EXPECT_EQ(rec.appends.back(), "defer 4.0.0 delayed y");
}

TEST(DeliverCompletion, SoftBounceAndServiceFailure) {
    DeliveryAgentSettings settings;
    settings.soft_bounce = true;
    DeliveryRequest request = sample_request();
    Recorded rec;
    auto recorder = make_recorder(settings, request, rec);
    EXPECT_EQ(recorder.bounce(request.recipients[1], "none", Dsn::simple("5.7.1", "custom")), -1);
    EXPECT_EQ(rec.appends.back(), "defer 4.7.1 delayed custom");
    EXPECT_NE(rec.logs.back().find("dsn=4.7.1, status=SOFTBOUNCE (custom)"), std::string::npos);

    DeliveryAgentSettings hard;
    Recorded rec2;
    auto failing = make_recorder(hard, request, rec2, false);
    EXPECT_EQ(failing.bounce(request.recipients[1], "none", Dsn::simple("5.7.1", "custom")), -1);
    EXPECT_NE(rec2.logs.back().find("dsn=4.3.0, status=deferred (bounce or trace service failure)"),
              std::string::npos);
}

TEST(DeliverCompletion, NotifySuccessTraces) {
    DeliveryAgentSettings settings;
    DeliveryRequest request = sample_request();
    request.recipients[0].dsn_notify = 2;  // SUCCESS
    Recorded rec;
    auto recorder = make_recorder(settings, request, rec);
    EXPECT_EQ(recorder.sent(request.recipients[0], "recpipe", Dsn::simple("2.0.0", "ok")), 0);
    ASSERT_EQ(rec.appends.size(), 1u);
    EXPECT_EQ(rec.appends[0], "trace 2.0.0 delivered delivery via recpipe: ok");
}

// A queue-file fragment: content records then X.
std::FILE* content_file(const std::vector<std::pair<char, std::string>>& records) {
    std::FILE* f = std::tmpfile();
    std::fputs("pad", f);
    for (const auto& [type, data] : records) queue::write_record(f, type, data);
    queue::write_record(f, queue::rec::kExtracted, "");
    std::fflush(f);
    return f;
}

TEST(DeliverMailCopy, FlagsAndEol) {
    std::FILE* f = content_file({{'N', "Subject: x"}, {'N', ""}, {'N', "From me"}, {'N', ".dot"},
                                 {'L', "long "}, {'N', "line"}, {'L', "last"}});
    CopyEnvelope env;
    env.sender = "";
    env.orig_recipient = "Orig@X";
    env.delivered = "c d@x";
    env.now = 0;
    std::string out;
    auto sink = [&out](std::string_view s) {
        out.append(s);
        return true;
    };
    unsigned flags = kCopyReturnPath | kCopyOrigRcpt | kCopyDelivered | kCopyDot | kCopyQuote | kCopyBlank;
    auto r = copy_message(f, 3, env, flags, "\r\n", sink);
    EXPECT_FALSE(r.corrupt);
    EXPECT_EQ(out,
              "Return-Path: <>\r\nX-Original-To: Orig@X\r\nDelivered-To: \"c d\"@x\r\n"
              "Subject: x\r\n\r\n>From me\r\n..dot\r\nlong line\r\nlast\r\n\r\n");
    std::fclose(f);
}

TEST(DeliverMailCopy, FromLineAndCorrupt) {
    EXPECT_EQ(from_line_time(0).size(), 24u);
    std::FILE* f = std::tmpfile();
    queue::write_record(f, 'N', "a");
    queue::write_record(f, 'R', "oops");
    std::fflush(f);
    CopyEnvelope env;
    env.sender = "a b@x";
    env.now = 86400 * 365;
    std::string out;
    auto r = copy_message(f, 0, env, kCopyFrom, "\n", [&out](std::string_view s) {
        out.append(s);
        return true;
    });
    EXPECT_TRUE(r.corrupt);
    EXPECT_TRUE(out.starts_with("From \"a b\"@x  ")) << out;
    std::fclose(f);
}

}  // namespace
}  // namespace pf::ipc
