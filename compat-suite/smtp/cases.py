"""The cases of the smtp compat area: each is one message sent through its
own transport (smtp or lmtp with -o overrides) to its own scripted server
(scriptserver.py). Fields: name; server (script, see scriptserver.DEFAULTS;
None: nothing listens on the port); opts (master.cf -o settings); rcpts
(local parts at the case's domain); args (extra sendmail options); body;
lmtp; nexthop (format string with {port} and {root}, the run's directory; default
"[127.0.0.1]:{port}");
fallback (a second server's script: its address becomes
smtp_fallback_relay); master_args (words after the program name in the
transport's master.cf line, e.g. "flags=R").
"""

BODY = b"Subject: test\n\nHello.\n"
ESMTP_NOPIPE = ["SIZE 10240000", "8BITMIME", "ENHANCEDSTATUSCODES", "DSN"]
# What the reference's smtpd offers to an authorized XFORWARD client.
XFWD = "XFORWARD NAME ADDR PROTO HELO SOURCE PORT IDENT"
ESMTP_XFWD = ["PIPELINING", "SIZE 10240000", XFWD, "8BITMIME", "ENHANCEDSTATUSCODES", "DSN"]


def case(name, server=None, **kw):
    c = {"name": name, "server": {} if server is None else server, "opts": [], "rcpts": ["alice"],
         "args": [], "body": BODY, "lmtp": False, "nexthop": "[127.0.0.1]:{port}", "fallback": None,
         "master_args": ""}
    c.update(kw)
    return c


