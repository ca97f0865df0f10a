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
"(TLS failed)" where it did not, so both sides' transcripts compare.

Trusts: the harness's scripts; the client's bytes are recorded as is.
"""

import socket
import ssl
import threading

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


class TlsScriptServer:
    def __init__(self, script):
        self.script = dict(DEFAULTS, **script)
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.sock.listen(16)
        self.transcripts = []
        self.lock = threading.Lock()
        self.stopping = False
        threading.Thread(target=self._accept, daemon=True).start()

    def reset(self):
        with self.lock:
            self.transcripts = []

    def close(self):
        self.stopping = True
        self.sock.close()

    def _accept(self):
        while not self.stopping:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._session, args=(conn,), daemon=True).start()

    def _context(self):
        if self.script["resume"]:
            with self.lock:
                if getattr(self, "_shared", None) is None:
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

    def _session(self, conn):
        log = []
        with self.lock:
            self.transcripts.append(log)
        s = self.script
        conn.settimeout(30)
        state = {"conn": conn, "f": conn.makefile("rb"), "tls": False}

        def say(text):
            if isinstance(text, str):
                text = [text]
            state["conn"].sendall(b"".join(t.encode() + b"\r\n" for t in text))

        def readline():
            try:
                line = state["f"].readline()
            except (OSError, ssl.SSLError):
                return None
            if not line:
                return None
            log.append(line)
            return line.rstrip(b"\r\n").decode("latin-1")

        def handshake():
            try:
                tls = self._context().wrap_socket(state["conn"], server_side=True)
            except (OSError, ssl.SSLError):
                log.append(b"(TLS failed)\n")
                return False
            state["conn"] = tls
            state["f"] = tls.makefile("rb")
            state["tls"] = True
            cert = tls.getpeercert(binary_form=True)
            log.append(("(TLS %s%s%s)\n" % (tls.version(), ", client certificate" if cert else "",
                                            ", resumed" if tls.session_reused else "")).encode())
            return True

        try:
            if s["wrapper"] and not handshake():
                return
            say(s["greeting"])
            accepted = False
            while True:
                line = readline()
                if line is None:
                    return
                verb = line.split(" ")[0].upper()
                if verb == "EHLO" and s["ehlo"] is None:
                    say("502 5.5.2 Error: command not recognized")
                elif verb == "EHLO":
                    kw = list(s["ehlo"])
                    if s["starttls_offered"] and not state["tls"] and not s["wrapper"]:
                        kw.append("STARTTLS")
                    lines = ["test.example"] + kw
                    say([f"250-{x}" for x in lines[:-1]] + [f"250 {lines[-1]}"])
                elif verb == "HELO":
                    say("250 test.example")
                elif verb == "STARTTLS":
                    say(s["starttls"])
                    if s["starttls"].startswith("220") and s["break_tls"]:
                        # A handshake that fails: no TLS answer to the
                        # client's hello.
                        log.append(b"(TLS broken)\n")
                        state["conn"].sendall(b"garbage, not TLS\r\n")
                        # The client gives up (and closes) first.
                        while state["conn"].recv(4096):
                            pass
                        return
                    if s["starttls"].startswith("220") and not handshake():
                        return
                elif verb == "MAIL":
                    say("250 2.1.0 Ok")
                    accepted = False
                elif verb == "RCPT":
                    say("250 2.1.5 Ok")
                    accepted = True
                elif verb == "DATA":
                    if not accepted:
                        say("554 5.5.1 Error: no valid recipients")
                        continue
                    say("354 End data with <CR><LF>.<CR><LF>")
                    while True:
                        body = readline()
                        if body is None:
                            return
                        if body == ".":
                            break
                    say("250 2.0.0 Ok: queued as 4TEST1")
                elif verb == "RSET":
                    say("250 2.0.0 Ok")
                elif verb == "QUIT":
                    say("221 2.0.0 Bye")
                    return
                else:
                    say("502 5.5.2 Error: command not recognized")
        except (OSError, ssl.SSLError):
            pass
        finally:
            try:
                state["conn"].close()
            except OSError:
                pass
