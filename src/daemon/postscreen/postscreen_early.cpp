// postscreen(8)'s tests before the greeting, as the reference runs them:
// the pregreet test (the "220-" teaser, then postscreen_greet_wait seconds
// in which a well-behaved client says nothing) and the DNSBL score, both
// at once; at the end of the wait (or when both are done early) the
// client is handed off, dropped (521), or sent to the dummy SMTP engine
// that rejects its recipients (enforce, 550).
//
// Trust: what the client sends early is only counted and logged (escaped,
// at most 100 characters), never interpreted.
#include "daemon/postscreen/postscreen_state.h"

#include "util/msg.h"

#include <sys/socket.h>

#include <climits>
#include <fmt/core.h>

namespace pf::postscreen {

namespace {

constexpr int kReadBufSize = 1024;

// A negative total at or below the allowlist threshold lets the client
// skip the other tests (they count as passed until the DNSBL result expires).
void allowlist_non_dnsbl(Session& s) {
    const Settings& st = settings();
    if ((s.flags & kAnyFail) == 0 && s.dnsbl_score < st.dnsbl_threshold && st.dnsbl_allowlist_threshold < 0 &&
        s.dnsbl_score <= st.dnsbl_allowlist_threshold) {
        long now = static_cast<long>(std::time(nullptr));
        for (int i = 0; i < kTestCount; ++i) {
            if (i == kDnsbl) continue;
            if ((s.flags & todo_flag(i)) && !(s.flags & pass_flag(i))) s.flags |= done_flag(i) | pass_flag(i);
            if (s.info->expire[i] < now + s.dnsbl_ttl) s.info->expire[i] = now + s.dnsbl_ttl;
        }
    }
}

void collect_score(Session& s) {
    s.dnsbl_score = dnsbl_retrieve(s, s.dnsbl_name, s.dnsbl_ttl);
    s.have_score = true;
    if (settings().dnsbl_allowlist_threshold < 0) allowlist_non_dnsbl(s);
}

void early_time_event(Session& s);

void early_read_event(Session& s) {
    const Settings& st = settings();
    clear_events(s);
    char buf[kReadBufSize];
    ssize_t n = ::recv(s.fd, buf, sizeof buf - 1, MSG_PEEK);
    if (n <= 0) {
        hangup_event(s);
        return;
    }
    long elapsed = 0;
    std::string delta = format_delta(s.start, &elapsed);
    std::string text = escape_text(std::string_view(buf, static_cast<std::size_t>(n)));
    if (text.size() > 100) text.resize(100);
    util::msg_info("PREGREET {} after {} from [{}]:{}: {}", n, delta, s.addr, s.port, text);
    s.flags |= fail_flag(kPregr);
    switch (st.greet_action) {
    case Action::drop:
        drop_session(s, "521 5.5.1 Protocol error\r\n");
        return;
    case Action::enforce:
        s.rcpt_reply = "550 5.5.1 Protocol error\r\n";
        s.flags |= kNoForward;
        break;
    case Action::ignore:
        break;
    }
    s.flags |= done_flag(kPregr);
    if (elapsed >= st.greet_wait || (s.flags & kEarlyDone) == todo_to_done(s.flags & kEarlyTodo))
        early_time_event(s);
    else
        set_timer(s, static_cast<int>(st.greet_wait - elapsed), early_time_event);
}

void early_time_event(Session& s) {
    const Settings& st = settings();
    clear_events(s);
    long now = static_cast<long>(std::time(nullptr));
    if ((s.flags & todo_flag(kPregr)) && (s.flags & (fail_flag(kPregr) | done_flag(kPregr))) == 0) {
        s.info->expire[kPregr] = now + st.greet_ttl;
        s.flags |= pass_flag(kPregr);
    }
    if ((s.flags & fail_flag(kPregr)) && st.greet_action == Action::ignore) s.flags &= ~fail_flag(kPregr);
    if (s.flags & todo_flag(kDnsbl)) {
        if (!s.have_score) collect_score(s);
        if (s.dnsbl_score < st.dnsbl_threshold) {
            s.info->expire[kDnsbl] = now + s.dnsbl_ttl;
            s.flags |= pass_flag(kDnsbl);
        } else {
            util::msg_info("DNSBL rank {} for [{}]:{}", s.dnsbl_score, s.addr, s.port);
            s.flags |= fail_flag(kDnsbl);
            switch (st.dnsbl_action) {
            case Action::drop:
                drop_session(s, fmt::format("521 5.7.1 Service unavailable; client [{}] blocked using {}\r\n", s.addr,
                                            s.dnsbl_name));
                return;
            case Action::enforce:
                s.rcpt_reply =
                    fmt::format("550 5.7.1 Service unavailable; client [{}] blocked using {}\r\n", s.addr, s.dnsbl_name);
                s.flags |= kNoForward;
                break;
            case Action::ignore:
                s.flags &= ~fail_flag(kDnsbl);
                break;
            }
        }
    }
    if ((s.flags & kNoForward) != 0 || (s.flags & kSmtpdPass) != todo_to_pass(s.flags & kSmtpdTodo))
        smtpd_tests(s);
    else
        conclude(s);
}

}  // namespace

// Called by the DNSBL client when every lookup for this client is in.
void early_dnsbl_done(Session& s) {
    collect_score(s);
    s.flags |= done_flag(kDnsbl);
    if ((s.flags & kEarlyDone) == todo_to_done(s.flags & kEarlyTodo)) set_timer_ms(s, 0, early_time_event);
}

void early_tests(Session& s) {
    const Settings& st = settings();
    begin_tests(s, "tests before SMTP handshake");
    if ((s.flags & todo_flag(kPregr)) && !st.teaser.empty() && !send_reply(s, st.teaser)) {
        hangup_event(s);
        return;
    }
    s.have_score = false;
    if (s.flags & todo_flag(kDnsbl)) dnsbl_request(s);
    if (s.flags & todo_flag(kPregr))
        watch_client(s, early_read_event, st.greet_wait, early_time_event);
    else
        set_timer(s, st.greet_wait, early_time_event);
}

}  // namespace pf::postscreen
