"""The checks of the company stack (run_company.py), in the order they run.

Each takes a running side (run_company.Side) and returns (outcome,
problems): outcome is a text that must be equal on both sides (SMTP
replies with queue IDs replaced, what arrived where, the headers the
filters add), problems the assertions that failed on this side. Every
wait is bounded and polls an observable result (a Maildir, the sink, the
queue directories, the log); nothing sleeps for synchronisation.

Trusts: nothing it reads from the servers beyond its shape.
"""

import email
import os
import re
import smtplib
import ssl
import time

import services

DELIVERY_TIMEOUT = 40   # seconds from submission to a Dovecot mailbox
SETTLE_TIMEOUT = 30

ALICE = ("alice@example.com", "Alice-pw1")


def norm(text):
    if isinstance(text, bytes):
        text = text.decode(errors="replace")
    text = re.sub(r"queued as [0-9A-Za-z]+", "queued as {Q}", text)
    text = re.sub(r"\b[0-9A-F]{8,}\b", "{QID}", text)
    return text


def message(subject, body, to="alice@example.com", sender="outside@remote.example", extra=""):
    return (f"From: <{sender}>\r\nTo: <{to}>\r\nSubject: {subject}\r\n"
            f"Message-ID: <{subject.replace(' ', '-')}@remote.example>\r\nDate: Sat, 28 Nov 2026 12:00:00 +0000\r\n"
            f"{extra}\r\n{body}\r\n").encode()


def smtp_send(port, sender, rcpts, data, *, tls=False, wrapper=False, auth=None, mech=None):
    """One SMTP transaction; a text of every reply (the comparison's, with
    the EHLO keywords) and whether DATA was accepted. mech: the SASL
    mechanism to use (default: smtplib's choice, PLAIN here)."""
    out = []
    accepted = False
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    try:
        if wrapper:
            s = smtplib.SMTP_SSL("127.0.0.1", port, local_hostname="client.remote.example", timeout=30, context=ctx)
        else:
            s = smtplib.SMTP("127.0.0.1", port, local_hostname="client.remote.example", timeout=30)
        with s:
            code, text = s.ehlo()
            out.append(f"EHLO {code} {norm(text)}")
            if tls:
                code, text = s.starttls(context=ctx)
                out.append(f"STARTTLS {code} {norm(text)}")
                code, text = s.ehlo()
                out.append(f"EHLO {code} {norm(text)}")
            if auth:
                try:
                    if mech:
                        s.user, s.password = auth
                        code, text = s.auth(mech, getattr(s, "auth_" + mech.lower()))
                    else:
                        code, text = s.login(*auth)
                except smtplib.SMTPAuthenticationError as e:
                    code, text = e.smtp_code, e.smtp_error
                out.append(f"AUTH {code} {norm(text)}")
                if code != 235:
                    return "\n".join(out) + "\n", False
            code, text = s.mail(sender)
            out.append(f"MAIL {code} {norm(text)}")
            ok = 0
            for r in rcpts:
                code, text = s.rcpt(r)
                out.append(f"RCPT {code} {norm(text)}")
                ok += code // 100 == 2
            if ok:
                code, text = s.data(data)
                out.append(f"DATA {code} {norm(text)}")
                accepted = code == 250
            else:
                s.rset()
    except (OSError, smtplib.SMTPException) as e:
        out.append(f"error {type(e).__name__}: {norm(str(e))}")
    return "\n".join(out) + "\n", accepted


DATE = re.compile(r"(Mon|Tue|Wed|Thu|Fri|Sat|Sun), [ 0-9]?\d \w{3} \d{4} \d\d:\d\d:\d\d [-+]\d{4}( \(\w+\))?")
LMTP_ID = re.compile(r"(?m)^(\tid )[A-Za-z0-9+/]{22}$")


def message_text(raw):
    """A delivered or relayed message with what differs from run to run
    replaced: dates (the test's own Date: header stays), queue IDs,
    Dovecot's session ID."""
    text = raw.decode(errors="replace").replace("\r\n", "\n")
    text = DATE.sub(lambda m: m.group(0) if m.group(0).startswith("Sat, 28 Nov 2026 12:00:00") else "{date}", text)
    text = LMTP_ID.sub(r"\1{session}", text)
    return norm(text)


