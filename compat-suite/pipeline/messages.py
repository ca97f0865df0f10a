"""The messages of the pipeline area: each is submitted with sendmail on both
sides, in this order. `args` are sendmail's arguments, `data` its stdin.

Shapes covered: plain; missing Date / Message-Id / From / To; Resent-
headers; -t with To/Cc/Bcc, groups and comments; many recipients; MIME
(multipart, nested message/rfc822, base64, quoted-printable,
message/partial); 8-bit with and without MIME labels; long lines and long
headers; CRLF, bare CR, NUL, no final newline; lone dots with and without
-i; "From " lines; Return-Path / Delivered-To in the input; odd addresses
(extensions, upper case, quoted local parts, null sender, unqualified,
percent and bang forms); subjects and bodies that trigger each
header_checks / body_checks action of the configurations.
"""

SENDER = ["-f", "alice@example.com"]


def msg(name, args, data):
    if isinstance(data, str):
        data = data.encode()
    return {"name": name, "args": args, "data": data}


def hdr(subject, extra=""):
    return (f"From: Alice <alice@example.com>\nTo: Bob <bob@example.com>\n"
            f"Subject: {subject}\nDate: Fri, 27 Nov 2026 10:00:00 +0000\n"
            f"Message-ID: <{subject.replace(' ', '-')}@test.example.com>\n{extra}")


MIME_MULTI = """From: alice@example.com
To: bob@example.com
Subject: multipart
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="BOUNDARY1"

preamble
--BOUNDARY1
Content-Type: text/plain; charset=us-ascii

first part
--BOUNDARY1
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: 8bit

second part caf\u00e9
--BOUNDARY1--
epilogue
"""

MIME_NESTED = """From: alice@example.com
To: bob@example.com
Subject: nested
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="OUTER"

--OUTER
Content-Type: text/plain

see attached
--OUTER
Content-Type: message/rfc822

From: someone@remote.example.net
To: alice@example.com
Subject: inner message
X-Inner: yes

inner body
--OUTER--
"""

BASE64 = """From: alice@example.com
To: bob@example.com
Subject: base64 attachment
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="b64"

--b64
Content-Type: application/octet-stream; name="blob.bin"
Content-Transfer-Encoding: base64
Content-Disposition: attachment; filename="blob.bin"

AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4
OTo7PD0+P0BBQkNERUZHSElKS0xNTk9QUVJTVFVWV1hZWltcXV5fYGFiY2RlZmdoaWprbG1ub3Bx
--b64--
"""

QP = """From: alice@example.com
To: bob@example.com
Subject: quoted-printable
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: quoted-printable

caf=C3=A9 soft=
break and a very long line that goes on=20
"""

PARTIAL = """From: alice@example.com
To: bob@example.com
Subject: partial
MIME-Version: 1.0
Content-Type: message/partial; id="abc@example.com"; number=1; total=2

From: x@example.com
Subject: the whole

part one
"""

ACTIONS = ["reject", "warn", "hold", "discard", "prepend", "replace", "ignore",
           "redirect", "bcc", "filter", "info", "ok"]

