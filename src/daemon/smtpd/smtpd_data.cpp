// DATA and BDAT (CHUNKING) as the reference's smtpd handles them: the
// preconditions and their replies, the Received: header smtpd puts first,
// the content copied to cleanup as N/L records (dot-unstuffing, the
// length limit per record, "From " on the first line as X-Mailbox-Line:),
// message_size_limit ("queue file size limit exceeded"), bare <LF>
// handling per smtpd_forbid_bare_newline, the end-of-data restrictions,
// and the final reply from cleanup's verdict ("250 2.0.0 Ok: queued as
// ID", "Ok: N bytes queued as ID" for BDAT). The reply is sent only after
// cleanup answered, i.e. after the queue file was fsync'ed.
//
// Trust: the content is client bytes, copied without interpretation
// except for the line structure.
#include "daemon/smtpd/smtpd_session.h"
#include "daemon/smtpd/smtpd_sasl.h"
#include "daemon/smtpd/smtpd_proxy.h"

#include "ipc/services.h"
#include "mail/address_quote.h"
#include "mail/mail_date.h"
#include "queue/record.h"
#include "util/msg.h"
#include "util/strings.h"

#include <fmt/core.h>

namespace pf::smtpd {

namespace rec = queue::rec;

namespace {

bool bare_newline_rejected(Server& server, const Session& s) {
    const Settings& cfg = server.settings;
    return s.saw_bare_lf && cfg.bare_newline == BareNewline::reject &&
           cfg.bare_newline_exclusions->match(s.name, s.addr) != mail::NamadrList::Result::yes;
}

// Whether smtpd_forbid_bare_newline applies to this client at all.
bool bare_newline_enforced(Server& server, const Session& s) {
    const Settings& cfg = server.settings;
    return cfg.bare_newline != BareNewline::no &&
           cfg.bare_newline_exclusions->match(s.name, s.addr) != mail::NamadrList::Result::yes;
}

// The precondition replies shared by DATA and BDAT; empty when fine.
std::string need_recipients(const Session& s) {
    if (s.rcpt_count > 0) return {};
    if (!s.in_mail) return "503 5.5.1 Error: need RCPT command";
    return "554 5.5.1 Error: no valid recipients";
}

// The Received: header smtpd puts first (with a before-queue filter and
// no queue file, the "by" line names no queue ID).
std::vector<std::string> received_lines(Server& server, Session& s) {
    const Settings& cfg = server.settings;
    std::vector<std::string> out;
    out.push_back(fmt::format("Received: from {} ({} [{}])", s.helo_name.empty() ? s.name : s.helo_name, s.name,
                              s.rfc_addr));
    for (const auto& line : tls_received_lines(server, s)) out.push_back(line);   // smtpd_tls.cpp
    // With SMTPUTF8 the transmission type says so (RFC 6531 section 3.7.4),
    // with TLS and SASL ESMTPS, ESMTPA, ESMTPSA (smtpd_sasl.cpp).
    std::string protocol = sasl_received_protocol(s);
    if (auto line = sasl_received_sender_line(server, s); !line.empty()) out.push_back(line);
    std::string date = mail::mail_date(s.arrival_time ? s.arrival_time : std::time(nullptr));
    std::string id = s.cleanup ? " id " + s.queue_id : std::string();
    if (s.rcpt_count == 1 && !s.recipient.empty()) {
        out.push_back(fmt::format("\tby {} ({}) with {}{}", cfg.myhostname, cfg.mail_name, protocol, id));
        out.push_back(fmt::format("\tfor <{}>; {}", mail::quote_822_local(s.recipient), date));
    } else {
        out.push_back(fmt::format("\tby {} ({}) with {}{};", cfg.myhostname, cfg.mail_name, protocol, id));
        out.push_back(fmt::format("\t{}", date));
    }
    return out;
}

// 'M' and the Received: header.
void start_content(Server& server, Session& s) {
    const MessageActions& actions = server.restrictions->actions();
    s.cleanup_status = 0;   // a new message: an earlier one's size error is gone
    if (s.proxy) {
        // A before-queue filter gets the PREPEND headers and our Received:
        // header as content (none when XFORWARD says we are a filter's
        // re-injection point ourselves).
        bool ok = true;
        for (const auto& header : actions.prepend) ok = ok && proxy_put(s, header, false);
        if (!s.xforward.present)
            for (const auto& line : received_lines(server, s)) ok = ok && proxy_put(s, line, false);
        if (!ok) s.cleanup_status |= ipc::kCleanupStatProxy;
        s.in_header = true;
        s.act_size = 0;
        s.data_bytes = 0;
        return;
    }
    auto& c = *s.cleanup;
    // HOLD and DISCARD asked for so far go in the envelope, PREPEND
    // headers before Received:; FILTER, REDIRECT and BCC follow the
    // content, after the end-of-data restrictions (write_actions()).
    unsigned extra = (actions.hold ? ipc::kCleanupHold : 0u) | (actions.discard ? ipc::kCleanupDiscard : 0u);
    if (extra) (void)c.write(rec::kFlags, std::to_string(extra));
    (void)c.write(rec::kMessage, "");
    for (const auto& header : actions.prepend) (void)c.write(rec::kNorm, header);
    for (const auto& line : received_lines(server, s)) (void)c.write(rec::kNorm, line);
    s.in_header = true;
    s.act_size = 0;
    s.data_bytes = 0;
}

// One content record, with the size limit. stuff_dot: BDAT content for a
// before-queue filter, which needs the "." the client did not send.
void put_content(Server& server, Session& s, char type, std::string_view text, bool stuff_dot = false) {
    const Settings& cfg = server.settings;
    if (s.cleanup_status != 0) return;
    // From a bare <LF> that will be rejected on, the reference hands no
    // more content to cleanup (which then logs no end of the header block
    // when that had not ended yet).
    if (bare_newline_rejected(server, s)) return;
    std::uint64_t need = text.size() + 2;
    if (cfg.message_size_limit > 0 &&
        (s.act_size > cfg.message_size_limit || cfg.message_size_limit - s.act_size < need)) {
        s.cleanup_status |= ipc::kCleanupStatSize;
        util::msg_warn("{}: queue file size limit exceeded", s.queue_id.empty() ? "NOQUEUE" : s.queue_id);
        return;
    }
    s.act_size += need;
    if (s.proxy) {
        if (!proxy_put(s, text, type == rec::kCont, stuff_dot)) s.cleanup_status |= ipc::kCleanupStatProxy;
        return;
    }
    (void)s.cleanup->write(type, text);
}

// The reference's " from=<s> to=<r> proto=P helo=<h>" after a log text.
std::string whatsup(const Session& s) {
    std::string out;
    if (s.in_mail) out += fmt::format(" from=<{}>", s.sender);
    if (!s.recipient.empty()) out += fmt::format(" to=<{}>", s.recipient);
    out += fmt::format(" proto={}", s.protocol);
    if (!s.helo_name.empty()) out += fmt::format(" helo=<{}>", s.helo_name);
    return out;
}

// The end of a message that went to a before-queue filter: unless the
// transfer already failed, the end-of-data restrictions, then "." and the
// filter's verdict, which is the client's reply; logged as
// "proxy-accept"/"proxy-reject".
Outcome finish_proxied(Server& server, Session& s) {
    const Settings& cfg = server.settings;
    bool bare = bare_newline_rejected(server, s);
    unsigned err = s.cleanup_status;
    bool accepted = false;
    std::string verdict;
    if (!bare && err == 0) {
        CheckState st = check_state(s);
        st.where = "END-OF-MESSAGE";
        st.message_size = s.act_size;
        CheckResult eod = server.restrictions->check_eod(st);
        for (const auto& line : eod.log) util::msg_info_text(line);
        if (eod.rejected()) {
            reset_transaction(server, s);
            return fail(server, s, eod.reply);
        }
        verdict = proxy_finish(server, s, accepted);
        if (!accepted) err |= ipc::kCleanupStatCont;
    } else {
        verdict = proxy_reply(s);
    }
    std::string text = verdict;
    if (accepted) {
        // as the proxy said
    } else if (bare) {
        CheckState st = check_state(s);
        util::msg_info_text(reject_log_line(st, "END-OF-MESSAGE", "bare <LF> received", true, true));
        text = fmt::format("{} 5.5.2 {} Error: bare <LF> received", cfg.bare_newline_reject_code, cfg.myhostname);
    } else if (err & ipc::kCleanupStatSize) {
        text = "552 5.3.4 Error: message file too big";
    }
    util::msg_info("proxy-{}: END-OF-MESSAGE: {};{}", accepted ? "accept" : "reject", verdict, whatsup(s));
    reset_transaction(server, s);
    if (accepted) {
        s.error_count = 0;
        s.junk_cmds = 0;
        reply(server, s, text);
        return Outcome::ok;
    }
    return fail(server, s, text);
}

// Ends the message: the end-of-data checks, X and E, cleanup's verdict,
// and the reply. bdat_total: true for BDAT's "N bytes" form.
Outcome finish_message(Server& server, Session& s, bool bdat) {
    const Settings& cfg = server.settings;
    if (s.proxy) return finish_proxied(server, s);
    if (bare_newline_rejected(server, s)) {
        CheckState st = check_state(s);
        util::msg_info_text(reject_log_line(st, "END-OF-MESSAGE", "bare <LF> received", true, true));
        reset_transaction(server, s);
        return fail(server, s, fmt::format("{} 5.5.2 {} Error: bare <LF> received", cfg.bare_newline_reject_code,
                                           cfg.myhostname));
    }
    if (s.cleanup_status & ipc::kCleanupStatSize) {
        reset_transaction(server, s);
        return fail(server, s, "552 5.3.4 Error: message file too big");
    }
    CheckState st = check_state(s);
    st.where = "END-OF-MESSAGE";
    st.message_size = s.act_size;
    CheckResult eod = server.standalone ? CheckResult{} : server.restrictions->check_eod(st);
    if (eod.rejected()) {
        for (const auto& line : eod.log) util::msg_info_text(line);
        reset_transaction(server, s);
        return fail(server, s, eod.reply);
    }
    for (const auto& line : eod.log) util::msg_info_text(line);
    auto& c = *s.cleanup;
    (void)c.write(rec::kExtracted, "");
    // The actions of every restriction stage, end-of-data included, as
    // the reference hands them over: in the extracted segment, each BCC
    // recipient followed by its NOTIFY=NEVER attribute.
    const MessageActions& actions = server.restrictions->actions();
    if (!actions.filter.empty()) (void)c.write(rec::kFilter, actions.filter);
    if (!actions.redirect.empty()) (void)c.write(rec::kRedirect, actions.redirect);
    for (const auto& bcc : actions.bcc) {
        (void)c.write(rec::kRcpt, bcc);
        (void)c.write_attr("notify_flags", "1");
    }
    unsigned extra = (actions.hold ? ipc::kCleanupHold : 0u) | (actions.discard ? ipc::kCleanupDiscard : 0u);
    if (extra) (void)c.write(rec::kFlags, std::to_string(extra));
    (void)c.write(rec::kEnd, "");
    auto verdict = c.finish();
    std::string queue_id = s.queue_id;
    std::uint64_t size = s.act_size;
    std::string text;
    bool ok = false;
    if (!verdict) {
        text = "451 4.3.0 Error: queue file write error";
    } else if (verdict->status == 0) {
        ok = true;
        text = bdat ? fmt::format("250 2.0.0 Ok: {} bytes queued as {}", size, queue_id)
                    : fmt::format("250 2.0.0 Ok: queued as {}", queue_id);
    } else {
        unsigned st_bits = verdict->status;
        std::string reason = verdict->reason;
        if (st_bits & ipc::kCleanupStatDefer)
            text = reason.empty() ? "451 4.3.0 Error: queue file write error" : reason;
        else if (st_bits & ipc::kCleanupStatBad)
            text = "451 4.3.0 Error: internal error";
        else if (st_bits & ipc::kCleanupStatRcpt)
            text = "554 5.5.1 Error: no valid recipients";
        else if (st_bits & ipc::kCleanupStatHops)
            text = "554 5.4.0 Error: too many hops";
        else if (st_bits & ipc::kCleanupStatSize)
            text = "552 5.3.4 Error: message file too big";
        else if (st_bits & ipc::kCleanupStatCont)
            text = reason.empty() ? "550 5.7.1 Error: content rejected" : reason;
        else
            text = "451 4.3.0 Error: queue file write error";
    }
    s.cleanup.reset();
    reset_transaction(server, s);
    if (ok) {
        s.junk_cmds = 0;
        reply(server, s, text);
        return Outcome::ok;
    }
    return fail(server, s, text);
}

// The line splitter of BDAT content: LF ends a line, CRs before it go;
// lines longer than line_length_limit continue in L records.
void bdat_feed(Server& server, Session& s, std::string_view bytes) {
    std::size_t limit = server.settings.line_limit;
    for (char ch : bytes) {
        if (ch == '\n') {
            // A LF without CR before it: smtpd_forbid_bare_newline=reject
            // refuses the message at its end (finish_message()).
            if (!s.bdat_prev_cr) s.saw_bare_lf = true;
            s.bdat_prev_cr = false;
            std::string& line = s.bdat_line;
            while (!line.empty() && line.back() == '\r') line.pop_back();
            bool stuff = s.proxy && !s.bdat_prev_cont && !line.empty() && line.front() == '.';
            put_content(server, s, rec::kNorm, line, stuff);
            s.bdat_prev_cont = false;
            line.clear();
            continue;
        }
        s.bdat_prev_cr = ch == '\r';
        s.bdat_line.push_back(ch);
        if (limit && s.bdat_line.size() >= limit) {
            bool stuff = s.proxy && !s.bdat_prev_cont && s.bdat_line.front() == '.';
            put_content(server, s, rec::kCont, s.bdat_line, stuff);
            s.bdat_prev_cont = true;
            s.bdat_line.clear();
        }
    }
}

bool all_digits(std::string_view s) {
    return !s.empty() && s.find_first_not_of("0123456789") == std::string_view::npos;
}

}  // namespace

Outcome cmd_data(Server& server, Session& s, const std::vector<Token>& args) {
    const Settings& cfg = server.settings;
    if (s.bdat_active || s.bdat_failed) return fail(server, s, "503 5.5.1 Error: DATA after BDAT");
    if (auto e = need_recipients(s); !e.empty()) return fail(server, s, e);
    if (!args.empty()) return fail(server, s, "501 5.5.4 Syntax: DATA");
    // (The stand-alone server of sendmail -bs applies no restrictions.)
    if (!server.standalone && apply_check(server, s, server.restrictions->check_data(check_state(s))))
        return Outcome::error;
    if (s.proxy) {   // smtpd_proxy.cpp: the filter must answer DATA with 354
        if (auto refused = proxy_data(server, s, s.command_line); !refused.empty()) return fail(server, s, refused);
    }
    start_content(server, s);
    reply(server, s, "354 End data with <CR><LF>.<CR><LF>");
    // Reading content: a lost connection or timeout from here is logged
    // with the byte count (the reference's "DATA content" state).
    s.where = "DATA content";
    bool first = true;
    bool prev_cont = false;
    for (;;) {
        auto line = s.stream.read_line(cfg.line_limit, false);
        if (!line) {
            if (line.error() == smtp::StreamError::kTimeout) {
                s.end_reason = "timeout";
                reply(server, s, fmt::format("421 4.4.2 {} Error: timeout exceeded", cfg.myhostname));
            } else {
                s.end_reason = "lost connection";
            }
            s.want_quit = true;
            return Outcome::error;
        }
        bool cont = line->end == smtp::LineEnd::kNone;
        if (cont && line->text.size() < cfg.line_limit) {
            // End of input inside a line: the client went away (the
            // partial line does not count).
            s.end_reason = "lost connection";
            s.want_quit = true;
            return Outcome::error;
        }
        if (line->end == smtp::LineEnd::kBareLf) s.saw_bare_lf = true;
        std::string_view text = line->text;
        // The reference's "lost connection after DATA (N bytes)" counts
        // only what it still takes in: from a bare <LF> that will be
        // rejected on (that line included), nothing more.
        if (!bare_newline_rejected(server, s)) s.data_bytes += text.size() + (cont ? 0 : 2);
        char type = cont ? rec::kCont : rec::kNorm;
        if (first) {
            first = false;
            std::string_view probe = text;
            while (!probe.empty() && probe.front() == '>') probe.remove_prefix(1);
            if (probe.starts_with("From ")) {
                put_content(server, s, type, fmt::format("X-Mailbox-Line: {}", text));
                prev_cont = cont;
                continue;
            }
            if (!text.empty() && (text.front() == ' ' || text.front() == '\t')) put_content(server, s, rec::kNorm, "");
        }
        if (!prev_cont && !text.empty() && text.front() == '.') {
            if (text.size() == 1 && !cont) {
                // ".<LF>" ends the content only where bare newlines are
                // allowed; elsewhere the reference drops that line.
                if (line->end == smtp::LineEnd::kBareLf && bare_newline_enforced(server, s)) {
                    prev_cont = false;
                    continue;
                }
                break;
            }
            // A before-queue filter gets the line dot-stuffed as it came;
            // the removed dot does not count as content (lost connection).
            if (!s.proxy) {
                text.remove_prefix(1);
                if (!bare_newline_rejected(server, s) && s.data_bytes > 0) s.data_bytes--;
            }
        }
        put_content(server, s, type, text);
        prev_cont = cont;
    }
    // From here a client that goes away is not logged as "lost
    // connection" (the reference's END-OF-MESSAGE state).
    s.where = "END-OF-MESSAGE";
    return finish_message(server, s, false);
}

Outcome cmd_bdat(Server& server, Session& s, const std::vector<Token>& args) {
    // CHUNKING taken out of the EHLO reply (bit 10, smtpd_commands.cpp):
    // BDAT is not served, and 521 ends the session.
    if (s.ehlo_discard_mask & kChunking) return fail(server, s, "521 5.5.1 Error: command not implemented");
    if (args.empty() || args.size() > 2 || !all_digits(args[0].text) ||
        (args.size() == 2 && !util::iequals(args[1].text, "LAST"))) {
        util::msg_warn("{}: malformed BDAT command syntax from {}: {:.100}", s.queue_id.empty() ? "NOQUEUE" : s.queue_id,
                       s.namaddr, s.command_line);
        reply(server, s, "521 5.5.4 Syntax: BDAT count [LAST]");
        s.want_quit = true;
        s.error_count++;
        return Outcome::error;
    }
    // A count past the largest file offset is malformed too.
    std::uint64_t count = 0;
    constexpr std::uint64_t kMaxCount = static_cast<std::uint64_t>(INT64_MAX);
    for (char c : args[0].text) {
        std::uint64_t digit = static_cast<std::uint64_t>(c - '0');
        if (count > (kMaxCount - digit) / 10) {
            util::msg_warn("{}: malformed BDAT command syntax from {}: {:.100}",
                           s.queue_id.empty() ? "NOQUEUE" : s.queue_id, s.namaddr, s.command_line);
            reply(server, s, "521 5.5.4 Syntax: BDAT count [LAST]");
            s.want_quit = true;
            s.error_count++;
            return Outcome::error;
        }
        count = count * 10 + digit;
    }
    bool last = args.size() == 2;
    auto skip = [&]() -> bool {
        auto r = s.stream.read_exact(count, [&](std::string_view piece) { s.data_bytes += piece.size(); });
        if (!r) {
            s.end_reason = r.error() == smtp::StreamError::kTimeout ? "timeout" : "lost connection";
            if (r.error() == smtp::StreamError::kTimeout)
                reply(server, s, fmt::format("421 4.4.2 {} Error: timeout exceeded", server.settings.myhostname));
            s.want_quit = true;
            return false;
        }
        return true;
    };
    // A refused chunk is read and dropped (the reference's skip_bdat):
    // after a LAST chunk the transaction is over; after another one the
    // following chunks are dropped too, up to the next LAST.
    auto refuse = [&](std::string_view text) -> Outcome {
        s.data_bytes = 0;
        if (!skip()) return Outcome::error;
        fail(server, s, text);
        if (last) {
            // The reference resets the mail transaction but not its
            // recipient count: a later message's Received: header then
            // names no single recipient.
            int count = s.rcpt_count, overshoot = s.rcpt_overshoot;
            std::string recipient = s.recipient;
            reset_transaction(server, s);
            s.rcpt_count = count;
            s.rcpt_overshoot = overshoot;
            s.recipient = std::move(recipient);
        } else {
            s.bdat_failed = true;
        }
        return Outcome::error;
    };
    if (count == 0 && !last) {
        util::msg_warn("{}: null BDAT request from {}", s.queue_id.empty() ? "NOQUEUE" : s.queue_id, s.namaddr);
        return refuse("551 5.7.1 Null BDAT request");
    }
    if (s.bdat_failed) return refuse(fmt::format("551 5.0.0 Discarded {} bytes after earlier error", count));
    if (!s.bdat_active) {
        if (auto e = need_recipients(s); !e.empty()) return refuse(e);
    }
    // A chunk that would take the message past message_size_limit is
    // read and dropped.
    // The content already written counts (a line still open does not),
    // as in the reference.
    std::uint64_t limit = server.settings.message_size_limit;
    std::uint64_t written = s.bdat_active ? s.act_size : 0;
    if (limit > 0 && (count > limit || written > limit - count)) {
        util::msg_warn("{}: BDAT request from {} exceeds message size limit",
                       s.queue_id.empty() ? "NOQUEUE" : s.queue_id, s.namaddr);
        return refuse("552 5.3.4 Chunk exceeds message size limit");
    }
    if (!s.bdat_active) {
        CheckResult data_check = server.standalone ? CheckResult{} : server.restrictions->check_data(check_state(s));
        if (data_check.hangup) {
            apply_check(server, s, data_check);
            return Outcome::error;
        }
        if (data_check.rejected()) {
            for (const auto& line : data_check.log) util::msg_info_text(line);
            return refuse(data_check.reply);
        }
        for (const auto& line : data_check.log) util::msg_info_text(line);
        if (s.proxy) {   // smtpd_proxy.cpp: the filter gets DATA, and must answer 354
            if (auto refused = proxy_data(server, s, "DATA"); !refused.empty()) {
                s.data_bytes = 0;
                if (!skip()) return Outcome::error;
                return fail(server, s, refused);
            }
        }
        s.bdat_prev_cont = false;
        start_content(server, s);
        s.bdat_active = true;
    }
    s.where = "BDAT content";   // as "DATA content" above
    s.data_bytes = 0;
    auto r = s.stream.read_exact(count, [&](std::string_view piece) {
        s.data_bytes += piece.size();
        bdat_feed(server, s, piece);
    });
    if (!r) {
        s.end_reason = r.error() == smtp::StreamError::kTimeout ? "timeout" : "lost connection";
        if (r.error() == smtp::StreamError::kTimeout) {
            // The reference names the chunk's size after a timeout.
            s.data_bytes = count;
            reply(server, s, fmt::format("421 4.4.2 {} Error: timeout exceeded", server.settings.myhostname));
        }
        s.want_quit = true;
        return Outcome::error;
    }
    s.bdat_total += count;
    if (!last) {
        reply(server, s, fmt::format("250 2.0.0 Ok: {} bytes", count));
        return Outcome::ok;
    }
    if (!s.bdat_line.empty()) {
        put_content(server, s, rec::kNorm, s.bdat_line,
                    s.proxy && !s.bdat_prev_cont && s.bdat_line.front() == '.');
        s.bdat_line.clear();
    }
    s.where = "END-OF-MESSAGE";
    return finish_message(server, s, true);
}

}  // namespace pf::smtpd
