// Bytes of outside input made fit for a log line, as the reference's
// escape() does: printable ASCII as is (a backslash doubled), C escapes for
// the control characters that have one, three-digit octal otherwise.
// Shared by postscreen's logging and the haproxy header parser.
//
// Trust: any bytes.
#pragma once

#include <string>
#include <string_view>

namespace pf::util {

std::string escape_bytes(std::string_view bytes);

}  // namespace pf::util
