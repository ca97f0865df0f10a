// Block-buffered output; see block_writer.h.
#include "util/block_writer.h"

#include "util/write_all.h"

#include <unistd.h>

#include <cerrno>

namespace pf::util {

bool BlockWriter::write(std::string_view bytes) {
    while (!bytes.empty()) {
        size_t room = kBlockSize - buffer_.size();
        size_t take = bytes.size() < room ? bytes.size() : room;
        buffer_.append(bytes.substr(0, take));
        bytes.remove_prefix(take);
        if (buffer_.size() == kBlockSize && !flush()) return false;
    }
    return true;
}

bool BlockWriter::flush() {
    bool ok = write_all(fd_, buffer_);
    buffer_.clear();
    return ok;
}

}  // namespace pf::util