def headers_of(raw):
    """The parts of a delivered message the checks look at (the header
    names in order, what the two filters added), then the whole message
    as message_text() shows it."""
    msg = email.message_from_bytes(raw)
    names = " ".join(k for k in msg.keys())
    spam = (msg.get("X-Spam-Status") or "").split(",")[0]
    return (f"headers: {names}\nsubject: {msg.get('Subject')}\nX-Virus-Scanned: {msg.get('X-Virus-Scanned')}\n"
            f"X-Spam-Flag: {msg.get('X-Spam-Flag')}\nX-Spam-Status: {spam}\n"
            f"body: {msg.get_payload()[:80]!r}\nmessage:\n{message_text(raw)}\n")


def pending(side, user):
    """The messages in user's Maildir that no check has taken yet."""
    seen = side.seen.setdefault(user, set())
    return {n: p for n, p in side.dovecot.files(user).items() if n not in seen}


def take_new(side, user, timeout=DELIVERY_TIMEOUT):
    """Waits (bounded) for user's next message(s); their contents, now
    taken (Maildir names are not in delivery order: nothing relies on it)."""
    services.wait_for(lambda: pending(side, user), timeout, 0.1)
    out = []
    for name, path in sorted(pending(side, user).items()):
        with open(path, "rb") as f:
            out.append(f.read())
        side.seen[user].add(name)
    return out


def settled(side):
    """No message in maildrop, incoming or active, and no delivery running."""
    return not side.queue_files("maildrop", "incoming", "active")


def wait_settled(side, timeout=SETTLE_TIMEOUT):
    # Twice in a row, a moment apart: a pipe delivery's sendmail drops a
    # new file after the old one left the active queue.
    def twice():
        if not settled(side):
            return False
        t = time.monotonic()
        while time.monotonic() - t < 0.5:
            if not settled(side):
                return False
            time.sleep(0.05)
        return True
    return services.wait_for(twice, timeout, 0.1)


def deliver_check(side, user, sent_text, accepted, problems, want_spam="No"):
    """want_spam: the X-Spam-Status verdict wanted ("" when the message
    does not pass SpamAssassin)."""
    out = [sent_text]
    if not accepted:
        problems.append("message not accepted")
        return out
    new = take_new(side, user)
    out.append(f"{len(new)} message(s) in {user}'s mailbox\n")
    if len(new) != 1:
        problems.append(f"{len(new)} messages delivered to {user}, wanted 1")
        return out
    h = headers_of(new[0])
    out.append(h)
    if "X-Virus-Scanned: ClamAV using ClamSMTP" not in h:
        problems.append("no X-Virus-Scanned header of clamsmtp")
    if f"X-Spam-Status: {want_spam}\n" not in h:
        problems.append(f"X-Spam-Status is not {want_spam}")
    return out


# -- the checks ------------------------------------------------------------

def clean_mail(side):
    """Clean mail from outside, to a mailbox and to an alias of it:
    delivered into the right Dovecot mailbox past both filters."""
    problems = []
    text, ok = smtp_send(side.ports["smtp"], "outside@remote.example", ["bob@example.com"],
                         message("clean mail", "Hello Bob.", "bob@example.com"))
    out = deliver_check(side, "bob@example.com", text, ok, problems)
    text, ok = smtp_send(side.ports["smtp"], "outside@remote.example", ["info@example.com"],
                         message("clean mail to an alias", "Hello info.", "info@example.com"))
    out += deliver_check(side, "alice@example.com", text, ok, problems)
    return "".join(out), problems


def eicar_stopped(side):
    problems = []
    log_before = len(side.log_text())
    text, ok = smtp_send(side.ports["smtp"], "outside@remote.example", ["bob@example.com"],
                         message("virus", services.EICAR.decode(), "bob@example.com"))
    out = [text]
    if not ok:
        problems.append("message not accepted")
    # The scan transport's delivery to clamsmtpd is the end of its journey.
    scanned = services.wait_for(lambda: re.search(rb"status=sent \(250 Virus Detected",
                                                  side.log_text()[log_before:]), 60, 0.1)
    wait_settled(side)
    now = len(pending(side, "bob@example.com"))
    out.append(f"clamsmtpd reported the virus: {bool(scanned)}\nnew messages for bob: {now}\n")
    if not scanned:
        problems.append("no 'Virus Detected' delivery to clamsmtpd in the log")
    if now:
        problems.append("the virus was delivered")
    if side.queue_files("deferred", "hold"):
        problems.append("mail left in the queue")
    return "".join(out), problems


