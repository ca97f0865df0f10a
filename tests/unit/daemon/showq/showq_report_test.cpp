// showq's queue listing on a small queue made by hand: the reference 3.7
// wire format, the defer-log recipients first, done recipients left out,
// files that are not listed, and the reference's handling of damaged files.
#include "daemon/showq/showq_report.h"

#include "mail/address_quote.h"
#include "queue/record.h"
#include "util/utf8.h"
#include "util/msg.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fcntl.h>
#include <filesystem>
#include <iterator>
#include <fstream>
#include <string>
#include <sys/stat.h>
#include <unistd.h>

namespace {

namespace fs = std::filesystem;
using pf::queue::encode_record;

class ShowqReportTest : public ::testing::Test {
protected:
    void SetUp() override {
        char tmpl[] = "/tmp/showq-unit-XXXXXX";
        dir_ = ::mkdtemp(tmpl);
        old_cwd_ = fs::current_path();
        fs::current_path(dir_);
        for (const char* q : {"maildrop", "incoming", "active", "deferred", "hold", "defer"}) fs::create_directory(q);
        settings_.layout.queue_directory = dir_;
        settings_.layout.hash_depth = 1;
        settings_.layout.hashed = {"deferred", "defer"};
    }
    void TearDown() override {
        fs::current_path(old_cwd_);
        fs::remove_all(dir_);
    }

    // A queue file with the records cleanup writes, in queue/<hash>/id.
    std::string write_file(const std::string& queue, const std::string& id, const std::string& records,
                           mode_t mode = 0700) {
        std::string path = settings_.layout.path(queue, id, true);
        fs::create_directories(fs::path(path).parent_path());
        std::ofstream(path, std::ios::binary) << records;
        ::chmod(path.c_str(), mode);
        return path;
    }
    static std::string message(const std::string& sender, const std::vector<std::pair<char, std::string>>& rcpts) {
        std::string content = encode_record('N', "Subject: test") + encode_record('N', "") + encode_record('N', "hi");
        std::string out = encode_record('C', "             12              0              0              0");
        // The size field counts the content from after 'M' up to 'X'.
        out = encode_record('C', fmt::format("{:15} {:15} {:15} {:15}", content.size(), 0, rcpts.size(), 0));
        out += encode_record('T', "1700000000 0");
        out += encode_record('S', sender);
        for (const auto& [type, addr] : rcpts) out += encode_record(type, addr);
        out += encode_record('M', "") + content + encode_record('X', "") + encode_record('E', "");
        return out;
    }
    std::string listing() {
        std::string bytes;
        pf::showq::ShowqOutput out([&bytes](std::string_view b) {
            bytes.append(b);
            return true;
        });
        pf::showq::showq_scan(out, settings_);
        return bytes;
    }
    static std::string attrs(std::initializer_list<std::pair<std::string, std::string>> list) {
        std::string out;
        for (const auto& [n, v] : list) out += n + '\0' + v + '\0';
        return out;
    }

