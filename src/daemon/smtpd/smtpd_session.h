// The pieces of one SMTP conversation that the command handlers share:
// replies (with the reference's error accounting and error sleep), the
// state the restriction engine sees, the cleanup stream of a transaction,
// and the handlers themselves (smtpd_commands.cpp, smtpd_mail.cpp,
// smtpd_data.cpp, smtpd_xclient.cpp). smtpd_session.cpp runs the loop.
//
// Trust: Session holds client bytes; handlers check every argument.
#pragma once

#include "daemon/smtpd/smtpd_restrictions.h"
#include "daemon/smtpd/smtpd_state.h"
#include "ipc/rewrite_client.h"

#include <string>
#include <string_view>
#include <vector>

namespace pf::smtpd {

// The process-wide context: settings, restriction engine, configuration.
struct Server {
    const config::Config* config = nullptr;
    Settings settings;
    std::unique_ptr<Restrictions> restrictions;
    std::unique_ptr<ipc::RewriteClient> rewrite;
    unsigned cleanup_flags = 0;   // receive_override_options applied
    // sendmail -bs: the stand-alone server on stdin/stdout, run by a user
    // other than mail_owner (smtpd.cpp). No restrictions, anvil, XCLIENT,
    // XFORWARD, TLS or before-queue filter; messages go through postdrop
    // (smtpd_sink.h).
    bool standalone = false;
    // master.cf type pass (postscreen hands clients over): no check for a
    // client that talked before the greeting, as the reference skips it.
    bool passed = false;
};

// One word of a command line, as the reference's tokenizer gives it.
struct Token {
    std::string text;
};

// The outcome of a handler: ok (counted as success) or not.
enum class Outcome { ok, error };

// Queues one reply line (CRLF added) and flushes; 4xx/5xx replies sleep
// smtpd_error_sleep_time once error_count reached the soft limit.
void reply(Server& server, Session& s, std::string_view text);
// error_count++ then reply(): a failed command.
Outcome fail(Server& server, Session& s, std::string_view text);

// The restriction engine's view of the session.
CheckState check_state(const Session& s);
// Sends the engine's log lines and (when there is one) its reply; true when
// the command was refused.
bool apply_check(Server& server, Session& s, const CheckResult& result);

// Forgets the transaction: aborts an open cleanup stream (no E record: the
// queue file is removed), clears sender, recipients, DSN and BDAT state.
void reset_transaction(Server& server, Session& s);

// "name[addr]".
std::string make_namaddr(const Session& s);

// Handlers: args are the words after the command name.
Outcome cmd_helo(Server&, Session&, const std::vector<Token>& args);
Outcome cmd_ehlo(Server&, Session&, const std::vector<Token>& args);
Outcome cmd_rset(Server&, Session&, const std::vector<Token>& args);
Outcome cmd_noop(Server&, Session&, const std::vector<Token>& args);
Outcome cmd_quit(Server&, Session&, const std::vector<Token>& args);
Outcome cmd_vrfy(Server&, Session&, const std::vector<Token>& args);
Outcome cmd_etrn(Server&, Session&, const std::vector<Token>& args);
Outcome cmd_mail(Server&, Session&, const std::vector<Token>& args);
Outcome cmd_rcpt(Server&, Session&, const std::vector<Token>& args);
Outcome cmd_data(Server&, Session&, const std::vector<Token>& args);
Outcome cmd_bdat(Server&, Session&, const std::vector<Token>& args);
Outcome cmd_xclient(Server&, Session&, const std::vector<Token>& args);
Outcome cmd_xforward(Server&, Session&, const std::vector<Token>& args);
// The hooks for TLS and SASL: until those are built, the replies the
// reference gives when they are not configured.
Outcome cmd_starttls(Server&, Session&, const std::vector<Token>& args);
Outcome cmd_auth(Server&, Session&, const std::vector<Token>& args);

// The reference's command tokenizer: words split at blanks; a quoted
// string or a <...> part stays inside its word.
std::vector<Token> tokenize_command(std::string_view line);

// Address extraction of MAIL FROM / RCPT TO / VRFY: the address part of
// one argument ("<addr>" or "addr", outer brackets and a source route
// dropped, quotes removed: the internal form). An unbalanced argument is
// refused quietly; an address trivial-rewrite calls malformed, or an
// empty one where none is allowed, is refused with the reference's
// "Illegal address syntax" warning.
struct ExtractedAddress {
    enum class Status { ok, bad, illegal } status = Status::ok;
    std::string address;   // internal form
    std::string external;  // as the client wrote it, without <> and route
};
ExtractedAddress extract_address(Server& server, const Session& s, std::string_view arg, bool allow_empty);

// Whether the client may use XCLIENT / XFORWARD.
bool xclient_allowed(Server& server, const Session& s);
// The session's discarded EHLO keywords (smtpd_commands.cpp), at connect.
void ehlo_discard_setup(Server& server, Session& s);
bool xforward_allowed(Server& server, const Session& s);

// The connect-time client check and the greeting (or the refusal in its
// place); also after XCLIENT, which starts the session over.
void greet_client(Server& server, Session& s);

// Runs one conversation on a connected socket.
void smtpd_session(Server& server, int fd);

}  // namespace pf::smtpd
