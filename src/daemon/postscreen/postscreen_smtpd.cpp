// postscreen(8)'s dummy SMTP engine, as the reference's: a client that
// failed a test under an "enforce" action (or must not be forwarded)
// gets "220 <smtpd_banner>", HELO/EHLO/MAIL/RSET/NOOP/VRFY/ETRN/QUIT
// answers, and the stored rejection for every RCPT (logged "NOQUEUE:
// reject: RCPT from [addr]:port: <reply>; from=<..>, to=<..>, proto=..,
// helo=<..>"); DATA and BDAT end the session; the command count and time
// limits and the line length limit end it with a 421. It also runs the
// deep protocol tests when they are on: commands sent before the previous
// reply (COMMAND PIPELINING), header lines and postscreen_forbidden_commands
// (NON-SMTP COMMAND), lines ending in a bare newline (BARE NEWLINE); a
// client passes them at its first RCPT, which still gets the 450 "come
// back later" reply (a greeted client cannot be handed to smtpd).
// Each complete line goes through postscreen_command_filter first
// (postscreen_command_filter.cpp); EHLO's keyword list, STARTTLS and BDAT
// follow the session's discard mask (postscreen_ehlo_discard.cpp).
//
// Trust: every byte comes from a hostile client: lines are bounded by
// line_length_limit, commands are matched case-insensitively against a
// fixed table, addresses are copied, never interpreted.
#include "daemon/postscreen/postscreen_state.h"

#include "mail/ehlo_mask.h"
#include "util/msg.h"
#include "util/strings.h"

#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <ctime>

#include <fmt/core.h>