    std::string dir_;
    fs::path old_cwd_;
    pf::showq::ShowqSettings settings_;
};

const std::string kHead = std::string("protocol\0mail_queue_list_protocol\0\0", 35);

TEST_F(ShowqReportTest, EmptyQueueIsProtocolAndEnd) { EXPECT_EQ(listing(), kHead + std::string(1, '\0')); }

TEST_F(ShowqReportTest, ListsSenderAndPendingRecipients) {
    write_file("hold", "ABC123", message("", {{'R', "a b@example.org"}, {'D', "done@example.org"}, {'R', "c@x"}}));
    std::string expected = kHead +
                           attrs({{"queue_name", "hold"}, {"queue_id", "ABC123"}, {"time", "1700000000"},
                                  {"size", "21"}, {"forced_expire", "0"}, {"sender", "MAILER-DAEMON"},
                                  {"recipient", "\"a b\"@example.org"}, {"reason", ""},
                                  {"recipient", "c@x"}, {"reason", ""}}) +
                           std::string(2, '\0');
    EXPECT_EQ(listing(), expected);
}

TEST_F(ShowqReportTest, DeferLogRecipientsComeFirstWithReasons) {
    write_file("deferred", "DEF456", message("s@example.org", {{'R', "one@example.org"}, {'R', "two@example.org"}}));
    fs::create_directories("defer/D");
    std::ofstream("defer/D/DEF456") << "recipient=two@example.org\noffset=100\nstatus=4.0.0\nreason=busy\n\n";
    std::string out = listing();
    std::string expected = kHead +
                           attrs({{"queue_name", "deferred"}, {"queue_id", "DEF456"}, {"time", "1700000000"},
                                  {"size", "21"}, {"forced_expire", "0"}, {"sender", "s@example.org"},
                                  {"recipient", "two@example.org"}, {"reason", "busy"},
                                  {"recipient", "one@example.org"}, {"reason", ""}}) +
                           std::string(2, '\0');
    EXPECT_EQ(out, expected);
}

TEST_F(ShowqReportTest, SkipsFilesNotReadyMisplacedOrNotQueueIds) {
    write_file("incoming", "AAA111", message("s@x", {{'R', "r@x"}}), 0600);
    std::ofstream("hold/notes.txt") << "hello";
    ::chmod("hold/notes.txt", 0700);
    // In deferred/Z/ while its ID hashes to deferred/B/.
    fs::create_directories("deferred/Z");
    std::ofstream("deferred/Z/BBB222", std::ios::binary) << message("s@x", {{'R', "r@x"}});
    ::chmod("deferred/Z/BBB222", 0700);
    EXPECT_EQ(listing(), kHead + std::string(1, '\0'));
}

TEST_F(ShowqReportTest, ActiveQueueComesBeforeIncomingAndExpiredIsFlagged) {
    write_file("incoming", "INC1", message("i@x", {{'R', "r@x"}}));
    write_file("active", "ACT1", message("a@x", {{'R', "r@x"}}), 0710);
    std::string out = listing();
    auto active = out.find("ACT1");
    auto incoming = out.find("INC1");
    ASSERT_NE(active, std::string::npos);
    ASSERT_NE(incoming, std::string::npos);
    EXPECT_LT(active, incoming);
    EXPECT_NE(out.find(std::string("forced_expire\0001\0sender\0a@x", 26)), std::string::npos);
}

// What the listing of one message looks like (no defer log, no C record).
std::string listed(const std::string& queue, const std::string& id, long time, long size, const std::string& sender,
                   const std::vector<std::string>& rcpts) {
    std::string out;
    auto add = [&out](const std::string& n, const std::string& v) { out += n + '\0' + v + '\0'; };
    add("queue_name", queue);
    add("queue_id", id);
    add("time", std::to_string(time));
    add("size", std::to_string(size));
    add("forced_expire", "0");
    add("sender", sender);
    for (const auto& r : rcpts) {
        add("recipient", r);
        add("reason", "");
    }
    return out + '\0';
}

std::string simple_file(const std::string& sender, const std::vector<std::string>& rcpts, long time) {
    std::string out = encode_record('T', fmt::format("{} 0", time)) + encode_record('S', sender);
    for (const auto& r : rcpts) out += encode_record('R', r);
    return out + encode_record('M', "") + encode_record('N', "x") + encode_record('X', "") + encode_record('E', "");
}

// A recipient before any sender: the reference's showq warns and dies;
// its client gets what was flushed before that file, with no final NUL.
TEST_F(ShowqReportTest, MissingSenderEndsTheListingWhereTheReferenceDies) {
    std::string good = simple_file("g@x", {"g1@x"}, 1700000005);
    write_file("incoming", "GOOD1", good);
    std::string no_sender = encode_record('C', fmt::format("{:15} {:15} {:15} {:15}", 0, 0, 1, 0)) +
                            encode_record('T', "1700000000 0") + encode_record('R', "r@x") + encode_record('E', "");
    write_file("hold", "NOSEND1", no_sender);
    std::vector<std::string> warnings;
    pf::util::msg_set_sink([&warnings](pf::util::MsgLevel, std::string_view t) { warnings.emplace_back(t); });
    std::string out = listing();
    pf::util::msg_set_sink({});
    EXPECT_EQ(out, kHead + listed("incoming", "GOOD1", 1700000005, static_cast<long>(good.size()), "g@x", {"g1@x"}));
    ASSERT_EQ(warnings.size(), 1u);
    EXPECT_EQ(warnings[0], "NOSEND1: missing sender address:  -- skipping remainder of this file");
}

TEST_F(ShowqReportTest, DuplicateSenderEndsTheListingWhereTheReferenceDies) {
    std::string good = simple_file("g@x", {"g1@x"}, 1700000005);
    write_file("incoming", "GOOD1", good);
    std::string two = encode_record('T', "1700000001 0") + encode_record('S', "one@x") + encode_record('R', "r1@x") +
                      encode_record('S', "two@x") + encode_record('R', "r2@x") + encode_record('E', "");
    write_file("hold", "TWOSEND", two);
    std::vector<std::string> warnings;
    pf::util::msg_set_sink([&warnings](pf::util::MsgLevel, std::string_view t) { warnings.emplace_back(t); });
    std::string out = listing();
    pf::util::msg_set_sink({});
    // TWOSEND's partial listing stayed in the reference's stream buffer.
    EXPECT_EQ(out, kHead + listed("incoming", "GOOD1", 1700000005, static_cast<long>(good.size()), "g@x", {"g1@x"}));
    ASSERT_EQ(warnings.size(), 1u);
    EXPECT_EQ(warnings[0], "TWOSEND: duplicate sender address: two@x -- skipping remainder of this file");
}

// A long listing before the second sender: the reference had written its
// full 4096-byte buffers of it; exactly those bytes arrive.
TEST_F(ShowqReportTest, DuplicateSenderAfterManyRecipientsKeepsTheWrittenBuffers) {
    std::string good = simple_file("g@x", {"g1@x"}, 1700000005);
    write_file("incoming", "GOOD1", good);
    std::vector<std::string> rcpts;
    for (int i = 0; i < 3000; ++i) rcpts.push_back(fmt::format("rcpt{:05}@example.org", i));
    std::string two = encode_record('T', "1700000001 0") + encode_record('S', "one@x");
    for (const auto& r : rcpts) two += encode_record('R', r);
    two += encode_record('S', "two@x") + encode_record('E', "");
    write_file("hold", "TWOSEND", two);
    pf::util::msg_set_quiet(true);
    std::string out = listing();
    pf::util::msg_set_quiet(false);
    std::string before = kHead + listed("incoming", "GOOD1", 1700000005, static_cast<long>(good.size()), "g@x", {"g1@x"});
    std::string partial = listed("hold", "TWOSEND", 1700000001, static_cast<long>(two.size()), "one@x", rcpts);
    ASSERT_GT(partial.size(), 3 * 32768u);
    std::size_t written = (partial.size() - 1) / 4096 * 4096;
    EXPECT_EQ(out, before + partial.substr(0, written));
}

TEST_F(ShowqReportTest, ReferenceBufferArithmetic) {
    for (std::size_t n : {0u, 2u, 4095u, 4096u, 4097u, 8192u, 8193u, 70000u}) {
        std::string bytes;
        pf::showq::ShowqOutput out([&bytes](std::string_view b) {
            bytes.append(b);
            return true;
        });
        out.attr("a", "b");  // 4 bytes, then a flush point
        out.flush_point();
        if (n > 0) out.attr(std::string(n - 2, 'x'), "");  // n bytes: name, NUL, empty value, NUL
        out.abandon();
        std::size_t expect = 4 + (n == 0 ? 0 : (n - 1) / 4096 * 4096);
        EXPECT_EQ(bytes.size(), expect) << n;
        EXPECT_TRUE(out.failed());
    }
}

TEST_F(ShowqReportTest, TruncatedFileEndsItsListingOnly) {
    std::string full = message("s@x", {{'R', "r1@x"}, {'R', "r2@x"}});
    write_file("hold", "TRUNC1", full.substr(0, full.find("r1@x") + 2));
    write_file("hold", "GOOD1", message("g@x", {{'R', "g1@x"}}));
    std::string out = listing();
    EXPECT_NE(out.find("TRUNC1"), std::string::npos);
    EXPECT_EQ(out.find("r1@x"), std::string::npos);
    EXPECT_NE(out.find("g1@x"), std::string::npos);
    EXPECT_EQ(out.back(), '\0');
}

// The shortcut for plain addresses lists every address as the general
// path (quote the local-part, then make it printable) does.
TEST_F(ShowqReportTest, AddressesListedAsQuotedAndPrintable) {
    const std::vector<std::string> addresses = {
        "plain@example.org", "a@b@example.org", ".lead@x", "trail.@x", "dou..ble@x", "a b@x", "q\"uote@x",
        "@route,@r2:user@x", "@nocolon@x", "bare", "x@d\x01main", "tab\t@x", "ok.dots.here@x", "8bit\xc3\xa9@x",
        "del\x7f@x", "paren(x)@y", "brack[x]@y", "colon:x@y", "semi;x@y", "comma,x@y", "angle<x>@y", "back\\x@y",
        "plus+tag@x", "x@", "@",
        // UTF-8 shaped or not, in the local-part and in the domain.
        "\xc3\xa9t\xc3\xa9@x", "\xc3@x", "\x80@x", "a\xc3\xa9.b@x", "a.\xc3\xa9@x", "\xc3\xa9.@x", ".\xc3\xa9@x",
        "\xc3\xa9..b@x", "x@d\xc3\xa9main", "x@d\xc3", "x@\xff", "\xf0\x9f\x98\x80@x", "\xc1\x81@x", "\xfe\x80@x",
        "\xff\x80@x", "a\xc3\xa9\xa9\xa9@x", "\xc3\xa9@\xc3\xa9.x", "a\xc3@\xa9x", "\xc3\xa9 b@x", "\xe2\x80@x"};
    std::vector<std::pair<char, std::string>> rcpts;
    for (const auto& a : addresses) rcpts.emplace_back('R', a);
    write_file("hold", "ADDR1", message("s@x", rcpts));
    for (bool utf8 : {true, false}) {
        settings_.utf8 = utf8;
        std::string out = listing();
        for (const auto& a : addresses) {
            std::string listed = pf::util::printable(pf::mail::quote_822_local(a), utf8);
            EXPECT_NE(out.find(std::string("recipient\0", 10) + listed + std::string("\0reason\0\0", 9)),
                      std::string::npos)
                << a << " utf8 " << utf8;
        }
    }
}

TEST_F(ShowqReportTest, WriterFailureStopsTheScan) {
    for (int i = 0; i < 5; ++i) write_file("hold", fmt::format("ID{}", i), message("s@x", {{'R', "r@x"}}));
    int calls = 0;
    pf::showq::ShowqOutput out([&calls](std::string_view) { return ++calls < 1; });
    pf::showq::showq_scan(out, settings_);
    EXPECT_TRUE(out.failed());
    EXPECT_EQ(calls, 1);
}

}  // namespace