def gtube_tagged(side):
    problems = []
    text, ok = smtp_send(side.ports["smtp"], "outside@remote.example", ["alice@example.com"],
                         message("spam", services.GTUBE.decode()))
    out = deliver_check(side, "alice@example.com", text, ok, problems, want_spam="Yes")
    if not any("X-Spam-Flag: YES" in x for x in out):
        problems.append("no X-Spam-Flag: YES")
    return "".join(out), problems


def unauth_relay_refused(side):
    problems = []
    text, _ = smtp_send(side.ports["smtp"], "outside@remote.example", ["friend@partner.example"],
                        message("relay", "Relay me.", "friend@partner.example"))
    if "RCPT 554 5.7.1" not in text:
        problems.append("relay not refused with 554 5.7.1")
    return text, problems


def auth_relay_submission(side):
    problems = []
    before = len(side.sink.received)
    text, ok = smtp_send(side.ports["submission"], "alice@example.com", ["friend@partner.example"],
                         message("from alice", "Hello friend.", "friend@partner.example", "alice@example.com"),
                         tls=True, auth=ALICE)
    out = [text]
    if not ok:
        problems.append("not accepted")
    services.wait_for(lambda: len(side.sink.received) > before, DELIVERY_TIMEOUT, 0.1)
    got = side.sink.received[before:]
    out.append(f"{len(got)} transaction(s) at the partner's server\n")
    for tx in got:
        out.append("".join(norm(c) + "\n" for c in tx["commands"] if not c.upper().startswith(b"EHLO")))
        msg = email.message_from_bytes(tx["data"] or b"")
        out.append(f"X-Virus-Scanned: {msg.get('X-Virus-Scanned')}\nsubject: {msg.get('Subject')}\n")
        out.append(f"message:\n{message_text(tx['data'] or b'')}\n")
    if len(got) != 1:
        problems.append(f"{len(got)} transactions at the sink, wanted 1")
    return "".join(out), problems


def wrong_password(side):
    problems = []
    text, _ = smtp_send(side.ports["submission"], "alice@example.com", ["friend@partner.example"],
                        message("x", "x", "friend@partner.example"), tls=True, auth=("alice@example.com", "wrong"))
    if "AUTH 535" not in text:
        problems.append("wrong password not refused with 535")
    return text, problems


def unknown_user(side):
    problems = []
    text, _ = smtp_send(side.ports["smtp"], "outside@remote.example", ["nobody@example.com"],
                        message("x", "x", "nobody@example.com"))
    if not re.search(r"RCPT 550 5\.1\.1 ", text):
        problems.append("unknown virtual user not refused at RCPT with 550 5.1.1")
    return text, problems


def held_released(side):
    """A message the HOLD rule stops: listed by postqueue -p (with "!"),
    released by postsuper -H and delivered. The rule matches the Subject
    in every cleanup the message passes: released from the first hold, it
    goes through SpamAssassin and sendmail, and is held again; the
    postmaster releases it again (at most three rounds)."""
    problems = []
    text, ok = smtp_send(side.ports["smtp"], "outside@remote.example", ["alice@example.com"],
                         message("please look [hold]", "Held."))
    out = [text]
    if not ok:
        problems.append("not accepted")
        return "".join(out), problems
    for round_ in range(1, 4):
        services.wait_for(lambda: side.queue_files("hold") or pending(side, "alice@example.com"),
                          DELIVERY_TIMEOUT, 0.1)
        held = side.queue_files("hold")
        if not held:
            break
        st, so, se = side.run("postqueue", ["-p"])
        listing = so.decode(errors="replace")
        qids = re.findall(r"(?m)^([0-9A-Za-z]+)!\s", listing)
        out.append(f"round {round_}: {len(held)} held, postqueue -p exit {st} lists {len(qids)} held\n")
        if len(held) != 1 or len(qids) != 1:
            problems.append(f"postqueue -p lists {len(qids)} held messages, hold queue has {len(held)}")
            return "".join(out), problems
        st, so, se = side.run("postsuper", ["-H", qids[0]])
        out.append(f"postsuper -H: exit {st} {norm(se)}")
        st, _, _ = side.run("postqueue", ["-f"])
        out.append(f"postqueue -f: exit {st}\n")
    new = take_new(side, "alice@example.com")
    out.append(f"{len(new)} delivered after release\n")
    if len(new) != 1:
        problems.append("held message not delivered after release")
    else:
        out.append(headers_of(new[0]))
    if not any(x.startswith("round 1:") for x in out):
        problems.append("the message was never held")
    return "".join(out), problems


