"""Scripted SMTP/LMTP servers for the posttls-finger cases of the tlsproxy
area (run_tlsproxy.py).

compat-suite/smtpd-tls/tlsserver.py's scripted server (greeting, EHLO with
or without STARTTLS, the STARTTLS reply, wrapper mode, a broken handshake,
a shared TLS context so that sessions can be resumed), extended with LHLO
(answered as EHLO, for LMTP) and a listener on a UNIX-domain socket. What
the client sends is recorded per connection, so both sides' transcripts
compare.

Trusts: the harness's scripts; the client's bytes are recorded as is.
"""

import os
import select
import sys
import threading

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "smtpd-tls"))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "lib"))
from recording_server import RecordingServer  # noqa: E402
import tlsserver  # noqa: E402


class FingerServer(tlsserver.TlsScriptServer):
    def __init__(self, script, unix_path=None):
        self.script = dict(tlsserver.DEFAULTS, **script)
        self._shared = None
        self._active = 0
        RecordingServer.__init__(self, unix_path=unix_path)

    def busy(self):
        """Whether a connection is still being served or waits to be
        accepted (the client may be gone already)."""
        with self.lock:
            if self._active > 0:
                return True
        try:
            return bool(select.select([self.sock], [], [], 0)[0])
        except (OSError, ValueError):
            return False

    def _accept(self):
        # As RecordingServer's, but a connection counts as active from the
        # moment it is accepted, before its thread runs.
        while not self.stopping:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with self.lock:
                self._active += 1
            threading.Thread(target=self._session_done, args=(conn,), daemon=True).start()

    def _session_done(self, conn):
        try:
            self._session(conn)
        finally:
            with self.lock:
                self._active -= 1

    def serve(self, session):
        s = self.script
        say, readline = session.say, session.readline
        session.tls = False
        if s["wrapper"] and not self._handshake(session):
            return
        if s["greeting"] is None:
            # Never greets: the client gives up (its time limit) and closes.
            while session.conn.recv(4096):
                pass
            return
        say(s["greeting"])
        while True:
            line = readline()
            if line is None:
                return
            verb = line.split(" ")[0].upper()
            if verb in ("EHLO", "LHLO") and s["ehlo"] is None:
                say("502 5.5.2 Error: command not recognized")
            elif verb in ("EHLO", "LHLO"):
                kw = list(s["ehlo"])
                if s["starttls_offered"] and not session.tls and not s["wrapper"]:
                    kw.append("STARTTLS")
                session.say_multiline(250, [s.get("name", "test.example")] + kw)
            elif verb == "STARTTLS":
                say(s["starttls"])
                if s["starttls"].startswith("220") and s["break_tls"]:
                    session.log.append(b"(TLS broken)\n")
                    session.conn.sendall(b"garbage, not TLS\r\n")
                    while session.conn.recv(4096):
                        pass
                    return
                if s["starttls"].startswith("220") and not self._handshake(session):
                    return
            elif not session.plain_command(verb):
                return