MESSAGES = [
    msg("plain", SENDER + ["bob@example.com"], hdr("plain") + "\nHello Bob.\n"),
    msg("no-date", SENDER + ["bob@example.com"],
        "From: alice@example.com\nTo: bob@example.com\nSubject: no date\nMessage-ID: <nd@test>\n\nbody\n"),
    msg("no-message-id", SENDER + ["bob@example.com"],
        "From: alice@example.com\nTo: bob@example.com\nSubject: no id\nDate: Fri, 27 Nov 2026 10:00:00 +0000\n\nbody\n"),
    msg("no-from", SENDER + ["bob@example.com"], "To: bob@example.com\nSubject: no from\n\nbody\n"),
    msg("no-headers", SENDER + ["bob@example.com"], "just a body line\nand another\n"),
    msg("no-to", SENDER + ["bob@example.com"], "From: alice@example.com\nSubject: no to\n\nbody\n"),
    msg("resent", SENDER + ["carol@example.com"],
        hdr("resent", "Resent-From: dave@example.com\nResent-To: carol@example.com\n"
            "Resent-Date: Fri, 27 Nov 2026 11:00:00 +0000\n") + "\nforwarded\n"),
    msg("resent-t", ["-t"] + SENDER,
        hdr("resent t", "Resent-From: dave@example.com\nResent-To: carol@example.com\n") + "\nforwarded\n"),
    msg("t-to-cc-bcc", ["-t"] + SENDER,
        "From: alice@example.com\nTo: bob@example.com\nCc: carol@example.com, dave@example.com\n"
        "Bcc: secret@example.com\nSubject: t flag\n\nbody\n"),
    msg("t-groups", ["-t"] + SENDER,
        "From: alice@example.com\nTo: Friends: bob@example.com, \"Carol C\" <carol@example.com>;,"
        " dave@example.com (Dave D)\nSubject: groups\n\nbody\n"),
    msg("many-rcpt", SENDER + [f"user{i}@example.com" for i in range(20)], hdr("many") + "\nbody\n"),
    msg("many-rcpt-t", ["-t"] + SENDER,
        "From: alice@example.com\nTo: " + ",\n ".join(f"u{i}@remote.example.net" for i in range(50))
        + "\nSubject: many t\n\nbody\n"),
    msg("mime-multipart", SENDER + ["bob@example.com"], MIME_MULTI),
    msg("mime-nested", SENDER + ["bob@example.com"], MIME_NESTED),
    msg("8bit-unlabelled", SENDER + ["bob@example.com"], hdr("eight bit") + "\ncaf\u00e9 cr\u00e8me\n"),
    msg("8bit-labelled", SENDER + ["bob@example.com"],
        hdr("eight bit labelled", "MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n"
            "Content-Transfer-Encoding: 8bit\n") + "\ncaf\u00e9\n"),
    msg("long-line", SENDER + ["bob@example.com"], hdr("long line") + "\n" + "x" * 1500 + "\n"),
    msg("very-long-line", SENDER + ["bob@example.com"], hdr("very long line") + "\n" + "y" * 10000 + "\nend\n"),
    msg("long-header", SENDER + ["bob@example.com"],
        hdr("long header", "X-Long: " + " ".join(["word"] * 700) + "\n") + "\nbody\n"),
    msg("crlf", SENDER + ["bob@example.com"],
        (hdr("crlf") + "\nline one\nline two\n").replace("\n", "\r\n")),
    msg("bare-cr", SENDER + ["bob@example.com"], hdr("bare cr") + "\nline\rwith cr\n"),
    msg("nul-byte", SENDER + ["bob@example.com"], (hdr("nul") + "\nnul\0byte\n").encode()),
    msg("no-final-newline", SENDER + ["bob@example.com"], hdr("no final newline") + "\nlast line"),
    msg("lone-dot", SENDER + ["bob@example.com"], hdr("lone dot") + "\nbefore\n.\nafter\n"),
    msg("lone-dot-i", ["-i"] + SENDER + ["bob@example.com"], hdr("lone dot i") + "\nbefore\n.\nafter\n"),
    msg("from-line", SENDER + ["bob@example.com"], hdr("from line") + "\nFrom the start\n>From quoted\n"),
    msg("double-dot", ["-oi"] + SENDER + ["bob@example.com"], hdr("double dot") + "\n..\n...x\n"),
    msg("return-path-in", SENDER + ["bob@example.com"],
        "Return-Path: <forged@example.net>\n" + hdr("return path") + "\nbody\n"),
    msg("delivered-to-in", SENDER + ["bob@example.com"],
        "Delivered-To: bob@example.com\n" + hdr("delivered to") + "\nbody\n"),
    msg("duplicate-rcpt", SENDER + ["bob@example.com", "bob@example.com", "BOB@example.com"],
        hdr("duplicates") + "\nbody\n"),
    msg("extension", SENDER + ["bob+tag@example.com"], hdr("extension") + "\nbody\n"),
    msg("uppercase", SENDER + ["BOB@EXAMPLE.COM"], hdr("uppercase") + "\nbody\n"),
    msg("quoted-local", SENDER + ['"john doe"@example.com'], hdr("quoted local") + "\nbody\n"),
    msg("null-sender", ["-f", "<>", "bob@example.com"], hdr("null sender") + "\nbody\n"),
    msg("full-name", ["-F", "Alice Example"] + SENDER + ["bob@example.com"],
        "To: bob@example.com\nSubject: full name\n\nbody\n"),
    msg("r-sender", ["-r", "robot@example.com", "bob@example.com"], hdr("r sender") + "\nbody\n"),
    msg("unqualified", SENDER + ["bob"], hdr("unqualified") + "\nbody\n"),
    msg("percent-hack", SENDER + ["user%remote.example.net@example.com"], hdr("percent") + "\nbody\n"),
    msg("bang-path", SENDER + ["remote.example.net!user"], hdr("bang") + "\nbody\n"),
    msg("utf8-subject", SENDER + ["bob@example.com"],
        "From: alice@example.com\nTo: bob@example.com\nSubject: gr\u00fc\u00dfe\n\nbody\n"),
    msg("encoded-word", SENDER + ["bob@example.com"],
        "From: alice@example.com\nTo: bob@example.com\nSubject: =?UTF-8?Q?gr=C3=BC=C3=9Fe?=\n\nbody\n"),
    msg("empty-body", SENDER + ["bob@example.com"], hdr("empty body")),
    msg("headers-no-blank", SENDER + ["bob@example.com"], hdr("headers no blank").rstrip("\n") + "\n"),
    msg("bad-header-middle", SENDER + ["bob@example.com"],
        "From: alice@example.com\nSubject: bad middle\nthis is not a header\nTo: bob@example.com\n\nbody\n"),
    msg("many-headers", SENDER + ["bob@example.com"],
        hdr("many headers", "".join(f"X-H{i}: value {i}\n" for i in range(200))) + "\nbody\n"),
    msg("folded-headers", SENDER + ["bob@example.com"],
        hdr("folded", "X-Folded: one\n\ttwo\n  three\n") + "\nbody\n"),
    msg("mime-partial", SENDER + ["bob@example.com"], PARTIAL),
    msg("mime-base64", SENDER + ["bob@example.com"], BASE64),
    msg("mime-qp", SENDER + ["bob@example.com"], QP),
    msg("remote-rcpt", SENDER + ["someone@remote.example.net"], hdr("remote") + "\nbody\n"),
] + [
    msg(f"action-{a}", SENDER + ["bob@example.com", "carol@example.com"],
        hdr(f"please {a} me") + f"\nfirst line\nbody says {a} this\n")
    for a in ACTIONS
] + [
    # sendmail -v: delivered as usual, then a delivery status report
    # mailed to the sender (the trace service); -bv: nothing delivered, an
    # address verification report mailed to the sender.
    msg("trace-v", ["-v"] + SENDER + ["bob@example.com", "carol@example.com"], hdr("trace v") + "\nbody\n"),
    msg("verify-bv", ["-bv"] + SENDER + ["bob@example.com", "carol@example.com"], b""),
    # An empty envelope recipient becomes empty_address_recipient.
    msg("empty-rcpt", SENDER + ["", "bob@example.com"], hdr("empty rcpt") + "\nbody\n"),
    # Encodings the strict MIME checks look at: a multipart entity with a
    # non-identity encoding, a message/rfc822 part in quoted-printable, and
    # 8-bit text in a part labelled 7bit after a base64 one.
    msg("mime-bad-domain", SENDER + ["bob@example.com"],
        "From: alice@example.com\nTo: bob@example.com\nSubject: bad domain\nMIME-Version: 1.0\n"
        "Content-Type: multipart/mixed; boundary=\"B\"\nContent-Transfer-Encoding: base64\n\n"
        "--B\nContent-Type: text/plain\n\nplain\n--B--\n"),
    msg("mime-encoded-rfc822", SENDER + ["bob@example.com"],
        "From: alice@example.com\nTo: bob@example.com\nSubject: encoded rfc822\nMIME-Version: 1.0\n"
        "Content-Type: multipart/mixed; boundary=\"B\"\n\n"
        "--B\nContent-Type: message/rfc822\nContent-Transfer-Encoding: quoted-printable\n\n"
        "Subject: inner\n\ninner body\n--B--\n"),
    msg("mime-8bit-in-7bit-part", SENDER + ["bob@example.com"],
        "From: alice@example.com\nTo: bob@example.com\nSubject: parts\nMIME-Version: 1.0\n"
        "Content-Type: multipart/mixed; boundary=\"B\"\n\n"
        "--B\nContent-Type: application/octet-stream\nContent-Transfer-Encoding: base64\n\nAAAA\n"
        "--B\nContent-Type: text/plain\nContent-Transfer-Encoding: 7bit (comment)\n\ncaf\u00e9\n--B--\n"),
    # sendmail -bs: the stand-alone smtpd pipes the message through
    # postdrop into maildrop/, and pickup takes it from there.
    msg("smtp-bs", ["-bs"],
        b"EHLO client.example\r\nMAIL FROM:<alice@example.com> BODY=8BITMIME\r\n"
        b"RCPT TO:<bob@example.com> NOTIFY=FAILURE,DELAY\r\nRCPT TO:<carol@example.com>\r\nDATA\r\n"
        + hdr("sendmail bs").replace("\n", "\r\n").encode() + b"\r\nbody via sendmail -bs\r\n..dot\r\n.\r\nQUIT\r\n"),
]
