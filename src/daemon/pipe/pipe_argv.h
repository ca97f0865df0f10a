// Macro expansion in pipe(8)'s argv= words, as the reference does it:
// $name, ${name} and $(name) (nested braces allowed), "$$" for a literal
// "$", and only the names pipe(8) documents: client_address, client_helo,
// client_hostname, client_port, client_protocol, domain, extension,
// mailbox, nexthop, original_recipient, queue_id, recipient, sasl_method,
// sasl_sender, sasl_username, sender, size, user. Anything else (also the
// ${name?text} and ${name:text} forms, which pipe(8) of the reference does
// not accept) is an "unknown macro name" warning and the delivery is
// deferred as a configuration error. A word that names a per-recipient
// macro (recipient, original_recipient, user, extension, mailbox, domain)
// becomes one word per recipient; a recipient whose ${user} would be empty
// contributes no word. Values are substituted as they are, never expanded
// again.
//
// Address forms: flag q quotes the local-part of recipient,
// original_recipient and sender; u folds recipient and original_recipient
// local-parts (and user, extension, mailbox) to lower case; h folds their
// domains and the whole of domain and nexthop.
//
// Trust: the values come from mail (addresses, client names): they are
// only ever single argv elements, never seen by a shell.
#pragma once

#include "ipc/delivery_request.h"

#include <expected>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace pf::pipe {

struct MacroContext {
    std::string service;            // for the warning text
    std::string config_directory;   // idem
    unsigned flags = 0;             // PipeFlags (q, u, h matter here)
    std::string recipient_delimiter;
    std::string double_bounce_sender = "double-bounce";
    bool owner_request_special = true;
    std::string null_sender = "MAILER-DAEMON";
};

using WarnFn = std::function<void(const std::string&)>;

// The expanded command; unexpected() when a word is bad (the warning has
// been given through warn).
std::expected<std::vector<std::string>, std::string> expand_pipe_argv(const std::vector<std::string>& command,
                                                                      const ipc::DeliveryRequest& request,
                                                                      const MacroContext& context,
                                                                      const WarnFn& warn);

// The value of ${sender}: the null-sender replacement for "", quoted with q
// unless it is empty.
std::string pipe_sender(const ipc::DeliveryRequest& request, const MacroContext& context);

}  // namespace pf::pipe
