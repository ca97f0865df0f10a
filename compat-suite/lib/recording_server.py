"""A loopback line server that records what its clients send: the common
part of the compat-suite's test SMTP/LMTP servers.

It listens on 127.0.0.1 (a free port, in .port) or on a UNIX-domain socket,
serves each connection in its own thread, and keeps one transcript per
connection (.transcripts: lists of the raw lines received, in order), so a
harness can compare what the reference's client and ours sent. A subclass
says what to answer in serve(session); a session can go on over another
connection (Session.replace: a TLS one after STARTTLS, or before the
greeting in wrapper mode), and is closed over whichever it has at the end.

Trusts: the harness's scripts; the client's bytes are recorded as is.
"""

import os
import socket
import threading


class Session:
    """One connection: say() answers, readline() reads and records."""

    def __init__(self, conn, log, timeout=30):
        self.conn = conn
        self.log = log
        self.recipients = 0     # RCPT commands since MAIL (plain_command)
        conn.settimeout(timeout)
        self._file = conn.makefile("rb")

    def say(self, text):
        """One reply line, or several (a list) sent in one write."""
        if isinstance(text, str):
            text = [text]
        self.conn.sendall(b"".join(t.encode() + b"\r\n" for t in text))

    def say_multiline(self, code, lines):
        """A multi-line reply "code-line ... code line" (EHLO's form)."""
        self.say([f"{code}{'-' if i + 1 < len(lines) else ' '}{x}" for i, x in enumerate(lines)])

    def readbytes(self):
        """The next line as received (recorded), b"" at EOF."""
        line = self._file.readline()
        if line:
            self.log.append(line)
        return line

    def readline(self):
        """The next line without its CR LF (latin-1), None at EOF."""
        line = self.readbytes()
        if not line:
            return None
        return line.rstrip(b"\r\n").decode("latin-1")

    def plain_command(self, verb):
        """Answers one of the commands the simple test servers answer alike:
        MAIL, RCPT, DATA (the message read to its dot, "queued as 4TEST1"),
        RSET, QUIT, and 502 to any other. False once the session is over
        (after QUIT, or the client gone within the message)."""
        if verb == "MAIL":
            self.recipients = 0
            self.say("250 2.1.0 Ok")
        elif verb == "RCPT":
            self.recipients += 1
            self.say("250 2.1.5 Ok")
        elif verb == "DATA":
            if not self.recipients:
                self.say("554 5.5.1 Error: no valid recipients")
                return True
            self.say("354 End data with <CR><LF>.<CR><LF>")
            while True:
                body = self.readline()
                if body is None:
                    return False
                if body == ".":
                    break
            self.say("250 2.0.0 Ok: queued as 4TEST1")
        elif verb == "RSET":
            self.say("250 2.0.0 Ok")
        elif verb == "QUIT":
            self.say("221 2.0.0 Bye")
            return False
        else:
            self.say("502 5.5.2 Error: command not recognized")
        return True

    def replace(self, conn):
        """Goes on over conn (which wraps or replaces the current one, as
        ssl's wrap_socket() does): say() and readline() use it from now."""
        self.conn = conn
        self._file = conn.makefile("rb")


class RecordingServer:
    def __init__(self, unix_path=None, backlog=16):
        if unix_path:
            self.sock = socket.socket(socket.AF_UNIX)
            self.sock.bind(unix_path)
            os.chmod(unix_path, 0o777)
            self.port = 0
        else:
            self.sock = socket.socket()
            self.sock.bind(("127.0.0.1", 0))
            self.port = self.sock.getsockname()[1]
        self.path = unix_path
        self.sock.listen(backlog)
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

    def serve(self, session):
        raise NotImplementedError

    def _accept(self):
        while not self.stopping:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._session, args=(conn,), daemon=True).start()

    def _session(self, conn):
        log = []
        with self.lock:
            self.transcripts.append(log)
        session = Session(conn, log)
        try:
            self.serve(session)
        except OSError:
            pass
        finally:
            try:
                session.conn.close()
            except OSError:
                pass
