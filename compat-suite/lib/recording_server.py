"""A loopback line server that records what its clients send: the common
part of the compat-suite's test SMTP/LMTP servers.

It listens on 127.0.0.1 (a free port, in .port) or on a UNIX-domain socket,
serves each connection in its own thread, and keeps one transcript per
connection (.transcripts: lists of the raw lines received, in order), so a
harness can compare what the reference's client and ours sent. A subclass
says what to answer in serve(session).

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

    def readline(self):
        """The next line without its CR LF (latin-1), None at EOF."""
        line = self._file.readline()
        if not line:
            return None
        self.log.append(line)
        return line.rstrip(b"\r\n").decode("latin-1")


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
        try:
            self.serve(Session(conn, log))
        except OSError:
            pass
        finally:
            try:
                conn.close()
            except OSError:
                pass