CASES = [
    case("basic"),
    case("basic-nopipelining", {"ehlo": ESMTP_NOPIPE}),
    case("multi-rcpt", rcpts=["alice", "bob", "carol"]),
    case("multi-rcpt-nopipelining", {"ehlo": ESMTP_NOPIPE}, rcpts=["alice", "bob", "carol"]),
    case("ehlo-not-understood", {"ehlo": None}),
    case("never-send-ehlo", opts=["smtp_never_send_ehlo=yes"]),
    case("always-ehlo-off-plain-greeting", {"greeting": "220 test.example ready"},
         opts=["smtp_always_send_ehlo=no"]),
    case("always-ehlo-off-esmtp-greeting", opts=["smtp_always_send_ehlo=no"]),
    case("helo-name", opts=["smtp_helo_name=client.example.net"]),
    case("multiline-greeting", {"greeting": ["220-test.example ESMTP", "220 welcome"]}),
    case("rcpt-550-one", {"rcpt": {"bob": "550 5.1.1 <bob@c.test>: Recipient address rejected: User unknown"}},
         rcpts=["alice", "bob", "carol"]),
    case("rcpt-450-one", {"rcpt": {"bob": "450 4.2.0 <bob@c.test>: Recipient address rejected: Greylisted"}},
         rcpts=["alice", "bob"]),
    case("rcpt-550-all", {"rcpt_default": "550 5.1.1 User unknown"}, rcpts=["alice", "bob"]),
    case("rcpt-550-all-nopipelining", {"ehlo": ESMTP_NOPIPE, "rcpt_default": "550 5.1.1 User unknown"},
         rcpts=["alice", "bob"]),
    case("rcpt-550-nopipelining-one", {"ehlo": ESMTP_NOPIPE, "rcpt": {"alice": "550 5.7.1 Relay denied"}},
         rcpts=["alice", "bob"]),
    case("rcpt-no-enhanced-code", {"rcpt": {"alice": "550 no such user here"}}),
    case("rcpt-multiline-reply", {"rcpt": {"alice": ["550-5.1.1 first line", "550 5.1.1 second line"]}}),
    case("rcpt-class-mismatch", {"rcpt": {"alice": "550 4.1.1 mixed classes"}}),
    case("mail-550", {"mail": "550 5.7.1 Sender rejected"}, rcpts=["alice", "bob"]),
    case("mail-450", {"mail": "450 4.7.1 Try later"}),
    case("mail-550-nopipelining", {"ehlo": ESMTP_NOPIPE, "mail": "553 5.1.8 Bad sender domain"}),
    case("data-554", {"data": "554 5.3.0 No data today"}, rcpts=["alice", "bob"]),
    case("data-451", {"data": "451 4.3.0 Local error"}),
    case("dot-550", {"dot": "550 5.7.1 Message content rejected"}, rcpts=["alice", "bob"]),
    case("dot-452", {"dot": "452 4.3.1 Insufficient system storage"}),
    case("greeting-554-skipped", {"greeting": "554 5.3.2 Service not available"}),
    case("greeting-554-not-skipped", {"greeting": "554 5.3.2 Service not available"},
         opts=["smtp_skip_5xx_greeting=no"]),
    case("greeting-421", {"greeting": "421 4.3.2 Too busy"}),
    case("ehlo-421", {"ehlo": "421 4.3.2 Shutting down"}),
    case("helo-550", {"ehlo": None, "helo": "550 5.7.1 Go away"}),
    case("drop-at-greeting", {"drop": "greeting"}),
    case("drop-at-ehlo", {"drop": "ehlo"}),
    case("drop-at-mail", {"drop": "mail"}),
    case("drop-at-rcpt", {"drop": "rcpt"}),
    case("drop-at-data", {"drop": "data"}),
    case("drop-at-dot", {"drop": "dot"}),
    case("timeout-greeting", {"stall": ("greeting", 3)}, opts=["smtp_helo_timeout=1s"]),
    case("timeout-mail", {"stall": ("mail", 3), "ehlo": ESMTP_NOPIPE}, opts=["smtp_mail_timeout=1s"]),
    case("timeout-dot", {"stall": ("dot", 3)}, opts=["smtp_data_done_timeout=1s"]),
    case("connection-refused", None),
    case("size-exceeded", {"ehlo": ["PIPELINING", "SIZE 100", "8BITMIME"]},
         body=b"Subject: big\n\n" + b"x" * 300 + b"\n"),
    case("size-not-offered", {"ehlo": ["PIPELINING", "8BITMIME"]}),
    case("dsn-notify-orcpt", args=["-N", "success,failure"], rcpts=["alice", "bob"]),
    case("dsn-notify-never", args=["-N", "never"]),
    case("dsn-ret-envid", args=["-R", "hdrs", "-V", "env+id=1"]),
    case("dsn-not-offered", {"ehlo": ["PIPELINING", "SIZE 10240000", "8BITMIME"]},
         args=["-N", "success,delay,failure", "-R", "full", "-V", "abc"]),
    case("8bitmime", args=["-B", "8BITMIME"], body="Subject: caf\u00e9\n\n\u00e9t\u00e9\n".encode()),
    case("8bitmime-smtputf8", {"ehlo": ["PIPELINING", "SIZE 10240000", "8BITMIME", "SMTPUTF8"]},
         args=["-B", "8BITMIME"], body="Subject: caf\u00e9\n\n\u00e9t\u00e9\n".encode()),
    case("8bitmime-latin", args=["-B", "8BITMIME"], body=b"Subject: plain\n\nlatin1 \xe9t\xe9\n"),
    case("8bitmime-not-offered", {"ehlo": ["PIPELINING", "SIZE 10240000"]}, args=["-B", "8BITMIME"],
         body="Subject: caf\u00e9\n\n\u00e9t\u00e9\n".encode()),
    case("7bit-body", args=["-B", "7BIT"]),
    case("dot-stuffing", body=b"Subject: dots\n\n.\n..two\n.three\nend\n"),
    case("no-final-newline", body=b"Subject: x\n\nno newline at end"),
    case("large-body", body=b"Subject: large\n\n" + b"".join(b"line %06d of a larger message body\n" % i
                                                             for i in range(8000))),
    case("null-sender", args=["-f", "<>"]),
    case("quoted-local-part", rcpts=["john..doe"]),
    case("fallback-relay", None, fallback={}),
    case("fallback-after-greeting-refused", {"greeting": "421 4.3.2 Busy"}, fallback={}),
    case("lmtp-basic", {"lmtp": True, "ehlo": ["PIPELINING", "ENHANCEDSTATUSCODES", "8BITMIME"]},
         lmtp=True, rcpts=["alice", "bob"]),
    case("lmtp-inet-form", {"lmtp": True}, lmtp=True, nexthop="inet:127.0.0.1:{port}"),
    case("lmtp-per-rcpt-status", {"lmtp": True, "dot_rcpt": {"bob": "550 5.2.2 Mailbox full",
                                                            "carol": "452 4.2.2 Over quota"}},
         lmtp=True, rcpts=["alice", "bob", "carol"]),
    case("lmtp-rcpt-reject", {"lmtp": True, "rcpt": {"bob": "550 5.1.1 No such user"}}, lmtp=True,
         rcpts=["alice", "bob"]),
    case("lmtp-lhlo-rejected", {"lmtp": True, "ehlo": "500 5.5.1 What?"}, lmtp=True),
    case("lmtp-refused", None, lmtp=True),
    case("lmtp-unix", {"lmtp": True, "unix_path": "lmtp.sock"}, lmtp=True, rcpts=["alice", "bob"],
         nexthop="unix:{root}/lmtp.sock"),
    case("lmtp-unix-missing", None, lmtp=True, nexthop="unix:{root}/no-such.sock"),
    case("rcpt-421", {"rcpt": {"bob": "421 4.4.2 Closing connection"}}, rcpts=["alice", "bob", "carol"]),
    case("timeout-rcpt", {"stall": ("rcpt", 3), "ehlo": ESMTP_NOPIPE}, opts=["smtp_rcpt_timeout=1s"]),
    case("timeout-data-init", {"stall": ("data", 3)}, opts=["smtp_data_init_timeout=1s"]),
    case("quoted-sender", args=["-f", "odd..sender@example.com"]),
    case("lmtp-drop-at-dot", {"lmtp": True, "drop": "dot"}, lmtp=True, rcpts=["alice", "bob"]),
    case("long-line-limit-off", opts=["smtp_line_length_limit=0"],
         body=b"Subject: long\n\n" + b"z" * 1200 + b"\n"),
    case("long-line", body=b"Subject: long\n\n" + b"y" * 1500 + b"\nshort\n"),
    case("xforward-local", {"ehlo": ESMTP_XFWD}, opts=["smtp_send_xforward_command=yes"]),
    case("xforward-not-enabled", {"ehlo": ESMTP_XFWD}),
    case("xforward-nopipelining", {"ehlo": [XFWD] + ESMTP_NOPIPE}, opts=["smtp_send_xforward_command=yes"],
         rcpts=["alice", "bob"]),
    case("xforward-rejected", {"ehlo": ESMTP_XFWD, "xforward": "550 5.7.0 Error: insufficient authorization"},
         opts=["smtp_send_xforward_command=yes"]),
    case("xforward-name-addr-only", {"ehlo": ["PIPELINING", "XFORWARD NAME ADDR", "8BITMIME"]},
         opts=["smtp_send_xforward_command=yes"]),
    case("xforward-source-only", {"ehlo": ["PIPELINING", "XFORWARD SOURCE", "8BITMIME"]},
         opts=["smtp_send_xforward_command=yes"]),
    case("xforward-lowercase", {"ehlo": ["PIPELINING", "xforward name addr proto helo source ident", "8BITMIME"]},
         opts=["smtp_send_xforward_command=yes"]),
    case("downgrade-latin1", {"ehlo": ["PIPELINING", "SIZE 10240000"]}, args=["-B", "8BITMIME"],
         body=b"Subject: plain\n\nlatin1 \xe9t\xe9 = equals\n"),
    case("downgrade-mime-8bit", {"ehlo": ["PIPELINING", "SIZE 10240000"]}, args=["-B", "8BITMIME"],
         body=b"Subject: mime\nMIME-Version: 1.0\nContent-Type: text/plain; charset=iso-8859-1\n"
              b"Content-Transfer-Encoding: 8bit\n\nlatin1 \xe9t\xe9 = equals, trailing space \n"
              + b"long " * 20 + b"\xe9\n"),
    case("downgrade-multipart", {"ehlo": ["PIPELINING", "SIZE 10240000"]}, args=["-B", "8BITMIME"],
         body=b"Subject: multi\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"XX\"\n\n"
              b"preamble\n--XX\nContent-Type: text/plain; charset=iso-8859-1\nContent-Transfer-Encoding: 8bit\n\n"
              b"part \xe9\n--XX\nContent-Type: text/plain\n\nseven bit\n--XX--\nepilogue\n"),
    case("downgrade-disabled", {"ehlo": ["PIPELINING", "SIZE 10240000"]}, args=["-B", "8BITMIME"],
         opts=["disable_mime_output_conversion=yes"], body=b"Subject: plain\n\nlatin1 \xe9t\xe9\n"),
    case("downgrade-7bit-declared", {"ehlo": ["PIPELINING", "SIZE 10240000"]}, args=["-B", "7BIT"],
         body=b"Subject: plain\n\nlatin1 \xe9t\xe9\n"),
    case("no-8bitmime-plain", {"ehlo": ["PIPELINING", "SIZE 10240000"]}),
    case("generic-maps", opts=["smtp_generic_maps=inline:{sender@example.com=admin@remote.example,"
                               "bob@c{i}.test=robert@remote.example}"],
         rcpts=["alice", "bob"],
         body=b"From: Sender <sender@example.com>\nTo: bob@c{i}.test, Alice <alice@c{i}.test>,\n"
              b" sender@example.com\nCc: sender@example.com\nSubject: sender@example.com\n\n"
              b"sender@example.com\n"),
    case("generic-maps-domain", opts=["smtp_generic_maps=inline:{@example.com=@mail.remote.example}"],
         body=b"From: sender@example.com\nReply-To: other@example.com\nSubject: x\n\nbody\n"),
    case("header-checks", opts=["smtp_header_checks=regexp:{instance}/etc/c{i}-header_checks"],
         files={"header_checks": b"/^Subject: secret/ REPLACE Subject: hidden\n/^X-Drop:/ IGNORE\n"
                                 b"/^X-Warn:/ WARN watch this\n/^X-Info:/ INFO\n/^X-Strip:/ STRIP stripped\n"
                                 b"/^X-Prepend:/ PREPEND X-Added: yes\n/^X-Reject:/ REJECT no\n"
                                 b"/^X-Bad:/ REPLACE not a header\n/^From:/ DUNNO\n"},
         body=b"Subject: secret plans\nX-Drop: a\nX-Warn: b\n  continued\nX-Info: c\nX-Strip: d\n"
              b"X-Prepend: e\nX-Reject: f\nX-Bad: g\n\nbody\n"),
    case("body-checks", opts=["smtp_body_checks=regexp:{instance}/etc/c{i}-body_checks"],
         files={"body_checks": b"/^secret line/ REPLACE public line\n/^drop me/ IGNORE\n"
                               b"/^warn me/ WARN body warning\n/^prepend me/ PREPEND before\n"},
         body=b"Subject: b\n\nsecret line 1\ndrop me\nwarn me\nprepend me\nkeep me\n"),
    case("mime-nested-header-checks", opts=["smtp_mime_header_checks=regexp:{instance}/etc/c{i}-mime",
                                           "smtp_nested_header_checks=regexp:{instance}/etc/c{i}-nested",
                                           "smtp_header_checks=regexp:{instance}/etc/c{i}-nested"],
         files={"mime": b"/^Content-Type: text\\/plain/ WARN mime header\n",
                "nested": b"/^Subject:/ INFO subject seen\n"},
         body=b"Subject: outer\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"B\"\n\n--B\n"
              b"Content-Type: text/plain\n\ntext\n--B\nContent-Type: message/rfc822\n\nSubject: inner\n"
              b"From: x@example.org\n\ninner body\n--B--\n"),
    case("checks-with-downgrade", {"ehlo": ["PIPELINING", "SIZE 10240000"]}, args=["-B", "8BITMIME"],
         opts=["smtp_body_checks=regexp:{instance}/etc/c{i}-body_checks"],
         files={"body_checks": b"/=E9/ WARN encoded seen\n"},
         body=b"Subject: mime\nMIME-Version: 1.0\nContent-Type: text/plain; charset=iso-8859-1\n"
              b"Content-Transfer-Encoding: 8bit\n\n\xe9t\xe9\n"),
    case("lmtp-xforward", {"lmtp": True, "ehlo": ["PIPELINING", XFWD, "8BITMIME"]}, lmtp=True,
         opts=["lmtp_send_xforward_command=yes"], rcpts=["alice", "bob"]),
    case("xforward-timeout", {"ehlo": [XFWD] + ESMTP_NOPIPE, "stall": ("xforward", 3)},
         opts=["smtp_send_xforward_command=yes", "smtp_xforward_timeout=1s"]),
    # Address probes (sendmail -bv): MAIL and RCPT, then RSET, no DATA.
    case("probe-bv", {"rcpt": {"bob": "550 5.1.1 <bob@c.test>: Recipient address rejected: User unknown"}},
         rcpts=["alice", "bob"], args=["-bv"]),
    case("probe-bv-nopipelining", {"ehlo": ESMTP_NOPIPE}, args=["-bv"]),
    # master.cf flags=DORX: headers before the content, D/O need a single
    # recipient, D refuses a Delivered-To: loop.
    case("flags-return-path", master_args="flags=R"),
    case("flags-orig-delivered", master_args="FLAGS=DOR"),
    case("flags-with-header-checks", master_args="flags=OD",
         opts=["smtp_header_checks=regexp:{instance}/etc/c{i}-header_checks"],
         files={"header_checks": b"/^Delivered-To:/ WARN seen\n/^X-Original-To:/ REPLACE X-Was-To: hidden\n"}),
    case("flags-delivered-multi-rcpt", master_args="flags=D", rcpts=["alice", "bob"]),
    case("flags-orig-multi-rcpt", master_args="flags=RO", rcpts=["alice", "bob"]),
    case("flags-delivered-loop", master_args="flags=D",
         body=b"Subject: loop\nDelivered-To: alice@c{i}.test\n\nHello.\n"),
    case("flags-last-word-wins", master_args="flags=D flags=R", rcpts=["alice", "bob"]),
    case("lmtp-flags-final", {"lmtp": True}, lmtp=True, master_args="flags=XR", args=["-N", "success"]),
]