namespace {

std::size_t open_descriptors() {
    return static_cast<std::size_t>(std::distance(fs::directory_iterator("/proc/self/fd"), fs::directory_iterator{}));
}

}  // namespace

// Queue files are closed in runs of descriptors (close_range): every file
// is listed, every one is closed by the end, and descriptors that are not
// the scan's (around a hole the kernel fills with a queue file) survive.
TEST_F(ShowqReportTest, ClosesEveryQueueFileAndNothingElse) {
    for (int i = 0; i < 150; ++i) {
        write_file("hold", fmt::format("HOLD{:04}", i), message("s@example.org", {{'R', "r@example.org"}}));
        write_file("deferred", fmt::format("DEF{:04}", i), message("s@example.org", {{'R', "r@example.org"}}));
    }
    int keep1 = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    int hole = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    int keep2 = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    ASSERT_GE(keep1, 0);
    ASSERT_GE(keep2, 0);
    ::close(hole);
    std::size_t before = open_descriptors();
    std::string bytes = listing();
    EXPECT_EQ(open_descriptors(), before);
    EXPECT_EQ(::fcntl(keep1, F_GETFD), FD_CLOEXEC);
    EXPECT_EQ(::fcntl(keep2, F_GETFD), FD_CLOEXEC);
    std::size_t listed = 0;
    for (std::size_t at = 0; (at = bytes.find(std::string("queue_id\0", 9), at)) != std::string::npos; ++at) ++listed;
    EXPECT_EQ(listed, 300u);
    ::close(keep1);
    ::close(keep2);
}
