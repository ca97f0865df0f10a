"""A scripted SMTP server with STARTTLS and wrapper mode, for the smtp
client's TLS cases (run_smtp_tls.py).

It speaks just enough SMTP for one message per connection: the greeting,
EHLO (offering STARTTLS when the script says so), STARTTLS (the script's
reply; on 220 the TLS handshake, as Python's ssl module does it, with the
script's certificate; with "break_tls" garbage instead), HELO, MAIL, RCPT, DATA, RSET, QUIT. With "wrapper"
the handshake comes before the greeting. With "resume" all connections share
one TLS context, so a client can resume an earlier session ("(TLS ...,
resumed)"). What the client sends is recorded
per connection, with "(TLS <version>)" where the handshake completed and
"(TLS failed)" where it did not, so both sides' transcripts compare. The listener, the threads and the
transcripts are lib/recording_server.py's; the TLS handshake goes on over
the same session (Session.replace).

Trusts: the harness's scripts; the client's bytes are recorded as is.
"""

import os
import ssl
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "lib"))
from recording_server import RecordingServer  # noqa: E402

DEFAULTS = {
    "greeting": "220 test.example ESMTP ready",
    "ehlo": ["PIPELINING", "SIZE 10240000", "8BITMIME", "ENHANCEDSTATUSCODES", "DSN"],
    "starttls_offered": True,
    "starttls": "220 2.0.0 Ready to start TLS",
    "wrapper": False,
    "cert": None,          # (certfile, keyfile)
    "ask_ccert": False,
    "break_tls": False,    # after "220" to STARTTLS: garbage, then close
    "resume": False,       # one TLS context for all connections: a client may resume
}


class TlsScriptServer(RecordingServer):
    def __init__(self, script):
        self.script = dict(DEFAULTS, **script)
        self._shared = None
        super().__init__()

    def _context(self):
        if self.script["resume"]:
            with self.lock:
                if self._shared is None:
                    self._shared = self._new_context()
                return self._shared
        return self._new_context()

    def _new_context(self):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(*self.script["cert"])
        if self.script["ask_ccert"]:
            ctx.verify_mode = ssl.CERT_OPTIONAL
            ctx.load_verify_locations(self.script["cert"][0])
        return ctx

    def _handshake(self, session):
        try:
            tls = self._context().wrap_socket(session.conn, server_side=True)
        except (OSError, ssl.SSLError):
            session.log.append(b"(TLS failed)\n")
            return False
        session.replace(tls)
        session.tls = True
        cert = tls.getpeercert(binary_form=True)
        session.log.append(("(TLS %s%s%s)\n" % (tls.version(), ", client certificate" if cert else "",
                                                ", resumed" if tls.session_reused else "")).encode())
        return True

    def serve(self, session):
        s = self.script
        say, readline = session.say, session.readline
        session.tls = False
        if s["wrapper"] and not self._handshake(session):
            return
        say(s["greeting"])
        while True:
            line = readline()
            if line is None:
                return
            verb = line.split(" ")[0].upper()
            if verb == "EHLO" and s["ehlo"] is None:
                say("502 5.5.2 Error: command not recognized")
            elif verb == "EHLO":
                kw = list(s["ehlo"])
                if s["starttls_offered"] and not session.tls and not s["wrapper"]:
                    kw.append("STARTTLS")
                session.say_multiline(250, ["test.example"] + kw)
            elif verb == "HELO":
                say("250 test.example")
            elif verb == "STARTTLS":
                say(s["starttls"])
                if s["starttls"].startswith("220") and s["break_tls"]:
                    # A handshake that fails: no TLS answer to the
                    # client's hello.
                    session.log.append(b"(TLS broken)\n")
                    session.conn.sendall(b"garbage, not TLS\r\n")
                    # The client gives up (and closes) first.
                    while session.conn.recv(4096):
                        pass
                    return
                if s["starttls"].startswith("220") and not self._handshake(session):
                    return
            elif not session.plain_command(verb):
                return
