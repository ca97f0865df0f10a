// mailbox_delivery_lock / virtual_mailbox_lock: a list of lock style names
// (fcntl, flock, dotlock; separators blanks and commas), case-sensitive as
// the reference's name table, with its fatal text for an unknown name:
//   unknown mailbox_delivery_lock value "x" in "fcntl, x"
// (the reference names mailbox_delivery_lock even for virtual_mailbox_lock;
// the caller chooses the name it passes).
//
// Trust: the value comes from main.cf (administrator text), any bytes.
#include "mailbox/mailbox.h"

#include "util/strings.h"

#include <cerrno>
#include <fmt/core.h>

namespace pf::mailbox {

std::expected<unsigned, std::string> parse_lock_styles(std::string_view value, std::string_view parameter_name) {
    unsigned mask = 0;
    for (std::string_view word : util::split_tokens(value, ", \t\r\n")) {
        if (word == "flock")
            mask |= kLockFlock;
        else if (word == "fcntl")
            mask |= kLockFcntl;
        else if (word == "dotlock")
            mask |= kLockDotlock;
        else
            return std::unexpected(fmt::format("unknown {} value \"{}\" in \"{}\"", parameter_name, word, value));
    }
    return mask;
}

std::string mbox_dsn(int error_number, std::string_view def_status) {
    if (error_number == EAGAIN || error_number == ESTALE) return "4.2.0";
    if (error_number == ENOSPC) return "4.3.0";
    if (error_number == EDQUOT || error_number == EFBIG) return "5.2.2";
    return std::string(def_status);
}

}  // namespace pf::mailbox
