// Unit tests of queue/record's decode_record_view: the same records,
// lengths and errors as decode_record, with the data pointing into the
// caller's buffer (cleanup decodes its clients' records without copies).
#include "queue/record.h"

#include <gtest/gtest.h>

#include <string>

namespace pf::queue {
namespace {

TEST(RecordView, AgreesWithDecodeRecord) {
    std::string wire;
    append_record(wire, rec::kNorm, "Subject: hello");
    append_record(wire, rec::kCont, std::string(300, 'x'));  // a two-byte length
    append_record(wire, rec::kEnd, "");
    std::size_t pos = 0;
    for (char want : {rec::kNorm, rec::kCont, rec::kEnd}) {
        std::size_t used_view = 0, used_copy = 0;
        auto view = decode_record_view(std::string_view(wire).substr(pos), 0, used_view);
        auto copy = decode_record(std::string_view(wire).substr(pos), 0, used_copy);
        ASSERT_TRUE(view);
        ASSERT_TRUE(copy);
        EXPECT_EQ(view->type, want);
        EXPECT_EQ(view->type, copy->type);
        EXPECT_EQ(view->data, copy->data);
        EXPECT_EQ(used_view, used_copy);
        // The view points into the buffer.
        EXPECT_TRUE(view->data.empty() || (view->data.data() > wire.data() &&
                                           view->data.data() < wire.data() + wire.size()));
        pos += used_view;
    }
    std::size_t used = 0;
    EXPECT_EQ(decode_record_view(std::string_view(wire).substr(pos), 0, used).error(), RecordError::eof);
}

TEST(RecordView, TruncatedAndTooLong) {
    std::string wire;
    append_record(wire, rec::kNorm, std::string(200, 'y'));
    std::size_t used = 0;
    for (std::size_t cut = 1; cut < wire.size(); ++cut)
        EXPECT_EQ(decode_record_view(std::string_view(wire).substr(0, cut), 0, used).error(),
                  RecordError::truncated)
            << cut;
    EXPECT_EQ(decode_record_view(wire, 100, used).error(), RecordError::too_long);
    EXPECT_EQ(decode_record_view(std::string("N\xff\xff\xff\xff\xff\xff\x01", 8), 0, used).error(),
              RecordError::bad_length);
}

}  // namespace
}  // namespace pf::queue