namespace pf::postscreen {

namespace {

enum ReadState { kAny = 0, kCr = 1, kCrLf = 2 };

std::string next_token(std::string_view& rest) {
    std::size_t b = rest.find_first_not_of(' ');
    if (b == std::string_view::npos) {
        rest = {};
        return {};
    }
    rest.remove_prefix(b);
    std::size_t e = rest.find(' ');
    std::string tok(rest.substr(0, e));
    rest = e == std::string_view::npos ? std::string_view() : rest.substr(e);
    return tok;
}

// The address inside "<...>" (or up to a blank), quotes removed.
std::string extract_addr(std::string_view text) {
    std::size_t i = 0;
    while (i < text.size() && text[i] == ' ') ++i;
    char stop = ' ';
    if (i < text.size() && text[i] == '<') {
        ++i;
        stop = '>';
    }
    std::string out;
    bool inquote = false;
    for (; i < text.size(); ++i) {
        char c = text[i];
        if (!inquote && c == stop) break;
        if (c == '"') {
            inquote = !inquote;
        } else {
            if (c == '\\') {
                if (++i >= text.size()) break;
                c = text[i];
            }
            out += c;
        }
    }
    if (!out.empty() && out.front() == '@') {
        auto colon = out.find(':');
        if (colon != std::string::npos) out.erase(0, colon + 1);
    }
    return out;
}

// The EHLO reply without the keywords of the discard mask (the session's,
// postscreen_ehlo_discard.cpp: STARTTLS is in it once TLS is on).
std::string ehlo_reply(unsigned mask) {
    const Settings& st = settings();
    auto kept = [mask](unsigned bit) { return (mask & bit) == 0; };
    std::vector<std::string> lines;
    lines.push_back(st.myhostname);
    if (kept(mail::kEhloSize))
        lines.push_back(st.message_size_limit > 0 ? fmt::format("SIZE {}", st.message_size_limit) : "SIZE");
    if (kept(mail::kEhloVrfy) && !st.disable_vrfy) lines.push_back("VRFY");
    if (kept(mail::kEhloEtrn)) lines.push_back("ETRN");
    if (kept(mail::kEhloStarttls) && st.use_tls) lines.push_back("STARTTLS");
    if (kept(mail::kEhloEnhancedStatusCodes)) lines.push_back("ENHANCEDSTATUSCODES");
    if (kept(mail::kEhlo8bitmime)) lines.push_back("8BITMIME");
    if (kept(mail::kEhloDsn)) lines.push_back("DSN");
    if (st.smtputf8 && kept(mail::kEhloSmtputf8)) lines.push_back("SMTPUTF8");
    if (kept(mail::kEhloChunking)) lines.push_back("CHUNKING");
    std::string out;
    for (std::size_t i = 0; i < lines.size(); ++i)
        out += fmt::format("250{}{}\r\n", i + 1 == lines.size() ? ' ' : '-', lines[i]);
    return out;
}

std::string soften(std::string reply) {
    if (reply.size() > 4) {
        if (reply[0] == '5') reply[0] = '4';
        if (reply[4] == '5') reply[4] = '4';
    }
    return reply;
}

std::string_view strip_crlf(std::string_view r) {
    if (r.size() >= 2) r.remove_suffix(2);
    return r;
}

void read_event(Session& s);
void process_input(Session& s);


void time_event(Session& s) {
    util::msg_info("COMMAND TIME LIMIT from [{}]:{} after {}", s.addr, s.port, s.where);
    clear_events(s);
    drop_session(s, fmt::format("421 4.4.2 {} Error: timeout exceeded\r\n", settings().myhostname));
}

// After STARTTLS (done or failed): a fresh dialogue state when TLS is now
// on, then commands are read again, the ones already received first.
void starttls_resume(Session& s) {
    if (s.flags & kUsingTls) {
        s.helo_name.clear();
        s.have_helo = false;
        s.sender.clear();
        s.have_sender = false;
    }
    int id = s.id;
    watch_client(s, read_event, settings().command_time_limit, time_event);
    if (!s.inbuf.empty()) {
        process_input(s);
        if (!find_session(id)) return;
    }
}

void drop(Session& s, std::string reply) {
    clear_events(s);
    drop_session(s, std::move(reply));
}

// The client's bytes with control characters as '?' (the reference's printable()).
std::string printable(std::string_view text) {
    std::string out(text);
    for (char& c : out)
        if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7F) c = '?';
    return out;
}

std::string escaped(std::string_view text, std::size_t max) { return escape_text(text.substr(0, std::min(text.size(), max))); }

// "name:" with printable name characters: a header line, not a command.
bool is_header(std::string_view word) {
    for (std::size_t i = 0; i < word.size(); ++i) {
        unsigned char c = static_cast<unsigned char>(word[i]);
        if (c == ':' && i > 0) return true;
        if (c >= 0x7F || c <= 0x20 || c == ':') return false;
    }
    return false;
}

bool forbidden(std::string_view command) {
    const Settings& st = settings();
    for (const auto& w : st.forbidden_words)
        if (util::iequals(w, command)) return true;
    for (const auto& t : st.forbidden_tables)
        if (t->lookup(command).is_found()) return true;
    return false;
}

// The outcome of a failed deep test under its action; false when the
// session is gone (drop).
bool deep_fail(Session& s, int test, const char* drop_reply) {
    const Settings& st = settings();
    s.flags |= fail_flag(test);
    s.flags &= ~pass_flag(test);
    s.info->expire[test] = kStampDisabled;
    s.flags |= done_flag(test);  // skip the test for the rest of the session
    switch (st.deep_action[test]) {
    case Action::drop:
        drop(s, drop_reply);
        return false;
    case Action::enforce:
        s.rcpt_reply = "550 5.5.1 Protocol error\r\n";
        s.flags |= kNoForward;
        break;
    case Action::ignore:
        s.flags &= ~fail_flag(test);
        s.flags |= pass_flag(test);
        s.info->expire[test] = static_cast<long>(std::time(nullptr)) + st.min_ttl;
        break;
    }
    return true;
}

bool deep_todo(const Session& s, int test) {
    return (s.flags & (todo_flag(test) | done_flag(test))) == todo_flag(test);
}

// Runs one command; false when the session is gone.
bool run_command(Session& s, std::string line) {
    const Settings& st = settings();
    // The reference reads a command as a C string: nothing after a NUL
    // byte (a TLS hello sent without STARTTLS has one early on).
    if (auto nul = line.find('\0'); nul != std::string::npos) line.resize(nul);
    std::string_view rest = line;
    std::string command = next_token(rest);
    static const char* const kTable[] = {"HELO", "EHLO", "STARTTLS", "XCLIENT", "XFORWARD", "AUTH", "MAIL", "RCPT",
                                         "DATA", "BDAT", "RSET", "NOOP", "VRFY", "ETRN", "QUIT"};
    std::string name;
    for (const char* c : kTable)
        if (util::iequals(command, c)) name = c;
    std::string saved_where = s.where;
    s.where = name.empty() ? "UNIMPLEMENTED" : name;
    if ((s.flags & kSmtpdX21) && name != "QUIT") {
        drop(s, s.final_reply);
        return false;
    }
    // Non-SMTP command test.
    if (deep_todo(s, kNsmtp) && name.empty() && (is_header(command) || forbidden(command))) {
        util::msg_info("NON-SMTP COMMAND from [{}]:{} after {}: {} {}", s.addr, s.port, saved_where,
                       printable(command).substr(0, 100), escaped(util::trim_left(rest, " "), 100));
        if (!deep_fail(s, kNsmtp, "521 5.7.0 Error: I can break rules, too. Goodbye.\r\n")) return false;
    }
    // Command pipelining test: more input waiting after a command.
    if (name != "BDAT" && deep_todo(s, kPipel) && !s.inbuf.empty()) {
        util::msg_info("COMMAND PIPELINING from [{}]:{} after {}: {}", s.addr, s.port,
                       printable(command).substr(0, 100), escaped(s.inbuf, 100));
        if (!deep_fail(s, kPipel, "521 5.5.1 Protocol error\r\n")) return false;
    }
    if (name == "RCPT") {
        long now = static_cast<long>(std::time(nullptr));
        for (int t : {kBarlf, kNsmtp, kPipel}) {
            if ((s.flags & (todo_flag(t) | pass_flag(t) | fail_flag(t))) == todo_flag(t)) {
                s.flags |= pass_flag(t);
                s.info->expire[t] = now + st.deep_ttl[t];
            }
        }
    }
    if (++s.command_count > st.command_count_limit && name != "QUIT") {
        util::msg_info("COMMAND COUNT LIMIT from [{}]:{} after {}", s.addr, s.port, saved_where);
        drop(s, fmt::format("421 {} Service unavailable - try again later\r\n", st.myhostname));
        return false;
    }
    bool disabled = name.empty() || name == "XCLIENT" || name == "XFORWARD" || name == "AUTH";
    // Commands allowed before STARTTLS when TLS is mandatory.
    bool pre_tls = name == "HELO" || name == "EHLO" || name == "STARTTLS" || name == "NOOP" || name == "QUIT";
    bool ok = true;
    if (disabled) {
        ok = send_reply(s, "502 5.5.2 Error: command not recognized\r\n");
    } else if (st.enforce_tls && (s.flags & kUsingTls) == 0 && !pre_tls) {
        ok = send_reply(s, "530 5.7.0 Must issue a STARTTLS command first\r\n");
    } else if (name == "HELO" || name == "EHLO") {
        std::string helo = next_token(rest);
        if (helo.empty()) {
            ok = send_reply(s, name == "HELO" ? "501 Syntax: HELO hostname\r\n" : "501 Syntax: EHLO hostname\r\n");
        } else {
            s.helo_name = helo;
            s.have_helo = true;
            s.have_sender = false;
            s.sender.clear();
            if (name == "EHLO") s.protocol = "ESMTP";
            ok = send_reply(s, name == "HELO" ? fmt::format("250 {}\r\n", st.myhostname)
                                              : ehlo_reply(ehlo_discard_for(s)));
        }
    } else if (name == "STARTTLS") {
        // The reference's replies, its syntax message included.
        if (!next_token(rest).empty()) ok = send_reply(s, "501 Syntax: EHLO hostname\r\n");
        else if (s.flags & kUsingTls) ok = send_reply(s, "554 5.5.1 Error: TLS already active\r\n");
        else if (!st.use_tls || (s.ehlo_discard_mask & mail::kEhloStarttls))
            ok = send_reply(s, "502 5.5.1 Error: command not implemented\r\n");
        else starttls_open(s, starttls_resume);
    } else if (name == "MAIL") {
        auto colon = line.find(':');
        if (st.helo_required && !s.have_helo) ok = send_reply(s, "503 5.5.1 Error: send HELO/EHLO first\r\n");
        else if (s.have_sender) ok = send_reply(s, "503 5.5.1 Error: nested MAIL command\r\n");
        else if (rest.empty() || colon == std::string::npos)
            ok = send_reply(s, "501 5.5.4 Syntax: MAIL FROM:<address>\r\n");
        else {
            s.sender = extract_addr(std::string_view(line).substr(colon + 1));
            s.have_sender = true;
            ok = send_reply(s, "250 2.1.0 Ok\r\n");
        }
    } else if (name == "RCPT") {
        auto colon = line.find(':');
        if (!s.have_sender) ok = send_reply(s, "503 5.5.1 Error: need MAIL command\r\n");
        else if (rest.empty() || colon == std::string::npos)
            ok = send_reply(s, "501 5.5.4 Syntax: RCPT TO:<address>\r\n");
        else {
            std::string rcpt = extract_addr(std::string_view(line).substr(colon + 1));
            std::string reply = st.soft_bounce ? soften(s.rcpt_reply) : s.rcpt_reply;
            util::msg_info("NOQUEUE: reject: RCPT from [{}]:{}: {}; from=<{}>, to=<{}>, proto={}, helo=<{}>", s.addr,
                           s.port, strip_crlf(reply), s.sender, rcpt, s.protocol, s.helo_name);
            ok = send_reply(s, s.rcpt_reply);
        }
    } else if (name == "DATA") {
        util::msg_info("DATA without valid RCPT from [{}]:{}", s.addr, s.port);
        if (!next_token(rest).empty()) drop(s, "501 5.5.4 Syntax: DATA\r\n");
        else if (!s.have_sender) drop(s, "503 5.5.1 Error: need RCPT command\r\n");
        else drop(s, "554 5.5.1 Error: no valid recipients\r\n");
        return false;
    } else if (name == "BDAT") {
        util::msg_info("BDAT without valid RCPT from [{}]:{}", s.addr, s.port);
        if (s.ehlo_discard_mask & mail::kEhloChunking) drop(s, "502 5.5.1 Error: command not implemented\r\n");
        else if (next_token(rest).empty()) drop(s, "501 5.5.4 Syntax: BDAT count [LAST]\r\n");
        else if (!s.have_sender) drop(s, "554 5.5.1 Error: need MAIL command\r\n");
        else drop(s, "554 5.5.1 Error: no valid recipients\r\n");
        return false;
    } else if (name == "RSET") {
        s.have_sender = false;
        s.sender.clear();
        ok = send_reply(s, "250 2.0.0 Ok\r\n");
    } else if (name == "NOOP") {
        ok = send_reply(s, "250 2.0.0 Ok\r\n");
    } else if (name == "VRFY") {
        if (next_token(rest).empty()) ok = send_reply(s, "501 5.5.4 Syntax: VRFY address\r\n");
        else if (st.disable_vrfy) ok = send_reply(s, "502 5.5.1 VRFY command is disabled\r\n");
        else ok = send_reply(s, s.rcpt_reply);
    } else if (name == "ETRN") {
        if (st.helo_required && !s.have_helo) ok = send_reply(s, "503 5.5.1 Error: send HELO/EHLO first\r\n");
        else if (next_token(rest).empty()) ok = send_reply(s, "500 Syntax: ETRN domain\r\n");
        else ok = send_reply(s, "458 Unable to queue messages\r\n");
    } else if (name == "QUIT") {
        drop(s, "221 2.0.0 Bye\r\n");
        return false;
    }
    if (!ok) {
        clear_events(s);
        hangup_event(s);
        return false;
    }
    return true;
}

// Reads the commands in s.inbuf, one line at a time.
void process_input(Session& s) {
    const Settings& st = settings();
    int id = s.id;
    while (!s.inbuf.empty()) {
        std::size_t i = 0;
        bool done = false;
        for (; i < s.inbuf.size(); ++i) {
            char ch = s.inbuf[i];
            if (s.read_state == kAny && static_cast<int>(s.cmd_buffer.size()) >= st.line_length_limit) {
                util::msg_info("COMMAND LENGTH LIMIT from [{}]:{} after {}", s.addr, s.port, s.where);
                drop(s, fmt::format("421 {} Service unavailable - try again later\r\n", st.myhostname));
                return;
            }
            s.cmd_buffer += ch;
            if (s.read_state == kAny && ch == '\r') s.read_state = kCr;
            else if (s.read_state == kCr && ch == '\n') s.read_state = kCrLf;
            else s.read_state = ch == '\r' ? kCr : kAny;
            if (s.read_state == kCrLf) {
                s.cmd_buffer.resize(s.cmd_buffer.size() - 2);
                done = true;
                ++i;
                break;
            }
            if (ch == '\n') {
                if (deep_todo(s, kBarlf)) {
                    util::msg_info("BARE NEWLINE from [{}]:{} after {}", s.addr, s.port,
                                   escaped(std::string_view(s.cmd_buffer).substr(0, s.cmd_buffer.size() - 1), 100));
                    if (!deep_fail(s, kBarlf, "521 5.5.1 Protocol error\r\n")) return;
                }
                s.cmd_buffer.pop_back();
                done = true;
                ++i;
                break;
            }
        }
        s.inbuf.erase(0, i);
        if (!done) return;
        s.read_state = kAny;
        std::string line = std::move(s.cmd_buffer);
        s.cmd_buffer.clear();
        command_filter_apply(s, line);
        if (!run_command(s, std::move(line)) || !find_session(id) || s.suspended) return;
        set_timer(s, st.command_time_limit, time_event);
    }
}

void read_event(Session& s) {
    char buf[4096];
    ssize_t n = ::recv(s.fd, buf, sizeof buf, 0);
    if (n <= 0) {
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
        clear_events(s);
        hangup_event(s);
        return;
    }
    s.inbuf.append(buf, static_cast<std::size_t>(n));
    process_input(s);
}

}  // namespace

void smtpd_tests(Session& s) {
    const Settings& st = settings();
    begin_tests(s, "tests after SMTP handshake");
    s.cmd_buffer.clear();
    s.read_state = kAny;
    if (s.flags & kSmtpdX21) s.flags &= ~kSmtpdTodo;
    else if (s.flags & kAnyFail) s.flags |= kSmtpdTodo;
    if ((s.flags & fail_flag(kPregr)) == 0 && !send_reply(s, fmt::format("220 {}\r\n", st.smtpd_banner))) {
        hangup_event(s);
        return;
    }
    watch_client(s, read_event, st.command_time_limit, time_event);
}

}  // namespace pf::postscreen
