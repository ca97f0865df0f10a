#!/usr/bin/env python3
"""The SMTP client's SASL AUTH (smtp_sasl_*): the reference's smtp and ours.

Runs compat-suite/smtp's harness (run_smtp.py: one transport per case with
its -o options, one scripted server per case, messages submitted with
each side's sendmail, comparison of what the server received and of the
message's log lines) with this file's cases and with a scripted server
that also speaks AUTH: it offers the mechanisms of its "ehlo" list and
checks PLAIN (with or without initial response), LOGIN and CRAM-MD5
(fixed challenge, so the client's answer is the same on both sides)
against its "users"; a wrong login gets its "auth_fail" reply.

    compat-suite/smtpd-sasl/run_smtp_sasl.py --ours <build> [--case NAME] [--show-diff]

Exit status as run_smtp.py. Trusts: its own cases.
"""

import base64
import hashlib
import hmac
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
COMPAT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(COMPAT, "smtp"))
sys.path.insert(0, os.path.join(COMPAT, "lib"))

import run_smtp  # noqa: E402
from recording_server import RecordingServer  # noqa: E402

CHALLENGE = b"<1896.697170952@test.example>"


class AuthServer(RecordingServer):
    """run_smtp's ScriptServer interface (port, transcripts, reset, close)
    for a server with AUTH."""

    def __init__(self, script):
        self.script = {"ehlo": ["PIPELINING", "SIZE 10240000", "AUTH PLAIN LOGIN CRAM-MD5", "ENHANCEDSTATUSCODES",
                                "8BITMIME", "DSN"],
                       "users": {"alice": "secret"},
                       "auth_fail": "535 5.7.8 Error: authentication failed: authentication failure",
                       **script}
        super().__init__()

    def serve(self, session):
        s = self.script
        say, readline = session.say, session.readline

        def unb64(text):
            try:
                return base64.b64decode(text, validate=True)
            except ValueError:
                return None

        def check(user, password):
            ok = user is not None and s["users"].get(user.decode("latin-1")) == (password or b"").decode("latin-1")
            say("235 2.7.0 Authentication successful" if ok else s["auth_fail"])
            return ok

        def auth(words):
            mech = words[1].upper() if len(words) > 1 else ""
            initial = words[2] if len(words) > 2 else None
            if mech == "PLAIN":
                if initial is None:
                    say("334 ")
                    initial = readline()
                data = unb64(initial or "")
                parts = data.split(b"\0") if data else []
                return check(parts[1], parts[2]) if len(parts) == 3 else check(None, None)
            if mech == "LOGIN":
                if initial is None:
                    say("334 VXNlcm5hbWU6")
                    initial = readline()
                user = unb64(initial or "")
                say("334 UGFzc3dvcmQ6")
                return check(user, unb64(readline() or ""))
            if mech == "CRAM-MD5":
                say("334 " + base64.b64encode(CHALLENGE).decode())
                data = unb64(readline() or "") or b""
                user, _, digest = data.partition(b" ")
                secret = s["users"].get(user.decode("latin-1"), "").encode()
                good = hmac.new(secret, CHALLENGE, hashlib.md5).hexdigest().encode()
                return check(user, s["users"].get(user.decode("latin-1")).encode()
                             if digest == good and user.decode("latin-1") in s["users"] else b"\0wrong")
            say("504 5.5.4 Unsupported authentication mechanism")
            return False

        say("220 test.example ESMTP ready")
        while True:
            line = readline()
            if line is None:
                return
            words = line.split(" ")
            verb = words[0].upper()
            if verb == "EHLO":
                session.say_multiline(250, ["test.example"] + s["ehlo"])
            elif verb == "AUTH":
                auth(words)
            elif not session.plain_command(verb):
                return


case = run_smtp.case_list.case
ON = ["smtp_sasl_auth_enable=yes", "smtp_sasl_password_maps=texthash:{instance}/etc/c{i}-passwd"]
PLAINTEXT_OK = ["smtp_sasl_security_options=noanonymous"]
HOST_KEY = {"passwd": b"127.0.0.1 alice:secret\n"}

