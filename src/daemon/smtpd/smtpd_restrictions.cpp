// The protocol engine's restriction calls, forwarded to the restriction
// engine (SmtpdCheck, smtpd_check.h), plus the reference's reject log
// line for the rejections the protocol engine makes itself (bare <LF>).
//
// Trust: CheckState carries network input; the engine treats it so.
#include "daemon/smtpd/smtpd_restrictions.h"

#include <fmt/core.h>

namespace pf::smtpd {

struct Restrictions::Impl {
    explicit Impl(const config::Config& config) : check(config) {}
    SmtpdCheck check;
};

Restrictions::Restrictions(const config::Config& config) : impl_(std::make_unique<Impl>(config)) {}
Restrictions::~Restrictions() = default;

void Restrictions::begin_session() { impl_->check.begin_session(); }
void Restrictions::end_session() { impl_->check.end_session(); }
void Restrictions::reset_transaction() { impl_->check.reset_transaction(); }

CheckResult Restrictions::check_client(const CheckState& state) { return impl_->check.check_client(state); }
CheckResult Restrictions::check_helo(const CheckState& state) { return impl_->check.check_helo(state); }
CheckResult Restrictions::check_mail(const CheckState& state) { return impl_->check.check_mail(state); }
CheckResult Restrictions::check_size(const CheckState& state) { return impl_->check.check_size(state); }
CheckResult Restrictions::check_rcpt(const CheckState& state) { return impl_->check.check_rcpt(state); }
CheckResult Restrictions::check_vrfy(const CheckState& state) { return impl_->check.check_vrfy(state); }
CheckResult Restrictions::check_data(const CheckState& state) { return impl_->check.check_data(state); }
CheckResult Restrictions::check_eod(const CheckState& state) { return impl_->check.check_eod(state); }
CheckResult Restrictions::check_etrn(const CheckState& state) { return impl_->check.check_etrn(state); }
CheckResult Restrictions::check_rewrite(const CheckState& state, std::string& context) {
    return impl_->check.check_rewrite(state, context);
}
const MessageActions& Restrictions::actions() const { return impl_->check.actions(); }

std::string reject_log_line(const CheckState& state, std::string_view where, std::string_view reply,
                            bool with_sender, bool with_recipient) {
    std::string line = fmt::format("{}: reject: {} from {}[{}]: {};", state.queue_id.empty() ? "NOQUEUE" : state.queue_id,
                                   where, state.client_name, state.client_addr, reply);
    if (with_sender) line += fmt::format(" from=<{}>", state.sender);
    if (with_recipient) line += fmt::format(" to=<{}>", state.recipient);
    line += fmt::format(" proto={}", state.protocol);
    if (!state.helo_name.empty()) line += fmt::format(" helo=<{}>", state.helo_name);
    return line;
}

}  // namespace pf::smtpd
