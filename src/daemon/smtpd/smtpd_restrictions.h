// The protocol engine's door to the access restrictions: one call per
// restriction point (connect, HELO, MAIL, SIZE, RCPT, VRFY, DATA, end of
// data, ETRN) answering "no decision" or a reply with the lines to log.
//
// The work is the restriction engine's (smtpd_check.h, SmtpdCheck); this
// thin layer keeps the protocol engine's calls in one place (and lets a
// unit test put a stand-in behind them).
//
// Trust: CheckState holds network input; the configuration is trusted.
#pragma once

#include "daemon/smtpd/smtpd_check.h"

#include <memory>

namespace pf::smtpd {

class Restrictions {
public:
    explicit Restrictions(const config::Config& config);
    ~Restrictions();
    Restrictions(const Restrictions&) = delete;
    Restrictions& operator=(const Restrictions&) = delete;

    void begin_session();
    void end_session();
    void reset_transaction();

    CheckResult check_client(const CheckState& state);
    CheckResult check_helo(const CheckState& state);
    CheckResult check_mail(const CheckState& state);
    CheckResult check_size(const CheckState& state);
    CheckResult check_rcpt(const CheckState& state);
    CheckResult check_vrfy(const CheckState& state);
    CheckResult check_data(const CheckState& state);
    CheckResult check_eod(const CheckState& state);
    CheckResult check_etrn(const CheckState& state);
    // local_header_rewrite_clients: context becomes "local" or "remote"
    // (unchanged when the result carries an error reply).
    CheckResult check_rewrite(const CheckState& state, std::string& context);
    const MessageActions& actions() const;

    struct Impl;

private:
    std::unique_ptr<Impl> impl_;
};

// The reference's reject log line: "<queue id or NOQUEUE>: reject: <where>
// from <client>: <reply>; from=<s> to=<r> proto=P helo=<h>" (the from/to
// parts only when known).
std::string reject_log_line(const CheckState& state, std::string_view where, std::string_view reply,
                            bool with_sender, bool with_recipient);

}  // namespace pf::smtpd