def sendmail_t(side):
    problems = []
    st, so, se = side.run("sendmail", ["-t", "-oi"],
                          message("from the shell", "Sent with sendmail -t.", "bob@example.com",
                                  "root@example.com").replace(b"\r\n", b"\n"))
    out = [f"sendmail -t: exit {st} {norm(so)}{norm(se)}\n"]
    new = take_new(side, "bob@example.com")
    out.append(f"{len(new)} delivered\n")
    if len(new) != 1:
        problems.append("sendmail -t message not delivered")
    else:
        h = headers_of(new[0])
        out.append(h)
        if "X-Virus-Scanned: ClamAV" not in h:
            problems.append("not scanned by clamsmtp")
    return "".join(out), problems


def port_465(side):
    """Wrapper-mode TLS with AUTH LOGIN (submission used PLAIN)."""
    problems = []
    text, ok = smtp_send(side.ports["smtps"], "alice@example.com", ["bob@example.com"],
                         message("over smtps", "Hello Bob, from port 465.", "bob@example.com", "alice@example.com"),
                         wrapper=True, auth=ALICE, mech="LOGIN")
    # Authenticated submission skips SpamAssassin (only port 25 has it).
    out = deliver_check(side, "bob@example.com", text, ok, problems, want_spam="")
    return "".join(out), problems


def _deferred_then_flows(side, label, stop, start, user="alice@example.com", via="smtp"):
    """A message sent while a service is down: deferred (not bounced, not
    lost); delivered after the service is back and postqueue -f."""
    problems = []
    log_before = len(side.log_text())
    stop()
    if via == "smtp":
        text, ok = smtp_send(side.ports["smtp"], "outside@remote.example", [user],
                             message(f"while {label} is down", "Wait for it.", user))
    else:
        st, so, se = side.run("sendmail", ["-oi", "-f", "root@example.com", user],
                              message(f"while {label} is down", "Wait for it.", user).replace(b"\r\n", b"\n"))
        text, ok = f"sendmail: exit {st} {norm(so)}{norm(se)}\n", st == 0
    out = [text]
    deferred = services.wait_for(lambda: side.queue_files("deferred") and settled(side), DELIVERY_TIMEOUT, 0.1)
    log = side.log_text()[log_before:]
    n_deferred = len(side.queue_files("deferred"))
    bounced = b"status=bounced" in log
    out.append(f"deferred: {n_deferred}, bounced: {bounced}, delivered meanwhile: "
               f"{len(pending(side, user))}\n")
    if not ok:
        problems.append("not accepted")
    if not deferred:
        problems.append("no deferred message")
    if bounced:
        problems.append("a message bounced")
    start()
    st, _, _ = side.run("postqueue", ["-f"])
    new = take_new(side, user)
    out.append(f"after the restart and postqueue -f: {len(new)} delivered\n")
    if len(new) != 1:
        problems.append(f"{len(new)} delivered after {label} came back, wanted 1")
    wait_settled(side)
    if side.queue_files("deferred"):
        problems.append("mail left in the deferred queue")
    return "".join(out), problems


def fault_filter_down(side):
    return _deferred_then_flows(side, "the filter", side.clamsmtpd.stop, side.clamsmtpd.start)


def fault_lmtp_down(side):
    return _deferred_then_flows(side, "Dovecot", side.dovecot.stop, side.dovecot.start)


