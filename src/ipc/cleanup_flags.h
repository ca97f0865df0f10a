// The cleanup flags a mail source asks for (services.h CleanupFlags), as
// the reference's input_transp and smtputf8_autodetect do it:
// receive_override_options (no_header_body_checks, no_milters,
// no_address_mappings, no_unknown_recipient_checks) switches features off
// for mail entering through smtpd, qmqpd and pickup; mail classes
// (internal_mail_filter_classes, smtputf8_autodetect_classes) name the
// sources that get a feature: sendmail, smtpd, qmqpd, forward, bounce,
// notify, verify, all.
//
// Trust: the values are the administrator's; unknown words are ignored.
#pragma once

#include <string_view>

namespace pf::ipc {

// Filter, milter, BCC and address-mapping flags less what
// receive_override_options switches off.
unsigned input_cleanup_flags(std::string_view receive_override_options);

// Whether a class list names mail_class (or "all").
bool mail_class_listed(std::string_view class_list, std::string_view mail_class);

}  // namespace pf::ipc
