// Fuzz harness: queue-file records as qmgr, postcat and the swap read them
// (src/queue/record.h, queue_file_reader.h). The bytes are a queue file:
// the framing decoder runs over them as a stream, the stdio reader walks
// them with pointer following, padding skipping and the jump to the end,
// and the 'C' size record parser gets every record's payload. A damaged or
// hostile file must end in an error value, never a crash, a hang or an
// unbounded allocation.
#include "fuzz_support.h"
#include "queue/queue_file_reader.h"
#include "queue/record.h"

#include <cstdint>
#include <cstdio>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    pf::fuzz::init_once();
    std::string_view text = pf::fuzz::as_text(data, size);

    // The in-memory decoder, as cleanup reads a client's stream.
    std::size_t pos = 0;
    while (pos < text.size()) {
        std::size_t used = 0;
        auto r = pf::queue::decode_record(text.substr(pos), 1 << 16, used);
        if (!r || used == 0) break;
        (void)pf::queue::parse_size_record(r->data);
        pos += used;
    }

    // The stdio reader over the same bytes as a file.
    if (text.empty()) return 0;
    std::string copy(text);
    std::FILE* f = ::fmemopen(copy.data(), copy.size(), "r");
    if (!f) return 0;
    {
        pf::queue::RecordReader reader(f, "fuzz");
        std::string buf;
        for (int n = 0; n < 10000; ++n) {
            int type = reader.get(buf, pf::queue::kReadDefault, 1 << 16);
            if (type < 0) break;
        }
        std::rewind(f);
        pf::queue::RecordReader walker(f, "fuzz");
        for (bool with_content : {false, true}) {
            std::rewind(f);
            long visits = 0;
            (void)pf::queue::walk_queue_file(walker, with_content, [&](const pf::queue::WalkedRecord& w) {
                if (w.type == pf::queue::rec::kSize) (void)pf::queue::parse_size_record(w.data);
                return ++visits < 100000;
            });
        }
    }
    std::fclose(f);
    return 0;
}