def fault_mariadb_down(side):
    """MariaDB down: SMTP RCPT gets a 4xx (the client keeps the mail), mail
    from sendmail waits, and everything flows once MariaDB is back."""
    problems = []
    side.stack.mariadb.stop()
    try:
        text, _ = smtp_send(side.ports["smtp"], "outside@remote.example", ["alice@example.com"],
                            message("mariadb down", "x"))
        if not re.search(r"RCPT 4\d\d ", text):
            problems.append("RCPT while MariaDB is down did not get a 4xx reply")
        st, so, se = side.run("sendmail", ["-oi", "-f", "root@example.com", "alice@example.com"],
                              message("mariadb down, sendmail", "Wait.").replace(b"\r\n", b"\n"))
        out = [text, f"sendmail: exit {st}\n"]
        if not services.wait_for(lambda: b"message not accepted, try again later" in side.log_text(), 20, 0.1):
            problems.append("cleanup did not refuse the message for now")
        waiting = len(side.queue_files("maildrop"))
        out.append(f"waiting in maildrop: {waiting}\n")
        if waiting != 1:
            problems.append("the message is not waiting in maildrop")
        log = side.log_text()
        out.append(f"delivered meanwhile: {len(pending(side, 'alice@example.com'))}, "
                   f"bounced: {b'status=bounced' in log}\n")
        if b"status=bounced" in log:
            problems.append("a message bounced")
    finally:
        side.stack.mariadb.start()
    # The table clients of the running daemons wait 60 s before they try a
    # failed MariaDB again (fixed in the reference): the postmaster
    # reloads, then flushes the queue and wakes pickup.
    st, _, _ = side.run("postfix", ["-c", side.etc, "reload"])
    out.append(f"postfix reload: exit {st}\n")
    side.run("postqueue", ["-f"])
    side.run("postkick", ["public", "pickup", "W"])
    new = take_new(side, "alice@example.com", 30)
    out.append(f"after MariaDB came back: {len(new)} delivered\n")
    if len(new) != 1:
        problems.append(f"{len(new)} delivered after MariaDB came back, wanted 1")
    return "".join(out), problems


def fault_dns_timeout(side):
    """The DNS server does not answer: mail for a domain found by its MX
    record is deferred (not bounced, not lost) and goes out once DNS
    answers again and the queue is flushed."""
    dns = side.stack.dns
    if dns is None:
        return "skipped: no mount namespace\n", []
    problems = []
    before = len(side.sink.received)
    log_before = len(side.log_text())
    dns.mode = "silent"
    try:
        st, so, se = side.run("sendmail", ["-oi", "-f", "root@example.com", "someone@slow.example"],
                              message("while DNS is down", "Wait for it.", "someone@slow.example",
                                      "root@example.com").replace(b"\r\n", b"\n"))
        out = [f"sendmail: exit {st} {norm(so)}{norm(se)}\n"]
        deferred = services.wait_for(lambda: side.queue_files("deferred") and settled(side), DELIVERY_TIMEOUT, 0.1)
        log = side.log_text()[log_before:]
        m = re.search(rb"to=<someone@slow.example>.*status=deferred \((.*)\)", log)
        out.append(f"deferred: {len(side.queue_files('deferred'))}, bounced: {b'status=bounced' in log}, "
                   f"reason: {m.group(1).decode() if m else None}\n")
        if not deferred:
            problems.append("no deferred message")
        if b"status=bounced" in log:
            problems.append("a message bounced")
        if len(side.sink.received) != before:
            problems.append("delivered while DNS was down")
    finally:
        dns.mode = "answer"
    side.run("postqueue", ["-f"])
    services.wait_for(lambda: len(side.sink.received) > before, DELIVERY_TIMEOUT, 0.1)
    got = side.sink.received[before:]
    out.append(f"after DNS came back: {len(got)} transaction(s) at slow.example's MX\n")
    for tx in got:
        out.append("".join(norm(c) + "\n" for c in tx["commands"] if not c.upper().startswith(b"EHLO")))
    if len(got) != 1:
        problems.append(f"{len(got)} transactions at the MX after DNS came back, wanted 1")
    wait_settled(side)
    if side.queue_files("deferred"):
        problems.append("mail left in the deferred queue")
    return "".join(out), problems


CHECKS = [clean_mail, eicar_stopped, gtube_tagged, unauth_relay_refused, auth_relay_submission, wrong_password,
          unknown_user, held_released, sendmail_t, port_465, fault_filter_down, fault_lmtp_down, fault_mariadb_down,
          fault_dns_timeout]
