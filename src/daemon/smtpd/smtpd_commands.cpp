// The session-level commands of the reference's smtpd: HELO and EHLO (the
// EHLO keyword list, smtpd_discard_ehlo_keywords), RSET, NOOP, QUIT, VRFY
// (disable_vrfy_command) and ETRN (through the flush service), with their
// replies word for word; and the command-line tokenizer.
//
// Trust: arguments are client bytes; host names are only stored, printed
// and handed to the restriction engine.
#include "daemon/smtpd/smtpd_session.h"
#include "daemon/smtpd/smtpd_sasl.h"
#include "daemon/smtpd/smtpd_anvil.h"

#include "ipc/flush_client.h"
#include "mail/maps.h"
#include "util/msg.h"
#include "util/strings.h"
#include "util/utf8.h"

#include <fmt/core.h>

namespace pf::smtpd {

namespace {

// The HELO argument: words joined by one space (the caller shows
// non-printable bytes as '?', as the reference keeps the name).
std::string helo_argument(const std::vector<Token>& args) {
    std::string out;
    for (std::size_t i = 0; i < args.size(); ++i) {
        if (i) out.push_back(' ');
        out += args[i].text;
    }
    return out;
}

Outcome helo_common(Server& server, Session& s, const std::vector<Token>& args, bool ehlo) {
    const Settings& cfg = server.settings;
    if (args.empty()) return fail(server, s, ehlo ? "501 Syntax: EHLO hostname" : "501 Syntax: HELO hostname");
    reset_transaction(server, s);
    s.helo_name = util::printable(helo_argument(args), server.settings.smtputf8_enable);
    // The protocol changes only once the HELO/EHLO is accepted.
    // (The stand-alone server of sendmail -bs applies no restrictions.)
    if (!server.standalone && apply_check(server, s, server.restrictions->check_helo(check_state(s)))) {
        s.helo_name.clear();
        return Outcome::error;
    }
    // EHLO makes the session ESMTP; HELO leaves SMTP and ESMTP as they
    // are (an EHLO session stays ESMTP) and turns any other XCLIENT
    // protocol name into SMTP.
    if (ehlo) s.protocol = "ESMTP";
    else if (!util::iequals(s.protocol, "ESMTP") && !util::iequals(s.protocol, "SMTP")) s.protocol = "SMTP";
    if (!ehlo) {
        s.ehlo_offered_pipelining = false;
        reply(server, s, fmt::format("250 {}", cfg.myhostname));
        return Outcome::ok;
    }
    unsigned discard = s.ehlo_discard_mask;
    std::vector<std::string> lines;
    lines.push_back(cfg.myhostname);
    auto offer = [&](unsigned bit, std::string line) {
        if ((discard & bit) == 0) lines.push_back(std::move(line));
    };
    offer(kPipelining, "PIPELINING");
    if (cfg.message_size_limit > 0) offer(kSize, fmt::format("SIZE {}", cfg.message_size_limit));
    else offer(kSize, "SIZE");
    if (!cfg.disable_vrfy) offer(kVrfy, "VRFY");
    offer(kEtrn, "ETRN");
    // TLS: offered until it is active (smtpd_tls.cpp).
    if (server.settings.tls.use_tls && !s.tls_active) offer(kStarttls, "STARTTLS");
    // SASL: "AUTH ..." and with broken_sasl_auth_clients "AUTH=..." (smtpd_sasl.cpp).
    if (auto auth = sasl_ehlo_lines(server, s); !auth.empty()) {
        offer(kAuth, auth.front());
        if (auth.size() > 1) offer(kAuth, auth[1]);
    }
    if (xclient_allowed(server, s))
        offer(kXclient, "XCLIENT NAME ADDR PROTO HELO REVERSE_NAME PORT LOGIN DESTADDR DESTPORT");
    if (xforward_allowed(server, s)) offer(kXforward, "XFORWARD NAME ADDR PROTO HELO SOURCE PORT IDENT");
    offer(kEnhanced, "ENHANCEDSTATUSCODES");
    offer(k8bitmime, "8BITMIME");
    offer(kDsn, "DSN");
    if (cfg.smtputf8_enable) offer(kSmtputf8, "SMTPUTF8");
    offer(kChunking, "CHUNKING");
    s.ehlo_offered_pipelining = (discard & kPipelining) == 0;
    // The reference logs the whole discard mask, keywords this session
    // would not have offered anyway included, in its table's order; and
    // nothing when ENHANCEDSTATUSCODES is among them or "silent-discard" is.
    if (discard != 0 && (discard & (kEnhanced | kSilent)) == 0)
        util::msg_info("discarding EHLO keywords: {}", mail::str_ehlo_mask(discard));
    if (s.ehlo_discard_error) {
        // The keyword table failed: the reference gives up on the session.
        util::msg_warn("don't know what EHLO features to announce to {}", s.namaddr);
        util::msg_info("{}: reject: EHLO from {}: 421 4.3.0 {} Server local data error",
                       s.queue_id.empty() ? "NOQUEUE" : s.queue_id, s.namaddr, cfg.myhostname);
        s.want_quit = true;
        reply(server, s, fmt::format("421 4.3.0 {} Server local data error", cfg.myhostname));
        return Outcome::error;
    }
    std::string out;
    for (std::size_t i = 0; i < lines.size(); ++i)
        out += fmt::format("250{}{}\r\n", i + 1 < lines.size() ? '-' : ' ', lines[i]);
    s.stream.write(out);
    (void)s.stream.flush();
    return Outcome::ok;
}

// ETRN's argument check: the reference accepts a domain name (with an
// optional leading '@' or '#' already removed) made of letters, digits,
// '-', '.', '_' and '[]:' for address literals.
bool valid_etrn_site(std::string_view site) {
    if (site.empty()) return false;
    for (char c : site) {
        unsigned char u = static_cast<unsigned char>(c);
        if (!(std::isalnum(u) || c == '-' || c == '.' || c == '_' || c == '[' || c == ']' || c == ':')) return false;
    }
    return true;
}

}  // namespace

// The EHLO keywords this connection does without, decided once when it
// starts (as the reference does): the client address's entry in
// smtpd_discard_ehlo_keyword_address_maps, else smtpd_discard_ehlo_keywords.
void ehlo_discard_setup(Server& server, Session& s) {
    const Settings& cfg = server.settings;
    unsigned mask = cfg.discard_ehlo;
    s.ehlo_discard_error = false;
    if (cfg.discard_ehlo_maps) {
        auto r = cfg.discard_ehlo_maps->find(s.addr);
        if (r.is_found()) mask = mail::ehlo_mask(r.value());
        else if (r.is_error()) s.ehlo_discard_error = true;
    }
    s.ehlo_discard_mask = mask;
}

Outcome cmd_helo(Server& server, Session& s, const std::vector<Token>& args) {
    return helo_common(server, s, args, false);
}

Outcome cmd_ehlo(Server& server, Session& s, const std::vector<Token>& args) {
    return helo_common(server, s, args, true);
}

Outcome cmd_rset(Server& server, Session& s, const std::vector<Token>& args) {
    if (!args.empty()) return fail(server, s, "501 5.5.4 Syntax: RSET");
    reset_transaction(server, s);
    reply(server, s, "250 2.0.0 Ok");
    return Outcome::ok;
}

Outcome cmd_noop(Server& server, Session& s, const std::vector<Token>&) {
    reply(server, s, "250 2.0.0 Ok");
    return Outcome::ok;
}

Outcome cmd_quit(Server& server, Session& s, const std::vector<Token>&) {
    s.want_quit = true;
    reply(server, s, "221 2.0.0 Bye");
    return Outcome::ok;
}

Outcome cmd_vrfy(Server& server, Session& s, const std::vector<Token>& args) {
    if (server.settings.disable_vrfy) return fail(server, s, "502 5.5.1 VRFY command is disabled");
    // A trailing SMTPUTF8 word is dropped first, as the reference does:
    // "VRFY SMTPUTF8" is then a VRFY without an address (a syntax error).
    std::vector<Token> words = args;
    if (!words.empty() && util::iequals(words.back().text, "SMTPUTF8")) words.pop_back();
    if (words.empty()) return fail(server, s, "501 5.5.4 Syntax: VRFY address [SMTPUTF8]");
    if (anvil_recipient_refused(server, s)) return Outcome::error;   // anvil: recipient rate
    std::string arg;
    for (std::size_t i = 0; i < words.size(); ++i) arg += (i ? " " : "") + words[i].text;
    auto addr = extract_address(server, s, arg, false);
    if (addr.status != ExtractedAddress::Status::ok) return fail(server, s, "501 5.1.3 Bad recipient address syntax");
    CheckState st = check_state(s);
    st.recipient = addr.address;
    if (!server.standalone && apply_check(server, s, server.restrictions->check_vrfy(st))) return Outcome::error;
    reply(server, s, fmt::format("252 2.0.0 {}", arg));
    return Outcome::ok;
}

Outcome cmd_etrn(Server& server, Session& s, const std::vector<Token>& args) {
    if (s.in_mail) return fail(server, s, "503 Error: MAIL transaction in progress");
    if (args.size() != 1) return fail(server, s, "500 Syntax: ETRN domain");
    std::string_view site = args.front().text;
    if (!site.empty() && (site.front() == '@' || site.front() == '#')) site.remove_prefix(1);
    if (!valid_etrn_site(site)) return fail(server, s, "501 Error: invalid parameter syntax");
    if (server.standalone) {
        util::msg_warn("do not use ETRN in \"sendmail -bs\" mode");
        return fail(server, s, "458 Unable to queue messages");
    }
    CheckState st = check_state(s);
    st.etrn_domain = std::string(site);
    if (apply_check(server, s, server.restrictions->check_etrn(st))) return Outcome::error;
    ipc::FlushStatus status = ipc::flush_send_site(*server.config, site);
    switch (status) {
    case ipc::FlushStatus::kOk:
        reply(server, s, "250 Queuing started");
        return Outcome::ok;
    case ipc::FlushStatus::kUnknown:
    case ipc::FlushStatus::kDeny:
        util::msg_warn("reject: ETRN {:.100}... from {}", site, s.namaddr);
        return fail(server, s, fmt::format("459 <{}>: service unavailable", site));
    case ipc::FlushStatus::kBad:
        util::msg_warn("bad ETRN {:.100}... from {}", site, s.namaddr);
        return fail(server, s, "458 Unable to queue messages");
    case ipc::FlushStatus::kFail:
        util::msg_warn("unable to talk to fast flush service");
        return fail(server, s, "458 Unable to queue messages");
    }
    return fail(server, s, "458 Unable to queue messages");
}

Outcome cmd_starttls(Server& server, Session& s, const std::vector<Token>& args) {
    // smtpd_tls.cpp: the replies, the handshake and the session reset.
    bool discarded = (s.ehlo_discard_mask & kStarttls) != 0;
    return smtpd_starttls(server, s, args.size(), discarded) ? Outcome::ok : Outcome::error;
}

Outcome cmd_auth(Server& server, Session& s, const std::vector<Token>& args) {
    return sasl_auth_command(server, s, args);   // smtpd_sasl.cpp
}

// The reference's tokenizer separates words by any white space (CR,
// vertical tab and form feed included).
static bool token_space(char c) {
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

std::vector<Token> tokenize_command(std::string_view line) {
    std::vector<Token> out;
    std::size_t i = 0;
    while (i < line.size()) {
        while (i < line.size() && token_space(line[i])) ++i;
        if (i >= line.size()) break;
        Token t;
        int angle = 0;
        bool quoted = false;
        while (i < line.size()) {
            char c = line[i];
            if (!quoted && angle == 0 && token_space(c)) break;
            if (c == '"' ) quoted = !quoted;
            else if (!quoted && c == '<') ++angle;
            else if (!quoted && c == '>' && angle > 0) --angle;
            else if (quoted && c == '\\' && i + 1 < line.size()) {
                t.text.push_back(c);
                ++i;
                c = line[i];
            }
            t.text.push_back(c);
            ++i;
        }
        out.push_back(std::move(t));
    }
    return out;
}

}  // namespace pf::smtpd
