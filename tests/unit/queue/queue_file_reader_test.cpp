// Unit tests for the queue-file reader (queue/queue_file_reader.h) and the
// record names (queue/record.h), against the behaviour observed from the
// reference 3.7.11: pointer following, padding skipping, the length limits
// of the record framing, the fixed-width size record, and the hash
// directories of IDs seen in a real reference queue.
#include "queue/queue_file.h"
#include "queue/queue_file_reader.h"
#include "queue/record.h"
#include "util/msg.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <vector>

namespace pf::queue {
namespace {

struct MemFile {
    std::FILE* f;
    explicit MemFile(const std::string& data) {
        f = std::tmpfile();
        std::fwrite(data.data(), 1, data.size(), f);
        std::rewind(f);
    }
    ~MemFile() { std::fclose(f); }
};

std::string simple_file(bool with_pointer) {
    // C, T, S, R, [p -> tail], M, N, X, E, [tail: R, p -> M]
    SizeRecord size{.data_size = 0, .data_offset = 0, .rcpt_count = 1};
    std::string head = encode_record(rec::kSize, format_size_record(size));
    head += encode_record(rec::kTime, "1700000000 1");
    head += encode_record(rec::kFrom, "a@example.test");
    head += encode_record(rec::kRcpt, "b@example.test");
    const std::size_t ptr_len = 2 + kPointerWidth;
    std::size_t m_offset = head.size() + (with_pointer ? ptr_len : 0);
    std::string body = encode_record(rec::kMessage, "");
    long data_offset = static_cast<long>(m_offset + body.size());
    body += encode_record(rec::kNorm, "Subject: x");
    body += encode_record(rec::kNorm, "");
    body += encode_record(rec::kNorm, "body");
    long data_size = static_cast<long>(m_offset + body.size()) - data_offset;
    body += encode_record(rec::kExtracted, "");
    body += encode_record(rec::kEnd, "");
    size.data_offset = data_offset;
    size.data_size = data_size;
    std::string fixed = encode_record(rec::kSize, format_size_record(size));
    head.replace(0, fixed.size(), fixed);
    if (!with_pointer) return head + body;
    long tail = static_cast<long>(m_offset + body.size());
    std::string out = head + encode_record(rec::kPointer, format_pointer(tail)) + body;
    out += encode_record(rec::kRcpt, "added@example.test");
    out += encode_record(rec::kPointer, format_pointer(static_cast<long>(m_offset)));
    return out;
}

TEST(QueueRecordNames, AsTheReferencePrintsThem) {
    EXPECT_EQ(record_type_name('C'), "message_size");
    EXPECT_EQ(record_type_name('L'), "content_filter");
    EXPECT_EQ(record_type_name('f'), "flags");
    EXPECT_EQ(record_type_name('<'), "dsn_return_flags");
    EXPECT_EQ(record_type_name('d'), "unknown_record_type");
    EXPECT_EQ(record_type_name('m'), "unknown_record_type");
    EXPECT_EQ(record_type_name('Z'), "unknown_record_type");
    EXPECT_EQ(record_type_name('w'), "padding");
}

TEST(QueueRecordFraming, MultiByteLengths) {
    std::string data(300, 'x');
    std::string enc = encode_record('N', data);
    EXPECT_EQ(static_cast<unsigned char>(enc[1]), 0x80 | (300 & 0x7f));
    EXPECT_EQ(static_cast<unsigned char>(enc[2]), 300 >> 7);
    std::size_t used = 0;
    auto back = decode_record(enc, 0, used);
    ASSERT_TRUE(back.has_value());
    EXPECT_EQ(back->data, data);
    EXPECT_EQ(used, enc.size());
    std::string big(20000, 'y');
    MemFile f(encode_record('N', big));
    RecordReader reader(f.f, "big");
    std::string got;
    EXPECT_EQ(reader.get(got), 'N');
    EXPECT_EQ(got, big);
}

TEST(QueueRecordReader, DamagedLengths) {
    util::msg_set_quiet(true);
    std::string got;
    {
        MemFile f(std::string("C\xff\xff\xff\xff\xff\xff", 7));
        RecordReader r(f.f, "x");
        EXPECT_EQ(r.get(got), kRecError);  // too many length bits
    }
    {
        MemFile f(std::string("C\xff\xff\xff\xff\x7f", 6));
        RecordReader r(f.f, "x");
        EXPECT_EQ(r.get(got), kRecError);  // negative in a C int
    }
    {
        MemFile f(std::string("T\x03" "12", 4));
        RecordReader r(f.f, "x");
        EXPECT_EQ(r.get(got), kRecError);  // EOF in data
    }
    {
        MemFile f(std::string("T\x05" "12345", 7));
        RecordReader r(f.f, "x");
        EXPECT_EQ(r.get(got, kReadDefault, 4), kRecError);  // over the limit
    }
    {
        MemFile f("");
        RecordReader r(f.f, "x");
        EXPECT_EQ(r.get(got), kRecEof);
    }
    util::msg_set_quiet(false);
}

TEST(QueueRecordReader, PointersAndPadding) {
    MemFile f(simple_file(true));
    RecordReader reader(f.f, "p");
    std::string types;
    std::string data;
    for (int t; (t = reader.get(data)) >= 0;) types.push_back(static_cast<char>(t));
    EXPECT_EQ(types, "CTSRRMNNNXE");
    // Raw: the pointers are records like any other.
    std::rewind(f.f);
    RecordReader raw(f.f, "p");
    types.clear();
    for (int t; (t = raw.get(data, 0)) >= 0;) types.push_back(static_cast<char>(t));
    EXPECT_EQ(types, "CTSRpMNNNXERp");
    // Padding is skipped; the dummy pointer "0" goes nowhere.
    MemFile g(encode_record('w', "   0") + encode_record('p', format_pointer(0)) + encode_record('E', ""));
    RecordReader pad(g.f, "w");
    EXPECT_EQ(pad.get(data), 'E');
}

TEST(QueueRecordReader, PointerLoopIsCut) {
    util::msg_set_quiet(true);
    std::string loop = encode_record('T', "1") + encode_record('p', format_pointer(3));
    MemFile f(loop);
    RecordReader reader(f.f, "loop");
    std::string data;
    EXPECT_EQ(reader.get(data), 'T');
    int t;
    int n = 0;
    while ((t = reader.get(data)) == 'T' && n < 100000) ++n;
    EXPECT_EQ(t, kRecError);
    EXPECT_LE(n, 10001);
    EXPECT_EQ(reader.go_to("12x"), kRecError);
    util::msg_set_quiet(false);
}

TEST(QueueSizeRecord, FixedWidth) {
    SizeRecord s{.data_size = 273, .data_offset = 279, .rcpt_count = 1, .content_length = 273};
    std::string text = format_size_record(s);
    EXPECT_EQ(text.size(), 95u);
    EXPECT_EQ(text.substr(0, 16), "            273 ");
    SizeRecord back = parse_size_record(text);
    EXPECT_EQ(back.fields, 6);
    EXPECT_EQ(back.data_offset, 279);
    EXPECT_EQ(back.content_length, 273);
    EXPECT_EQ(parse_size_record("12").fields, 1);
    EXPECT_EQ(format_pointer(42), "             42");
}

TEST(QueueHeaderLine, AsTheReferenceDecides) {
    EXPECT_TRUE(is_header_line("Subject: x"));
    EXPECT_TRUE(is_header_line("Subject : x"));
    EXPECT_TRUE(is_header_line("X:"));
    EXPECT_FALSE(is_header_line(": x"));
    EXPECT_FALSE(is_header_line(" Subject: x"));
    EXPECT_FALSE(is_header_line("Sub ject: x"));
    EXPECT_FALSE(is_header_line("no colon"));
    EXPECT_FALSE(is_header_line("caf\xe9: x"));
    EXPECT_FALSE(is_header_line(""));
}

TEST(QueueWalk, SectionsAndSkippingContent) {
    MemFile f(simple_file(true));
    RecordReader reader(f.f, "walk");
    std::vector<std::pair<Section, char>> seen;
    auto ok = walk_queue_file(reader, false, [&](const WalkedRecord& r) {
        seen.emplace_back(r.section, r.type);
        return true;
    });
    ASSERT_TRUE(ok.has_value()) << ok.error();
    std::string types;
    for (auto& [section, type] : seen) types.push_back(type);
    EXPECT_EQ(types, "CTSRRMXE");
    EXPECT_EQ(seen.back().first, Section::extracted);
    seen.clear();
    ASSERT_TRUE(walk_queue_file(reader, true, [&](const WalkedRecord& r) {
                    seen.emplace_back(r.section, r.type);
                    return true;
                }).has_value());
    EXPECT_EQ(seen.size(), 11u);
    EXPECT_EQ(seen[6].first, Section::content);
}

TEST(QueueWalk, DamagedFileIsAnError) {
    util::msg_set_quiet(true);
    std::string file = simple_file(false);
    MemFile truncated(file.substr(0, file.size() - 2));
    RecordReader r1(truncated.f, "t");
    EXPECT_FALSE(walk_queue_file(r1, true, [](const WalkedRecord&) { return true; }).has_value());
    MemFile wrong(encode_record('N', "text first"));
    RecordReader r2(wrong.f, "w");
    EXPECT_FALSE(walk_queue_file(r2, true, [](const WalkedRecord&) { return true; }).has_value());
    util::msg_set_quiet(false);
}

// Paths seen in a reference queue (make-fixtures.sh, deferred at depth 1
// and, with long IDs, at depth 2).
TEST(QueueLayout, ObservedReferencePaths) {
    QueueLayout layout;
    layout.queue_directory = "/q";
    layout.hashed = {"deferred", "defer"};
    EXPECT_EQ(layout.path("deferred", "85FDAA97426", true), "deferred/8/85FDAA97426");
    layout.long_ids = true;
    layout.hash_depth = 2;
    EXPECT_EQ(layout.path("deferred", "4jbxJh6JKLz1cjnr", true), "deferred/D/8/4jbxJh6JKLz1cjnr");
    EXPECT_EQ(layout.path("deferred", "4jbxJh6X1pz1cjnt", true), "deferred/E/0/4jbxJh6X1pz1cjnt");
}

}  // namespace
}  // namespace pf::queue