CASES = [
    case("sasl-plain", {"ehlo": ["PIPELINING", "AUTH PLAIN", "8BITMIME"]}, opts=ON + PLAINTEXT_OK, files=HOST_KEY),
    case("sasl-login", {"ehlo": ["PIPELINING", "AUTH LOGIN", "8BITMIME"]}, opts=ON + PLAINTEXT_OK, files=HOST_KEY),
    case("sasl-cram-md5", {"ehlo": ["PIPELINING", "AUTH PLAIN LOGIN CRAM-MD5", "8BITMIME"]}, opts=ON,
         files=HOST_KEY),
    case("sasl-plain-refused", {"ehlo": ["AUTH PLAIN"]}, opts=ON + PLAINTEXT_OK, files=HOST_KEY,
         server_users={}),
    case("sasl-refused-hard", {"ehlo": ["AUTH PLAIN"], "users": {}}, opts=ON + PLAINTEXT_OK +
         ["smtp_sasl_auth_soft_bounce=no"], files=HOST_KEY),
    case("sasl-refused-4xx", {"ehlo": ["AUTH PLAIN"], "users": {},
                              "auth_fail": "454 4.7.0 Temporary authentication failure: try later"},
         opts=ON + PLAINTEXT_OK, files=HOST_KEY),
    case("sasl-noplaintext-only-plain", {"ehlo": ["AUTH PLAIN LOGIN"]}, opts=ON, files=HOST_KEY),
    case("sasl-no-credentials", {"ehlo": ["AUTH PLAIN"]}, opts=ON + PLAINTEXT_OK,
         files={"passwd": b"other.example alice:secret\n"}),
    case("sasl-not-offered", {"ehlo": ["PIPELINING", "8BITMIME"]}, opts=ON + PLAINTEXT_OK, files=HOST_KEY),
    case("sasl-filter", {"ehlo": ["AUTH PLAIN LOGIN"]}, opts=ON + PLAINTEXT_OK + ["smtp_sasl_mechanism_filter=login"],
         files=HOST_KEY),
    case("sasl-filter-empty", {"ehlo": ["AUTH PLAIN LOGIN"]},
         opts=ON + PLAINTEXT_OK + ["smtp_sasl_mechanism_filter=cram-md5"], files=HOST_KEY),
    case("sasl-sender-dependent", {"ehlo": ["AUTH PLAIN"], "users": {"bob": "b0b"}},
         opts=ON + PLAINTEXT_OK + ["smtp_sender_dependent_authentication=yes"],
         files={"passwd": b"sender@example.com bob:b0b\n127.0.0.1 alice:secret\n"}),
    # The password table by next hop as the transport gives it ([host]:port).
    case("sasl-nexthop-key", {"ehlo": ["AUTH PLAIN"]}, opts=["smtp_sasl_auth_enable=yes",
         "smtp_sasl_password_maps=regexp:{instance}/etc/c{i}-passwd"] + PLAINTEXT_OK,
         files={"passwd": b"/^\\[127\\.0\\.0\\.1\\]:[0-9]+$/ alice:secret\n"}),
    case("sasl-disabled", {"ehlo": ["AUTH PLAIN"]}, opts=PLAINTEXT_OK, files=HOST_KEY),
]
for c in CASES:
    # "server_users" is shorthand for a server that knows nobody.
    if "server_users" in c:
        c["server"] = dict(c["server"], users=c.pop("server_users"))

run_smtp.ScriptServer = AuthServer
run_smtp.case_list.CASES = CASES
run_smtp.AREA = "smtp-sasl"

if __name__ == "__main__":
    # run_smtp's retry runs the script its module's __file__ names again,
    # with the failing cases: this one, with this area's cases.
    run_smtp.__file__ = os.path.abspath(__file__)
    sys.exit(run_smtp.main())
