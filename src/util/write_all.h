// Writing a whole buffer to a blocking descriptor: short writes are
// continued and EINTR retried, as the reference's write_buf() without its
// deadline. For files and pipes where the caller reports its own error text
// from errno.
//
// Trust: none needed; the bytes are the caller's.
#pragma once

#include <string_view>

namespace pf::util {

// True when every byte was written; false with errno set otherwise.
bool write_all(int fd, std::string_view data);

}  // namespace pf::util
